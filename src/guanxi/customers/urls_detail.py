"""The customer 360 page and its actions (mounted under customers/)."""

from django.urls import path

from guanxi.customers import views_detail as views

urlpatterns = [
    path("<int:pk>/", views.customer_detail, name="customer-detail"),
    path("<int:pk>/timeline", views.customer_timeline, name="customer-timeline"),
    path("<int:pk>/delete", views.customer_delete, name="customer-delete"),
    path("<int:pk>/notes", views.note_add, name="customer-note-add"),
    path("<int:pk>/activities", views.activity_log, name="customer-activity-log"),
    path("<int:pk>/consents", views.consent_add, name="customer-consent-add"),
    path("<int:pk>/contacts", views.contact_add, name="customer-contact-add"),
    path("contacts/<int:contact_id>/edit", views.contact_edit, name="contact-edit"),
    path("contacts/<int:contact_id>/delete", views.contact_delete, name="contact-delete"),
    path("<int:pk>/assets", views.asset_add, name="customer-asset-add"),
    path("assets/<int:asset_id>/edit", views.asset_edit, name="asset-edit"),
    path("assets/<int:asset_id>/delete", views.asset_delete, name="asset-delete"),
]
