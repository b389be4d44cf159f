"""Notifications: the in-app inbox and SMS. Call from inside a service's transaction; SMS is
sent later by a task enqueued on commit, so a gateway failure never blocks the loop."""

from collections.abc import Iterable

from django.db import IntegrityError, transaction

from core.models import Notification, SmsMessage


def notification_send(
    *,
    user_ids: Iterable[int],
    title: str,
    body: str = "",
    url: str = "",
    dedupe_key: str = "",
) -> int:
    """Put a message in each user's inbox; with a dedupe_key, a repeat is ignored.
    Returns how many were created."""
    created = 0
    for user_id in set(user_ids):
        if (
            dedupe_key
            and Notification.objects.filter(user_id=user_id, dedupe_key=dedupe_key).exists()
        ):
            continue
        try:
            with transaction.atomic():
                Notification.objects.create(
                    user_id=user_id, title=title[:200], body=body, url=url, dedupe_key=dedupe_key
                )
            created += 1
        except IntegrityError:
            continue  # a concurrent duplicate: the unique constraint kept one
    return created


def sms_queue(*, phone: str, text: str, dedupe_key: str = "") -> SmsMessage | None:
    """Record an SMS and send it from a task after commit. Returns None for a duplicate."""
    from core.tasks import sms_send

    if not phone:
        return None
    if dedupe_key and SmsMessage.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    try:
        with transaction.atomic():
            message = SmsMessage.objects.create(phone=phone, text=text[:500], dedupe_key=dedupe_key)
    except IntegrityError:
        return None
    transaction.on_commit(lambda: sms_send.delay(message.pk))
    return message


def notifications_mark_read(*, user_id: int, notification_ids: Iterable[int] | None = None) -> int:
    from django.utils import timezone

    qs = Notification.objects.filter(user_id=user_id, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=list(notification_ids))
    return qs.update(read_at=timezone.now())
