"""The live map and position sharing in a real browser (headless Chromium), with no tile server:
markers, tracks, stale marks, the list, refreshing, the plan hook, and a phone that shares."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from repairhub.dispatch.models import Position, TechnicianProfile
from repairhub.dispatch.positions import record_position
from repairhub.dispatch.services import ensure_profile
from repairhub.places.models import Place, PlaceKind
from repairhub.places.services import create_place
from repairhub.testing.browser import login, screenshot
from repairhub.testing.personas import make_world
from repairhub.workorders.states import Status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def map_world(transactional_db, settings):
    settings.MAP_TILE_URL = ""
    settings.POSITION_STALE_MINUTES = 10
    w = make_world()
    campus = Place.objects.get(code="E")
    library = create_place(
        kind=PlaceKind.BUILDING,
        code="LIB",
        name="图书馆",
        parent=campus,
        latitude="30.506000",
        longitude="114.409000",
    )
    now = timezone.now()
    # The technician walks from the library towards building 3 over the last eight minutes.
    walk = [("30.505500", "114.408000"), ("30.504200", "114.405500"), ("30.503600", "114.406800"),
            ("30.502100", "114.404000"), ("30.501500", "114.402000")]  # fmt: skip
    for (lat, lng), ago in zip(walk, [8, 6, 4, 2, 1], strict=True):
        record_position(
            w.technician,
            latitude=lat,
            longitude=lng,
            accuracy=10,
            at=now - dt.timedelta(minutes=ago),
        )
    # technician2 last reported forty minutes ago: stale.
    record_position(
        w.technician2,
        latitude="30.498000",
        longitude="114.396000",
        at=now - dt.timedelta(minutes=40),
    )
    # The expert never reported: shown at his base.
    profile = ensure_profile(w.expert)
    TechnicianProfile.objects.filter(pk=profile.pk).update(
        base_latitude="30.503000", base_longitude="114.393000"
    )
    w.urgent = w.order(Status.ACCEPTED, urgency="critical", place=library, description="图书馆漏水")
    w.working = w.order(Status.IN_PROGRESS, urgency="normal")
    w.order(Status.SUBMITTED, place=None, address="西区食堂后门")
    return w


def test_dispatcher_watches_the_live_map_without_tiles(page, map_world):
    w = map_world
    login(page, "dispatcher")
    page.goto("/dispatch/map/")
    page.wait_for_selector(".leaflet-container .tech-marker")

    # Markers: three technicians with a position (the team lead has none), two orders.
    assert page.locator(".tech-marker").count() == 3
    assert page.locator(".tech-marker.is-stale[data-username=technician2]").count() == 1
    assert page.locator(".tech-marker.is-base[data-username=expert]").count() == 1
    live = page.locator(".tech-marker[data-username=technician]")
    assert "is-stale" not in live.get_attribute("class")
    assert page.locator("path.order-marker").count() == 2
    assert (
        page.locator(f'path.order-marker.urgency-critical[data-number="{w.urgent.number}"]').count()
        == 1
    )
    # The live technician's recent track is a line; no tiles were asked for.
    track = page.locator("path.tech-track[data-username=technician]")
    assert track.count() == 1
    assert track.get_attribute("d").count("L") >= 4
    assert page.locator(".leaflet-tile").count() == 0
    assert page.locator(".map-note").inner_text().startswith("未配置底图")

    # The list says the same for people who cannot see the map.
    assert page.locator("#map-technicians tr.tech-row").count() == 4
    stale_row = page.locator("#map-technicians tr[data-username=technician2]")
    assert "is-stale" in stale_row.get_attribute("class")
    assert stale_row.locator(".badge.stale").inner_text() == "位置过期"
    assert page.locator("#map-orders tr.order-row").count() == 2
    assert (
        page.locator("#map-unmapped")
        .inner_text()
        .startswith("地点没有坐标、未在地图上显示的工单：1 张")
    )
    assert page.locator("#map-status").inner_text().startswith("更新于")

    live.click()
    popup = page.locator(".leaflet-popup-content")
    assert "technician" in popup.inner_text()
    assert "在手工单：1" in popup.inner_text()
    # Let the popup finish fading in before the picture.
    page.wait_for_function(
        "getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'"
    )
    screenshot(page, "dispatch-map")


def test_the_map_refreshes_from_the_feed(page, map_world):
    w = map_world
    login(page, "dispatcher")
    page.goto("/dispatch/map/")
    page.wait_for_selector(".leaflet-container path.order-marker")
    assert page.locator("path.order-marker").count() == 2

    added = w.order(Status.DISPATCHED, technician=w.technician2, urgency="high")
    page.evaluate("window.RepairHubMap.refresh()")

    page.wait_for_selector(f'#map-orders tr[data-number="{added.number}"]')
    assert page.locator("path.order-marker").count() == 3
    assert page.locator("#map-order-count").inner_text() == "3"
    row = page.locator("#map-technicians tr[data-username=technician2]")
    assert row.locator("td").nth(2).inner_text() == "1"


def test_plan_routes_are_drawn_on_their_own_layer(page, map_world):
    login(page, "dispatcher")
    page.goto("/dispatch/map/")
    page.wait_for_selector(".leaflet-container .tech-marker")
    page.evaluate(
        """window.RepairHubMap.showRoutes([{
            technician: "technician", color: "#d81b60",
            points: [[30.5015, 114.402], [30.503, 114.405], [30.506, 114.409]],
            stops: [{number: "BX-1", lat: 30.506, lng: 114.409, sequence: 2},
                    {number: "BX-2", lat: 30.503, lng: 114.405, sequence: 1}]
        }])"""
    )
    assert page.locator("path.plan-route").count() == 1
    assert page.locator(".plan-stop").count() == 2
    assert page.locator('.plan-stop[data-sequence="1"]').inner_text() == "1"
    # The live markers stay; clearing removes only the routes.
    assert page.locator(".tech-marker").count() == 3
    page.evaluate("window.RepairHubMap.clearRoutes()")
    assert page.locator(".plan-stop").count() == 0
    assert page.locator(".tech-marker").count() == 3


def test_technician_map_is_refused(page, map_world):
    login(page, "technician")
    response = page.goto("/dispatch/map/")
    assert response.status == 403
    assert page.locator(".leaflet-container").count() == 0


def test_technician_shares_his_position_only_after_consenting(phone_page, map_world, live_server):
    phone_page.context.grant_permissions(["geolocation"], origin=live_server.url)
    phone_page.context.set_geolocation(
        {"latitude": 30.512345, "longitude": 114.401235, "accuracy": 12}
    )
    before = Position.objects.filter(technician=map_world.technician).count()

    login(phone_page, "technician")
    assert phone_page.url.endswith("/orders/mine/")
    consent = phone_page.get_by_label("共享我的位置（仅在岗时）")
    assert not consent.is_checked()
    status = phone_page.locator("[data-position-status]")
    assert status.inner_text() == "未共享位置。"
    assert Position.objects.filter(technician=map_world.technician).count() == before

    consent.check()
    phone_page.wait_for_function(
        "document.querySelector('[data-position-status]').textContent.startsWith('已发送位置')"
    )
    latest = Position.objects.filter(technician=map_world.technician).latest("recorded_at")
    assert (latest.latitude, latest.longitude, latest.accuracy) == (
        Decimal("30.512345"),
        Decimal("114.401235"),
        12,
    )
    assert Position.objects.filter(technician=map_world.technician).count() == before + 1
    screenshot(phone_page, "technician-position")

    # The consent is remembered on this phone; unticking stops sharing.
    phone_page.reload()
    assert phone_page.get_by_label("共享我的位置（仅在岗时）").is_checked()
    phone_page.get_by_label("共享我的位置（仅在岗时）").uncheck()
    assert phone_page.locator("[data-position-status]").inner_text() == "未共享位置。"
