"""/api/v1 dispatch endpoints: candidates, dispatch by name or auto, pool, rebalance."""

from __future__ import annotations

import datetime as dt

import pytest

from repairhub.dispatch.models import DispatchMode, DispatchPolicy, Skill, TechnicianProfile
from repairhub.workorders.lifecycle import apply
from repairhub.workorders.states import Action, Status

pytestmark = pytest.mark.django_db


def all_day(user, category, **kw):
    p = TechnicianProfile.objects.create(
        user=user, work_start=dt.time(0), work_end=dt.time(0), **kw
    )
    Skill.objects.create(technician=p, category=category, level=4)
    return p


def test_candidates_are_ranked_with_reasons(world, api_as):
    all_day(world.technician2, world.category)
    all_day(world.technician, world.category, max_open_orders=1)
    world.order(Status.DISPATCHED, technician=world.technician)
    order = world.order(Status.ACCEPTED)

    r = api_as("dispatcher").get(f"/orders/{order.number}/candidates")

    assert r.status_code == 200, r.content
    body = r.json()
    assert [c["username"] for c in body] == ["technician2", "technician"]
    assert body[0]["qualifies"] and body[0]["refusals"] == []
    assert body[1]["refusals"] == ["在手工单已满（1/1）"]
    assert set(body[0]["parts"]) == {"distance", "zone", "load", "skill", "fairness"}


def test_dispatch_auto_explains_the_choice(world, api_as):
    all_day(world.technician2, world.category)
    order = world.order(Status.ACCEPTED)

    r = api_as("dispatcher").post(f"/orders/{order.number}/dispatch", {"technician": "auto"})

    assert r.status_code == 200, r.content
    body = r.json()
    assert body["order"]["status"] == "dispatched"
    assert body["auto"]["chosen"]["username"] == "technician2"
    assert body["waiting"] is None


def test_dispatch_auto_with_nobody_qualified_says_why(world, api_as):
    all_day(world.technician2, world.category, on_duty=False)
    order = world.order(Status.ACCEPTED)
    r = api_as("dispatcher").post(f"/orders/{order.number}/dispatch", {"technician": "auto"})
    assert r.status_code == 200
    assert r.json()["order"]["status"] == "accepted"
    assert r.json()["waiting"] == {"不在岗": 1}


def test_dispatch_by_name_and_refusals(world, api_as):
    order = world.order(Status.ACCEPTED)
    dispatcher = api_as("dispatcher")
    r = dispatcher.post(f"/orders/{order.number}/dispatch", {"technician": "nobody"})
    assert r.status_code == 422 and r.json()["field"] == "technician"
    r = dispatcher.post(f"/orders/{order.number}/dispatch", {"technician": "technician2"})
    assert r.status_code == 200 and r.json()["order"]["status"] == "dispatched"
    r = api_as("technician").post(f"/orders/{order.number}/dispatch", {"technician": "auto"})
    assert r.status_code in (403, 404)
    r = dispatcher.post(f"/orders/{order.number}/dispatch", {"technician": "auto"})
    assert r.status_code == 409


def test_pool_and_claim_through_the_api(world, api_as):
    DispatchPolicy.objects.create(category=world.category, mode=DispatchMode.POOL)
    all_day(world.technician2, world.category)
    all_day(world.technician, world.category)
    order = world.order(Status.SUBMITTED)
    apply(order, Action.ACCEPT, by=world.agent)
    tech2 = api_as("technician2")

    assert [o["number"] for o in tech2.get("/pool").json()] == [order.number]
    r = tech2.post(f"/pool/{order.number}/claim")
    assert r.status_code == 200 and r.json()["status"] == "acknowledged"
    r = api_as("technician").post(f"/pool/{order.number}/claim")
    assert r.status_code == 409
    assert api_as("dispatcher").get("/pool").status_code == 403


def test_rebalance_through_the_api(world, api_as):
    for user in (world.technician, world.team_lead):
        all_day(user, world.category)
    for _ in range(4):
        world.order(Status.DISPATCHED, technician=world.technician)
    r = api_as("team_lead").post(f"/teams/{world.team.code}/rebalance")
    assert r.status_code == 200 and len(r.json()) == 2
    assert api_as("technician2").post(f"/teams/{world.team.code}/rebalance").status_code == 403


def test_plans_through_the_api(world, api_as):
    from repairhub.places.models import Place, PlaceKind

    campus = Place.objects.get(code="E")
    rooms = []
    for i in range(3):
        b = Place.objects.create(
            kind=PlaceKind.BUILDING,
            code=f"P{i}",
            name=f"P{i}",
            parent=campus,
            latitude=f"30.50{i}000",
            longitude="114.400000",
        )
        f = Place.objects.create(kind=PlaceKind.FLOOR, code=f"P{i}-1F", name="1层", parent=b)
        rooms.append(Place.objects.create(kind=PlaceKind.ROOM, code=f"P{i}-1", name="1", parent=f))
    p = all_day(world.technician2, world.category)
    p.base_latitude, p.base_longitude = "30.500000", "114.400000"
    p.save()
    orders = [world.order(Status.ACCEPTED, place=room) for room in rooms]
    dispatcher = api_as("dispatcher")

    r = dispatcher.post("/plans", {"seconds": 1})
    assert r.status_code == 201, r.content
    plan = r.json()
    assert plan["status"] == "draft"
    assert sorted(s["number"] for s in plan["routes"][0]["stops"]) == sorted(
        o.number for o in orders
    )

    r = dispatcher.put(
        f"/plans/{plan['id']}/routes", {"routes": {"technician2": [orders[1].number]}}
    )
    assert r.status_code == 200 and len(r.json()["summary"]["dropped"]) == 2
    r = dispatcher.put(f"/plans/{plan['id']}/routes", {"routes": {"reporter": [orders[0].number]}})
    assert r.status_code == 422

    apply(orders[1], Action.CANCEL, by=world.agent, params={"reason": "重复"})
    r = dispatcher.post(f"/plans/{plan['id']}/apply")
    assert r.status_code == 409 and orders[1].number in r.json()["message"]

    assert dispatcher.post("/plans", {"seconds": 500}).status_code == 422
    assert api_as("technician").post("/plans", {"seconds": 1}).status_code == 403
