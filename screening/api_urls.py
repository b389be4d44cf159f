"""REST API routes of screening, mounted under /api/v1/."""

from django.urls import path  # noqa: F401 - the app's API routes go here

urlpatterns: list = []
