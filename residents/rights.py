"""认领 and the resident's personal-data rights (个人信息保护法 Art. 44–47).

- `resident_claim`: after the phone is verified, the reports, mediation applications and
  petitions made with it without an account become the resident's (each through its app's own
  service);
- `resident_data_export`: everything the portal holds about the resident, as a dict (JSON)
  and as an xlsx workbook;
- `resident_account_close`: the account is closed; the resident's closed records are
  anonymised by the apps' own anonymisers (audit.registry, as the retention job does), open
  ones keep what their handling needs until they close and the retention job reaches them;
  the statistics (facts, counts) stay.
"""

from __future__ import annotations

import io
from typing import Any

from django.apps import apps
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit import services as audit
from audit.models import AuditKind
from audit.registry import retention_targets
from core.exceptions import PermissionDeniedError, ValidationFailed
from core.spreadsheets import formula_safe
from incidents.models import Incident, IncidentFollower
from residents.models import ResidentProfile

# The columns that name the account on each app's records (an app's record may use one).
OWNER_FIELDS = ("reporter", "applicant_user", "owner")


def resident_claim(*, user: User) -> dict[str, int]:
    """认领 through each app's service; needs a verified phone. Returns counts per app."""
    from incidents.services.follows import incidents_claim_by_phone
    from mediation.services.claims import cases_claim_by_phone
    from petitions.services.claims import petitions_claim_by_phone

    if not user.phone or user.phone_verified_at is None:
        raise PermissionDeniedError(_("Verify your phone first."))
    with transaction.atomic():
        counts = {
            "incidents": incidents_claim_by_phone(user=user),
            "mediation": cases_claim_by_phone(user=user),
            "petitions": petitions_claim_by_phone(user=user),
        }
        ResidentProfile.objects.filter(user=user).update(claimed_at=timezone.now())
    return counts


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def resident_data_export(*, user: User) -> dict[str, Any]:
    """The resident's data (their own records only), JSON-ready."""
    from mediation.models import MediationCase
    from petitions.models import Petition

    profile = ResidentProfile.objects.filter(user=user).first()
    data: dict[str, Any] = {
        "account": {
            "username": user.username,
            "name": user.display_name,
            "phone": user.phone or "",
            "phone_verified_at": _iso(user.phone_verified_at),
            "home_community": user.home_region.name if user.home_region_id else "",
            "joined_at": _iso(user.date_joined),
            "privacy_notice_version": profile.privacy_notice_version if profile else "",
            "privacy_accepted_at": _iso(profile.privacy_accepted_at) if profile else None,
        },
        "reports": [
            {
                "tracking_number": i.tracking_number,
                "category": i.category.name,
                "description": i.description,
                "address": i.address,
                "state": i.state,
                "reported_at": _iso(i.created_at),
                "closed_at": _iso(i.closed_at),
                "rating": i.rating,
                "rating_comment": i.rating_comment,
            }
            for i in Incident.objects.filter(reporter=user).select_related("category")
        ],
        "follows": [
            {"report": f.incident.public_id, "since": _iso(f.created_at)}
            for f in IncidentFollower.objects.filter(user=user).select_related("incident")
        ],
        "mediation_applications": [
            {
                "case_number": c.case_number,
                "facts": c.facts,
                "requests": c.requests,
                "state": c.state,
                "applied_at": _iso(c.created_at),
            }
            for c in MediationCase.objects.filter(applicant_user=user)
        ],
        "petitions": [
            {
                "tracking_number": p.tracking_number,
                "matter": p.matter,
                "request": p.request,
                "state": p.state,
                "filed_at": _iso(p.created_at),
            }
            for p in Petition.objects.filter(owner=user)
        ],
    }
    audit.record(AuditKind.EXPORTED, actor=user, obj=user, details={"what": "my data"})
    return data


def resident_data_xlsx(data: dict[str, Any]) -> bytes:
    """The export as a workbook: one sheet per part, cells formula-safe."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "account"
    for key, value in data["account"].items():
        sheet.append([key, formula_safe(value)])
    for part in ("reports", "follows", "mediation_applications", "petitions"):
        rows = data[part]
        sheet = book.create_sheet(part)
        if not rows:
            continue
        columns = list(rows[0])
        sheet.append(columns)
        for row in rows:
            sheet.append([formula_safe(row[c]) for c in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def resident_account_close(*, user: User, confirm_phone: str) -> dict[str, int]:
    """Close the resident's own account (they type their phone to confirm). Their closed
    records are anonymised by each app's registered anonymiser; the account keeps its row (the
    records point at it) but loses name, phone, e-mail, password and sign-in; follows go. The
    statistics stay. Returns how many records each app anonymised."""
    if not user.phone or (confirm_phone or "").strip() != user.phone:
        message = _("Type your phone number to confirm.")
        raise ValidationFailed(message, extra={"confirm_phone": [message]})
    anonymised: dict[str, int] = {}
    now = timezone.now()
    with transaction.atomic():
        for target in retention_targets():
            model = apps.get_model(target.label)
            names = {f.name for f in model._meta.get_fields()}
            owner = next((name for name in OWNER_FIELDS if name in names), None)
            if owner is None:
                continue
            ids = list(
                model._default_manager.filter(
                    **{owner: user, "state__in": list(target.final_states)}
                ).values_list("pk", flat=True)
            )
            if ids:
                target.anonymise(ids)
            anonymised[target.label] = len(ids)
        IncidentFollower.objects.filter(user=user).delete()
        audit.record(AuditKind.STATE_CHANGED, actor=user, obj=user, details={"account": "closed"})
        user.username = f"closed-{user.pk}"
        user.display_name = _("Closed account")
        user.first_name = user.last_name = user.email = ""
        user.phone = None
        user.phone_verified_at = None
        user.is_active = False
        user.set_unusable_password()
        user.save()
        ResidentProfile.objects.filter(user=user).update(closed_at=now)
    return anonymised
