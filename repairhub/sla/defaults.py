"""Default SLA targets and calendars, the values a new installation starts with.

Data only: the SLA policies copy these when an admin has set nothing for a category, and the
admin may change every figure. Keys are the `Urgency` codes of `repairhub.workorders.models`
(kept as plain strings so this module stays free of models; a test checks they match).

The issue asks for "urgent orders completed within 24 h, normal within 72 h, arrival within
30 minutes for urgent ones". 紧急 (high) is "urgent"; 特急 (critical) must be at least as
strict. Urgent work runs on the 24×7 clock because a burst pipe does not wait for Monday;
routine work runs on working hours, where "within 72 h" means three working days.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from types import MappingProxyType

from .calendar import Calendar, WorkingHours

MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)


class CalendarKind(enum.StrEnum):
    """Which clock a target runs on."""

    ROUND_THE_CLOCK = "24x7"  # every minute counts
    WORKING_HOURS = "working_hours"  # working periods on working days, holidays and 调休 applied


# 08:00–12:00 and 14:00–18:00: the usual working day of Chinese offices, campuses and
# property-management companies, with a two-hour lunch break.
DEFAULT_WORKING_HOURS = WorkingHours(((dt.time(8), dt.time(12)), (dt.time(14), dt.time(18))))
# Counted time in one default working day (8 h): targets in working days are multiples of it.
WORKING_DAY = DEFAULT_WORKING_HOURS.per_day

WORKING_HOURS_CALENDAR = Calendar(round_the_clock=False, hours=DEFAULT_WORKING_HOURS)
ROUND_THE_CLOCK_CALENDAR = Calendar(round_the_clock=True)

# The "clocks pause while an order is on hold for the customer (configurable)": on by
# default, because waiting for the customer to open a door is not the repair team's delay.
PAUSE_ON_HOLD = True
# Amber when less than this share of a target is left (see `calendar.status`).
AMBER_SHARE = 0.25


@dataclass(frozen=True)
class Targets:
    """The three targets of one urgency, counted on `calendar`: accept and complete from the
    order's submission, arrive from its dispatch (docs/sla.md). The migration
    sla/0002_default_policies seeds them as policies the admin may change."""

    calendar: CalendarKind
    accept: dt.timedelta  # until the order is accepted (受理)
    arrive: dt.timedelta  # until a technician is on site (到场)
    complete: dt.timedelta  # until the repair is done (完成)


DEFAULT_TARGETS: MappingProxyType[str, Targets] = MappingProxyType(
    {
        # 特急: danger or a stopped service (gas smell, no power, people stuck in a lift). Twice
        # as fast as 紧急 on site; 8 h to complete is one shift, enough to fetch a part.
        "critical": Targets(
            calendar=CalendarKind.ROUND_THE_CLOCK,
            accept=5 * MINUTE,
            arrive=15 * MINUTE,
            complete=8 * HOUR,
        ),
        # 紧急: the figures, arrival within 30 minutes and completion within 24 h; the
        # desk accepts within 10 minutes so that the technician can still make the 30.
        "high": Targets(
            calendar=CalendarKind.ROUND_THE_CLOCK,
            accept=10 * MINUTE,
            arrive=30 * MINUTE,
            complete=24 * HOUR,
        ),
        # 普通: the "within 72 h", i.e. three days. On working hours three days are
        # 3 × 8 h of counted time; 72 counted hours would be nine working days. Accepted within
        # half an hour of working time, visited within half a working day.
        "normal": Targets(
            calendar=CalendarKind.WORKING_HOURS,
            accept=30 * MINUTE,
            arrive=WORKING_DAY / 2,
            complete=3 * WORKING_DAY,
        ),
        # 一般: minor work that can be planned (a loose handle, a repaint): accepted within two
        # working hours, visited within two working days, done within a working week.
        "low": Targets(
            calendar=CalendarKind.WORKING_HOURS,
            accept=2 * HOUR,
            arrive=2 * WORKING_DAY,
            complete=5 * WORKING_DAY,
        ),
    }
)


def default_calendar(kind: CalendarKind | str) -> Calendar:
    """The default calendar for a kind of clock."""
    if CalendarKind(kind) is CalendarKind.ROUND_THE_CLOCK:
        return ROUND_THE_CLOCK_CALENDAR
    return WORKING_HOURS_CALENDAR
