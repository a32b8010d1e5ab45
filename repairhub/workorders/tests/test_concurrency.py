"""Races won in the database: real threads, each with its own connection, on SQLite and PostgreSQL.

A Barrier releases the threads together; nothing sleeps. Each thread closes its connection when
it ends, so the test database can be flushed (and, on PostgreSQL, dropped) afterwards.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection

from repairhub.accounts.roles import Role
from repairhub.intake.services import Report, submit_report
from repairhub.testing.personas import make_user
from repairhub.workorders.errors import IllegalState, StaleVersion
from repairhub.workorders.models import Channel, Event, WorkOrder
from repairhub.workorders.services import dispatch_order
from repairhub.workorders.states import Status

pytestmark = pytest.mark.django_db(transaction=True)


def in_threads(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run work(0..n-1) in n threads released together; each result or exception, in order."""
    barrier = threading.Barrier(n)

    def run(i: int):
        try:
            barrier.wait()
            return work(i)
        except Exception as exc:
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def report(text: str = "宿舍灯管不亮") -> Report:
    return Report(
        description=text,
        category="lamp",
        place="E03-201",
        reporter_name="合作平台用户",
        reporter_phone="13800001111",
        channel=Channel.PARTNER,
    )


@pytest.mark.parametrize("send_version", [True, False], ids=["with-version", "without-version"])
def test_two_dispatchers_racing_for_one_order_only_one_wins(world, send_version):
    order = world.order(Status.ACCEPTED)
    second = make_user("dispatcher2", Role.DISPATCHER)
    racers = [(world.dispatcher, world.technician), (second, world.technician2)]
    # With the version both looked at (a page, an API client), or without (the database's
    # conditional UPDATE alone must then stop the second).
    seen = order.version if send_version else None

    def dispatch(i: int):
        by, technician = racers[i]
        mine = WorkOrder.objects.get(pk=order.pk)
        return dispatch_order(mine, technician=technician, by=by, version=seen)

    results = in_threads(2, dispatch)

    winners = [i for i, r in enumerate(results) if isinstance(r, Event)]
    losers = [r for r in results if not isinstance(r, Event)]
    assert len(winners) == 1, results
    assert len(losers) == 1 and isinstance(losers[0], IllegalState | StaleVersion), losers
    assert losers[0].status == 409
    order.refresh_from_db()
    assert order.status == Status.DISPATCHED
    assert order.assignee == racers[winners[0]][1]
    assert order.version == 3  # submitted, accepted, dispatched once
    assert order.events.filter(code="workorder.dispatched").count() == 1


def test_two_hundred_concurrent_submissions_all_land_with_unique_numbers(world):
    partner = world.partner
    threads, total = 16, 200
    # 16 threads share 200 submissions: 13 for the first eight, 12 for the rest.
    shares = [total // threads + (1 if i < total % threads else 0) for i in range(threads)]

    def submit_many(i: int):
        return [
            submit_report(report(f"第 {i}-{k} 号故障"), by=partner)[0].number
            for k in range(shares[i])
        ]

    results = in_threads(threads, submit_many)

    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    numbers = [n for batch in results for n in batch]
    assert len(numbers) == total
    assert len(set(numbers)) == total
    assert WorkOrder.objects.count() == total
    assert set(WorkOrder.objects.values_list("number", flat=True)) == set(numbers)
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, total + 1))
    assert Event.objects.filter(code="workorder.submitted").count() == total


def test_one_idempotency_key_sent_from_many_threads_makes_one_order(world):
    partner = world.partner
    callers = 8

    def submit(i: int):
        order, created = submit_report(report(), by=partner, idempotency_key="retry-7f3a")
        return order.number, created

    results = in_threads(callers, submit)

    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    assert len({number for number, _ in results}) == 1
    assert [created for _, created in results].count(True) == 1
    assert WorkOrder.objects.count() == 1
    assert Event.objects.filter(code="workorder.submitted").count() == 1
