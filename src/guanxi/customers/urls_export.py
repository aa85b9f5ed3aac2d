"""Exports of customer lists (mounted under customers/)."""

from django.urls import path

from guanxi.customers import views_export as views

urlpatterns = [
    path("export.csv", views.customer_export_csv, name="customer-export-csv"),
    path("export.xlsx", views.customer_export_xlsx, name="customer-export-xlsx"),
    path("export.vcf", views.customer_export_vcards, name="customer-export-vcards"),
    path("<int:pk>/export.vcf", views.customer_export_vcard, name="customer-export-vcard"),
]
