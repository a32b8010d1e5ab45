"""The reporter's rating page, reached from his tracking link."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from repairhub.feedback.models import Rating
from repairhub.testing.personas import make_order
from repairhub.workorders.services import follow_order
from repairhub.workorders.states import Status
from repairhub.workorders.walks import walk_to

from .conftest import GOOD, desk_order

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 5, 11, 9, 0, tzinfo=dt.UTC)


def url(order) -> str:
    return reverse("feedback:rate", args=[order.tracking_token])


def test_page_asks_the_four_scores_of_a_web_report(world, client):
    order = make_order(world, Status.COMPLETED)

    html = client.get(url(order)).content.decode()

    for name in ("timeliness", "quality", "attitude", "result"):
        assert f'data-testid="dim-{name}"' in html
    assert "agent_attitude" not in html
    assert "提交评价并确认完成" in html


def test_page_asks_about_the_agent_when_one_registered_the_report(world, client):
    order = desk_order(world, Status.COMPLETED)

    html = client.get(url(order)).content.decode()

    assert 'data-testid="dim-agent_handling"' in html
    assert "对接线值班员" in html


def test_rating_from_the_page_confirms_the_order(world, client):
    order = make_order(world, Status.COMPLETED)

    response = client.post(url(order), {**GOOD, "comment": "好", "version": order.version})

    assert response.status_code == 302
    assert response["Location"] == url(order) + "?done=1"
    order.refresh_from_db()
    assert (order.status, order.rating, Rating.objects.get().comment) == (Status.CLOSED, 4, "好")
    page = client.get(response["Location"]).content.decode()
    assert "感谢您的评价" in page and "修改评价" in page


def test_out_of_range_score_shows_the_error_and_changes_nothing(world, client):
    order = make_order(world, Status.COMPLETED)

    response = client.post(url(order), {**GOOD, "attitude": "9", "version": order.version})

    assert response.status_code == 422
    html = response.content.decode()
    assert "“服务态度”的评分必须是 1 到 5 的整数。" in html
    assert 'value="5" checked' in html  # what he chose is kept
    order.refresh_from_db()
    assert order.status == Status.COMPLETED
    assert not Rating.objects.exists()


def test_a_missing_score_is_named(world, client):
    order = make_order(world, Status.COMPLETED)

    response = client.post(url(order), {"timeliness": "5", "version": order.version})

    assert response.status_code == 422
    assert "请为“维修质量”打分（1 到 5 星）。" in response.content.decode()


def test_second_post_changes_the_rating_within_the_window_only(world, client, settings):
    settings.FEEDBACK_RATING_EDIT_HOURS = 24
    with time_machine.travel(T0, tick=False):
        order = make_order(world, Status.COMPLETED)
        client.post(url(order), {**GOOD, "version": order.version})
    with time_machine.travel(T0 + dt.timedelta(hours=2), tick=False):
        client.post(url(order), {**GOOD, "quality": "1", "comment": "又坏了"})
    assert Rating.objects.get().quality == 1

    with time_machine.travel(T0 + dt.timedelta(hours=25), tick=False):
        page = client.get(url(order)).content.decode()
        late = client.post(url(order), {**GOOD, "quality": "5"})

    assert 'data-testid="rating-given"' in page and "评价已超过可修改时限" in page
    assert late.status_code == 409
    assert "评价提交已超过 24 小时，不能再修改。" in late.content.decode()
    assert Rating.objects.get().quality == 1


def test_a_follower_link_cannot_rate(world, client):
    order = make_order(world, Status.IN_PROGRESS)
    follower, _created = follow_order(order, name="王五", phone="13800009999", by=None)
    walk_to(order, Status.COMPLETED, actors={}, technician=world.technician)

    response = client.post(
        reverse("feedback:rate", args=[follower.tracking_token]), {**GOOD, "version": order.version}
    )

    assert response.status_code == 403
    assert not Rating.objects.exists()


def test_unknown_link_is_404(db, client):
    assert client.get(reverse("feedback:rate", args=["nope"])).status_code == 404


def test_an_order_not_yet_completed_shows_no_form(world, client):
    order = make_order(world, Status.IN_PROGRESS)

    html = client.get(url(order)).content.decode()

    assert "维修完成后可在此确认并评价" in html
    assert 'data-testid="rating-form"' not in html
