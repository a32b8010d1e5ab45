"""TM3: the reporter urges (催单) from the tracking page, "my orders" or the API, after a wait
and a limited number of times a day; each urge marks the order and tells the staff."""

from __future__ import annotations

import pytest
from django.test import Client

from repairhub.accounts.services import issue_token
from repairhub.workorders.access import order_for_token
from repairhub.workorders.errors import IllegalState, InvalidInput, NotAllowed
from repairhub.workorders.models import WorkOrder
from repairhub.workorders.services import follow_order, perform
from repairhub.workorders.states import Action, Status

from .conftest import bodies, events, supervision_messages, told

pytestmark = pytest.mark.django_db

URGED = "supervision.urged"
URGED_NOTE = "supervision.urged_note"


def snapshot(order: WorkOrder) -> tuple:
    order.refresh_from_db()
    return (
        order.status,
        order.version,
        order.urge_count,
        order.last_urged_at,
        order.events.count(),
        supervision_messages(order),
    )


def urge_page(client: Client, order: WorkOrder, **data):
    return client.post(f"{order.tracking_path}/urge", {"version": order.version, **data})


def api(user) -> Client:
    return Client(headers={"Authorization": f"Bearer {issue_token(user, name='test')}"})


def api_urge(caller: Client, order: WorkOrder, body: dict | None = None):
    return caller.post(
        f"/api/v1/orders/{order.number}/actions/urge",
        data=body or {},
        content_type="application/json",
    )


# --- the tracking page -----------------------------------------------------------------------


def test_urge_from_the_tracking_page_marks_the_order_and_tells_technician_and_dispatchers(
    client, world, clock
):
    order = world.order(Status.ACKNOWLEDGED)
    version = order.version
    moment = clock.at(minutes=30)
    response = urge_page(client, order, note="水漫到走廊了")
    assert response.status_code == 302 and response["Location"] == order.tracking_path
    order.refresh_from_db()
    assert (order.status, order.version, order.urge_count) == (
        Status.ACKNOWLEDGED,
        version + 1,
        1,
    )
    assert order.last_urged_at == moment
    event = order.events.last()
    assert (event.code, event.data, event.actor, event.from_status, event.to_status) == (
        "workorder.urged",
        {"urge_count": 1, "note": "水漫到走廊了"},
        None,
        Status.ACKNOWLEDGED,
        Status.ACKNOWLEDGED,
    )
    assert told(URGED_NOTE, order) == ["technician", "dispatcher"]
    assert bodies(URGED_NOTE, order)[0] == (
        f"【报修云】报修人催单（第 1 次）：工单 {order.number}（水电 → 灯具，"
        "东校区 / 3号楼 / 2层 / 201），当前状态：已接单，维修人员：technician。留言：水漫到走廊了"
    )
    html = client.get(order.tracking_path).content.decode()
    assert "报修人催单：水漫到走廊了" in html  # on the reporter's timeline
    assert 'data-testid="urge"' not in html  # the wait starts again, and the page says so
    assert "您已在 09:30 催过单，请在 10:00 之后再催。" in html


def test_the_page_says_when_urging_becomes_possible(client, world, clock):
    order = world.order(Status.ACCEPTED)
    clock.at(minutes=10)
    html = client.get(order.tracking_path).content.decode()
    assert 'data-testid="urge"' not in html
    assert "报修提交 30 分钟后才能催单，请在 09:30 之后再试。" in html
    clock.at(minutes=30)
    html = client.get(order.tracking_path).content.decode()
    assert 'data-testid="urge"' in html and f"{order.tracking_path}/urge" in html


def test_urging_too_soon_is_refused_and_changes_nothing(client, world, clock):
    order = world.order(Status.DISPATCHED)
    clock.at(minutes=29, seconds=59)
    before = snapshot(order)
    response = urge_page(client, order)
    assert response.status_code == 409
    assert "报修提交 30 分钟后才能催单，请在 09:30 之后再试。" in response.content.decode()
    assert snapshot(order) == before


def test_an_unassigned_order_urges_the_dispatchers_only(client, world, clock):
    order = world.order(Status.ACCEPTED)
    clock.at(hours=1)
    assert urge_page(client, order).status_code == 302
    assert told(URGED, order) == ["dispatcher"]
    assert "维修人员：—。" in bodies(URGED, order)[0]


def test_a_follower_may_not_urge(client, world, clock):
    order = world.order(Status.ACCEPTED)
    follower, _ = follow_order(order, name="王五", phone="13700007777", by=None)
    clock.at(hours=1)
    before = snapshot(order)
    response = client.post(f"{follower.tracking_path}/urge", {"version": order.version})
    assert response.status_code == 403
    assert "您无权对该工单执行“催单”。" in response.content.decode()
    assert snapshot(order) == before


def test_a_completed_order_cannot_be_urged(client, world, clock):
    order = world.order(Status.COMPLETED)
    clock.at(hours=1)
    before = snapshot(order)
    response = urge_page(client, order)
    assert response.status_code == 409
    assert "工单当前状态为“已完成”，不能执行“催单”。" in response.content.decode()
    assert snapshot(order) == before


def test_an_overlong_note_is_refused(client, world, clock):
    order = world.order(Status.ACCEPTED)
    clock.at(hours=1)
    before = snapshot(order)
    response = urge_page(client, order, note="急" * 201)
    assert response.status_code == 422
    assert "催单留言最多 200 个字。" in response.content.decode()
    assert snapshot(order) == before


# --- waits and the daily limit (through the service) ------------------------------------------


def test_each_urge_waits_after_the_last_and_a_day_allows_three(world, clock, settings):
    settings.SUPERVISION_ESCALATE_URGES = 99  # escalation has its own tests
    order = world.order(Status.IN_PROGRESS)
    holder = order_for_token(order.tracking_token)[1]
    for minutes in (30, 60, 90):
        clock.at(minutes=minutes)
        perform(order, Action.URGE, by=holder)
    clock.at(minutes=119)
    before = snapshot(order)
    with pytest.raises(IllegalState) as refusal:
        perform(order, Action.URGE, by=holder)
    assert refusal.value.code == "urge_too_soon"
    assert refusal.value.message == "您已在 10:30 催过单，请在 11:00 之后再催。"
    clock.at(hours=14)
    with pytest.raises(IllegalState) as refusal:
        perform(order, Action.URGE, by=holder)
    assert refusal.value.code == "urge_limit"
    assert refusal.value.message == "每天最多催单 3 次，今天的次数已用完，请明天再试。"
    assert snapshot(order)[:5] == before[:5]
    # A new day (local midnight) gives three more.
    clock.at(hours=15)  # 00:00 the next day in Asia/Shanghai
    perform(order, Action.URGE, by=holder)
    order.refresh_from_db()
    assert order.urge_count == 4
    assert [e["urge_count"] for e in events(order, "workorder.urged")] == [1, 2, 3, 4]
    assert told(URGED, order) == ["technician", "dispatcher"] * 4


def test_the_wait_and_the_limit_are_settings(world, clock, settings):
    settings.SUPERVISION_URGE_AFTER_MINUTES = 5
    settings.SUPERVISION_URGE_PER_DAY = 1
    order = world.order(Status.ACCEPTED)
    holder = order_for_token(order.tracking_token)[1]
    clock.at(minutes=5)
    perform(order, Action.URGE, by=holder)
    clock.at(minutes=20)
    with pytest.raises(IllegalState) as refusal:
        perform(order, Action.URGE, by=holder)
    assert refusal.value.message == "每天最多催单 1 次，今天的次数已用完，请明天再试。"


def test_staff_may_not_urge_for_the_reporter(world, clock):
    order = world.order(Status.ACCEPTED)
    clock.at(hours=1)
    before = snapshot(order)
    for person in (world.agent, world.dispatcher, world.manager):
        with pytest.raises(NotAllowed):
            perform(order, Action.URGE, by=person)
    assert snapshot(order) == before


def test_urge_note_must_be_text(world, clock):
    order = world.order(Status.ACCEPTED)
    clock.at(hours=1)
    before = snapshot(order)
    with pytest.raises(InvalidInput):
        perform(order, Action.URGE, by=world.reporter, note=["急"])
    assert snapshot(order) == before


# --- the API ---------------------------------------------------------------------------------


def test_api_urge_by_the_reporter(world, clock):
    order = world.order(Status.DISPATCHED)
    caller = api(world.reporter)
    clock.at(minutes=45)
    assert "urge" in caller.get(f"/api/v1/orders/{order.number}").json()["allowed_actions"]
    response = api_urge(caller, order, {"note": "请尽快"})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "dispatched"
    assert "urge" not in body["allowed_actions"]  # the wait starts again
    order.refresh_from_db()
    assert order.urge_count == 1
    event = order.events.last()
    assert (event.code, event.channel, event.actor_id) == (
        "workorder.urged",
        "api",
        world.reporter.pk,
    )
    assert told(URGED_NOTE, order) == ["technician", "dispatcher"]


def test_api_urge_refusals_are_json_and_change_nothing(world, clock):
    order = world.order(Status.DISPATCHED)
    caller = api(world.reporter)
    clock.at(minutes=10)
    before = snapshot(order)
    response = api_urge(caller, order)
    assert response.status_code == 409
    assert response.json() == {
        "code": "urge_too_soon",
        "message": "报修提交 30 分钟后才能催单，请在 09:30 之后再试。",
    }
    assert "urge" not in caller.get(f"/api/v1/orders/{order.number}").json()["allowed_actions"]
    response = api_urge(api(world.dispatcher), order)
    assert response.status_code == 403
    assert snapshot(order) == before


# --- "my orders" ----------------------------------------------------------------------------


def test_a_signed_in_reporter_urges_from_my_orders(client, world, clock):
    waiting = world.order(Status.ACCEPTED)
    clock.at(minutes=20)
    fresh = world.order(Status.SUBMITTED)  # reported 20 minutes later: not yet
    done = world.order(Status.COMPLETED)
    clock.at(minutes=40)
    client.force_login(world.reporter)
    html = client.get("/my/").content.decode()
    assert f'data-testid="urge-{waiting.number}"' in html
    assert f'data-testid="urge-{fresh.number}"' not in html
    assert f'data-testid="urge-{done.number}"' not in html
    response = client.post(
        f"{waiting.tracking_path}/urge", {"version": waiting.version, "back": "mine"}
    )
    assert response.status_code == 302 and response["Location"] == "/my/"
    waiting.refresh_from_db()
    assert waiting.urge_count == 1
    assert waiting.events.last().actor_id == world.reporter.pk  # in his own name
    html = client.get("/my/").content.decode()
    assert f"工单 {waiting.number} 已催单，我们会尽快处理。" in html
    assert "已催单 1 次" in html
    assert f'data-testid="urge-{waiting.number}"' not in html


def test_a_refused_urge_from_my_orders_says_why_there(client, world, clock):
    order = world.order(Status.ACCEPTED)
    client.force_login(world.reporter)
    clock.at(minutes=5)
    before = snapshot(order)
    response = client.post(
        f"{order.tracking_path}/urge", {"version": order.version, "back": "mine"}
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "我的报修" in html
    assert "报修提交 30 分钟后才能催单，请在 09:30 之后再试。" in html
    assert snapshot(order) == before
