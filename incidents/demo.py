"""Demo data for incidents, called by `manage.py load_demo_city` (grids) after the regions,
cells and demo users exist: categories, the 2026–2027 working calendar, and a handful of
incidents in various states made THROUGH the services (so their timelines are real).

Idempotent: each demo incident carries an external id ("demo-…"); one that exists is skipped.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from contextlib import contextmanager

from django.core.files.uploadedfile import SimpleUploadedFile

from incidents.loaders import load_calendar, load_categories

DEMO_USERS = ("resident", "gridworker", "gridworker2", "dispatcher", "handler")
# Points inside the demo city (demo_city.json): 西桥社区 and 东铺头社区.
XIQIAO = (24.50845, 117.64455)
XIQIAO_2 = (24.50935, 117.64655)
DONGPUTOU = (24.50845, 117.65455)


@contextmanager
def _tasks_in_process():
    """Run the follow-up tasks in this process (no worker needs to be running)."""
    from celery import current_app as app  # the project's app (governance.celery) once loaded

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


def _photo(color: tuple[int, int, int]) -> SimpleUploadedFile:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), color).save(buffer, format="JPEG")
    return SimpleUploadedFile("evidence.jpg", buffer.getvalue(), content_type="image/jpeg")


def load_demo(data: dict, stdout) -> None:
    """Load categories, the working calendar and the demo incidents (idempotent)."""
    categories = load_categories()
    stdout.write(f"incidents: categories {categories.created} created")
    calendar = load_calendar()
    stdout.write(f"incidents: calendar days {calendar.created} created")
    from accounts.models import User

    users = {u.username: u for u in User.objects.filter(username__in=DEMO_USERS)}
    missing = [name for name in DEMO_USERS if name not in users]
    if missing:
        stdout.write(f"incidents: demo users missing ({', '.join(missing)}); no demo incidents")
        return
    made = 0
    with _tasks_in_process():
        for key, build in _scenarios(users):
            from incidents.models import Incident

            if Incident.objects.filter(external_id=key).exists():
                continue
            build(key)
            made += 1
    stdout.write(f"incidents: {made} demo incidents created")


def _scenarios(users: dict) -> list[tuple[str, Callable[[str], None]]]:
    from incidents import services
    from incidents.models import Category, Channel, Incident

    resident, worker, worker2 = users["resident"], users["gridworker"], users["gridworker2"]
    dispatcher = users["dispatcher"]

    def category(code: str) -> Category:
        return Category.objects.get(code=code)

    def report(key, code, text, point, *, actor=resident, channel=Channel.RESIDENT_WEB, **kw):
        incident = services.incident_report(
            actor=actor,
            category=category(code),
            description=text,
            channel=channel,
            lat=point[0],
            lng=point[1],
            external_id=key,
            **kw,
        )
        return settle(incident)

    def fresh(incident: Incident) -> Incident:
        return Incident.objects.get(pk=incident.pk)

    def settle(incident: Incident) -> Incident:
        """Run the system steps a worker would run (the demo may load inside a transaction,
        where on-commit tasks wait; they find nothing left to do afterwards)."""
        for _step in range(6):
            current = fresh(incident)
            state = current.state
            if state == "reported":
                services.incident_start_verification(incident_id=current.pk)
            elif (state == "verified" and current.task_enqueued_at) or state == "reopened":
                services.incident_route(incident_id=current.pk)
            elif state == "checked" or (state == "resolved" and not current.check_required):
                services.incident_send_feedback(incident_id=current.pk)
            elif state == "rated":
                if current.rating <= 2:
                    services.incident_reopen(incident_id=current.pk)
                else:
                    services.incident_close(incident_id=current.pk)
            else:
                return current
        return fresh(incident)

    def handler_of(incident: Incident):
        incident = fresh(incident)
        return incident.assignee or (worker if incident.claimable else dispatcher)

    def take(incident: Incident):
        incident = fresh(incident)
        person = handler_of(incident)
        if incident.claimable:
            services.incident_claim(incident_id=incident.pk, actor=person)
        else:
            services.incident_accept(incident_id=incident.pk, actor=person)
        return person

    def waiting_for_verification(key):
        text = "西桥社区菜市场门口垃圾堆放两天无人清理。"
        report(key, "0102", text, XIQIAO, address="西桥菜市场")

    def with_the_department(key):
        incident = report(key, "0101", "小区楼顶有人搭建彩钢棚。", XIQIAO_2, address="西桥新村8栋")
        services.incident_verify(incident_id=incident.pk, actor=worker, note="现场确认属实。")
        settle(incident)
        services.incident_accept(incident_id=incident.pk, actor=handler_of(incident))

    def closed_loop(key):
        incident = report(key, "0505", "机动车长期占用人行道。", XIQIAO, address="西桥路12号")
        services.incident_verify(incident_id=incident.pk, actor=worker)
        settle(incident)
        person = take(incident)
        services.incident_resolve(
            incident_id=incident.pk,
            actor=person,
            result="已联系车主挪车并张贴提示。",
            photos=[_photo((40, 120, 60))],
        )
        if settle(incident).state == "resolved":
            services.incident_check(incident_id=incident.pk, actor=worker, note="现场复核已整改。")
        settle(incident)
        services.incident_rate(actor=resident, incident_id=incident.pk, rating=5, comment="很快")
        settle(incident)

    def patrol_report(key):
        report(
            key,
            "0602",
            "巡查发现路灯不亮。",
            XIQIAO_2,
            actor=worker,
            channel=Channel.PATROL,
            address="西桥路与胜利路交叉口",
        )

    def fixed_on_spot(key):
        incident = services.incident_fix_on_spot(
            actor=worker,
            category=category("0201"),
            description="电线杆上张贴小广告。",
            result="已现场清除。",
            photos=[_photo((200, 200, 200))],
            lat=XIQIAO[0],
            lng=XIQIAO[1],
        )
        Incident.objects.filter(pk=incident.pk).update(external_id=key)
        settle(incident)

    def hotline_dispute(key):
        incident = report(
            key,
            "1001",
            "来电反映楼上住户装修噪音与漏水，邻里发生争执。",
            DONGPUTOU,
            actor=None,
            channel=Channel.HOTLINE_12345,
            reporter_name="王女士",
            reporter_phone="13900000011",
        )
        services.incident_verify(incident_id=incident.pk, actor=worker2)
        settle(incident)

    def not_accepted(key):
        incident = report(key, "0103", "测试：重复提交的问题。", XIQIAO, address="西桥社区")
        services.incident_mark_invalid(
            incident_id=incident.pk, actor=worker, reason="重复上报，已合并处理。"
        )

    def reopened(key):
        incident = report(key, "0506", "共享单车堆满盲道。", XIQIAO_2, address="西桥公园南门")
        services.incident_verify(incident_id=incident.pk, actor=worker)
        settle(incident)
        person = take(incident)
        services.incident_resolve(incident_id=incident.pk, actor=person, result="已摆放整齐。")
        if settle(incident).state == "resolved":
            services.incident_check(incident_id=incident.pk, actor=worker)
        settle(incident)
        services.incident_rate(actor=resident, incident_id=incident.pk, rating=1, comment="又乱了")
        settle(incident)

    return [
        ("demo-1", waiting_for_verification),
        ("demo-2", with_the_department),
        ("demo-3", closed_loop),
        ("demo-4", patrol_report),
        ("demo-5", fixed_on_spot),
        ("demo-6", hotline_dispute),
        ("demo-7", not_accepted),
        ("demo-8", reopened),
    ]
