"""POST /api/v1/me/position and GET /api/v1/dispatch/map."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.test import Client

from repairhub.accounts.services import issue_token
from repairhub.dispatch.models import Position, TechnicianProfile
from repairhub.dispatch.positions import record_position
from repairhub.dispatch.services import ensure_profile
from repairhub.workorders.states import Status

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 5, 4, 4, 0, tzinfo=dt.UTC)
ROOT = "/api/v1"


class Api:
    """A JSON client holding a bearer token (or none)."""

    def __init__(self, token: str | None = None, client: Client | None = None):
        self.client = client or Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str):
        return self.client.get(ROOT + path, headers=self.headers)

    def post(self, path: str, body):
        data = body if isinstance(body, str) else json.dumps(body)
        return self.client.post(
            ROOT + path, data=data, content_type="application/json", headers=self.headers
        )


@pytest.fixture
def api_as(world):
    def make(who: str) -> Api:
        return Api(issue_token(getattr(world, who), name="test"))

    return make


@pytest.fixture
def noon():
    with time_machine.travel(NOON, tick=False):
        yield NOON


# --- POST /me/position ----------------------------------------------------------------------


def test_technician_posts_his_position(api_as, world, noon):
    response = api_as("technician").post(
        "/me/position",
        {
            "latitude": 30.512345,
            "longitude": 114.401234,
            "accuracy": 15,
            "recorded_at": "2026-05-04T11:59:40+08:00",
        },
    )
    assert response.status_code == 201
    assert response.json() == {
        "position": {
            "latitude": 30.512345,
            "longitude": 114.401234,
            "accuracy": 15,
            "recorded_at": "2026-05-04T03:59:40Z",
        },
        "throttled": False,
    }
    profile = TechnicianProfile.objects.get(user=world.technician)
    assert profile.last_position_at == noon - dt.timedelta(seconds=20)
    assert str(profile.last_latitude) == "30.512345"


def test_recorded_at_defaults_to_now(api_as, noon):
    response = api_as("expert").post("/me/position", {"latitude": 30.5, "longitude": 114.4})
    assert response.status_code == 201
    assert response.json()["position"]["recorded_at"] == "2026-05-04T04:00:00Z"
    assert response.json()["position"]["accuracy"] is None


def test_a_repeat_is_throttled_with_200(api_as, noon):
    api = api_as("technician")
    api.post("/me/position", {"latitude": 30.5, "longitude": 114.4})
    response = api.post("/me/position", {"latitude": 30.50001, "longitude": 114.4})
    assert response.status_code == 200
    assert response.json()["throttled"] is True
    assert response.json()["position"]["latitude"] == 30.5
    assert Position.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"latitude": 90.5, "longitude": 114.4}, "latitude", "不能大于 90"),
        ({"latitude": -90.5, "longitude": 114.4}, "latitude", "不能小于 -90"),
        ({"latitude": 30.5, "longitude": 180.5}, "longitude", "不能大于 180"),
        ({"latitude": 30.5, "longitude": -200}, "longitude", "不能小于 -180"),
        ({"latitude": "north", "longitude": 114.4}, "latitude", "必须是数字"),
        ({"longitude": 114.4}, "latitude", "必须填写"),
        ({"latitude": 30.5, "longitude": 114.4, "accuracy": -1}, "accuracy", "不能小于 0"),
        ({"latitude": 30.5, "longitude": 114.4, "accuracy": 100001}, "accuracy", "不能大于"),
        ({"latitude": 30.5, "longitude": 114.4, "speed": 3}, "speed", "不是该操作支持的字段"),
        ({"latitude": 30.5, "longitude": 114.4, "recorded_at": "soon"}, "recorded_at", "ISO"),
        ({"latitude": 0, "longitude": 0}, "latitude", "(0, 0)"),
        (
            {"latitude": 30.5, "longitude": 114.4, "recorded_at": "2026-05-04T04:05:00Z"},
            "recorded_at",
            "晚于服务器当前时间",
        ),
    ],
)
def test_bad_positions_get_422_with_the_field_and_change_nothing(
    api_as, world, noon, body, field, words
):
    response = api_as("technician").post("/me/position", body)
    assert response.status_code == 422
    reply = response.json()
    assert reply["code"] == "invalid"
    assert reply["field"] == field
    assert words in reply["message"]
    assert Position.objects.count() == 0
    assert not TechnicianProfile.objects.filter(user=world.technician).exists()


def test_not_a_number_is_refused(api_as, noon):
    # Python's JSON reader accepts NaN; the schema must not.
    response = api_as("technician").post("/me/position", '{"latitude": NaN, "longitude": 114.4}')
    assert response.status_code == 422
    assert response.json()["field"] == "latitude"
    assert Position.objects.count() == 0


@pytest.mark.parametrize("who", ["reporter", "dispatcher", "partner"])
def test_people_who_are_not_technicians_cannot_post(api_as, who):
    response = api_as(who).post("/me/position", {"latitude": 30.5, "longitude": 114.4})
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert Position.objects.count() == 0


def test_off_duty_is_refused_with_its_own_code(api_as, world):
    profile = ensure_profile(world.technician)
    TechnicianProfile.objects.filter(pk=profile.pk).update(on_duty=False)
    response = api_as("technician").post("/me/position", {"latitude": 30.5, "longitude": 114.4})
    assert response.status_code == 403
    assert response.json()["code"] == "off_duty"
    assert "不在岗" in response.json()["message"]
    assert Position.objects.count() == 0


def test_anonymous_callers_get_401(db):
    response = Api().post("/me/position", {"latitude": 30.5, "longitude": 114.4})
    assert response.status_code == 401
    assert Position.objects.count() == 0


def test_a_browser_session_needs_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.technician)
    response = Api(client=client).post("/me/position", {"latitude": 30.5, "longitude": 114.4})
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    assert Position.objects.count() == 0


# --- GET /dispatch/map ----------------------------------------------------------------------


def test_dispatcher_reads_the_map(api_as, world, noon):
    record_position(world.technician, latitude=30.5, longitude=114.4, at=noon)
    order = world.order(Status.DISPATCHED, urgency="high")

    response = api_as("dispatcher").get("/dispatch/map")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "now",
        "stale_minutes",
        "track_minutes",
        "technicians",
        "orders",
        "unmapped_orders",
        "legend",
    }
    tech = next(t for t in body["technicians"] if t["username"] == "technician")
    assert tech == {
        "username": "technician",
        "name": "technician",
        "team": "水电一班",
        "on_duty": True,
        "lat": 30.5,
        "lng": 114.4,
        "at_base": False,
        "last_position_at": "2026-05-04T04:00:00Z",
        "stale": False,
        "open_orders": 1,
        "track": [[30.5, 114.4]],
    }
    assert [o["number"] for o in body["orders"]] == [order.number]
    assert body["orders"][0]["urgency_label"] == "紧急"
    assert body["legend"]["statuses"][0] == {
        "code": "submitted",
        "label": "待受理",
        "color": "#e69500",
    }


@pytest.mark.parametrize("who", ["technician", "reporter", "agent"])
def test_others_cannot_read_the_map(api_as, who):
    response = api_as(who).get("/dispatch/map")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_the_endpoints_are_in_the_openapi_document(db):
    paths = Client().get(ROOT + "/openapi.json").json()["paths"]
    assert "post" in paths[ROOT + "/me/position"]
    assert "get" in paths[ROOT + "/dispatch/map"]
