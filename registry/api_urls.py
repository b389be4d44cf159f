"""REST API routes of registry, mounted under /api/v1/."""

from django.urls import path

from registry import apis

urlpatterns = [
    path("registry/suggest", apis.SuggestApi.as_view(), name="registry-suggest"),
    path("registry/layers", apis.LayersApi.as_view(), name="registry-layers"),
    path(
        "registry/key-persons/<int:pk>/visits/",
        apis.VisitCreateApi.as_view(),
        name="registry-visit-create",
    ),
]
