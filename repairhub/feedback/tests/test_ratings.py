"""Satisfaction ratings (FQ1) through the services: rate and confirm at once, once per order,
by the reporter only, changed within the window; automatic confirmation is not a rating."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from repairhub.feedback import services, tasks
from repairhub.feedback.models import Rating
from repairhub.feedback.services.ratings import dimensions, is_auto_confirmed, overall
from repairhub.testing.personas import make_category, make_order
from repairhub.workorders.actors import LinkHolder
from repairhub.workorders.errors import IllegalState, InvalidInput, NotAllowed, StaleVersion
from repairhub.workorders.models import Event
from repairhub.workorders.services import follow_order
from repairhub.workorders.states import Status
from repairhub.workorders.walks import walk_to

from .conftest import GOOD, desk_order, link

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 5, 11, 9, 0, tzinfo=dt.UTC)  # a Monday


def assert_untouched(order, version):
    order.refresh_from_db()
    assert (order.status, order.version, order.rating) == (Status.COMPLETED, version, None)
    assert not Rating.objects.filter(order=order).exists()


def test_reporter_rates_and_confirms_in_one_step(world):
    order = world.order(Status.COMPLETED)

    rating = services.rate_order(
        order, by=world.reporter, scores={**GOOD, "quality": "5"}, comment=" 很及时 "
    )

    order.refresh_from_db()
    assert (order.status, order.rating, order.rating_comment) == (Status.CLOSED, 5, "很及时")
    assert (rating.timeliness, rating.quality, rating.attitude, rating.result) == (5, 5, 4, 4)
    assert (rating.overall, rating.technician, rating.agent) == (5, world.technician, None)
    confirmed = order.events.get(code="workorder.confirmed")
    assert confirmed.data == {"rating": 5, "comment": "很及时"}
    assert confirmed.actor == world.reporter


@pytest.mark.parametrize(
    ("scores", "expected"),
    [((5, 4, 4, 4), 4), ((5, 5, 4, 4), 5), ((1, 2, 2, 2), 2), ((1, 1, 2, 2), 2), ((1, 1, 1, 2), 1)],
)
def test_overall_is_the_mean_rounded_half_up(scores, expected):
    assert (
        overall(dict(zip(("timeliness", "quality", "attitude", "result"), scores, strict=True)))
        == expected
    )


def test_the_tracking_link_rates_an_anonymous_report(world):
    order = make_order(world, Status.COMPLETED)
    assert order.reporter is None

    services.rate_order(order, by=link(order), scores=GOOD)

    order.refresh_from_db()
    assert (order.status, order.rating) == (Status.CLOSED, 4)
    assert order.events.get(code="workorder.confirmed").actor_label == "报修人（跟踪链接）"


def test_agent_registered_order_rates_the_agent_too(world):
    order = desk_order(world, Status.COMPLETED)
    assert dimensions(order)[-3:] == ["agent_attitude", "agent_response", "agent_handling"]

    with pytest.raises(InvalidInput) as exc:
        services.rate_order(order, by=link(order), scores=GOOD)
    assert (exc.value.field, exc.value.message) == (
        "agent_attitude",
        "请为“值班员接线态度”打分（1 到 5 星）。",
    )
    assert_untouched(order, order.version)

    rating = services.rate_order(
        order,
        by=link(order),
        scores={**GOOD, "agent_attitude": 5, "agent_response": 3, "agent_handling": 4},
    )
    assert (rating.agent, rating.agent_response, rating.overall) == (world.agent, 3, 4)


def test_paid_category_asks_for_price_transparency_free_one_refuses_it(world):
    paid = make_category("lock", name="门锁", is_paid=True)
    order = world.order(Status.COMPLETED, category=paid)
    free = world.order(Status.COMPLETED)

    with pytest.raises(InvalidInput) as exc:
        services.rate_order(order, by=world.reporter, scores=GOOD)
    assert exc.value.field == "price_transparency"
    with pytest.raises(InvalidInput) as exc:
        services.rate_order(free, by=world.reporter, scores={**GOOD, "price_transparency": 5})
    assert exc.value.message == "该报修不收费，无需评价收费透明。"
    assert_untouched(free, free.version)

    rating = services.rate_order(order, by=world.reporter, scores={**GOOD, "price_transparency": 2})
    assert rating.price_transparency == 2


@pytest.mark.parametrize("bad", [0, 6, -1, "5星", 3.5, True, None])
def test_score_out_of_range_is_refused_and_nothing_changes(world, bad):
    order = world.order(Status.COMPLETED)
    version = order.version

    with pytest.raises(InvalidInput) as exc:
        services.rate_order(order, by=world.reporter, scores={**GOOD, "quality": bad})

    assert exc.value.field == "quality"
    expected = (
        "请为“维修质量”打分（1 到 5 星）。"
        if bad is None
        else "“维修质量”的评分必须是 1 到 5 的整数。"
    )
    assert exc.value.message == expected
    assert_untouched(order, version)


def test_a_second_rating_is_refused(world):
    order = world.order(Status.COMPLETED)
    services.rate_order(order, by=world.reporter, scores=GOOD)
    version = order.version

    with pytest.raises(IllegalState) as exc:
        services.rate_order(order, by=world.reporter, scores={**GOOD, "quality": 1})

    assert exc.value.code == "already_rated"
    assert exc.value.message == f"工单 {order.number} 已经评价过了，每张工单只能评价一次。"
    order.refresh_from_db()
    assert (order.version, order.rating, Rating.objects.get().quality) == (version, 4, 4)


def test_only_the_reporter_rates(world):
    order = world.order(Status.IN_PROGRESS)
    follower, _created = follow_order(order, name="王五", phone="13800009999", by=None)
    walk_to(order, Status.COMPLETED, actors={}, technician=world.technician)
    outsiders = [
        world.reporter2,
        world.technician,
        world.dispatcher,
        world.agent,
        LinkHolder(follower.tracking_token, follower=True),
        LinkHolder("wrong-token"),
    ]
    for who in outsiders:
        with pytest.raises(NotAllowed) as exc:
            services.rate_order(order, by=who, scores=GOOD)
        assert exc.value.message == "只有报修人本人可以评价该工单。"
    assert_untouched(order, order.version)


@pytest.mark.parametrize("status", [Status.IN_PROGRESS, Status.CLOSED])
def test_only_a_completed_order_is_rated(world, status):
    order = world.order(status)

    with pytest.raises(IllegalState) as exc:
        services.rate_order(order, by=world.reporter, scores=GOOD)

    assert exc.value.code == "not_completed"
    assert not Rating.objects.exists()


def test_a_failed_confirmation_leaves_no_rating(world):
    order = world.order(Status.COMPLETED)

    with pytest.raises(StaleVersion):
        services.rate_order(order, by=world.reporter, scores=GOOD, version=order.version - 1)

    assert_untouched(order, order.version)


def test_rating_changes_within_the_window_then_locks(world, settings):
    settings.FEEDBACK_RATING_EDIT_HOURS = 24
    with time_machine.travel(T0, tick=False):
        order = world.order(Status.COMPLETED)
        rating = services.rate_order(order, by=world.reporter, scores=GOOD)
    with time_machine.travel(T0 + dt.timedelta(hours=23), tick=False):
        services.change_rating(
            rating,
            by=world.reporter,
            scores={**GOOD, "timeliness": 1, "result": 1},
            comment="又坏了",
        )
    order.refresh_from_db()
    rating.refresh_from_db()
    assert (rating.overall, rating.timeliness, order.rating, order.rating_comment) == (
        3,
        1,
        3,
        "又坏了",
    )
    changed = order.events.get(code="feedback.rating_changed")
    assert changed.data == {"from": 4, "to": 3, "comment": "又坏了"}

    with (
        time_machine.travel(T0 + dt.timedelta(hours=24, minutes=1), tick=False),
        pytest.raises(IllegalState) as exc,
    ):
        services.change_rating(rating, by=world.reporter, scores=GOOD)
    assert exc.value.message == "评价提交已超过 24 小时，不能再修改。"
    rating.refresh_from_db()
    assert rating.overall == 3


def test_someone_else_cannot_change_a_rating(world):
    order = world.order(Status.COMPLETED)
    rating = services.rate_order(order, by=world.reporter, scores=GOOD)

    with pytest.raises(NotAllowed):
        services.change_rating(rating, by=world.reporter2, scores={**GOOD, "quality": 1})

    rating.refresh_from_db()
    assert rating.quality == 4


def test_unanswered_orders_are_confirmed_automatically_and_not_rated(world, settings):
    settings.FEEDBACK_AUTO_CONFIRM_DAYS = 7
    with time_machine.travel(T0, tick=False):
        old = world.order(Status.COMPLETED)
    with time_machine.travel(T0 + dt.timedelta(days=2), tick=False):
        recent = world.order(Status.COMPLETED)

    with time_machine.travel(T0 + dt.timedelta(days=7, minutes=1), tick=False):
        assert tasks.auto_confirm.call_local() == 1

    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.status, old.rating, recent.status) == (Status.CLOSED, None, Status.COMPLETED)
    event = old.events.get(code="workorder.confirmed")
    assert (event.actor_label, event.data["auto"]) == ("系统", True)
    assert is_auto_confirmed(old) and not Rating.objects.exists()
    with pytest.raises(IllegalState):
        services.rate_order(old, by=world.reporter, scores=GOOD)
    assert Event.objects.filter(code="workorder.confirmed").count() == 1
