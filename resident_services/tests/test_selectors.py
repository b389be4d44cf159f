"""Reads, scoped: who sees which requests, the queue's order, 我的 items, supervision figures."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from core.exceptions import NotFoundError
from core.resident_items import ResidentItem
from resident_services import selectors, services
from resident_services.tests.factories import pdf_upload

pytestmark = pytest.mark.django_db
TZ = timezone.get_current_timezone()
MONDAY_10 = datetime(2026, 12, 7, 10, 0, tzinfo=TZ)


def submit(svc, item, actor=None, community=None):
    return services.request_submit(
        actor=actor or svc.resident,
        item_id=item.pk,
        community_id=community.pk if community else None,
        attachments=[pdf_upload()],
    )


def test_who_sees_which_request(svc):
    mine = submit(svc, svc.certificate)
    other = submit(svc, svc.allowance, actor=svc.resident2)  # in B1
    legal = submit(svc, svc.legal)
    seen = {
        name: set(selectors.requests_visible(getattr(svc, name)).values_list("pk", flat=True))
        for name in (
            "resident",
            "resident2",
            "staff_a1",
            "staff_b1",
            "lawyer",
            "doctor",
            "supervisor_a",
            "supervisor_district",
            "admin",
        )
    }
    assert seen["resident"] == {mine.pk, legal.pk}
    assert seen["resident2"] == {other.pk}
    assert seen["staff_a1"] == {mine.pk, legal.pk}
    assert seen["staff_b1"] == {other.pk}
    assert seen["lawyer"] == {legal.pk}
    assert seen["doctor"] == set()
    assert seen["supervisor_a"] == {mine.pk, legal.pk}
    assert seen["supervisor_district"] == seen["admin"] == {mine.pk, legal.pk, other.pk}
    with pytest.raises(NotFoundError):
        selectors.request_get_for_user(user=svc.staff_b1, request_id=mine.pk)


def test_the_queue_orders_by_deadline_and_puts_stopped_clocks_last(svc):
    with time_machine.travel(MONDAY_10, tick=False):
        slow = submit(svc, svc.allowance)  # 10 working days
        fast = submit(svc, svc.repair)  # 2 working days
        waiting = submit(svc, svc.certificate)  # 3, but waiting for materials
        services.request_ask_materials(actor=svc.staff_a1, request_id=waiting.pk, missing="合同")
        done = submit(svc, svc.certificate)
        services.request_decline(actor=svc.staff_a1, request_id=done.pk, reason="重复")
    queue = list(selectors.handler_queue(svc.staff_a1))
    assert queue == [fast, slow, waiting]
    assert list(selectors.handler_queue(svc.resident)) == []


def test_items_for_resident(svc):
    request = submit(svc, svc.certificate)
    services.request_decline(actor=svc.staff_a1, request_id=request.pk, reason="不符合条件")
    items = selectors.items_for_resident(svc.resident)
    assert len(items) == 1 and isinstance(items[0], ResidentItem)
    item = items[0]
    assert item.kind == "我的便民服务" and item.state == "不予办理"
    assert item.url == f"/services/requests/{request.pk}/"
    assert item.action_url.endswith("#rate")
    assert "居住证明" in item.title
    assert selectors.items_for_resident(svc.resident2) == []


def test_supervision_rates_per_region_with_drill_down_and_scope(svc):
    with time_machine.travel(MONDAY_10, tick=False):
        on_time = submit(svc, svc.certificate)
        services.request_accept(actor=svc.staff_a1, request_id=on_time.pk)
        services.request_complete(actor=svc.staff_a1, request_id=on_time.pk, result="好")
        services.request_rate(actor=svc.resident, request_id=on_time.pk, rating=5)
        late = submit(svc, svc.certificate)
        submit(svc, svc.allowance, actor=svc.resident2)  # street B, open
    with time_machine.travel(MONDAY_10 + timedelta(days=10), tick=False):
        services.request_decline(actor=svc.staff_a1, request_id=late.pk, reason="迟")
        services.request_rate(actor=svc.resident, request_id=late.pk, rating=1)

    district = selectors.supervision(user=svc.supervisor_district)
    assert district.code == svc.district.code
    assert (district.total, district.closed, district.closed_on_time) == (3, 2, 1)
    assert district.closed_rate == pytest.approx(2 / 3)
    assert district.on_time_rate == 0.5 and district.satisfaction_rate == 0.5
    rows = {row.code: row for row in district.children}
    assert rows[svc.street_a.code].total == 2 and rows[svc.street_a.code].drillable
    assert rows[svc.street_b.code].closed_rate == 0.0

    street = selectors.supervision(user=svc.supervisor_district, code=svc.street_a.code)
    assert [row.code for row in street.children] == [svc.a1.code, svc.a2.code]
    assert street.children[0].total == 2 and street.children[1].closed_rate is None

    # A street supervisor sees their street and cannot drill outside it.
    assert selectors.supervision(user=svc.supervisor_a).code == svc.street_a.code
    with pytest.raises(NotFoundError):
        selectors.supervision(user=svc.supervisor_a, code=svc.street_b.code)
    with pytest.raises(NotFoundError):
        selectors.supervision(user=svc.staff_a1)
    # The period filter: nothing submitted after the Monday.
    later = selectors.supervision(
        user=svc.supervisor_district, date_from=(MONDAY_10 + timedelta(days=1)).date()
    )
    assert later.total == 0 and later.closed_rate is None


def test_the_dashboard_card_is_for_supervisors_only(svc):
    from django.template.loader import render_to_string

    submit(svc, svc.certificate)
    assert selectors.supervision_card(svc.resident) is None
    assert selectors.supervision_card(svc.staff_a1) is None
    card = selectors.supervision_card(svc.supervisor_a)
    assert card is not None and card.code == svc.street_a.code and card.total == 1
    html = render_to_string("resident_services/_supervision_card.html", {"figures": card})
    assert 'id="services-card"' in html and svc.street_a.name in html
