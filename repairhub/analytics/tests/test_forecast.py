"""The volume forecast on a generated history with a known pattern: it finds the weekday and
yearly shape, its interval covers about its nominal share of held-out weeks, and it refuses or
degrades in words when the history is short.

The history is generated as daily counts (a negative binomial around a known mean: weekday ×
campus year × holidays) and bulk-inserted as orders at random local times of each day; a
forecast is then made "on" a chosen day by moving the clock there, so it only sees the orders
reported before it.
"""

from __future__ import annotations

import math
import random
from datetime import date, datetime, time, timedelta

import chinese_calendar
import numpy as np
import pytest
import time_machine
from django.db import transaction
from django.test import Client

from repairhub.accounts.services import issue_token
from repairhub.analytics import forecast as forecasting
from repairhub.analytics.periods import Filters
from repairhub.api.tests.conftest import Api
from repairhub.testing.personas import make_category, make_room, make_world
from repairhub.workorders.models import Category, Channel, WorkOrder

from .history import TZ

FIRST = date(2023, 3, 6)  # a Monday
LAST = date(2026, 6, 14)  # a Sunday: the last day of the history
# Mean orders a day at an ordinary Monday-level day, per category code.
BASE = {"lamp": 4.0, "pipe": 2.5, "aircon": 1.5}
WEEKDAY = [1.3, 1.2, 1.1, 1.0, 0.9, 0.55, 0.45]
HOLIDAY = 0.4
PHI = 1.3  # the generated counts' dispersion: variance = 1.3 × mean


def _plateau(doy: int, centre: int, half_width: int, factor: float) -> float:
    """log(factor) over centre ± half_width days of the year, with soft edges (a few days)."""
    return math.log(factor) / (1 + math.exp((abs(doy - centre) - half_width) / 2.7))


def season(d: date) -> float:
    """The campus year: winter break, spring term start, summer break, autumn term start."""
    doy = d.timetuple().tm_yday
    return math.exp(
        _plateau(doy, 30, 18, 0.5)  # winter break, mid-January to late February
        + _plateau(doy, 62, 8, 1.3)  # spring term starts
        + _plateau(doy, 205, 25, 0.45)  # summer break, July and August
        + _plateau(doy, 255, 12, 1.5)  # autumn term starts
    )


def day_factor(d: date) -> float:
    """Weekday × season × holiday: a make-up working day counts like a Friday. Years the
    holiday package does not know are ordinary."""
    try:
        off, name = chinese_calendar.get_holiday_detail(d)
    except NotImplementedError:
        off, name = d.weekday() >= 5, None
    if off and name:
        factor = WEEKDAY[d.weekday()] * HOLIDAY
    elif not off and d.weekday() >= 5:
        factor = WEEKDAY[4]
    else:
        factor = WEEKDAY[d.weekday()]
    return factor * season(d)


def true_mean(code: str, d: date) -> float:
    return BASE[code] * day_factor(d)


def generate_counts(seed: int = 11, *, first: date = FIRST, last: date = LAST):
    """{category code: {day: count}} from `first` to `last`; the late categories begin 5 and
    26 weeks before `last`."""
    rng = np.random.default_rng(seed)
    out: dict[str, dict[date, int]] = {}
    spans = {code: (first, base) for code, base in BASE.items()}
    spans["network"] = (last - timedelta(weeks=5) + timedelta(days=1), 3.0)
    spans["door"] = (last - timedelta(weeks=26) + timedelta(days=1), 3.0)
    for code, (start, base) in spans.items():
        days = [start + timedelta(days=i) for i in range((last - start).days + 1)]
        mu = np.array([base * day_factor(d) for d in days])
        counts = rng.poisson(rng.gamma(mu / (PHI - 1), PHI - 1))
        out[code] = dict(zip(days, (int(n) for n in counts), strict=True))
    return out


def insert_orders(counts: dict[str, dict[date, int]], cats: dict[str, Category], room) -> int:
    """One order per count, reported at a random local time of its day (bulk insert: the
    forecast reads only the category and the report time)."""
    rng = random.Random(5)
    rows = []
    for code, by_day in counts.items():
        for d, n in by_day.items():
            for _ in range(n):
                at = datetime.combine(d, time(0, 5), tzinfo=TZ) + timedelta(
                    minutes=rng.randint(0, 23 * 60 + 45)
                )
                i = len(rows)
                rows.append(
                    WorkOrder(
                        number=f"FC-{i:06d}",
                        category=cats[code],
                        place=room,
                        description="故障",
                        channel=Channel.WEB,
                        reporter_name="张三",
                        reporter_phone="13800001111",
                        reporter_phone_index="fc",
                        tracking_token=f"fc-{i}",
                        received_at=at,
                        created_at=at,
                        updated_at=at,
                    )
                )
    WorkOrder.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


@pytest.fixture(scope="module")
def generated(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        world = make_world()
        water = Category.objects.create(code="water", name="给排水")
        cats = {
            "lamp": world.category,  # 水电 → 灯具
            "pipe": make_category("pipe", parent=water, name="水管"),
            "aircon": Category.objects.create(code="aircon", name="空调"),
            "network": Category.objects.create(code="network", name="网络"),
            "door": Category.objects.create(code="door", name="门窗"),
        }
        counts = generate_counts()
        insert_orders(counts, cats, make_room("E03-301"))
        yield world, counts
        transaction.set_rollback(True)


def week_total(counts: dict[date, int], monday: date) -> int:
    return sum(counts.get(monday + timedelta(days=i), 0) for i in range(7))


def on(day: date, hour: int = 10):
    return time_machine.travel(datetime.combine(day, time(hour), tzinfo=TZ), tick=False)


def api(user) -> Api:
    return Api(Client(), issue_token(user, name="test"))


def series_of(result: dict) -> dict[str, dict]:
    return {s["code"] or s["key"]: s for s in result["series"]}


# --- the pattern -------------------------------------------------------------------------------


def test_forecast_finds_the_weekday_holiday_and_yearly_pattern(db, generated):
    world, _counts = generated
    with on(LAST + timedelta(days=1)):
        r = api(world.manager).get("/analytics/forecast", {"weeks": 8})

    assert r.status_code == 200, r.content
    total = series_of(r.json())["total"]
    assert total["status"] == "ok" and total["message"] == ""
    effects = total["effects"]
    truth = np.array(WEEKDAY) / np.mean(WEEKDAY)
    assert np.allclose(effects["weekday"], truth, rtol=0.08), (effects["weekday"], truth)
    assert effects["holiday"] == pytest.approx(HOLIDAY, abs=0.1)
    # The months: the campus year's shape, each month within 15 % of the truth.
    year = [date(2025, 1, 1) + timedelta(days=i) for i in range(365)]
    by_month = np.array([np.mean([season(d) for d in year if d.month == m]) for m in range(1, 13)])
    truth_months = by_month / by_month.mean()
    assert np.allclose(effects["months"], truth_months, rtol=0.15), (
        effects["months"],
        truth_months,
    )
    months = effects["months"]
    assert months[6] < 0.65 and months[8] > 1.3  # July (summer) low, September (term) high
    assert abs(effects["trend_per_year"]) < 0.1  # the generated level does not change


def test_weekly_forecasts_follow_the_true_means_into_the_summer_break(db, generated):
    """Made at the end of June: the weeks of July fall as summer begins, as in the truth."""
    _world, _counts = generated
    today = date(2025, 6, 23)  # a Monday
    with on(today):
        result = forecasting.forecast(Filters(), weeks=8)

    total = series_of(result)["total"]
    expected = [w["expected"] for w in total["forecast"]]
    truth = [
        sum(sum(true_mean(c, today + timedelta(days=7 * w + i)) for c in BASE) for i in range(7))
        for w in range(8)
    ]
    errors = [abs(e - t) / t for e, t in zip(expected, truth, strict=True)]
    # A Fourier series rounds the sharp edges of the breaks: a quarter off inside the summer
    # trough at worst (docs/forecast.md, "Limits"), close on average.
    assert sum(errors) / len(errors) < 0.15, list(zip(expected, truth, strict=True))
    assert max(errors) < 0.3
    assert expected[4] < 0.6 * expected[0]  # late July against late June


def test_interval_covers_about_its_share_of_held_out_weeks(db, generated):
    """Back-test: forecasts made on six Mondays of the last year, eight weeks each, for the
    total and every category with a year of history; the actual weekly counts fall inside the
    80 % interval about 80 % of the time (each a real, held-out week)."""
    _world, counts = generated
    by_code = {**counts, "total": {}}
    for code in BASE:
        for d, n in counts[code].items():
            by_code["total"][d] = by_code["total"].get(d, 0) + n
    inside = checked = 0
    widths, misses = [], []
    for k in range(6):
        today = LAST + timedelta(days=1) - timedelta(weeks=8 * (k + 1))
        with on(today):
            result = forecasting.forecast(Filters(), weeks=8, level=80)
        for code, series in series_of(result).items():
            if code not in ("total", "power", "water", "aircon"):
                continue
            assert series["status"] == "ok"
            actual_counts = (
                by_code["total"]
                if code == "total"
                else {
                    d: sum(counts[c].get(d, 0) for c in BASE if top(c) == code)
                    for d in by_code["total"]
                }
            )
            for w in series["forecast"]:
                monday = date.fromisoformat(w["week"])
                actual = week_total(actual_counts, monday)
                inside += w["lower"] <= actual <= w["upper"]
                checked += 1
                # The narrowest honest 80 % band, knowing the true mean and dispersion.
                mean = sum(
                    true_mean(c, monday + timedelta(days=i))
                    for c in BASE
                    if code == "total" or top(c) == code
                    for i in range(7)
                )
                widths.append((w["upper"] - w["lower"]) / (2 * 1.2816 * math.sqrt(PHI * mean)))
                if code == "total":
                    misses.append(abs(w["expected"] - mean) / mean)
    share = inside / checked
    assert checked == 6 * 8 * 4
    assert 0.7 <= share <= 0.92, share
    # Not covering by being vague: the typical band is close to the narrowest honest one.
    assert float(np.median(widths)) < 1.4, float(np.median(widths))
    # And the expected totals are close to the true means.
    assert sum(misses) / len(misses) < 0.1, sum(misses) / len(misses)


def top(code: str) -> str:
    return {"lamp": "power", "pipe": "water", "aircon": "aircon"}[code]


# --- short histories ---------------------------------------------------------------------------


def test_short_series_are_refused_or_degraded_in_words(db, generated):
    _world, counts = generated
    with on(LAST + timedelta(days=1)):
        result = forecasting.forecast(Filters(), weeks=4)

    found = series_of(result)
    network, door = found["network"], found["door"]
    assert network["status"] == "insufficient"
    assert network["forecast"] == [] and network["effects"] is None
    assert network["message"] == ("历史只有 35 天，至少需要 56 天（8 周）才能预测，暂不预测。")
    assert door["status"] == "no_yearly"
    assert door["message"].startswith("历史只有 182 天，不足一年：预测只含星期、节假日和趋势")
    assert door["effects"]["months"] is None
    assert len(door["forecast"]) == 4
    # The degraded fit still sees the weekdays of its half year.
    assert door["effects"]["weekday"][0] > 1.5 * door["effects"]["weekday"][6]
    # History of the refused series is still shown, week by week.
    assert [h["count"] for h in network["history"]] == [
        week_total(counts["network"], LAST + timedelta(days=1) - timedelta(weeks=5 - i))
        for i in range(5)
    ]


# --- weeks, the current week, holidays ---------------------------------------------------------


def test_the_current_week_counts_its_days_so_far(db, generated):
    _world, counts = generated
    today = LAST - timedelta(days=4)  # Wednesday
    with on(today):
        result = forecasting.forecast(Filters(category=Category.objects.get(code="aircon")))

    (total,) = result["series"]  # a category without children has only its own series
    assert total["label"] == "空调"
    first = total["forecast"][0]
    monday = today - timedelta(days=2)
    assert first["week"] == monday.isoformat()
    assert first["observed"] == counts["aircon"][monday] + counts["aircon"][monday + timedelta(1)]
    assert first["lower"] >= first["observed"]
    assert len(total["forecast"]) == 8  # ANALYTICS_FORECAST_WEEKS
    assert total["history"][-1]["week"] == (monday - timedelta(weeks=1)).isoformat()
    assert [w["week"] for w in total["forecast"]] == [
        (monday + timedelta(weeks=w)).isoformat() for w in range(8)
    ]


def test_weeks_in_a_year_without_holiday_data_are_named(db, generated, settings):
    settings.ANALYTICS_FORECAST_HISTORY_DAYS = 400
    with on(date(2026, 12, 7)):
        result = forecasting.forecast(Filters(), weeks=6)

    assert result["notes"] == [
        "节假日数据缺少 2027 年：这些年份的法定节假日和调休按普通日期计算，"
        "节假日前后的预测可能偏差。"
    ]


def test_a_category_filter_splits_into_its_children(db, generated):
    with on(LAST + timedelta(days=1)):
        result = forecasting.forecast(Filters(category=Category.objects.get(code="water")), weeks=4)

    assert [(s["key"], s["label"]) for s in result["series"]] == [
        ("total", "给排水"),
        (str(Category.objects.get(code="pipe").pk), "给排水 → 水管"),
    ]
