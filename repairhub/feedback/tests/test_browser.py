"""Real pages in headless Chromium: the reporter rates on his phone; an agent works the
follow-up queue."""

from __future__ import annotations

import pytest

from repairhub.feedback.models import Rating, Referral
from repairhub.testing.browser import login, screenshot
from repairhub.testing.personas import make_order
from repairhub.workorders.models import Result
from repairhub.workorders.states import Status
from repairhub.workorders.walks import walk_to

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def tap_stars(p, scores: dict[str, int]) -> None:
    for name, score in scores.items():
        p.click(f"label[for={name}-{score}]")


def test_phone_rating_page(phone_page, world):
    order = make_order(world, Status.COMPLETED)
    p = phone_page
    p.goto(f"/feedback/t/{order.tracking_token}/rate/")
    assert p.locator("[data-testid=label]").inner_text() == "待评价"

    tap_stars(p, {"timeliness": 5, "quality": 4})
    p.click("button.submit")
    assert p.locator("[data-testid=error]").inner_text() == "请为“服务态度”打分（1 到 5 星）。"
    assert p.locator("#quality-4").is_checked()  # kept after the refusal

    tap_stars(p, {"attitude": 5, "result": 4})
    p.fill("textarea[name=comment]", "师傅很准时")
    screenshot(p, "rating-phone")
    p.click("button.submit")

    p.get_by_text("感谢您的评价！").wait_for()
    assert p.locator("[data-testid=label]").inner_text() == "已完成"
    assert p.get_by_role("button", name="保存修改").is_visible()
    rating = Rating.objects.get()
    assert (rating.timeliness, rating.quality, rating.attitude, rating.result, rating.overall) == (
        5,
        4,
        5,
        4,
        5,
    )
    order.refresh_from_db()
    assert (order.status, order.rating_comment) == (Status.CLOSED, "师傅很准时")
    # The page fits the phone: nothing scrolls sideways.
    assert p.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_follow_up_queue(page, world, settings):
    settings.FEEDBACK_VISIT_WORKING_DAYS = 0  # due at once
    plain = world.order(Status.COMPLETED)
    rejected = world.order(Status.REJECTED)
    failed = world.order(Status.IN_PROGRESS)
    walk_to(failed, Status.COMPLETED, actors={}, technician=world.technician, result=Result.FAILED)
    p = page
    login(p, "agent")
    p.goto("/feedback/visits/")

    rows = p.locator("article.fb-row")
    assert rows.evaluate_all("rs => rs.map(r => r.dataset.number)") == [
        failed.number,
        rejected.number,
        plain.number,
    ]
    first = rows.first
    assert "维修失败" in first.locator(".fb-flag").first.inner_text()
    assert "反馈未能修复" in first.locator("[data-testid=script]").inner_text()
    first.locator("details.fb-history summary").click()
    assert first.locator("details.fb-history li").count() == 6
    screenshot(p, "followup-queue")

    first.locator("input[name=reached][value=yes]").check()
    first.locator("input[name=fixed][value=no]").check()
    first.locator("input[name=satisfied][value=no]").check()
    first.locator("textarea[name=notes]").fill("灯还是不亮，报修人很着急")
    first.get_by_role("button", name="记录回访").click()

    p.get_by_text(f"工单 {failed.number} 的回访已记录。").wait_for()
    assert p.locator("article.fb-row").evaluate_all("rs => rs.map(r => r.dataset.number)") == [
        rejected.number,
        plain.number,
    ]
    assert Referral.objects.get().order == failed

    rows = p.locator("article.fb-row")
    rows.first.get_by_role("button", name="记录回访").click()  # nothing chosen
    error = p.locator("[data-testid=visit-error]")
    assert error.inner_text() == "请选择：是否联系上报修人"
