import pytest

from core.models import Notification, SmsMessage
from core.services import notification_send, notifications_mark_read, sms_queue
from tests.builders import make_user

pytestmark = pytest.mark.django_db


def test_notification_send_once_per_user_and_dedupe_key():
    first, second = make_user("a"), make_user("b")
    assert (
        notification_send(user_ids=[first.pk, second.pk, first.pk], title="派遣", dedupe_key="k1")
        == 2
    )
    assert notification_send(user_ids=[first.pk], title="派遣", dedupe_key="k1") == 0
    assert notification_send(user_ids=[first.pk], title="另一条") == 1
    assert notification_send(user_ids=[first.pk], title="另一条") == 1  # no key: no dedupe
    assert Notification.objects.filter(user=first).count() == 3


def test_notification_title_is_cut_to_the_field_length():
    user = make_user("a")
    notification_send(user_ids=[user.pk], title="长" * 300)
    assert len(Notification.objects.get().title) == 200


def test_mark_read_only_touches_the_users_own_unread():
    user, other = make_user("a"), make_user("b")
    notification_send(user_ids=[user.pk, other.pk], title="x")
    notification_send(user_ids=[user.pk], title="y")
    chosen = Notification.objects.filter(user=user, title="x").values_list("pk", flat=True)
    assert notifications_mark_read(user_id=user.pk, notification_ids=chosen) == 1
    assert notifications_mark_read(user_id=user.pk) == 1
    assert notifications_mark_read(user_id=user.pk) == 0
    assert Notification.objects.filter(user=other, read_at__isnull=True).count() == 1


def test_sms_is_sent_by_a_task_after_commit(django_capture_on_commit_callbacks, settings, tmp_path):
    settings.SMS_FILE_PATH = str(tmp_path / "sms.log")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = sms_queue(phone="13800001234", text="您的事件已办结", dedupe_key="done-1")
    assert message.status == SmsMessage.Status.PENDING
    assert len(callbacks) == 1
    assert not (tmp_path / "sms.log").exists()  # nothing leaves before commit
    callbacks[0]()
    message.refresh_from_db()
    assert message.status == SmsMessage.Status.SENT
    log = (tmp_path / "sms.log").read_text(encoding="utf-8")
    assert "您的事件已办结" in log and "13800001234" not in log  # the log keeps the last 4 only


def test_sms_dedupe_and_empty_phone(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert sms_queue(phone="13800001234", text="a", dedupe_key="k") is not None
        assert sms_queue(phone="13800001234", text="a", dedupe_key="k") is None
        assert sms_queue(phone="", text="a") is None
    assert SmsMessage.objects.count() == 1
