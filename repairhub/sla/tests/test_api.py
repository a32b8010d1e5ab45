"""Deadlines in the order API: staff see them in lists and details, reporters do not."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from repairhub.accounts.services import issue_token
from repairhub.testing.personas import make_order
from repairhub.workorders import services as wo
from repairhub.workorders.states import Status

from .support import at

pytestmark = pytest.mark.django_db


def get(user, path: str):
    token = issue_token(user, name="test")
    return Client().get("/api/v1" + path, headers={"Authorization": f"Bearer {token}"})


def test_order_detail_and_list_carry_deadlines_for_staff(world, clock):
    order = make_order(world, Status.SUBMITTED, urgency="high", reporter=world.reporter)
    wo.accept_order(order, by=world.agent)
    clock.move_to(at(2025, 10, 14, 9, 30))

    detail = get(world.dispatcher, f"/orders/{order.number}").json()
    assert detail["deadlines"] == [
        {
            "clock": "accept",
            "label": "受理",
            "state": "met",
            "due_at": "2025-10-14T09:10:00+08:00",
            "remaining_seconds": None,
            "overdue_seconds": None,
            "text": "按时",
        },
        {
            "clock": "complete",
            "label": "完成",
            "state": "green",
            "due_at": "2025-10-15T09:00:00+08:00",
            "remaining_seconds": 23 * 3600 + 30 * 60,
            "overdue_seconds": None,
            "text": "剩余 23小时30分",
        },
    ]
    listed = get(world.dispatcher, "/orders").json()["items"]
    assert [d["clock"] for d in listed[0]["deadlines"]] == ["complete"]
    # The reporter's view has none: the targets are internal.
    assert get(world.reporter, f"/orders/{order.number}").json()["deadlines"] == []
    assert get(world.reporter, "/orders").json()["items"][0]["deadlines"] == []


def test_order_list_loads_deadlines_in_one_query(world, clock):
    for _ in range(3):
        make_order(world, Status.SUBMITTED, urgency="high")
    token = issue_token(world.dispatcher, name="test")
    client = Client(headers={"Authorization": f"Bearer {token}"})
    client.get("/api/v1/orders")
    with CaptureQueriesContext(connection) as captured:
        items = client.get("/api/v1/orders").json()["items"]
    assert [len(i["deadlines"]) for i in items] == [2, 2, 2]
    assert sum("sla_orderclock" in q["sql"] for q in captured.captured_queries) == 1
