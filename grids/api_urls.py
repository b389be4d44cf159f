"""REST API routes of grids, mounted under /api/v1/."""

urlpatterns: list = []
