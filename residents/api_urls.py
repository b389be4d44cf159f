"""REST API routes of residents, mounted under /api/v1/."""

from django.urls import path  # noqa: F401 - the app's API routes go here

urlpatterns: list = []
