"""Working-time calendars behind SLA clocks: which minutes count towards a target.

A `Calendar` is either 24×7 (every minute counts) or working hours on working days. A day is
a working day by, in order of precedence: the organisation's closures (never working), the
admin's extra working days (always working), the `chinese-calendar` package (public holidays
and 调休 make-up working days), and Monday–Friday for years the package has no data for, so a
clock never stops working because a new year began before the package was updated.
`missing_years` names those years for the admin page, where the admin can enter the year's
holidays as closures and its 调休 days as extra working days.

Counted time is real elapsed time (computed in UTC) inside the calendar's working periods,
minus pauses (e.g. an order on hold for the customer). Intervals are half-open: a period
08:00–12:00 counts [08:00, 12:00), a pause (a, b) stops the clock over [a, b).

Deadline convention: `add_working_time` returns the *earliest* instant at which the counted
time reaches the duration. For a positive duration that instant always lies in (period start,
period end] of a counted stretch: it may be exactly a period's end (17:50 + 10 min = 18:00,
not 08:00 the next morning) but never a period's start, never inside lunch, a night, a
non-working day or a pause. A zero duration returns `start` itself.

Pure Python: no models and no settings; Django only for gettext in the admin warning text.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import chinese_calendar
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
ONE_DAY = dt.timedelta(days=1)
MIDNIGHT = dt.time(0, 0)

# A pause stops the clock from its start to its end; an end of None means "still paused".
Pause = tuple[dt.datetime, dt.datetime | None]
Status = Literal["green", "amber", "red"]
# A counted stretch in UTC; an end of None is unbounded (24×7 with no pause ahead).
_Span = tuple[dt.datetime, dt.datetime | None]


@dataclass(frozen=True)
class WorkingHours:
    """The periods of a working day in local wall time, e.g. 08:00–12:00 and 14:00–18:00.

    No periods (`()` or `None`) means the whole day counts. An end of 00:00 means midnight at
    the end of the day, so 08:00–00:00 is "from eight until the day ends". Periods must be in
    order and must not overlap, so that no minute is counted twice.
    """

    periods: tuple[tuple[dt.time, dt.time], ...] = ()

    def __post_init__(self) -> None:
        periods = tuple((start, end) for start, end in (self.periods or ()))
        object.__setattr__(self, "periods", periods)
        previous_end: dt.time | None = None
        for index, (start, end) in enumerate(periods):
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError("Working periods are local wall times without a time zone.")
            if previous_end is None and index > 0:
                raise ValueError("Only the last working period may end at midnight.")
            if end != MIDNIGHT and end <= start:
                raise ValueError(f"Working period {start}–{end} must end after it starts.")
            if previous_end is not None and start < previous_end:
                raise ValueError("Working periods must be in order and must not overlap.")
            previous_end = None if end == MIDNIGHT else end

    @property
    def per_day(self) -> dt.timedelta:
        """Counted time in one ordinary working day (24 h when there are no periods)."""
        if not self.periods:
            return ONE_DAY
        day = dt.date(2000, 1, 3)
        return sum(
            (
                dt.datetime.combine(day + ONE_DAY if end == MIDNIGHT else day, end)
                - dt.datetime.combine(day, start)
                for start, end in self.periods
            ),
            dt.timedelta(0),
        )


@dataclass(frozen=True)
class Calendar:
    """Which time counts: 24×7, or `hours` on working days (see the module docstring)."""

    round_the_clock: bool  # 24×7: every minute counts; everything below is ignored
    hours: WorkingHours = field(default_factory=WorkingHours)
    use_public_holidays: bool = True  # Chinese public holidays and 调休 from chinese-calendar
    closures: frozenset[dt.date] = frozenset()  # the organisation's own days off
    # Days declared working: one-off working days, and the 调休 days of a year the package lacks.
    extra_workdays: frozenset[dt.date] = frozenset()
    tz: zoneinfo.ZoneInfo = SHANGHAI
    # Years the package lacks whose holidays and 调休 the admin has entered by hand (as
    # closures and extra_workdays): `missing_years` stops warning about them.
    manual_years: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        # Accept any iterables (a list from a form, a queryset's values) but keep it hashable.
        object.__setattr__(self, "closures", frozenset(self.closures))
        object.__setattr__(self, "extra_workdays", frozenset(self.extra_workdays))
        object.__setattr__(self, "manual_years", frozenset(self.manual_years))
        if self.hours is None:
            object.__setattr__(self, "hours", WorkingHours())


# ---------------------------------------------------------------------------------------------
# Days


@lru_cache(maxsize=256)
def known_year(year: int) -> bool:
    """Whether chinese-calendar has holiday and 调休 data for `year`."""
    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
    except NotImplementedError:
        # Logged once per year and process: the admin page shows it via `missing_years`.
        logger.warning(
            "chinese-calendar has no data for %s: Monday to Friday count as working days", year
        )
        return False
    return True


@lru_cache(maxsize=16384)
def package_workday(day: dt.date) -> bool | None:
    """The package's verdict for `day`, or None when it has no data for the year.

    Cached: the package checks the supported range by scanning its whole table on every call.
    """
    if not known_year(day.year):
        return None
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # the package's range is by year; this is belt and braces
        return None


def is_working_day(cal: Calendar, day: dt.date) -> bool:
    """Whether `day` (a local date) has working time: closures > extra workdays > package >
    Monday–Friday. Every day is a working day on a 24×7 calendar."""
    if isinstance(day, dt.datetime):
        day = _aware(day, "day").astimezone(cal.tz).date()
    if cal.round_the_clock:
        return True
    if day in cal.closures:
        return False
    if day in cal.extra_workdays:
        return True
    if cal.use_public_holidays:
        verdict = package_workday(day)
        if verdict is not None:
            return verdict
    return day.weekday() < 5


def holiday_name(day: dt.date) -> str | None:
    """The package's name for a holiday or 调休 day ("National Day"), None for other days and
    years it lacks; for showing why a day is off or on in the calendar page."""
    if not known_year(day.year):
        return None
    try:
        return chinese_calendar.get_holiday_detail(day)[1]
    except NotImplementedError:
        return None


def missing_years(cal: Calendar, start: dt.date, end: dt.date) -> list[int]:
    """Years in [start, end] that fall back to Monday–Friday because the package lacks them
    and the admin has not entered them; empty when the calendar ignores public holidays."""
    if cal.round_the_clock or not cal.use_public_holidays:
        return []
    first, last = _year(cal, start), _year(cal, end)
    return [
        year
        for year in range(first, last + 1)
        if year not in cal.manual_years and not known_year(year)
    ]


def missing_years_warning(years: Sequence[int]) -> str:
    """The admin page's warning for `missing_years`; empty when nothing is missing."""
    if not years:
        return ""
    return _(
        "节假日数据缺少 %(years)s 年：这些年份暂按周一至周五计算工作日。"
        "请把当年的法定节假日添加为停工日、调休上班日添加为额外工作日，然后标记为已手工录入。"
    ) % {"years": "、".join(str(year) for year in years)}


# ---------------------------------------------------------------------------------------------
# Counted time


def add_working_time(
    cal: Calendar,
    start: dt.datetime,
    duration: dt.timedelta,
    pauses: Sequence[Pause] = (),
) -> dt.datetime | None:
    """The deadline: the earliest instant by which `duration` of counted time has passed since
    `start`, in `cal.tz`.

    Returns None when an open pause (end None) stops the clock before the duration is used up:
    an order on hold has no deadline until it is resumed, and a stored NULL deadline is what a
    periodic "find overdue orders" query should skip.
    """
    begin = _utc(start, "start")
    if duration < dt.timedelta(0):
        raise ValueError("A duration of working time cannot be negative.")
    if not duration:
        return begin.astimezone(cal.tz)
    left = duration
    for span_start, span_end in _counted(cal, begin, None, _merge(pauses)):
        if span_end is None or span_end - span_start >= left:
            return (span_start + left).astimezone(cal.tz)
        left -= span_end - span_start
    return None


def working_time_between(
    cal: Calendar,
    start: dt.datetime,
    end: dt.datetime,
    pauses: Sequence[Pause] = (),
) -> dt.timedelta:
    """Counted time in [start, end) minus pauses; zero when end is not after start."""
    begin, finish = _utc(start, "start"), _utc(end, "end")
    total = dt.timedelta(0)
    if finish <= begin:
        return total
    for span_start, span_end in _counted(cal, begin, finish, _merge(pauses)):
        assert span_end is not None  # bounded by `finish`
        total += span_end - span_start
    return total


def working_time_left(
    cal: Calendar,
    start: dt.datetime,
    target: dt.timedelta,
    now: dt.datetime,
    pauses: Sequence[Pause] = (),
) -> dt.timedelta:
    """Counted time left of `target` at `now`; negative once more than the target has been
    counted (how far past the deadline an order is, in counted time)."""
    return target - working_time_between(cal, start, now, pauses)


def status(
    cal: Calendar,
    start: dt.datetime,
    target: dt.timedelta,
    now: dt.datetime,
    pauses: Sequence[Pause] = (),
    *,
    amber_share: float = 0.25,
) -> Status:
    """The clock's colour at `now`: red once `now` is past the deadline, amber while less than
    `amber_share` of the target is left, green otherwise.

    Red is decided by the deadline, not by counted time: at 20:00 after an 18:00 deadline no
    more time has been counted, yet the order is late. A clock stopped by an open pause keeps
    the colour it had when the pause began.
    """
    if not 0 <= amber_share <= 1:
        raise ValueError("amber_share must be between 0 and 1.")
    deadline = add_working_time(cal, start, target, pauses)
    if deadline is not None and _utc(now, "now") > deadline:
        return "red"
    left = working_time_left(cal, start, target, now, pauses)
    return "amber" if left < target * amber_share else "green"


# ---------------------------------------------------------------------------------------------
# Internals: everything below works on aware UTC datetimes.


def _aware(value: dt.datetime, name: str) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {value!r}.")
    return value


def _utc(value: dt.datetime, name: str) -> dt.datetime:
    return _aware(value, name).astimezone(dt.UTC)


def _year(cal: Calendar, value: dt.date) -> int:
    if isinstance(value, dt.datetime):
        return _aware(value, "date").astimezone(cal.tz).year
    return value.year


def _merge(pauses: Iterable[Pause]) -> list[tuple[dt.datetime, dt.datetime | None]]:
    """Pauses in UTC, sorted, with overlapping and touching ones merged, so none counts twice."""
    spans: list[tuple[dt.datetime, dt.datetime | None]] = []
    for pause_start, pause_end in pauses:
        begin = _utc(pause_start, "pause start")
        finish = None if pause_end is None else _utc(pause_end, "pause end")
        if finish is not None and finish < begin:
            raise ValueError(f"A pause cannot end before it starts: {pause_start}–{pause_end}.")
        if finish != begin:
            spans.append((begin, finish))
    spans.sort(key=lambda span: span[0])
    merged: list[tuple[dt.datetime, dt.datetime | None]] = []
    for begin, finish in spans:
        if merged and (merged[-1][1] is None or begin <= merged[-1][1]):
            last_begin, last_finish = merged[-1]
            if last_finish is not None and (finish is None or finish > last_finish):
                merged[-1] = (last_begin, finish)
        else:
            merged.append((begin, finish))
    return merged


def _counted(
    cal: Calendar,
    start: dt.datetime,
    end: dt.datetime | None,
    pauses: list[tuple[dt.datetime, dt.datetime | None]],
) -> Iterator[_Span]:
    """Counted stretches from `start` to `end` (None: onwards), in order, with merged pauses
    cut out. Whole pauses are jumped over, so a month on hold costs nothing to skip."""
    position = start
    for pause_start, pause_end in pauses:
        if pause_end is not None and pause_end <= position:
            continue
        if end is not None and pause_start >= end:
            break
        if pause_start > position:
            yield from _working(
                cal, position, pause_start if end is None else min(pause_start, end)
            )
        if pause_end is None:
            return
        position = max(position, pause_end)
    if end is None or position < end:
        yield from _working(cal, position, end)


def _working(cal: Calendar, start: dt.datetime, end: dt.datetime | None) -> Iterator[_Span]:
    """The calendar's working stretches clipped to [start, end), one day at a time."""
    if cal.round_the_clock:
        if end is None or start < end:
            yield start, end
        return
    day = start.astimezone(cal.tz).date()
    last_day = None if end is None else end.astimezone(cal.tz).date()
    while last_day is None or day <= last_day:
        for span_start, span_end in _day_spans(cal, day):
            if span_end <= start:
                continue
            if end is not None and span_start >= end:
                return
            yield max(span_start, start), span_end if end is None else min(span_end, end)
        day += ONE_DAY


def _day_spans(cal: Calendar, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
    """A working day's periods as UTC stretches (no stretches on a day off)."""
    if not is_working_day(cal, day):
        return []
    next_day = day + ONE_DAY
    periods = cal.hours.periods or ((MIDNIGHT, MIDNIGHT),)
    spans = []
    for start, end in periods:
        begin = dt.datetime.combine(day, start, tzinfo=cal.tz).astimezone(dt.UTC)
        finish = dt.datetime.combine(
            next_day if end == MIDNIGHT else day, end, tzinfo=cal.tz
        ).astimezone(dt.UTC)
        if begin < finish:  # a period swallowed by a DST change counts nothing
            spans.append((begin, finish))
    return spans
