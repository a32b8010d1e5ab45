"""insert_row stores exactly what the ORM's create() stores."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from repairhub.accounts.models import User
from repairhub.lib.rows import insert_row, insert_rows
from repairhub.notify.models import Message
from repairhub.workorders.models import Event, WorkOrder

pytestmark = pytest.mark.django_db


def _raw_row(model, pk):
    table = connection.ops.quote_name(model._meta.db_table)
    columns = [f.column for f in model._meta.local_concrete_fields if f.column != "id"]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(connection.ops.quote_name(c) for c in columns)} "
            f"FROM {table} WHERE id = %s",
            [pk],
        )
        return dict(zip(columns, cursor.fetchone(), strict=True))


def _order_fields(world, number):
    now = timezone.now()
    return dict(
        number=number,
        status="submitted",
        category=world.category,
        place=world.room,
        description="灯不亮 💡",
        urgency="normal",
        channel="partner",
        reporter_name="张三",
        reporter_phone="13800000000",
        reporter_phone_index="idx",
        tracking_token=WorkOrder.new_tracking_token(),
        received_at=now,
        created_at=now,
        updated_at=now,
    )


def test_an_order_row_is_the_same_as_the_orms(world):
    fields = _order_fields(world, "BX-1")
    by_orm = WorkOrder.objects.create(**fields)
    fields = {**fields, "number": "BX-2", "tracking_token": WorkOrder.new_tracking_token()}
    ours = insert_row(WorkOrder(**fields))

    assert ours.pk and ours.pk != by_orm.pk and not ours._state.adding
    a, b = _raw_row(WorkOrder, by_orm.pk), _raw_row(WorkOrder, ours.pk)
    for differs in ("number", "tracking_token", "reporter_phone"):  # phone: fresh cipher nonce
        a.pop(differs), b.pop(differs)
    assert a == b
    again = WorkOrder.objects.get(pk=ours.pk)
    assert again.reporter_phone == "13800000000"  # decrypts
    assert again.description == "灯不亮 💡"


def test_json_and_defaults_round_trip(world):
    order = world.order()
    event = insert_row(Event(order=order, code="x", data={"夜间": True, "n": [1, 2]}))
    stored = Event.objects.get(pk=event.pk)
    assert stored.data == {"夜间": True, "n": [1, 2]}
    assert stored.created_at is not None
    message = insert_row(Message(channel="sms", address="1", cause="x", body="好"))
    assert Message.objects.get(pk=message.pk).status == Message().status


def test_a_unique_clash_raises_the_orms_integrity_error(world):
    fields = _order_fields(world, "BX-9")
    insert_row(WorkOrder(**fields))
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_row(WorkOrder(**fields))


def test_models_with_their_own_save_are_refused():
    with pytest.raises(TypeError):
        insert_row(User(username="x"))


def test_several_rows_in_one_statement_get_their_own_keys_in_order(world):
    bodies = ["一", "二", "三"]
    messages = insert_rows(
        [Message(channel="sms", address=str(n), cause="x", body=b) for n, b in enumerate(bodies)]
    )
    keys = [m.pk for m in messages]
    assert len(set(keys)) == 3 and all(not m._state.adding for m in messages)
    # Each object got the key of its own row, not a neighbour's.
    assert [Message.objects.get(pk=k).body for k in keys] == bodies
    assert [Message.objects.get(pk=k).address for k in keys] == ["0", "1", "2"]
    # The stored rows equal one-row inserts of the same values (apart from key and idempotency).
    single = insert_row(Message(channel="sms", address="0", cause="x", body="一"))
    a, b = _raw_row(Message, keys[0]), _raw_row(Message, single.pk)
    for differs in ("key", "address"):  # address: encrypted, fresh cipher nonce
        a.pop(differs), b.pop(differs)
    assert a.pop("created_at") and b.pop("created_at")
    assert a.pop("next_attempt_at") and b.pop("next_attempt_at")
    assert a == b
    with pytest.raises(TypeError):
        insert_rows([Message(channel="sms", cause="x", body="a"), Event(code="x")])
