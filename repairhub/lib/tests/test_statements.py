"""A Statement runs the ORM's own SQL with new values and answers what the ORM answers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.db.models import Count, Q
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from repairhub.accounts.models import User
from repairhub.lib.statements import Statement
from repairhub.workorders.models import Event, WorkOrder
from repairhub.workorders.states import WITH_TECHNICIAN, Status

pytestmark = pytest.mark.django_db


def _workloads(since, ids):
    recent = Q(dispatched_at__gte=since)
    return (
        WorkOrder.objects.filter(recent | Q(status__in=WITH_TECHNICIAN), assignee_id__in=ids)
        .values_list("assignee_id", "urgency")
        .annotate(n=Count("id", filter=recent))
        .order_by("assignee_id", "urgency")
    )


def test_the_sql_and_parameters_are_the_orms_for_each_call(world):
    statement = Statement(_workloads)
    ids = [world.technician.pk, world.technician2.pk]
    for since in (timezone.now(), timezone.now() - dt.timedelta(days=3)):
        for wanted in (ids, ids[:1], ids):
            sql, params = _workloads(since, wanted).query.sql_with_params()
            assert statement.sql(since=since, ids=wanted) == (sql, list(params))


def test_rows_are_the_orms_rows(world):
    world.order(Status.DISPATCHED)
    world.order(Status.DISPATCHED, urgency="high")
    world.order(Status.DISPATCHED, technician=world.technician2)
    statement = Statement(_workloads)
    ids = [world.technician.pk, world.technician2.pk, world.agent.pk]
    since = timezone.now() - dt.timedelta(hours=1)

    assert statement.rows(since=since, ids=ids) == list(_workloads(since, ids))
    assert statement.rows(since=timezone.now(), ids=ids[1:]) == list(
        _workloads(timezone.now(), ids[1:])
    )
    assert len(statement.rows(since=since, ids=ids)) == 3


def test_columns_are_converted_as_the_orm_converts_them(world):
    order = world.order(Status.DISPATCHED)
    statement = Statement(
        lambda order: (
            Event.objects.filter(order_id=order)
            .values_list("code", "data", "created_at")
            .order_by("pk")
        )
    )
    rows = statement.rows(order=order.pk)

    assert rows == list(
        Event.objects.filter(order_id=order.pk)
        .values_list("code", "data", "created_at")
        .order_by("pk")
    )
    assert isinstance(rows[0][1], dict) and isinstance(rows[0][2], dt.datetime)


def test_objects_are_the_orms_instances(world):
    statement = Statement(lambda names: User.objects.filter(username__in=names).order_by("pk"))
    names = ["technician", "agent"]
    found = statement.objects(names=names)

    assert found == list(User.objects.filter(username__in=names).order_by("pk"))
    assert [u.username for u in found] == ["agent", "technician"]
    assert found[0].roles == User.objects.get(username="agent").roles
    assert not found[0]._state.adding and found[0]._state.db == "default"


@pytest.mark.django_db(transaction=True)
def test_a_lock_keeps_for_update_and_needs_a_transaction(world):
    statement = Statement(
        lambda name: (
            User.objects.select_for_update(of=("self",)).filter(username=name).values_list("pk")
        )
    )

    with pytest.raises(TransactionManagementError):
        statement.rows(name="technician")
    with transaction.atomic():
        sql, params = statement.sql(name="technician")
        assert statement.rows(name="technician") == [(world.technician.pk,)]
        orm = (
            User.objects.select_for_update(of=("self",))
            .filter(username="technician")
            .values_list("pk")
            .query.sql_with_params()
        )
    assert (sql, params) == (orm[0], list(orm[1]))
    assert ("FOR UPDATE" in sql) is connection.features.has_select_for_update


@pytest.mark.parametrize("value", [True, None, [], 1.5])
def test_values_that_change_the_sql_are_refused(db, value):
    statement = Statement(lambda v: User.objects.filter(pk__in=[v]).values_list("pk"))
    with pytest.raises((TypeError, ValueError)):
        statement.rows(v=value)
