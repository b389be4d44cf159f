from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from governance import views

api_v1 = [
    path("", include("accounts.api_urls")),
    path("", include("grids.api_urls")),
    path("", include("incidents.api_urls")),
    path("", include("mediation.api_urls")),
    path("", include("petitions.api_urls")),
    path("", include("registry.api_urls")),
    path("", include("screening.api_urls")),
    path("", include("resident_services.api_urls")),
    path("", include("volunteers.api_urls")),
    path("", include("assignments.api_urls")),
    path("", include("deliberation.api_urls")),
    path("", include("residents.api_urls")),
    path("", include("integrations.api_urls")),
    path("", include("governance.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The API docs pages: Swagger UI's start-up script is a separate request (no inline script);
    # both UIs write <style> elements, which the portal's own pages may not.
    path(
        "docs/",
        csp_update({"style-src-elem": ["'self'", UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="schema")
        ),
        name="swagger-ui",
    ),
    path(
        "redoc/",
        csp_update({"style-src-elem": ["'self'", UNSAFE_INLINE]})(
            SpectacularRedocView.as_view(url_name="schema", template_name="api/redoc.html")
        ),
        name="redoc",
    ),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("grids/", include("grids.urls")),
    path("incidents/", include("incidents.urls")),
    path("mediation/", include("mediation.urls")),
    path("petitions/", include("petitions.urls")),
    path("registry/", include("registry.urls")),
    path("screening/", include("screening.urls")),
    path("services/", include("resident_services.urls")),
    path("volunteers/", include("volunteers.urls")),
    path("tasks/", include("assignments.urls")),
    path("deliberation/", include("deliberation.urls")),
    path("residents/", include("residents.urls")),
    path("audit/", include("audit.urls")),
    path("captcha/", include("captcha.urls")),  # residents' sign-up CAPTCHA (django-simple-captcha)
    path("portal/", include("governance.portal_urls")),
    path("api/v1/", include(api_v1)),
    path("open311/v2/", include("integrations.open311_urls")),
]

if settings.BENCH_ENDPOINTS:  # bench/benchapp, only under `make bench`
    urlpatterns.append(path("bench/", include("bench.benchapp.urls")))

# Media files are never served from MEDIA_URL, not even under DEBUG: photos, attachments and
# exports go through their permission-checked views (incidents:photo, the export download...).

# API URLs that match no route (a non-numeric id ...) answer JSON too (core/api.py).
handler404 = "core.api.not_found"
