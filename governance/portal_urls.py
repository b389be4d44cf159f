"""Portal-wide pages (dashboards arrive with the supervision issue)."""

app_name = "governance"

urlpatterns: list = []
