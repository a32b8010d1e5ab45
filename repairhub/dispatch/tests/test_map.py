"""The live map: its snapshot (stale marks, tracks, orders, permissions, query count), the
page, its JSON feed, and the technician page's position reports."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from repairhub.accounts.roles import Role
from repairhub.dispatch.models import Position, TechnicianProfile
from repairhub.dispatch.positions import map_snapshot, record_position
from repairhub.dispatch.services import ensure_profile
from repairhub.places.models import Place, PlaceKind
from repairhub.places.services import create_place
from repairhub.testing.personas import make_user
from repairhub.workorders.errors import NotAllowed
from repairhub.workorders.states import Status

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 5, 4, 4, 0, tzinfo=dt.UTC)
MAP = reverse("dispatch:map")
FEED = reverse("dispatch:map-feed")
REPORT = reverse("dispatch:position-report")
MINE = reverse("workorders:tech-list")


def set_profile(user, **fields) -> TechnicianProfile:
    # Duty and base are edited by the lead's admin pages; no service to call for them yet.
    profile = ensure_profile(user)
    TechnicianProfile.objects.filter(pk=profile.pk).update(**fields)
    return profile


def client_for(user, **kw) -> Client:
    client = Client(**kw)
    client.force_login(user)
    return client


def by_name(items: list[dict], key: str = "username") -> dict[str, dict]:
    return {item[key]: item for item in items}


@pytest.fixture
def noon():
    with time_machine.travel(NOON, tick=False):
        yield NOON


@pytest.fixture
def library(world) -> Place:
    """A second building with its own coordinates, and a room in it."""
    campus = Place.objects.get(code="E")
    building = create_place(
        kind=PlaceKind.BUILDING,
        code="LIB",
        name="图书馆",
        parent=campus,
        latitude="30.505000",
        longitude="114.410000",
    )
    floor = create_place(kind=PlaceKind.FLOOR, code="LIB-1F", name="1层", parent=building)
    return create_place(kind=PlaceKind.ROOM, code="LIB-101", name="101", parent=floor)


def walk(user, minutes_ago: list[int], now: dt.datetime) -> None:
    """Reports every few minutes, moving about 100 m north each time."""
    for i, ago in enumerate(sorted(minutes_ago, reverse=True)):
        record_position(
            user,
            latitude=Decimal("30.500000") + Decimal(i) / 1000,
            longitude="114.400000",
            at=now - dt.timedelta(minutes=ago),
        )


# --- the snapshot ---------------------------------------------------------------------------


def test_snapshot_shows_positions_stale_marks_and_tracks(world, noon, settings):
    settings.POSITION_STALE_MINUTES = 10
    settings.POSITION_TRACK_MINUTES = 60
    walk(world.technician, [150, 50, 30, 2], noon)
    walk(world.technician2, [25], noon)
    set_profile(world.expert, base_latitude="30.490000", base_longitude="114.390000")

    snap = map_snapshot(world.dispatcher)

    techs = by_name(snap["technicians"])
    assert set(techs) == {"technician", "technician2", "team_lead", "expert"}
    live = techs["technician"]
    assert (live["lat"], live["lng"], live["at_base"]) == (30.503, 114.4, False)
    assert (live["stale"], live["on_duty"], live["last_position_at"]) == (
        False,
        True,
        noon - dt.timedelta(minutes=2),
    )
    # The report of 150 minutes ago is outside the 60-minute track; oldest first.
    assert live["track"] == [[30.501, 114.4], [30.502, 114.4], [30.503, 114.4]]
    assert live["team"] == "水电一班"

    assert techs["technician2"]["stale"] is True
    assert techs["technician2"]["track"] == [[30.5, 114.4]]

    base = techs["expert"]
    assert (base["lat"], base["lng"], base["at_base"], base["stale"]) == (
        30.49,
        114.39,
        True,
        True,
    )
    assert base["last_position_at"] is None
    nowhere = techs["team_lead"]
    assert (nowhere["lat"], nowhere["lng"], nowhere["at_base"], nowhere["stale"]) == (
        None,
        None,
        False,
        True,
    )
    assert snap["now"] == noon
    assert (snap["stale_minutes"], snap["track_minutes"]) == (10, 60)


def test_snapshot_marks_off_duty_technicians(world, noon):
    walk(world.technician, [1], noon)
    set_profile(world.technician, on_duty=False)
    tech = by_name(map_snapshot(world.dispatcher)["technicians"])["technician"]
    assert (tech["on_duty"], tech["stale"], tech["lat"]) == (False, False, 30.5)


def test_snapshot_lists_open_orders_at_their_buildings_coordinates(world, library, noon):
    waiting = world.order(Status.ACCEPTED, urgency="critical", place=library)
    working = world.order(Status.IN_PROGRESS)
    on_hold = world.order(Status.ON_HOLD, technician=world.technician2)
    world.order(Status.COMPLETED)
    world.order(Status.CLOSED)
    world.order(Status.CANCELLED)
    world.order(Status.SUBMITTED, place=None, address="西区食堂后门")
    campus_only = world.order(Status.SUBMITTED, place=Place.objects.get(code="E"))

    snap = map_snapshot(world.dispatcher)

    orders = by_name(snap["orders"], "number")
    assert set(orders) == {waiting.number, working.number, on_hold.number}
    # The critical one comes first in the list.
    assert snap["orders"][0]["number"] == waiting.number
    assert orders[waiting.number] == {
        "number": waiting.number,
        "url": f"/orders/{waiting.number}/",
        "status": "accepted",
        "status_label": "已受理",
        "urgency": "critical",
        "urgency_label": "特急",
        "category": "水电 → 灯具",
        "place": "东校区 / 图书馆 / 1层 / 101",
        "lat": 30.505,
        "lng": 114.41,
        "assignee": None,
        "assignee_name": None,
        "created_at": waiting.created_at,
    }
    # The room inherits the coordinates of its building, three levels up.
    assert (orders[working.number]["lat"], orders[working.number]["lng"]) == (30.5, 114.4)
    assert orders[working.number]["assignee"] == "technician"
    # The address-only order and the campus without coordinates are counted, not drawn.
    assert snap["unmapped_orders"] == 2
    assert campus_only.number not in orders

    techs = by_name(snap["technicians"])
    assert techs["technician"]["open_orders"] == 1
    assert techs["technician2"]["open_orders"] == 1
    assert techs["expert"]["open_orders"] == 0


def test_snapshot_legend_has_a_colour_for_every_state_drawn(world, noon):
    legend = map_snapshot(world.dispatcher)["legend"]
    assert [s["code"] for s in legend["statuses"]] == [
        "submitted",
        "accepted",
        "dispatched",
        "acknowledged",
        "in_progress",
        "on_hold",
    ]
    assert all(s["color"].startswith("#") and s["label"] for s in legend["statuses"])
    assert [u["code"] for u in legend["urgencies"]] == ["low", "normal", "high", "critical"]
    radii = [u["radius"] for u in legend["urgencies"]]
    assert radii == sorted(radii)
    assert [t["code"] for t in legend["technicians"]] == ["live", "stale", "base"]


def test_team_lead_sees_his_team_and_its_orders_only(world, noon):
    walk(world.technician, [1], noon)
    walk(world.technician2, [1], noon)
    mine = world.order(Status.IN_PROGRESS)
    world.order(Status.IN_PROGRESS, technician=world.technician2)
    world.order(Status.ACCEPTED)

    snap = map_snapshot(world.team_lead)

    assert [t["username"] for t in snap["technicians"]] == ["team_lead", "technician"]
    assert [o["number"] for o in snap["orders"]] == [mine.number]


@pytest.mark.parametrize("who", ["manager", "admin", "dispatcher"])
def test_managers_and_admins_see_everyone(world, noon, who):
    assert len(map_snapshot(getattr(world, who))["technicians"]) == 4


@pytest.mark.parametrize("who", ["technician", "expert", "reporter", "agent", "qc_inspector"])
def test_snapshot_is_refused_to_other_roles(world, noon, who):
    with pytest.raises(NotAllowed):
        map_snapshot(getattr(world, who))


def test_inactive_technicians_are_left_out(world, noon):
    world.technician2.is_active = False
    world.technician2.save()
    assert "technician2" not in by_name(map_snapshot(world.dispatcher)["technicians"])


def test_snapshot_queries_do_not_grow_with_technicians_and_orders(world, library, noon):
    walk(world.technician, [20, 10, 1], noon)
    world.order(Status.IN_PROGRESS)
    viewer = world.dispatcher
    viewer.roles  # noqa: B018 — loaded once per request by the context processor anyway

    with CaptureQueriesContext(connection) as few:
        map_snapshot(viewer)

    for i in range(8):
        tech = make_user(f"tech{i}", Role.TECHNICIAN, team=world.team)
        set_profile(tech, base_latitude="30.4", base_longitude="114.3")
        walk(tech, [30, 15, 3], noon)
        world.order(Status.DISPATCHED, technician=tech, place=library)
        world.order(Status.SUBMITTED)

    with CaptureQueriesContext(connection) as many:
        snap = map_snapshot(viewer)

    assert len(snap["technicians"]) == 12
    assert len(many.captured_queries) == len(few.captured_queries) <= 4


# --- the page -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["dispatcher", "team_lead", "manager", "admin"])
def test_map_page_opens_for_dispatch_roles(world, who):
    response = client_for(getattr(world, who)).get(MAP)
    assert response.status_code == 200
    assert response.templates[0].name == "dispatch/map.html"


@pytest.mark.parametrize("who", ["technician", "expert", "reporter", "agent", "qc_inspector"])
def test_map_page_is_refused_to_others(world, who):
    response = client_for(getattr(world, who)).get(MAP)
    assert response.status_code == 403
    assert "您无权访问此页面。" in response.content.decode()


def test_map_page_sends_strangers_to_log_in(db, client):
    response = client.get(MAP)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_map_page_lists_technicians_and_orders_without_the_map(world, noon, settings):
    settings.POSITION_STALE_MINUTES = 10
    walk(world.technician, [3, 1], noon)
    walk(world.technician2, [40], noon)
    order = world.order(Status.DISPATCHED, urgency="high")
    world.order(Status.ACCEPTED, place=None, address="西区食堂后门")

    html = client_for(world.dispatcher).get(MAP).content.decode()

    assert 'data-username="technician"' in html
    assert '<tr class="tech-row is-stale" data-username="technician2">' in html
    assert '<tr class="tech-row" data-username="technician">' in html
    assert f'<a href="/orders/{order.number}/">{order.number}</a>' in html
    assert "另有 1 张工单的地点没有坐标" in html
    assert "未配置底图" in html
    assert 'src="/static/vendor/leaflet/leaflet.js"' in html
    assert 'src="/static/dispatch/map.js"' in html
    config = json.loads(_script(html, "map-config"))
    assert config["tileUrl"] == ""
    assert config["feedUrl"] == FEED
    assert config["center"] is None
    snapshot = json.loads(_script(html, "map-snapshot"))
    stale = {t["username"] for t in snapshot["technicians"] if t["stale"]}
    assert stale == {"team_lead", "technician2", "expert"}


def test_map_page_uses_the_configured_tiles_and_centre(world, settings):
    settings.MAP_TILE_URL = "https://tiles.campus.example/{z}/{x}/{y}.png"
    settings.MAP_TILE_ATTRIBUTION = "© 校园地图"
    settings.MAP_CENTER = (30.5, 114.4)
    html = client_for(world.dispatcher).get(MAP).content.decode()
    config = json.loads(_script(html, "map-config"))
    assert config["tileUrl"] == "https://tiles.campus.example/{z}/{x}/{y}.png"
    assert config["tileAttribution"] == "© 校园地图"
    assert config["center"] == [30.5, 114.4]
    assert "未配置底图" not in html


def _script(html: str, element_id: str) -> str:
    start = html.index(f'<script id="{element_id}" type="application/json">')
    start = html.index(">", start) + 1
    return html[start : html.index("</script>", start)]


# --- the feed -------------------------------------------------------------------------------


def test_feed_returns_the_snapshot_as_json(world, noon):
    walk(world.technician, [5, 1], noon)
    order = world.order(Status.ACKNOWLEDGED)
    response = client_for(world.dispatcher).get(FEED)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    tech = by_name(body["technicians"])["technician"]
    assert tech["track"] == [[30.5, 114.4], [30.501, 114.4]]
    assert tech["last_position_at"] == "2026-05-04T03:59:00Z"
    assert body["orders"][0]["number"] == order.number
    assert body["now"] == "2026-05-04T04:00:00Z"


def test_feed_refuses_other_roles_in_json(world):
    response = client_for(world.technician).get(FEED)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert "实时地图" in response.json()["message"]


def test_feed_asks_strangers_to_log_in_in_json(db, client):
    response = client.get(FEED)
    assert response.status_code == 401
    assert response.json() == {"code": "unauthorized", "message": "登录已过期，请重新登录。"}


# --- reports from the technician page -------------------------------------------------------


def post_json(client: Client, body, **headers):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(REPORT, data=data, content_type="application/json", headers=headers)


def test_technician_page_reports_a_position_as_json(world, noon):
    response = post_json(
        client_for(world.technician),
        {"latitude": 30.5123, "longitude": 114.4012, "accuracy": 8.6, "recorded_at": None},
    )
    assert response.status_code == 201
    assert response.json() == {
        "position": {
            "latitude": 30.5123,
            "longitude": 114.4012,
            "accuracy": 9,
            "recorded_at": "2026-05-04T04:00:00Z",
        },
        "throttled": False,
    }
    assert TechnicianProfile.objects.get(user=world.technician).last_position_at == noon


def test_technician_page_reports_a_position_as_a_form(world, noon):
    response = client_for(world.technician).post(
        REPORT,
        {
            "latitude": "30.5123",
            "longitude": "114.4012",
            "recorded_at": "2026-05-04T11:59:30+08:00",
        },
    )
    assert response.status_code == 201
    assert Position.objects.get().recorded_at == noon - dt.timedelta(seconds=30)


def test_a_repeat_report_answers_200_and_throttled(world, noon):
    client = client_for(world.technician)
    post_json(client, {"latitude": 30.5123, "longitude": 114.4012})
    response = post_json(client, {"latitude": 30.5123, "longitude": 114.4012})
    assert response.status_code == 200
    assert response.json()["throttled"] is True
    assert Position.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"latitude": 91, "longitude": 114.4}, "latitude"),
        ({"latitude": 30.5, "longitude": -180.01}, "longitude"),
        ({"latitude": "北纬30", "longitude": 114.4}, "latitude"),
        ({"longitude": 114.4}, "latitude"),
        ({"latitude": 0, "longitude": 0}, "latitude"),
        ({"latitude": 30.5, "longitude": 114.4, "accuracy": -5}, "accuracy"),
        ({"latitude": 30.5, "longitude": 114.4, "recorded_at": "yesterday"}, "recorded_at"),
        (
            {"latitude": 30.5, "longitude": 114.4, "recorded_at": "2026-13-01T00:00:00"},
            "recorded_at",
        ),
        (
            {"latitude": 30.5, "longitude": 114.4, "recorded_at": "2026-05-04T04:10:00Z"},
            "recorded_at",
        ),
    ],
)
def test_bad_reports_get_422_naming_the_field_and_store_nothing(world, noon, body, field):
    response = post_json(client_for(world.technician), body)
    assert response.status_code == 422
    reply = response.json()
    assert (reply["code"], reply["field"]) == ("invalid", field)
    assert reply["message"]
    assert Position.objects.count() == 0
    assert not TechnicianProfile.objects.filter(last_position_at__isnull=False).exists()


@pytest.mark.parametrize("body", ["{not json", "[30.5, 114.4]"])
def test_a_body_that_is_not_a_json_object_gets_422(world, body):
    response = post_json(client_for(world.technician), body)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"
    assert Position.objects.count() == 0


def test_reporter_cannot_post_positions(world):
    response = post_json(client_for(world.reporter), {"latitude": 30.5, "longitude": 114.4})
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert Position.objects.count() == 0


def test_off_duty_technician_is_refused(world):
    set_profile(world.technician, on_duty=False)
    response = post_json(client_for(world.technician), {"latitude": 30.5, "longitude": 114.4})
    assert response.status_code == 403
    assert response.json()["code"] == "off_duty"
    assert Position.objects.count() == 0


def test_strangers_cannot_post_positions(db, client):
    response = post_json(client, {"latitude": 30.5, "longitude": 114.4})
    assert response.status_code == 401
    assert Position.objects.count() == 0


def test_a_report_without_the_csrf_token_is_refused_in_json(world):
    client = client_for(world.technician, enforce_csrf_checks=True)
    response = post_json(client, {"latitude": 30.5, "longitude": 114.4})
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    assert Position.objects.count() == 0


def test_a_report_with_the_csrf_token_is_accepted(world):
    client = client_for(world.technician, enforce_csrf_checks=True)
    client.get(MINE)  # sets the CSRF cookie, as the phone page does
    token = client.cookies["csrftoken"].value
    response = post_json(client, {"latitude": 30.5, "longitude": 114.4}, X_CSRFToken=token)
    assert response.status_code == 201


def test_reports_must_be_posted(world):
    assert client_for(world.technician).get(REPORT).status_code == 405


# --- the technician's page ------------------------------------------------------------------


def test_technician_page_offers_to_share_the_position(world):
    html = client_for(world.technician).get(MINE).content.decode()
    assert "共享我的位置（仅在岗时）" in html
    assert f'data-url="{REPORT}"' in html
    assert 'data-on-duty="1"' in html
    assert 'src="/static/dispatch/position.js"' in html


def test_technician_page_says_when_he_is_off_duty(world):
    set_profile(world.technician, on_duty=False)
    html = client_for(world.technician).get(MINE).content.decode()
    assert 'data-on-duty="0"' in html
    assert "您当前不在岗，不会上报位置。" in html
