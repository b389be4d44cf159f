"""REST API routes of petitions, mounted under /api/v1/."""

urlpatterns: list = []
