"""Staff pages in a real browser: dispatch from the board, a technician's day on a phone, and the
manager's query down to an order's timeline. Screenshots go to docs/screenshots/."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from PIL import Image

from repairhub.testing.browser import login, screenshot
from repairhub.testing.personas import make_category, make_world
from repairhub.workorders.models import Channel
from repairhub.workorders.states import Status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def staff_world(transactional_db):
    return make_world()


def submit(page, target) -> None:
    """Click a link or a submit button and wait for the page it leads to."""
    with page.expect_navigation():
        target.click()
    page.wait_for_load_state()


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), (40, 120, 200)).save(buf, format="PNG")
    return buf.getvalue()


def test_dispatcher_dispatches_from_the_board(page, staff_world):
    w = staff_world
    urgent = w.order(Status.ACCEPTED, urgency="critical", description="配电箱冒烟")
    w.order(Status.ACCEPTED, place=None, address="西区食堂后门")
    w.order(Status.DISPATCHED, technician=w.technician2)
    w.order(Status.IN_PROGRESS)
    failed = w.order(Status.IN_PROGRESS)
    from repairhub.workorders.lifecycle import apply

    apply(
        failed,
        "complete",
        by=w.technician,
        params={"result": "failed", "note": "线路老化", "suggestion": "需整体更换线路"},
    )
    w.order(Status.COMPLETED)

    login(page, "dispatcher")
    assert page.url.endswith("/orders/dispatch/")
    row = page.locator(f'#board-waiting article[data-number="{urgent.number}"]')
    assert row.locator(".badge.urgency-critical").inner_text() == "特急"
    screenshot(page, "dispatch-board")

    row.locator("select[name=technician]").select_option("technician2")
    submit(page, row.get_by_role("button", name="派工"))
    assert page.locator(".flash li.success").inner_text() == f"工单 {urgent.number}：派工成功。"
    assert page.locator(f'#board-waiting article[data-number="{urgent.number}"]').count() == 0
    assert page.locator(f'#board-assigned article[data-number="{urgent.number}"]').count() == 1
    urgent.refresh_from_db()
    assert (urgent.status, urgent.assignee) == (Status.DISPATCHED, w.technician2)


def test_technician_works_an_order_on_his_phone(phone_page, staff_world, live_server):
    w = staff_world
    order = w.order(Status.DISPATCHED, urgency="high", description="教室投影仪不亮，灯泡闪烁")
    w.order(Status.ON_HOLD)
    phone_page.context.grant_permissions(["geolocation"], origin=live_server.url)
    phone_page.context.set_geolocation({"latitude": 30.5123456, "longitude": 114.4012345})

    login(phone_page, "technician")
    assert phone_page.url.endswith("/orders/mine/")
    assert phone_page.locator(".wo-card").count() == 2
    submit(phone_page, phone_page.locator(f'a.wo-card[href="/orders/{order.number}/"]'))

    accept = phone_page.get_by_role("button", name="接单")
    box = accept.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 300  # full width, one-hand tap target
    submit(phone_page, accept)
    assert (
        phone_page.locator(".flash li.success").inner_text() == f"工单 {order.number}：接单成功。"
    )

    submit(phone_page, phone_page.get_by_role("button", name="到场"))  # after the position
    assert (
        phone_page.locator(".flash li.success").inner_text() == f"工单 {order.number}：到场成功。"
    )

    phone_page.locator("summary", has_text="记录进展").click()
    phone_page.fill("textarea[name=note]", "灯泡老化，已更换新灯泡")
    phone_page.set_input_files(
        "input[name=photos]",
        files=[{"name": "bulb.png", "mimeType": "image/png", "buffer": png_bytes()}],
    )
    submit(phone_page, phone_page.get_by_role("button", name="保存进展"))
    assert phone_page.locator(".wo-timeline .thumbs img").count() == 1

    phone_page.locator("summary", has_text="完工").click()
    screenshot(phone_page, "technician-order")
    phone_page.locator("label.wo-choice", has_text="维修成功").click()
    phone_page.locator(".wo-complete textarea[name=note]").fill("更换灯泡，投影正常")
    submit(phone_page, phone_page.get_by_role("button", name="提交完工"))

    order.refresh_from_db()
    assert (order.status, order.result, order.completion_note) == (
        Status.COMPLETED,
        "success",
        "更换灯泡，投影正常",
    )
    assert (order.arrival_latitude, order.arrival_longitude) == (
        Decimal("30.512346"),
        Decimal("114.401235"),
    )
    assert order.attachments.count() == 1
    assert phone_page.locator(".wo-actions").count() == 0  # nothing left for him to do


def test_manager_queries_and_opens_a_timeline(page, staff_world):
    w = staff_world
    socket = make_category("socket", name="插座")
    target = w.order(Status.COMPLETED, category=socket, channel=Channel.PHONE)
    w.order(Status.COMPLETED)
    w.order(Status.DISPATCHED, category=socket)
    w.order(Status.SUBMITTED, channel=Channel.QR, reporter_phone="13700007777")

    login(page, "manager")
    assert page.url.endswith("/orders/")
    assert page.locator("table.list tbody tr").count() == 4
    page.select_option("select[name=status]", "completed")
    page.select_option("select[name=category]", "socket")
    submit(page, page.get_by_role("button", name="查询"))
    rows = page.locator("table.list tbody tr")
    assert rows.count() == 1
    assert rows.first.locator("td").first.inner_text() == target.number
    assert "138****1111" in rows.first.inner_text()
    screenshot(page, "manager-query")

    submit(page, rows.first.get_by_role("link", name=target.number))
    events = page.locator(".wo-timeline li.wo-event")
    assert events.count() == 6
    assert [e.locator("strong").inner_text() for e in events.all()] == [
        "提交报修",
        "受理",
        "派工",
        "接单",
        "到场",
        "完工",
    ]
    assert "13800001111" in page.locator(".wo-summary").inner_text()
    screenshot(page, "order-timeline")
