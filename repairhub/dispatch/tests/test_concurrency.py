"""Automatic assignment and pool claims racing in real threads, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from repairhub.dispatch import services
from repairhub.dispatch.models import DispatchMode, DispatchPolicy, Skill, TechnicianProfile
from repairhub.workorders.errors import IllegalState, NotAllowed
from repairhub.workorders.lifecycle import apply
from repairhub.workorders.models import WorkOrder
from repairhub.workorders.states import Action, Status
from repairhub.workorders.tests.test_concurrency import in_threads

pytestmark = pytest.mark.django_db(transaction=True)


def _on_duty_all_day(user, category, max_open):
    import datetime as dt

    p = TechnicianProfile.objects.create(
        user=user, max_open_orders=max_open, work_start=dt.time(0), work_end=dt.time(0)
    )
    Skill.objects.create(technician=p, category=category, level=3)


@pytest.mark.parametrize("racers", [2, 4])
def test_racing_automatic_assignments_never_overfill_a_technician(world, racers):
    _on_duty_all_day(world.technician2, world.category, max_open=1)
    orders = [world.order(Status.SUBMITTED) for _ in range(racers)]
    DispatchPolicy.objects.create(category=world.category, mode=DispatchMode.AUTO)

    def accept(i: int):
        mine = WorkOrder.objects.get(pk=orders[i].pk)
        return apply(mine, Action.ACCEPT, by=world.agent)

    results = in_threads(racers, accept)

    assert not [r for r in results if isinstance(r, Exception)], results
    statuses = sorted(
        WorkOrder.objects.filter(pk__in=[o.pk for o in orders]).values_list("status", flat=True)
    )
    assert statuses == sorted([Status.DISPATCHED] + [Status.ACCEPTED] * (racers - 1))
    assert world.technician2.assigned_orders.count() == 1


def test_two_technicians_claiming_one_pool_order_only_one_gets_it(world):
    for user in (world.technician, world.technician2):
        _on_duty_all_day(user, world.category, max_open=5)
    DispatchPolicy.objects.create(category=world.category, mode=DispatchMode.POOL)
    order = world.order(Status.ACCEPTED)
    claimers = [world.technician, world.technician2]

    results = in_threads(
        2, lambda i: services.claim(WorkOrder.objects.get(pk=order.pk), by=claimers[i])
    )

    won = [r for r in results if isinstance(r, WorkOrder)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1 and len(lost) == 1, results
    assert isinstance(lost[0], IllegalState | NotAllowed) and lost[0].status in (403, 409)
    order.refresh_from_db()
    assert order.status == Status.ACKNOWLEDGED
    assert order.assignee in claimers
