"""Orders fall into the local day, week and month they were reported in, whatever the UTC
date; a zone with daylight saving falls back to Django's truncation and stays right."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from repairhub.analytics.expressions import fixed_offset
from repairhub.analytics.periods import Filters, Period, parse_filters
from repairhub.analytics.queries import MAX_SERIES, Drill, orders_behind, volume
from repairhub.places.models import Place
from repairhub.workorders.models import Category

from .history import Story, local, tell

pytestmark = pytest.mark.django_db


def counts(result: dict) -> dict[str, int]:
    (series,) = result["series"]
    return {b: n for b, n in zip(result["buckets"], series["data"], strict=True) if n}


def test_late_night_orders_count_on_their_local_day_week_and_month(world):
    for when in [
        local(date(2026, 3, 8), 23, 30),  # Sunday, 15:30 UTC
        local(date(2026, 3, 9), 0, 10),  # Monday, still Sunday in UTC
        local(date(2026, 3, 31), 23, 50),
        local(date(2026, 4, 1), 0, 5),  # April locally, March in UTC
    ]:
        tell(Story(reported=when, category=world.category, place=world.room), world)
    start, end = date(2026, 3, 1), date(2026, 4, 30)

    days = counts(volume(Period(start, end, "day"), Filters()))
    weeks = counts(volume(Period(start, end, "week"), Filters()))
    months = counts(volume(Period(start, end, "month"), Filters()))

    assert days == {"2026-03-08": 1, "2026-03-09": 1, "2026-03-31": 1, "2026-04-01": 1}
    assert weeks == {"2026-03-02": 1, "2026-03-09": 1, "2026-03-30": 2}
    assert months == {"2026-03-01": 3, "2026-04-01": 1}


def test_a_zone_with_daylight_saving_is_bucketed_in_local_time(world):
    berlin = ZoneInfo("Europe/Berlin")
    for when in [
        datetime(2026, 3, 28, 23, 30, tzinfo=berlin),  # CET, 22:30 UTC
        datetime(2026, 3, 29, 0, 30, tzinfo=berlin),  # CET, 23:30 UTC the day before
        datetime(2026, 3, 30, 0, 30, tzinfo=berlin),  # CEST, 22:30 UTC the day before
    ]:
        tell(Story(reported=when, category=world.category, place=world.room), world)

    with timezone.override(berlin):
        period = Period(date(2026, 3, 20), date(2026, 4, 5), "day")
        got = counts(volume(period, Filters()))
        assert fixed_offset(period) is None
        assert fixed_offset(Period(date(2026, 4, 1), date(2026, 4, 30))) == 7200

    assert got == {"2026-03-28": 1, "2026-03-29": 1, "2026-03-30": 1}


def test_more_series_than_fit_are_summed_as_other(world):
    for i in range(MAX_SERIES + 2):
        top = Category.objects.create(code=f"top{i}", name=f"大类{i:02d}")
        for _ in range(i + 1):
            tell(Story(reported=local(date(2026, 5, 4), 9), category=top, place=world.room), world)

    got = volume(Period(date(2026, 5, 1), date(2026, 5, 10)), Filters(), "category")

    labels = [s["label"] for s in got["series"]]
    assert len(labels) == MAX_SERIES
    assert labels[: MAX_SERIES - 1] == [f"大类{i:02d}" for i in range(MAX_SERIES + 1, 2, -1)]
    assert labels[-1] == "其他"
    assert got["series"][-1]["total"] == 1 + 2 + 3  # 大类00, 01 and 02
    assert got["total"] == sum(range(1, MAX_SERIES + 3))


def test_orders_at_the_filtered_place_itself_are_their_own_series(world):
    building = Place.objects.get(code="E03")
    for place in (building, world.room, world.room):
        tell(
            Story(reported=local(date(2026, 5, 4), 9), category=world.category, place=place), world
        )
    period = Period(date(2026, 5, 1), date(2026, 5, 10))
    filters = parse_filters(place="E03")

    got = volume(period, filters, "place")

    floor = Place.objects.get(code="E03-2F")
    assert {s["key"]: s["total"] for s in got["series"]} == {str(floor.pk): 2, str(building.pk): 1}
    itself = Drill("reported", dim="place", key=str(building.pk))
    assert orders_behind(period, filters, itself).count() == 1
    assert orders_behind(period, Filters(), itself).count() == 3  # unfiltered: the subtree
