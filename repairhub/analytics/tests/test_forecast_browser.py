"""The forecast and hotspot pages in a real browser (headless Chromium): charts drawn from the
API, a history week one click away from its orders, a hotspot bar opening its orders."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from repairhub.testing.browser import login, screenshot
from repairhub.testing.personas import make_category, make_room, make_world
from repairhub.workorders.models import Category

from . import test_forecast as synthetic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def campus(transactional_db):
    """Two years of generated daily counts ending yesterday, in three categories."""
    world = make_world()
    water = Category.objects.create(code="water", name="给排水")
    cats = {
        "lamp": world.category,
        "pipe": make_category("pipe", parent=water, name="水管"),
        "aircon": Category.objects.create(code="aircon", name="空调"),
    }
    yesterday = timezone.localdate() - timedelta(days=1)
    counts = synthetic.generate_counts(first=yesterday - timedelta(days=729), last=yesterday)
    counts = {code: by_day for code, by_day in counts.items() if code in cats}
    synthetic.insert_orders(counts, cats, make_room("E03-301"))
    return counts


def test_manager_sees_the_forecast_band_and_drills_into_a_week(page, campus):
    login(page, "manager")
    page.goto("/analytics/forecast/")

    page.wait_for_selector("[data-analytics-forecast][data-loaded='1']")
    cards = page.locator("#fc-series section[data-series]")
    assert cards.count() == 4  # the total, 水电, 给排水, 空调
    assert page.locator("#fc-series section[data-series] .an-chart canvas").count() == 4
    assert page.locator("#fc-series section.card h2").first.inner_text() == "全部报修"
    screenshot(page, "analytics-forecast")

    total = page.locator("section[data-series='total']")
    total.locator("details summary").click()
    last_week = total.locator("tbody tr").nth(25)  # the last full week before this one
    week = last_week.locator("th").inner_text()
    shown = int(last_week.locator("td a").inner_text())
    last_week.locator("td a").click()
    page.wait_for_load_state()

    assert "/analytics/orders/" in page.url and f"bucket={week}" in page.url
    monday = date.fromisoformat(week)
    want = sum(
        by_day.get(monday + timedelta(days=i), 0) for by_day in campus.values() for i in range(7)
    )
    assert shown == want
    assert page.get_by_text(f"共 {want} 张").count() == 1


def test_hotspot_chart_opens_the_orders_of_a_bar(page, campus):
    login(page, "manager")
    page.goto("/analytics/hotspots/?days=30&min_count=3")

    page.wait_for_selector("[data-analytics-hotspots][data-loaded='1']")
    assert page.locator("[data-analytics-hotspots] canvas").count() == 1
    first = page.locator("#hs-places ~ .table-wrap tbody tr").first
    assert first.locator("th").inner_text() == "东校区 / 3号楼 / 2层 / 301"
    count = int(first.locator("td a").inner_text())
    first.locator("td a").click()
    page.wait_for_load_state()

    assert "/analytics/hotspots/orders/" in page.url
    assert page.get_by_text(f"共 {count} 张").count() == 1
