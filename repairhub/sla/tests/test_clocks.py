"""SLA clocks driven by real work-order events: where they start, pause, resume and stop.

Orders are moved only through repairhub.workorders.services; time through time_machine.
Normal urgency runs on the seeded working-hours calendar (08:00–12:00, 14:00–18:00, Chinese
holidays and 调休), high urgency on the 24×7 calendar (docs/sla.md, defaults).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from repairhub.sla.models import ClockKind, OrderClock, Outcome, SlaCalendar, SlaPolicy
from repairhub.testing.personas import make_category, make_order
from repairhub.workorders import services as wo
from repairhub.workorders.models import ChangeKind, WorkOrder
from repairhub.workorders.states import Status

from .support import at, clocks

pytestmark = pytest.mark.django_db

ACCEPT, ARRIVE, COMPLETE = ClockKind.ACCEPT, ClockKind.ARRIVE, ClockKind.COMPLETE


def new_order(world, urgency: str, **kw):
    return make_order(world, Status.SUBMITTED, urgency=urgency, **kw)


def to_site(world, order, clock, *, accept, dispatch, arrive):
    """Accept, dispatch, acknowledge and arrive at the given times."""
    clock.move_to(accept)
    wo.accept_order(order, by=world.agent)
    clock.move_to(dispatch)
    wo.dispatch_order(order, technician=world.technician, by=world.dispatcher)
    wo.acknowledge_order(order, by=world.technician)
    clock.move_to(arrive)
    wo.record_arrival(order, by=world.technician)


# --- where clocks start, on which calendar -----------------------------------------------------


def test_submission_starts_accept_and_complete_clocks_across_national_day(world, clock):
    # Tuesday 30 September 2025, 17:45: 1–8 October are public holidays, Saturday 11 October
    # is a 调休 working day. 15 minutes count today, the rest after the holiday.
    clock.move_to(at(2025, 9, 30, 17, 45))
    order = new_order(world, "normal")

    c = clocks(order)
    assert set(c) == {ACCEPT, COMPLETE}  # arrival starts at dispatch
    assert c[ACCEPT].started_at == at(2025, 9, 30, 17, 45)
    assert c[ACCEPT].due_at == at(2025, 10, 9, 8, 15)
    # 24 counted hours (three 8-hour days): 15 min on 30 Sep, 8 h on 9 and 10 Oct, and the
    # last 7 h 45 min on the 调休 Saturday, 11 Oct, lunch skipped.
    assert c[COMPLETE].due_at == at(2025, 10, 11, 17, 45)
    # The order's 完成时限 is the completion clock's deadline.
    order.refresh_from_db()
    assert order.due_at == at(2025, 10, 11, 17, 45)
    assert c[ACCEPT].target == dt.timedelta(minutes=30)
    assert c[COMPLETE].target == dt.timedelta(hours=24)


def test_a_submission_writes_its_deadline_in_the_orders_own_row(world, clock):
    # The clocks are worked out before the order's transaction (sla.prepare_new_order), so the
    # order is not updated after its INSERT to carry its 完成时限.
    clock.move_to(at(2025, 9, 30, 17, 45))
    table = connection.ops.quote_name(WorkOrder._meta.db_table)
    with CaptureQueriesContext(connection) as captured:
        order = new_order(world, "normal")
    assert [q["sql"] for q in captured if q["sql"].startswith(f"UPDATE {table}")] == []
    assert sum(q["sql"].startswith("INSERT INTO") for q in captured) >= 3  # order, event, clocks
    order.refresh_from_db()
    assert order.due_at == clocks(order)[COMPLETE].due_at == at(2025, 10, 11, 17, 45)


def test_a_submission_nobody_prepared_still_starts_its_clocks(world, clock, monkeypatch):
    from repairhub.workorders import subscribers

    monkeypatch.setattr(subscribers, "PREPARERS", [])
    clock.move_to(at(2025, 9, 30, 17, 45))
    order = new_order(world, "normal")
    c = clocks(order)
    assert set(c) == {ACCEPT, COMPLETE}
    order.refresh_from_db()
    assert order.due_at == c[COMPLETE].due_at == at(2025, 10, 11, 17, 45)


def test_a_tiao_xiu_saturday_counts_as_a_working_day(world, clock):
    clock.move_to(at(2025, 10, 10, 17, 45))  # Friday evening before the 调休 Saturday
    order = new_order(world, "normal")
    assert clocks(order)[ACCEPT].due_at == at(2025, 10, 11, 8, 15)


def test_an_ordinary_saturday_does_not_count(world, clock):
    clock.move_to(at(2025, 10, 17, 17, 45))  # Friday; 18 and 19 October are a normal weekend
    order = new_order(world, "normal")
    assert clocks(order)[ACCEPT].due_at == at(2025, 10, 20, 8, 15)


def test_a_night_report_waits_for_the_working_day_but_an_urgent_one_does_not(world, clock):
    clock.move_to(at(2025, 10, 14, 2, 0))  # Tuesday, 02:00
    normal = new_order(world, "normal")
    urgent = new_order(world, "high")

    assert clocks(normal)[ACCEPT].due_at == at(2025, 10, 14, 8, 30)
    # 24×7: 10 minutes to accept, 24 hours to complete, whatever the hour.
    assert clocks(urgent)[ACCEPT].due_at == at(2025, 10, 14, 2, 10)
    assert clocks(urgent)[COMPLETE].due_at == at(2025, 10, 15, 2, 0)


def test_at_risk_instant_is_three_quarters_into_the_target(world, clock, settings):
    settings.SLA_AT_RISK_FRACTION = 0.25
    order = new_order(world, "high")  # 09:00, 10 minutes to accept
    assert clocks(order)[ACCEPT].at_risk_at == at(2025, 10, 14, 9, 7, 30)


def test_acceptance_stops_the_accept_clock_on_time_or_late(world, clock):
    on_time = new_order(world, "high")
    late = new_order(world, "high")
    clock.move_to(at(2025, 10, 14, 9, 5))
    wo.accept_order(on_time, by=world.agent)
    clock.move_to(at(2025, 10, 14, 9, 15))
    wo.accept_order(late, by=world.agent)

    assert (clocks(on_time)[ACCEPT].stopped_at, clocks(on_time)[ACCEPT].outcome) == (
        at(2025, 10, 14, 9, 5),
        Outcome.MET,
    )
    assert clocks(late)[ACCEPT].outcome == Outcome.LATE
    # The completion clock runs on.
    assert clocks(late)[COMPLETE].stopped_at is None


def test_an_auto_accepted_category_meets_its_accept_clock_at_once(world, clock):
    auto = make_category("door", name="门锁", auto_accept=True)
    order = make_order(world, Status.ACCEPTED, urgency="high", category=auto)
    assert order.events.filter(code="workorder.accepted").get().actor_label == "系统"
    accept = clocks(order)[ACCEPT]
    assert (accept.stopped_at, accept.outcome) == (at(2025, 10, 14, 9, 0), Outcome.MET)


def test_dispatch_starts_the_arrival_clock_and_arrival_stops_it(world, clock):
    order = new_order(world, "high")
    clock.move_to(at(2025, 10, 14, 9, 3))
    wo.accept_order(order, by=world.agent)
    clock.move_to(at(2025, 10, 14, 9, 4))
    wo.dispatch_order(order, technician=world.technician, by=world.dispatcher)
    arrive = clocks(order)[ARRIVE]
    assert (arrive.started_at, arrive.due_at) == (
        at(2025, 10, 14, 9, 4),
        at(2025, 10, 14, 9, 34),
    )

    wo.acknowledge_order(order, by=world.technician)
    clock.move_to(at(2025, 10, 14, 9, 30))
    wo.record_arrival(order, by=world.technician)
    arrive.refresh_from_db()
    assert (arrive.stopped_at, arrive.outcome) == (at(2025, 10, 14, 9, 30), Outcome.MET)


def test_reassigning_or_a_decline_does_not_restart_the_arrival_clock(world, clock):
    order = new_order(world, "high")
    wo.accept_order(order, by=world.agent)
    wo.dispatch_order(order, technician=world.technician, by=world.dispatcher)
    clock.move_to(at(2025, 10, 14, 9, 10))
    wo.reassign_order(order, technician=world.technician2, by=world.dispatcher)
    clock.move_to(at(2025, 10, 14, 9, 12))
    wo.decline_order(order, reason="不在附近", by=world.technician2)
    clock.move_to(at(2025, 10, 14, 9, 14))
    wo.dispatch_order(order, technician=world.technician, by=world.dispatcher)

    rows = OrderClock.objects.filter(order=order, kind=ARRIVE)
    assert rows.count() == 1
    assert rows.get().started_at == at(2025, 10, 14, 9, 0)
    assert rows.get().due_at == at(2025, 10, 14, 9, 30)


@pytest.mark.parametrize("how", ["cancel", "reject"])
def test_cancelling_or_rejecting_ends_every_running_clock(world, clock, how):
    order = new_order(world, "high")
    clock.move_to(at(2025, 10, 14, 9, 2))
    if how == "cancel":
        wo.cancel_order(order, reason="重复报修", by=world.agent)
    else:
        wo.reject_order(order, reason="不属于维修范围", by=world.agent)
    ended = OrderClock.objects.filter(order=order)
    assert ended.count() == 2
    assert {(c.stopped_at, c.outcome) for c in ended} == {(at(2025, 10, 14, 9, 2), Outcome.ENDED)}


# --- pauses ------------------------------------------------------------------------------


def test_a_hold_pauses_the_completion_clock_and_resume_adds_the_time_back(world, clock):
    order = new_order(world, "high")  # 09:00, 24 h to complete on 24×7
    to_site(
        world,
        order,
        clock,
        accept=at(2025, 10, 14, 9, 1),
        dispatch=at(2025, 10, 14, 9, 2),
        arrive=at(2025, 10, 14, 9, 20),
    )
    assert clocks(order)[COMPLETE].due_at == at(2025, 10, 15, 9, 0)

    clock.move_to(at(2025, 10, 14, 10, 0))
    wo.hold_order(order, reason="等客户在家", by=world.technician)
    held = clocks(order)[COMPLETE]
    assert held.paused_at == at(2025, 10, 14, 10, 0)
    assert held.due_at is None  # no deadline while waiting for the customer
    order.refresh_from_db()
    assert order.due_at == at(2025, 10, 15, 9, 0)  # the order keeps the last one meanwhile

    clock.move_to(at(2025, 10, 15, 10, 0))  # a day on hold
    wo.resume_order(order, by=world.technician)
    resumed = clocks(order)[COMPLETE]
    assert resumed.paused_at is None
    assert resumed.due_at == at(2025, 10, 16, 9, 0)
    order.refresh_from_db()
    assert order.due_at == at(2025, 10, 16, 9, 0)
    assert resumed.closed_pauses() == [(at(2025, 10, 14, 10, 0), at(2025, 10, 15, 10, 0))]

    clock.move_to(at(2025, 10, 16, 8, 0))
    wo.complete_order(order, result="success", note="换了灯管", by=world.technician)
    done = clocks(order)[COMPLETE]
    assert (done.stopped_at, done.outcome) == (at(2025, 10, 16, 8, 0), Outcome.MET)


def test_a_hold_on_a_working_hours_clock_pauses_only_counted_time(world, clock):
    order = new_order(world, "normal")  # Tue 09:00, 24 counted hours: due Fri 09:00
    to_site(
        world,
        order,
        clock,
        accept=at(2025, 10, 14, 9, 10),
        dispatch=at(2025, 10, 14, 9, 20),
        arrive=at(2025, 10, 14, 10, 0),
    )
    assert clocks(order)[COMPLETE].due_at == at(2025, 10, 17, 9, 0)
    clock.move_to(at(2025, 10, 14, 11, 0))
    wo.hold_order(order, reason="等配件", by=world.technician)
    # On hold from Tue 11:00 to Tue 20:00: 1 h before lunch and 4 h after count as paused,
    # the evening would not have counted anyway.
    clock.move_to(at(2025, 10, 14, 20, 0))
    wo.resume_order(order, by=world.technician)
    assert clocks(order)[COMPLETE].due_at == at(2025, 10, 17, 16, 0)


def test_a_policy_that_does_not_pause_keeps_the_deadline_through_a_hold(world, clock):
    SlaPolicy.objects.filter(category=None, urgency="high").update(pause_on_hold=False)
    from repairhub.sla.services import BOOK

    BOOK.clear()  # .update() sends no signal
    order = new_order(world, "high")
    to_site(
        world,
        order,
        clock,
        accept=at(2025, 10, 14, 9, 1),
        dispatch=at(2025, 10, 14, 9, 2),
        arrive=at(2025, 10, 14, 9, 20),
    )
    clock.move_to(at(2025, 10, 14, 10, 0))
    wo.hold_order(order, reason="等客户", by=world.technician)
    held = clocks(order)[COMPLETE]
    assert (held.paused_at, held.due_at) == (None, at(2025, 10, 15, 9, 0))


def test_reassigning_a_held_order_resumes_its_clock(world, clock):
    order = new_order(world, "high")
    to_site(
        world,
        order,
        clock,
        accept=at(2025, 10, 14, 9, 1),
        dispatch=at(2025, 10, 14, 9, 2),
        arrive=at(2025, 10, 14, 9, 20),
    )
    clock.move_to(at(2025, 10, 14, 10, 0))
    wo.hold_order(order, reason="等配件", by=world.technician)
    clock.move_to(at(2025, 10, 14, 12, 0))
    wo.reassign_order(order, technician=world.technician2, by=world.dispatcher)
    complete = clocks(order)[COMPLETE]
    assert (complete.paused_at, complete.due_at) == (None, at(2025, 10, 15, 11, 0))


# --- reopen and new deadlines --------------------------------------------------------------


def test_reopen_resumes_the_completion_clock_and_the_next_visit_gets_a_new_arrival_clock(
    world, clock
):
    order = new_order(world, "high")
    to_site(
        world,
        order,
        clock,
        accept=at(2025, 10, 14, 9, 1),
        dispatch=at(2025, 10, 14, 9, 2),
        arrive=at(2025, 10, 14, 9, 20),
    )
    clock.move_to(at(2025, 10, 14, 12, 0))
    wo.complete_order(order, result="success", note="换了灯管", by=world.technician)
    clock.move_to(at(2025, 10, 14, 15, 0))
    wo.reopen_order(order, reason="灯又不亮了", by=world.dispatcher)

    complete = clocks(order)[COMPLETE]
    assert (complete.stopped_at, complete.outcome) == (None, "")
    # Three hours between completion and reopening do not count.
    assert complete.due_at == at(2025, 10, 15, 12, 0)
    order.refresh_from_db()
    assert order.due_at == at(2025, 10, 15, 12, 0)

    clock.move_to(at(2025, 10, 14, 15, 10))
    wo.dispatch_order(order, technician=world.technician2, by=world.dispatcher)
    arrivals = list(OrderClock.objects.filter(order=order, kind=ARRIVE).order_by("cycle"))
    assert [(a.cycle, a.outcome) for a in arrivals] == [(0, Outcome.MET), (1, "")]
    assert arrivals[1].due_at == at(2025, 10, 14, 15, 40)
    # Acceptance is not timed again.
    assert OrderClock.objects.filter(order=order, kind=ACCEPT).count() == 1


def test_an_approved_new_deadline_becomes_the_completion_deadline(world, clock):
    order = new_order(world, "high")
    to_site(
        world,
        order,
        clock,
        accept=at(2025, 10, 14, 9, 1),
        dispatch=at(2025, 10, 14, 9, 2),
        arrive=at(2025, 10, 14, 9, 20),
    )
    new_due = at(2025, 10, 17, 18, 0)
    clock.move_to(at(2025, 10, 14, 11, 0))
    wo.request_change(
        order,
        kind=ChangeKind.DEADLINE,
        reason="需要订购配件",
        new_due_at=new_due.isoformat(),
        by=world.technician,
    )
    wo.approve_change(order, by=world.dispatcher)

    complete = clocks(order)[COMPLETE]
    assert complete.due_at == new_due
    assert complete.target == new_due - at(2025, 10, 14, 9, 0)
    assert complete.pause_on_hold is False
    # The agreed date holds through a later hold.
    wo.hold_order(order, reason="等配件", by=world.technician)
    held = clocks(order)[COMPLETE]
    assert (held.paused_at, held.due_at) == (None, new_due)


def test_a_policy_for_the_category_overrides_the_default(world, clock):
    calendar = SlaCalendar.objects.get(round_the_clock=True)
    SlaPolicy.objects.create(
        category=world.category.parent,
        urgency="",
        calendar=calendar,
        accept_minutes=60,
        arrive_minutes=None,
        complete_minutes=120,
    )
    order = new_order(world, "normal")
    c = clocks(order)
    assert c[ACCEPT].due_at == at(2025, 10, 14, 10, 0)
    assert c[COMPLETE].due_at == at(2025, 10, 14, 11, 0)
    # No arrival target: dispatch starts no arrival clock.
    wo.accept_order(order, by=world.agent)
    wo.dispatch_order(order, technician=world.technician, by=world.dispatcher)
    assert ARRIVE not in clocks(order)
