from django.urls import path

from guanxi.analytics import views_board

urlpatterns = [
    path("", views_board.board, name="analytics-board"),
    path("<slug:key>.csv", views_board.board_csv, name="analytics-board-csv"),
]
