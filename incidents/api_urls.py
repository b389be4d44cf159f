"""REST API routes of incidents, mounted under /api/v1/."""

urlpatterns: list = []
