"""Exports of customer lists (mounted under customers/)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
