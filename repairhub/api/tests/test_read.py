from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from repairhub.testing.personas import make_category, make_room
from repairhub.workorders.models import Channel


def numbers(response) -> list[str]:
    return [item["number"] for item in response.json()["items"]]


# --- list -----------------------------------------------------------------------------------


def test_list_needs_authentication(anon):
    r = anon.get("/orders")

    assert r.status_code == 401
    assert r.json() == {
        "code": "unauthorized",
        "message": "请先登录，或在 Authorization 头中提供有效的接口令牌（Bearer）。",
    }


def test_reporter_sees_only_own_orders(world, api_as):
    mine = world.order()
    world.order(reporter=world.reporter2)

    r = api_as("reporter").get("/orders")

    assert r.status_code == 200
    assert r.json()["count"] == 1
    assert numbers(r) == [mine.number]


def test_technician_sees_assigned_orders_only(world, api_as):
    assigned = world.order("dispatched")
    world.order("dispatched", technician=world.technician2)
    world.order()

    r = api_as("technician").get("/orders")

    assert numbers(r) == [assigned.number]


def test_staff_see_everything_newest_first(world, api_as):
    first = world.order()
    second = world.order(reporter=world.reporter2)

    r = api_as("dispatcher").get("/orders")

    assert numbers(r) == [second.number, first.number]
    assert r.json()["count"] == 2


def test_phones_are_masked_in_lists_even_for_staff(world, api_as):
    world.order(reporter_phone="13812345678")

    item = api_as("manager").get("/orders").json()["items"][0]

    assert item["reporter_phone"] == "138****5678"
    assert "13812345678" not in api_as("manager").get("/orders").content.decode()


def test_list_item_shape(world, api_as):
    order = world.order("dispatched")

    item = api_as("dispatcher").get("/orders").json()["items"][0]

    assert item["number"] == order.number
    assert item["status"] == "dispatched"
    assert item["status_label"] == "已派工"
    assert item["version"] == order.version
    assert item["assignee"] == "technician"
    assert item["category"] == "lamp"
    assert item["category_name"] == "灯具"
    assert item["place"] == "E03-201"
    assert item["tracking_url"] is None
    assert "events" not in item


def test_filter_by_status_accepts_several(world, api_as):
    submitted = world.order()
    accepted = world.order("accepted")
    world.order("closed")

    r = api_as("dispatcher").get("/orders", {"status": "submitted,accepted"})

    assert sorted(numbers(r)) == sorted([submitted.number, accepted.number])


def test_filter_by_parent_category_includes_children(world, api_as):
    lamp = world.order()
    other = make_category("ac", parent=make_category("hvac", name="暖通", parent=None))
    world.order(category=other)

    assert numbers(api_as("dispatcher").get("/orders", {"category": "power"})) == [lamp.number]
    assert numbers(api_as("dispatcher").get("/orders", {"category": "lamp"})) == [lamp.number]


def test_filter_by_place_includes_everything_below(world, api_as):
    here = world.order()
    world.order(place=None, address="西区食堂")
    make_room("E03-202")
    there = world.order(place=make_room("E03-202"))

    r = api_as("dispatcher").get("/orders", {"place": "E03"})

    assert sorted(numbers(r)) == sorted([here.number, there.number])
    assert numbers(api_as("dispatcher").get("/orders", {"place": "E03-202"})) == [there.number]
    assert numbers(api_as("dispatcher").get("/orders", {"place": "nowhere"})) == []


def test_filter_by_assignee_and_channel(world, api_as):
    mine = world.order("dispatched")
    theirs = world.order("dispatched", technician=world.technician2)
    by_phone = world.order(channel=Channel.PHONE)

    dispatcher = api_as("dispatcher")
    assert numbers(dispatcher.get("/orders", {"assignee": "technician2"})) == [theirs.number]
    assert numbers(dispatcher.get("/orders", {"assignee": "technician"})) == [mine.number]
    assert numbers(dispatcher.get("/orders", {"channel": "phone"})) == [by_phone.number]


def test_filter_by_date_range(world, api_as):
    order = world.order()
    today = timezone.localdate(order.created_at)
    dispatcher = api_as("dispatcher")

    inside = {"date_from": today.isoformat(), "date_to": today.isoformat()}
    before = {"date_to": (today - timedelta(days=1)).isoformat()}
    after = {"date_from": (today + timedelta(days=1)).isoformat()}
    assert numbers(dispatcher.get("/orders", inside)) == [order.number]
    assert numbers(dispatcher.get("/orders", before)) == []
    assert numbers(dispatcher.get("/orders", after)) == []


def test_pagination_with_limit_and_offset(world, api_as):
    orders = [world.order() for _ in range(5)]
    newest_first = [o.number for o in reversed(orders)]

    r = api_as("dispatcher").get("/orders", {"limit": 2, "offset": 1})

    assert r.json()["count"] == 5
    assert numbers(r) == newest_first[1:3]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"limit": 500}, "limit", "字段 limit：不能大于 100。"),
        ({"limit": 0}, "limit", "字段 limit：不能小于 1。"),
        ({"offset": "x"}, "offset", "字段 offset：必须是整数。"),
        (
            {"date_from": "2026/05/01"},
            "date_from",
            "字段 date_from：日期格式不正确，请使用 YYYY-MM-DD，例如 2026-05-01。",
        ),
        ({"status": "open"}, "status", "未知的工单状态：open。"),
        ({"channel": "fax"}, "channel", "未知的报修渠道：fax。"),
    ],
)
def test_bad_list_parameters_are_422(world, api_as, params, field, message):
    r = api_as("dispatcher").get("/orders", params)

    assert r.status_code == 422
    assert r.json()["field"] == field
    assert r.json()["message"] == message


def test_list_costs_the_same_queries_for_3_or_30_orders(
    world, api_as, django_assert_max_num_queries
):
    dispatcher = api_as("dispatcher")
    dispatcher.get("/orders")  # the token's first use records last_used_at
    for _ in range(3):
        world.order("dispatched")

    # token + roles + page + count
    with django_assert_max_num_queries(4):
        small = dispatcher.get("/orders")
    for _ in range(27):
        world.order("dispatched")
    with django_assert_max_num_queries(4):
        large = dispatcher.get("/orders", {"limit": 100})

    assert small.json()["count"] == 3
    assert len(large.json()["items"]) == 30


# --- detail ---------------------------------------------------------------------------------


def test_detail_has_events_oldest_first_and_allowed_actions(world, api_as):
    order = world.order("accepted")

    r = api_as("dispatcher").get(f"/orders/{order.number}")

    body = r.json()
    assert r.status_code == 200
    assert [e["code"] for e in body["events"]] == ["workorder.submitted", "workorder.accepted"]
    accepted = body["events"][1]
    assert accepted["actor"] == "agent"
    assert accepted["from_status"] == "submitted"
    assert accepted["to_status"] == "accepted"
    assert accepted["channel"] == "web"
    assert body["allowed_actions"] == ["dispatch", "cancel", "escalate"]
    assert body["attachments"] == []
    assert body["reporter_phone"] == "13800001111"


def test_detail_actions_depend_on_the_viewer(world, api_as):
    order = world.order("dispatched")

    assert api_as("technician").get(f"/orders/{order.number}").json()["allowed_actions"] == [
        "acknowledge",
        "decline",
        "escalate",
    ]
    assert api_as("team_lead").get(f"/orders/{order.number}").json()["allowed_actions"] == [
        "reassign",
        "escalate",
    ]


def test_reporter_gets_full_phone_and_tracking_link(world, api_as):
    order = world.order()

    body = api_as("reporter").get(f"/orders/{order.number}").json()

    assert body["reporter_phone"] == "13800001111"
    assert body["tracking_url"] == order.tracking_url
    assert body["allowed_actions"] == ["cancel"]


def test_qc_inspector_sees_completed_order_without_tracking_link(world, api_as):
    order = world.order("completed")

    body = api_as("qc_inspector").get(f"/orders/{order.number}").json()

    # QC inspectors are staff: they may call the reporter back.
    assert body["reporter_phone"] == "13800001111"
    assert body["tracking_url"] is None
    assert body["result"] == "success"
    assert body["completion_note"] == "换了灯管"


def test_order_not_visible_is_404(world, api_as):
    order = world.order()

    r = api_as("reporter2").get(f"/orders/{order.number}")

    assert r.status_code == 404
    assert r.json() == {
        "code": "not_found",
        "message": f"找不到工单 {order.number}，或您无权查看。",
    }


def test_unknown_order_is_404(world, api_as):
    r = api_as("admin").get("/orders/BX-20000101-0001")

    assert r.status_code == 404
    assert r.json()["code"] == "not_found"


def test_detail_via_browser_session(world, client):
    order = world.order()
    client.force_login(world.reporter)

    r = client.get(f"/api/v1/orders/{order.number}")

    assert r.status_code == 200
    assert r.json()["number"] == order.number


def test_detail_names_the_assignee(world, api_as):
    order = world.order("dispatched")

    body = api_as("dispatcher").get(f"/orders/{order.number}").json()

    assert body["assignee"] == "technician"
    assert body["assignee_name"] == "technician"
