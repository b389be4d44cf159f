"""REST API routes of accounts, mounted under /api/v1/."""

from django.urls import path

from accounts import apis

urlpatterns = [
    path("me", apis.MeApi.as_view(), name="api-me"),
]
