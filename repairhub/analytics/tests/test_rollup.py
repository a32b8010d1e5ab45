"""Daily summaries (rollup.py): every figure they serve equals the same figure read from the
orders — after the first build, after orders are reported, repaired, rated and reopened
(caught up from their events), and for filters they cannot serve (read from the orders)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from repairhub.analytics import queries, rankings, reports, rollup, workload
from repairhub.analytics.models import DayFigures, DayPerson, RollupState
from repairhub.analytics.periods import Filters, Period, parse_filters
from repairhub.workorders.lifecycle import apply
from repairhub.workorders.models import WorkOrder
from repairhub.workorders.states import Status

from .conftest import FIRST, LAST, NOW
from .history import local, random_story, tell

FILTERS = [
    {},
    {"category": "power"},
    {"category": "socket"},
    {"channel": "phone"},
    {"place": "W"},  # a campus: served
    {"place": "E03"},  # a building: read from the orders
    {"team": "water-b"},  # a team: read from the orders
]


def _close(a, b, path="") -> None:
    """Equal, floats to the precision the figures are shown with (means may differ in the last
    bits: a sum divided by a count against the database's AVG)."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            _close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list | tuple) and isinstance(b, list | tuple):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, abs=0.011), path
    else:
        assert a == b, path


def _figures(period: Period, f: Filters) -> dict:
    out = {
        "dashboard": queries.dashboard(period, f),
        "on_time": queries.on_time(period, f),
        "satisfaction": queries.satisfaction(period, f),
    }
    for split in queries.SPLITS:
        out[f"volume:{split}"] = queries.volume(period, f, split)
    for name, ranking in rankings.RANKINGS.items():
        out[name] = ranking(period, f).as_dict()
    out["agents"] = workload.agents(period, f)
    out["technicians"] = workload.technicians(period, f)
    return out


def _everything() -> dict:
    out = {}
    for grain in ("day", "week", "month"):
        period = Period(FIRST - timedelta(days=7), NOW.date(), grain)
        for params in FILTERS:
            out[(grain, *params.items())] = _figures(period, parse_filters(**params))
    report = reports.build("monthly", date(2026, 4, 1), now=NOW)
    out["report"] = [(s.key, s.rows) for s in report.sections if s.key != "info"]
    return out


def _from_orders(monkeypatch) -> dict:
    with monkeypatch.context() as m:
        m.setattr(rollup, "refresh", lambda **kw: False)
        return _everything()


def test_not_used_until_built(at_now):
    assert not rollup.refresh()
    assert not rollup.serves(Filters())
    assert not DayFigures.objects.exists()


def test_built_summaries_give_the_same_figures(at_now, monkeypatch):
    want = _from_orders(monkeypatch)
    days = rollup.rebuild()
    assert days == (NOW.date() - (FIRST - timedelta(days=5))).days + 1
    assert rollup.serves(Filters())
    assert not rollup.serves(parse_filters(place="E03"))
    assert DayFigures.objects.filter(reported__gt=0).exists()
    assert DayPerson.objects.filter(dispatched__gt=0).exists()
    _close(_everything(), want)


def test_caught_up_from_events(at_now, monkeypatch):
    rollup.rebuild()
    c = at_now
    # A completed order of the history is reopened now: its completion day loses it.
    done = WorkOrder.objects.filter(status=Status.COMPLETED, completed_at__lt=local(LAST)).first()
    assert done is not None
    apply(done, "reopen", by=c.world.dispatcher, params={"reason": "又坏了"})
    # New orders reported, repaired and rated over the last days before now.
    rng = random.Random(99)
    for i in range(12):
        tell(random_story(rng, c, NOW.date() - timedelta(days=1 + i % 4)), c.world)
    with time_machine.travel(NOW, tick=False):
        state = RollupState.objects.get()
        assert state.seen_event_id < rollup._top_event()
        _close(_everything(), _from_orders(monkeypatch))
        state.refresh_from_db()
        assert state.seen_event_id == rollup._top_event()


def test_nothing_new_costs_two_lookups(at_now, django_assert_num_queries):
    rollup.rebuild()
    with django_assert_num_queries(2):
        assert rollup.refresh()


def test_a_dashboard_or_report_brings_the_summaries_up_to_date_once(at_now):
    rollup.rebuild()
    tell(random_story(random.Random(8), at_now, NOW.date()), at_now.world)
    period = Period(FIRST, LAST)
    with CaptureQueriesContext(connection) as seen:
        queries.dashboard(period, Filters())
    looks = [q for q in seen.captured_queries if "analytics_rollupstate" in q["sql"]]
    assert len(looks) == 4  # one refresh (read, ensure, lock, save) for all its figures
    with CaptureQueriesContext(connection) as seen:
        reports.build("monthly", date(2026, 4, 1), now=NOW)
    looks = [q for q in seen.captured_queries if "analytics_rollupstate" in q["sql"]]
    assert len(looks) == 1  # nothing new since: one look


def test_minute_job_builds_then_rereads_recent_events(at_now):
    assert rollup.keep_up() > 0  # the first run builds
    state = RollupState.objects.get()
    assert state.built_at is not None and state.safe_event_id == rollup._top_event()
    tell(random_story(random.Random(5), at_now, NOW.date()), at_now.world)
    assert rollup.keep_up() == 0
    state.refresh_from_db()
    assert state.seen_event_id == rollup._top_event()
    # The window it re-reads stays behind for a few minutes (commits that came late).
    assert state.safe_event_id < state.seen_event_id
    # It moves up to the newest event seen one window earlier.
    for windows in (2, 3):
        with time_machine.travel(NOW + rollup.OVERLAP * windows, tick=False):
            rollup.keep_up()
    state.refresh_from_db()
    assert state.safe_event_id == state.seen_event_id


def test_a_late_commit_is_caught_by_the_minute_job(at_now, monkeypatch):
    rollup.rebuild()
    order = WorkOrder.objects.filter(status=Status.COMPLETED).first()
    apply(order, "reopen", by=at_now.world.dispatcher, params={"reason": "又坏了"})
    # A reader ran past this event before it was seen (as if its transaction committed late).
    RollupState.objects.update(seen_event_id=rollup._top_event())
    stale = _everything()
    want = _from_orders(monkeypatch)
    assert stale != want
    rollup.keep_up()
    _close(_everything(), want)


def test_nightly_recompute_catches_edits_without_events(at_now, monkeypatch):
    rollup.rebuild()
    order = WorkOrder.objects.filter(created_at__gte=local(NOW.date() - timedelta(days=20))).first()
    other = WorkOrder.objects.exclude(category=order.category).first().category
    WorkOrder.objects.filter(pk=order.pk).update(category=other)  # an edit with no event
    assert rollup.recompute_recent() == rollup.recent_days()
    _close(_everything(), _from_orders(monkeypatch))


def test_another_time_zone_is_not_served(at_now, settings):
    rollup.rebuild()
    settings.TIME_ZONE = "UTC"
    with timezone.override("UTC"):
        assert not rollup.refresh()


def test_command_builds_then_catches_up(at_now):
    out = StringIO()
    call_command("analytics_rollup", stdout=out)
    assert "每日汇总：重算 75 天" in out.getvalue()
    assert rollup.serves(Filters())
    out = StringIO()
    call_command("analytics_rollup", "--recent", stdout=out)
    assert f"重算 {rollup.recent_days()} 天" in out.getvalue()


def test_a_reader_leaves_a_flood_of_events_to_the_worker(at_now, monkeypatch):
    rollup.rebuild()
    tell(random_story(random.Random(3), at_now, NOW.date()), at_now.world)
    monkeypatch.setattr(rollup, "MANY_EVENTS", 0)
    with CaptureQueriesContext(connection) as seen:
        assert not rollup.refresh()  # read from the orders this time
    assert len(seen) == 2  # the state and the newest event id; the events were not read
    assert not rollup.serves(Filters())
    assert rollup.keep_up() == 0  # the worker catches up whatever the number
    monkeypatch.setattr(rollup, "MANY_EVENTS", 50_000)
    assert rollup.serves(Filters())
