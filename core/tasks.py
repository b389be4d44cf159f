import socket

from celery import shared_task
from django.utils import timezone

from core.models import WorkerHeartbeat


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
    max_retries=8,
    acks_late=True,
)
def sms_send(self, message_id: int) -> None:
    """Send one SMS. Idempotent: a message already sent is not sent again. Gateway failures
    retry with exponential backoff (30 s, 60 s, ... capped at 1 h) and never touch the loop."""
    from core.models import SmsMessage
    from core.sms import SmsError, get_backend

    message = SmsMessage.objects.filter(pk=message_id).first()
    if message is None or message.status == SmsMessage.Status.SENT:
        return
    SmsMessage.objects.filter(pk=message_id).update(attempts=message.attempts + 1)
    try:
        get_backend().send(message.phone, message.text)
    except SmsError as exc:
        SmsMessage.objects.filter(pk=message_id).update(last_error=str(exc)[:500])
        if self.request.retries >= self.max_retries:
            SmsMessage.objects.filter(pk=message_id).update(status=SmsMessage.Status.FAILED)
            return
        raise self.retry(exc=exc, countdown=min(3600, 30 * 2**self.request.retries)) from exc
    SmsMessage.objects.filter(pk=message_id).update(
        status=SmsMessage.Status.SENT, sent_at=timezone.now(), last_error=""
    )
