"""The dashboard in a real browser (headless Chromium): charts drawn from the API, numbers one
click away, a chart's figure drilling down to its orders."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from repairhub.testing.browser import login, screenshot
from repairhub.testing.personas import make_world

from .small import repaired, waiting

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def recent(transactional_db):
    """Six orders in the last two weeks; returns the numbers of the three reported online."""
    world = make_world()
    today = timezone.localdate()
    web = []
    for i, (hours, rating, channel) in enumerate(
        [(3, 5, "web"), (6, 4, "phone"), (20, 3, "web"), (2, 5, "qr"), (30, None, "walk_in")]
    ):
        day = today - timedelta(days=12 - 2 * i)
        order = repaired(world, day, hours=hours, rating=rating, channel=channel)
        if channel == "web":
            web.append(order.number)
    web.append(waiting(world, today - timedelta(days=1)).number)
    return web


def test_manager_sees_charts_and_drills_into_the_orders(page, recent):
    login(page, "manager")
    page.goto("/analytics/?split=channel")

    page.wait_for_selector("[data-analytics-dashboard][data-loaded='1']")
    assert page.locator("#chart-volume canvas").count() == 1
    assert page.locator("#chart-faults canvas").count() == 1
    summary = page.locator("#an-summary .an-figure")
    assert summary.first.locator(".an-figure-value").inner_text() == "6"
    screenshot(page, "analytics-dashboard")

    page.locator("#an-volume-title ~ details summary").click()
    page.locator("#table-volume tbody tr:last-child a").first.click()
    page.wait_for_load_state()

    assert "/analytics/orders/" in page.url and "dim=channel" in page.url
    # The total of the first series (web, the largest): its three orders.
    listed = page.locator("table.list tbody tr td:first-child a").all_inner_texts()
    assert sorted(listed) == sorted(recent)
    assert page.get_by_text("本期报修的工单").count() == 1
