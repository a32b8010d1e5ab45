"""Supervision (督办): reminders to the technician (TM2), the reporter's urges told to the staff
(TM3), and the ladder team lead → managers (TM4).

`on_order_event` is subscribed to every work-order event (workorders/subscribers.py) and runs
inside the transaction that wrote it: it keeps the reminder schedule in step with the order,
tells the staff of an urge, raises level 1 on an SLA breach or repeated urging, and resolves
the ladder when the order is done. The periodic jobs (tasks.py) send due reminders
(`send_due_reminders`) and raise level 2 (`escalate_to_managers`). Every message goes through
the outbox; every reminder and escalation is an event on the order's timeline.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from repairhub.accounts.models import User
from repairhub.accounts.roles import Role
from repairhub.notify import outbox
from repairhub.workorders.lifecycle import record_event
from repairhub.workorders.models import WorkOrder
from repairhub.workorders.states import EVENT_CODES, Action, Status

from . import texts
from .models import Escalation, Level, Reason, Reminder

log = logging.getLogger("repairhub.supervision")

EVENT_REMINDED = "workorder.reminded"
EVENT_SUPERVISED = "workorder.supervised"
EVENT_BREACHED = "workorder.sla_breached"  # written by repairhub.sla's deadline job
EVENT_URGED = EVENT_CODES[Action.URGE]

# The technician is reminded while he holds the order and it waits on him. On hold it waits on
# parts, a quote or the customer: the cadence pauses and goes on from the resumption.
REMINDED = frozenset({Status.DISPATCHED, Status.ACKNOWLEDGED, Status.IN_PROGRESS})
# Seed 001: "半天提醒一次，第三次询问维修结果" — the third reminder, and every later one, asks
# for the result with a link to report it.
ASK_RESULT_AT = 3
# A new technician holds the order: his cadence starts from zero.
STARTS = frozenset(EVENT_CODES[a] for a in (Action.DISPATCH, Action.REASSIGN, Action.TAKE_OVER))
# Nobody is to be reminded any more.
STOPS = frozenset(
    EVENT_CODES[a]
    for a in (
        Action.DECLINE,
        Action.COMPLETE,
        Action.CONFIRM,
        Action.CLOSE,
        Action.CANCEL,
        Action.REJECT,
        Action.REOPEN,
    )
)
# The order is done: its escalations are resolved.
RESOLVES = frozenset(
    EVENT_CODES[a]
    for a in (Action.COMPLETE, Action.CONFIRM, Action.CLOSE, Action.CANCEL, Action.REJECT)
)
# States in which an order still needs someone to act: escalation makes sense.
UNRESOLVED = frozenset(Status) - {
    Status.COMPLETED,
    Status.CLOSED,
    Status.CANCELLED,
    Status.REJECTED,
}
BATCH = 500


def _remind_every() -> timedelta:
    return timedelta(hours=settings.SUPERVISION_REMIND_HOURS)


# --- who hears of it -----------------------------------------------------------------------


def _holders(*roles: str) -> list[User]:
    return list(
        User.objects.filter(is_active=True, role_grants__role__in=roles).distinct().order_by("pk")
    )


def dispatchers() -> list[User]:
    return _holders(Role.DISPATCHER)


def team_leads_of(order: WorkOrder) -> list[User]:
    """The lead of the assignee's team; the dispatchers when nobody leads him (no assignee, no
    team, no lead, or the assignee is the lead himself); the admins when there are none."""
    assignee = order.assignee if order.assignee_id else None
    team = assignee.team if assignee is not None and assignee.team_id else None
    lead = team.lead if team is not None and team.lead_id else None
    if lead is not None and lead.is_active and lead.pk != assignee.pk:
        return [lead]
    return dispatchers() or _holders(Role.ADMIN)


def managers() -> list[User]:
    return _holders(Role.MANAGER) or _holders(Role.ADMIN)


def order_url(order: WorkOrder) -> str:
    """The technician's page of the order, where he reports the result (absolute: SMS)."""
    return settings.SITE_URL + reverse("workorders:order-detail", args=[order.number])


def _params(order: WorkOrder) -> dict[str, Any]:
    """What every supervision text may name (texts.py)."""
    place = str(order.place) if order.place_id else order.address
    return {
        "number": order.number,
        "category": str(order.category),
        "place": place,
        "status": str(Status(order.status).label),
        "technician": order.assignee.name if order.assignee_id else "—",
    }


def _local(value: str | datetime | None) -> str:
    moment = parse_datetime(value) if isinstance(value, str) else value
    if moment is None:
        return ""
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return timezone.localtime(moment).strftime("%m-%d %H:%M")


# --- events --------------------------------------------------------------------------------


def on_order_event(event) -> None:
    """React to one work-order event, inside the transaction that wrote it."""
    code = event.code
    if code in (EVENT_REMINDED, EVENT_SUPERVISED):
        return
    order = event.order
    now = event.created_at
    if code in STARTS:
        start_reminders(order, now=now)
    elif code == EVENT_CODES[Action.HOLD]:
        Reminder.objects.filter(order_id=order.pk).update(next_at=None)
    elif code == EVENT_CODES[Action.RESUME]:
        Reminder.objects.filter(order_id=order.pk, technician_id=order.assignee_id).update(
            next_at=now + _remind_every()
        )
    elif code in STOPS:
        Reminder.objects.filter(order_id=order.pk).update(next_at=None)
    if code in RESOLVES:
        Escalation.objects.unresolved().filter(order_id=order.pk).update(
            resolved_at=now, manager_due_at=None
        )
    if code == EVENT_URGED:
        _urged(order, event)
    elif code == EVENT_BREACHED:
        _breached(order, event)


# --- reminders (TM2) -----------------------------------------------------------------------


def start_reminders(order: WorkOrder, *, now: datetime) -> None:
    """Start the cadence for the order's technician: the first reminder one interval from now.

    One upsert (the order's row is replaced on a new dispatch): it sits on every dispatch's
    path, where update_or_create's savepoints and read cost three times as many statements."""
    if not order.assignee_id:
        return
    Reminder.objects.bulk_create(
        [
            Reminder(
                order_id=order.pk,
                technician_id=order.assignee_id,
                count=0,
                started_at=now,
                next_at=now + _remind_every(),
                last_sent_at=None,
            )
        ],
        update_conflicts=True,
        unique_fields=["order"],
        update_fields=["technician", "count", "started_at", "next_at", "last_sent_at"],
    )


def send_due_reminders(*, now: datetime | None = None) -> int:
    """Send every reminder that is due; returns how many were sent."""
    now = now or timezone.now()
    due = (
        Reminder.objects.filter(next_at__lte=now)
        .order_by("next_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    return sum(_remind(pk, now) for pk in list(due))


def _remind(pk: int, now: datetime) -> bool:
    with transaction.atomic():
        row = (
            Reminder.objects.select_related(
                "order__assignee", "order__category__parent", "order__place"
            )
            .filter(pk=pk, next_at__lte=now)
            .first()
        )
        if row is None:
            return False
        order = row.order
        if order.status not in REMINDED or order.assignee_id != row.technician_id:
            # Moved on without an event reaching us (data fixed by hand): stop quietly.
            Reminder.objects.filter(pk=pk, next_at=row.next_at).update(next_at=None)
            return False
        count = row.count + 1
        # Keep the cadence; after an outage send one reminder, not the ones missed.
        following = row.next_at + _remind_every()
        if following <= now:
            following = now + _remind_every()
        claimed = Reminder.objects.filter(pk=pk, count=row.count, next_at=row.next_at).update(
            count=count, next_at=following, last_sent_at=now
        )
        if claimed != 1:  # another worker sent this one
            return False
        asks = count >= ASK_RESULT_AT
        hours = int((now - row.started_at).total_seconds() // 3600)
        params = {**_params(order), "count": count, "hours": hours, "url": order_url(order)}
        template = texts.REMINDER_RESULT if asks else texts.REMINDER
        outbox.post([order.assignee], template, params, order=order)
        record_event(
            order,
            EVENT_REMINDED,
            data={
                "technician": order.assignee.username,
                "technician_name": order.assignee.name,
                "reminder": count,
                "asks_result": asks,
            },
        )
    return True


# --- urging (TM3) --------------------------------------------------------------------------


def _urged(order: WorkOrder, event) -> None:
    """Tell the technician (if any) and the dispatchers; repeated urging brings in the lead."""
    data = event.data or {}
    count = data.get("urge_count") or order.urge_count
    note = data.get("note", "")
    recipients = ([order.assignee] if order.assignee_id else []) + dispatchers()
    params = {**_params(order), "count": count, "note": note}
    outbox.post(recipients, texts.URGED_NOTE if note else texts.URGED, params, order=order)
    if count >= settings.SUPERVISION_ESCALATE_URGES:
        raise_first_level(order, Reason.URGES, now=event.created_at, count=count)


# --- escalation (TM4) ----------------------------------------------------------------------


def _breached(order: WorkOrder, event) -> None:
    if order.status not in UNRESOLVED:
        return
    data = event.data or {}
    raise_first_level(
        order,
        Reason.SLA_BREACH,
        now=event.created_at,
        clock=str(data.get("clock", "")),
        due=data.get("due_at"),
    )


def _names(people: Iterable[User]) -> list[str]:
    return [p.name for p in people]


def raise_first_level(
    order: WorkOrder,
    reason: str,
    *,
    now: datetime,
    clock: str = "",
    due: str | None = None,
    count: int = 0,
) -> Escalation | None:
    """Tell the team lead (urgent) and start the wait before the managers. At most one open
    level 1 per order: a second breach or urge while it is open adds nothing."""
    if Escalation.objects.unresolved().filter(order_id=order.pk, level=Level.TEAM_LEAD).exists():
        return None
    leads = team_leads_of(order)
    try:
        with transaction.atomic():  # a savepoint: losing the race keeps the caller's work
            escalation = Escalation.objects.create(
                order=order,
                level=Level.TEAM_LEAD,
                reason=reason,
                clock=clock,
                notified=[u.username for u in leads],
                raised_at=now,
                manager_due_at=now + timedelta(minutes=settings.SUPERVISION_MANAGER_AFTER_MINUTES),
            )
    except IntegrityError:
        return None
    params = {**_params(order), "count": count, "due": _local(due)}
    if reason == Reason.URGES:
        template = texts.URGES
    else:
        template = texts.BREACH.get(clock, texts.BREACH_OTHER)
    outbox.post(leads, template, params, order=order, urgent=True)
    data: dict[str, Any] = {"level": Level.TEAM_LEAD.value, "cause": reason}
    if clock:
        data["clock"] = clock
    if due:
        data["due_at"] = due
    if count:
        data["urge_count"] = count
    data["notified"] = _names(leads)
    record_event(order, EVENT_SUPERVISED, data=data)
    return escalation


def escalate_to_managers(*, now: datetime | None = None) -> int:
    """Raise level 2 for every level 1 still unresolved after its wait; returns how many."""
    now = now or timezone.now()
    due = (
        Escalation.objects.unresolved()
        .filter(manager_due_at__lte=now)
        .order_by("manager_due_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    return sum(_raise_second_level(pk, now) for pk in list(due))


def _raise_second_level(pk: int, now: datetime) -> bool:
    with transaction.atomic():
        first = (
            Escalation.objects.unresolved()
            .select_related("order__assignee", "order__category__parent", "order__place")
            .filter(pk=pk, manager_due_at__lte=now)
            .first()
        )
        if first is None:
            return False
        claimed = Escalation.objects.filter(pk=pk, manager_due_at=first.manager_due_at).update(
            manager_due_at=None
        )
        if claimed != 1:  # another worker took it
            return False
        order = first.order
        if order.status not in UNRESOLVED:
            # Done without the event reaching us: close the ladder instead of climbing it.
            Escalation.objects.unresolved().filter(order_id=order.pk).update(resolved_at=now)
            return False
        people = managers()
        try:
            with transaction.atomic():
                Escalation.objects.create(
                    order=order,
                    level=Level.MANAGER,
                    reason=Reason.UNRESOLVED,
                    clock=first.clock,
                    notified=[u.username for u in people],
                    raised_at=now,
                )
        except IntegrityError:
            return False
        minutes = int((now - first.raised_at).total_seconds() // 60)
        params = {**_params(order), "minutes": minutes}
        outbox.post(people, texts.MANAGER, params, order=order, urgent=True)
        record_event(
            order,
            EVENT_SUPERVISED,
            data={
                "level": Level.MANAGER.value,
                "cause": Reason.UNRESOLVED.value,
                "notified": _names(people),
            },
        )
    return True
