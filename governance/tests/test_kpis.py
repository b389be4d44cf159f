"""Every KPI formula on a hand-made data set with known answers (governance/tests/kpi_data.py),
the fact table's derivation and refresh, and scoping."""

from datetime import timedelta

import pytest
import time_machine
from django.utils.dateparse import parse_datetime

from core.exceptions import NotFoundError, PermissionDeniedError, ValidationFailed
from governance import aggregates, kpis
from governance.models import FactWatermark, IncidentFact
from governance.tests.kpi_data import NOW, PERIOD, at, build_city, make_incident
from incidents.models import Action, IncidentEvent
from tests.builders import make_grid_worker, make_user


@pytest.fixture
def city(region_tree):
    data = build_city(region_tree)
    aggregates.incident_facts_rebuild(now=NOW)
    data.supervisor = make_user(
        "kpi_supervisor", roles=["supervisor"], region=region_tree["city"], phone="13700000110"
    )
    data.admin = make_user("kpi_admin", roles=["admin"], phone="13700000111")
    data.dispatcher_b = make_user(
        "kpi_dispatcher_b", roles=["dispatcher"], region=region_tree["street_b"]
    )
    return data


def table(user, **params):
    query = kpis.kpi_query_build(user=user, params={**PERIOD, **params}, now=NOW)
    return kpis.kpi_table(query)


def values(row) -> dict:
    return {key: value.value for key, value in row.values.items()}


# --- the facts --------------------------------------------------------------------------------


def test_facts_derive_first_dispatch_on_time_flags_and_handling_time(city):
    i = city.incidents
    facts = {f.incident_id: f for f in IncidentFact.objects.all()}
    assert len(facts) == 14
    # The first dispatch is read from the timeline, not from dispatched_at (moved by rework).
    assert facts[i[2].pk].first_dispatched_at == at(3, 3, 11, 0)
    assert facts[i[2].pk].dispatched_on_time is False
    assert facts[i[2].pk].handling_seconds == 428400
    assert facts[i[1].pk].dispatched_on_time is True
    assert facts[i[1].pk].closed_on_time is True
    assert facts[i[1].pk].handling_seconds == 171600
    # 随手办: no deadlines, dispatched and resolved at once.
    assert facts[i[9].pk].dispatched_on_time is True
    assert facts[i[9].pk].closed_on_time is True
    assert facts[i[9].pk].handling_seconds == 0
    # Escalated by the sweep while being handled: late, though resolved by the new deadline.
    assert facts[i[11].pk].closed_on_time is False
    # Escalated by the sweep for a missed dispatch deadline: the dispatch is late.
    assert facts[i[14].pk].dispatched_on_time is False
    # An invalid report is not a closed case; an open one has no closure facts.
    assert facts[i[10].pk].closed_at is None
    assert facts[i[10].pk].closed_on_time is None
    assert facts[i[4].pk].closed_on_time is None
    assert facts[i[5].pk].parked is True
    assert facts[i[5].pk].extended is True


def test_refresh_recent_picks_up_incidents_with_new_events_only(city):
    i = city.incidents
    mark = FactWatermark.objects.get(name=aggregates.WATERMARK)
    assert mark.value == NOW
    # The incident changes (unparked, deadline moved) and the change writes a timeline event.
    later = NOW + timedelta(hours=1)
    with time_machine.travel(later, tick=False):
        type(i[5]).objects.filter(pk=i[5].pk).update(parked=False)
        IncidentEvent.objects.create(incident=i[5], action=Action.UNPARK, from_state="accepted")
        # Another change without an event is not seen by the incremental refresh...
        type(i[6]).objects.filter(pk=i[6].pk).update(urgent=True)
        written = aggregates.incident_facts_refresh_recent()
    assert written == 1
    assert IncidentFact.objects.get(pk=i[5].pk).parked is False
    assert IncidentFact.objects.get(pk=i[6].pk).urgent is False
    assert FactWatermark.objects.get(name=aggregates.WATERMARK).value == later
    # ... but by the full rebuild (manage.py refresh_kpi_facts --full).
    aggregates.incident_facts_rebuild()
    assert IncidentFact.objects.get(pk=i[6].pk).urgent is True


def test_refresh_is_idempotent(city):
    before = list(IncidentFact.objects.order_by("pk").values())
    aggregates.incident_facts_refresh(incident_ids=[inc.pk for inc in city.incidents.values()])
    after = list(IncidentFact.objects.order_by("pk").values())
    strip = [{k: v for k, v in row.items() if k != "refreshed_at"} for row in before]
    assert strip == [{k: v for k, v in row.items() if k != "refreshed_at"} for row in after]


def test_first_refresh_without_watermark_rebuilds_everything(region_tree):
    data = build_city(region_tree)
    assert not IncidentFact.objects.exists()
    assert aggregates.incident_facts_refresh_recent(now=NOW) == len(data.incidents)
    assert FactWatermark.objects.filter(name=aggregates.WATERMARK).exists()


# --- every formula ----------------------------------------------------------------------------


def test_every_kpi_of_a_street_has_the_expected_value(city):
    result = table(city.dispatcher)  # scoped to street A by default
    assert result.query.region == city.tree["street_a"]
    total = result.total
    assert total.counts["reported"] == 11
    assert total.counts["dispatched"] == 9
    assert total.counts["dispatched_on_time"] == 7
    assert total.counts["closed"] == 6
    assert total.counts["closed_on_time"] == 3
    assert total.counts["due_to_close"] == 8  # 6 closed + I4 + I5 open and due
    assert total.counts["deferred"] == 1  # I5
    assert total.counts["due_net"] == 7
    assert total.counts["urgent_due"] == 2
    assert total.handling_seconds == 1903800
    assert values(total) == {
        "reported": 11,
        "on_time_dispatch": 0.7778,  # 7 / 9
        "closure_rate": 0.8571,  # 6 / (8 - 1)
        "on_time_closure": 0.4286,  # 3 / 7
        "urgent_on_time_closure": 0.5,  # 1 / 2
        "rework_rate": 0.1667,  # 1 / 6
        "extension_rate": 0.1111,  # 1 / 9
        "mean_handling_hours": 88.14,  # 1,903,800 s / 6 / 3600
        "satisfaction": 0.6667,  # 2 / 3
        "solved_in_grid": 0.5,  # 3 / 6
        "overdue_now": 4,  # I4, I5, I7 and I13 (reported in April)
        "escalated": 3,  # I7, I11, I14
        "deferred": 1,
    }
    assert total.values["closure_rate"].display == "85.7%"
    assert total.values["mean_handling_hours"].display == "88.1"
    assert total.values["on_time_closure"].numerator == 3
    assert total.values["on_time_closure"].denominator == 7


def test_group_by_community_splits_the_street(city):
    result = table(city.dispatcher, group_by="community")
    rows = {row.key: row for row in result.rows}
    assert set(rows) == {"350602001001", "350602001002"}
    a2 = rows["350602001002"]
    assert a2.label == "金品社区"
    assert a2.filters == {"community": "350602001002"}
    assert values(a2) == {
        "reported": 2,
        "on_time_dispatch": 1.0,
        "closure_rate": 0.5,
        "on_time_closure": 0.5,
        "urgent_on_time_closure": 0.5,
        "rework_rate": 0.0,
        "extension_rate": 0.0,
        "mean_handling_hours": 2.83,
        "satisfaction": 1.0,
        "solved_in_grid": 0.0,
        "overdue_now": 1,
        "escalated": 0,
        "deferred": 0,
    }
    # The groups add up to the total.
    for key in ("reported", "closed", "due_net", "overdue_now"):
        assert sum(row.counts[key] for row in result.rows) == result.total.counts[key]


@pytest.mark.parametrize(
    ("group_by", "expected_keys"),
    [
        ("street", {"350602001"}),
        ("grid", {"cell_a1_1", "cell_a1_2", "cell_a2_1"}),
        ("category", {"9101", "9102", "9201"}),
    ],
)
def test_other_groupings(city, group_by, expected_keys):
    result = table(city.dispatcher, group_by=group_by)
    if group_by == "grid":
        expected_keys = {str(city.tree[name].pk) for name in expected_keys}
    if group_by == "category":
        codes = {str(getattr(city.categories, n).pk): getattr(city.categories, n).code
                 for n in ("ordinary", "urgent", "other")}  # fmt: skip
        assert {codes[row.key] for row in result.rows} == expected_keys
    else:
        assert {row.key for row in result.rows} == expected_keys
    assert sum(row.counts["reported"] for row in result.rows) == 11


def test_group_by_worker_and_unit(city):
    by_worker = {row.key: row for row in table(city.dispatcher, group_by="worker").rows}
    w1 = by_worker[str(city.w1.pk)]
    assert w1.counts["closed"] == 4  # I1, I2, I8, I9
    assert by_worker[kpis.NONE_KEY].filters == {"worker": kpis.NONE_KEY}
    by_unit = {row.key: row for row in table(city.dispatcher, group_by="unit").rows}
    department = by_unit[kpis.unit_key("department", None, "城管执法")]
    assert department.label == "城管执法"
    assert department.counts["reported"] == 1
    street_unit = by_unit[kpis.unit_key("street", city.tree["street_a"].pk, "")]
    assert street_unit.label.startswith("西桥街道 · ")
    assert street_unit.counts["closed"] == 2  # I3, I11


def test_filters_narrow_the_numbers(city):
    assert table(city.dispatcher, category="9102").total.counts["reported"] == 2
    # A large class includes its subclasses.
    assert table(city.dispatcher, category="91").total.counts["reported"] == 10
    cell = city.tree["cell_a2_1"]
    assert table(city.dispatcher, grid_cell=cell.code).total.counts["reported"] == 2
    worker = table(city.dispatcher, worker=str(city.w2.pk)).total
    assert worker.counts["closed"] == 1
    assert worker.values["overdue_now"].value == 1


def test_city_total_for_the_supervisor(city):
    total = table(city.supervisor).total
    assert total.counts["reported"] == 12
    assert total.counts["closed"] == 7
    assert total.values["on_time_closure"].value == round(4 / 8, 4)
    assert total.values["satisfaction"].value == 0.75


def test_empty_region_gives_dashes_not_errors(city):
    result = table(city.supervisor, region="350602002001", start="2026-01-01", end="2026-01-31")
    total = result.total
    assert total.values["reported"].value == 0
    for key in (
        "on_time_dispatch",
        "closure_rate",
        "on_time_closure",
        "urgent_on_time_closure",
        "rework_rate",
        "extension_rate",
        "mean_handling_hours",
        "satisfaction",
        "solved_in_grid",
    ):
        assert total.values[key].value is None, key
        assert total.values[key].display == "—"


def test_open_work_is_due_only_once_its_deadline_has_come(city):
    # The same period seen at 3-15 noon: I4's deadline (3-12) has come, I5's (3-20) has not.
    query = kpis.kpi_query_build(user=city.dispatcher, params=PERIOD, now=at(3, 15, 12))
    counts = kpis.kpi_table(query).total.counts
    assert counts["due_to_close"] == 6 + 1
    assert counts["deferred"] == 0


# --- scoping and validation -------------------------------------------------------------------


def test_a_street_sees_only_its_numbers(city):
    street_b = table(city.dispatcher_b).total
    assert street_b.counts["reported"] == 1  # I12 only
    assert street_b.values["overdue_now"].value == 0
    with pytest.raises(NotFoundError):
        table(city.dispatcher_b, region=city.tree["street_a"].code)
    with pytest.raises(NotFoundError):
        table(city.dispatcher_b, region=city.tree["district"].code)
    with pytest.raises(NotFoundError):
        table(city.dispatcher_b, grid_cell=city.tree["cell_a1_1"].code)
    # Grouped by street, street B's user gets one row: its own.
    rows = table(city.dispatcher_b, group_by="street").rows
    assert [row.key for row in rows] == ["350602002"]


def test_admin_sees_everything_and_may_narrow(city):
    assert table(city.admin).total.counts["reported"] == 12
    assert table(city.admin, region="350602002000").total.counts["reported"] == 1


def test_only_supervisors_dispatchers_and_admins(city, region_tree):
    worker = make_grid_worker("kpi_gw", cells=[region_tree["cell_a1_1"]])
    resident = make_user("kpi_resident", roles=["resident"])
    for user in (worker, resident):
        with pytest.raises(PermissionDeniedError):
            table(user)
    regionless = make_user("kpi_no_region", roles=["supervisor"])
    with pytest.raises(PermissionDeniedError):
        table(regionless)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-13-01"}, "start"),
        ({"start": "2026-03-10", "end": "2026-03-01"}, "end"),
        ({"start": "2020-01-01", "end": "2026-03-01"}, "end"),
        ({"group_by": "planet"}, "group_by"),
        ({"category": "nope"}, "category"),
        ({"unit": "grid"}, "unit"),
    ],
)
def test_bad_parameters_are_refused_with_field_errors(city, params, field):
    with pytest.raises(ValidationFailed) as caught:
        kpis.kpi_query_build(user=city.supervisor, params=params, now=NOW)
    assert field in caught.value.extra


def test_definitions_name_every_set(city):
    definitions = kpis.kpi_definitions()
    assert [d["key"] for d in definitions] == [k.key for k in kpis.KPIS]
    for definition in definitions:
        assert definition["formula"]
        for item in definition["sets"]:
            assert item["definition"], item["key"]


# --- the drill-down ledger counts what the KPI counts ------------------------------------------


@pytest.mark.parametrize("set_key", [*kpis.SETS])
def test_ledger_lists_exactly_the_incidents_behind_each_number(city, set_key):
    result = table(city.dispatcher, group_by="community")
    query = result.query
    with time_machine.travel(NOW, tick=False):
        listed = kpis.ledger_queryset(
            user=city.dispatcher, params=kpis.ledger_params(query, set_key)
        )
        assert listed.count() == result.total.counts[set_key], set_key
        for row in result.rows:
            listed = kpis.ledger_queryset(
                user=city.dispatcher, params=kpis.ledger_params(query, set_key, row.filters)
            )
            assert listed.count() == row.counts[set_key], (set_key, row.key)


def test_ledger_for_other_groupings_and_the_queue_filters(city):
    with time_machine.travel(NOW, tick=False):
        for group_by in ("grid", "worker", "unit", "category"):
            result = table(city.dispatcher, group_by=group_by)
            for row in result.rows:
                params = kpis.ledger_params(result.query, "closed", row.filters)
                count = kpis.ledger_queryset(user=city.dispatcher, params=params).count()
                assert count == row.counts["closed"], (group_by, row.key)
        # The dispatch queue's own filters still apply on top (here: urgent only).
        params = {**kpis.ledger_params(table(city.dispatcher).query, "reported"), "urgent": "true"}
        assert kpis.ledger_queryset(user=city.dispatcher, params=params).count() == 2


def test_ledger_refuses_another_street(city):
    with pytest.raises(NotFoundError):
        kpis.ledger_queryset(
            user=city.dispatcher_b, params={"kpi": "reported", "community": "350602001000"}
        )


# --- trend, categories, heat map, mediation, petitions ----------------------------------------


def test_trend_by_day_week_and_month(city):
    query = kpis.kpi_query_build(user=city.dispatcher, params=PERIOD, now=NOW)
    days = kpis.kpi_trend(query, interval="day")
    assert len(days) == 31
    assert sum(d["reported"] for d in days) == 11
    assert sum(d["closed"] for d in days) == 6
    assert next(d for d in days if d["period"] == "2026-03-28") == {
        "period": "2026-03-28",
        "reported": 1,
        "closed": 1,
        "closed_on_time": 1,
    }
    weeks = kpis.kpi_trend(query, interval="week")
    assert weeks[0]["period"] == "2026-02-23"  # the Monday of the week of March 1st
    assert sum(w["reported"] for w in weeks) == 11
    months = kpis.kpi_trend(query, interval="month")
    assert months == [{"period": "2026-03-01", "reported": 11, "closed": 6, "closed_on_time": 3}]
    with pytest.raises(ValidationFailed):
        kpis.kpi_trend(query, interval="hour")


def test_reported_by_category_groups_large_classes(city):
    query = kpis.kpi_query_build(user=city.dispatcher, params=PERIOD, now=NOW)
    rows = kpis.reported_by_category(query)
    assert [(r["code"], r["count"]) for r in rows] == [("91", 10), ("92", 1)]


def test_cell_heat_counts_per_cell(city):
    query = kpis.kpi_query_build(user=city.dispatcher, params=PERIOD, now=NOW)
    heat = kpis.cell_heat(query, user=city.dispatcher)
    cells = {f["properties"]["code"]: f["properties"] for f in heat["features"]}
    assert set(cells) == {"350602001001001", "350602001001002", "350602001002001"}
    assert cells["350602001001001"]["reported"] == 8
    assert cells["350602001001001"]["overdue"] == 3  # I5, I7, I13
    assert cells["350602001002001"]["overdue"] == 1


def test_mediation_and_petition_kpis_are_shown_to_supervisors_only(city):
    query = kpis.kpi_query_build(user=city.supervisor, params=PERIOD, now=NOW)
    mediation = kpis.mediation_kpis(query, user=city.supervisor)
    assert mediation == {
        "concluded": 0,
        "agreements": 0,
        "success_rate": None,
        "success_percent": None,
        "mean_days": None,
    }
    petitions = kpis.petition_kpis(query, user=city.supervisor)
    assert set(petitions) == set(kpis.PETITION_KPI_NAMES)
    assert petitions["timely_acceptance"]["rate"] is None
    dispatcher_query = kpis.kpi_query_build(user=city.dispatcher, params=PERIOD, now=NOW)
    assert kpis.mediation_kpis(dispatcher_query, user=city.dispatcher) is None
    assert kpis.petition_kpis(dispatcher_query, user=city.dispatcher) is None


# --- through the real engine ------------------------------------------------------------------


def test_facts_of_an_incident_closed_through_the_services(
    region_tree, django_capture_on_commit_callbacks
):
    """A grid worker's 随手办 goes through incidents.services and closes (a patrol report is
    not rated): the facts say dispatched and closed on time, in the grid."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from incidents.services import incident_fix_on_spot

    categories = build_categories_for_engine()
    worker = make_grid_worker("engine_worker", cells=[region_tree["cell_a1_1"]])
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 60)).save(buffer, format="JPEG")
    photo = SimpleUploadedFile("fix.jpg", buffer.getvalue(), content_type="image/jpeg")
    with django_capture_on_commit_callbacks(execute=True):
        incident = incident_fix_on_spot(
            actor=worker,
            category=categories,
            description="井盖松动",
            result="已复位井盖",
            photos=[photo],
            lat=24.505,
            lng=117.605,
        )
    incident.refresh_from_db()
    assert incident.state == "closed"
    aggregates.incident_facts_refresh_recent()
    fact = IncidentFact.objects.get(pk=incident.pk)
    assert fact.dispatched_on_time is True
    assert fact.closed_on_time is True
    assert fact.handling_level == "grid"
    assert fact.region_code == "350602001001"
    supervisor = make_user("engine_supervisor", roles=["supervisor"], region=region_tree["city"])
    query = kpis.kpi_query_build(user=supervisor, params={})
    assert kpis.kpi_table(query).total.values["solved_in_grid"].value == 1.0


def build_categories_for_engine():
    from incidents.models import Category

    large = Category.objects.create(code="93", name="设施")
    return Category.objects.create(
        code="9301",
        parent=large,
        name="井盖",
        handled_at="grid",
        verify_within="1h",
        dispatch_within="30m",
        resolve_within="1wd",
    )


def test_make_incident_helper_writes_the_report_event(region_tree):
    from governance.tests.kpi_data import make_categories

    c = make_categories()
    incident = make_incident(
        category=c.ordinary, cell=region_tree["cell_a1_1"], reported=at(3, 1), state="reported"
    )
    event = incident.events.get()
    assert event.action == Action.REPORT
    assert event.created_at == at(3, 1)
    assert incident.created_at == at(3, 1)


def test_counts_are_reused_until_the_facts_move_when_the_cache_is_on(city, settings):
    from django.core.cache import cache

    settings.GOVERNANCE_KPI_CACHE_SECONDS = 60
    cache.clear()
    try:
        assert table(city.dispatcher).total.counts["reported"] == 11
        new = make_incident(
            category=city.categories.ordinary,
            cell=city.tree["cell_a1_1"],
            reported=at(3, 30),
            state="reported",
        )
        aggregates.incident_facts_refresh(incident_ids=[new.pk])  # the watermark stays
        assert table(city.dispatcher).total.counts["reported"] == 11  # served from the cache
        with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
            aggregates.incident_facts_refresh_recent()  # the watermark moves
        assert table(city.dispatcher).total.counts["reported"] == 12
    finally:
        cache.clear()


# --- the daily counts give the same numbers as the facts ---------------------------------------


def daily_and_facts(query):
    assert kpis.uses_daily_counts(query)
    return kpis._daily_counts(query), kpis._fact_counts(query)


@pytest.mark.parametrize("group_by", ["", "district", "street", "community"])
@pytest.mark.parametrize(
    "period",
    [
        PERIOD,
        {"start": "2026-02-15", "end": "2026-04-15"},
        {"start": "2026-03-12", "end": "2026-03-12"},
    ],
)
def test_daily_counts_equal_the_facts(city, group_by, period):
    query = kpis.kpi_query_build(
        user=city.supervisor, params={**period, "group_by": group_by}, now=NOW
    )
    daily, facts = daily_and_facts(query)
    assert set(daily) == set(facts)
    for key, counts in facts.items():
        for name in [*kpis.FACT_SETS, "handling_seconds_sum"]:
            assert daily[key][name] == counts[name], (group_by, key, name)


def test_narrower_dimensions_use_the_facts(city):
    for params in ({"category": "9101"}, {"grid_cell": "350602001001001"}, {"group_by": "grid"}):
        query = kpis.kpi_query_build(user=city.supervisor, params={**PERIOD, **params}, now=NOW)
        assert not kpis.uses_daily_counts(query)


def test_daily_counts_follow_incremental_refreshes(city):
    from governance.models import IncidentDailyCount

    i = city.incidents
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        # I4 (open, urgent) is resolved and closed today; I6 gets an approved extension.
        type(i[4]).objects.filter(pk=i[4].pk).update(
            state="closed", resolved_at=NOW, closed_at=NOW + timedelta(minutes=30), due_at=None
        )
        IncidentEvent.objects.create(incident=i[4], action=Action.CLOSE, from_state="rated")
        type(i[6]).objects.filter(pk=i[6].pk).update(extension_count=1)
        IncidentEvent.objects.create(
            incident=i[6], action=Action.APPROVE_EXTENSION, from_state="dispatched"
        )
        aggregates.incident_facts_refresh_recent()
    incremental = sorted(IncidentDailyCount.objects.values_list(
        "day", "region_code", "reported", "dispatched", "extended", "closed", "closed_on_time",
        "urgent_closed", "handling_seconds",
    ))  # fmt: skip
    aggregates.daily_counts_recompute(days=None)
    full = sorted(IncidentDailyCount.objects.values_list(
        "day", "region_code", "reported", "dispatched", "extended", "closed", "closed_on_time",
        "urgent_closed", "handling_seconds",
    ))  # fmt: skip
    assert incremental == full
    april = kpis.kpi_query_build(
        user=city.dispatcher, params={"start": "2026-04-01", "end": "2026-04-30"}, now=NOW
    )
    daily, facts = daily_and_facts(april)
    assert daily[""]["closed"] == facts[""]["closed"] == 1
    assert daily[""]["urgent_closed"] == 1
    march = kpis.kpi_query_build(user=city.dispatcher, params=PERIOD, now=NOW)
    assert kpis.kpi_table(march).total.counts["extended"] == 2  # I5 and now I6


def test_days_q_merges_consecutive_days():
    from datetime import date

    q = aggregates._days_q("closed_at", [date(2026, 3, 3), date(2026, 3, 1), date(2026, 3, 2)])
    assert dict(q.children) == {"closed_at__gte": at(3, 1, 0), "closed_at__lt": at(3, 4, 0)}
    q = aggregates._days_q("closed_at", [date(2026, 3, 1), date(2026, 3, 5)])
    assert q.connector == "OR"
    assert [dict(child.children) for child in q.children] == [
        {"closed_at__gte": at(3, 1, 0), "closed_at__lt": at(3, 2, 0)},
        {"closed_at__gte": at(3, 5, 0), "closed_at__lt": at(3, 6, 0)},
    ]


def test_daily_counts_out_of_step_are_recounted(city):
    from governance.models import IncidentDailyCount

    IncidentDailyCount.objects.all().delete()  # e.g. a restore without this table
    i = city.incidents
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        type(i[1]).objects.filter(pk=i[1].pk).update(rating=2)
        IncidentEvent.objects.create(incident=i[1], action=Action.RATE, from_state="closed")
        aggregates.incident_facts_refresh_recent()
    # The rating moved I1's contribution to its closing day (3-06): that day was found out of
    # step and recounted from the facts; the days it did not move (3-02) stay as they were
    # (here: empty) until a rebuild.
    closed_day = IncidentDailyCount.objects.get(day=at(3, 6).date(), region_code="350602001001")
    assert (closed_day.closed, closed_day.satisfied, closed_day.rated) == (1, 0, 1)
    assert not IncidentDailyCount.objects.filter(day=at(3, 2).date()).exists()
    aggregates.daily_counts_recompute(days=None)
    query = kpis.kpi_query_build(user=city.dispatcher, params=PERIOD, now=NOW)
    daily, facts = daily_and_facts(query)
    assert daily[""]["satisfied"] == facts[""]["satisfied"] == 1


# --- 按时派遣率: the dispatch deadline in force when the dispatch was made -----------------------


@pytest.fixture
def loop(region_tree):
    """The incident engine's test city (staff, categories) and an incident verified at T0 with
    a dispatch deadline 30 minutes later."""
    from incidents.models import IncidentState
    from incidents.tests.factories import build_city as build_loop_city
    from incidents.tests.factories import make_incident as make_loop_incident

    data = build_loop_city(region_tree)
    data.t0 = at(3, 10, 9, 0)
    data.incident = make_loop_incident(
        data,
        state=IncidentState.VERIFIED,
        verified_at=data.t0,
        dispatch_due_at=data.t0 + timedelta(minutes=30),
        due_at=data.t0 + timedelta(minutes=30),
    )
    return data


def _fact(incident) -> IncidentFact:
    aggregates.incident_facts_rebuild(now=NOW)
    return IncidentFact.objects.get(pk=incident.pk)


def _on_time_dispatch_rate(loop) -> float | None:
    query = kpis.kpi_query_build(user=loop.supervisor, params=PERIOD, now=NOW)
    return kpis.kpi_table(query).total.values["on_time_dispatch"].value


def test_a_late_first_dispatch_stays_late_after_a_return_resets_the_deadline(loop):
    """Domain review #7 (the probe): first dispatch 2.5 h late, the unit returns it (退回, the
    dispatch deadline restarts), the re-dispatch is within the new deadline: not on time."""
    from incidents.services import incident_dispatch, incident_return

    incident, t0 = loop.incident, loop.t0
    with time_machine.travel(t0 + timedelta(hours=3), tick=False):
        incident_dispatch(
            incident_id=incident.pk, actor=loop.dispatcher, assignee_id=loop.worker.pk
        )
    with time_machine.travel(t0 + timedelta(hours=3, minutes=10), tick=False):
        incident_return(incident_id=incident.pk, actor=loop.worker, reason="不属于本网格")
    with time_machine.travel(t0 + timedelta(hours=3, minutes=15), tick=False):
        incident_dispatch(
            incident_id=incident.pk, actor=loop.dispatcher, assignee_id=loop.worker2.pk
        )
    incident.refresh_from_db()
    # The incident's current deadline (restarted by the return) would call it on time.
    assert incident.dispatch_due_at > t0 + timedelta(hours=3)
    first, second = incident.events.filter(action=Action.DISPATCH).order_by("created_at", "id")
    assert parse_datetime(first.data["dispatch_due_at"]) == t0 + timedelta(minutes=30)
    assert parse_datetime(second.data["dispatch_due_at"]) == incident.dispatch_due_at
    fact = _fact(incident)
    assert fact.first_dispatched_at == t0 + timedelta(hours=3)
    assert fact.dispatch_due_at == t0 + timedelta(minutes=30)
    assert fact.dispatched_on_time is False
    assert _on_time_dispatch_rate(loop) == 0.0


def test_an_on_time_first_dispatch_stays_on_time_after_a_return(loop):
    from incidents.services import incident_dispatch, incident_return

    incident, t0 = loop.incident, loop.t0
    with time_machine.travel(t0 + timedelta(minutes=20), tick=False):
        incident_dispatch(
            incident_id=incident.pk, actor=loop.dispatcher, assignee_id=loop.worker.pk
        )
    with time_machine.travel(t0 + timedelta(hours=5), tick=False):
        incident_return(incident_id=incident.pk, actor=loop.worker, reason="不属于本网格")
    with time_machine.travel(t0 + timedelta(hours=9), tick=False):  # the new deadline missed
        incident_dispatch(
            incident_id=incident.pk, actor=loop.dispatcher, assignee_id=loop.worker2.pk
        )
    assert _fact(incident).dispatched_on_time is True
    assert _on_time_dispatch_rate(loop) == 1.0


def test_a_manual_escalation_after_the_dispatch_deadline_keeps_the_dispatch_late(loop):
    """A person escalates a verified incident whose dispatch deadline has passed: the new
    level gets a fresh deadline, but the dispatch was already late."""
    from incidents.services import incident_dispatch, incident_escalate

    incident, t0 = loop.incident, loop.t0
    with time_machine.travel(t0 + timedelta(hours=1), tick=False):
        incident_escalate(incident_id=incident.pk, actor=loop.dispatcher, reason="超时未派遣")
    escalation = incident.events.get(action=Action.ESCALATE)
    assert parse_datetime(escalation.data["dispatch_due_at"]) == t0 + timedelta(minutes=30)
    with time_machine.travel(t0 + timedelta(hours=1, minutes=5), tick=False):
        incident_dispatch(
            incident_id=incident.pk, actor=loop.dispatcher, assignee_id=loop.worker.pk
        )
    assert _fact(incident).dispatched_on_time is False


def test_a_manual_escalation_before_the_dispatch_deadline_is_not_late(loop):
    from incidents.services import incident_dispatch, incident_escalate

    incident, t0 = loop.incident, loop.t0
    with time_machine.travel(t0 + timedelta(minutes=10), tick=False):
        incident_escalate(incident_id=incident.pk, actor=loop.dispatcher, reason="需社区处理")
    with time_machine.travel(t0 + timedelta(minutes=40), tick=False):  # in the new deadline
        incident_dispatch(
            incident_id=incident.pk, actor=loop.dispatcher, assignee_id=loop.worker.pk
        )
    assert _fact(incident).dispatched_on_time is True


def test_a_dispatch_recorded_without_the_deadline_is_judged_by_the_current_one(city):
    """Events written before the dispatch event carried its deadline (kpi_data writes them
    without it): the incident's deadline is used, as before."""
    fact = IncidentFact.objects.get(pk=city.incidents[2].pk)
    assert fact.dispatched_on_time is False
    assert fact.dispatch_due_at == city.incidents[2].dispatch_due_at
