"""Breaches: the periodic job marks overdue clocks once and writes one timeline event each."""

from __future__ import annotations

import pytest

from repairhub.lib import periodic
from repairhub.sla import tasks
from repairhub.sla.models import ClockKind, Outcome
from repairhub.sla.services import EVENT_BREACHED, mark_breaches
from repairhub.testing.personas import make_order
from repairhub.workorders import services as wo
from repairhub.workorders.models import Event
from repairhub.workorders.states import EVENT_LABELS, Status

from .support import at, clocks

pytestmark = pytest.mark.django_db


def breach_events(order) -> list[Event]:
    return list(Event.objects.filter(order=order, code=EVENT_BREACHED))


def test_an_overdue_clock_is_breached_once_with_one_event(world, clock):
    order = make_order(world, Status.SUBMITTED, urgency="high")  # 09:00, accept within 10 min

    clock.move_to(at(2025, 10, 14, 9, 10))
    assert mark_breaches() == 0  # due at 09:10 exactly: on time until then
    clock.move_to(at(2025, 10, 14, 9, 11))
    assert mark_breaches() == 1
    assert mark_breaches() == 0  # a second run finds it marked

    events = breach_events(order)
    assert len(events) == 1
    assert events[0].data == {"clock": "accept", "due_at": "2025-10-14T09:10:00+08:00"}
    assert (events[0].from_status, events[0].to_status) == (Status.SUBMITTED, Status.SUBMITTED)
    assert clocks(order)[ClockKind.ACCEPT].breached_at == at(2025, 10, 14, 9, 11)
    # The completion clock (24 h) is not due.
    assert clocks(order)[ClockKind.COMPLETE].breached_at is None

    # Accepting late stops the clock as late; nothing more is written.
    clock.move_to(at(2025, 10, 14, 9, 20))
    wo.accept_order(order, by=world.agent)
    assert clocks(order)[ClockKind.ACCEPT].outcome == Outcome.LATE
    assert mark_breaches() == 0
    assert len(breach_events(order)) == 1


def test_the_periodic_job_runs_once_per_minute_and_never_writes_twice(world, clock):
    order = make_order(world, Status.SUBMITTED, urgency="high")
    clock.move_to(at(2025, 10, 14, 9, 30))
    minute = at(2025, 10, 14, 9, 30).timestamp()
    periodic_now = periodic.Clock.now
    try:
        periodic.Clock.now = staticmethod(lambda: minute)
        assert tasks.check_breaches.call_local() == 1
        # A second worker in the same minute loses the claim and does nothing.
        assert tasks.check_breaches.call_local() is None
        # The next minute runs again and finds nothing new.
        periodic.Clock.now = staticmethod(lambda: minute + 60)
        assert tasks.check_breaches.call_local() == 0
    finally:
        periodic.Clock.now = periodic_now
    assert len(breach_events(order)) == 1


def test_a_paused_clock_is_not_breached_while_on_hold(world, clock):
    order = make_order(world, Status.SUBMITTED, urgency="high")
    wo.accept_order(order, by=world.agent)
    wo.dispatch_order(order, technician=world.technician, by=world.dispatcher)
    wo.acknowledge_order(order, by=world.technician)
    wo.record_arrival(order, by=world.technician)
    clock.move_to(at(2025, 10, 14, 10, 0))
    wo.hold_order(order, reason="等客户", by=world.technician)

    clock.move_to(at(2025, 10, 16, 10, 0))  # long past the original 24 h
    assert mark_breaches() == 0
    wo.resume_order(order, by=world.technician)  # 23 h of the 24 are left
    clock.move_to(at(2025, 10, 17, 9, 0))
    assert mark_breaches() == 0
    clock.move_to(at(2025, 10, 17, 9, 1))
    assert mark_breaches() == 1
    assert breach_events(order)[0].data == {
        "clock": "complete",
        "due_at": "2025-10-17T09:00:00+08:00",
    }


def test_the_breach_has_a_label_on_the_timeline(world, clock):
    order = make_order(world, Status.SUBMITTED, urgency="high")
    clock.move_to(at(2025, 10, 14, 9, 11))
    mark_breaches()
    assert str(EVENT_LABELS[EVENT_BREACHED]) == "超出服务时限"

    from django.test import Client

    client = Client()
    client.force_login(world.dispatcher)
    page = client.get(f"/orders/{order.number}/")
    assert page.status_code == 200
    assert 'data-code="workorder.sla_breached"' in page.content.decode()
    assert "超出服务时限" in page.content.decode()
