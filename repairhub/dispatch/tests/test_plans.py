"""Optimised plans: built from waiting orders, edited within the rules, applied all or nothing."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from repairhub.dispatch import plans, services
from repairhub.dispatch.models import PlanStatus, Skill, TechnicianProfile
from repairhub.places.models import Place, PlaceKind
from repairhub.workorders.errors import InvalidInput, NotAllowed
from repairhub.workorders.lifecycle import apply
from repairhub.workorders.states import Action, Status

pytestmark = pytest.mark.django_db

MORNING = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture(autouse=True)
def _morning():
    with time_machine.travel(MORNING, tick=False):
        yield


def building(code, lat, lng):
    campus = Place.objects.get(code="E")
    b = Place.objects.create(
        kind=PlaceKind.BUILDING, code=code, name=code, parent=campus, latitude=lat, longitude=lng
    )
    floor = Place.objects.create(kind=PlaceKind.FLOOR, code=f"{code}-1F", name="1层", parent=b)
    return Place.objects.create(kind=PlaceKind.ROOM, code=f"{code}-101", name="101", parent=floor)


def tech(user, category, lat, lng, max_open=8):
    p = TechnicianProfile.objects.create(
        user=user, base_latitude=lat, base_longitude=lng, max_open_orders=max_open
    )
    Skill.objects.create(technician=p, category=category, level=3)
    return p


@pytest.fixture
def storm(world):
    # Two clusters 10 km apart; one technician based in each.
    west = [building(f"W{i}", f"30.50{i}000", "114.300000") for i in range(3)]
    east = [building(f"X{i}", f"30.50{i}000", "114.400000") for i in range(3)]
    tech(world.technician, world.category, "30.500000", "114.300000")
    tech(world.technician2, world.category, "30.500000", "114.400000")
    orders = [world.order(Status.ACCEPTED, place=room) for room in west + east]
    return orders


def test_a_plan_sends_each_technician_to_his_own_cluster(world, storm):
    plan = plans.create_plan(by=world.dispatcher, seconds=1)

    routes = {r["technician"]: [s["number"] for s in r["stops"]] for r in plans.routes_of(plan)}
    west, east = [o.number for o in storm[:3]], [o.number for o in storm[3:]]
    assert sorted(routes["technician"]) == sorted(west)
    assert sorted(routes["technician2"]) == sorted(east)
    assert plan.summary["dropped"] == [] and plan.summary["unplannable"] == []
    assert plan.summary["distance_km"] < 5  # no one crosses the 10 km gap
    assert plan.status == PlanStatus.DRAFT
    for o in storm:
        o.refresh_from_db()
        assert o.status == Status.ACCEPTED  # nothing dispatched until applied


def test_applying_dispatches_every_order_with_its_event(world, storm):
    plan = plans.create_plan(by=world.dispatcher, seconds=1)
    assert plans.apply_plan(plan, by=world.dispatcher) == 6
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPLIED
    for o in storm:
        o.refresh_from_db()
        assert o.status == Status.DISPATCHED
        assert f"派工计划 #{plan.pk}" in o.events.get(code="workorder.dispatched").data["reason"]


def test_a_stale_plan_applies_nothing_and_names_the_changed_orders(world, storm):
    plan = plans.create_plan(by=world.dispatcher, seconds=1)
    apply(storm[0], Action.CANCEL, by=world.agent, params={"reason": "报修人撤回"})

    with pytest.raises(plans.StalePlan) as refused:
        plans.apply_plan(plan, by=world.dispatcher)

    assert storm[0].number in refused.value.message
    for o in storm[1:]:
        o.refresh_from_db()
        assert o.status == Status.ACCEPTED
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT


def test_an_edit_that_breaks_a_hard_rule_is_refused(world, storm):
    plan = plans.create_plan(by=world.dispatcher, seconds=1)
    limited = TechnicianProfile.objects.get(user=world.technician2)
    limited.max_open_orders = 2
    limited.save()  # as the admin does
    everything = {"technician2": [o.number for o in storm]}
    with pytest.raises(InvalidInput):
        plans.edit_plan(plan, by=world.dispatcher, routes=everything)
    before = {r["technician"]: r["stops"] for r in plans.routes_of(plan)}
    assert set(before) == {"technician", "technician2"}


def test_an_edit_within_the_rules_is_kept_and_leftovers_are_dropped(world, storm):
    plan = plans.create_plan(by=world.dispatcher, seconds=1)
    edited = plans.edit_plan(
        plan, by=world.dispatcher, routes={"technician": [storm[3].number, storm[0].number]}
    )
    routes = plans.routes_of(edited)
    assert [(r["technician"], [s["number"] for s in r["stops"]]) for r in routes] == [
        ("technician", [storm[3].number, storm[0].number])
    ]
    assert len(edited.summary["dropped"]) == 4
    assert plans.apply_plan(edited, by=world.dispatcher) == 2


def test_orders_without_coordinates_or_qualified_people_are_listed(world, storm):
    plain = world.order(Status.ACCEPTED, place=None, address="校外某小区 3 栋")
    plan = plans.create_plan(by=world.dispatcher, seconds=1)
    assert {"number": plain.number, "why": "地点没有坐标"} in plan.summary["unplannable"]


def test_only_dispatchers_plan_and_bad_limits_are_refused(world, storm):
    with pytest.raises(NotAllowed):
        plans.create_plan(by=world.technician, seconds=1)
    with pytest.raises(InvalidInput):
        plans.create_plan(by=world.dispatcher, seconds=0)
    with pytest.raises(InvalidInput):
        plans.create_plan(by=world.dispatcher, numbers=["BX-NOPE"], seconds=1)


def test_plan_pages_create_show_edit_and_apply(world, storm):
    from django.test import Client
    from django.urls import reverse

    from repairhub.dispatch.models import Plan

    c = Client()
    c.force_login(world.dispatcher)
    response = c.post(reverse("dispatch:plans"), {"orders": "", "seconds": "1"})
    plan = Plan.objects.get()
    assert response["Location"] == reverse("dispatch:plan-detail", args=[plan.pk])
    page = c.get(response["Location"]).content.decode()
    assert 'id="plan-routes-data"' in page and storm[0].number in page

    # Move the first west order to technician2, first in his route.
    data = {"number": [o.number for o in storm]}
    routes = {r["technician"]: r["stops"] for r in plans.routes_of(plan)}
    for who, stops in routes.items():
        for s in stops:
            data[f"tech-{s['number']}"] = who
            data[f"seq-{s['number']}"] = str(s["sequence"])
    data[f"tech-{storm[0].number}"] = "technician2"
    data[f"seq-{storm[0].number}"] = "0"
    c.post(reverse("dispatch:plan-action", args=[plan.pk, "edit"]), data)
    moved = {r["technician"]: [s["number"] for s in r["stops"]] for r in plans.routes_of(plan)}
    assert moved["technician2"][0] == storm[0].number

    c.post(reverse("dispatch:plan-action", args=[plan.pk, "apply"]))
    storm[0].refresh_from_db()
    assert (storm[0].status, storm[0].assignee) == (Status.DISPATCHED, world.technician2)

    bad = c.post(reverse("dispatch:plans"), {"seconds": "abc"}, follow=True)
    assert "求解时限应在" in bad.content.decode()
    assert Plan.objects.count() == 1


def test_building_a_plan_takes_the_same_queries_for_few_or_many_orders(world, storm):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from repairhub.workorders.models import WorkOrder

    def queries_for(orders):
        services._ROSTER.clear()  # from cold: what one call keeps must not spare the other
        with CaptureQueriesContext(connection) as seen:
            plans.build_problem(orders, now=timezone.now())
        return len(seen.captured_queries)

    apply(storm[0], Action.DISPATCH, by=world.dispatcher, params={"technician": world.technician})
    apply(storm[0], Action.DECLINE, by=world.technician, params={"reason": "太远"})
    # By id: the few then include the declined order on every database (its created_at ties).
    loaded = list(
        WorkOrder.objects.select_related("category", "place")
        .filter(pk__in=[o.pk for o in storm])
        .order_by("pk")
    )
    assert queries_for(loaded[:2]) == queries_for(loaded)
