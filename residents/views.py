"""Pages of the residents' front door: the public home, sign-up and sign-in by SMS code, 我的,
认领, the personal-data rights, a followed report, 附议 and 办理公开 (phone-first).

Thin: read the form, call one service, show its ApplicationError as a form error in Chinese.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import ApplicationError, NotFoundError
from core.ratelimit import client_ip
from incidents.models import Category
from incidents.services.follows import incident_follow
from residents import rights, sections, selectors, services
from residents.city_figures import city_figures
from residents.forms import CloseAccountForm, CodeOnlyForm, SignInForm, SignUpForm
from residents.models import CodePurpose
from residents.privacy import PRIVACY_NOTICE_VERSION

BACKEND = "accounts.backends.PhoneOrUsernameBackend"


def _add_errors(form, exc: ApplicationError) -> None:
    if exc.extra:
        for name, problems in exc.extra.items():
            for problem in problems:
                form.add_error(name if name in form.fields else None, problem)
    else:
        form.add_error(None, exc.message)


@require_GET
def public_home(request: HttpRequest) -> HttpResponse:
    """`/` for an anonymous visitor: the entries, this month's city figures, the language
    switch (base.html). No personal data."""
    return render(
        request,
        "residents/home.html",
        {"figures": city_figures(), "services_url": reverse("resident_services:home")},
    )


@require_GET
def privacy_notice(request: HttpRequest) -> HttpResponse:
    return render(request, "residents/privacy.html", {"version": PRIVACY_NOTICE_VERSION})


def _send_code(request: HttpRequest, form, purpose: str) -> services.TooManyRequests | None:
    """The "send the code" button: asks residents.services for a code; a refusal becomes the
    form's error. Returns the TooManyRequests refusal (a 429 page) if that was it."""
    # form.is_valid() ran: django-simple-captcha checks (and spends) the answer once.
    captcha_ok = "captcha" not in form.fields or "captcha" not in form.errors
    try:
        services.phone_code_request(
            request=services.CodeRequest(
                phone=form.data.get("phone", ""), purpose=purpose, client=client_ip(request)
            ),
            captcha_ok=captcha_ok,
        )
    except services.TooManyRequests as exc:
        form.add_error(None, exc.message)
        return exc
    except ApplicationError as exc:
        _add_errors(form, exc)
        return None
    messages.success(
        request, _("A 6-digit code was sent to your phone. It is valid for 5 minutes.")
    )
    return None


def _too_many(response: HttpResponse, refusal: services.TooManyRequests) -> HttpResponse:
    response.status_code = 429
    response["Retry-After"] = str(refusal.retry_after)
    return response


def _code_page(request: HttpRequest, *, purpose: str, template: str, form_class, finish):
    client = client_ip(request)
    captcha = services.captcha_required(client)
    next_url = request.GET.get("next") or request.POST.get("next") or ""
    if request.method != "POST":
        return render(request, template, {"form": form_class(captcha=captcha), "next": next_url})
    form = form_class(request.POST, captcha=captcha)
    form.is_valid()  # fields are read by the services; this only runs the widgets
    if "send" in request.POST:
        refused = _send_code(request, form, purpose)
        if refused is not None:
            return _too_many(render(request, template, {"form": form, "next": next_url}), refused)
        # A fresh form keeps what was typed; the CAPTCHA may now be needed.
        data = request.POST.copy()
        data.pop("captcha_0", None)
        data.pop("captcha_1", None)
        shown = form_class(data, captcha=services.captcha_required(client))
        for name, problems in form.errors.items():
            for problem in problems:
                shown.add_error(name if name in shown.fields else None, problem)
        return render(request, template, {"form": shown, "sent": not form.errors, "next": next_url})
    try:
        user = finish(form.data)
    except ApplicationError as exc:
        _add_errors(form, exc)
        return render(request, template, {"form": form, "next": next_url}, status=400)
    login(request, user, backend=BACKEND)
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        target = ""
    return redirect(target or "residents:mine")


def sign_up(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("residents:mine")

    def finish(data) -> object:
        region = data.get("home_region") or ""
        return services.resident_sign_up(
            phone=data.get("phone", ""),
            code=data.get("code", ""),
            name=data.get("name", ""),
            home_region_id=selectors.small_id(region),
            privacy_accepted=data.get("privacy_accepted") in ("on", "true", "1"),
            password=data.get("password", ""),
        )

    return _code_page(
        request,
        purpose=CodePurpose.SIGN_UP,
        template="residents/sign_up.html",
        form_class=SignUpForm,
        finish=finish,
    )


def sign_in(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("residents:mine")
    return _code_page(
        request,
        purpose=CodePurpose.SIGN_IN,
        template="residents/sign_in.html",
        form_class=SignInForm,
        finish=lambda data: services.resident_sign_in(
            phone=data.get("phone", ""), code=data.get("code", "")
        ),
    )


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    """我的: the resident's own records by section, each linking to its detail."""
    return render(
        request,
        "residents/mine.html",
        {
            "sections": sections.sections_for(request.user),
            "claimable": selectors.claimable_counts(request.user),
            "verified": request.user.phone_verified_at is not None,
        },
    )


@login_required
def claim(request: HttpRequest) -> HttpResponse:
    """认领: verify the phone (a code) if it never was, then take over what was made with it."""
    user = request.user
    form = CodeOnlyForm(request.POST or None)
    context = {
        "form": form,
        "claimable": selectors.claimable_counts(user),
        "verified": bool(user.phone_verified_at),
    }
    if request.method != "POST":
        return render(request, "residents/claim.html", context)
    try:
        if "send" in request.POST:
            services.phone_code_request(
                request=services.CodeRequest(
                    phone=user.phone or "", purpose=CodePurpose.CLAIM, client=client_ip(request)
                ),
                captcha_ok=True,  # signed in: the account is the limit's subject too
            )
            messages.success(
                request, _("A 6-digit code was sent to your phone. It is valid for 5 minutes.")
            )
            return redirect("residents:claim")
        if user.phone_verified_at is None:
            services.resident_phone_verify(user=user, code=request.POST.get("code", ""))
        counts = rights.resident_claim(user=user)
    except services.TooManyRequests as exc:
        form.add_error(None, exc.message)
        return _too_many(render(request, "residents/claim.html", context), exc)
    except ApplicationError as exc:
        _add_errors(form, exc)
        return render(request, "residents/claim.html", context, status=400)
    messages.success(
        request,
        _(
            "Claimed: %(incidents)s reports, %(mediation)s mediation applications, "
            "%(petitions)s petitions."
        )
        % counts,
    )
    return redirect("residents:mine")


@login_required
def my_data(request: HttpRequest, kind: str = "") -> HttpResponse:
    """Download my data (mine/data.json, mine/data.xlsx), or the page offering both."""
    if kind not in ("json", "xlsx"):
        return render(request, "residents/my_data.html")
    data = rights.resident_data_export(user=request.user)
    stamp = timezone.localdate().isoformat()
    if kind == "json":
        response = HttpResponse(
            json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json"
        )
        response["Content-Disposition"] = f'attachment; filename="my-data-{stamp}.json"'
    else:
        response = HttpResponse(
            rights.resident_data_xlsx(data),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="my-data-{stamp}.xlsx"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
def close_account(request: HttpRequest) -> HttpResponse:
    form = CloseAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rights.resident_account_close(
                user=request.user, confirm_phone=form.cleaned_data["confirm_phone"]
            )
        except ApplicationError as exc:
            _add_errors(form, exc)
        else:
            logout(request)
            messages.success(request, _("Your account is closed."))
            return redirect("home")
    status = 400 if request.method == "POST" else 200
    return render(request, "residents/close_account.html", {"form": form}, status=status)


@login_required
@require_GET
def report(request: HttpRequest, public_id: str) -> HttpResponse:
    """A report the resident made or follows, with its public timeline."""
    try:
        incident, events = selectors.incident_for_resident(user=request.user, public_id=public_id)
    except NotFoundError as exc:
        raise Http404 from exc
    public = selectors._public([incident])[0]
    return render(
        request,
        "residents/report.html",
        {"incident": incident, "item": public, "events": events},
    )


@require_POST
def follow(request: HttpRequest, public_id: str) -> HttpResponse:
    """这是同一个问题: follow instead of filing (signed in; anonymous → sign in first)."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('residents:sign_in')}?next={reverse('incidents:report')}")
    try:
        incident_follow(actor=request.user, public_id=public_id)
    except NotFoundError as exc:
        raise Http404 from exc
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("incidents:report")
    messages.success(request, _("You follow this report now: you will hear what happens."))
    return redirect("residents:report", public_id=public_id)


@require_GET
def results(request: HttpRequest) -> HttpResponse:
    """办理公开: closed reports of the publishable categories, newest first, with a map of those
    whose place may be shown."""
    category = request.GET.get("category", "")
    rows = selectors.results_page(category_id=selectors.small_id(category))
    points = [
        {"id": r.public_id, "lat": r.lat, "lng": r.lng, "label": r.category}
        for r in rows
        if r.lat is not None
    ]
    return render(
        request,
        "residents/results.html",
        {
            "rows": rows,
            "points": points,
            "categories": Category.objects.filter(
                publish_results=True, is_dispute=False, internal_only=False, parent__isnull=False
            ).order_by("code"),
            "category": category,
        },
    )


@require_GET
def result(request: HttpRequest, public_id: str) -> HttpResponse:
    try:
        row = selectors.result_get(public_id=public_id)
    except NotFoundError as exc:
        raise Http404 from exc
    return render(request, "residents/result.html", {"row": row})


@require_GET
def public_photo(request: HttpRequest, pk: int) -> HttpResponse:
    """A photo staff marked public (办理公开, 附议); every other photo is a 404."""
    from incidents.views.photos import PHOTO_TYPES

    try:
        item = selectors.public_photo_get(photo_id=pk)
    except NotFoundError as exc:
        raise Http404 from exc
    field = item.thumbnail or item.image
    name = field.name or ""
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    if suffix not in PHOTO_TYPES:
        raise Http404
    try:
        handle = field.open("rb")
    except OSError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type=PHOTO_TYPES[suffix])
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "public, max-age=3600"
    return response
