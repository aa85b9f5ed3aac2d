from django.urls import path

from guanxi.analytics import views_board

urlpatterns = [
    path("", views_board.board, name="analytics-board"),
    path("<slug:key>.csv", views_board.board_csv, name="analytics-board-csv"),
    path("refresh", views_board.board_refresh, name="analytics-refresh"),
    path("warning/", views_board.early_warning, name="analytics-warning"),
]
