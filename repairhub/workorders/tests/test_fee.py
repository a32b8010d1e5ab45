"""The fee a technician records when completing an order: checked, kept on the order and its
event, shown on the order page and through the API; bad amounts change nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from repairhub.feedback.services.ratings import dimensions
from repairhub.workorders.errors import InvalidInput
from repairhub.workorders.services import complete_order, reopen_order
from repairhub.workorders.states import Status
from repairhub.workorders.walks import walk_to

pytestmark = pytest.mark.django_db


def test_a_fee_is_kept_on_the_order_and_its_event(world):
    order = world.order(Status.IN_PROGRESS)

    event = complete_order(order, result="success", note="换灯管", fee="35.5", by=world.technician)

    order.refresh_from_db()
    assert order.fee == Decimal("35.50")
    assert event.data["fee"] == "35.50"


@pytest.mark.parametrize(
    ("fee", "words"),
    [
        ("三十", "请填写数字"),
        ("-1", "0 到 100000 元"),
        ("100000.01", "0 到 100000 元"),
        ("12.345", "最多两位小数"),
        ("NaN", "0 到 100000 元"),
        ("1e9", "0 到 100000 元"),
    ],
)
def test_a_bad_fee_is_refused_in_words_and_changes_nothing(world, fee, words):
    order = world.order(Status.IN_PROGRESS)
    before = (order.status, order.version, order.events.count())

    with pytest.raises(InvalidInput) as exc:
        complete_order(order, result="success", note="修好了", fee=fee, by=world.technician)

    assert exc.value.field == "fee" and words in exc.value.message
    order.refresh_from_db()
    assert (order.status, order.version, order.events.count()) == before
    assert order.fee is None


def test_no_fee_is_none_and_a_repeat_visit_keeps_the_first_fee(world):
    order = world.order(Status.IN_PROGRESS)
    complete_order(order, result="success", note="修好了", fee="", by=world.technician)
    order.refresh_from_db()
    assert order.fee is None

    charged = world.order(Status.IN_PROGRESS)
    complete_order(charged, result="success", note="换开关", fee="120", by=world.technician)
    reopen_order(charged, reason="又坏了", by=world.reporter)
    walk_to(
        charged,
        Status.IN_PROGRESS,
        actors={"dispatcher": world.dispatcher},
        technician=world.technician,
    )
    complete_order(charged, result="success", note="返修，免费", by=world.technician)
    charged.refresh_from_db()
    assert charged.fee == Decimal("120.00")  # the free return visit did not wipe the charge


def test_the_order_page_takes_and_shows_the_fee(world):
    order = world.order(Status.IN_PROGRESS)
    client = Client()
    client.force_login(world.technician)
    url = reverse("workorders:order-action", args=[order.number, "complete"])

    bad = client.post(
        url, {"version": order.version, "result": "success", "note": "好", "fee": "abc"}
    )
    assert "收费金额请填写数字" in bad.content.decode()
    order.refresh_from_db()
    assert order.status == Status.IN_PROGRESS

    client.post(url, {"version": order.version, "result": "success", "note": "好", "fee": "88"})
    page = client.get(reverse("workorders:order-detail", args=[order.number])).content.decode()
    assert 'data-testid="fee">88.00 元' in page
    assert "收费金额" in page and "88.00 元" in page.split('data-testid="fee"')[1]


def test_a_fee_asks_the_reporter_about_price_transparency(world):
    free, paid = world.order(Status.IN_PROGRESS), world.order(Status.IN_PROGRESS)
    complete_order(free, result="success", note="好", by=world.technician)
    complete_order(paid, result="success", note="好", fee="20", by=world.technician)
    free.refresh_from_db()
    paid.refresh_from_db()
    assert "price_transparency" not in dimensions(free)
    assert "price_transparency" in dimensions(paid)
