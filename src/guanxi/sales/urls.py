from django.urls import path

from guanxi.sales import views

urlpatterns = [
    path("counter/", views.counter, name="order-counter"),
    path("counter/customers", views.counter_customers, name="order-counter-customers"),
    path("counter/customers/<int:customer_id>", views.counter_customer, name="order-counter-customer"),
    path("orders/", views.order_list, name="order-list"),
    path("orders/<int:order_id>/", views.order_detail, name="order-detail"),
    path("orders/<int:order_id>/refund", views.order_refund, name="order-refund"),
]
