from django.urls import path

from guanxi.opportunities import views, views_config, views_detail

urlpatterns = [
    path("", views.opportunity_board, name="opportunity-board"),
    path("board/stages/<int:stage_id>/more", views.opportunity_board_more, name="opportunity-board-more"),
    path("<int:opportunity_id>/move", views.opportunity_board_move, name="opportunity-move"),
    path("list/", views.opportunity_list, name="opportunity-list"),
    path("new/", views_detail.opportunity_create, name="opportunity-create"),
    path("new/customers", views_detail.opportunity_create_customers, name="opportunity-create-customers"),
    path("<int:opportunity_id>/", views_detail.opportunity_detail, name="opportunity-detail"),
    path("<int:opportunity_id>/edit", views_detail.opportunity_edit, name="opportunity-edit"),
    path("<int:opportunity_id>/stage", views_detail.opportunity_stage, name="opportunity-stage"),
    path("<int:opportunity_id>/close-won", views.opportunity_close_won, name="opportunity-close-won"),
    path("<int:opportunity_id>/close-lost", views.opportunity_close_lost, name="opportunity-close-lost"),
    path("<int:opportunity_id>/reopen", views_detail.opportunity_reopen, name="opportunity-reopen"),
    path("pipelines/", views_config.pipeline_list, name="pipeline-list"),
    path("pipelines/new", views_config.pipeline_create, name="pipeline-create"),
    path("pipelines/<int:pipeline_id>/", views_config.pipeline_update, name="pipeline-update"),
    path("pipelines/<int:pipeline_id>/stages", views_config.stage_create, name="stage-create"),
    path("stages/<int:stage_id>/", views_config.stage_update, name="stage-update"),
    path("stages/<int:stage_id>/move", views_config.stage_move, name="stage-move"),
    path("stages/<int:stage_id>/delete", views_config.stage_delete, name="stage-delete"),
]
