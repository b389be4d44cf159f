"""REST API routes of screening, mounted under /api/v1/."""

from django.urls import path

from screening import apis

urlpatterns = [
    path("screening/disputes/", apis.DisputeListCreateApi.as_view(), name="api-screening-disputes"),
    path(
        "screening/disputes/<int:dispute_id>/",
        apis.DisputeDetailApi.as_view(),
        name="api-screening-dispute-detail",
    ),
    *[
        path(
            f"screening/disputes/<int:dispute_id>/{action.replace('_', '-')}/",
            view.as_view(),
            name=f"api-screening-dispute-{action.replace('_', '-')}",
        )
        for action, view in apis.ACTION_APIS.items()
    ],
    path("screening/board/", apis.WarningBoardApi.as_view(), name="api-screening-board"),
    path("screening/checklist/", apis.ChecklistApi.as_view(), name="api-screening-checklist"),
    path("screening/reports/", apis.ReportListCreateApi.as_view(), name="api-screening-reports"),
    path("screening/kpis/", apis.KpisApi.as_view(), name="api-screening-kpis"),
]
