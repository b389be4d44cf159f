"""Notifications: the in-app inbox and SMS. Call from inside a service's transaction; SMS is
sent later by a task enqueued on commit, so a gateway failure never blocks the loop."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, connections, transaction

from core.models import Notification, SmsMessage


@dataclass(frozen=True)
class Notice:
    """One inbox message for one user (notifications_send_many)."""

    user_id: int
    title: str
    body: str = ""
    url: str = ""
    dedupe_key: str = ""


class _RowCount:
    """Counts the rows the wrapped INSERTs wrote (cursor.rowcount; a row dropped by ON
    CONFLICT DO NOTHING / INSERT OR IGNORE counts 0): a database execute_wrapper."""

    def __init__(self) -> None:
        self.rows = 0

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        result = execute(sql, params, many, context)
        self.rows += max(context["cursor"].rowcount or 0, 0)
        return result


def notifications_send_many(notices: Iterable[Notice], *, batch_size: int = 500) -> int:
    """Put many messages in many inboxes with one INSERT (per `batch_size`); a message whose
    (user, dedupe_key) is already there is dropped by the unique constraint (a task run twice
    never notifies twice). Returns how many were created. Call it inside the service's
    transaction: it needs no savepoint and reads nothing first."""
    rows = [
        Notification(
            user_id=notice.user_id,
            title=notice.title[:200],
            body=notice.body,
            url=notice.url,
            dedupe_key=notice.dedupe_key,
        )
        for notice in notices
    ]
    if not rows:
        return 0
    counter = _RowCount()
    with connections[Notification.objects.db].execute_wrapper(counter):
        Notification.objects.bulk_create(rows, batch_size=batch_size, ignore_conflicts=True)
    return counter.rows


def notification_send(
    *,
    user_ids: Iterable[int | None],
    title: str,
    body: str = "",
    url: str = "",
    dedupe_key: str = "",
) -> int:
    """Put a message in each user's inbox (each user once; empty ids are skipped); with a
    dedupe_key, a repeat is ignored. One INSERT for everybody (notifications_send_many).
    Returns how many were created."""
    return notifications_send_many(
        Notice(user_id=pk, title=title, body=body, url=url, dedupe_key=dedupe_key)
        for pk in sorted({pk for pk in user_ids if pk})
    )


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
