import pytest

from core.models import SmsMessage, WorkerHeartbeat
from core.sms import SmsError
from core.tasks import heartbeat, sms_send

pytestmark = pytest.mark.django_db


class FailingBackend:
    calls = 0

    def send(self, phone, text):
        FailingBackend.calls += 1
        raise SmsError("gateway down")


class RecordingBackend:
    sent: list = []

    def send(self, phone, text):
        RecordingBackend.sent.append((phone, text))


def test_heartbeat_records_this_host_once():
    heartbeat.delay()
    heartbeat.delay()
    assert WorkerHeartbeat.objects.count() == 1
    first = WorkerHeartbeat.objects.get().seen_at
    heartbeat.delay()
    assert WorkerHeartbeat.objects.get().seen_at >= first


def test_sms_send_is_idempotent(settings):
    settings.SMS_BACKEND = "core.tests.test_tasks.RecordingBackend"
    RecordingBackend.sent = []
    message = SmsMessage.objects.create(phone="13800001234", text="hi")
    sms_send.delay(message.pk)
    sms_send.delay(message.pk)
    message.refresh_from_db()
    assert message.status == SmsMessage.Status.SENT and message.sent_at is not None
    assert RecordingBackend.sent == [("13800001234", "hi")]
    sms_send.delay(999999)  # a message that is gone: nothing happens


def test_sms_send_retries_with_backoff_then_gives_up(settings):
    from celery.exceptions import Retry

    settings.SMS_BACKEND = "core.tests.test_tasks.FailingBackend"
    FailingBackend.calls = 0
    message = SmsMessage.objects.create(phone="13800001234", text="hi")
    with pytest.raises(Retry) as info:
        sms_send.apply(args=[message.pk])
    assert 15 <= info.value.when <= 30  # first backoff: 30 s, with jitter
    message.refresh_from_db()
    assert message.status == SmsMessage.Status.PENDING
    assert (message.attempts, message.last_error) == (1, "gateway down")
    # The last allowed retry marks the message failed instead of retrying again.
    sms_send.apply(args=[message.pk], retries=sms_send.max_retries)
    message.refresh_from_db()
    assert message.status == SmsMessage.Status.FAILED
    assert message.attempts == 2 == FailingBackend.calls
