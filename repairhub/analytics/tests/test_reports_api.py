"""/api/v1/analytics/reports and /report-subscriptions: the page's access and writes as JSON."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.test import Client

from repairhub.accounts.services import issue_token
from repairhub.analytics.models import ReportRun, ReportSubscription
from repairhub.api.tests.conftest import Api

from .history import local
from .small import repaired

pytestmark = pytest.mark.django_db

NOW = local(date(2026, 6, 3), 10)


@pytest.fixture
def clock(world):
    with time_machine.travel(NOW, tick=False):
        yield


def api(user) -> Api:
    return Api(Client(), issue_token(user, name="test"))


def test_a_report_is_requested_polled_and_downloaded(
    world, clock, django_capture_on_commit_callbacks
):
    with time_machine.travel(local(date(2026, 5, 4), 8), tick=False):
        repaired(world, date(2026, 5, 4), hours=3)
    client = api(world.dispatcher)

    with django_capture_on_commit_callbacks(execute=False) as queued:
        r = client.post(
            "/analytics/reports",
            {
                "kind": "quarterly",
                "topic": "faults",
                "period": "2026-Q2",
                "formats": ["pdf", "xlsx"],
            },
        )
    assert r.status_code == 202, r.content
    body = r.json()
    assert body["status"] == "pending" and body["downloads"] == {}
    assert body["title"] == "故障原因专题季报（2026年第2季度）"
    assert (body["start"], body["end"]) == ("2026-04-01", "2026-06-30")

    for callback in queued:  # the worker
        callback()
    run = client.get(f"/analytics/reports/{body['id']}").json()
    assert run["status"] == "done"
    assert run["downloads"] == {
        "pdf": f"/api/v1/analytics/reports/{body['id']}/pdf",
        "xlsx": f"/api/v1/analytics/reports/{body['id']}/xlsx",
    }
    got = client.get(f"/analytics/reports/{body['id']}/pdf")
    assert got.status_code == 200 and got["Content-Type"] == "application/pdf"
    assert b"".join(got.streaming_content).startswith(b"%PDF-")

    listed = client.get("/analytics/reports").json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == body["id"]


@pytest.mark.parametrize("who", ["reporter", "technician"])
def test_other_roles_get_403_and_nothing_is_made(world, clock, who):
    client = api(getattr(world, who))

    assert client.get("/analytics/reports").status_code == 403
    r = client.post("/analytics/reports", {"kind": "monthly"})
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = client.post("/analytics/report-subscriptions", {"kind": "monthly", "format": "pdf"})
    assert r.status_code == 403
    assert not ReportRun.objects.exists() and not ReportSubscription.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"kind": "monthly", "period": "May"}, "period", "时段格式不正确"),
        ({"kind": "monthly", "place": "X9"}, "place", "未知的报修地点“X9”，请从列表中选择。"),
        ({"kind": "monthly", "formats": []}, "format", "请至少选择一种格式（xlsx 或 pdf）。"),
        ({"kind": "hourly"}, "kind", "只能是以下之一"),
        ({"kind": "monthly", "formats": ["docx"]}, "formats.0", "只能是以下之一"),
    ],
)
def test_bad_input_is_422_in_words(world, clock, payload, field, message):
    r = api(world.manager).post("/analytics/reports", payload)

    assert r.status_code == 422, r.content
    assert r.json()["field"] == field
    assert message in r.json()["message"]
    assert not ReportRun.objects.exists()


def test_a_team_lead_gets_only_his_teams_runs(world, clock, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        whole = api(world.manager).post("/analytics/reports", {"kind": "monthly"}).json()
        own = api(world.team_lead).post("/analytics/reports", {"kind": "monthly"}).json()

    lead = api(world.team_lead)
    assert own["limited_to_teams"] is True and whole["limited_to_teams"] is False
    assert [r["id"] for r in lead.get("/analytics/reports").json()["items"]] == [own["id"]]
    assert lead.get(f"/analytics/reports/{whole['id']}").status_code == 403
    assert lead.get(f"/analytics/reports/{whole['id']}/xlsx").status_code == 403
    assert lead.get(f"/analytics/reports/{own['id']}/xlsx").status_code == 200
    assert lead.get("/analytics/reports/999999").status_code == 404


def test_subscriptions_are_the_callers_own(world, clock):
    me, other = api(world.manager), api(world.dispatcher)

    r = me.post(
        "/analytics/report-subscriptions",
        {"kind": "annual", "topic": "satisfaction", "format": "xlsx", "category": "lamp"},
    )
    assert r.status_code == 201, r.content
    sub = r.json()
    assert (sub["kind"], sub["topic"], sub["format"], sub["filters"], sub["active"]) == (
        "annual",
        "satisfaction",
        "xlsx",
        {"category": "lamp"},
        True,
    )
    again = me.post(
        "/analytics/report-subscriptions",
        {"kind": "annual", "topic": "satisfaction", "format": "xlsx", "category": "lamp"},
    )
    assert again.status_code == 409 and again.json()["code"] == "already_subscribed"
    assert other.get("/analytics/report-subscriptions").json() == {"items": []}
    assert (
        other.client.delete(
            f"/api/v1/analytics/report-subscriptions/{sub['id']}",
            headers={"Authorization": f"Bearer {other.token}"},
        ).status_code
        == 404
    )

    patched = me.client.patch(
        f"/api/v1/analytics/report-subscriptions/{sub['id']}",
        data='{"active": false}',
        content_type="application/json",
        headers={"Authorization": f"Bearer {me.token}"},
    )
    assert patched.status_code == 200 and patched.json()["active"] is False
    assert [s["active"] for s in me.get("/analytics/report-subscriptions").json()["items"]] == [
        False
    ]
    gone = me.client.delete(
        f"/api/v1/analytics/report-subscriptions/{sub['id']}",
        headers={"Authorization": f"Bearer {me.token}"},
    )
    assert gone.status_code == 204
    assert not ReportSubscription.objects.exists()
