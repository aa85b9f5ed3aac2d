from django.urls import path

from guanxi.catalog import views

urlpatterns = [
    path("products/", views.product_list, name="product-list"),
    path("products/new", views.product_create, name="product-create"),
    path("products/<int:product_id>/edit", views.product_edit, name="product-edit"),
    path("stores/", views.store_list, name="store-list"),
    path("stores/new", views.store_create, name="store-create"),
    path("stores/<int:store_id>/edit", views.store_edit, name="store-edit"),
]
