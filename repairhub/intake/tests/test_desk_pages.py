"""The agent desk (IN3, IN4): registration, caller and place lookups, the queue."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from repairhub.workorders.models import Channel, WorkOrder
from repairhub.workorders.services import accept_order
from repairhub.workorders.states import Status

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def agent_client(client, world):
    client.force_login(world.agent)
    return client


def desk_data(**changes) -> dict:
    return {
        "token": "desk-1",
        "channel": "phone",
        "reporter_phone": "13855556666",
        "reporter_name": "赵六",
        "description": "走廊灯不亮",
        "category": "lamp",
        "place": "E03-201",
        "address": "",
        "urgency": "high",
        "received_at": "2026-03-02T08:15",
        "handling": "已告知师傅",
        "remarks": "下午在家",
        **changes,
    }


def snapshot(order: WorkOrder) -> tuple:
    order.refresh_from_db()
    return order.status, order.version, order.events.count()


def test_desk_shows_the_form_for_the_agent(agent_client, world):
    html = agent_client.get("/desk/").content.decode()
    assert 'id="id_reporter_phone"' in html and "autofocus" in html
    assert '<b data-testid="agent">agent</b>' in html
    assert 'value="phone" id="id_channel_0" required checked' in html
    assert '<optgroup label="东校区 / 3号楼">' in html
    assert '<option value="E03-201">3号楼 / 2层 / 201</option>' in html
    assert 'hx-trigger="keyup changed delay:400ms, change"' in html
    assert "every 15s" in html


@pytest.mark.parametrize("persona", ["reporter", "technician", "manager"])
def test_desk_is_forbidden_to_others(client, world, persona):
    client.force_login(getattr(world, persona))
    for url in ("/desk/", "/desk/queue/", "/desk/caller/?reporter_phone=13800001111"):
        assert client.get(url).status_code == 403


def test_desk_needs_a_login(client, world):
    response = client.get("/desk/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_agent_registers_a_phone_report(agent_client, world):
    response = agent_client.post("/desk/", desk_data())
    order = WorkOrder.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/desk/?new={order.number}"
    assert (order.channel, order.registered_by, order.reporter) == (
        Channel.PHONE,
        world.agent,
        None,
    )
    assert order.received_at == datetime(2026, 3, 2, 8, 15, tzinfo=SHANGHAI)
    assert (order.reporter_name, order.reporter_phone) == ("赵六", "13855556666")
    assert (order.place, order.urgency, order.status) == (world.room, "high", Status.SUBMITTED)
    assert (order.handling, order.remarks) == ("已告知师傅", "下午在家")
    html = agent_client.get(response["Location"]).content.decode()
    assert f"<b>{order.number}</b></a>" in html
    assert f'href="/orders/{order.number}/"' in html
    assert 'value="赵六"' not in html  # the form is cleared for the next call


def test_agent_registers_a_walk_in_report_with_an_address(agent_client, world):
    data = desk_data(channel="walk_in", place="", address="校医院门口")
    agent_client.post("/desk/", data)
    order = WorkOrder.objects.get()
    assert (order.channel, order.place, order.address) == (Channel.WALK_IN, None, "校医院门口")


def test_the_same_desk_token_twice_gives_one_order(agent_client, world):
    agent_client.post("/desk/", desk_data())
    agent_client.post("/desk/", desk_data())
    assert WorkOrder.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reporter_phone": ""}, "请填写联系电话。"),
        ({"description": ""}, "请填写报修内容。"),
        ({"place": "", "address": ""}, "请选择报修地点或填写详细地址。"),
        ({"received_at": "2999-01-01T08:00"}, "接报时间不能晚于现在。"),
        ({"channel": "web"}, "渠道只能是电话报修或现场报修。"),
    ],
)
def test_desk_refuses_bad_input_and_keeps_it(agent_client, world, change, message):
    response = agent_client.post("/desk/", desk_data(**change))
    html = response.content.decode()
    assert response.status_code == 422
    assert message in html
    assert "走廊灯不亮</textarea>" in html or change == {"description": ""}
    assert WorkOrder.objects.count() == 0


def test_caller_lookup_lists_earlier_orders(agent_client, world):
    mine = world.order(reporter_phone="138 5555 6666")
    other = world.order(reporter_phone="13800001111")
    response = agent_client.get("/desk/caller/", {"reporter_phone": "13855556666"})
    html = response.content.decode()
    assert html.startswith('<section id="desk-caller"')
    assert mine.number in html and other.number not in html


def test_caller_lookup_without_history(agent_client, world):
    html = agent_client.get("/desk/caller/", {"reporter_phone": "13899990000"}).content.decode()
    assert "没有该号码的历史报修。" in html


def test_place_lookup_lists_open_orders_there(agent_client, world):
    open_order = world.order(Status.ACCEPTED)
    closed = world.order(Status.CLOSED)
    html = agent_client.get("/desk/place/", {"place": "E03"}).content.decode()
    assert "东校区 / 3号楼 的未完成工单" in html
    assert open_order.number in html and closed.number not in html


def test_queue_lists_submitted_orders_only(agent_client, world):
    new = world.order()
    accepted = world.order(Status.ACCEPTED)
    html = agent_client.get("/desk/queue/").content.decode()
    assert html.startswith('<section id="desk-queue"')
    assert new.number in html and accepted.number not in html
    assert f'action="/desk/orders/{new.number}/accept"' in html


def test_accept_from_the_queue(agent_client, world):
    order = world.order()
    response = agent_client.post(f"/desk/orders/{order.number}/accept", {"version": 1})
    assert response.status_code == 302
    assert snapshot(order) == (Status.ACCEPTED, 2, 2)
    assert order.events.last().actor == world.agent


def test_accept_by_htmx_returns_the_refreshed_queue(agent_client, world):
    order = world.order()
    response = agent_client.post(
        f"/desk/orders/{order.number}/accept", {"version": 1}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f"工单 {order.number} 已受理。" in html
    assert f'data-number="{order.number}"' not in html


def test_reject_needs_a_reason(agent_client, world):
    order = world.order()
    before = snapshot(order)
    response = agent_client.post(
        f"/desk/orders/{order.number}/reject", {"reason": ""}, headers={"HX-Request": "true"}
    )
    assert "请填写原因。" in response.content.decode()
    assert snapshot(order) == before


def test_reject_with_a_reason(agent_client, world):
    order = world.order()
    agent_client.post(f"/desk/orders/{order.number}/reject", {"reason": "不属于后勤范围"})
    assert snapshot(order) == (Status.REJECTED, 2, 2)
    assert order.events.last().data == {"reason": "不属于后勤范围"}


def test_accepting_an_order_someone_else_accepted_is_a_message(agent_client, world):
    order = world.order()
    accept_order(order, by=world.dispatcher)
    before = snapshot(order)
    response = agent_client.post(f"/desk/orders/{order.number}/accept", {"version": 1})
    assert response.status_code == 302
    assert snapshot(order) == before
    html = agent_client.get("/desk/").content.decode()
    assert f"工单 {order.number} 已被他人更新，请刷新后重试。" in html


def test_unknown_desk_action_changes_nothing(agent_client, world):
    order = world.order()
    before = snapshot(order)
    agent_client.post(f"/desk/orders/{order.number}/cancel", {"reason": "x"})
    assert snapshot(order) == before
