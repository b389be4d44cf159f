"""Portal-wide pages: supervision dashboards, ledgers, exports and case files (/portal/)."""

from django.urls import path

from governance import dashboards

app_name = "governance"

urlpatterns = [
    path("", dashboards.dashboard, name="dashboard"),
    path("grid-life/", dashboards.grid_life, name="grid_life"),
    path("street/", dashboards.street_dashboard, name="street_dashboard"),
    path("screen/", dashboards.big_screen, name="big_screen"),
    path("ledger/incidents/", dashboards.incident_ledger, name="incident_ledger"),
    path("exports/", dashboards.export_create, name="export_create"),
    path("exports/<int:pk>/", dashboards.export_detail, name="export_detail"),
    path("exports/<int:pk>/download/", dashboards.export_download, name="export_download"),
    path("cases/<int:pk>/", dashboards.case_file, name="case_file"),
]
