from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from repairhub.places.models import Asset
from repairhub.testing.personas import make_ac_category, make_asset, make_category, make_room
from repairhub.workorders.models import Event, WorkOrder

from .conftest import Api


@pytest.fixture
def report(world) -> dict:
    return {
        "description": "宿舍灯管不亮",
        "category": "lamp",
        "place": world.room.code,
        "reporter_name": "张三",
        "reporter_phone": "13800001111",
        "channel": "web",
    }


def test_anonymous_web_report_creates_order_with_tracking_link(anon, report, settings):
    r = anon.post("/orders", report)

    assert r.status_code == 201, r.json()
    body = r.json()
    order = WorkOrder.objects.get()
    assert body["number"] == order.number
    assert body["status"] == "submitted"
    assert body["status_label"] == "待受理"
    assert body["version"] == 1
    assert body["category"] == "lamp"
    assert body["place"] == "E03-201"
    assert body["place_name"] == "东校区 / 3号楼 / 2层 / 201"
    assert body["reporter_phone"] == "138****1111"
    assert body["tracking_url"] == settings.SITE_URL + "/t/" + order.tracking_token
    assert body["url"] == f"/api/v1/orders/{order.number}"
    assert r["Location"] == f"/api/v1/orders/{order.number}"
    assert order.channel == "web"
    assert order.reporter is None
    assert order.reporter_phone == "13800001111"


def test_anonymous_qr_report_is_accepted(anon, report):
    r = anon.post("/orders", {**report, "channel": "qr"})

    assert r.status_code == 201
    assert WorkOrder.objects.get().channel == "qr"


@pytest.mark.parametrize("channel", ["phone", "walk_in", "partner"])
def test_anonymous_caller_may_not_use_desk_or_partner_channels(anon, report, channel):
    r = anon.post("/orders", {**report, "channel": channel})

    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"
    assert WorkOrder.objects.count() == 0


def test_anonymous_phone_channel_message(anon, report):
    r = anon.post("/orders", {**report, "channel": "phone"})

    assert r.json() == {"code": "forbidden", "message": "电话和现场报修只能由值班员登记。"}


def test_partner_token_submits_on_partner_channel(api_as, report, world):
    r = api_as("partner").post("/orders", {**report, "channel": "partner"})

    assert r.status_code == 201
    order = WorkOrder.objects.get()
    assert order.channel == "partner"
    assert order.reporter == world.partner


def test_agent_registers_phone_report(api_as, report, world):
    r = api_as("agent").post("/orders", {**report, "channel": "phone"})

    assert r.status_code == 201
    order = WorkOrder.objects.get()
    assert order.registered_by == world.agent
    assert order.reporter is None
    # Staff see the number they registered in full.
    assert r.json()["reporter_phone"] == "13800001111"


def test_reporter_with_token_owns_the_order(api_as, report, world):
    r = api_as("reporter").post("/orders", report)

    assert r.status_code == 201
    assert WorkOrder.objects.get().reporter == world.reporter


def test_idempotency_key_replay_returns_first_order(anon, report):
    first = anon.post("/orders", report, **{"Idempotency-Key": "k-123"})
    second = anon.post(
        "/orders", {**report, "description": "改了描述"}, **{"Idempotency-Key": "k-123"}
    )

    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["number"] == first.json()["number"]
    assert second["Idempotent-Replayed"] == "true"
    assert WorkOrder.objects.count() == 1
    assert WorkOrder.objects.get().description == "宿舍灯管不亮"


def test_idempotency_keys_are_scoped_to_the_caller(api_as, report):
    a = api_as("partner").post("/orders", report, **{"Idempotency-Key": "same"})
    b = api_as("reporter").post("/orders", report, **{"Idempotency-Key": "same"})

    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["number"] != b.json()["number"]
    assert WorkOrder.objects.count() == 2


def test_different_keys_make_different_orders(anon, report):
    anon.post("/orders", report, **{"Idempotency-Key": "a"})
    anon.post("/orders", report, **{"Idempotency-Key": "b"})

    assert WorkOrder.objects.count() == 2


def test_overlong_idempotency_key_is_refused(anon, report):
    r = anon.post("/orders", report, **{"Idempotency-Key": "x" * 201})

    assert r.status_code == 422
    assert r.json()["field"] == "Idempotency-Key"
    assert WorkOrder.objects.count() == 0


def test_urgency_defaults_to_the_category(anon, report, world):
    make_category("leak", name="漏水", default_urgency="high")

    r = anon.post("/orders", {**report, "category": "leak"})

    assert r.json()["urgency"] == "high"


def test_naive_preferred_time_is_local_time(anon, report):
    r = anon.post("/orders", {**report, "preferred_time": "2026-05-01T09:30:00"})

    assert r.status_code == 201
    expected = datetime(2026, 5, 1, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert WorkOrder.objects.get().preferred_time == expected
    assert r.json()["preferred_time"] == "2026-05-01T09:30:00+08:00"


def test_address_without_place_is_enough(anon, report):
    r = anon.post("/orders", {**report, "place": "", "address": "东区 3 号楼后门"})

    assert r.status_code == 201
    assert r.json()["place"] is None
    assert WorkOrder.objects.get().address == "东区 3 号楼后门"


@pytest.mark.parametrize(
    ("change", "code", "field", "message"),
    [
        (
            {"category": "nope"},
            "unknown_category",
            "category",
            "未知的报修类别“nope”，请从列表中选择。",
        ),
        ({"place": "X-999"}, "unknown_place", "place", "未知的报修地点“X-999”，请从列表中选择。"),
        ({"description": "   "}, "required", "description", "请描述故障情况。"),
        (
            {"reporter_phone": "12-ab"},
            "invalid_phone",
            "reporter_phone",
            "电话号码格式不正确：请填写 11 位手机号、带区号的座机号或 4–8 位校内分机号。",
        ),
        (
            {"reporter_phone": 13800001111},
            "invalid",
            "reporter_phone",
            "字段 reporter_phone：必须是文字。",
        ),
        ({"description": ["a"]}, "invalid", "description", "字段 description：必须是文字。"),
        (
            {"urgency": "asap"},
            "invalid",
            "urgency",
            "字段 urgency：只能是以下之一：low、normal、high、critical。",
        ),
        (
            {"preferred_time": "明天上午"},
            "invalid",
            "preferred_time",
            "字段 preferred_time：日期时间格式不正确，请使用 ISO 8601 格式，例如 2026-05-01T09:00:00+08:00。",
        ),
        ({"place": "", "address": ""}, "required", "place", "请选择报修地点或填写详细地址。"),
    ],
)
def test_bad_input_is_refused_in_chinese_and_nothing_is_stored(
    anon, report, change, code, field, message
):
    r = anon.post("/orders", {**report, **change})

    assert r.status_code == 422
    assert r.json() == {"code": code, "field": field, "message": message}
    assert WorkOrder.objects.count() == 0
    assert Event.objects.count() == 0


def test_missing_field_is_named(anon, report):
    del report["reporter_name"]

    r = anon.post("/orders", report)

    assert r.status_code == 422
    assert r.json() == {
        "code": "invalid",
        "field": "reporter_name",
        "message": "字段 reporter_name：必须填写。",
    }


def test_several_problems_are_all_listed(anon):
    r = anon.post("/orders", {"category": "lamp"})

    body = r.json()
    assert r.status_code == 422
    assert [e["field"] for e in body["errors"]] == [
        "description",
        "reporter_name",
        "reporter_phone",
    ]


def test_malformed_json_is_refused(anon):
    r = anon.post("/orders", '{"description": "灯坏了",')

    assert r.status_code == 422
    assert r.json() == {"code": "invalid", "message": "请求体不是合法的 JSON，请检查格式。"}
    assert WorkOrder.objects.count() == 0


def test_body_that_is_not_an_object_is_refused(anon):
    r = anon.post("/orders", [1, 2])

    assert r.status_code == 422
    assert r.json()["code"] == "invalid"
    assert r.json()["message"] == "字段 description：必须填写。"
    assert WorkOrder.objects.count() == 0


def test_oversize_body_is_refused_with_413(anon, report):
    r = anon.post("/orders", {**report, "description": "灯" * (1024 * 1024)})

    assert r.status_code == 413
    assert r.json()["code"] == "too_large"
    assert WorkOrder.objects.count() == 0


def test_invalid_token_is_401_not_anonymous(report):
    r = Api(Client(), "rh_not-a-real-token").post("/orders", report)

    assert r.status_code == 401
    assert r.json() == {"code": "unauthorized", "message": "接口令牌无效、已撤销，或其账号已停用。"}
    assert r["WWW-Authenticate"] == 'Bearer realm="repairhub"'
    assert WorkOrder.objects.count() == 0


def test_anonymous_intake_is_rate_limited_per_address(anon, report, settings):
    settings.ANON_INTAKE_RATE = "2/h"

    codes = [anon.post("/orders", report).status_code for _ in range(3)]

    assert codes == [201, 201, 429]
    assert WorkOrder.objects.count() == 2


def test_rate_limit_message(anon, report, settings):
    settings.ANON_INTAKE_RATE = "0/h"

    r = anon.post("/orders", report)

    assert r.status_code == 429
    assert r.json() == {
        "code": "rate_limited",
        "message": "提交过于频繁，请稍后再试；紧急情况请拨打报修电话。",
    }


def test_session_post_requires_csrf(world, report):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.reporter)

    refused = Api(browser).post("/orders", report)
    # A signed-in page hands out the token (and sets the cookie), as the docs page does.
    page = browser.get("/api/v1/docs").content.decode()
    token = re.search(r'data-csrf-token="([^"]+)"', page).group(1)
    accepted = Api(browser).post("/orders", report, **{"X-CSRFToken": token})

    assert refused.status_code == 403
    assert refused.json() == {
        "code": "csrf_failed",
        "message": "CSRF 校验失败：请刷新页面后重试，或在请求头中带上 X-CSRFToken。",
    }
    assert accepted.status_code == 201
    assert WorkOrder.objects.get().reporter == world.reporter


def test_anonymous_post_needs_no_csrf(report):
    r = Api(Client(enforce_csrf_checks=True)).post("/orders", report)

    assert r.status_code == 201


# --- assets -----------------------------------------------------------------------------------


@pytest.fixture
def unit(world):
    """2号空调 in room E03-201, usually 空调 faults."""
    return make_asset("E03-201-AC2", name="2号空调", place=world.room, category=make_ac_category())


def test_a_report_on_an_asset_is_at_its_place_and_the_detail_names_it(api_as, report, unit):
    r = api_as("agent").post(
        "/orders", {**report, "place": "", "asset": "E03-201-AC2", "channel": "phone"}
    )

    assert r.status_code == 201, r.json()
    assert (r.json()["place"], r.json()["place_name"]) == ("E03-201", "东校区 / 3号楼 / 2层 / 201")
    order = WorkOrder.objects.get()
    assert (order.asset, order.place) == (unit, unit.place)
    detail = api_as("agent").get(f"/orders/{order.number}").json()
    assert detail["asset"] == {"code": "E03-201-AC2", "name": "2号空调"}
    assert detail["events"][0]["data"]["asset"] == "E03-201-AC2"


def test_an_order_without_an_asset_says_null(api_as, report):
    number = api_as("reporter").post("/orders", report).json()["number"]
    assert api_as("reporter").get(f"/orders/{number}").json()["asset"] is None


@pytest.mark.parametrize(
    ("changes", "code", "message"),
    [
        (
            {"asset": "E03-201-AC9"},
            "unknown_asset",
            "未知的设备编码“E03-201-AC9”，请核对设备上的标签。",
        ),
        (
            {"asset": "E03-201-AC2", "place": "E03-202"},
            "invalid",
            "设备 2号空调（E03-201-AC2） 不在所选地点“东校区 / 3号楼 / 2层 / 202”。",
        ),
    ],
)
def test_an_unknown_asset_or_one_elsewhere_is_422_and_nothing_is_stored(
    anon, report, unit, changes, code, message
):
    make_room("E03-202")
    r = anon.post("/orders", {**report, **changes})

    assert r.status_code == 422
    assert r.json() == {"code": code, "message": message, "field": "asset"}
    assert (WorkOrder.objects.count(), Event.objects.count()) == (0, 0)


def test_an_asset_out_of_service_is_422_and_nothing_is_stored(anon, report, unit):
    Asset.objects.filter(pk=unit.pk).update(is_active=False)
    r = anon.post("/orders", {**report, "asset": "E03-201-AC2"})

    assert r.status_code == 422
    assert r.json() == {
        "code": "invalid",
        "message": "设备 2号空调（E03-201-AC2） 已停用，请直接选择地点报修。",
        "field": "asset",
    }
    assert (WorkOrder.objects.count(), Event.objects.count()) == (0, 0)
