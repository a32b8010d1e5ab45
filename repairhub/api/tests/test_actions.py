from __future__ import annotations

import pytest

from repairhub.workorders.models import Event, WorkOrder
from repairhub.workorders.states import Status


def snapshot(order: WorkOrder) -> tuple:
    fresh = WorkOrder.objects.get(pk=order.pk)
    return fresh.status, fresh.version, fresh.assignee_id, fresh.events.count()


WALK = [
    # (from, action, actor, body, to, event code)
    ("submitted", "accept", "agent", {}, "accepted", "workorder.accepted"),
    (
        "submitted",
        "reject",
        "agent",
        {"reason": "不属于维修范围"},
        "rejected",
        "workorder.rejected",
    ),
    (
        "accepted",
        "dispatch",
        "dispatcher",
        {"technician": "technician"},
        "dispatched",
        "workorder.dispatched",
    ),
    (
        "dispatched",
        "reassign",
        "dispatcher",
        {"technician": "technician2", "reason": "就近"},
        "dispatched",
        "workorder.reassigned",
    ),
    ("dispatched", "acknowledge", "technician", {}, "acknowledged", "workorder.acknowledged"),
    ("dispatched", "decline", "technician", {"reason": "不在岗"}, "accepted", "workorder.declined"),
    (
        "acknowledged",
        "arrive",
        "technician",
        {"lat": 30.5, "lng": 114.4},
        "in_progress",
        "workorder.arrived",
    ),
    (
        "in_progress",
        "progress",
        "technician",
        {"note": "已拆开灯罩"},
        "in_progress",
        "workorder.progress",
    ),
    ("in_progress", "hold", "technician", {"reason": "等配件"}, "on_hold", "workorder.held"),
    ("on_hold", "resume", "technician", {}, "in_progress", "workorder.resumed"),
    (
        "in_progress",
        "complete",
        "technician",
        {"result": "success", "note": "换了灯管"},
        "completed",
        "workorder.completed",
    ),
    (
        "completed",
        "confirm",
        "reporter",
        {"rating": 5, "comment": "很快"},
        "closed",
        "workorder.confirmed",
    ),
    ("completed", "close", "dispatcher", {"note": "回访满意"}, "closed", "workorder.closed"),
    ("completed", "reopen", "reporter", {"reason": "又不亮了"}, "accepted", "workorder.reopened"),
    (
        "submitted",
        "cancel",
        "reporter",
        {"reason": "自己修好了"},
        "cancelled",
        "workorder.cancelled",
    ),
    (
        "in_progress",
        "request_change",
        "technician",
        {"kind": "measures", "measures": "更换镇流器", "reason": "灯管无问题"},
        "in_progress",
        "workorder.change_requested",
    ),
    (
        "dispatched",
        "escalate",
        "technician",
        {"expert": "expert", "reason": "拿不准"},
        "dispatched",
        "workorder.escalated",
    ),
]


@pytest.mark.parametrize(
    ("start", "action", "actor", "body", "target", "code"),
    WALK,
    ids=[w[1] for w in WALK],
)
def test_each_action_through_the_api(world, api_as, start, action, actor, body, target, code):
    order = world.order(start)

    r = api_as(actor).post(f"/orders/{order.number}/actions/{action}", body)

    assert r.status_code == 200, r.json()
    out = r.json()
    assert out["status"] == target
    assert out["version"] == order.version + 1
    assert out["events"][-1]["code"] == code
    assert out["events"][-1]["channel"] == "api"
    assert out["events"][-1]["actor"] == getattr(world, actor).name
    fresh = WorkOrder.objects.get(pk=order.pk)
    assert (fresh.status, fresh.version) == (target, order.version + 1)
    assert fresh.events.last().code == code


def test_action_parameters_reach_the_order(world, api_as):
    order = world.order("acknowledged")
    tech = api_as("technician")

    tech.post(f"/orders/{order.number}/actions/arrive", {"lat": 30.51, "lng": 114.42})
    out = tech.post(
        f"/orders/{order.number}/actions/complete",
        {"result": "failed", "note": "需更换整套线路", "suggestion": "请联系物业报大修"},
    ).json()

    fresh = WorkOrder.objects.get(pk=order.pk)
    assert str(fresh.arrival_latitude) == "30.510000"
    assert str(fresh.arrival_longitude) == "114.420000"
    assert out["result"] == "failed"
    assert out["suggestion"] == "请联系物业报大修"
    assert out["events"][-1]["data"] == {
        "result": "failed",
        "note": "需更换整套线路",
        "suggestion": "请联系物业报大修",
    }


def test_dispatch_assigns_the_technician_and_updates_allowed_actions(world, api_as):
    order = world.order("accepted")

    out = (
        api_as("dispatcher")
        .post(f"/orders/{order.number}/actions/dispatch", {"technician": "technician2"})
        .json()
    )

    assert out["assignee"] == "technician2"
    assert out["allowed_actions"] == ["reassign", "cancel", "escalate"]


def test_action_without_body(world, api_as):
    order = world.order()

    r = api_as("agent").post(f"/orders/{order.number}/actions/accept")

    assert r.status_code == 200
    assert r.json()["status"] == "accepted"


def test_matching_version_is_accepted(world, api_as):
    order = world.order()

    r = api_as("agent").post(f"/orders/{order.number}/actions/accept", {"version": order.version})

    assert r.status_code == 200


def test_stale_version_is_409_and_changes_nothing(world, api_as):
    order = world.order("accepted")  # version 2
    before = snapshot(order)

    r = api_as("dispatcher").post(
        f"/orders/{order.number}/actions/dispatch", {"technician": "technician", "version": 1}
    )

    assert r.status_code == 409
    assert r.json() == {
        "code": "stale_version",
        "message": f"工单 {order.number} 已被他人更新，请刷新后重试。",
    }
    assert snapshot(order) == before


def test_illegal_state_is_409_and_changes_nothing(world, api_as):
    order = world.order("closed")
    before = snapshot(order)

    r = api_as("dispatcher").post(f"/orders/{order.number}/actions/accept")

    assert r.status_code == 409
    assert r.json() == {
        "code": "illegal_state",
        "message": "工单当前状态为“已关闭”，不能执行“受理”。",
    }
    assert snapshot(order) == before


def test_role_without_the_right_is_403_and_changes_nothing(world, api_as):
    order = world.order()
    before = snapshot(order)

    r = api_as("reporter").post(f"/orders/{order.number}/actions/accept")

    assert r.status_code == 403
    assert r.json() == {"code": "forbidden", "message": "您无权对该工单执行“受理”。"}
    assert snapshot(order) == before


def test_team_lead_may_reassign_only_within_team(world, api_as):
    order = world.order("dispatched")
    before = snapshot(order)

    r = api_as("team_lead").post(
        f"/orders/{order.number}/actions/reassign", {"technician": "technician2"}
    )

    assert r.status_code == 403
    assert r.json()["message"] == "班组长只能把工单改派给本班组的维修人员。"
    assert snapshot(order) == before


def test_invisible_order_is_404_and_changes_nothing(world, api_as):
    order = world.order()
    before = snapshot(order)

    r = api_as("reporter2").post(f"/orders/{order.number}/actions/cancel", {"reason": "x"})

    assert r.status_code == 404
    assert r.json()["code"] == "not_found"
    assert snapshot(order) == before


def test_anonymous_action_is_401(world, anon):
    order = world.order()

    r = anon.post(f"/orders/{order.number}/actions/cancel", {"reason": "x"})

    assert r.status_code == 401
    assert WorkOrder.objects.get(pk=order.pk).status == "submitted"


@pytest.mark.parametrize(
    ("start", "action", "actor", "body", "expected"),
    [
        (
            "submitted",
            "reject",
            "agent",
            {},
            {"code": "required", "field": "reason", "message": "请填写原因。"},
        ),
        (
            "submitted",
            "reject",
            "agent",
            {"reason": 5},
            {"code": "invalid", "field": "reason", "message": "字段 reason：必须是文字。"},
        ),
        (
            "accepted",
            "dispatch",
            "dispatcher",
            {"technician": "nobody"},
            {
                "code": "unknown_technician",
                "field": "technician",
                "message": "请选择一名在职的维修人员。",
            },
        ),
        (
            "accepted",
            "dispatch",
            "dispatcher",
            {"technician": "reporter"},
            {
                "code": "unknown_technician",
                "field": "technician",
                "message": "请选择一名在职的维修人员。",
            },
        ),
        (
            "completed",
            "confirm",
            "reporter",
            {"rating": 9},
            {"code": "invalid", "field": "rating", "message": "字段 rating：不能大于 5。"},
        ),
        (
            "in_progress",
            "complete",
            "technician",
            {"result": "maybe", "note": "x"},
            {
                "code": "invalid",
                "field": "result",
                "message": "字段 result：只能是以下之一：success、failed。",
            },
        ),
        (
            "in_progress",
            "complete",
            "technician",
            {"result": "failed", "note": "线路老化"},
            {"code": "required", "field": "suggestion", "message": "请填写给报修人的解决建议。"},
        ),
        (
            "acknowledged",
            "arrive",
            "technician",
            {"lat": 30.5},
            {"code": "invalid", "field": "lat", "message": "位置需要同时提供纬度和经度。"},
        ),
        (
            "submitted",
            "cancel",
            "reporter",
            {"reson": "拼错了"},
            {"code": "invalid", "field": "reson", "message": "字段 reson：不是该操作支持的字段。"},
        ),
        (
            "submitted",
            "accept",
            "agent",
            {"version": "二"},
            {"code": "invalid", "field": "version", "message": "字段 version：必须是整数。"},
        ),
    ],
)
def test_bad_action_input_is_422_and_changes_nothing(
    world, api_as, start, action, actor, body, expected
):
    order = world.order(start)
    before = snapshot(order)

    r = api_as(actor).post(f"/orders/{order.number}/actions/{action}", body)

    assert r.status_code == 422
    assert r.json() == expected
    assert snapshot(order) == before


def test_unknown_action_is_422(world, api_as):
    order = world.order()
    events = Event.objects.count()

    r = api_as("admin").post(f"/orders/{order.number}/actions/explode")

    assert r.status_code == 422
    assert r.json()["field"] == "action"
    assert r.json()["message"].startswith("字段 action：只能是以下之一：accept、reject、dispatch")
    assert Event.objects.count() == events


def test_the_api_takes_and_returns_the_fee(world, api_as):
    order = world.order(Status.IN_PROGRESS)
    tech = api_as("technician")

    r = tech.post(
        f"/orders/{order.number}/actions/complete",
        {"result": "success", "note": "好", "fee": "1.234"},
    )
    assert (r.status_code, r.json()["field"]) == (422, "fee")
    assert "最多两位小数" in r.json()["message"]
    assert WorkOrder.objects.get(pk=order.pk).status == Status.IN_PROGRESS
    out = tech.post(
        f"/orders/{order.number}/actions/complete", {"result": "success", "note": "好", "fee": 60}
    ).json()
    assert out["fee"] == "60.00"
    assert out["events"][-1]["data"]["fee"] == "60.00"
