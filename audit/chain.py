"""The audit log's hash chain (等保2.0 三级: audit records protected against change).

The audit rows are written by many requests at once; chaining them at insert time would make
every write wait for one lock. Instead the daily task (audit.tasks.verify_chain) seals the rows
in id order, once they are AUDIT_CHAIN_GRACE_SECONDS old (so a transaction still open when the
task runs commits before its row is due), and checks every seal made so far:

    digest(n) = HMAC(key, digest(n-1) || canonical(event n))

with SHA-256, or SM3 when FIELD_ENCRYPTION_ALGORITHM is "sm4-gcm" (each seal names its
algorithm, so a switch continues the chain). The key (AUDIT_CHAIN_KEY, else derived from
SECRET_KEY) is not in the database: whoever can write the tables cannot forge a new chain.

Found: a seal whose event is gone (deleted), a digest that no longer matches (altered, or a
seal rewritten), an unsealed event with an id below the head (inserted afterwards).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.models import AuditChainCheck, AuditChainHead, AuditEvent, AuditSeal

FIELDS = (
    "id",
    "created_at",
    "actor_id",
    "actor_label",
    "ip",
    "kind",
    "object_type",
    "object_id",
    "path",
    "details",
)
BATCH = 2000
MAX_PROBLEMS = 100


def algorithm() -> str:
    return "sm3" if getattr(settings, "CRYPTO_SM", False) else "sha256"


def _key() -> bytes:
    raw = getattr(settings, "AUDIT_CHAIN_KEY", "") or f"gridgov-audit-chain:{settings.SECRET_KEY}"
    return hashlib.sha256(raw.encode()).digest()


def canonical(row: dict[str, Any]) -> bytes:
    """The event's content in one fixed form (same bytes on SQLite and PostgreSQL)."""
    created = row["created_at"]
    if created is not None:
        created = created.astimezone(UTC)
    content = {name: row[name] for name in FIELDS}
    content["created_at"] = created.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if created else None
    content["ip"] = str(row["ip"]) if row["ip"] else None
    return json.dumps(
        content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    ).encode()


def link(previous: str, row: dict[str, Any], name: str) -> str:
    return hmac.new(_key(), previous.encode() + b"\n" + canonical(row), name).hexdigest()


def _events(after: int = 0, upto: int | None = None):
    qs = AuditEvent.objects.filter(id__gt=after)
    if upto is not None:
        qs = qs.filter(id__lte=upto)
    return qs.order_by("id").values(*FIELDS)


def _verify(head: AuditChainHead) -> tuple[int, list[dict[str, Any]]]:
    """Walk every seal against its event; returns (rows checked, problems)."""
    problems: list[dict[str, Any]] = []
    checked = 0
    previous = ""
    last = 0
    while True:
        seals = list(AuditSeal.objects.filter(event_id__gt=last).order_by("event_id")[:BATCH])
        if not seals:
            break
        rows = {
            row["id"]: row
            for row in _events(after=last, upto=seals[-1].event_id).filter(
                id__in=[seal.event_id for seal in seals]
            )
        }
        for seal in seals:
            row = rows.get(seal.event_id)
            if row is None:
                problems.append({"event_id": seal.event_id, "problem": "deleted"})
            elif link(previous, row, seal.algorithm) != seal.digest:
                problems.append({"event_id": seal.event_id, "problem": "altered"})
            checked += 1
            previous = seal.digest  # the stored digest: one bad row does not hide the rest
        last = seals[-1].event_id
    if head.last_event_id and last != head.last_event_id:
        problems.append({"event_id": head.last_event_id, "problem": "seals_missing"})
    inserted = (
        AuditEvent.objects.filter(id__lte=head.last_event_id)
        .exclude(id__in=AuditSeal.objects.values("event_id"))
        .order_by("id")
        .values_list("id", flat=True)[:MAX_PROBLEMS]
    )
    problems.extend({"event_id": pk, "problem": "inserted"} for pk in inserted)
    return checked, problems


def _extend(head: AuditChainHead) -> int:
    """Seal the events past the head that are old enough; returns how many."""
    grace = int(getattr(settings, "AUDIT_CHAIN_GRACE_SECONDS", 300))
    cutoff = timezone.now() - timedelta(seconds=grace)
    name = algorithm()
    sealed = 0
    while True:
        rows = list(_events(after=head.last_event_id).filter(created_at__lte=cutoff)[:BATCH])
        if not rows:
            return sealed
        seals = []
        digest = head.digest
        for row in rows:
            digest = link(digest, row, name)
            seals.append(AuditSeal(event_id=row["id"], digest=digest, algorithm=name))
        AuditSeal.objects.bulk_create(seals)
        head.last_event_id, head.digest = rows[-1]["id"], digest
        head.save(update_fields=["last_event_id", "digest"])
        sealed += len(rows)


def chain_verify_and_extend() -> AuditChainCheck:
    """Check every seal, then seal the new events; one run at a time (the head row is locked).
    Records the result (AuditChainCheck) and an integrity_checked audit event."""
    with transaction.atomic():
        head, _created = AuditChainHead.objects.get_or_create(pk=1)
        head = AuditChainHead.objects.select_for_update().get(pk=head.pk)
        checked, problems = _verify(head)
        sealed = _extend(head)
        check = AuditChainCheck.objects.create(
            ok=not problems,
            rows_checked=checked,
            rows_sealed=sealed,
            algorithm=algorithm(),
            problems=problems[:MAX_PROBLEMS],
        )
    from audit.services import record

    record(
        "integrity_checked",
        actor_label="system",
        obj=check,
        details={"ok": check.ok, "checked": checked, "sealed": sealed, "problems": len(problems)},
        quiet=True,
    )
    return check


def chain_status() -> AuditChainCheck | None:
    """The latest check (for the audit viewer and the admin workbench)."""
    return AuditChainCheck.objects.order_by("-checked_at", "-id").first()
