"""REST API routes of mediation, mounted under /api/v1/."""

urlpatterns: list = []
