"""/api/v1 change requests and experts: round trips through the same lifecycle as the web, and
the JSON shape of every refusal (which changes nothing)."""

from __future__ import annotations

import pytest

from repairhub.notify.models import Message
from repairhub.testing.personas import make_category
from repairhub.workorders.models import ChangeRequest, WorkOrder
from repairhub.workorders.services import escalate_order, request_change

pytestmark = pytest.mark.django_db


def snapshot(order: WorkOrder) -> tuple:
    fresh = WorkOrder.objects.get(pk=order.pk)
    return (
        fresh.status,
        fresh.version,
        fresh.category_id,
        fresh.measures,
        fresh.due_at,
        fresh.expert_id,
        fresh.events.count(),
        ChangeRequest.objects.filter(order=order).count(),
    )


# --- change requests -------------------------------------------------------------------------


def test_request_and_approve_a_category_change(world, api_as):
    make_category("socket", name="插座")
    order = world.order("in_progress")
    tech, desk = api_as("technician"), api_as("dispatcher")

    r = tech.post(
        f"/orders/{order.number}/changes",
        {
            "kind": "category",
            "new_category": "socket",
            "reason": "插座烧了",
            "version": order.version,
        },
    )

    assert r.status_code == 201, r.json()
    out = r.json()
    change_id = out["id"]
    assert {k: out[k] for k in ("order", "kind", "status", "summary", "reason")} == {
        "order": order.number,
        "kind": "category",
        "status": "pending",
        "summary": "水电 → 插座",
        "reason": "插座烧了",
    }
    assert (out["new_category"], out["requested_by"], out["decided_by"]) == (
        "socket",
        "technician",
        None,
    )
    detail = desk.get(f"/orders/{order.number}").json()
    assert detail["pending_change"]["id"] == change_id
    assert detail["category"] == "lamp"
    assert "approve_change" in detail["allowed_actions"]

    r = desk.post(f"/orders/{order.number}/changes/{change_id}/approve", {"note": "同意"})

    assert r.status_code == 200, r.json()
    assert (r.json()["status"], r.json()["decided_by"], r.json()["decision_note"]) == (
        "approved",
        "dispatcher",
        "同意",
    )
    detail = desk.get(f"/orders/{order.number}").json()
    assert detail["category"] == "socket"
    assert detail["pending_change"] is None
    assert [e["code"] for e in detail["events"][-2:]] == [
        "workorder.change_requested",
        "workorder.change_approved",
    ]
    assert {e["channel"] for e in detail["events"][-2:]} == {"api"}


def test_each_kind_through_the_api(world, api_as):
    order = world.order("in_progress")
    tech, desk = api_as("technician"), api_as("dispatcher")
    for body in (
        {"kind": "measures", "measures": "更换镇流器"},
        {"kind": "extra_work", "extra_work": "加装插座"},
        {"kind": "deadline", "new_due_at": "2099-05-01T18:00:00+08:00"},
    ):
        change = tech.post(f"/orders/{order.number}/changes", {**body, "reason": "需要"}).json()
        r = desk.post(f"/orders/{order.number}/changes/{change['id']}/approve")
        assert r.status_code == 200, r.json()
    detail = tech.get(f"/orders/{order.number}").json()
    assert detail["measures"] == "更换镇流器\n\n加装插座"
    assert detail["due_at"] == "2099-05-01T18:00:00+08:00"


def test_reject_needs_a_reason(world, api_as):
    order = world.order("in_progress")
    change = (
        api_as("technician")
        .post(
            f"/orders/{order.number}/changes",
            {"kind": "measures", "measures": "整体换线", "reason": "老化"},
        )
        .json()
    )
    desk = api_as("dispatcher")
    before = snapshot(order)

    r = desk.post(f"/orders/{order.number}/changes/{change['id']}/reject", {})

    assert r.status_code == 422
    assert r.json() == {"code": "required", "field": "reason", "message": "请填写驳回原因。"}
    assert snapshot(order) == before

    r = desk.post(f"/orders/{order.number}/changes/{change['id']}/reject", {"reason": "不同意"})
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["decision_note"]) == ("rejected", "不同意")
    assert Message.objects.filter(cause="workorder.change_rejected", user=world.technician).exists()


def test_pending_queue_lists_requests_oldest_first(world, api_as):
    first, second, quiet = (world.order("in_progress") for _ in range(3))
    for order in (first, second):
        request_change(order, kind="measures", measures="换", reason="坏", by=world.technician)
    desk = api_as("dispatcher")

    out = desk.get("/changes").json()

    assert out["count"] == 2
    assert [c["order"] for c in out["items"]] == [first.number, second.number]
    assert desk.get("/changes", {"limit": 1, "offset": 1}).json()["items"][0]["order"] == (
        second.number
    )
    assert desk.get("/changes", {"status": "approved"}).json() == {"items": [], "count": 0}
    # A technician sees the requests on his own orders only.
    assert api_as("technician2").get("/changes").json()["count"] == 0
    assert quiet.number not in str(out)


def test_queue_refuses_an_unknown_status(world, api_as):
    r = api_as("dispatcher").get("/changes", {"status": "maybe"})
    assert r.status_code == 422
    assert r.json() == {
        "code": "invalid",
        "field": "status",
        "message": "字段 status：只能是以下之一：pending、approved、rejected。",
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"kind": "deadline", "new_due_at": "2000-01-01T00:00:00+08:00", "reason": "x"},
            {"code": "deadline_not_later", "field": "new_due_at"},
        ),
        (
            {"kind": "category", "new_category": "retired", "reason": "x"},
            {
                "code": "inactive_category",
                "field": "new_category",
                "message": "报修类别“水电 → 旧类别”已停用，请选择其他类别。",
            },
        ),
        (
            {"kind": "colour", "reason": "x"},
            {
                "code": "invalid",
                "field": "kind",
                "message": "字段 kind：只能是以下之一：category、measures、deadline、extra_work。",
            },
        ),
        (
            {"kind": "measures", "reason": "x"},
            {"code": "required", "field": "measures", "message": "请填写新的维修措施。"},
        ),
        (
            {"kind": "measures", "measures": "x", "reason": "x", "colour": "red"},
            {
                "code": "invalid",
                "field": "colour",
                "message": "字段 colour：不是该操作支持的字段。",
            },
        ),
        (
            {"kind": "deadline", "new_due_at": "明天", "reason": "x"},
            {"code": "invalid", "field": "new_due_at"},
        ),
    ],
)
def test_bad_change_input_is_422_and_changes_nothing(world, api_as, body, expected):
    make_category("retired", name="旧类别", is_active=False)
    order = world.order("in_progress")
    before = snapshot(order)

    r = api_as("technician").post(f"/orders/{order.number}/changes", body)

    assert r.status_code == 422
    assert {k: r.json()[k] for k in expected} == expected
    assert snapshot(order) == before


def test_a_second_pending_request_is_409(world, api_as):
    order = world.order("in_progress")
    tech = api_as("technician")
    tech.post(
        f"/orders/{order.number}/changes", {"kind": "measures", "measures": "a", "reason": "b"}
    )
    before = snapshot(order)

    r = tech.post(
        f"/orders/{order.number}/changes", {"kind": "measures", "measures": "c", "reason": "d"}
    )

    assert r.status_code == 409
    assert r.json() == {
        "code": "change_pending",
        "message": f"工单 {order.number} 已有一条待审批的变更申请，请等调度员处理后再申请。",
    }
    assert snapshot(order) == before


def test_a_change_request_on_a_closed_order_is_409(world, api_as):
    order = world.order("closed")
    before = snapshot(order)

    r = api_as("technician").post(
        f"/orders/{order.number}/changes", {"kind": "measures", "measures": "a", "reason": "b"}
    )

    assert r.status_code == 409
    assert r.json() == {
        "code": "illegal_state",
        "message": "工单当前状态为“已关闭”，不能执行“申请变更”。",
    }
    assert snapshot(order) == before


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [("technician2", 404, "not_found"), ("dispatcher", 403, "forbidden")],
)
def test_only_the_assignee_may_request(world, api_as, who, status, code):
    order = world.order("in_progress")
    before = snapshot(order)
    r = api_as(who).post(
        f"/orders/{order.number}/changes", {"kind": "measures", "measures": "a", "reason": "b"}
    )
    assert (r.status_code, r.json()["code"]) == (status, code)
    assert snapshot(order) == before


def test_only_the_dispatch_desk_may_approve(world, api_as):
    order = world.order("in_progress")
    request_change(order, kind="measures", measures="换", reason="坏", by=world.technician)
    change = ChangeRequest.objects.get(order=order)
    before = snapshot(order)

    r = api_as("technician").post(f"/orders/{order.number}/changes/{change.pk}/approve")

    assert r.status_code == 403
    assert r.json() == {"code": "forbidden", "message": "您无权对该工单执行“批准变更”。"}
    assert snapshot(order) == before


def test_approving_an_unknown_or_decided_request(world, api_as):
    order = world.order("in_progress")
    other = world.order("in_progress")
    request_change(other, kind="measures", measures="换", reason="坏", by=world.technician)
    foreign = ChangeRequest.objects.get(order=other)
    desk = api_as("dispatcher")

    r = desk.post(f"/orders/{order.number}/changes/{foreign.pk}/approve")
    assert r.status_code == 404
    assert r.json() == {
        "code": "not_found",
        "message": f"工单 {order.number} 没有编号为 {foreign.pk} 的变更申请。",
    }

    assert desk.post(f"/orders/{other.number}/changes/{foreign.pk}/approve").status_code == 200
    before = snapshot(other)
    r = desk.post(f"/orders/{other.number}/changes/{foreign.pk}/approve")
    assert r.status_code == 409
    assert r.json()["code"] == "no_pending_change"
    assert snapshot(other) == before


def test_stale_version_on_approval_is_409(world, api_as):
    order = world.order("in_progress")
    request_change(order, kind="measures", measures="换", reason="坏", by=world.technician)
    change = ChangeRequest.objects.get(order=order)
    before = snapshot(order)
    r = api_as("dispatcher").post(
        f"/orders/{order.number}/changes/{change.pk}/approve", {"version": 1}
    )
    assert r.status_code == 409
    assert r.json()["code"] == "stale_version"
    assert snapshot(order) == before


def test_change_actions_through_the_generic_endpoint(world, api_as):
    order = world.order("in_progress")
    out = (
        api_as("technician")
        .post(
            f"/orders/{order.number}/actions/request_change",
            {"kind": "extra_work", "extra_work": "更换开关", "reason": "开关坏了"},
        )
        .json()
    )
    assert out["events"][-1]["code"] == "workorder.change_requested"
    assert "request_change" not in out["allowed_actions"]
    out = (
        api_as("dispatcher")
        .post(f"/orders/{order.number}/actions/reject_change", {"reason": "下次再说"})
        .json()
    )
    assert out["events"][-1]["code"] == "workorder.change_rejected"
    assert out["pending_change"] is None


def test_reporter_does_not_see_pending_changes(world, api_as):
    order = world.order("in_progress")
    request_change(order, kind="measures", measures="换", reason="坏", by=world.technician)
    assert api_as("reporter").get(f"/orders/{order.number}").json()["pending_change"] is None


# --- experts ---------------------------------------------------------------------------------


def test_escalate_guide_and_take_over(world, api_as):
    order = world.order("in_progress")

    r = api_as("technician").post(
        f"/orders/{order.number}/escalate", {"expert": "expert", "reason": "拿不准"}
    )

    assert r.status_code == 200, r.json()
    out = r.json()
    assert (out["expert"], out["expert_name"], out["status"]) == ("expert", "expert", "in_progress")
    assert out["escalated_at"] is not None
    assert out["events"][-1]["code"] == "workorder.escalated"
    assert Message.objects.filter(cause="workorder.escalated", user=world.expert).exists()

    expert = api_as("expert")
    queue = expert.get("/expert/orders").json()
    assert queue["count"] == 1 and queue["items"][0]["number"] == order.number
    detail = expert.get(f"/orders/{order.number}").json()
    assert detail["allowed_actions"] == ["guide", "take_over"]

    r = expert.post(f"/orders/{order.number}/actions/guide", {"note": "先测零线"})
    assert r.status_code == 200
    assert r.json()["events"][-1]["data"] == {"note": "先测零线"}

    r = expert.post(f"/orders/{order.number}/actions/take_over")
    assert r.status_code == 200
    out = r.json()
    assert (out["assignee"], out["status"]) == ("expert", "acknowledged")
    assert out["events"][-1]["code"] == "workorder.taken_over"
    assert api_as("technician").get(f"/orders/{order.number}").status_code == 404


def test_escalate_to_a_non_expert_is_422(world, api_as):
    order = world.order("in_progress")
    before = snapshot(order)
    r = api_as("technician").post(
        f"/orders/{order.number}/escalate", {"expert": "technician2", "reason": "x"}
    )
    assert r.status_code == 422
    assert r.json() == {
        "code": "unknown_expert",
        "field": "expert",
        "message": "请选择一名在职的技术专家。",
    }
    assert snapshot(order) == before


def test_escalate_refusals(world, api_as):
    order = world.order("in_progress")
    closed = world.order("closed")
    before, closed_before = snapshot(order), snapshot(closed)

    r = api_as("technician").post(f"/orders/{order.number}/escalate", {"expert": "expert"})
    assert (r.status_code, r.json()["field"]) == (422, "reason")
    r = api_as("agent").post(
        f"/orders/{order.number}/escalate", {"expert": "expert", "reason": "x"}
    )
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    r = api_as("dispatcher").post(
        f"/orders/{closed.number}/escalate", {"expert": "expert", "reason": "x"}
    )
    assert (r.status_code, r.json()["code"]) == (409, "illegal_state")
    r = api_as("reporter2").post(
        f"/orders/{order.number}/escalate", {"expert": "expert", "reason": "x"}
    )
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
    assert (snapshot(order), snapshot(closed)) == (before, closed_before)


def test_others_may_not_guide(world, api_as):
    order = world.order("in_progress")
    escalate_order(order, expert="expert", reason="复杂", by=world.technician)
    before = snapshot(order)
    r = api_as("technician").post(f"/orders/{order.number}/actions/guide", {"note": "我来"})
    assert r.status_code == 403
    assert r.json() == {"code": "forbidden", "message": "您无权对该工单执行“专家指导”。"}
    assert snapshot(order) == before


def test_expert_queue_is_for_experts(world, api_as):
    r = api_as("technician").get("/expert/orders")
    assert r.status_code == 403
    assert r.json() == {"code": "forbidden", "message": "只有技术专家有专家工单队列。"}


def test_expert_queue_holds_only_open_orders_escalated_to_him(world, api_as):
    mine = world.order("accepted")
    world.order("accepted")
    escalate_order(mine, expert="expert", reason="高端设备", by=world.dispatcher)
    out = api_as("expert").get("/expert/orders").json()
    assert [o["number"] for o in out["items"]] == [mine.number]
    assert out["count"] == 1
