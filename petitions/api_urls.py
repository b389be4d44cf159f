"""REST API routes of petitions, mounted under /api/v1/."""

from django.urls import path

from petitions import apis

urlpatterns = [
    path("petitions/", apis.PetitionListCreateApi.as_view(), name="api-petitions"),
    path("petitions/analysis/", apis.PetitionAnalysisApi.as_view(), name="api-petitions-analysis"),
    path(
        "petitions/<int:petition_id>/",
        apis.PetitionDetailApi.as_view(),
        name="api-petition-detail",
    ),
    *[
        path(
            f"petitions/<int:petition_id>/{action.replace('_', '-')}/",
            view.as_view(),
            name=f"api-petition-{action.replace('_', '-')}",
        )
        for action, view in apis.ACTION_APIS.items()
    ],
]
