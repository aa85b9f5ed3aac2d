"""The duplicate finder and the merge screen (mounted under customers/)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
