"""Sessions per user: disabling a user ends every session of theirs at once.

Django already refuses an inactive user on the next request (ModelBackend.get_user checks
`is_active`, and a password change voids other sessions through the session auth hash); on
top of that the session rows themselves are deleted, so nothing of the old session (tracked
numbers, messages) outlives the account. The index (UserSession) is filled at sign-in; for
sessions made before it existed a scan of the session table finds the rest.
"""

from __future__ import annotations

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.models import UserSession

SCAN_LIMIT = 200_000


def session_remember(*, user_id: int, session_key: str | None) -> None:
    """Record that `session_key` is a session of the user (at sign-in)."""
    if not session_key:
        return
    UserSession.objects.update_or_create(session_key=session_key, defaults={"user_id": user_id})


def sessions_end_for(*, user_id: int) -> int:
    """Delete every stored session of the user; returns how many were deleted."""
    keys = set(UserSession.objects.filter(user_id=user_id).values_list("session_key", flat=True))
    # Sessions that predate the index: decode the live ones (bounded; a rare admin action).
    live = Session.objects.filter(expire_date__gt=timezone.now()).exclude(session_key__in=keys)
    for session in live[:SCAN_LIMIT].iterator(chunk_size=2000):
        # get_decoded() answers {} for a corrupt or tampered session.
        if str(session.get_decoded().get(SESSION_KEY)) == str(user_id):
            keys.add(session.session_key)
    deleted, _ = Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(user_id=user_id).delete()
    return deleted
