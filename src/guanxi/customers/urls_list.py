from django.urls import path

from guanxi.customers import views

urlpatterns = [
    path("", views.customer_list, name="customer-list"),
    path("bulk", views.customer_bulk, name="customer-bulk"),
    path("suggest", views.search_suggest, name="search-suggest"),
    path("cities", views.city_options, name="customer-cities"),
    path("new", views.customer_create, name="customer-create"),
    path("<int:pk>/edit", views.customer_edit, name="customer-edit"),
]
