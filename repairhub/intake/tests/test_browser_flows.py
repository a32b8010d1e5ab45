"""Real pages in headless Chromium: the phone flow QR → report → track → confirm, an asset's QR,
and the desk."""

from __future__ import annotations

import re

import pytest

from repairhub.testing.browser import login, screenshot
from repairhub.testing.personas import make_ac_category, make_asset
from repairhub.workorders.models import WorkOrder
from repairhub.workorders.states import Status

from .conftest import png_with_gps

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def htmx_settled(p) -> None:
    """Wait until htmx has swapped and processed the new fragment (people are not this fast)."""
    p.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


def test_phone_qr_report_then_track(phone_page, world):
    existing = world.order()
    p = phone_page
    p.goto("/r/E03-201")
    assert p.locator("[data-testid=place-locked]").inner_text() == "东校区 / 3号楼 / 2层 / 201"
    p.select_option("#id_category", "lamp")
    p.get_by_text("这里已有 1 个相同的报修正在处理").wait_for()
    assert p.locator("#duplicates").get_by_text(existing.number).is_visible()
    p.fill("#id_description", "卫生间灯管闪烁，开关有焦味")
    photo = png_with_gps("lamp.png")
    p.set_input_files(
        "#id_files", {"name": "lamp.png", "mimeType": "image/png", "buffer": photo.read()}
    )
    p.fill("#id_reporter_name", "李四")
    p.fill("#id_reporter_phone", "13812345678")
    screenshot(p, "report-form")
    p.get_by_role("button", name="提交报修").click()
    p.wait_for_url(re.compile(r"/t/[\w-]+\?new=1$"))
    order = WorkOrder.objects.exclude(pk=existing.pk).get()
    assert p.locator("h1").inner_text() == order.number
    assert p.locator("[data-testid=label]").inner_text() == "待受理"
    assert p.get_by_text("请收藏此页面").is_visible()
    assert order.attachments.count() == 1
    screenshot(p, "tracking")
    # Name and phone are remembered on this phone for the next report.
    p.goto("/r/E03-201")
    assert p.input_value("#id_reporter_name") == "李四"
    assert p.input_value("#id_reporter_phone") == "13812345678"


def test_phone_confirm_with_stars(phone_page, world):
    order = world.order(Status.COMPLETED)
    p = phone_page
    p.goto(order.tracking_path)
    assert p.locator("[data-testid=label]").inner_text() == "待评价"
    screenshot(p, "tracking-confirm")
    p.locator("[data-testid=rate]").click()
    p.wait_for_url(re.compile(r"/feedback/t/[\w-]+/rate/$"))
    for name, stars in {"timeliness": 4, "quality": 4, "attitude": 5, "result": 4}.items():
        p.click(f"label[for={name}-{stars}]")
    p.fill("textarea[name=comment]", "师傅很准时")
    p.click("button.submit")
    p.get_by_text("感谢您的评价！").wait_for()
    assert p.locator("[data-testid=label]").inner_text() == "已完成"
    order.refresh_from_db()
    assert (order.status, order.rating, order.rating_comment) == (Status.CLOSED, 4, "师傅很准时")


def test_agent_desk_register_and_accept(page, world):
    earlier = world.order(reporter_phone="13855556666", description="空调漏水")
    p = page
    login(p, "agent")
    p.goto("/desk/")
    assert p.evaluate("document.activeElement.id") == "id_reporter_phone"
    p.locator("#id_reporter_phone").press_sequentially("13855556666")
    p.locator("#desk-caller").get_by_text(earlier.number).wait_for()
    p.keyboard.press("Enter")  # moves on to the name, does not submit
    assert p.evaluate("document.activeElement.id") == "id_reporter_name"
    p.keyboard.type("赵六")
    p.fill("#id_description", "走廊灯不亮")
    p.select_option("#id_category", "lamp")
    p.select_option("#id_place", "E03-201")
    p.locator("#desk-place").get_by_text(earlier.number).wait_for()
    p.fill("#id_handling", "已通知水电班")
    p.fill("#id_remarks", "下午在家")
    screenshot(p, "agent-desk")
    p.locator("#id_remarks").press("Enter")
    p.wait_for_url(re.compile(r"/desk/\?new="))
    order = WorkOrder.objects.exclude(pk=earlier.pk).get()
    assert p.locator("[data-testid=created]").get_by_text(order.number).is_visible()
    assert p.input_value("#id_reporter_name") == ""
    assert (order.registered_by, order.channel, order.remarks) == (world.agent, "phone", "下午在家")
    item = p.locator(f".queue-item[data-number='{order.number}']")
    item.get_by_role("button", name="受理").click()
    p.locator("#desk-queue").get_by_text(f"工单 {order.number} 已受理。").wait_for()
    order.refresh_from_db()
    assert order.status == Status.ACCEPTED
    screenshot(p, "agent-desk-accepted")


def test_phone_report_without_qr_cascades_the_places(phone_page, world):
    p = phone_page
    p.goto("/report/")
    for level, code in enumerate(["E", "E03", "E03-2F", "E03-201"]):
        p.locator("#place-chain select").nth(level).select_option(code)
        htmx_settled(p)
    p.select_option("#id_category", "lamp")
    p.fill("#id_description", "门锁坏了")
    p.fill("#id_reporter_name", "钱七")
    p.fill("#id_reporter_phone", "13811112222")
    screenshot(p, "report-form-places")
    p.get_by_role("button", name="提交报修").click()
    p.wait_for_url(re.compile(r"/t/[\w-]+\?new=1$"))
    order = WorkOrder.objects.get()
    assert (order.place, order.channel) == (world.room, "web")


def test_phone_asset_qr_report(phone_page, world):
    unit = make_asset("E03-201-AC2", name="2号空调", place=world.room, category=make_ac_category())
    p = phone_page
    p.goto("/r/a/E03-201-AC2")
    assert p.locator("[data-testid=place-locked]").inner_text() == "东校区 / 3号楼 / 2层 / 201"
    assert "设备：2号空调（E03-201-AC2）" in p.locator("[data-testid=asset-locked]").inner_text()
    assert p.input_value("#id_category") == "ac"
    p.fill("#id_description", "空调不制冷，出风口有异味")
    p.fill("#id_reporter_name", "李四")
    p.fill("#id_reporter_phone", "13812345678")
    p.get_by_role("button", name="提交报修").click()
    p.wait_for_url(re.compile(r"/t/[\w-]+\?new=1$"))
    order = WorkOrder.objects.get()
    assert (order.asset, order.place, order.category.code) == (unit, world.room, "ac")
    assert p.get_by_text("2号空调").is_visible()
