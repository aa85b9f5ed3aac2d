from django.urls import path

from guanxi.channels import views

urlpatterns = [
    path("", views.outbox, name="outbox"),
    path("<int:message_id>/", views.outbox_detail, name="outbox-detail"),
    path("<int:message_id>/retry", views.outbox_retry, name="outbox-retry"),
]
