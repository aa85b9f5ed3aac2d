from django.urls import path

from guanxi.imports import views

urlpatterns = [
    path("", views.import_list, name="import-list"),
    path("<int:job_id>/", views.import_detail, name="import-detail"),
    path("<int:job_id>/start", views.import_start, name="import-start"),
    path("<int:job_id>/sheet", views.import_sheet, name="import-sheet"),
    path("<int:job_id>/template-delete", views.import_template_delete, name="import-template-delete"),
    path("<int:job_id>/progress", views.import_progress, name="import-progress"),
    path("<int:job_id>/cancel", views.import_cancel, name="import-cancel"),
    path("<int:job_id>/rejected.csv", views.import_rejected_csv, name="import-rejected-csv"),
]
