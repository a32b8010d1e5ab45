from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from repairhub.accounts.models import ApiToken

from .conftest import Api


def run_token_command(*args: str) -> list[str]:
    out = io.StringIO()
    call_command("token", *args, stdout=out)
    return out.getvalue().strip().splitlines()


def test_token_command_prints_a_working_token_last(world):
    lines = run_token_command("create", "partner", "--name", "合作平台 A")

    secret = lines[-1]
    assert secret.startswith("rh_")
    assert lines[0] == "已为 partner 签发接口令牌。令牌只显示这一次，请妥善保存："
    token = ApiToken.objects.get()
    assert (token.user, token.name) == (world.partner, "合作平台 A")
    assert token.digest != secret
    r = Api(Client(), secret).get("/orders")
    assert r.status_code == 200
    assert r.json() == {"items": [], "count": 0}


def test_token_command_refuses_unknown_user(db):
    with pytest.raises(CommandError) as exc:
        run_token_command("create", "ghost")

    assert str(exc.value) == "用户“ghost”不存在，请先创建该用户。"
    assert ApiToken.objects.count() == 0


def test_token_authenticates_as_its_user(world):
    secret = run_token_command("create", "reporter")[-1]
    mine = world.order()
    world.order(reporter=world.reporter2)

    r = Api(Client(), secret).get("/orders")

    assert [i["number"] for i in r.json()["items"]] == [mine.number]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Bearer rh_wrong", "接口令牌无效、已撤销，或其账号已停用。"),
        ("Bearer ", "接口令牌无效、已撤销，或其账号已停用。"),
        ("Basic cmVwb3J0ZXI6cGFzcw==", "Authorization 头只支持 Bearer 接口令牌。"),
    ],
)
def test_bad_authorization_header_is_401(world, client, header, message):
    r = client.get("/api/v1/orders", headers={"Authorization": header})

    assert r.status_code == 401
    assert r.json() == {"code": "unauthorized", "message": message}


def test_bad_token_is_401_even_with_a_session(world, client):
    client.force_login(world.dispatcher)

    r = client.get("/api/v1/orders", headers={"Authorization": "Bearer rh_wrong"})

    assert r.status_code == 401


def test_session_reads_need_no_csrf(world):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.dispatcher)

    assert browser.get("/api/v1/orders").status_code == 200


def test_inactive_users_token_stops_working(world, api_as):
    api = api_as("technician")
    world.technician.is_active = False
    world.technician.save(update_fields=["is_active"])

    assert api.get("/orders").status_code == 401


def test_messages_follow_accept_language_default_chinese(world, client):
    r = client.get("/api/v1/orders", headers={"Accept-Language": "zh-hans"})

    assert r.json()["message"] == "请先登录，或在 Authorization 头中提供有效的接口令牌（Bearer）。"


# --- OpenAPI and the docs page --------------------------------------------------------------


def test_openapi_lists_every_endpoint(db, client):
    schema = client.get("/api/v1/openapi.json").json()

    assert sorted(schema["paths"]) == [
        "/api/v1/analytics/appraisals",
        "/api/v1/analytics/appraisals/{month}",
        "/api/v1/analytics/appraisals/{month}/compute",
        "/api/v1/analytics/appraisals/{month}/sign",
        "/api/v1/analytics/dashboard",
        "/api/v1/analytics/forecast",
        "/api/v1/analytics/hotspots",
        "/api/v1/analytics/orders",
        "/api/v1/analytics/rankings/{kind}",
        "/api/v1/analytics/report-subscriptions",
        "/api/v1/analytics/report-subscriptions/{sub_id}",
        "/api/v1/analytics/reports",
        "/api/v1/analytics/reports/{run_id}",
        "/api/v1/analytics/reports/{run_id}/{fmt}",
        "/api/v1/analytics/workload/{kind}",
        "/api/v1/categories",
        "/api/v1/changes",
        "/api/v1/complaints",
        "/api/v1/complaints/letters",
        "/api/v1/complaints/{number}",
        "/api/v1/complaints/{number}/entries",
        "/api/v1/complaints/{number}/handler",
        "/api/v1/dispatch/map",
        "/api/v1/expert/orders",
        "/api/v1/followups",
        "/api/v1/inspections",
        "/api/v1/inspections/{inspection_id}",
        "/api/v1/inspections/{inspection_id}/record",
        "/api/v1/me/notifications",
        "/api/v1/me/notifications/read",
        "/api/v1/me/position",
        "/api/v1/orders",
        "/api/v1/orders/{number}",
        "/api/v1/orders/{number}/actions/{action}",
        "/api/v1/orders/{number}/attachments",
        "/api/v1/orders/{number}/candidates",
        "/api/v1/orders/{number}/changes",
        "/api/v1/orders/{number}/changes/{change_id}/approve",
        "/api/v1/orders/{number}/changes/{change_id}/reject",
        "/api/v1/orders/{number}/dispatch",
        "/api/v1/orders/{number}/escalate",
        "/api/v1/orders/{number}/rating",
        "/api/v1/orders/{number}/rework",
        "/api/v1/orders/{number}/visits",
        "/api/v1/places",
        "/api/v1/plans",
        "/api/v1/plans/{plan_id}",
        "/api/v1/plans/{plan_id}/apply",
        "/api/v1/plans/{plan_id}/routes",
        "/api/v1/pool",
        "/api/v1/pool/{number}/claim",
        "/api/v1/qc/checks",
        "/api/v1/qc/checks/{check_id}/photos",
        "/api/v1/qc/checks/{check_id}/result",
        "/api/v1/qc/draws",
        "/api/v1/qc/summary",
        "/api/v1/rectifications/{rectification_id}/done",
        "/api/v1/rectifications/{rectification_id}/verify",
        "/api/v1/referrals",
        "/api/v1/referrals/{referral_id}/close",
        "/api/v1/rework-candidate",
        "/api/v1/rework-rates",
        "/api/v1/teams/{code}/rebalance",
        "/api/v1/tracking/{token}/rating",
    ]
    assert set(schema["components"]["securitySchemes"]) == {"BearerToken", "SessionCookie"}
    assert "Idempotency-Key" in [
        p["name"] for p in schema["paths"]["/api/v1/orders"]["post"]["parameters"]
    ]


def test_docs_page_loads_nothing_from_a_cdn(db, client):
    r = client.get("/api/v1/docs")

    html = r.content.decode()
    assert r.status_code == 200
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in html
    assert "/api/v1/docs/assets/swagger-ui.css" in html
    assert "http://" not in html
    assert "https://" not in html
    assert "cdn" not in html.lower()


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-ui-init.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
    ],
)
def test_docs_assets_are_served_locally(db, client, name, content_type):
    r = client.get(f"/api/v1/docs/assets/{name}")

    assert r.status_code == 200
    assert r["Content-Type"] == content_type
    assert b"".join(r.streaming_content)


def test_only_known_docs_assets_are_served(db, client):
    assert client.get("/api/v1/docs/assets/..%2F__init__.py").status_code == 404
    assert client.get("/api/v1/docs/assets/redoc.standalone.js.map").status_code == 404
