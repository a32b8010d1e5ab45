"""SLA clocks: started, paused, resumed and stopped by work-order events; breaches marked.

`on_order_event` is a subscriber (workorders/subscribers.py), called inside the transaction of
every work-order event, intake included, so it must stay cheap: policies and calendars come
from a per-process cache (`policy_book`), a submission's clocks are worked out before its
transaction (`prepare_new_order`) and cost one prepared INSERT, and events that do not touch a clock cost nothing. Where each clock starts and stops is in docs/sla.md.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass, field

from django.conf import settings
from django.db import models, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from repairhub.lib.localcache import LocalCache
from repairhub.lib.rows import insert_rows
from repairhub.workorders.lifecycle import record_event
from repairhub.workorders.services import set_deadline
from repairhub.workorders.states import EVENT_CODES, EVENT_SUBMITTED, Action, Status

from . import calendar as worktime
from .defaults import ROUND_THE_CLOCK_CALENDAR
from .models import ClockKind, OrderClock, Outcome, SlaCalendar, SlaPolicy

log = logging.getLogger(__name__)

EVENT_BREACHED = "workorder.sla_breached"

_ACCEPTED = EVENT_CODES[Action.ACCEPT]
_DISPATCHED = EVENT_CODES[Action.DISPATCH]
_TAKEN_OVER = EVENT_CODES[Action.TAKE_OVER]
_ARRIVED = EVENT_CODES[Action.ARRIVE]
_COMPLETED = EVENT_CODES[Action.COMPLETE]
_REOPENED = EVENT_CODES[Action.REOPEN]
_CHANGE_APPROVED = EVENT_CODES[Action.APPROVE_CHANGE]
_ENDING = frozenset(
    EVENT_CODES[a] for a in (Action.REJECT, Action.CANCEL, Action.CLOSE, Action.CONFIRM)
)


# --- policies and calendars, cached per process ----------------------------------------------


@dataclass(frozen=True)
class PolicyFacts:
    pk: int
    calendar_id: int
    targets: dict[str, dt.timedelta | None]
    pause_on_hold: bool


@dataclass(frozen=True)
class PolicyBook:
    """Every active policy by (category id or None, urgency or ""), and every calendar."""

    policies: dict[tuple[int | None, str], PolicyFacts] = field(default_factory=dict)
    calendars: dict[int, worktime.Calendar] = field(default_factory=dict)

    def policy_for(self, category_id: int | None, parent_id: int | None, urgency: str):
        """Most specific first: category, parent, default; the urgency's before "all"."""
        for cat in dict.fromkeys((category_id, parent_id, None)):
            for urg in dict.fromkeys((urgency, "")):
                found = self.policies.get((cat, urg))
                if found is not None:
                    return found
        return None

    def calendar(self, calendar_id: int | None) -> worktime.Calendar:
        if calendar_id is None:
            return ROUND_THE_CLOCK_CALENDAR
        return self.calendars.get(calendar_id, ROUND_THE_CLOCK_CALENDAR)


# Saving or deleting a policy, a calendar or a calendar day clears it (apps.py); other
# processes see the change within LOCAL_CACHE_SECONDS (repairhub/lib/localcache.py).
BOOK: LocalCache[PolicyBook] = LocalCache("sla-policies", max_entries=4)


def _load_book() -> PolicyBook:
    calendars = {
        cal.pk: cal.to_calendar(list(cal.days.all()))
        for cal in SlaCalendar.objects.prefetch_related("days")
    }
    policies = {
        (p.category_id, p.urgency): PolicyFacts(
            pk=p.pk,
            calendar_id=p.calendar_id,
            targets={kind: p.target(kind) for kind in ClockKind.values},
            pause_on_hold=p.pause_on_hold,
        )
        for p in SlaPolicy.objects.filter(is_active=True)
    }
    return PolicyBook(policies=policies, calendars=calendars)


def policy_book() -> PolicyBook:
    book = BOOK.get("book", _load_book)
    assert book is not None
    return book


def policy_for_order(order, book: PolicyBook | None = None) -> PolicyFacts | None:
    book = book or policy_book()
    category = order.category
    return book.policy_for(category.pk, category.parent_id, order.urgency)


def at_risk_fraction() -> float:
    return min(max(float(getattr(settings, "SLA_AT_RISK_FRACTION", 0.25)), 0.0), 1.0)


# --- the arithmetic of one clock ----------------------------------------------------------------


def _pauses(clock: OrderClock, *, open_end: bool = True) -> list[worktime.Pause]:
    pauses: list[worktime.Pause] = list(clock.closed_pauses())
    if open_end and clock.paused_at is not None:
        pauses.append((clock.paused_at, None))
    return pauses


def schedule(clock: OrderClock, cal: worktime.Calendar) -> None:
    """Set the clock's deadline and at-risk instant from its start, target and pauses (None
    while an open pause stops it before they are reached)."""
    pauses = _pauses(clock)
    clock.due_at = worktime.add_working_time(cal, clock.started_at, clock.target, pauses)
    clock.at_risk_at = worktime.add_working_time(
        cal, clock.started_at, clock.target * (1 - at_risk_fraction()), pauses
    )


def _new_clock(
    order, kind: str, policy: PolicyFacts, book: PolicyBook, now: dt.datetime, cycle: int = 0
) -> OrderClock | None:
    target = policy.targets[kind]
    if target is None:
        return None
    clock = OrderClock(
        order_id=order.pk,
        kind=kind,
        cycle=cycle,
        policy_id=policy.pk,
        calendar_id=policy.calendar_id,
        target_seconds=int(target.total_seconds()),
        pause_on_hold=policy.pause_on_hold,
        started_at=now,
    )
    schedule(clock, book.calendar(policy.calendar_id))
    return clock


def _clocks_for(
    order, kinds: tuple[str, ...], now: dt.datetime, cycle: int = 0
) -> list[OrderClock]:
    """New (unsaved) clocks of these kinds under the order's policy; none without a policy."""
    book = policy_book()
    policy = policy_for_order(order, book)
    if policy is None:
        return []
    return [c for kind in kinds if (c := _new_clock(order, kind, policy, book, now, cycle))]


def _start(order, kinds: tuple[str, ...], now: dt.datetime, *, cycle: int = 0) -> None:
    """Start clocks; one that already exists for this round of the order is kept as it is.
    (A new order's clocks are prepared before its transaction instead: prepare_new_order.)"""
    clocks = _clocks_for(order, kinds, now, cycle)
    for clock in clocks:
        _mirror(order, clock)
    if clocks:
        OrderClock.objects.bulk_create(clocks, ignore_conflicts=True)


def prepare_new_order(order) -> None:
    """Work out the clocks of an order about to be created (a preparer, workorders/subscribers.py)
    before its transaction, and put their completion deadline in the order's own row; the
    submission's event then only writes them, with the prepared insert of lib/rows.py (on the
    intake path compiling a `bulk_create` cost more than the rest of the SLA work,
    docs/benchmarks.md)."""
    clocks = _clocks_for(order, (ClockKind.ACCEPT, ClockKind.COMPLETE), order.created_at)
    for clock in clocks:
        if clock.kind == ClockKind.COMPLETE and clock.due_at is not None:
            order.due_at = clock.due_at
    order._prepared_clocks = (order.created_at, clocks)


def _start_prepared(order, now: dt.datetime) -> bool:
    """Write the clocks prepare_new_order worked out for this submission, if it did."""
    prepared = order.__dict__.pop("_prepared_clocks", None)
    if prepared is None or prepared[0] != now:
        return False
    clocks = prepared[1]
    for clock in clocks:
        clock.order_id = order.pk
    insert_rows(clocks)
    return True


def _stop(order_id: int, now: dt.datetime, kinds: tuple[str, ...] = (), *, ended=False) -> None:
    clocks = OrderClock.objects.filter(order_id=order_id, stopped_at__isnull=True)
    if kinds:
        clocks = clocks.filter(kind__in=kinds)
    outcome = (
        Value(Outcome.ENDED)
        if ended
        else Case(When(due_at__lt=now, then=Value(Outcome.LATE)), default=Value(Outcome.MET))
    )
    clocks.update(stopped_at=now, outcome=outcome)


def _mirror(order, clock: OrderClock) -> None:
    """The order's 完成时限 (`WorkOrder.due_at`) is its completion clock's deadline, so the
    order page, the dispatch plans and the on-time rate of analytics all read one figure. A
    paused clock has no deadline; the order keeps the last one until the clock resumes."""
    if clock.kind == ClockKind.COMPLETE and clock.due_at is not None:
        set_deadline(order, clock.due_at)


def _pause(order_id: int, now: dt.datetime) -> None:
    """Stop the clocks that pause on hold; a deadline not yet reached goes away until resume."""
    none = Value(None, output_field=models.DateTimeField())
    OrderClock.objects.filter(
        order_id=order_id, stopped_at__isnull=True, paused_at__isnull=True, pause_on_hold=True
    ).update(
        paused_at=now,
        due_at=Case(When(due_at__gt=now, then=none), default=F("due_at")),
        at_risk_at=Case(When(at_risk_at__gt=now, then=none), default=F("at_risk_at")),
    )


def _close_pause(clock: OrderClock, start: dt.datetime, end: dt.datetime) -> None:
    if end > start:
        clock.pauses = [*(clock.pauses or []), [start.isoformat(), end.isoformat()]]


_SCHEDULE_FIELDS = ["pauses", "paused_at", "due_at", "at_risk_at"]


def _resume(order_id: int, now: dt.datetime) -> None:
    book = policy_book()
    clocks = list(
        OrderClock.objects.filter(
            order_id=order_id, stopped_at__isnull=True, paused_at__isnull=False
        )
    )
    for clock in clocks:
        assert clock.paused_at is not None
        _close_pause(clock, clock.paused_at, now)
        clock.paused_at = None
        schedule(clock, book.calendar(clock.calendar_id))
        _mirror(order_id, clock)
    if clocks:
        OrderClock.objects.bulk_update(clocks, _SCHEDULE_FIELDS)


def _reopen(order, now: dt.datetime) -> None:
    """The completion clock goes on where it stopped (the time the order waited for review is
    a pause); the next dispatch starts a new arrival clock (a new `cycle`)."""
    clock = (
        OrderClock.objects.filter(order_id=order.pk, kind=ClockKind.COMPLETE)
        .order_by("-cycle")
        .first()
    )
    if clock is None or clock.stopped_at is None:
        return
    _close_pause(clock, clock.stopped_at, now)
    clock.stopped_at = None
    clock.outcome = ""
    schedule(clock, policy_book().calendar(clock.calendar_id))
    clock.save(update_fields=[*_SCHEDULE_FIELDS, "stopped_at", "outcome"])
    _mirror(order, clock)


def _new_deadline(order, data: dict, now: dt.datetime) -> None:
    """An approved change request set a new completion deadline (WorkOrder.due_at): the clock
    is due then. The new date was agreed knowing the hold, so later holds no longer pause it;
    a breach of the old deadline is kept in the timeline, and the new one can be breached."""
    try:
        due = dt.datetime.fromisoformat(data["new_due_at"])
    except (KeyError, TypeError, ValueError):
        due = order.due_at
    if due is None:
        return
    clock = (
        OrderClock.objects.filter(
            order_id=order.pk, kind=ClockKind.COMPLETE, stopped_at__isnull=True
        )
        .order_by("-cycle")
        .first()
    )
    if clock is None:
        return
    if clock.paused_at is not None:
        _close_pause(clock, clock.paused_at, now)
        clock.paused_at = None
    cal = policy_book().calendar(clock.calendar_id)
    pauses = _pauses(clock)
    counted = worktime.working_time_between(cal, clock.started_at, due, pauses)
    clock.target_seconds = max(1, math.ceil(counted.total_seconds()))
    clock.pause_on_hold = False
    clock.due_at = due
    clock.at_risk_at = min(
        due,
        worktime.add_working_time(
            cal, clock.started_at, clock.target * (1 - at_risk_fraction()), pauses
        )
        or due,
    )
    clock.breached_at = None
    clock.save(update_fields=[*_SCHEDULE_FIELDS, "target_seconds", "pause_on_hold", "breached_at"])


# --- the subscriber ---------------------------------------------------------------------------


def on_order_event(event) -> None:
    """Start, pause, resume and stop the order's clocks as its events say (docs/sla.md)."""
    code = event.code
    order = event.order
    now = event.created_at
    if code == EVENT_SUBMITTED:
        if not _start_prepared(order, now):
            _start(order, (ClockKind.ACCEPT, ClockKind.COMPLETE), now)  # created unprepared
        return
    if event.from_status == Status.ON_HOLD and event.to_status != Status.ON_HOLD:
        if code not in _ENDING:
            _resume(order.pk, now)
    elif event.to_status == Status.ON_HOLD and event.from_status != Status.ON_HOLD:
        _pause(order.pk, now)
        return
    if code == _ACCEPTED:
        _stop(order.pk, now, (ClockKind.ACCEPT,))
    elif code in (_DISPATCHED, _TAKEN_OVER):
        # A redispatch after a decline, a take-over, keep the round's arrival clock running:
        # changing who goes does not restart the reporter's wait.
        _start(order, (ClockKind.ARRIVE,), now, cycle=order.reopen_count)
    elif code == _ARRIVED:
        _stop(order.pk, now, (ClockKind.ARRIVE,))
    elif code == _COMPLETED:
        _stop(order.pk, now)
    elif code in _ENDING:
        _stop(order.pk, now, ended=True)
    elif code == _REOPENED:
        _reopen(order, now)
    elif code == _CHANGE_APPROVED and (event.data or {}).get("kind") == "deadline":
        _new_deadline(order, event.data, now)


# --- breaches ----------------------------------------------------------------------------------


def mark_breaches(now: dt.datetime | None = None, *, limit: int | None = None) -> int:
    """Mark running clocks past their deadline as breached, each with one timeline event.

    The conditional UPDATE decides who writes: of two runs (two workers, a retried job) only
    one changes the row and appends the event. Returns how many clocks this run marked.
    """
    now = now or timezone.now()
    limit = limit or int(getattr(settings, "SLA_BREACH_BATCH", 500))
    due = list(OrderClock.objects.due(now).select_related("order").order_by("due_at", "pk")[:limit])
    marked = 0
    for clock in due:
        assert clock.due_at is not None
        with transaction.atomic():
            won = OrderClock.objects.filter(
                pk=clock.pk, stopped_at__isnull=True, breached_at__isnull=True, due_at__lt=now
            ).update(breached_at=now)
            if won != 1:
                continue
            record_event(
                clock.order,
                EVENT_BREACHED,
                data={"clock": clock.kind, "due_at": timezone.localtime(clock.due_at).isoformat()},
            )
        marked += 1
    if marked:
        log.info("SLA: %d clock(s) breached", marked)
    return marked
