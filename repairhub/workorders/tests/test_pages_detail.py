"""The order page: who sees it, which action forms it shows, and every action posted through it."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from repairhub.testing.personas import make_asset
from repairhub.workorders.lifecycle import allowed_actions
from repairhub.workorders.models import Event
from repairhub.workorders.states import Status

pytestmark = pytest.mark.django_db

ACTION_RE = re.compile(r'action="/orders/[^/"]+/actions/([a-z_]+)/"')


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def detail_url(order) -> str:
    return reverse("workorders:order-detail", args=[order.number])


def post(user, order, action: str, **data):
    data.setdefault("version", order.version)
    url = reverse("workorders:order-action", args=[order.number, action])
    return client_for(user).post(url, data)


def snapshot(order) -> tuple:
    order.refresh_from_db()
    return (
        order.status,
        order.version,
        order.assignee_id,
        order.events.count(),
        order.attachments.count(),
    )


def last_event(order) -> Event:
    return order.events.order_by("-id").first()


def photo(name="fix.png", color="red") -> io.BytesIO:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buf, format="PNG")
    buf.seek(0)
    buf.name = name
    return buf


# --- who sees the page --------------------------------------------------------------------


def test_anonymous_is_sent_to_login(world):
    order = world.order()
    response = Client().get(detail_url(order))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("who", ["agent", "dispatcher", "manager", "admin", "technician"])
def test_staff_who_can_see_the_order_get_the_full_page(world, who):
    order = world.order(Status.DISPATCHED)
    response = client_for(getattr(world, who)).get(detail_url(order))
    assert response.status_code == 200
    html = response.content.decode()
    assert order.number in html
    assert "13800001111" in html  # the full phone, for staff who may see the order
    assert "已派工" in html


@pytest.mark.parametrize("who", ["technician2", "reporter2", "storekeeper", "qc_inspector"])
def test_people_who_cannot_see_the_order_get_404(world, who):
    order = world.order(Status.DISPATCHED)
    response = client_for(getattr(world, who)).get(detail_url(order))
    assert response.status_code == 404
    assert "13800001111" not in response.content.decode()


def test_unknown_number_is_404(world):
    response = client_for(world.manager).get("/orders/BX-20000101-0001/")
    assert response.status_code == 404


def test_the_asset_shows_under_the_place_with_its_nameplate_for_staff(world):
    unit = make_asset(
        "E03-201-AC2", name="2号空调", place=world.room, model="格力 KFR-72LW", serial="GR72LW0312"
    )
    order = world.order(Status.DISPATCHED, asset=unit)

    html = client_for(world.technician).get(detail_url(order)).content.decode()
    place_at, asset_at = html.index("东校区 / 3号楼 / 2层 / 201"), html.index('data-testid="asset"')
    assert place_at < asset_at
    assert "2号空调" in html and "E03-201-AC2" in html
    assert "型号 格力 KFR-72LW · 序列号 GR72LW0312" in html

    mine = client_for(world.reporter).get(detail_url(order))
    assert mine.status_code == 200
    assert "2号空调" in mine.content.decode()
    assert "GR72LW0312" not in mine.content.decode()


def test_an_order_without_an_asset_shows_no_asset_line(world):
    html = client_for(world.technician).get(detail_url(world.order(Status.DISPATCHED))).content
    assert b'data-testid="asset"' not in html


# --- the table decides the buttons ---------------------------------------------------------


def test_technician_sees_acknowledge_decline_and_escalate_on_a_dispatched_order(world):
    order = world.order(Status.DISPATCHED)
    html = client_for(world.technician).get(detail_url(order)).content.decode()
    assert ACTION_RE.findall(html) == ["acknowledge", "decline", "escalate"]
    assert "接单" in html and "退单" in html and "转专家" in html


def test_agent_sees_no_dispatch_on_an_accepted_order(world):
    order = world.order(Status.ACCEPTED)
    html = client_for(world.agent).get(detail_url(order)).content.decode()
    assert ACTION_RE.findall(html) == ["cancel"]
    assert ">派工<" not in html


@pytest.mark.parametrize(
    ("status", "who"),
    [
        (Status.SUBMITTED, "agent"),
        (Status.ACCEPTED, "dispatcher"),
        (Status.DISPATCHED, "dispatcher"),
        (Status.IN_PROGRESS, "technician"),
        (Status.ON_HOLD, "technician"),
        (Status.COMPLETED, "dispatcher"),
        (Status.COMPLETED, "reporter"),
        (Status.IN_PROGRESS, "team_lead"),
        (Status.IN_PROGRESS, "expert"),
        (Status.COMPLETED, "manager"),
        (Status.CLOSED, "dispatcher"),
    ],
)
def test_page_shows_exactly_the_tables_actions(world, status, who):
    order = world.order(status)
    user = getattr(world, who)
    html = client_for(user).get(detail_url(order)).content.decode()
    assert ACTION_RE.findall(html) == list(allowed_actions(order, user))


def test_each_form_posts_the_current_version(world):
    order = world.order(Status.IN_PROGRESS)
    html = client_for(world.technician).get(detail_url(order)).content.decode()
    versions = re.findall(r'name="version" value="(\d+)"', html)
    assert versions == [str(order.version)] * len(allowed_actions(order, world.technician))


def test_timeline_lists_every_event_with_who_and_what(world):
    order = world.order(Status.ON_HOLD)
    html = client_for(world.manager).get(detail_url(order)).content.decode()
    assert html.count('class="wo-event"') == order.events.count() == 6
    for label in ("提交报修", "受理", "派工", "接单", "到场", "挂起", "等配件"):
        assert label in html
    assert "维修中 → 挂起" in html
    assert "dispatcher" in html and "technician" in html


# --- every action through the page --------------------------------------------------------


def test_dispatch_through_the_page(world):
    order = world.order(Status.ACCEPTED)
    version = order.version
    response = post(world.dispatcher, order, "dispatch", technician="technician")
    assert response.status_code == 302
    assert response["Location"] == detail_url(order)
    order.refresh_from_db()
    assert (order.status, order.assignee, order.version) == (
        Status.DISPATCHED,
        world.technician,
        version + 1,
    )
    event = last_event(order)
    assert (event.code, event.channel, event.actor) == (
        "workorder.dispatched",
        "web",
        world.dispatcher,
    )
    assert event.data["technician"] == "technician"


def test_dispatch_form_lists_technicians_with_their_open_counts(world):
    world.order(Status.DISPATCHED)
    world.order(Status.IN_PROGRESS)
    world.order(Status.COMPLETED)  # not open work any more
    order = world.order(Status.ACCEPTED)
    html = client_for(world.dispatcher).get(detail_url(order)).content.decode()
    assert '<option value="technician">technician（在办 2 单）</option>' in html
    assert '<option value="technician2">technician2（在办 0 单）</option>' in html
    assert '<option value="expert">expert（在办 0 单）</option>' in html
    assert 'value="agent"' not in html


def test_dispatch_can_return_to_the_board(world):
    order = world.order(Status.ACCEPTED)
    board = reverse("workorders:dispatch-board")
    response = post(world.dispatcher, order, "dispatch", technician="technician", next=board)
    assert response["Location"] == board


def test_dispatch_refuses_an_outside_next_url(world):
    order = world.order(Status.ACCEPTED)
    response = post(
        world.dispatcher, order, "dispatch", technician="technician", next="https://evil.example/"
    )
    assert response["Location"] == detail_url(order)


def test_reassign_through_the_page(world):
    order = world.order(Status.ACKNOWLEDGED)
    version = order.version
    response = post(world.dispatcher, order, "reassign", technician="technician2", reason="就近")
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.assignee, order.version) == (
        Status.DISPATCHED,
        world.technician2,
        version + 1,
    )
    assert last_event(order).data == {
        "technician": "technician2",
        "technician_name": "technician2",
        "previous": "technician",
        "reason": "就近",
    }


def test_acknowledge_through_the_page(world):
    order = world.order(Status.DISPATCHED)
    response = post(world.technician, order, "acknowledge")
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Status.ACKNOWLEDGED
    assert order.acknowledged_at is not None
    assert last_event(order).code == "workorder.acknowledged"


def test_decline_through_the_page_returns_the_order_to_the_pool(world):
    order = world.order(Status.DISPATCHED)
    response = post(world.technician, order, "decline", reason="不在我的片区")
    # He no longer sees the order: he goes home (which sends him to his list).
    assert response["Location"] == reverse("home")
    order.refresh_from_db()
    assert (order.status, order.assignee) == (Status.ACCEPTED, None)
    assert last_event(order).data == {"reason": "不在我的片区", "technician": "technician"}


def test_decline_without_reason_is_refused_and_changes_nothing(world):
    order = world.order(Status.DISPATCHED)
    before = snapshot(order)
    response = post(world.technician, order, "decline", reason="  ")
    assert response.status_code == 422
    assert "请按提示修改后再提交" in response.content.decode()
    assert snapshot(order) == before


def test_arrive_with_position_through_the_page(world):
    order = world.order(Status.ACKNOWLEDGED)
    response = post(world.technician, order, "arrive", lat="30.5123456", lng="114.4012345")
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Status.IN_PROGRESS
    assert (order.arrival_latitude, order.arrival_longitude) == (
        Decimal("30.512346"),
        Decimal("114.401234"),
    )
    data = last_event(order).data
    assert (data["lat"], data["lng"]) == ("30.512346", "114.401234")


def test_arrive_without_position_when_the_browser_refused(world):
    order = world.order(Status.ACKNOWLEDGED)
    response = post(world.technician, order, "arrive", lat="", lng="")
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.arrival_latitude, order.arrival_longitude) == (
        Status.IN_PROGRESS,
        None,
        None,
    )


def test_arrive_with_a_position_out_of_range_changes_nothing(world):
    order = world.order(Status.ACKNOWLEDGED)
    before = snapshot(order)
    response = post(world.technician, order, "arrive", lat="95", lng="114")
    assert response.status_code == 422
    assert "位置坐标超出范围" in response.content.decode()
    assert snapshot(order) == before


def test_progress_with_a_photo_through_the_page(world):
    order = world.order(Status.IN_PROGRESS)
    before_events = order.events.count()
    url = reverse("workorders:order-action", args=[order.number, "progress"])
    response = client_for(world.technician).post(
        url, {"version": order.version, "note": "已拆开灯罩，镇流器烧坏", "photos": [photo()]}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Status.IN_PROGRESS
    events = list(order.events.order_by("id"))[before_events:]
    # The note and its photo are one timeline entry.
    assert [e.code for e in events] == ["workorder.progress"]
    [attachment] = order.attachments.all()
    assert events[0].data == {"note": "已拆开灯罩，镇流器烧坏", "attachments": [attachment.pk]}
    assert (attachment.kind, attachment.content_type, attachment.event_id) == (
        "image",
        "image/jpeg",
        events[0].pk,
    )
    html = client_for(world.manager).get(detail_url(order)).content.decode()
    assert attachment.file.url in html


def test_progress_with_a_file_that_is_not_a_photo_changes_nothing(world):
    order = world.order(Status.IN_PROGRESS)
    before = snapshot(order)
    url = reverse("workorders:order-action", args=[order.number, "progress"])
    fake = io.BytesIO(b"MZ not an image at all")
    fake.name = "virus.jpg"
    response = client_for(world.technician).post(
        url, {"version": order.version, "note": "进展", "photos": [fake]}
    )
    assert response.status_code == 422
    assert "不是支持的照片或视频" in response.content.decode()
    assert snapshot(order) == before


def test_hold_and_resume_through_the_page(world):
    order = world.order(Status.IN_PROGRESS)
    response = post(world.technician, order, "hold", kind="parts", detail="镇流器缺货")
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.hold_reason) == (Status.ON_HOLD, "等配件：镇流器缺货")
    response = post(world.technician, order, "resume")
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.hold_reason) == (Status.IN_PROGRESS, "")


def test_hold_other_needs_an_explanation(world):
    order = world.order(Status.IN_PROGRESS)
    before = snapshot(order)
    response = post(world.technician, order, "hold", kind="other", detail="")
    assert response.status_code == 422
    assert "选择“其他”时请说明挂起原因" in response.content.decode()
    assert snapshot(order) == before


def test_complete_success_through_the_page(world):
    order = world.order(Status.IN_PROGRESS)
    response = post(world.technician, order, "complete", result="success", note="更换镇流器")
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.result, order.completion_note, order.suggestion) == (
        Status.COMPLETED,
        "success",
        "更换镇流器",
        "",
    )


def test_failed_completion_without_a_suggestion_is_refused(world):
    order = world.order(Status.IN_PROGRESS)
    before = snapshot(order)
    response = post(world.technician, order, "complete", result="failed", note="线路老化")
    assert response.status_code == 422
    html = response.content.decode()
    assert "请填写给报修人的解决建议" in html
    assert "线路老化" in html  # what he typed is kept
    assert snapshot(order) == before
    assert order.result == ""


def test_failed_completion_with_a_suggestion(world):
    order = world.order(Status.IN_PROGRESS)
    response = post(
        world.technician,
        order,
        "complete",
        result="failed",
        note="线路老化",
        suggestion="需整体更换线路，已报后勤科",
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.result, order.suggestion) == (
        Status.COMPLETED,
        "failed",
        "需整体更换线路，已报后勤科",
    )


def test_close_through_the_page(world):
    order = world.order(Status.COMPLETED)
    response = post(world.dispatcher, order, "close", note="已电话回访")
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Status.CLOSED
    assert last_event(order).data == {"note": "已电话回访"}


def test_reopen_through_the_page(world):
    order = world.order(Status.COMPLETED)
    response = post(world.dispatcher, order, "reopen", reason="报修人反映仍然不亮")
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.assignee, order.reopen_count) == (Status.ACCEPTED, None, 1)


def test_cancel_through_the_page(world):
    order = world.order(Status.ACCEPTED)
    response = post(world.agent, order, "cancel", reason="重复报修")
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Status.CANCELLED
    assert last_event(order).data == {"reason": "重复报修"}


def test_reporter_confirms_with_a_rating(world):
    order = world.order(Status.COMPLETED)
    response = post(world.reporter, order, "confirm", rating="5", comment="很及时")
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.rating, order.rating_comment) == (Status.CLOSED, 5, "很及时")


# --- refusals ------------------------------------------------------------------------------


def test_stale_version_shows_a_message_and_changes_nothing(world):
    order = world.order(Status.ACCEPTED)
    stale = order.version
    post(world.dispatcher, order, "dispatch", technician="technician")
    order.refresh_from_db()
    before = snapshot(order)
    response = post(world.dispatcher, order, "cancel", reason="重复", version=stale)
    assert response.status_code == 409
    html = response.content.decode()
    assert "已被他人更新，请刷新后重试" in html
    assert f'name="version" value="{order.version}"' in html  # fresh forms to retry with
    assert snapshot(order) == before


def test_agent_may_not_dispatch(world):
    order = world.order(Status.ACCEPTED)
    before = snapshot(order)
    response = post(world.agent, order, "dispatch", technician="technician")
    assert response.status_code == 403
    assert "您无权对该工单执行“派工”" in response.content.decode()
    assert snapshot(order) == before


def test_action_in_the_wrong_state_is_409(world):
    order = world.order(Status.IN_PROGRESS)
    before = snapshot(order)
    response = post(world.technician, order, "acknowledge")
    assert response.status_code == 409
    assert "不能执行“接单”" in response.content.decode()
    assert snapshot(order) == before


def test_action_on_an_order_out_of_sight_is_404(world):
    order = world.order(Status.DISPATCHED)
    before = snapshot(order)
    response = post(world.technician2, order, "acknowledge")
    assert response.status_code == 404
    assert snapshot(order) == before


def test_unknown_action_is_404(world):
    order = world.order(Status.DISPATCHED)
    before = snapshot(order)
    response = post(world.dispatcher, order, "explode")
    assert response.status_code == 404
    assert snapshot(order) == before


def test_missing_version_is_refused(world):
    order = world.order(Status.DISPATCHED)
    before = snapshot(order)
    url = reverse("workorders:order-action", args=[order.number, "acknowledge"])
    response = client_for(world.technician).post(url, {})
    assert response.status_code == 422
    assert "页面已过期，请刷新后重试" in response.content.decode()
    assert snapshot(order) == before


def test_actions_need_post(world):
    order = world.order(Status.DISPATCHED)
    url = reverse("workorders:order-action", args=[order.number, "acknowledge"])
    assert client_for(world.technician).get(url).status_code == 405
