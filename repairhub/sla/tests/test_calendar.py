"""Working-time calendar: holidays, 调休, nights, lunch, pauses, missing years, and properties.

Every function takes its instants explicitly (`start`, `now`), so the clock is controlled by
the test itself: no sleeps and no patched time.
"""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo

import chinese_calendar
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from repairhub.sla import calendar as sla_calendar
from repairhub.sla.calendar import (
    SHANGHAI,
    Calendar,
    WorkingHours,
    add_working_time,
    holiday_name,
    is_working_day,
    known_year,
    missing_years,
    missing_years_warning,
    status,
    working_time_between,
    working_time_left,
)
from repairhub.sla.defaults import (
    DEFAULT_TARGETS,
    DEFAULT_WORKING_HOURS,
    ROUND_THE_CLOCK_CALENDAR,
    WORKING_DAY,
    WORKING_HOURS_CALENDAR,
    CalendarKind,
    default_calendar,
)

WORK = WORKING_HOURS_CALENDAR
H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)
US = dt.timedelta(microseconds=1)
# The first year chinese-calendar 1.11.0 has no data for (its table ends with 2026).
UNKNOWN_YEAR = 2027


def at(*args: int) -> dt.datetime:
    """A Shanghai wall time."""
    return dt.datetime(*args, tzinfo=SHANGHAI)


# --- the package facts the tests below rely on ------------------------------------------------


def test_package_knows_national_day_2025_and_its_make_up_days():
    assert all(chinese_calendar.is_holiday(dt.date(2025, 10, day)) for day in range(1, 9))
    assert dt.date(2025, 9, 28).weekday() == 6 and chinese_calendar.is_workday(dt.date(2025, 9, 28))
    assert dt.date(2025, 10, 11).weekday() == 5 and chinese_calendar.is_workday(
        dt.date(2025, 10, 11)
    )
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(dt.date(UNKNOWN_YEAR, 1, 4))


# --- holidays and 调休 ----------------------------------------------------------------------


def test_clock_skips_the_national_day_holiday():
    # Tuesday 30 September 17:00: one hour that day, then 1–8 October off, then Thursday the 9th.
    assert add_working_time(WORK, at(2025, 9, 30, 17), 2 * H) == at(2025, 10, 9, 9)
    assert working_time_between(WORK, at(2025, 9, 30, 17), at(2025, 10, 9, 9)) == 2 * H
    assert not is_working_day(WORK, dt.date(2025, 10, 1))


def test_make_up_saturday_counts_as_a_working_day():
    # 11 October 2025 is a Saturday worked in exchange for the National Day holiday.
    assert is_working_day(WORK, dt.date(2025, 10, 11))
    assert add_working_time(WORK, at(2025, 10, 10, 17, 30), H) == at(2025, 10, 11, 8, 30)


def test_make_up_sunday_counts_as_a_working_day():
    # 28 September 2025 (the brief's example) is a Sunday, also worked for National Day.
    assert add_working_time(WORK, at(2025, 9, 27, 10), H) == at(2025, 9, 28, 9)


def test_ordinary_weekend_does_not_count():
    # Friday 17 October 17:30 + 1 h: Saturday the 18th and Sunday the 19th are off.
    assert add_working_time(WORK, at(2025, 10, 17, 17, 30), H) == at(2025, 10, 20, 8, 30)


def test_holiday_name_explains_days_off_and_make_up_days():
    assert holiday_name(dt.date(2025, 10, 3)) == "National Day"
    assert holiday_name(dt.date(2025, 10, 11)) == "National Day"
    assert holiday_name(dt.date(2025, 10, 15)) is None
    assert holiday_name(dt.date(UNKNOWN_YEAR, 1, 1)) is None


# --- nights, lunch, period ends ----------------------------------------------------------------


def test_order_at_ten_to_six_is_due_next_working_morning():
    assert add_working_time(WORK, at(2025, 11, 4, 17, 50), 30 * M) == at(2025, 11, 5, 8, 20)


def test_order_on_friday_evening_is_due_monday_morning():
    assert add_working_time(WORK, at(2025, 11, 7, 17, 50), 30 * M) == at(2025, 11, 10, 8, 20)


def test_order_placed_at_night_starts_counting_at_eight():
    assert add_working_time(WORK, at(2025, 11, 5, 2, 0), 30 * M) == at(2025, 11, 5, 8, 30)
    assert working_time_between(WORK, at(2025, 11, 4, 19), at(2025, 11, 5, 8, 10)) == 10 * M


def test_lunch_break_is_skipped():
    assert add_working_time(WORK, at(2025, 11, 4, 11, 50), 20 * M) == at(2025, 11, 4, 14, 10)
    assert add_working_time(WORK, at(2025, 11, 4, 12, 30), 10 * M) == at(2025, 11, 4, 14, 10)
    assert working_time_between(WORK, at(2025, 11, 4, 11), at(2025, 11, 4, 15)) == 2 * H


def test_deadline_at_a_period_end_stays_on_that_day():
    assert add_working_time(WORK, at(2025, 11, 4, 17, 50), 10 * M) == at(2025, 11, 4, 18)
    assert add_working_time(WORK, at(2025, 11, 4, 11, 50), 10 * M) == at(2025, 11, 4, 12)


def test_zero_duration_is_due_at_once_even_at_night():
    assert add_working_time(WORK, at(2025, 11, 4, 23), dt.timedelta(0)) == at(2025, 11, 4, 23)


def test_full_day_hours_count_across_midnight_on_working_days_only():
    cal = Calendar(round_the_clock=False, hours=WorkingHours(()))
    # Thursday 23:00 → Friday 23:00 counts 24 h; then the weekend is skipped.
    assert add_working_time(cal, at(2025, 11, 6, 23), 24 * H) == at(2025, 11, 7, 23)
    assert add_working_time(cal, at(2025, 11, 6, 23), 26 * H) == at(2025, 11, 10, 1)


def test_period_ending_at_midnight_runs_to_the_end_of_the_day():
    cal = Calendar(round_the_clock=False, hours=WorkingHours(((dt.time(20), dt.time(0)),)))
    assert cal.hours.per_day == 4 * H
    assert add_working_time(cal, at(2025, 11, 4, 23, 30), H) == at(2025, 11, 5, 20, 30)
    assert working_time_between(cal, at(2025, 11, 4, 19), at(2025, 11, 5, 1)) == 4 * H


def test_long_duration_spans_national_day_by_whole_days():
    # 9/30: 7 h; 10/9, 10/10, 10/11 (调休), 10/13–10/17: 8 h each = 71 h; 10/20: 1 h.
    deadline = add_working_time(WORK, at(2025, 9, 30, 9), 72 * H)
    assert deadline == at(2025, 10, 20, 9)
    assert working_time_between(WORK, at(2025, 9, 30, 9), deadline) == 72 * H


def test_years_of_working_time_are_counted_without_trouble():
    start = at(2025, 1, 2, 9)
    deadline = add_working_time(WORK, start, 4000 * H)
    assert deadline is not None and deadline.year == 2027
    assert working_time_between(WORK, start, deadline) == 4000 * H


# --- time zones and bad input --------------------------------------------------------------


def test_any_aware_datetime_is_accepted_and_the_deadline_is_local():
    start_utc = dt.datetime(2025, 11, 4, 9, 50, tzinfo=dt.UTC)  # 17:50 in Shanghai
    deadline = add_working_time(WORK, start_utc, 30 * M)
    assert deadline == at(2025, 11, 5, 8, 20)
    assert deadline.tzinfo == SHANGHAI
    new_york = zoneinfo.ZoneInfo("America/New_York")
    assert working_time_between(WORK, start_utc.astimezone(new_york), at(2025, 11, 5, 8, 20)) == (
        30 * M
    )


def test_calendar_in_another_zone_counts_its_own_wall_time():
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    cal = Calendar(round_the_clock=False, hours=DEFAULT_WORKING_HOURS, tz=berlin)
    # Friday 24 October 2025 17:50 in Berlin; DST ends on Sunday the 26th; due Monday 08:20.
    start = dt.datetime(2025, 10, 24, 17, 50, tzinfo=berlin)
    assert add_working_time(cal, start, 30 * M) == dt.datetime(2025, 10, 27, 8, 20, tzinfo=berlin)


@pytest.mark.parametrize(
    "call",
    [
        lambda: add_working_time(WORK, dt.datetime(2025, 11, 4, 9), H),
        lambda: working_time_between(WORK, at(2025, 11, 4, 9), dt.datetime(2025, 11, 4, 10)),
        lambda: add_working_time(WORK, at(2025, 11, 4, 9), -H),
        lambda: add_working_time(
            WORK, at(2025, 11, 4, 9), H, [(at(2025, 11, 4, 10), at(2025, 11, 4, 9))]
        ),
        lambda: status(WORK, at(2025, 11, 4, 9), H, at(2025, 11, 4, 9), amber_share=1.5),
    ],
    ids=["naive start", "naive end", "negative duration", "pause backwards", "amber share"],
)
def test_bad_input_is_refused_with_value_error(call):
    with pytest.raises(ValueError):
        call()


@pytest.mark.parametrize(
    "periods",
    [
        ((dt.time(12), dt.time(8)),),
        ((dt.time(8), dt.time(12)), (dt.time(11), dt.time(18))),
        ((dt.time(14), dt.time(18)), (dt.time(8), dt.time(12))),
        ((dt.time(20), dt.time(0)), (dt.time(21), dt.time(22))),
    ],
    ids=["backwards", "overlapping", "out of order", "after midnight end"],
)
def test_working_hours_refuse_periods_that_would_count_twice(periods):
    with pytest.raises(ValueError):
        WorkingHours(periods)


def test_end_before_start_counts_nothing():
    assert working_time_between(WORK, at(2025, 11, 4, 10), at(2025, 11, 4, 9)) == dt.timedelta(0)


# --- pauses (on hold for the customer) -------------------------------------------------------


def test_hold_pause_subtracts_from_counted_time():
    pauses = [(at(2025, 11, 4, 9, 30), at(2025, 11, 4, 10, 30))]
    assert add_working_time(WORK, at(2025, 11, 4, 9), 2 * H, pauses) == at(2025, 11, 4, 12)
    assert working_time_between(WORK, at(2025, 11, 4, 9), at(2025, 11, 4, 12), pauses) == 2 * H


def test_overlapping_pauses_and_lunch_do_not_double_count():
    pauses = [
        (at(2025, 11, 4, 11), at(2025, 11, 4, 13)),
        (at(2025, 11, 4, 12), at(2025, 11, 4, 15)),
        (at(2025, 11, 4, 14), at(2025, 11, 4, 14, 30)),
    ]
    # 09:00–11:00 counts, 11:00–15:00 is paused (lunch inside it), 15:00–16:00 counts.
    assert working_time_between(WORK, at(2025, 11, 4, 9), at(2025, 11, 4, 16), pauses) == 3 * H
    assert add_working_time(WORK, at(2025, 11, 4, 9), 3 * H, pauses) == at(2025, 11, 4, 16)


def test_pause_over_a_night_changes_nothing():
    pauses = [(at(2025, 11, 4, 18), at(2025, 11, 5, 8))]
    assert add_working_time(WORK, at(2025, 11, 4, 17, 50), 30 * M, pauses) == at(2025, 11, 5, 8, 20)


def test_pause_begun_before_the_clock_started_delays_it():
    pauses = [(at(2025, 11, 4, 8), at(2025, 11, 4, 10))]
    assert add_working_time(WORK, at(2025, 11, 4, 9), H, pauses) == at(2025, 11, 4, 11)


def test_open_pause_leaves_no_deadline():
    pauses = [(at(2025, 11, 4, 10), None)]
    assert add_working_time(WORK, at(2025, 11, 4, 9), 2 * H, pauses) is None
    # The clock stopped at 10:00 whatever time it is now.
    assert working_time_between(WORK, at(2025, 11, 4, 9), at(2025, 11, 20, 9), pauses) == H


def test_open_pause_after_the_deadline_does_not_move_it():
    pauses = [(at(2025, 11, 4, 11), None)]
    assert add_working_time(WORK, at(2025, 11, 4, 9), H, pauses) == at(2025, 11, 4, 10)


def test_month_long_pause_is_jumped_over():
    pauses = [(at(2025, 11, 4, 10), at(2025, 12, 4, 10))]
    assert add_working_time(WORK, at(2025, 11, 4, 9), 2 * H, pauses) == at(2025, 12, 4, 11)


# --- years the package lacks, closures, extra working days -----------------------------------


def test_unknown_year_falls_back_to_weekdays_without_raising():
    assert known_year(2026) and not known_year(UNKNOWN_YEAR) and not known_year(2003)
    assert is_working_day(WORK, dt.date(2027, 1, 1))  # a Friday; the real holiday is unknown
    assert not is_working_day(WORK, dt.date(2027, 1, 2))  # Saturday
    # Thursday 31 December 2026 17:00 + 2 h runs into the unknown year.
    assert add_working_time(WORK, at(2026, 12, 31, 17), 2 * H) == at(2027, 1, 1, 9)


def test_missing_years_are_reported_until_the_admin_enters_them():
    assert missing_years(WORK, dt.date(2026, 6, 1), dt.date(2028, 1, 1)) == [2027, 2028]
    assert missing_years(WORK, dt.date(2025, 1, 1), dt.date(2026, 12, 31)) == []
    entered = Calendar(
        round_the_clock=False,
        hours=DEFAULT_WORKING_HOURS,
        closures=frozenset({dt.date(2027, 1, 1)}),
        manual_years=frozenset({2027}),
    )
    assert missing_years(entered, dt.date(2026, 6, 1), dt.date(2028, 1, 1)) == [2028]
    # A UTC instant late on 31 December is already 2027 in Shanghai.
    assert missing_years(
        WORK, at(2026, 12, 31, 12), dt.datetime(2026, 12, 31, 20, tzinfo=dt.UTC)
    ) == [2027]


def test_missing_years_are_not_reported_when_holidays_do_not_apply():
    no_holidays = Calendar(
        round_the_clock=False, hours=DEFAULT_WORKING_HOURS, use_public_holidays=False
    )
    assert missing_years(ROUND_THE_CLOCK_CALENDAR, dt.date(2027, 1, 1), dt.date(2028, 1, 1)) == []
    assert missing_years(no_holidays, dt.date(2027, 1, 1), dt.date(2028, 1, 1)) == []


def test_missing_years_warning_names_the_years():
    assert missing_years_warning([]) == ""
    text = missing_years_warning([2027, 2028])
    assert "2027、2028" in text and "周一至周五" in text


def test_admin_enters_a_missing_years_holiday_and_make_up_day():
    cal = Calendar(
        round_the_clock=False,
        hours=DEFAULT_WORKING_HOURS,
        closures=frozenset({dt.date(2027, 1, 1)}),
        extra_workdays=frozenset({dt.date(2027, 1, 2)}),
    )
    # 2027-01-01 closed, Saturday the 2nd worked instead.
    assert add_working_time(cal, at(2026, 12, 31, 17), 2 * H) == at(2027, 1, 2, 9)


def test_closure_overrides_the_package_and_extra_workday_overrides_a_weekend():
    cal = Calendar(
        round_the_clock=False,
        hours=DEFAULT_WORKING_HOURS,
        closures=frozenset({dt.date(2025, 11, 5), dt.date(2025, 10, 11)}),
        extra_workdays=frozenset({dt.date(2025, 11, 8), dt.date(2025, 10, 3)}),
    )
    assert not is_working_day(cal, dt.date(2025, 11, 5))  # an ordinary Wednesday, closed
    assert not is_working_day(cal, dt.date(2025, 10, 11))  # a 调休 Saturday, closed
    assert is_working_day(cal, dt.date(2025, 11, 8))  # an ordinary Saturday, worked
    assert is_working_day(cal, dt.date(2025, 10, 3))  # a public holiday, worked
    assert add_working_time(cal, at(2025, 11, 4, 17, 50), 30 * M) == at(2025, 11, 6, 8, 20)


def test_closure_beats_extra_workday_on_the_same_day():
    day = dt.date(2025, 11, 8)
    cal = Calendar(
        round_the_clock=False, closures=frozenset({day}), extra_workdays=frozenset({day})
    )
    assert not is_working_day(cal, day)


def test_without_public_holidays_weekdays_count():
    cal = Calendar(round_the_clock=False, hours=DEFAULT_WORKING_HOURS, use_public_holidays=False)
    assert is_working_day(cal, dt.date(2025, 10, 1))  # Wednesday, National Day ignored
    assert not is_working_day(cal, dt.date(2025, 10, 11))  # Saturday, 调休 ignored


def test_round_the_clock_ignores_nights_lunch_holidays_and_closures():
    cal = Calendar(
        round_the_clock=True,
        hours=DEFAULT_WORKING_HOURS,
        closures=frozenset({dt.date(2025, 10, 2)}),
    )
    assert add_working_time(cal, at(2025, 10, 1, 23, 50), 30 * M) == at(2025, 10, 2, 0, 20)
    assert working_time_between(cal, at(2025, 10, 1, 12), at(2025, 10, 3, 12)) == 48 * H
    assert is_working_day(cal, dt.date(2025, 10, 2))
    pauses = [(at(2025, 10, 1, 12), at(2025, 10, 1, 13))]
    assert add_working_time(cal, at(2025, 10, 1, 11), 2 * H, pauses) == at(2025, 10, 1, 14)


# --- colours ---------------------------------------------------------------------------------


def test_status_turns_amber_near_the_deadline_and_red_after_it():
    start = at(2025, 11, 4, 9)  # 09–12 and 14–18 are 7 h, the eighth is 08–09 the next day
    assert add_working_time(WORK, start, 8 * H) == at(2025, 11, 5, 9)
    assert status(WORK, start, 8 * H, at(2025, 11, 4, 16)) == "green"  # 5 h counted, 3 h left
    assert status(WORK, start, 8 * H, at(2025, 11, 4, 17)) == "green"  # a quarter left: not less
    assert status(WORK, start, 8 * H, at(2025, 11, 4, 17, 30)) == "amber"  # 1.5 h left
    assert status(WORK, start, 8 * H, at(2025, 11, 5, 9)) == "amber"  # exactly due
    assert status(WORK, start, 8 * H, at(2025, 11, 5, 9, 0, 1)) == "red"
    assert working_time_left(WORK, start, 8 * H, at(2025, 11, 5, 10)) == -H


def test_status_is_red_in_the_night_after_a_deadline():
    start = at(2025, 11, 4, 17)
    assert add_working_time(WORK, start, H) == at(2025, 11, 4, 18)
    assert working_time_left(WORK, start, H, at(2025, 11, 4, 21)) == dt.timedelta(0)
    assert status(WORK, start, H, at(2025, 11, 4, 21)) == "red"


def test_status_on_hold_keeps_its_colour_however_long_the_hold():
    start = at(2025, 11, 4, 9)
    pauses = [(at(2025, 11, 4, 10), None)]
    assert status(WORK, start, 4 * H, at(2025, 11, 30, 9), pauses) == "green"
    pauses = [(at(2025, 11, 4, 16, 30), None)]  # 5.5 h of 6 counted
    assert status(WORK, start, 6 * H, at(2025, 11, 30, 9), pauses) == "amber"


def test_status_after_the_hold_ends_counts_on():
    start = at(2025, 11, 4, 9)
    pauses = [(at(2025, 11, 4, 10), at(2025, 11, 6, 10))]
    assert add_working_time(WORK, start, 2 * H, pauses) == at(2025, 11, 6, 11)
    assert status(WORK, start, 2 * H, at(2025, 11, 6, 11, 1), pauses) == "red"


# --- defaults --------------------------------------------------------------------------------


def test_defaults_cover_every_urgency():
    from repairhub.workorders.models import Urgency

    assert set(DEFAULT_TARGETS) == set(Urgency.values)


def test_defaults_match_the_issue():
    high, normal = DEFAULT_TARGETS["high"], DEFAULT_TARGETS["normal"]
    assert high.calendar is CalendarKind.ROUND_THE_CLOCK
    assert (high.arrive, high.complete) == (30 * M, 24 * H)
    assert normal.calendar is CalendarKind.WORKING_HOURS
    assert WORKING_DAY == 8 * H and normal.complete == 3 * WORKING_DAY


def test_defaults_are_stricter_for_more_urgent_orders():
    order = ["critical", "high", "normal", "low"]
    for stricter, looser in itertools.pairwise(order):
        a, b = DEFAULT_TARGETS[stricter], DEFAULT_TARGETS[looser]
        if a.calendar == b.calendar:
            assert a.accept <= b.accept and a.arrive <= b.arrive and a.complete <= b.complete
    for targets in DEFAULT_TARGETS.values():
        assert targets.accept <= targets.arrive <= targets.complete


def test_default_calendars():
    assert default_calendar("24x7").round_the_clock
    cal = default_calendar(CalendarKind.WORKING_HOURS)
    assert not cal.round_the_clock and cal.use_public_holidays
    assert cal.hours.periods == ((dt.time(8), dt.time(12)), (dt.time(14), dt.time(18)))


# --- properties ------------------------------------------------------------------------------

# Windows around the interesting days: National Day 2025, Spring Festival 2026, the end of the
# package's data (2026 → 2027), and an ordinary autumn week.
ANCHORS = [at(2025, 9, 26), at(2026, 2, 10), at(2026, 12, 28), at(2025, 11, 3)]
ZONES = [SHANGHAI, dt.UTC, zoneinfo.ZoneInfo("America/New_York")]
QUARTERS = 24 * 4  # period boundaries on a quarter-hour grid


@st.composite
def working_hours(draw: st.DrawFn) -> WorkingHours:
    bounds = sorted(draw(st.sets(st.integers(0, QUARTERS), max_size=6)))
    if len(bounds) % 2:
        bounds = bounds[:-1]

    def clock(quarter: int) -> dt.time:
        return dt.time(0) if quarter == QUARTERS else dt.time(quarter // 4, quarter % 4 * 15)

    return WorkingHours(
        tuple((clock(a), clock(b)) for a, b in zip(bounds[::2], bounds[1::2], strict=True))
    )


@st.composite
def calendars(draw: st.DrawFn, anchor: dt.datetime) -> Calendar:
    days = st.integers(-3, 20).map(lambda n: anchor.date() + dt.timedelta(days=n))
    return Calendar(
        round_the_clock=draw(st.sampled_from([False, False, False, True])),
        hours=draw(working_hours()),
        use_public_holidays=draw(st.booleans()),
        closures=frozenset(draw(st.sets(days, max_size=4))),
        extra_workdays=frozenset(draw(st.sets(days, max_size=4))),
    )


@st.composite
def scenarios(draw: st.DrawFn, *, whole_minutes: bool = False):
    """(calendar, start, pauses): instants are whole minutes after an anchor (so that they often
    meet period boundaries exactly), in half of the scenarios plus a few microseconds."""
    anchor = draw(st.sampled_from(ANCHORS))
    fine = not whole_minutes and draw(st.booleans())
    cal = draw(calendars(anchor))

    def instant(low: int, high: int) -> dt.datetime:
        minute = draw(st.integers(low, high))
        extra = draw(st.integers(0, 59_999_999)) if fine else 0
        value = anchor + minute * M + extra * US
        return value.astimezone(draw(st.sampled_from(ZONES)))

    start = instant(0, 5 * 24 * 60)
    pauses = []
    for _ in range(draw(st.integers(0, 3))):
        pause_start = instant(-24 * 60, 8 * 24 * 60)
        length = draw(st.none() | st.integers(0, 3 * 24 * 60))
        pauses.append((pause_start, None if length is None else pause_start + length * M))
    return cal, start, pauses


durations = st.integers(0, 120 * 60).map(lambda n: n * M) | st.integers(0, 120 * 3600 * 10**6).map(
    lambda n: n * US
)
PROPERTY = settings(max_examples=100, deadline=None)


@PROPERTY
@given(scenarios(), durations)
def test_property_counting_up_to_the_deadline_gives_the_duration_back(scenario, duration):
    cal, start, pauses = scenario
    deadline = add_working_time(cal, start, duration, pauses)
    if deadline is None:
        open_start = min(begin for begin, end in pauses if end is None)
        assert working_time_between(cal, start, open_start, pauses) < duration
    else:
        assert working_time_between(cal, start, deadline, pauses) == duration


@PROPERTY
@given(scenarios(), durations)
def test_property_deadline_is_the_end_of_counted_time_never_a_gap(scenario, duration):
    """The microsecond before a deadline is counted: the deadline lies inside a working period
    or exactly at its end, never in lunch, a night, a day off or a pause, nor at a period's
    start (it would then have been the previous period's end)."""
    cal, start, pauses = scenario
    assume(duration > dt.timedelta(0))
    deadline = add_working_time(cal, start, duration, pauses)
    assume(deadline is not None)
    assert deadline > start
    assert working_time_between(cal, deadline - US, deadline, pauses) == US


@PROPERTY
@given(scenarios(), st.integers(0, 6 * 24 * 60))
def test_property_the_time_counted_until_an_instant_is_due_by_then(scenario, length):
    """Counting what has been counted until `end` lands on `end` or, when `end` is in a gap
    (a night, lunch, a pause), exactly on the end of the last counted stretch before it."""
    cal, start, pauses = scenario
    end = start + length * M
    counted = working_time_between(cal, start, end, pauses)
    deadline = add_working_time(cal, start, counted, pauses)
    assert deadline is not None and deadline <= end
    assert working_time_between(cal, deadline, end, pauses) == dt.timedelta(0)
    if counted:
        assert working_time_between(cal, deadline - US, deadline, pauses) == US


@PROPERTY
@given(scenarios(), durations, durations)
def test_property_a_longer_duration_never_has_an_earlier_deadline(scenario, one, two):
    cal, start, pauses = scenario
    shorter, longer = sorted((one, two))
    first = add_working_time(cal, start, shorter, pauses)
    second = add_working_time(cal, start, longer, pauses)
    if second is not None:
        assert first is not None and first <= second


@PROPERTY
@given(scenarios(), st.integers(0, 6 * 24 * 60), st.integers(0, 6 * 24 * 60))
def test_property_counted_time_adds_up_over_consecutive_ranges(scenario, first, second):
    cal, start, pauses = scenario
    middle = start + first * M
    end = middle + second * M
    assert working_time_between(cal, start, end, pauses) == working_time_between(
        cal, start, middle, pauses
    ) + working_time_between(cal, middle, end, pauses)


def _count_minutes(cal: Calendar, start: dt.datetime, end: dt.datetime, pauses) -> dt.timedelta:
    """A slow oracle: look at each minute's wall time on its own."""
    count = 0
    minute = start
    while minute < end:
        local = minute.astimezone(cal.tz)
        day, clock = local.date(), local.time()
        working = cal.round_the_clock or (
            is_working_day(cal, day)
            and (
                not cal.hours.periods
                or any(
                    begin <= clock and (finish == dt.time(0) or clock < finish)
                    for begin, finish in cal.hours.periods
                )
            )
        )
        paused = any(ps <= minute and (pe is None or minute < pe) for ps, pe in pauses)
        count += working and not paused
        minute += M
    return count * M


@settings(max_examples=60, deadline=None)
@given(scenarios(whole_minutes=True), st.integers(0, 3 * 24 * 60))
def test_property_counted_time_matches_a_minute_by_minute_count(scenario, length):
    cal, start, pauses = scenario
    end = start + length * M
    assert working_time_between(cal, start, end, pauses) == _count_minutes(cal, start, end, pauses)


@PROPERTY
@given(scenarios(), durations)
def test_property_the_zone_of_the_start_does_not_matter(scenario, duration):
    cal, start, pauses = scenario
    results = {add_working_time(cal, start.astimezone(zone), duration, pauses) for zone in ZONES}
    assert len(results) == 1


def test_package_lookups_are_cached():
    """The package scans its whole table on each call; the per-day loop must not pay that."""
    sla_calendar.package_workday.cache_clear()
    add_working_time(WORK, at(2025, 9, 30, 9), 72 * H)
    add_working_time(WORK, at(2025, 9, 30, 9), 72 * H)
    info = sla_calendar.package_workday.cache_info()
    assert info.hits >= info.misses > 0
