"""Open311 GeoReport v2 routes, mounted under /open311/v2/."""

urlpatterns: list = []
