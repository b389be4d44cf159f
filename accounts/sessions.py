"""Sessions per user: the list on the profile, ending them (the user, the security
administrator, disabling an account) and the concurrent-session limit of staff accounts.

Django already refuses an inactive user on the next request (ModelBackend.get_user checks
`is_active`, and a password change voids other sessions through the session auth hash); on
top of that the session rows themselves are deleted, so nothing of the old session (tracked
numbers, messages) outlives the account. The index (UserSession) is filled at sign-in; for
sessions made before it existed a scan of the session table finds the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.models import UserSession

SCAN_LIMIT = 200_000


def session_remember(
    *, user_id: int, session_key: str | None, ip: str | None = None, user_agent: str = ""
) -> None:
    """Record that `session_key` is a session of the user (at sign-in)."""
    if not session_key:
        return
    UserSession.objects.update_or_create(
        session_key=session_key,
        defaults={
            "user_id": user_id,
            "ip": ip,
            "user_agent": user_agent[:200],
            "last_seen_at": timezone.now(),
        },
    )


def session_seen(*, session_key: str | None) -> None:
    """The session made a request (called at most once a minute per session)."""
    if session_key:
        UserSession.objects.filter(session_key=session_key).update(last_seen_at=timezone.now())


def session_ref(session_key: str) -> str:
    """A public name for a session: pages never show a session key (it is the credential)."""
    return salted_hmac("accounts.session-ref", session_key).hexdigest()[:20]


@dataclass(frozen=True)
class SessionRow:
    ref: str
    user_agent: str
    ip: str | None
    created_at: datetime
    last_seen_at: datetime | None
    current: bool


def sessions_active(*, user_id: int, current_key: str | None = None) -> list[SessionRow]:
    """The user's live sessions (indexed at sign-in), the most recent first."""
    live = set(
        Session.objects.filter(
            session_key__in=UserSession.objects.filter(user_id=user_id).values("session_key"),
            expire_date__gt=timezone.now(),
        ).values_list("session_key", flat=True)
    )
    rows = UserSession.objects.filter(user_id=user_id, session_key__in=live).order_by(
        "-last_seen_at", "-created_at"
    )
    return [
        SessionRow(
            ref=session_ref(row.session_key),
            user_agent=row.user_agent,
            ip=row.ip,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            current=row.session_key == current_key,
        )
        for row in rows
    ]


def sessions_end_keys(keys: set[str]) -> int:
    deleted, _ = Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(session_key__in=keys).delete()
    return deleted


def session_key_for_ref(*, user_id: int, ref: str) -> str | None:
    for key in UserSession.objects.filter(user_id=user_id).values_list("session_key", flat=True):
        if session_ref(key) == ref:
            return key
    return None


def sessions_end_for(*, user_id: int, keep: str | None = None) -> int:
    """Delete every stored session of the user (but `keep`); returns how many were deleted."""
    keys = set(UserSession.objects.filter(user_id=user_id).values_list("session_key", flat=True))
    # Sessions that predate the index: decode the live ones (bounded; a rare admin action).
    live = Session.objects.filter(expire_date__gt=timezone.now()).exclude(session_key__in=keys)
    for session in live[:SCAN_LIMIT].iterator(chunk_size=2000):
        # get_decoded() answers {} for a corrupt or tampered session.
        if str(session.get_decoded().get(SESSION_KEY)) == str(user_id):
            keys.add(session.session_key)
    keys.discard(keep or "")
    return sessions_end_keys(keys)


def sessions_limit(*, user_id: int, keep: str, limit: int) -> int:
    """End the user's oldest sessions beyond `limit` (the one just made, `keep`, stays)."""
    if limit <= 0:
        return 0
    keys = list(
        UserSession.objects.filter(user_id=user_id)
        .exclude(session_key=keep)
        .order_by("-created_at")
        .values_list("session_key", flat=True)
    )
    surplus = set(keys[limit - 1 :])
    return sessions_end_keys(surplus) if surplus else 0
