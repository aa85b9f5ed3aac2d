from django.urls import path

from guanxi.quotes import views

urlpatterns = [
    path("", views.quote_list, name="quote-list"),
    path("new", views.quote_create, name="quote-create"),
    path("new/customers", views.quote_customers, name="quote-create-customers"),
    path("<int:quote_id>/", views.quote_detail, name="quote-detail"),
    path("<int:quote_id>/pdf", views.quote_pdf, name="quote-pdf"),
    path("<int:quote_id>/edit", views.quote_update, name="quote-update"),
    path("<int:quote_id>/products", views.quote_products, name="quote-products"),
    path("<int:quote_id>/lines/add", views.quote_line_add, name="quote-line-add"),
    path("<int:quote_id>/lines/update", views.quote_line_update, name="quote-line-update"),
    path("<int:quote_id>/lines/remove", views.quote_line_remove, name="quote-line-remove"),
    path("<int:quote_id>/send", views.quote_send, name="quote-send"),
    path("<int:quote_id>/accept", views.quote_accept, name="quote-accept"),
    path("<int:quote_id>/reject", views.quote_reject, name="quote-reject"),
    path("<int:quote_id>/new-version", views.quote_new_version, name="quote-new-version"),
]
