"""REST API routes of grids, mounted under /api/v1/."""

from django.urls import path

from grids import apis

urlpatterns = [
    path("regions/", apis.RegionListApi.as_view(), name="grids_api_regions"),
    path("grid-cells/", apis.GridCellListApi.as_view(), name="grids_api_grid_cells"),
    path("grid-workers/", apis.GridWorkerListApi.as_view(), name="grids_api_grid_workers"),
    path("locate", apis.LocateApi.as_view(), name="grids_api_locate"),
]
