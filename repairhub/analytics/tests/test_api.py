"""/api/v1/analytics: the same figures as the services, the same refusals as the pages."""

from __future__ import annotations

import json
from datetime import date

import pytest
import time_machine
from django.test import Client

from repairhub.accounts.services import issue_token
from repairhub.analytics import queries, rankings
from repairhub.analytics.models import AppraisalMonth
from repairhub.analytics.periods import Filters, Period
from repairhub.api.tests.conftest import Api

from .history import local
from .small import repaired, waiting

pytestmark = pytest.mark.django_db

NOW = local(date(2026, 6, 3), 10)
MAY = {"start": "2026-05-01", "end": "2026-05-31"}


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def api(user) -> Api:
    return Api(Client(), issue_token(user, name="test"))


def test_dashboard_is_the_services_figures_as_json(world, clock):
    repaired(world, date(2026, 5, 4), hours=3, rating=4)
    repaired(world, date(2026, 5, 12), hours=9, rating=2, result="failed")
    waiting(world, date(2026, 5, 20))

    r = api(world.manager).get("/analytics/dashboard", {**MAY, "grain": "week", "split": "channel"})

    assert r.status_code == 200, r.content
    body = r.json()
    period = Period(date(2026, 5, 1), date(2026, 5, 31), "week")
    want = json.loads(json.dumps(queries.dashboard(period, Filters(), split="channel")))
    assert body == want
    assert body["summary"] == {
        "reported": 3,
        "completed": 2,
        "success_rate": 0.5,
        "mean_repair_hours": 6.0,
    }
    assert body["volume"]["series"] == [
        {"key": "web", "label": "网上报修", "data": [0, 1, 1, 1, 0], "total": 3}
    ]
    assert body["volume"]["buckets"][0] == "2026-04-27"  # the Monday of the week of May 1


@pytest.mark.parametrize("who", ["reporter", "technician", "agent"])
def test_analytics_endpoints_refuse_other_roles(world, clock, who):
    client = api(getattr(world, who))
    for path in [
        "/analytics/dashboard",
        "/analytics/rankings/technicians",
        "/analytics/workload/agents",
        "/analytics/orders?figure=reported",
        "/analytics/appraisals",
        "/analytics/appraisals/2026-05",
    ]:
        r = client.get(path)
        assert r.status_code == 403, path
        assert r.json()["code"] == "forbidden"
    r = client.post("/analytics/appraisals/2026-05/compute")
    assert r.status_code == 403
    assert not AppraisalMonth.objects.exists()


def test_anonymous_callers_get_401(db, client):
    assert Api(client).get("/analytics/dashboard").status_code == 401


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        (
            {"start": "2026-02-30"},
            "start",
            "字段 start：日期格式不正确，请使用 YYYY-MM-DD，例如 2026-05-01。",
        ),
        ({"grain": "hour"}, "grain", "字段 grain：只能是以下之一：day、week、month。"),
        ({"category": "nope"}, "category", "未知的报修类别“nope”，请从列表中选择。"),
        (
            {"channel": "fax"},
            "channel",
            "未知的报修渠道“fax”，只能是：web、qr、phone、walk_in、partner。",
        ),
        ({"place": "Z9"}, "place", "未知的报修地点“Z9”，请从列表中选择。"),
        ({"start": "2026-06-01", "end": "2026-05-01"}, "start", "开始日期不能晚于结束日期。"),
    ],
)
def test_bad_scope_is_a_422_in_words(world, clock, params, field, message):
    r = api(world.manager).get("/analytics/dashboard", params)

    assert r.status_code == 422
    assert r.json() == {"code": "invalid", "message": message, "field": field}


def test_rankings_and_workload_endpoints(world, clock, settings):
    settings.ANALYTICS_MIN_ORDERS = 2
    repaired(world, date(2026, 5, 4), hours=3)
    repaired(world, date(2026, 5, 5), hours=5)
    repaired(world, date(2026, 5, 6), technician=world.technician2, channel="phone")
    client = api(world.dispatcher)

    eff = client.get("/analytics/rankings/technicians", MAY).json()
    disp = client.get("/analytics/rankings/dispatchers", MAY).json()
    agents = client.get("/analytics/workload/agents", {**MAY, "grain": "month"}).json()
    unknown = client.get("/analytics/rankings/agents", MAY)

    period = Period(date(2026, 5, 1), date(2026, 5, 31))
    want = rankings.technician_efficiency(period, Filters()).as_dict()
    assert {k: v for k, v in eff.items() if k != "period"} == want
    assert [(r["username"], r["orders"], r["mean_hours"]) for r in eff["ranked"]] == [
        ("technician", 2, 4.0)
    ]
    assert [r["username"] for r in eff["insufficient"]] == ["technician2"]
    assert [(r["username"], r["orders"], r["mean_minutes"]) for r in disp["ranked"]] == [
        ("dispatcher", 3, 20.0)
    ]
    assert agents["buckets"] == ["2026-05-01"]
    assert [(r["username"], r["calls"], r["first_contact_rate"]) for r in agents["rows"]] == [
        ("agent", 1, 1.0)
    ]
    assert unknown.status_code == 422


def test_orders_behind_a_figure(world, clock):
    fast = repaired(world, date(2026, 5, 4), hours=3, rating=5)
    repaired(world, date(2026, 5, 5), hours=5, rating=2)

    r = api(world.manager).get(
        "/analytics/orders", {**MAY, "figure": "rated", "dim": "rating", "key": "5"}
    )
    bad = api(world.manager).get("/analytics/orders", {**MAY, "figure": "rated", "dim": "mood"})

    assert r.status_code == 200
    assert [o["number"] for o in r.json()["items"]] == [fast.number]
    assert r.json()["count"] == 1
    assert bad.status_code == 422
    assert bad.json()["message"] == "下钻参数 dim 不正确。"


def test_appraisal_compute_sign_and_refuse_recompute(world, clock):
    repaired(world, date(2026, 5, 4), hours=3, rating=5)
    manager = api(world.manager)

    computed = manager.post("/analytics/appraisals/2026-05/compute")
    by_admin = api(world.admin).post("/analytics/appraisals/2026-05/sign", {"version": 1})
    signed = manager.post("/analytics/appraisals/2026-05/sign", {"version": 1})
    again = manager.post("/analytics/appraisals/2026-05/compute")
    listed = manager.get("/analytics/appraisals")

    assert computed.status_code == 200, computed.content
    body = computed.json()
    assert (body["month"], body["status"], body["version"]) == ("2026-05", "draft", 1)
    assert [(r["technician"], r["orders"], r["rank"]) for r in body["rows"]] == [
        ("technician", 1, None)
    ]
    assert by_admin.status_code == 403
    assert signed.status_code == 200 and signed.json()["signed_by"] == "manager"
    assert again.status_code == 409
    assert again.json() == {"code": "signed", "message": "2026-05 的考核已签字确认，不能重新计算。"}
    assert [(m["month"], m["status"], m["rows"]) for m in listed.json()["items"]] == [
        ("2026-05", "signed", [])
    ]


def test_appraisal_of_a_month_not_computed_is_404(world, clock):
    r = api(world.manager).get("/analytics/appraisals/2026-04")
    bad = api(world.manager).get("/analytics/appraisals/April")

    assert r.status_code == 404
    assert r.json()["message"] == "2026-04 的考核还没有计算。"
    assert bad.status_code == 422


def test_sign_without_a_body_signs_the_current_version(world, clock):
    repaired(world, date(2026, 5, 4), hours=3, rating=5)
    manager = api(world.manager)
    manager.post("/analytics/appraisals/2026-05/compute")
    manager.post("/analytics/appraisals/2026-05/compute")

    r = manager.post("/analytics/appraisals/2026-05/sign")

    assert r.status_code == 200, r.content
    assert (r.json()["status"], r.json()["version"]) == ("signed", 2)
