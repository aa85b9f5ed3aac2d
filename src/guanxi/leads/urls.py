from django.urls import path

from guanxi.leads import views, views_config, views_detail

urlpatterns = [
    path("", views.lead_list, name="lead-list"),
    path("new/", views.lead_create, name="lead-create"),
    path("<int:lead_id>/", views_detail.lead_detail, name="lead-detail"),
    path("<int:lead_id>/edit", views_detail.lead_edit, name="lead-edit"),
    path("<int:lead_id>/status", views_detail.lead_status, name="lead-status"),
    path("<int:lead_id>/qualify", views_detail.lead_qualify, name="lead-qualify"),
    path("<int:lead_id>/disqualify", views_detail.lead_disqualify, name="lead-disqualify"),
    path("<int:lead_id>/assign", views_detail.lead_assign, name="lead-assign"),
    path("<int:lead_id>/convert", views_detail.lead_convert, name="lead-convert"),
    path("rules/", views_config.rule_list, name="lead-rules"),
    path("rules/<int:rule_id>/", views_config.rule_edit, name="lead-rule-edit"),
    path("rules/<int:rule_id>/move", views_config.rule_move, name="lead-rule-move"),
    path("rules/<int:rule_id>/delete", views_config.rule_delete, name="lead-rule-delete"),
    path("forms/", views_config.form_list, name="lead-forms"),
    path("forms/<int:form_id>/", views_config.form_edit, name="lead-form-edit"),
    path("form/<slug:slug>/", views.lead_public_form, name="lead-public-form"),
]
