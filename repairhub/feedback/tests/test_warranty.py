"""Warranty and rework (FQ5): the candidate for a new report, the link, rework rates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from repairhub.feedback import services
from repairhub.feedback.models import ChecklistItem, QcCheck, Rework, SamplingRule, Warranty
from repairhub.feedback.queries import rework_rates
from repairhub.feedback.services.warranty import warranty_days
from repairhub.testing.personas import make_ac_category, make_asset, make_category, make_room
from repairhub.workorders.actors import SYSTEM
from repairhub.workorders.errors import IllegalState, InvalidInput, NotAllowed
from repairhub.workorders.models import Result
from repairhub.workorders.services import close_order, reopen_order
from repairhub.workorders.states import Status
from repairhub.workorders.walks import walk_to

from .conftest import photo

pytestmark = pytest.mark.django_db
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
DONE = dt.datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)


def closed(world, **kw):
    with time_machine.travel(DONE, tick=False):
        order = world.order(Status.COMPLETED, **kw)
        close_order(order, by=world.dispatcher)
    return order


def test_warranty_days_own_parent_or_default(world, settings):
    settings.FEEDBACK_WARRANTY_DAYS = 90
    pipe = make_category("pipe", name="水管")
    assert warranty_days(world.category) == 90
    Warranty.objects.create(category=world.category.parent, days=180)
    assert (warranty_days(world.category), warranty_days(pipe)) == (180, 180)
    Warranty.objects.create(category=world.category, days=30)
    assert (warranty_days(world.category), warranty_days(pipe)) == (30, 180)


def test_candidate_is_the_latest_closed_success_in_warranty_at_the_place(world, settings):
    settings.FEEDBACK_WARRANTY_DAYS = 90
    original = closed(world)
    other_room = closed(world, place=make_room("E03-202"))
    other_category = closed(world, category=make_category("pipe", name="水管"))
    assert other_room != original != other_category

    inside = DONE + dt.timedelta(days=89)
    assert services.rework_candidate(world.room, world.category, inside) == original
    assert (
        services.rework_candidate(world.room, world.category, DONE + dt.timedelta(days=91)) is None
    )
    assert services.rework_candidate(None, world.category, inside) is None


def test_with_an_asset_the_candidate_is_that_assets_own_repair(world, settings):
    """Two air conditioners in one room: a new report on one is not the rework of the other's
    repair, nor of a repair at the room that named no asset."""
    settings.FEEDBACK_WARRANTY_DAYS = 90
    ac = make_ac_category()
    unit = make_asset("E03-201-AC2", name="2号空调", place=world.room, category=ac)
    other = make_asset("E03-201-AC1", name="1号空调", place=world.room, category=ac)
    inside = DONE + dt.timedelta(days=30)
    neighbours = closed(world, category=ac, asset=other)
    room_only = closed(world, category=ac)

    assert services.rework_candidate(world.room, ac, inside, asset=unit) is None
    assert services.rework_candidate(world.room, ac, inside, asset=other) == neighbours
    assert services.rework_candidate(world.room, ac, inside) == room_only  # by place, as before

    own = closed(world, category=ac, asset=unit)
    assert services.rework_candidate(world.room, ac, inside, asset=unit) == own
    assert services.rework_candidate(None, ac, inside, asset=unit) == own
    assert services.rework_candidate(world.room, world.category, inside, asset=unit) is None
    assert (
        services.rework_candidate(world.room, ac, DONE + dt.timedelta(days=91), asset=unit) is None
    )


def test_failed_or_open_work_is_no_candidate(world):
    with time_machine.travel(DONE, tick=False):
        failed = world.order(Status.IN_PROGRESS)
        walk_to(
            failed, Status.COMPLETED, actors={}, technician=world.technician, result=Result.FAILED
        )
        close_order(failed, by=world.dispatcher)
        world.order(Status.COMPLETED)  # not closed yet

    assert (
        services.rework_candidate(world.room, world.category, DONE + dt.timedelta(days=1)) is None
    )


def test_link_rework_inside_warranty(world):
    original = closed(world)
    with time_machine.travel(DONE + dt.timedelta(days=10), tick=False):
        again = world.order(Status.SUBMITTED)
        link = services.link_rework(original, again, by=world.agent)

    assert (link.original, link.rework, link.source, link.technician, link.category) == (
        original,
        again,
        "warranty",
        world.technician,
        world.category,
    )
    assert original.events.get(code="feedback.rework_linked").data == {
        "original": original.number,
        "rework": again.number,
        "source": "warranty",
    }
    assert again.events.filter(code="feedback.rework_linked").count() == 1
    with pytest.raises(IllegalState) as exc:
        services.link_rework(original, again, by=SYSTEM)
    assert exc.value.code == "already_linked"


def test_link_refuses_out_of_warranty_open_originals_and_outsiders(world, settings):
    settings.FEEDBACK_WARRANTY_DAYS = 90
    original = closed(world)
    with time_machine.travel(DONE + dt.timedelta(days=100), tick=False):
        late = world.order(Status.SUBMITTED)
        with pytest.raises(InvalidInput) as exc:
            services.link_rework(original, late, by=world.agent)
    assert exc.value.message == f"原工单 {original.number} 不在保修期内（保修至 2026-05-31）。"
    still_open = world.order(Status.COMPLETED)
    with pytest.raises(IllegalState):
        services.link_rework(still_open, late, by=world.agent)
    with pytest.raises(NotAllowed):
        services.link_rework(original, late, by=world.technician)
    assert not Rework.objects.exists()


def test_rework_rates_per_technician_and_category(world):
    pipe = make_category("pipe", name="水管")
    with time_machine.travel(DONE, tick=False):
        ok = [world.order(Status.COMPLETED) for _ in range(3)]
        by_two = [
            world.order(Status.COMPLETED, technician=world.technician2, category=pipe)
            for _ in range(2)
        ]
        # The reporter reopens one of technician's: it counts against him, once.
        reopen_order(ok[0], reason="没修好", by=world.reporter)
        walk_to(
            ok[0],
            Status.COMPLETED,
            actors={"dispatcher": world.dispatcher},
            technician=world.technician2,
        )
        close_order(by_two[0], by=world.dispatcher)
    with time_machine.travel(DONE + dt.timedelta(days=3), tick=False):
        again = world.order(Status.SUBMITTED, category=pipe)
        services.link_rework(by_two[0], again, by=world.agent)

    rates = {
        r.key: (r.completed, r.reworked, r.rate)
        for r in rework_rates(dt.date(2026, 3, 1), dt.date(2026, 4, 1))
    }
    assert rates == {
        "technician": (3, 1, Decimal("33.3")),
        "technician2": (3, 1, Decimal("33.3")),
    }
    per_category = {
        r.key: (r.completed, r.reworked)
        for r in rework_rates(dt.date(2026, 3, 1), dt.date(2026, 4, 1), by="category")
    }
    assert per_category == {"lamp": (4, 1), "pipe": (2, 1)}


def test_qc_rework_counts_once_against_the_technician(world):
    SamplingRule.objects.create(target_percent=Decimal("100"))
    item = ChecklistItem.objects.create(text="牢固")
    with time_machine.travel(DONE, tick=False):
        order = world.order(Status.COMPLETED)
        services.draw_sample(
            start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 3), by=world.qc_inspector
        )
        services.record_check(
            QcCheck.objects.get(),
            by=world.qc_inspector,
            passed=False,
            answers={str(item.pk): False},
            note="松",
            photos=[photo()],
        )

    [row] = rework_rates(dt.date(2026, 3, 1), dt.date(2026, 4, 1))
    assert (row.key, row.completed, row.reworked) == ("technician", 1, 1)
    assert order.events.filter(code="workorder.reopened").count() == 1
