"""Change requests (工单变更): the technician asks, the dispatcher approves or rejects, the order
changes only on approval, and every step is an event. Refusals change nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from repairhub.accounts.roles import Role
from repairhub.notify.models import Message, MessageChannel
from repairhub.testing.personas import make_category, make_user
from repairhub.workorders.errors import IllegalState, InvalidInput, NotAllowed, NotVisible
from repairhub.workorders.lifecycle import allowed_actions
from repairhub.workorders.models import ChangeRequest, ChangeStatus
from repairhub.workorders.services import (
    approve_change,
    cancel_order,
    complete_order,
    reject_change,
    request_change,
)
from repairhub.workorders.states import Action, Status

pytestmark = pytest.mark.django_db


def snapshot(order) -> tuple:
    order.refresh_from_db()
    return (
        order.status,
        order.version,
        order.category_id,
        order.measures,
        order.due_at,
        order.events.count(),
        ChangeRequest.objects.filter(order=order).count(),
    )


def codes(order) -> list[str]:
    return list(order.events.order_by("id").values_list("code", flat=True))


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- each kind, approved ------------------------------------------------------------------


def test_category_change_approved_updates_the_order_and_writes_both_events(world):
    order = world.order(Status.IN_PROGRESS)
    socket = make_category("socket", name="插座")
    before_version = order.version

    asked = request_change(
        order, kind="category", new_category="socket", reason="其实是插座烧了", by=world.technician
    )
    assert asked.code == "workorder.change_requested"
    change = ChangeRequest.objects.get(order=order)
    assert (change.status, change.kind, change.new_category, change.requested_by) == (
        ChangeStatus.PENDING,
        "category",
        socket,
        world.technician,
    )
    assert order.category == world.category  # nothing changes before approval
    assert asked.data == {
        "kind": "category",
        "reason": "其实是插座烧了",
        "new_category": "socket",
        "new_category_name": "水电 → 插座",
        "change": change.pk,
    }

    approved = approve_change(order, note="同意", by=world.dispatcher)

    order.refresh_from_db()
    change.refresh_from_db()
    assert order.category == socket
    assert order.status == Status.IN_PROGRESS
    assert order.version == before_version + 2
    assert (change.status, change.decided_by, change.decision_note) == (
        ChangeStatus.APPROVED,
        world.dispatcher,
        "同意",
    )
    assert change.decided_at is not None
    assert approved.data == {
        "change": change.pk,
        "kind": "category",
        "requested_by": "technician",
        "note": "同意",
        "previous_category": "lamp",
        "new_category": "socket",
        "new_category_name": "水电 → 插座",
    }
    assert codes(order)[-2:] == ["workorder.change_requested", "workorder.change_approved"]
    assert (approved.from_status, approved.to_status) == (Status.IN_PROGRESS, Status.IN_PROGRESS)


def test_measures_change_replaces_the_measures(world):
    order = world.order(Status.ACKNOWLEDGED)
    request_change(
        order, kind="measures", measures="更换镇流器", reason="灯管无问题", by=world.technician
    )
    approve_change(order, by=world.dispatcher)
    request_change(
        order, kind="measures", measures="更换整套灯具", reason="灯座老化", by=world.technician
    )
    event = approve_change(order, by=world.dispatcher)

    order.refresh_from_db()
    assert order.measures == "更换整套灯具"
    assert event.data["previous_measures"] == "更换镇流器"
    assert codes(order)[-4:] == [
        "workorder.change_requested",
        "workorder.change_approved",
        "workorder.change_requested",
        "workorder.change_approved",
    ]


def test_deadline_change_sets_due_at(world):
    order = world.order(Status.ON_HOLD)
    sla_due = order.due_at  # the completion clock's deadline (repairhub/sla)
    assert sla_due is not None
    due = sla_due + timedelta(days=2)

    request_change(order, kind="deadline", new_due_at=due, reason="等配件两天", by=world.technician)
    event = approve_change(order, by=world.dispatcher)

    order.refresh_from_db()
    assert order.due_at == due
    assert event.data["previous_due_at"] == timezone.localtime(sla_due).isoformat()
    assert codes(order)[-2:] == ["workorder.change_requested", "workorder.change_approved"]


def test_deadline_accepts_an_iso_string(world):
    order = world.order(Status.IN_PROGRESS)
    request_change(
        order,
        kind="deadline",
        new_due_at="2099-05-01T18:00:00+08:00",
        reason="需要厂家上门",
        by=world.technician,
    )
    approve_change(order, by=world.dispatcher)
    order.refresh_from_db()
    assert timezone.localtime(order.due_at).isoformat() == "2099-05-01T18:00:00+08:00"


def test_extra_work_is_appended_to_the_measures_as_a_new_paragraph(world):
    order = world.order(Status.IN_PROGRESS)
    request_change(
        order, kind="measures", measures="更换灯管", reason="灯管坏", by=world.technician
    )
    approve_change(order, by=world.dispatcher)

    request_change(
        order,
        kind="extra_work",
        extra_work="顺便更换开关面板",
        reason="开关松动",
        by=world.technician,
    )
    event = approve_change(order, by=world.dispatcher)

    order.refresh_from_db()
    assert order.measures == "更换灯管\n\n顺便更换开关面板"
    assert event.data["extra_work"] == "顺便更换开关面板"


def test_extra_work_on_empty_measures_becomes_the_measures(world):
    order = world.order(Status.IN_PROGRESS)
    request_change(
        order, kind="extra_work", extra_work="清洗灯罩", reason="灯罩很脏", by=world.technician
    )
    approve_change(order, by=world.dispatcher)
    order.refresh_from_db()
    assert order.measures == "清洗灯罩"


# --- reject ----------------------------------------------------------------------------------


def test_reject_needs_a_reason_and_then_leaves_the_order_as_it_was(world):
    order = world.order(Status.IN_PROGRESS)
    request_change(
        order, kind="measures", measures="整体换线", reason="线路老化", by=world.technician
    )
    before = snapshot(order)

    with pytest.raises(InvalidInput) as refusal:
        reject_change(order, reason="  ", by=world.dispatcher)
    assert refusal.value.field == "reason"
    assert refusal.value.message == "请填写驳回原因。"
    assert snapshot(order) == before
    assert ChangeRequest.objects.get(order=order).status == ChangeStatus.PENDING

    event = reject_change(order, reason="先按原方案修", by=world.dispatcher)

    change = ChangeRequest.objects.get(order=order)
    assert (change.status, change.decision_note, change.decided_by) == (
        ChangeStatus.REJECTED,
        "先按原方案修",
        world.dispatcher,
    )
    order.refresh_from_db()
    assert order.measures == ""
    assert event.code == "workorder.change_rejected"
    assert event.data == {
        "change": change.pk,
        "kind": "measures",
        "requested_by": "technician",
        "reason": "先按原方案修",
    }
    # A new request may follow a decided one.
    request_change(
        order, kind="measures", measures="局部换线", reason="改方案", by=world.technician
    )
    assert ChangeRequest.objects.filter(order=order, status=ChangeStatus.PENDING).count() == 1


# --- refusals ----------------------------------------------------------------------------------


def test_a_second_pending_request_is_refused(world):
    order = world.order(Status.IN_PROGRESS)
    request_change(order, kind="measures", measures="换灯管", reason="坏了", by=world.technician)
    before = snapshot(order)

    with pytest.raises(IllegalState) as refusal:
        request_change(
            order, kind="extra_work", extra_work="换开关", reason="也坏了", by=world.technician
        )

    assert refusal.value.code == "change_pending"
    assert refusal.value.status == 409
    assert "已有一条待审批的变更申请" in refusal.value.message
    assert snapshot(order) == before
    assert Action.REQUEST_CHANGE not in allowed_actions(order, world.technician)


def test_the_database_refuses_a_second_pending_request_even_past_the_guard(world):
    order = world.order(Status.IN_PROGRESS)
    request_change(order, kind="measures", measures="换灯管", reason="坏了", by=world.technician)
    with pytest.raises(IntegrityError), transaction.atomic():
        ChangeRequest.objects.create(
            order=order, requested_by=world.technician, kind="measures", reason="并发", measures="x"
        )


@pytest.mark.parametrize("state", [Status.CLOSED, Status.CANCELLED, Status.COMPLETED])
def test_request_on_a_finished_order_is_409_and_changes_nothing(world, state):
    if state is Status.CANCELLED:  # cancelled while he worked on it, so he still sees it
        order = world.order(Status.IN_PROGRESS)
        cancel_order(order, reason="重复报修", by=world.dispatcher)
    else:
        order = world.order(state)
    before = snapshot(order)
    with pytest.raises(IllegalState) as refusal:
        request_change(order, kind="measures", measures="x", reason="y", by=world.technician)
    assert refusal.value.status == 409
    assert refusal.value.message.startswith("工单当前状态为")
    assert snapshot(order) == before


def test_request_before_acknowledging_is_409(world):
    order = world.order(Status.DISPATCHED)
    before = snapshot(order)
    with pytest.raises(IllegalState):
        request_change(order, kind="measures", measures="x", reason="y", by=world.technician)
    assert snapshot(order) == before


def test_only_the_assignee_may_request(world):
    order = world.order(Status.IN_PROGRESS)
    before = snapshot(order)
    with pytest.raises(NotVisible):  # another technician does not even see it
        request_change(order, kind="measures", measures="x", reason="y", by=world.technician2)
    for user in (world.dispatcher, world.team_lead, world.reporter):
        with pytest.raises(NotAllowed):
            request_change(order, kind="measures", measures="x", reason="y", by=user)
    assert snapshot(order) == before


def test_only_the_dispatch_desk_may_decide(world):
    order = world.order(Status.IN_PROGRESS)
    request_change(order, kind="measures", measures="换灯管", reason="坏了", by=world.technician)
    before = snapshot(order)
    for user in (world.technician, world.agent, world.team_lead, world.manager):
        with pytest.raises(NotAllowed):
            approve_change(order, by=user)
        with pytest.raises(NotAllowed):
            reject_change(order, reason="不行", by=user)
    assert snapshot(order) == before
    approve_change(order, by=world.admin)  # the admin stands at the desk too
    assert ChangeRequest.objects.get(order=order).status == ChangeStatus.APPROVED


def test_approving_without_a_pending_request_is_409(world):
    order = world.order(Status.IN_PROGRESS)
    before = snapshot(order)
    with pytest.raises(IllegalState) as refusal:
        approve_change(order, by=world.dispatcher)
    assert refusal.value.code == "no_pending_change"
    assert snapshot(order) == before
    assert Action.APPROVE_CHANGE not in allowed_actions(order, world.dispatcher)


def test_approving_another_request_id_is_409(world):
    order = world.order(Status.IN_PROGRESS)
    request_change(order, kind="measures", measures="换灯管", reason="坏了", by=world.technician)
    pending = ChangeRequest.objects.get(order=order)
    before = snapshot(order)
    with pytest.raises(IllegalState) as refusal:
        approve_change(order, change=pending.pk + 100, by=world.dispatcher)
    assert refusal.value.code == "change_decided"
    assert snapshot(order) == before
    approve_change(order, change=pending.pk, by=world.dispatcher)


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"kind": "colour", "reason": "x"}, "kind", None),
        ({"reason": "x"}, "kind", None),
        ({"kind": "measures", "reason": "x"}, "measures", "请填写新的维修措施。"),
        ({"kind": "measures", "measures": "换灯", "reason": " "}, "reason", "请填写变更原因。"),
        ({"kind": "category", "reason": "x"}, "new_category", "请选择新的报修类别。"),
        ({"kind": "category", "new_category": "nope", "reason": "x"}, "new_category", None),
        ({"kind": "category", "new_category": "lamp", "reason": "x"}, "new_category", None),
        ({"kind": "deadline", "reason": "x"}, "new_due_at", None),
        ({"kind": "deadline", "new_due_at": "明天", "reason": "x"}, "new_due_at", None),
        ({"kind": "extra_work", "extra_work": "x" * 2001, "reason": "x"}, "extra_work", None),
        (
            {"kind": "measures", "measures": "换灯", "extra_work": "也换开关", "reason": "x"},
            "extra_work",
            None,
        ),
    ],
)
def test_bad_request_input_is_422_and_changes_nothing(world, params, field, message):
    order = world.order(Status.IN_PROGRESS)
    before = snapshot(order)
    with pytest.raises(InvalidInput) as refusal:
        request_change(order, by=world.technician, **{"kind": None, "reason": None, **params})
    assert refusal.value.field == field
    assert refusal.value.status == 422
    if message:
        assert refusal.value.message == message
    assert snapshot(order) == before


def test_deadline_not_later_is_refused(world):
    order = world.order(Status.IN_PROGRESS)
    before = snapshot(order)
    with pytest.raises(InvalidInput) as refusal:
        request_change(
            order,
            kind="deadline",
            new_due_at=timezone.now() - timedelta(hours=1),
            reason="x",
            by=world.technician,
        )
    assert (refusal.value.field, refusal.value.code) == ("new_due_at", "deadline_not_later")
    assert refusal.value.message.startswith("新的完成时限必须晚于")
    assert snapshot(order) == before

    # Later than now but not later than the deadline already granted.
    request_change(
        order,
        kind="deadline",
        new_due_at=order.due_at + timedelta(days=3),
        reason="x",
        by=world.technician,
    )
    approve_change(order, by=world.dispatcher)
    before = snapshot(order)
    with pytest.raises(InvalidInput) as refusal:
        request_change(
            order,
            kind="deadline",
            new_due_at=order.due_at - timedelta(hours=1),
            reason="x",
            by=world.technician,
        )
    assert refusal.value.code == "deadline_not_later"
    assert snapshot(order) == before


def test_deadline_that_passed_while_pending_is_refused_on_approval(world, time_machine):
    order = world.order(Status.IN_PROGRESS)
    due = order.due_at + timedelta(hours=2)
    request_change(order, kind="deadline", new_due_at=due, reason="x", by=world.technician)
    time_machine.move_to(due + timedelta(hours=1))
    before = snapshot(order)
    with pytest.raises(InvalidInput) as refusal:
        approve_change(order, by=world.dispatcher)
    assert refusal.value.code == "deadline_not_later"
    assert snapshot(order) == before
    assert ChangeRequest.objects.get(order=order).status == ChangeStatus.PENDING


def test_inactive_category_is_refused_when_asked_and_when_approved(world):
    order = world.order(Status.IN_PROGRESS)
    retired = make_category("retired", name="旧类别", is_active=False)
    before = snapshot(order)
    with pytest.raises(InvalidInput) as refusal:
        request_change(
            order, kind="category", new_category=retired.code, reason="x", by=world.technician
        )
    assert (refusal.value.field, refusal.value.code) == ("new_category", "inactive_category")
    assert refusal.value.message == "报修类别“水电 → 旧类别”已停用，请选择其他类别。"
    assert snapshot(order) == before

    socket = make_category("socket", name="插座")
    request_change(order, kind="category", new_category="socket", reason="x", by=world.technician)
    socket.is_active = False
    socket.save()
    before = snapshot(order)
    with pytest.raises(InvalidInput) as refusal:
        approve_change(order, by=world.dispatcher)
    assert refusal.value.code == "inactive_category"
    assert snapshot(order) == before


# --- leaving the states where a change can be decided ---------------------------------------


def test_cancelling_closes_the_pending_request_as_rejected_by_the_system(world):
    order = world.order(Status.IN_PROGRESS)
    request_change(order, kind="measures", measures="换灯管", reason="坏了", by=world.technician)
    change = ChangeRequest.objects.get(order=order)

    event = cancel_order(order, reason="报修人已自行处理", by=world.dispatcher)

    change.refresh_from_db()
    assert change.status == ChangeStatus.REJECTED
    assert change.decided_by is None
    assert change.decision_note == "工单已取消，变更申请自动关闭。"
    assert event.data == {"reason": "报修人已自行处理", "change_closed": change.pk}
    before = snapshot(order)
    with pytest.raises(IllegalState):
        approve_change(order, by=world.dispatcher)
    assert snapshot(order) == before


def test_completing_closes_the_pending_request(world):
    order = world.order(Status.IN_PROGRESS)
    request_change(order, kind="measures", measures="换灯管", reason="坏了", by=world.technician)
    complete_order(order, result="success", note="修好了", by=world.technician)
    change = ChangeRequest.objects.get(order=order)
    assert change.status == ChangeStatus.REJECTED
    assert change.decision_note == "工单已完工，变更申请自动关闭。"


def test_a_pending_request_survives_a_reassignment(world):
    order = world.order(Status.IN_PROGRESS)
    request_change(order, kind="measures", measures="换灯管", reason="坏了", by=world.technician)
    from repairhub.workorders.services import reassign_order

    reassign_order(order, technician=world.technician2, by=world.dispatcher)
    assert order.status == Status.DISPATCHED
    approve_change(order, by=world.dispatcher)
    order.refresh_from_db()
    assert order.measures == "换灯管"


# --- messages -------------------------------------------------------------------------------


def test_dispatchers_are_told_of_a_request_and_the_technician_of_the_decision(world):
    second = make_user("dispatcher2", Role.DISPATCHER)
    gone = make_user("dispatcher3", Role.DISPATCHER)
    gone.is_active = False
    gone.save()
    order = world.order(Status.IN_PROGRESS)

    request_change(order, kind="measures", measures="换灯管", reason="坏了", by=world.technician)

    told = Message.objects.filter(cause="workorder.change_requested", order_number=order.number)
    assert {(m.user_id, m.channel) for m in told} == {
        (world.dispatcher.pk, MessageChannel.IN_APP),
        (second.pk, MessageChannel.IN_APP),
    }
    assert "变更申请（变更措施）：换灯管" in told.first().body
    reporter_sms = Message.objects.filter(order_number=order.number, channel=MessageChannel.SMS)
    sms_before = reporter_sms.count()

    reject_change(order, reason="先按原方案", by=world.dispatcher)
    rejected = Message.objects.get(cause="workorder.change_rejected")
    assert (rejected.user, rejected.channel) == (world.technician, MessageChannel.IN_APP)
    assert rejected.body == (
        f"【报修云】您对工单 {order.number} 的变更申请（变更措施）被驳回，原因：先按原方案"
    )

    request_change(order, kind="measures", measures="换灯座", reason="坏了", by=world.technician)
    approve_change(order, note="可以", by=world.dispatcher)
    approved = Message.objects.get(cause="workorder.change_approved")
    assert approved.user == world.technician
    assert approved.body.endswith("已批准。审批说明：可以")
    # Reporters hear nothing of internal change requests.
    assert reporter_sms.count() == sms_before


# --- pages ----------------------------------------------------------------------------------

ACTION_RE = re.compile(r'action="/orders/[^/"]+/actions/([a-z_]+)/"')


def test_technician_requests_a_change_through_his_page(world):
    order = world.order(Status.IN_PROGRESS)
    mine = client_for(world.technician).get(reverse("workorders:tech-list")).content.decode()
    assert ACTION_RE.findall(mine) == ["request_change", "escalate"]

    response = client_for(world.technician).post(
        reverse("workorders:order-action", args=[order.number, "request_change"]),
        {
            "version": order.version,
            "kind": "extra_work",
            "extra_work": "加装一个插座",
            "measures": "",
            "new_category": "",
            "reason": "用户要求",
        },
    )

    assert response.status_code == 302
    change = ChangeRequest.objects.get(order=order)
    assert (change.kind, change.extra_work, change.reason) == (
        "extra_work",
        "加装一个插座",
        "用户要求",
    )
    mine = client_for(world.technician).get(reverse("workorders:tech-list")).content.decode()
    assert "变更待审批" in mine
    assert ACTION_RE.findall(mine) == ["escalate"]


def test_request_form_without_the_kinds_value_is_422_and_changes_nothing(world):
    order = world.order(Status.IN_PROGRESS)
    before = snapshot(order)
    response = client_for(world.technician).post(
        reverse("workorders:order-action", args=[order.number, "request_change"]),
        {"version": order.version, "kind": "deadline", "reason": "等配件"},
    )
    assert response.status_code == 422
    assert "请填写新的完成时限。" in response.content.decode()
    assert snapshot(order) == before


def test_order_page_shows_the_pending_request_with_approve_and_reject(world):
    order = world.order(Status.IN_PROGRESS)
    request_change(
        order, kind="measures", measures="更换镇流器", reason="灯管无问题", by=world.technician
    )

    html = client_for(world.dispatcher).get(reverse("workorders:order-detail", args=[order.number]))

    assert html.status_code == 200
    page = html.content.decode()
    assert 'id="changes"' in page and "待审批" in page
    assert "更换镇流器" in page and "灯管无问题" in page
    actions = ACTION_RE.findall(page)
    assert "approve_change" in actions and "reject_change" in actions
    # The reporter's own view has no change requests: they are internal.
    reporter_page = client_for(world.reporter).get(
        reverse("workorders:order-detail", args=[order.number])
    )
    assert "更换镇流器" not in reporter_page.content.decode().split("处理记录")[0]


def test_dispatcher_approves_from_the_queue(world):
    order = world.order(Status.IN_PROGRESS)
    quiet = world.order(Status.IN_PROGRESS)
    request_change(
        order, kind="measures", measures="更换镇流器", reason="灯管无问题", by=world.technician
    )
    queue_url = reverse("workorders:change-queue")

    page = client_for(world.dispatcher).get(queue_url)

    assert page.status_code == 200
    html = page.content.decode()
    assert re.findall(r'data-number="([^"]+)"', html) == [order.number]
    assert quiet.number not in html
    assert ACTION_RE.findall(html) == ["approve_change", "reject_change"]

    response = client_for(world.dispatcher).post(
        reverse("workorders:order-action", args=[order.number, "approve_change"]),
        {"version": order.version, "note": "", "next": queue_url},
    )
    assert response.status_code == 302 and response["Location"] == queue_url
    order.refresh_from_db()
    assert order.measures == "更换镇流器"
    html = client_for(world.dispatcher).get(queue_url).content.decode()
    assert "没有待审批的变更申请。" in html


def test_change_queue_refreshes_as_a_fragment(world):
    response = client_for(world.dispatcher).get(
        reverse("workorders:change-queue"), headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="card wo-section" id="change-queue"')
    assert "<html" not in html


@pytest.mark.parametrize("who", ["technician", "agent", "team_lead", "expert", "reporter"])
def test_change_queue_is_for_the_dispatch_desk_only(world, who):
    response = client_for(getattr(world, who)).get(reverse("workorders:change-queue"))
    assert response.status_code == 403


def test_change_queue_costs_the_same_queries_for_more_rows(world, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def asked():
        order = world.order(Status.IN_PROGRESS)
        request_change(order, kind="measures", measures="换", reason="坏", by=world.technician)

    asked()
    client = client_for(world.dispatcher)
    client.get(reverse("workorders:change-queue"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("workorders:change-queue"))
    for _ in range(4):
        asked()
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(reverse("workorders:change-queue")).content.decode()
    assert len(re.findall(r"data-change=", html)) == 5


# --- races ------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_requests_at_once_leave_one_pending(world):
    from repairhub.workorders.models import Event, WorkOrder
    from repairhub.workorders.tests.test_concurrency import in_threads

    order = world.order(Status.IN_PROGRESS)

    def ask(i: int):
        mine = WorkOrder.objects.get(pk=order.pk)
        return request_change(
            mine, kind="measures", measures=f"方案{i}", reason="双击", by=world.technician
        )

    results = in_threads(2, ask)

    assert sum(isinstance(r, Event) for r in results) == 1, results
    loser = next(r for r in results if not isinstance(r, Event))
    assert isinstance(loser, IllegalState) and loser.status == 409, loser
    assert ChangeRequest.objects.filter(order=order, status=ChangeStatus.PENDING).count() == 1
    assert order.events.filter(code="workorder.change_requested").count() == 1


@pytest.mark.django_db(transaction=True)
def test_approve_and_reject_at_once_decide_once(world):
    from repairhub.workorders.errors import StaleVersion
    from repairhub.workorders.models import Event, WorkOrder
    from repairhub.workorders.tests.test_concurrency import in_threads

    second = make_user("dispatcher2", Role.DISPATCHER)
    order = world.order(Status.IN_PROGRESS)
    request_change(order, kind="measures", measures="换灯座", reason="老化", by=world.technician)

    def decide(i: int):
        mine = WorkOrder.objects.get(pk=order.pk)
        if i == 0:
            return approve_change(mine, by=world.dispatcher)
        return reject_change(mine, reason="不同意", by=second)

    results = in_threads(2, decide)

    winners = [r for r in results if isinstance(r, Event)]
    assert len(winners) == 1, results
    loser = next(r for r in results if not isinstance(r, Event))
    assert isinstance(loser, IllegalState | StaleVersion) and loser.status == 409, loser
    change = ChangeRequest.objects.get(order=order)
    order.refresh_from_db()
    if winners[0].code == "workorder.change_approved":
        assert (change.status, order.measures) == (ChangeStatus.APPROVED, "换灯座")
    else:
        assert (change.status, order.measures) == (ChangeStatus.REJECTED, "")
