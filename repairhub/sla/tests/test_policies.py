"""Policies and calendars: the seeded defaults, the lookup order, the cache, the admin pages."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from repairhub.sla.defaults import DEFAULT_TARGETS, CalendarKind
from repairhub.sla.models import (
    CalendarDay,
    DayKind,
    OrderClock,
    SlaCalendar,
    SlaPolicy,
    parse_periods,
)
from repairhub.sla.services import policy_book, policy_for_order
from repairhub.testing.personas import make_category, make_order
from repairhub.workorders.models import Urgency
from repairhub.workorders.states import Status

from .support import at, clocks

pytestmark = pytest.mark.django_db


def test_seeded_policies_are_the_documented_defaults():
    seeded = {p.urgency: p for p in SlaPolicy.objects.filter(category=None)}
    assert set(seeded) == set(Urgency.values)
    for urgency, targets in DEFAULT_TARGETS.items():
        policy = seeded[urgency]
        assert policy.target("accept") == targets.accept, urgency
        assert policy.target("arrive") == targets.arrive, urgency
        assert policy.target("complete") == targets.complete, urgency
        assert policy.calendar.round_the_clock == (targets.calendar is CalendarKind.ROUND_THE_CLOCK)
        assert policy.pause_on_hold
    # The figures.
    assert seeded["high"].complete_minutes == 24 * 60
    assert seeded["high"].arrive_minutes == 30


def test_lookup_prefers_category_then_parent_then_default_and_urgency_before_all(world):
    lamp = world.category  # 水电 → 灯具
    power = lamp.parent
    cal = SlaCalendar.objects.get(round_the_clock=True)

    def order(urgency):
        return make_order(world, Status.SUBMITTED, urgency=urgency)

    def add(category, urgency, minutes):
        return SlaPolicy.objects.create(
            category=category, urgency=urgency, calendar=cal, accept_minutes=minutes
        )

    default_high = SlaPolicy.objects.get(category=None, urgency="high")
    assert policy_for_order(order("high")).pk == default_high.pk
    parent_any = add(power, "", 11)
    assert policy_for_order(order("high")).pk == parent_any.pk
    parent_high = add(power, "high", 12)
    assert policy_for_order(order("high")).pk == parent_high.pk
    own_any = add(lamp, "", 13)
    assert policy_for_order(order("high")).pk == own_any.pk
    own_high = add(lamp, "high", 14)
    assert policy_for_order(order("high")).pk == own_high.pk
    assert policy_for_order(order("low")).pk == own_any.pk
    # Switched off: the next match applies.
    own_high.is_active = False
    own_high.save()
    assert policy_for_order(order("high")).pk == own_any.pk


def test_a_duplicate_policy_is_refused_in_chinese():
    cal = SlaCalendar.objects.first()
    twin = SlaPolicy(category=None, urgency="high", calendar=cal, accept_minutes=5)
    with pytest.raises(ValidationError) as refused:
        twin.full_clean()
    assert "该类别和紧急程度已有服务时限" in str(refused.value)


def test_a_submission_only_inserts_its_clocks_once_policies_are_cached(world):
    make_order(world, Status.SUBMITTED)  # loads the policy book
    with CaptureQueriesContext(connection) as captured:
        order = make_order(world, Status.SUBMITTED)
    sla = [q["sql"] for q in captured.captured_queries if '"sla_' in q["sql"]]
    # Accept and complete: one prepared two-row insert, no look-ups.
    assert len(sla) == 1 and sla[0].startswith('INSERT INTO "sla_orderclock"')
    assert set(OrderClock.objects.filter(order=order).values_list("kind", flat=True)) == {
        "accept",
        "complete",
    }


def test_an_edited_calendar_applies_to_the_next_order_at_once(world):
    working = SlaCalendar.objects.get(round_the_clock=False)
    with time_machine.travel(at(2025, 10, 14, 17, 45), tick=False):
        make_order(world, Status.SUBMITTED)  # caches the book
        # The organisation closes on Wednesday 15 October.
        CalendarDay.objects.create(
            calendar=working, date=dt.date(2025, 10, 15), kind=DayKind.CLOSED, note="运动会"
        )
        order = make_order(world, Status.SUBMITTED)
    assert clocks(order)["accept"].due_at == at(2025, 10, 16, 8, 15)


def test_working_periods_are_parsed_and_bad_ones_refused_in_chinese():
    assert parse_periods("08:00-12:00，14:00 – 18:00") == (
        (dt.time(8), dt.time(12)),
        (dt.time(14), dt.time(18)),
    )
    assert parse_periods("20:00-24:00") == ((dt.time(20), dt.time(0)),)
    assert parse_periods("") == ()
    for bad, words in [
        ("8点到12点", "格式不正确"),
        ("14:00-12:00", "必须按时间先后排列"),
        ("08:00-12:00, 11:00-13:00", "互不重叠"),
        ("25:00-26:00", "时间不存在"),
    ]:
        with pytest.raises(ValidationError) as refused:
            parse_periods(bad)
        assert words in " ".join(refused.value.messages), bad


# --- admin ----------------------------------------------------------------------------------


def admin_client(world) -> Client:
    c = Client()
    c.force_login(world.admin)
    return c


def test_calendar_admin_warns_about_a_year_the_package_lacks(world):
    working = SlaCalendar.objects.get(round_the_clock=False)
    client = admin_client(world)
    with time_machine.travel(at(2025, 6, 1, 10, 0), tick=False):
        page = client.get("/admin/sla/slacalendar/").content.decode()
    assert "节假日数据缺少" not in page  # 2025 and 2026 are known

    with time_machine.travel(at(2026, 6, 1, 10, 0), tick=False):
        listing = client.get("/admin/sla/slacalendar/").content.decode()
        change = client.get(f"/admin/sla/slacalendar/{working.pk}/change/").content.decode()
        assert "节假日数据缺少 2027 年" in listing
        assert working.name in listing
        assert "节假日数据缺少 2027 年" in change
        # The 24×7 calendar ignores holidays and is not named.
        assert "全天候（24×7）：" not in listing

        working.manual_years = "2027"
        working.save()
        assert "节假日数据缺少" not in client.get("/admin/sla/slacalendar/").content.decode()


def test_calendar_admin_refuses_bad_periods_and_changes_nothing(world):
    working = SlaCalendar.objects.get(round_the_clock=False)
    response = admin_client(world).post(
        f"/admin/sla/slacalendar/{working.pk}/change/",
        {
            "name": working.name,
            "periods": "8点到12点",
            "use_public_holidays": "on",
            "manual_years": "",
            "days-TOTAL_FORMS": "0",
            "days-INITIAL_FORMS": "0",
            "days-MIN_NUM_FORMS": "0",
            "days-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 200
    assert "格式不正确" in response.content.decode()
    working.refresh_from_db()
    assert working.periods == "08:00-12:00, 14:00-18:00"


def test_calendar_admin_adds_holidays_as_days(world):
    working = SlaCalendar.objects.get(round_the_clock=False)
    response = admin_client(world).post(
        f"/admin/sla/slacalendar/{working.pk}/change/",
        {
            "name": working.name,
            "periods": "08:00-12:00, 14:00-18:00",
            "use_public_holidays": "on",
            "manual_years": "2027",
            "days-TOTAL_FORMS": "2",
            "days-INITIAL_FORMS": "0",
            "days-MIN_NUM_FORMS": "0",
            "days-MAX_NUM_FORMS": "1000",
            "days-0-date": "2027-01-01",
            "days-0-kind": "closed",
            "days-0-note": "元旦",
            "days-1-date": "2027-01-09",
            "days-1-kind": "working",
            "days-1-note": "调休上班",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    cal = policy_book().calendars[working.pk]
    assert dt.date(2027, 1, 1) in cal.closures
    assert dt.date(2027, 1, 9) in cal.extra_workdays
    assert cal.manual_years == frozenset({2027})


def test_policy_admin_lists_targets_in_words(world):
    page = admin_client(world).get("/admin/sla/slapolicy/").content.decode()
    assert "24小时" in page
    assert "30分" in page
    make_category("pipe")  # the category picker's search works
    assert admin_client(world).get("/admin/sla/slapolicy/add/").status_code == 200
