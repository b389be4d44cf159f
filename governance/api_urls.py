"""REST API routes of supervision, mounted under /api/v1/."""

from django.urls import path

from governance import apis

urlpatterns = [
    path("kpis", apis.KpiTableApi.as_view(), name="governance-api-kpis"),
    path(
        "kpis/definitions", apis.KpiDefinitionsApi.as_view(), name="governance-api-kpi-definitions"
    ),
    path("kpis/trend", apis.KpiTrendApi.as_view(), name="governance-api-kpi-trend"),
    path("kpis/heatmap", apis.KpiHeatmapApi.as_view(), name="governance-api-kpi-heatmap"),
    path("exports", apis.ExportCreateApi.as_view(), name="governance-api-exports"),
    path("exports/<int:pk>", apis.ExportJobApi.as_view(), name="governance-api-export"),
]
