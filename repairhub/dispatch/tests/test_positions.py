"""dispatch.positions: recording a technician's position, throttling, refusals, pruning."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from repairhub.accounts.roles import Role
from repairhub.dispatch import tasks
from repairhub.dispatch.models import Position, TechnicianProfile
from repairhub.dispatch.positions import OffDuty, prune_positions, record_position
from repairhub.dispatch.services import ensure_profile
from repairhub.testing.personas import make_user
from repairhub.workorders.errors import InvalidInput, NotAllowed

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 5, 4, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai
HERE = {"latitude": "30.512345", "longitude": "114.401234"}


def set_profile(user, **fields) -> TechnicianProfile:
    # Duty and base are edited by the lead's admin pages; no service to call for them yet.
    profile = ensure_profile(user)
    TechnicianProfile.objects.filter(pk=profile.pk).update(**fields)
    profile.refresh_from_db()
    return profile


def profile_of(user) -> TechnicianProfile | None:
    return TechnicianProfile.objects.filter(user=user).first()


@pytest.fixture
def noon():
    with time_machine.travel(NOON, tick=False):
        yield NOON


# --- recording ------------------------------------------------------------------------------


def test_record_stores_the_position_and_creates_the_profile(world, noon):
    assert profile_of(world.technician) is None

    position = record_position(world.technician, **HERE, accuracy=12.4)

    assert position.throttled is False
    stored = Position.objects.get()
    assert (stored.technician, stored.latitude, stored.longitude, stored.accuracy) == (
        world.technician,
        Decimal("30.512345"),
        Decimal("114.401234"),
        12,
    )
    assert stored.recorded_at == noon
    profile = profile_of(world.technician)
    assert (profile.last_latitude, profile.last_longitude, profile.last_position_at) == (
        Decimal("30.512345"),
        Decimal("114.401234"),
        noon,
    )
    assert profile.on_duty is True


def test_record_rounds_to_six_decimals_and_takes_numbers(world, noon):
    record_position(world.technician, latitude=30.51234567, longitude=-114.4000004)
    stored = Position.objects.get()
    assert (stored.latitude, stored.longitude, stored.accuracy) == (
        Decimal("30.512346"),
        Decimal("-114.400000"),
        None,
    )


def test_record_keeps_the_phone_time_and_makes_naive_times_local(world, noon):
    naive = dt.datetime(2026, 5, 4, 11, 55)  # Shanghai wall clock, five minutes ago
    record_position(world.technician, **HERE, at=naive)
    assert Position.objects.get().recorded_at == noon - dt.timedelta(minutes=5)


def test_expert_may_report(world, noon):
    assert record_position(world.expert, **HERE).technician == world.expert


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("latitude", "90.000001"),
        ("latitude", -91),
        ("longitude", 180.5),
        ("longitude", "-181"),
        ("latitude", "abc"),
        ("longitude", "1e999"),
        ("latitude", float("nan")),
        ("longitude", float("inf")),
        ("latitude", ""),
        ("longitude", None),
        ("latitude", True),
    ],
)
def test_record_refuses_coordinates_out_of_range_and_stores_nothing(world, noon, field, value):
    with pytest.raises(InvalidInput) as refused:
        record_position(world.technician, **{**HERE, field: value})
    assert refused.value.field == field
    assert refused.value.status == 422
    assert "纬度" in refused.value.message or "经度" in refused.value.message
    assert Position.objects.count() == 0
    assert profile_of(world.technician) is None


def test_record_refuses_null_island(world, noon):
    with pytest.raises(InvalidInput) as refused:
        record_position(world.technician, latitude="0", longitude=0.0)
    assert refused.value.field == "latitude"
    assert "(0, 0)" in refused.value.message
    assert Position.objects.count() == 0


def test_record_accepts_zero_on_one_axis(world, noon):
    record_position(world.technician, latitude=0, longitude="114.4")
    assert Position.objects.get().latitude == 0


@pytest.mark.parametrize("accuracy", [-1, 100_001, "far", float("nan"), float("inf"), False])
def test_record_refuses_accuracy_out_of_range(world, noon, accuracy):
    with pytest.raises(InvalidInput) as refused:
        record_position(world.technician, **HERE, accuracy=accuracy)
    assert refused.value.field == "accuracy"
    assert Position.objects.count() == 0


def test_record_refuses_a_time_in_the_future(world, noon):
    with pytest.raises(InvalidInput) as refused:
        record_position(world.technician, **HERE, at=noon + dt.timedelta(minutes=3))
    assert refused.value.field == "recorded_at"
    assert Position.objects.count() == 0


def test_record_allows_a_small_clock_skew(world, noon):
    record_position(world.technician, **HERE, at=noon + dt.timedelta(seconds=90))
    assert Position.objects.get().recorded_at == noon + dt.timedelta(seconds=90)


def test_record_refuses_a_time_older_than_positions_are_kept(world, noon, settings):
    settings.POSITION_KEEP_DAYS = 2
    with pytest.raises(InvalidInput) as refused:
        record_position(world.technician, **HERE, at=noon - dt.timedelta(days=2, minutes=1))
    assert refused.value.field == "recorded_at"
    assert "2 天" in refused.value.message
    assert Position.objects.count() == 0


@pytest.mark.parametrize("who", ["reporter", "dispatcher", "agent", "manager", "admin"])
def test_record_refuses_people_who_are_not_technicians(world, noon, who):
    with pytest.raises(NotAllowed) as refused:
        record_position(getattr(world, who), **HERE)
    assert refused.value.status == 403
    assert Position.objects.count() == 0
    assert TechnicianProfile.objects.count() == 0


def test_record_refuses_an_inactive_technician(world, noon):
    gone = make_user("gone", Role.TECHNICIAN)
    gone.is_active = False
    gone.save()
    with pytest.raises(NotAllowed):
        record_position(gone, **HERE)
    assert Position.objects.count() == 0


def test_record_refuses_a_technician_off_duty(world, noon):
    set_profile(world.technician, on_duty=False)

    with pytest.raises(OffDuty) as refused:
        record_position(world.technician, **HERE)

    assert (refused.value.status, refused.value.code) == (403, "off_duty")
    assert "不在岗" in refused.value.message
    assert Position.objects.count() == 0
    assert profile_of(world.technician).last_position_at is None


# --- throttling -----------------------------------------------------------------------------


def test_a_repeat_within_the_minimum_interval_and_ten_metres_is_not_stored(world, noon):
    first = record_position(world.technician, **HERE, at=noon - dt.timedelta(seconds=15))

    # 15 s later and about 5 m further north.
    again = record_position(world.technician, latitude="30.512390", longitude="114.401234")

    assert again.throttled is True
    assert again.pk == first.pk
    assert Position.objects.count() == 1
    profile = profile_of(world.technician)
    assert (profile.last_latitude, profile.last_position_at) == (
        Decimal("30.512345"),
        noon - dt.timedelta(seconds=15),
    )


def test_a_move_of_more_than_ten_metres_is_stored_however_soon(world, noon):
    record_position(world.technician, **HERE, at=noon - dt.timedelta(seconds=5))
    moved = record_position(world.technician, latitude="30.512545", longitude="114.401234")
    assert moved.throttled is False
    assert Position.objects.count() == 2
    assert profile_of(world.technician).last_latitude == Decimal("30.512545")


def test_the_same_place_after_the_minimum_interval_is_stored(world, noon):
    record_position(world.technician, **HERE, at=noon - dt.timedelta(seconds=20))
    again = record_position(world.technician, **HERE)
    assert again.throttled is False
    assert Position.objects.count() == 2
    assert profile_of(world.technician).last_position_at == noon


def test_the_minimum_interval_is_a_setting(world, noon, settings):
    settings.POSITION_MIN_SECONDS = 120
    record_position(world.technician, **HERE, at=noon - dt.timedelta(seconds=90))
    assert record_position(world.technician, **HERE).throttled is True
    assert Position.objects.count() == 1


def test_throttling_is_per_technician(world, noon):
    record_position(world.technician, **HERE)
    assert record_position(world.technician2, **HERE).throttled is False
    assert Position.objects.count() == 2


def test_a_late_report_joins_the_track_without_moving_the_last_position(world, noon):
    record_position(world.technician, **HERE)
    late = record_position(
        world.technician,
        latitude="30.520000",
        longitude="114.410000",
        at=noon - dt.timedelta(minutes=5),
    )
    assert late.throttled is False
    assert Position.objects.count() == 2
    profile = profile_of(world.technician)
    assert (profile.last_latitude, profile.last_position_at) == (Decimal("30.512345"), noon)


# --- pruning --------------------------------------------------------------------------------


def _track(user, *ages: dt.timedelta, now: dt.datetime) -> None:
    for i, age in enumerate(sorted(ages, reverse=True)):
        record_position(
            user, latitude=Decimal("30.5") + Decimal(i) / 1000, longitude="114.4", at=now - age
        )


def test_prune_deletes_positions_older_than_the_keep_days(world, noon):
    day = dt.timedelta(days=1)
    with time_machine.travel(noon - 3 * day, tick=False):
        _track(world.technician, dt.timedelta(0), dt.timedelta(hours=1), now=noon - 3 * day)
    _track(world.technician2, 6 * day, dt.timedelta(hours=1), now=noon)

    deleted = prune_positions(now=noon + 5 * day)

    # The cut is two days before noon: only technician2's report of an hour before noon stays.
    assert deleted == 3
    assert list(Position.objects.values_list("technician__username", flat=True)) == ["technician2"]
    # The technician's last position is older than the keep window too: forgotten.
    profile = profile_of(world.technician)
    assert (profile.last_latitude, profile.last_longitude, profile.last_position_at) == (
        None,
        None,
        None,
    )
    assert profile_of(world.technician2).last_position_at == noon - dt.timedelta(hours=1)


def test_prune_follows_the_keep_days_setting(world, noon, settings):
    _track(world.technician, dt.timedelta(hours=30), dt.timedelta(hours=2), now=noon)
    settings.POSITION_KEEP_DAYS = 1
    assert prune_positions(now=noon) == 1
    assert Position.objects.count() == 1
    assert prune_positions(now=noon) == 0


def test_prune_uses_the_clock_when_no_time_is_given(world, noon):
    _track(world.technician, dt.timedelta(days=6), now=noon)
    with time_machine.travel(noon + dt.timedelta(days=2), tick=False):
        assert prune_positions() == 1
    assert Position.objects.count() == 0


def test_the_daily_task_prunes(world, noon):
    _track(world.technician, dt.timedelta(days=6), dt.timedelta(minutes=1), now=noon)
    with time_machine.travel(noon + dt.timedelta(days=1, hours=12), tick=False):
        tasks.prune_positions.call_local()
    assert Position.objects.count() == 1
    assert timezone.now() - Position.objects.get().recorded_at < dt.timedelta(days=7)
