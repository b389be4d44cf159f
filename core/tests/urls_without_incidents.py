"""A URLconf without the incident pages (core/tests/test_urls.py)."""

urlpatterns: list = []
