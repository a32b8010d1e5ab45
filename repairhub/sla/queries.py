"""Reads for pages: the deadline chips of listed orders and the supervision board (TM1, TM4).

Colours come from the stored instants (`due_at`, `at_risk_at`), so a list of fifty orders costs
one query for all their clocks and no calendar arithmetic beyond the remaining time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from repairhub.workorders.access import visible_orders
from repairhub.workorders.models import Urgency, WorkOrder
from repairhub.workorders.states import OPEN

from . import calendar as worktime
from .models import ClockKind, OrderClock, Outcome
from .services import policy_book

KIND_ORDER = {kind: index for index, kind in enumerate(ClockKind.values)}
URGENCY_RANK = {Urgency.CRITICAL: 0, Urgency.HIGH: 1, Urgency.NORMAL: 2, Urgency.LOW: 3}
STATE_RANK = {"red": 0, "amber": 1, "paused": 2, "green": 3}


def human_duration(span: dt.timedelta) -> str:
    """A span in Chinese: "2小时15分", "3天4小时", "40分"; under a minute "不到1分钟"."""
    minutes = int(span.total_seconds() // 60)
    if minutes < 1:
        return _("不到1分钟")
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        if hours:
            return _("%(days)d天%(hours)d小时") % {"days": days, "hours": hours}
        return _("%(days)d天") % {"days": days}
    if hours:
        if minutes:
            return _("%(hours)d小时%(minutes)d分") % {"hours": hours, "minutes": minutes}
        return _("%(hours)d小时") % {"hours": hours}
    return _("%(minutes)d分") % {"minutes": minutes}


@dataclass(frozen=True)
class Chip:
    """What one clock says now: its colour, a short text and when it is due."""

    kind: str
    label: str
    state: str  # green · amber · red · paused (running); met · late · ended (stopped)
    text: str
    due_at: dt.datetime | None
    overdue: dt.timedelta | None = None
    left: dt.timedelta | None = None

    @property
    def title(self) -> str:
        if self.due_at is None:
            return _("%(label)s时限：挂起中，暂不计时") % {"label": self.label}
        return _("%(label)s截止 %(time)s") % {
            "label": self.label,
            "time": timezone.localtime(self.due_at).strftime("%Y-%m-%d %H:%M"),
        }


def chip(clock: OrderClock, now: dt.datetime) -> Chip:
    label = str(ClockKind(clock.kind).label)
    if clock.stopped_at is not None:
        texts = {
            Outcome.MET: _("按时"),
            Outcome.LATE: _("超时完成"),
            Outcome.ENDED: _("已结束"),
        }
        state = clock.outcome or Outcome.MET
        return Chip(clock.kind, label, state, texts.get(state, ""), clock.due_at)
    cal = policy_book().calendar(clock.calendar_id)
    if clock.due_at is not None and (clock.breached_at is not None or clock.due_at < now):
        # Overdue time is wall-clock time past the deadline, frozen while the clock is paused.
        until = clock.paused_at or now
        overdue = max(until - clock.due_at, dt.timedelta(0))
        if clock.paused_at is not None:
            text = _("已超时 %(time)s（挂起中）") % {"time": human_duration(overdue)}
        else:
            text = _("已超时 %(time)s") % {"time": human_duration(overdue)}
        return Chip(clock.kind, label, "red", text, clock.due_at, overdue=overdue)
    if clock.paused_at is not None or clock.due_at is None:
        counted = worktime.working_time_between(
            cal, clock.started_at, clock.paused_at or now, clock.closed_pauses()
        )
        left = max(clock.target - counted, dt.timedelta(0))
        text = _("已暂停，剩余 %(time)s") % {"time": human_duration(left)}
        return Chip(clock.kind, label, "paused", text, None, left=left)
    # Counted time left: on a working-hours calendar nights and holidays do not count.
    left = worktime.working_time_between(cal, now, clock.due_at)
    state = "amber" if clock.at_risk_at is not None and clock.at_risk_at <= now else "green"
    text = _("剩余 %(time)s") % {"time": human_duration(left)}
    return Chip(clock.kind, label, state, text, clock.due_at, left=left)


def current_clocks(clocks: Iterable[OrderClock]) -> list[OrderClock]:
    """The latest round of each kind, in the order accept, arrive, complete."""
    latest: dict[str, OrderClock] = {}
    for clock in clocks:
        if clock.kind not in latest or clock.cycle > latest[clock.kind].cycle:
            latest[clock.kind] = clock
    return sorted(latest.values(), key=lambda c: KIND_ORDER.get(c.kind, 9))


def _order_of(item) -> WorkOrder | None:
    if isinstance(item, WorkOrder):
        return item
    order = getattr(item, "order", None)
    if isinstance(order, WorkOrder):
        return order
    change = getattr(item, "change", None)
    order = getattr(change, "order", None)
    return order if isinstance(order, WorkOrder) else None


def load_clocks(items: Iterable) -> None:
    """Fetch the clocks of many listed orders in one query and keep them on each order.

    `items` may be orders or rows holding one (`row.order`, `row.change.order`). Orders a view
    prefetched with `prefetch_related("sla_clocks")` are left as they are.
    """
    orders = [o for o in map(_order_of, items or ()) if o is not None]
    wanted = [
        o
        for o in orders
        if not hasattr(o, "_sla_clocks")
        and "sla_clocks" not in getattr(o, "_prefetched_objects_cache", {})
    ]
    if not wanted:
        return
    by_order: dict[int, list[OrderClock]] = {o.pk: [] for o in wanted}
    for clock in OrderClock.objects.filter(order_id__in=list(by_order)):
        by_order[clock.order_id].append(clock)
    for order in wanted:
        order._sla_clocks = by_order[order.pk]


def clocks_of(order: WorkOrder) -> list[OrderClock]:
    if hasattr(order, "_sla_clocks"):
        return order._sla_clocks
    if "sla_clocks" in getattr(order, "_prefetched_objects_cache", {}):
        return list(order.sla_clocks.all())
    order._sla_clocks = list(OrderClock.objects.filter(order_id=order.pk))
    return order._sla_clocks


def chips_for(order: WorkOrder, now: dt.datetime | None = None) -> list[Chip]:
    """Chips of an open order's running clocks (none for a finished order)."""
    if order.status not in OPEN:
        return []
    now = now or timezone.now()
    return [chip(c, now) for c in current_clocks(clocks_of(order)) if c.stopped_at is None]


def deadlines_for(order: WorkOrder, now: dt.datetime | None = None) -> list[Chip]:
    """Every current clock of an order, running or stopped (the order page)."""
    now = now or timezone.now()
    return [chip(c, now) for c in current_clocks(clocks_of(order))]


# --- the supervision board -----------------------------------------------------------------


@dataclass
class BoardRow:
    order: WorkOrder
    chips: list[Chip] = field(default_factory=list)

    @property
    def state(self) -> str:
        return min((c.state for c in self.chips), key=lambda s: STATE_RANK.get(s, 9))

    @property
    def due_at(self) -> dt.datetime:
        dues = [c.due_at for c in self.chips if c.due_at is not None]
        return min(dues) if dues else dt.datetime.max.replace(tzinfo=dt.UTC)

    @property
    def urge_count(self) -> int:
        return getattr(self.order, "urge_count", 0) or 0

    def sort_key(self):
        # What needs action first: overdue before at risk; the more urgent order first;
        # then the earliest deadline (the longest overdue, or the nearest).
        return (
            STATE_RANK.get(self.state, 9),
            URGENCY_RANK.get(self.order.urgency, 9),
            -self.urge_count,
            self.due_at,
        )


@dataclass
class Board:
    rows: list[BoardRow]
    overdue: int
    at_risk: int
    overdue_by_kind: list[tuple[str, int]]  # (clock label, overdue orders)
    now: dt.datetime
    truncated: int = 0


BOARD_LIMIT = 300


def board(user, *, team=None, category=None, now: dt.datetime | None = None) -> Board:
    """Open orders this user may see with an overdue or at-risk clock, most pressing first.

    A paused clock is shown only when it was already overdue when the hold began.
    """
    now = now or timezone.now()
    orders = visible_orders(user).filter(status__in=OPEN)
    if team is not None:
        orders = orders.filter(assignee__team=team)
    if category is not None:
        orders = orders.filter(Q(category=category) | Q(category__parent=category))
    pressing = (
        OrderClock.objects.running()
        .filter(order__in=orders)
        .filter(
            Q(breached_at__isnull=False)
            | Q(due_at__lt=now)
            | Q(at_risk_at__lte=now, paused_at__isnull=True)
        )
        .select_related(
            "order",
            "order__category",
            "order__category__parent",
            "order__place",
            "order__assignee",
            "order__assignee__team",
        )
    )
    rows: dict[int, BoardRow] = {}
    for clock in pressing:
        c = chip(clock, now)
        if c.state not in ("red", "amber"):
            continue
        rows.setdefault(clock.order_id, BoardRow(clock.order)).chips.append(c)
    ordered = sorted(rows.values(), key=BoardRow.sort_key)
    for row in ordered:
        row.chips.sort(key=lambda c: KIND_ORDER.get(c.kind, 9))
    overdue_by_kind = {kind: 0 for kind in ClockKind.values}
    for row in ordered:
        for c in row.chips:
            if c.state == "red":
                overdue_by_kind[c.kind] += 1
    overdue = sum(1 for r in ordered if r.state == "red")
    by_kind = [(str(ClockKind(kind).label), n) for kind, n in overdue_by_kind.items()]
    return Board(
        rows=ordered[:BOARD_LIMIT],
        overdue=overdue,
        at_risk=len(ordered) - overdue,
        overdue_by_kind=by_kind,
        now=now,
        truncated=max(len(ordered) - BOARD_LIMIT, 0),
    )
