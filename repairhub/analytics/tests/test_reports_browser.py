"""The reports page in a real browser (headless Chromium): ask for last month's report, see it
in the list, download the workbook, subscribe."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from repairhub.analytics.models import ReportRun, ReportSubscription
from repairhub.testing.browser import login, screenshot
from repairhub.testing.personas import make_world

from .small import repaired

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def last_month(transactional_db):
    world = make_world()
    first = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)
    repaired(world, first, hours=4)
    repaired(world, first + timedelta(days=3), hours=8, rating=3)
    return first


def test_manager_generates_downloads_and_subscribes(page, last_month, tmp_path):
    login(page, "manager")
    page.goto("/analytics/reports/")
    page.select_option("#id_kind", "monthly")
    page.select_option("#id_format", "xlsx")
    page.click("#report-generate button.primary")
    page.wait_for_load_state()

    run = ReportRun.objects.get()
    row = page.locator(f"#report-runs tr[data-run='{run.pk}']")
    row.wait_for()
    title = f"报修月报（{last_month.year}年{last_month.month}月）"
    assert title in row.inner_text()
    assert row.get_attribute("data-status") == "done"
    screenshot(page, "analytics-reports")

    with page.expect_download() as caught:
        row.locator("a", has_text="Excel").click()
    download = caught.value
    assert download.suggested_filename == f"{title}.xlsx"
    path = tmp_path / "report.xlsx"
    download.save_as(path)
    summary = {r[0]: r[1] for r in load_workbook(path)["概要"].iter_rows(values_only=True)}
    assert summary["报修量"] == 2

    page.select_option("#id_sub-kind", "weekly")
    page.select_option("#id_sub-format", "pdf")
    page.click("#report-subscribe button")
    page.wait_for_load_state()
    page.locator("#report-subscriptions tr[data-subscription]").wait_for()
    sub = ReportSubscription.objects.get()
    assert (sub.kind, sub.format, sub.user.username) == ("weekly", "pdf", "manager")
