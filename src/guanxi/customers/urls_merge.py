"""The duplicate finder and the merge screen (mounted under customers/)."""

from django.urls import path

from guanxi.customers import views_merge as views

urlpatterns = [
    path("duplicates", views.duplicate_list, name="customer-duplicates"),
    path("duplicates/refresh", views.duplicate_refresh, name="customer-duplicates-refresh"),
    path("merge", views.customer_merge, name="customer-merge"),
]
