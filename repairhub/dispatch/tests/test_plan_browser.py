"""The plan view in a real browser (headless Chromium): routes drawn on the map and listed,
an edit replayed, and the plan applied."""

from __future__ import annotations

import pytest

from repairhub.dispatch.models import Plan, PlanStatus, Skill, TechnicianProfile
from repairhub.places.models import Place, PlaceKind
from repairhub.places.services import create_place
from repairhub.testing.browser import login, screenshot
from repairhub.testing.personas import make_order, make_world
from repairhub.workorders.states import Status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def storm(transactional_db, settings):
    settings.MAP_TILE_URL = ""
    w = make_world()
    campus = Place.objects.get(code="E")
    rooms = []
    for i, (lat, lng) in enumerate(
        [
            ("30.5010", "114.4010"),
            ("30.5030", "114.4050"),
            ("30.5060", "114.4020"),
            ("30.5100", "114.4120"),
            ("30.5120", "114.4160"),
            ("30.5090", "114.4180"),
        ]
    ):
        b = create_place(
            kind=PlaceKind.BUILDING,
            code=f"S{i}",
            name=f"{i + 1}号楼",
            parent=campus,
            latitude=lat,
            longitude=lng,
        )
        f = create_place(kind=PlaceKind.FLOOR, code=f"S{i}-1F", name="1层", parent=b)
        rooms.append(create_place(kind=PlaceKind.ROOM, code=f"S{i}-101", name="101", parent=f))
    for user, (lat, lng) in (
        (w.technician, ("30.5000", "114.4000")),
        (w.technician2, ("30.5110", "114.4150")),
    ):
        p = TechnicianProfile.objects.create(
            user=user,
            base_latitude=lat,
            base_longitude=lng,
            work_start="00:00",
            work_end="00:00",
        )
        Skill.objects.create(technician=p, category=w.category, level=4)
    orders = [make_order(w, Status.ACCEPTED, place=room) for room in rooms]
    return w, orders


def test_dispatcher_plans_sees_routes_and_applies(page, storm):
    _world, orders = storm
    login(page, "dispatcher")
    page.goto("/dispatch/plans/")
    page.fill("input[name=seconds]", "1")
    page.click("button.primary")
    page.wait_for_url("**/dispatch/plans/*/")

    assert page.locator("section.route").count() == 2
    assert page.locator("#plan-routes tr[data-number]").count() == 6
    page.wait_for_selector(".plan-route")
    assert page.locator("path.plan-route").count() == 2
    assert page.locator(".plan-stop").count() == 6
    screenshot(page, "dispatch-plan")

    page.click("text=确认并派出全部工单")
    page.wait_for_url("**/orders/dispatch/")
    plan = Plan.objects.get()
    assert plan.status == PlanStatus.APPLIED
    for o in orders:
        o.refresh_from_db()
        assert o.status == Status.DISPATCHED
