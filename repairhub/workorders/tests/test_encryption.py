"""Personal data at rest (PF4): phones and addresses are ciphertext in the database, found by a
blind index, shown masked, and unreadable under another key."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag
from django.db import connection

from repairhub.accounts.models import User
from repairhub.lib.crypto import blind_index, decrypt
from repairhub.workorders.models import WorkOrder
from repairhub.workorders.queries import orders_for_phone
from repairhub.workorders.states import Status

pytestmark = pytest.mark.django_db

PHONE = "13800001111"
ADDRESS = "东校区3号楼201室北侧"


def raw_row(model, pk: int, *columns: str) -> tuple:
    table = connection.ops.quote_name(model._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {cols} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()


@pytest.fixture
def order(world):
    return world.order(Status.SUBMITTED, reporter_phone="138 0000 1111", address=ADDRESS)


def test_reporter_phone_and_address_are_ciphertext_in_the_row(order):
    phone, address, index = raw_row(
        WorkOrder, order.pk, "reporter_phone", "address", "reporter_phone_index"
    )
    for stored, plain in ((phone, PHONE), (address, ADDRESS)):
        assert stored.startswith("v1:")
        assert plain not in stored
        assert decrypt(stored) == plain
    assert index == blind_index(PHONE)
    assert PHONE not in index


def test_model_reads_the_plain_values(order):
    fresh = WorkOrder.objects.get(pk=order.pk)
    assert (fresh.reporter_phone, fresh.address) == (PHONE, ADDRESS)


def test_user_phone_is_ciphertext_in_the_row(world):
    phone, index = raw_row(User, world.technician.pk, "phone", "phone_index")
    assert phone.startswith("v1:") and "13900003333" not in phone
    assert decrypt(phone) == "13900003333"
    assert index == blind_index("13900003333")
    assert User.objects.get(pk=world.technician.pk).phone == "13900003333"


def test_the_same_phone_encrypts_differently_each_time_but_indexes_the_same(world):
    first = world.order(reporter_phone=PHONE)
    second = world.order(reporter_phone="+86 138-0000-1111")
    (a, ia), (b, ib) = (
        raw_row(WorkOrder, o.pk, "reporter_phone", "reporter_phone_index") for o in (first, second)
    )
    assert a != b
    assert ia == ib


def test_blind_index_finds_a_callers_orders_by_phone(world, order):
    world.order(reporter=world.reporter2, reporter_phone="13800002222")
    found = orders_for_phone(world.agent, "+86 138-0000-1111")
    assert [o.pk for o in found] == [order.pk]
    assert orders_for_phone(world.agent, "13800003333") == []
    assert orders_for_phone(world.agent, "not a phone") == []


def test_phone_lookup_respects_what_the_viewer_may_see(world, order):
    assert orders_for_phone(world.storekeeper, PHONE) == []
    assert [o.pk for o in orders_for_phone(world.reporter, PHONE)] == [order.pk]


def test_lists_show_the_phone_masked(order):
    assert order.masked_phone == "138****1111"


def test_a_wrong_key_cannot_decrypt(order, settings):
    stored, index = raw_row(WorkOrder, order.pk, "reporter_phone", "reporter_phone_index")
    settings.FIELD_ENCRYPTION_KEY = "another-installation-key"
    with pytest.raises(InvalidTag):
        decrypt(stored)
    with pytest.raises(InvalidTag):
        WorkOrder.objects.get(pk=order.pk)
    assert blind_index(PHONE) != index
