from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from repairhub.accounts.models import User
from repairhub.accounts.roles import Role
from repairhub.ops.demo import DEMO_PASSWORD, ORDERS
from repairhub.places import qr
from repairhub.places.models import Asset, Place, PlaceKind
from repairhub.sla.models import OrderClock
from repairhub.testing.personas import make_user
from repairhub.workorders.models import Category, Channel, Event, Result, WorkOrder
from repairhub.workorders.states import Status

pytestmark = pytest.mark.django_db

EXPECTED_USERS = {
    "reporter",
    "reporter2",
    "agent",
    "agent2",
    "dispatcher",
    "technician",
    "technician2",
    "technician3",
    "team_lead",
    "expert",
    "storekeeper",
    "qc_inspector",
    "manager",
    "admin",
    "partner",
}


def _demo(*args) -> str:
    out = StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


def _snapshot() -> tuple[int, ...]:
    return (
        User.objects.count(),
        Place.objects.count(),
        Category.objects.count(),
        WorkOrder.objects.count(),
        Event.objects.count(),
    )


def test_demo_loads_every_role_and_every_state_then_refuses_to_load_twice():
    output = _demo()
    assert "演示数据已加载" in output
    assert "admin" in output and DEMO_PASSWORD in output  # the logins table

    assert set(User.objects.values_list("username", flat=True)) == EXPECTED_USERS
    for role in Role:
        assert User.objects.filter(role_grants__role=role).exists(), role
    for role in (Role.REPORTER, Role.AGENT, Role.DISPATCHER, Role.MANAGER, Role.QC_INSPECTOR):
        assert User.objects.get(username=role).has_role(role)
    assert all(u.check_password(DEMO_PASSWORD) for u in User.objects.all())
    assert User.objects.get(username="technician").display_name == "陈建国"
    assert User.objects.get(username="admin").is_superuser

    orders = WorkOrder.objects.all()
    assert orders.count() == len(ORDERS)
    assert set(orders.values_list("status", flat=True)) == set(Status.values)
    assert set(orders.values_list("channel", flat=True)) == set(Channel.values)
    completed = orders.filter(status=Status.COMPLETED)
    assert set(completed.values_list("result", flat=True)) == {Result.SUCCESS, Result.FAILED}
    assert orders.filter(status=Status.CLOSED, rating__isnull=False).count() == 3
    assert orders.filter(status=Status.CLOSED, rating__isnull=True).exists()
    # Every state was reached through the lifecycle: one event per version.
    for order in orders:
        assert order.events.count() == order.version
    # The auto-accept category skipped the desk.
    leak = orders.filter(category__code="pipe-leak").first()
    assert leak.events.filter(code="workorder.accepted", actor__isnull=True).exists()

    assert Place.objects.filter(kind=PlaceKind.CAMPUS).count() == 2
    buildings = Place.objects.filter(kind=PlaceKind.BUILDING)
    assert buildings.count() == 6
    assert all(b.latitude and b.longitude for b in buildings)
    assert Place.objects.rooms().count() >= 60
    assert len(qr.sheet_rooms(Place.objects.get(code="E01"))) == 24

    # The asset register: air conditioners with nameplates in the lab building, washing machines;
    # one air conditioner has a history of two orders.
    assert Asset.objects.count() == 6
    lab = Place.objects.get(code="W06")
    assert all(a.model and a.serial for a in Asset.objects.within(lab))
    assert set(Asset.objects.filter(category__code="washer").values_list("code", flat=True)) == {
        "E01-102-WM2",
        "W02-102-WM1",
    }
    unit = Asset.objects.get(code="W06-305-AC2")
    assert unit.orders.count() == 2
    assert all(o.place_id == o.asset.place_id for o in orders.filter(asset__isnull=False))
    assert [a.code for a in qr.sheet_assets(lab)] == [
        "W06-104-AC1",
        "W06-201-AC1",
        "W06-305-AC1",
        "W06-305-AC2",
    ]

    assert Category.objects.get(code="washer").is_paid
    assert Category.objects.get(code="pipe-leak").auto_accept
    assert not Category.objects.get(code="patrol").reporter_selectable
    assert Category.objects.get(code="lamp").parent.name == "水电"
    assert not Category.objects.filter(parent__parent__isnull=False).exists()  # two levels

    # The supervision board has something to show: one order past its deadline, one nearly.
    now = timezone.now()
    running = OrderClock.objects.filter(stopped_at__isnull=True, due_at__isnull=False)
    late = running.filter(due_at__lt=now)
    assert list(late.values_list("order__urgency", flat=True)) == ["critical"]
    assert running.filter(due_at__gte=now, at_risk_at__lte=now).exists()
    critical = late.get().order
    assert critical.created_at < now - timedelta(hours=8)
    assert set(critical.events.values_list("created_at", flat=True)) == {
        e.created_at for e in critical.events.filter(created_at__lt=now - timedelta(hours=8))
    }

    before = _snapshot()
    again = _demo()
    assert "已有工单" in again
    assert _demo("--force") == again
    assert _snapshot() == before


def test_demo_leaves_a_database_in_use_alone_unless_forced():
    make_user("someone")
    assert "--force" in _demo()
    assert WorkOrder.objects.count() == 0
    assert "演示数据已加载" in _demo("--force")
    assert WorkOrder.objects.count() == len(ORDERS)
    assert User.objects.filter(username="someone").exists()


def test_forced_demo_refuses_clashing_names_and_changes_nothing():
    make_user("dispatcher")
    before = _snapshot()
    with pytest.raises(CommandError, match="user dispatcher"):
        _demo("--force")
    assert _snapshot() == before
