from django.urls import path

from guanxi.users import views

urlpatterns = [
    path("users/", views.user_list, name="user-list"),
    path("users/new", views.user_create, name="user-create"),
    path("users/<int:pk>/edit", views.user_edit, name="user-edit"),
    path("users/<int:pk>/tokens", views.user_token_create, name="user-token-create"),
    path("teams/new", views.team_create, name="team-create"),
    path("teams/<int:pk>/edit", views.team_edit, name="team-edit"),
    path("profile/", views.profile, name="profile"),
    path("profile/password", views.password_change, name="password-change"),
    path("profile/tokens", views.token_create, name="token-create"),
    path("profile/tokens/<int:pk>/revoke", views.token_revoke, name="token-revoke"),
]
