"""Every read of the residents app: nearby open reports to follow (附议), the public results
(办理公开), one report's public page for its reporter and followers, what can be claimed.

Public answers carry public text only: the category, the community's name, dates, the text
scrubbed of phones and ID numbers (core.masking.scrub_public_text), the result staff wrote for
the public, the satisfaction and the photos staff marked public. Never a name, a phone, the
tracking number or, for sensitive categories, the exact point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import NotFoundError
from core.masking import scrub_public_text
from incidents.models import (
    OPEN_STATES,
    Category,
    Incident,
    IncidentEvent,
    IncidentFollower,
    IncidentPhoto,
    IncidentPolicy,
    IncidentState,
)
from incidents.services.follows import followers_of

PUBLIC_TEXT_LENGTH = 140
EARTH_RADIUS_M = 6_371_000


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


@dataclass(frozen=True)
class PublicIncident:
    public_id: str
    category: str
    area: str  # the community's name
    text: str  # scrubbed
    state: str
    reported_at: datetime
    closed_at: datetime | None = None
    result: str = ""
    rating: int | None = None
    followers: int = 0
    distance_m: int | None = None
    lat: float | None = None  # only for categories published on Open311 (never sensitive)
    lng: float | None = None
    photo_ids: list[int] = field(default_factory=list)


def small_id(value: str) -> int | None:
    """A database id typed by somebody (a query parameter, a form field), or None when it is
    not one (a number too big for the column is no id either)."""
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) <= 9 else None


def public_text(text: str | None) -> str:
    text = scrub_public_text(text or "")
    return text if len(text) <= PUBLIC_TEXT_LENGTH else text[: PUBLIC_TEXT_LENGTH - 1] + "…"


def _public_photos(ids: list[int]) -> dict[int, list[int]]:
    photos: dict[int, list[int]] = {}
    for incident_id, photo_id in IncidentPhoto.objects.filter(
        incident_id__in=ids, public=True
    ).values_list("incident_id", "pk"):
        photos.setdefault(incident_id, []).append(photo_id)
    return photos


def _public(
    incidents: list[Incident], *, distances: dict[int, float] | None = None
) -> list[PublicIncident]:
    ids = [i.pk for i in incidents]
    counts = followers_of(ids)
    photos = _public_photos(ids)
    rows = []
    for incident in incidents:
        exact = incident.category.publish_open311 and not incident.category.internal_only
        rows.append(
            PublicIncident(
                public_id=incident.public_id,
                category=incident.category.display_name,
                area=incident.region.name if incident.region is not None else "",
                text=public_text(incident.description),
                state=str(IncidentState(incident.state).label),
                reported_at=incident.created_at,
                closed_at=incident.closed_at,
                result=public_text(incident.public_result),
                rating=incident.rating,
                followers=counts.get(incident.pk, 0),
                distance_m=round(distances[incident.pk]) if distances else None,
                lat=round(incident.lat, 4) if exact and incident.lat is not None else None,
                lng=round(incident.lng, 4) if exact and incident.lng is not None else None,
                photo_ids=photos.get(incident.pk, []),
            )
        )
    return rows


def incidents_nearby(
    *, category: Category, lat: float, lng: float, now: datetime | None = None
) -> list[PublicIncident]:
    """Open reports of `category` within its follow radius of (lat, lng), made in the last N
    days (IncidentPolicy.follow_within_days), nearest first, at most 10. None for a category
    without a radius, a dispute or an internal-only one; merged duplicates never."""
    radius = category.follow_radius_m
    if not radius or category.is_dispute or category.internal_only:
        return []
    now = now or timezone.now()
    days = IncidentPolicy.current().follow_within_days
    # A box around the point first (an index-friendly filter), then the true distance.
    dlat = radius / 111_000
    dlng = radius / (111_000 * max(0.1, math.cos(math.radians(lat))))
    candidates = list(
        Incident.objects.select_related("category", "region")
        .filter(
            category=category,
            state__in=OPEN_STATES,
            merged_into__isnull=True,
            created_at__gte=now - timedelta(days=days),
            lat__range=(lat - dlat, lat + dlat),
            lng__range=(lng - dlng, lng + dlng),
        )
        .order_by("-created_at")[:200]
    )
    distances = {
        i.pk: distance_m(lat, lng, i.lat, i.lng)
        for i in candidates
        if i.lat is not None and i.lng is not None
    }
    near = sorted(
        (i for i in candidates if distances.get(i.pk, radius + 1) <= radius),
        key=lambda i: distances[i.pk],
    )
    return _public(near[:10], distances=distances)


def results_public() -> QuerySet[Incident]:
    """办理公开: closed incidents (not merged) of categories marked publishable."""
    return (
        Incident.objects.select_related("category", "region")
        .filter(
            state=IncidentState.CLOSED,
            merged_into__isnull=True,
            category__publish_results=True,
            category__is_dispute=False,
            category__internal_only=False,
        )
        .order_by("-closed_at", "-id")
    )


def results_page(*, category_id: int | None = None, limit: int = 50) -> list[PublicIncident]:
    qs = results_public()
    if category_id:
        qs = qs.filter(category_id=category_id)
    return _public(list(qs[:limit]))


def result_get(*, public_id: str) -> PublicIncident:
    incident = results_public().filter(public_id=public_id).first()
    if incident is None:
        raise NotFoundError(_("Incident not found."))
    return _public([incident])[0]


def public_photo_get(*, photo_id: int) -> IncidentPhoto:
    """A photo the public may see: marked public, of an incident in a category that is
    neither a dispute nor internal-only."""
    photo = (
        IncidentPhoto.objects.select_related("incident")
        .filter(
            pk=photo_id,
            public=True,
            incident__category__is_dispute=False,
            incident__category__internal_only=False,
        )
        .first()
    )
    if photo is None:
        raise NotFoundError(_("Incident not found."))
    return photo


def incident_for_resident(*, user: User, public_id: str) -> tuple[Incident, list[IncidentEvent]]:
    """A report the resident made or follows, with its public timeline (404 otherwise)."""
    incident = (
        Incident.objects.select_related("category", "region")
        .filter(public_id=public_id)
        .filter(Q(reporter=user) | Q(followers__user=user))
        .distinct()
        .first()
    )
    if incident is None:
        raise NotFoundError(_("Incident not found."))
    events = list(incident.events.filter(public=True).order_by("created_at", "id"))
    return incident, events


def follows_of(user: User) -> QuerySet[IncidentFollower]:
    return (
        IncidentFollower.objects.filter(user=user)
        .select_related("incident", "incident__category")
        .order_by("-created_at")
    )


def claimable_counts(user: User) -> dict[str, int]:
    """What `user`'s phone could claim: reports, mediation applications and petitions made with
    it without an account."""
    from mediation.models import CaseParty
    from petitions import personal_data
    from petitions.models import Petition

    if not user.phone:
        return {"incidents": 0, "mediation": 0, "petitions": 0}
    key = personal_data.lookup_key("phone", personal_data.normalise_phone(user.phone))
    return {
        "incidents": Incident.objects.filter(
            reporter__isnull=True, reporter_phone=user.phone
        ).count(),
        "mediation": CaseParty.objects.filter(
            role=CaseParty.Role.APPLICANT,
            phone=user.phone,
            user__isnull=True,
            case__applicant_user__isnull=True,
        )
        .values("case_id")
        .distinct()
        .count(),
        "petitions": Petition.objects.filter(owner__isnull=True, petitioners__phone_key=key)
        .values("pk")
        .distinct()
        .count(),
    }
