"""Proposal pages: the public list and detail, proposing (residents, phone-first), supporting,
commenting; the staff's review, conversion and moderation."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import ApplicationError
from core.ratelimit import with_retry_after
from deliberation import conversions, forms, limits, policies, selectors, services
from deliberation.models import ProposalComment, ProposalPhoto, ProposalState
from deliberation.views._common import act, form_error_text, page, put_errors, visible
from grids.models import Region


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The front page of 协商议事: what is open in the resident's community, and everywhere."""
    user = request.user
    home_region = getattr(user, "home_region", None) if user.is_authenticated else None
    prefix = home_region.prefix if home_region is not None else ""
    return page(
        request,
        "deliberation/home.html",
        {
            "home_region": home_region,
            "proposals": selectors.proposals_public(prefix=prefix)[:10],
            "meetings": selectors.meetings_visible(user=None).filter(
                region_code__startswith=prefix
            )[:5],
            "decisions": selectors.decisions_public(prefix=prefix).order_by("-created_at")[:5],
            "rounds": selectors.rounds_visible(user=None).filter(
                region_code__startswith=prefix[:9]
            )[:5]
            if prefix
            else selectors.rounds_visible(user=None)[:5],
        },
    )


@require_GET
def proposal_list(request: HttpRequest) -> HttpResponse:
    region = Region.objects.filter(code=request.GET.get("region", "")).first()
    state = request.GET.get("state", "")
    if state not in ProposalState.values:
        state = ""
    proposals = selectors.proposals_public(
        prefix=region.prefix if region else "", state=state, query=request.GET.get("q", "")
    )
    paginator = Paginator(proposals, 20)
    return page(
        request,
        "deliberation/proposal_list.html",
        {
            "page_obj": paginator.get_page(request.GET.get("page")),
            "region": region,
            "state": state,
            "states": ProposalState.choices,
            "query": request.GET.get("q", ""),
        },
    )


@login_required
def proposal_new(request: HttpRequest) -> HttpResponse:
    if not policies.is_verified_resident(request.user):
        return page(request, "deliberation/not_verified.html", {})
    form = forms.ProposalForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        over = limits.proposal_limit_hit(request)
        if over.limited:
            form.add_error(None, _("Too many proposals; try again later."))
            response = page(
                request,
                "deliberation/proposal_form.html",
                {"form": form, "community": request.user.home_region},
            )
            return with_retry_after(response, over)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            proposal = services.proposal_submit(
                actor=request.user,
                title=data["title"],
                description=data["description"],
                category=data["category"],
                lat=data["lat"],
                lng=data["lng"],
                address=data["address"],
                uploads=data["photos"],
            )
        except ApplicationError as exc:
            put_errors(form, exc)
        else:
            messages.success(
                request, _("Your proposal is published. Ask your neighbours to support it.")
            )
            return redirect("deliberation:proposal-detail", pk=proposal.pk)
    return page(
        request,
        "deliberation/proposal_form.html",
        {"form": form, "community": request.user.home_region},
    )


@require_GET
def proposal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = visible(lambda: selectors.proposal_get(proposal_id=pk))
    user = request.user
    manager = policies.may_manage(user, proposal.region_code)
    reader = policies.may_read(user, proposal.region_code)
    events = proposal.events.select_related("actor")
    if not reader:
        events = events.filter(public=True)
    context = {
        "proposal": proposal,
        "author_name": selectors.public_name(proposal.author),
        "description": selectors.public_text(
            proposal.description, viewer=user, region_code=proposal.region_code
        ),
        "photos": list(proposal.photos.all()),
        "comments": selectors.comments_for(proposal=proposal, viewer=user),
        "events": events,
        "supported": selectors.has_supported(proposal=proposal, user=user),
        "may_support": proposal.is_open_for_review and policies.is_verified_resident(user),
        "may_comment": policies.is_verified_resident(user) or manager,
        "manager": manager,
        "reader": reader,
        "decisions": proposal.decisions.all(),
        "meetings": proposal.meetings.exclude(state="planned"),
        "comment_form": forms.CommentForm(),
    }
    if manager:
        context["review_form"] = forms.ReviewForm()
        context["merge_targets"] = selectors.proposals_open_in(
            community_id=proposal.community_id, exclude_id=proposal.pk
        )
        context["converters"] = conversions.available()
        context["convert_form"] = forms.ConvertForm(converters=conversions.available())
    return page(request, "deliberation/proposal_detail.html", context)


def _back(pk: int) -> str:
    return reverse("deliberation:proposal-detail", args=[pk])


@login_required
@require_POST
def proposal_support(request: HttpRequest, pk: int) -> HttpResponse:
    return act(
        request,
        _back(pk),
        lambda: services.proposal_support(proposal_id=pk, actor=request.user),
        _("Thank you for your support."),
    )


@login_required
@require_POST
def proposal_comment(request: HttpRequest, pk: int) -> HttpResponse:
    form = forms.CommentForm(request.POST)
    if limits.comment_limit_hit(request).limited:
        messages.error(request, _("Too many comments; try again later."))
        return redirect(_back(pk) + "#comments")
    if not form.is_valid():
        messages.error(request, form_error_text(form))
        return redirect(_back(pk))
    return act(
        request,
        _back(pk) + "#comments",
        lambda: services.proposal_comment(
            proposal_id=pk, actor=request.user, body=form.cleaned_data["body"]
        ),
        _("Your comment is published."),
    )


@login_required
@require_POST
def proposal_review(request: HttpRequest, pk: int) -> HttpResponse:
    form = forms.ReviewForm(request.POST)
    if not form.is_valid():
        visible(lambda: selectors.proposal_get(proposal_id=pk))
        if not policies.is_manager(request.user):
            raise PermissionDenied
        messages.error(request, form_error_text(form))
        return redirect(_back(pk))
    data = form.cleaned_data
    return act(
        request,
        _back(pk),
        lambda: services.proposal_review(
            proposal_id=pk,
            actor=request.user,
            decision=data["decision"],
            reply=data["reply"],
            merge_into_id=data["merge_into"],
        ),
        _("The review is recorded and published."),
    )


@login_required
@require_POST
def proposal_convert(request: HttpRequest, pk: int) -> HttpResponse:
    return act(
        request,
        _back(pk),
        lambda: services.proposal_convert(
            proposal_id=pk,
            actor=request.user,
            kind=request.POST.get("kind", ""),
            option=request.POST.get("option", "")[:32],
        ),
        _("The proposal is converted."),
    )


def _comment_proposal(pk: int) -> int:
    proposal_id = (
        ProposalComment.objects.filter(pk=pk).values_list("proposal_id", flat=True).first()
    )
    if proposal_id is None:
        raise Http404
    return proposal_id


@login_required
@require_POST
def comment_hide(request: HttpRequest, pk: int) -> HttpResponse:
    proposal_id = _comment_proposal(pk)
    return act(
        request,
        _back(proposal_id) + "#comments",
        lambda: services.comment_hide(
            comment_id=pk, actor=request.user, reason=request.POST.get("reason", "")
        ),
        _("The comment is hidden."),
    )


@login_required
@require_POST
def comment_show(request: HttpRequest, pk: int) -> HttpResponse:
    proposal_id = _comment_proposal(pk)
    return act(
        request,
        _back(proposal_id) + "#comments",
        lambda: services.comment_show(comment_id=pk, actor=request.user),
        _("The comment is shown again."),
    )


@login_required
@require_GET
def manage(request: HttpRequest) -> HttpResponse:
    """The staff's desk: proposals waiting for review (deadline first), in their region."""
    if not policies.is_reader(request.user):
        raise PermissionDenied
    waiting = selectors.proposals_for_staff(user=request.user).filter(
        state__in=[ProposalState.COLLECTING, ProposalState.REVIEWING]
    )
    accepted = selectors.proposals_for_staff(user=request.user, state=ProposalState.ACCEPTED)
    return page(
        request, "deliberation/manage.html", {"waiting": waiting[:100], "accepted": accepted[:100]}
    )


PHOTO_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}


def stream_photo(field, filename: str) -> HttpResponse:  # type: ignore[no-untyped-def]
    name = field.name or ""
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    if suffix not in PHOTO_TYPES:
        raise Http404
    try:
        handle = field.open("rb")
    except OSError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type=PHOTO_TYPES[suffix])
    response["Content-Disposition"] = f'inline; filename="{filename}{suffix}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_GET
def proposal_photo(request: HttpRequest, pk: int, thumb: bool = False) -> HttpResponse:
    """A proposal's photo: public like the proposal (re-encoded without EXIF at upload)."""
    photo = ProposalPhoto.objects.filter(pk=pk).first()
    if photo is None:
        raise Http404
    return stream_photo(
        photo.thumbnail if thumb else photo.image, f"proposal-{photo.proposal_id}-{pk}"
    )
