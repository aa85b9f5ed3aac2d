"""Activity pages (mounted under activities/). Logging is on the customer 360 page: customer-activity-log."""

from django.urls import path

from guanxi.activities import views

urlpatterns = [
    path("", views.activity_list, name="activity-list"),
    path("<int:activity_id>/edit", views.activity_edit, name="activity-edit"),
    path("<int:activity_id>/delete", views.activity_delete, name="activity-delete"),
]
