"""Tags and custom fields (mounted under customers/)."""

from django.urls import path

from guanxi.customers import views_config as views

urlpatterns = [
    path("tags/", views.tag_list, name="tag-list"),
    path("tags/new", views.tag_create, name="tag-create"),
    path("tags/<int:pk>/edit", views.tag_update, name="tag-update"),
    path("tags/<int:pk>/delete", views.tag_delete, name="tag-delete"),
    path("fields/", views.custom_field_list, name="customfield-list"),
    path("fields/<int:pk>/edit", views.custom_field_edit, name="customfield-edit"),
]
