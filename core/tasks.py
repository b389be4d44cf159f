import logging
import random
import socket
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from core.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

# SMS retries: exponential from 30 s, capped at 1 h, with jitter (half to all of the step) so
# that messages failing together do not hammer the gateway together when it comes back.
SMS_RETRY_BASE_SECONDS = 30
SMS_RETRY_MAX_SECONDS = 3600
SMS_MAX_RETRIES = 8
# The re-drive (beat): a message never tried after this long lost its task (the broker was
# down or flushed); one tried but still pending after the whole retry schedule lost its retry.
SMS_LOST_AFTER = timedelta(minutes=5)
SMS_RETRY_LOST_AFTER = timedelta(hours=3)


def sms_retry_delay(retries: int, rng: random.Random | None = None) -> float:
    """Seconds before retry number `retries` + 1: 30 s, 60 s, 120 s ... capped at 1 h, each
    drawn between half and all of that step (jitter)."""
    step = min(SMS_RETRY_MAX_SECONDS, SMS_RETRY_BASE_SECONDS * 2 ** max(0, retries))
    return round((rng or random).uniform(step / 2, step), 1)  # nosec B311 # jitter, not secrecy


@shared_task(name="core.tasks.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Sent by beat every 30 s; the worker that runs it records that it is alive."""
    WorkerHeartbeat.objects.update_or_create(
        hostname=socket.gethostname(), defaults={"seen_at": timezone.now()}
    )


@shared_task(
    name="core.tasks.sms_send",
    bind=True,
    ignore_result=True,
    max_retries=SMS_MAX_RETRIES,
    acks_late=True,
)
def sms_send(self, message_id: int) -> None:
    """Send one SMS (queue "outbound": a failing gateway never holds up the incident tasks).
    Idempotent: a message already sent or given up is not sent again. Gateway failures retry
    with exponential backoff and jitter (sms_retry_delay) and never touch the loop."""
    from core.models import SmsMessage
    from core.sms import SmsError, get_backend

    message = SmsMessage.objects.filter(pk=message_id).first()
    if message is None or message.status != SmsMessage.Status.PENDING:
        return
    SmsMessage.objects.filter(pk=message_id).update(attempts=message.attempts + 1)
    try:
        get_backend().send(message.phone, message.text)
    except SmsError as exc:
        SmsMessage.objects.filter(pk=message_id).update(last_error=str(exc)[:500])
        # retries counts this task's retries; attempts also counts the re-drives' runs.
        if self.request.retries >= self.max_retries or message.attempts > 2 * self.max_retries:
            SmsMessage.objects.filter(pk=message_id).update(status=SmsMessage.Status.FAILED)
            logger.warning(
                "sms %s given up after %d attempts: %s", message_id, message.attempts + 1, exc
            )
            return
        raise self.retry(exc=exc, countdown=sms_retry_delay(self.request.retries)) from exc
    SmsMessage.objects.filter(pk=message_id).update(
        status=SmsMessage.Status.SENT, sent_at=timezone.now(), last_error=""
    )


@shared_task(name="core.tasks.sms_redrive", ignore_result=True)
def sms_redrive() -> int:
    """Beat, every minute: send again the pending messages whose task was lost (never tried
    SMS_LOST_AFTER after they were queued, or still pending after the whole retry schedule)."""
    from django.db.models import Q

    from core.models import SmsMessage

    now = timezone.now()
    ids = list(
        SmsMessage.objects.filter(status=SmsMessage.Status.PENDING)
        .filter(
            Q(attempts=0, created_at__lte=now - SMS_LOST_AFTER)
            | Q(attempts__gt=0, created_at__lte=now - SMS_RETRY_LOST_AFTER)
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )
    for pk in ids:
        sms_send.delay(pk)
    if ids:
        logger.info("sms: %d lost messages re-enqueued", len(ids))
    return len(ids)
