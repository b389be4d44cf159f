"""REST API routes of accounts, mounted under /api/v1/."""

urlpatterns: list = []
