"""Experts (DP4): an order is escalated to an expert, who is told, sees it in his queue, and may
guide or take it over. Refusals change nothing."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from repairhub.accounts.roles import Role
from repairhub.notify.models import Message, MessageChannel
from repairhub.testing.personas import make_user
from repairhub.workorders.access import can_see, visible_orders
from repairhub.workorders.errors import IllegalState, InvalidInput, NotAllowed, NotVisible
from repairhub.workorders.lifecycle import allowed_actions
from repairhub.workorders.services import (
    escalate_order,
    guide_order,
    take_over_order,
)
from repairhub.workorders.states import Action, Status

pytestmark = pytest.mark.django_db

ACTION_RE = re.compile(r'action="/orders/[^/"]+/actions/([a-z_]+)/"')


def snapshot(order) -> tuple:
    order.refresh_from_db()
    return (
        order.status,
        order.version,
        order.assignee_id,
        order.expert_id,
        order.events.count(),
    )


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- escalation ----------------------------------------------------------------------------


def test_technician_escalates_and_the_expert_is_told_and_sees_it(world):
    order = world.order(Status.IN_PROGRESS)
    assert not can_see(world.expert, order)
    world.expert.phone = "13700007777"
    world.expert.save()

    event = escalate_order(order, expert="expert", reason="变压器异响，拿不准", by=world.technician)

    order.refresh_from_db()
    assert (order.expert, order.status, order.assignee) == (
        world.expert,
        Status.IN_PROGRESS,
        world.technician,
    )
    assert order.escalated_at is not None
    assert event.code == "workorder.escalated"
    assert event.data == {
        "expert": "expert",
        "expert_name": "expert",
        "reason": "变压器异响，拿不准",
    }
    told = Message.objects.filter(cause="workorder.escalated", order_number=order.number)
    assert {(m.user_id, m.channel) for m in told} == {
        (world.expert.pk, MessageChannel.IN_APP),
        (world.expert.pk, MessageChannel.SMS),
    }
    sms = told.get(channel=MessageChannel.SMS)
    assert sms.address == "13700007777"
    assert sms.body == (
        f"【报修云】工单 {order.number} 请求专家支持：水电 → 灯具，东校区 / 3号楼 / 2层 / 201。"
        "原因：变压器异响，拿不准"
    )
    # He sees the order now, and only through the escalation.
    assert can_see(world.expert, order)
    assert list(visible_orders(world.expert)) == [order]
    assert allowed_actions(order, world.expert) == [Action.GUIDE, Action.TAKE_OVER]
    # Nothing for the reporter: escalation is internal.
    assert not Message.objects.filter(
        cause="workorder.escalated", channel=MessageChannel.SMS, user=world.reporter
    ).exists()


def test_expert_without_a_phone_gets_only_the_in_app_message(world):
    order = world.order(Status.ACKNOWLEDGED)
    escalate_order(order, expert=world.expert, reason="复杂", by=world.dispatcher)
    told = Message.objects.filter(cause="workorder.escalated")
    assert [(m.user, m.channel) for m in told] == [(world.expert, MessageChannel.IN_APP)]


@pytest.mark.parametrize("who", ["technician", "dispatcher", "admin", "team_lead"])
def test_who_may_escalate(world, who):
    order = world.order(Status.DISPATCHED)
    escalate_order(order, expert="expert", reason="复杂", by=getattr(world, who))
    order.refresh_from_db()
    assert order.expert == world.expert


def test_dispatcher_may_escalate_before_dispatch(world):
    order = world.order(Status.ACCEPTED)
    escalate_order(order, expert="expert", reason="高端设备", by=world.dispatcher)
    order.refresh_from_db()
    assert (order.expert, order.status) == (world.expert, Status.ACCEPTED)


@pytest.mark.parametrize("who", ["agent", "manager", "reporter", "qc_inspector"])
def test_others_may_not_escalate(world, who):
    order = world.order(Status.IN_PROGRESS)
    before = snapshot(order)
    with pytest.raises((NotAllowed, NotVisible)):
        escalate_order(order, expert="expert", reason="复杂", by=getattr(world, who))
    assert snapshot(order) == before


@pytest.mark.parametrize(
    ("expert", "code"),
    [
        ("technician2", "unknown_expert"),  # a technician, not an expert
        ("nobody", "unknown_expert"),
        ("", "required"),
        (None, "required"),
    ],
)
def test_escalating_to_a_non_expert_is_refused(world, expert, code):
    order = world.order(Status.IN_PROGRESS)
    before = snapshot(order)
    with pytest.raises(InvalidInput) as refusal:
        escalate_order(order, expert=expert, reason="复杂", by=world.technician)
    assert (refusal.value.field, refusal.value.code) == ("expert", code)
    assert refusal.value.message == "请选择一名在职的技术专家。"
    assert snapshot(order) == before
    assert not Message.objects.filter(cause="workorder.escalated").exists()


def test_escalating_to_an_inactive_expert_is_refused(world):
    retired = make_user("old_expert", Role.EXPERT)
    retired.is_active = False
    retired.save()
    order = world.order(Status.IN_PROGRESS)
    before = snapshot(order)
    with pytest.raises(InvalidInput):
        escalate_order(order, expert=retired, reason="复杂", by=world.technician)
    assert snapshot(order) == before


def test_escalation_needs_a_reason_and_not_the_same_expert_twice(world):
    order = world.order(Status.IN_PROGRESS)
    before = snapshot(order)
    with pytest.raises(InvalidInput) as refusal:
        escalate_order(order, expert="expert", reason=" ", by=world.technician)
    assert refusal.value.message == "请填写转专家原因。"
    assert snapshot(order) == before

    escalate_order(order, expert="expert", reason="复杂", by=world.technician)
    before = snapshot(order)
    with pytest.raises(InvalidInput) as refusal:
        escalate_order(order, expert="expert", reason="再催", by=world.technician)
    assert refusal.value.message == "工单已经转给专家 expert。"
    assert snapshot(order) == before

    second = make_user("expert2", Role.EXPERT)
    event = escalate_order(order, expert=second, reason="换一位", by=world.dispatcher)
    assert event.data["previous_expert"] == "expert"
    order.refresh_from_db()
    assert order.expert == second
    assert not can_see(world.expert, order)


def test_escalating_a_finished_order_is_409(world):
    order = world.order(Status.COMPLETED)
    before = snapshot(order)
    with pytest.raises(IllegalState):
        escalate_order(order, expert="expert", reason="复杂", by=world.dispatcher)
    assert snapshot(order) == before


# --- guidance and take-over ----------------------------------------------------------------


def test_expert_guides_and_others_may_not(world):
    order = world.order(Status.IN_PROGRESS)
    escalate_order(order, expert="expert", reason="复杂", by=world.technician)

    event = guide_order(order, note="先断电，测一下零线对地电压", by=world.expert)

    assert event.code == "workorder.guided"
    assert event.data == {"note": "先断电，测一下零线对地电压"}
    assert (event.from_status, event.to_status) == (Status.IN_PROGRESS, Status.IN_PROGRESS)
    before = snapshot(order)
    for user in (world.technician, world.dispatcher, world.admin):
        with pytest.raises(NotAllowed):
            guide_order(order, note="我也来指导", by=user)
    other_expert = make_user("expert2", Role.EXPERT)
    with pytest.raises(NotVisible):
        guide_order(order, note="我也来指导", by=other_expert)
    with pytest.raises(InvalidInput):
        guide_order(order, note="", by=world.expert)
    assert snapshot(order) == before


def test_expert_takes_over_and_becomes_the_assignee(world):
    order = world.order(Status.ON_HOLD)

    escalate_order(order, expert="expert", reason="需要专家", by=world.technician)
    event = take_over_order(order, by=world.expert)

    order.refresh_from_db()
    assert (order.status, order.assignee, order.expert) == (
        Status.ACKNOWLEDGED,
        world.expert,
        world.expert,
    )
    assert order.hold_reason == ""
    assert event.code == "workorder.taken_over"
    assert event.data == {
        "technician": "expert",
        "technician_name": "expert",
        "previous": "technician",
    }
    assert (event.from_status, event.to_status) == (Status.ON_HOLD, Status.ACKNOWLEDGED)
    # The technician who had it is told, and no longer sees it.
    told = Message.objects.get(cause="workorder.taken_over")
    assert (told.user, told.channel) == (world.technician, MessageChannel.IN_APP)
    assert told.body == f"【报修云】工单 {order.number} 已由专家 expert 接手。"
    assert not can_see(world.technician, order)
    # He works it now as its technician; taking over twice is not offered.
    assert Action.ARRIVE in allowed_actions(order, world.expert)
    assert Action.TAKE_OVER not in allowed_actions(order, world.expert)
    before = snapshot(order)
    with pytest.raises(IllegalState) as refusal:
        take_over_order(order, by=world.expert)
    assert refusal.value.code == "already_assignee"
    assert snapshot(order) == before


def test_expert_takes_over_an_order_waiting_for_dispatch(world):
    order = world.order(Status.ACCEPTED)
    escalate_order(order, expert="expert", reason="高端设备", by=world.dispatcher)
    take_over_order(order, by=world.expert)
    order.refresh_from_db()
    assert (order.status, order.assignee) == (Status.ACKNOWLEDGED, world.expert)
    assert order.dispatched_at is not None and order.acknowledged_at is not None
    assert not Message.objects.filter(cause="workorder.taken_over").exists()


def test_no_one_else_takes_over(world):
    order = world.order(Status.IN_PROGRESS)
    escalate_order(order, expert="expert", reason="复杂", by=world.technician)
    before = snapshot(order)
    for user in (world.technician, world.dispatcher, world.team_lead):
        with pytest.raises(NotAllowed):
            take_over_order(order, by=user)
    assert snapshot(order) == before


def test_an_expert_without_an_escalation_cannot_act(world):
    order = world.order(Status.IN_PROGRESS)
    before = snapshot(order)
    with pytest.raises(NotVisible):
        guide_order(order, note="x", by=world.expert)
    with pytest.raises(NotVisible):
        take_over_order(order, by=world.expert)
    assert snapshot(order) == before


# --- pages ----------------------------------------------------------------------------------


def test_expert_queue_lists_open_orders_escalated_to_him(world):
    first = world.order(Status.IN_PROGRESS)
    second = world.order(Status.ACCEPTED)
    finished = world.order(Status.IN_PROGRESS)
    world.order(Status.IN_PROGRESS)  # not escalated
    escalate_order(first, expert="expert", reason="变压器异响", by=world.technician)
    escalate_order(second, expert="expert", reason="进口设备", by=world.dispatcher)
    escalate_order(finished, expert="expert", reason="旧事", by=world.technician)
    from repairhub.workorders.services import cancel_order

    cancel_order(finished, reason="重复", by=world.dispatcher)

    response = client_for(world.expert).get(reverse("workorders:expert-queue"))

    assert response.status_code == 200
    html = response.content.decode()
    assert re.findall(r'data-number="([^"]+)"', html) == [first.number, second.number]
    assert "变压器异响" in html and "进口设备" in html
    assert ACTION_RE.findall(html) == ["guide", "take_over", "guide", "take_over"]


def test_expert_guides_through_the_queue_page(world):
    order = world.order(Status.IN_PROGRESS)
    escalate_order(order, expert="expert", reason="复杂", by=world.technician)
    queue_url = reverse("workorders:expert-queue")
    response = client_for(world.expert).post(
        reverse("workorders:order-action", args=[order.number, "guide"]),
        {"version": order.version, "note": "检查接地", "next": queue_url},
    )
    assert response.status_code == 302 and response["Location"] == queue_url
    page = client_for(world.technician).get(reverse("workorders:order-detail", args=[order.number]))
    html = page.content.decode()
    assert 'id="guidance"' in html and "检查接地" in html
    assert "技术专家" in html


@pytest.mark.parametrize("who", ["technician", "dispatcher", "reporter"])
def test_expert_queue_is_for_experts_only(world, who):
    response = client_for(getattr(world, who)).get(reverse("workorders:expert-queue"))
    assert response.status_code == 403


def test_technician_escalates_from_his_page(world):
    order = world.order(Status.ACKNOWLEDGED)
    response = client_for(world.technician).post(
        reverse("workorders:order-action", args=[order.number, "escalate"]),
        {"version": order.version, "expert": "expert", "reason": "不会修"},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.expert == world.expert


def test_escalate_form_offers_experts_but_not_the_current_one(world):
    make_user("expert2", Role.EXPERT)
    order = world.order(Status.IN_PROGRESS)
    html = client_for(world.technician).get(reverse("workorders:tech-list")).content.decode()
    assert re.findall(r'<option value="(expert[^"]*)">', html) == ["expert", "expert2"]
    escalate_order(order, expert="expert", reason="复杂", by=world.technician)
    html = client_for(world.technician).get(reverse("workorders:tech-list")).content.decode()
    assert re.findall(r'<option value="(expert[^"]*)">', html) == ["expert2"]
