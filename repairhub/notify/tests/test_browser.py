"""The notification centre on a technician's phone: the header badge, reading one message and
then all of them, without sideways scrolling."""

from __future__ import annotations

import pytest

from repairhub.notify.outbox import post
from repairhub.testing.browser import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_technician_reads_his_messages_on_his_phone(phone_page, world):
    page = phone_page
    order = world.order()
    for step in ("workorder.accepted", "workorder.closed"):
        post([world.technician], step, {"number": order.number})
    login(page, "technician")

    badge = page.locator("a.notify-link .notify-unread")
    assert badge.inner_text() == "2"
    page.click("a.notify-link")
    page.wait_for_url("**/notifications/")
    assert page.locator(".nt-item.nt-unread").count() == 2
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "notify-inbox-phone")

    page.locator(".nt-item.nt-unread button.nt-read").first.click()
    page.wait_for_load_state()
    assert page.locator(".nt-item.nt-unread").count() == 1
    assert badge.inner_text() == "1"

    page.click(".nt-all button")
    page.wait_for_load_state()
    assert page.locator(".nt-item.nt-unread").count() == 0
    assert page.locator("a.notify-link .notify-unread").count() == 0
    assert "已将 1 条消息标为已读。" in page.locator(".flash").inner_text()
