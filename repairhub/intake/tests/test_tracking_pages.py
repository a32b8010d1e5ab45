"""The private tracking page /t/<token>, its buttons, and "my orders"."""

from __future__ import annotations

import pytest

from repairhub.workorders.models import Event, Follower, WorkOrder
from repairhub.workorders.services import complete_order, decline_order, follow_order
from repairhub.workorders.states import Status

pytestmark = pytest.mark.django_db


def snapshot(order: WorkOrder) -> tuple:
    order.refresh_from_db()
    return order.status, order.version, order.rating, order.events.count()


def follower_of(order: WorkOrder) -> Follower:
    follower, _created = follow_order(order, name="王五", phone="13700007777", by=None)
    return follower


def test_tracking_page_shows_the_plain_label_and_the_new_banner(client, world):
    order = world.order()
    response = client.get(f"{order.tracking_path}?new=1")
    html = response.content.decode()
    assert response.status_code == 200
    assert order.number in html
    assert '<span class="badge big waiting" data-testid="label">待受理</span>' in html
    assert "请收藏此页面" in html
    assert f"http://testserver{order.tracking_path}</a>" in html
    assert "东校区 / 3号楼 / 2层 / 201" in html and "宿舍灯管不亮" in html


def test_reporters_never_see_internal_states_or_staff_phones(client, world):
    order = world.order(Status.ACKNOWLEDGED)
    html = client.get(order.tracking_path).content.decode()
    assert '<span class="badge big repairing" data-testid="label">维修中</span>' in html
    assert "已派维修人员：technician" in html
    for internal in ("已接单", "acknowledged", "已派工", "dispatched", "13900003333"):
        assert internal not in html


def test_declines_are_internal(client, world):
    order = world.order(Status.DISPATCHED)
    decline_order(order, reason="不是我的片区", by=world.technician)
    html = client.get(order.tracking_path).content.decode()
    assert "不是我的片区" not in html
    assert '<span class="badge big accepted" data-testid="label">已受理</span>' in html


def test_failed_repair_shows_the_suggestion(client, world):
    order = world.order(Status.IN_PROGRESS)
    complete_order(
        order, result="failed", note="灯座烧坏", suggestion="请申请更换灯座", by=world.technician
    )
    html = client.get(order.tracking_path).content.decode()
    assert "维修未成功：请申请更换灯座" in html
    assert '<span class="badge big to_confirm" data-testid="label">待评价</span>' in html


def test_unknown_token_is_404(client, world):
    assert client.get("/t/not-a-token").status_code == 404


def test_buttons_follow_allowed_actions(client, world):
    submitted = client.get(world.order().tracking_path).content.decode()
    done = world.order(Status.COMPLETED)
    completed = client.get(done.tracking_path).content.decode()
    dispatched = client.get(world.order(Status.DISPATCHED).tracking_path).content.decode()
    rate = f"/feedback/t/{done.tracking_token}/rate/"
    assert "/cancel" in submitted and "/rate/" not in submitted
    assert rate in completed and "/reopen" in completed and "/cancel" not in completed
    assert "/cancel" not in dispatched and "/rate/" not in dispatched


def test_cancel_with_a_reason(client, world):
    order = world.order()
    assert snapshot(order) == (Status.SUBMITTED, 1, None, 1)
    response = client.post(f"{order.tracking_path}/cancel", {"reason": "自己修好了", "version": 1})
    assert response.status_code == 302 and response["Location"] == order.tracking_path
    assert snapshot(order) == (Status.CANCELLED, 2, None, 2)
    event = order.events.last()
    assert (event.code, event.data, event.actor) == (
        "workorder.cancelled",
        {"reason": "自己修好了"},
        None,
    )
    html = client.get(order.tracking_path).content.decode()
    assert "已取消：自己修好了" in html and "/cancel" not in html


def test_cancel_without_a_reason_is_refused(client, world):
    order = world.order()
    before = snapshot(order)
    response = client.post(f"{order.tracking_path}/cancel", {"reason": "  ", "version": 1})
    assert response.status_code == 422
    assert "请填写原因。" in response.content.decode()
    assert snapshot(order) == before


def test_cancel_after_dispatch_is_refused(client, world):
    order = world.order(Status.DISPATCHED)
    before = snapshot(order)
    response = client.post(f"{order.tracking_path}/cancel", {"reason": "不需要了"})
    assert response.status_code == 409
    assert "工单当前状态为“已派工”，不能执行“取消”。" in response.content.decode()
    assert snapshot(order) == before


def test_confirm_with_stars_and_a_comment(client, world):
    order = world.order(Status.COMPLETED)
    status, version, rating, events = snapshot(order)
    assert (status, rating) == (Status.COMPLETED, None)
    data = {"rating": "4", "comment": "很及时", "version": version}
    response = client.post(f"{order.tracking_path}/confirm", data)
    assert response.status_code == 302
    assert snapshot(order) == (Status.CLOSED, version + 1, 4, events + 1)
    assert order.rating_comment == "很及时"
    assert '<span class="badge big done" data-testid="label">已完成</span>' in (
        client.get(order.tracking_path).content.decode()
    )


def test_confirm_with_a_bad_rating_is_refused(client, world):
    order = world.order(Status.COMPLETED)
    before = snapshot(order)
    response = client.post(f"{order.tracking_path}/confirm", {"rating": "9"})
    assert response.status_code == 422
    assert "评分必须是 1 到 5 的整数。" in response.content.decode()
    assert snapshot(order) == before


def test_stale_version_is_refused(client, world):
    order = world.order(Status.COMPLETED)
    before = snapshot(order)
    response = client.post(f"{order.tracking_path}/confirm", {"rating": "5", "version": 1})
    assert response.status_code == 409
    assert f"工单 {order.number} 已被他人更新，请刷新后重试。" in response.content.decode()
    assert snapshot(order) == before


def test_reopen_when_not_fixed(client, world):
    order = world.order(Status.COMPLETED)
    status, version, _rating, events = snapshot(order)
    assert status == Status.COMPLETED
    response = client.post(f"{order.tracking_path}/reopen", {"reason": "灯还是不亮"})
    assert response.status_code == 302
    assert snapshot(order) == (Status.ACCEPTED, version + 1, None, events + 1)
    assert (order.reopen_count, order.assignee) == (1, None)
    assert "反馈没修好，重新处理：灯还是不亮" in client.get(order.tracking_path).content.decode()


def test_reopen_without_a_reason_is_refused(client, world):
    order = world.order(Status.COMPLETED)
    before = snapshot(order)
    response = client.post(f"{order.tracking_path}/reopen", {"reason": ""})
    assert response.status_code == 422
    assert snapshot(order) == before


def test_unknown_action_is_refused(client, world):
    order = world.order()
    before = snapshot(order)
    response = client.post(f"{order.tracking_path}/accept", {})
    assert response.status_code == 422
    assert snapshot(order) == before


def test_followers_see_progress_without_buttons(client, world):
    order = world.order()
    html = client.get(follower_of(order).tracking_path).content.decode()
    assert order.number in html and "待受理" in html
    assert "您关注了此报修" in html
    assert "/confirm" not in html and "/reopen" not in html and "/cancel" not in html


def test_a_forged_post_from_a_follower_link_is_refused(client, world):
    order = world.order()
    follower = follower_of(order)
    before = snapshot(order)
    response = client.post(f"{follower.tracking_path}/cancel", {"reason": "不修了"})
    assert response.status_code == 403
    assert "您无权对该工单执行“取消”。" in response.content.decode()
    assert snapshot(order) == before


def test_my_orders_lists_only_my_own_newest_first(client, world):
    first = world.order(reporter=world.reporter)
    second = world.order(Status.ACCEPTED, reporter=world.reporter)
    other = world.order(reporter=world.reporter2)
    client.force_login(world.reporter)
    html = client.get("/my/").content.decode()
    assert html.index(second.number) < html.index(first.number)
    assert f'href="{first.tracking_path}"' in html and "已受理" in html
    assert other.number not in html


def test_my_orders_needs_a_login(client, world):
    response = client.get("/my/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_events_are_untouched_by_viewing(client, world):
    order = world.order()
    client.get(order.tracking_path)
    assert Event.objects.filter(order=order).count() == 1
