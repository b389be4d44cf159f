from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from governance.health import health_report


def home(request: HttpRequest) -> HttpResponse:
    """The residents' public home for an anonymous visitor; the signed-in keep their own."""
    if not request.user.is_authenticated:
        from residents.views import public_home

        return public_home(request)
    return _signed_in_home(request)


# Volunteers (with no staff role) have their own home: their claims, shifts, records, points.
_NOT_STAFF = {"resident", "volunteer"}


@login_required
def _signed_in_home(request: HttpRequest) -> HttpResponse:
    roles = request.user.role_codes
    if "volunteer" in roles and roles <= _NOT_STAFF and not request.user.is_superuser:
        return redirect("volunteers:home")
    return render(request, "home.html")


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    report = health_report()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
