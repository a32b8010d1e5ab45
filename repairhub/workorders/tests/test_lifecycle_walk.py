"""Walk the table: every state is reachable through the services and every refusal changes nothing."""

from __future__ import annotations

import pytest

from repairhub.workorders.errors import IllegalState, InvalidInput, NotAllowed, StaleVersion
from repairhub.workorders.lifecycle import allowed_actions, apply
from repairhub.workorders.states import TRANSITIONS, Action, Status

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("status", list(Status))
def test_every_state_is_reachable_through_services(world, status):
    order = world.order(status)
    assert order.status == status
    codes = list(order.events.values_list("code", flat=True))
    assert codes[0] == "workorder.submitted"
    assert len(codes) == order.version  # one event per change, version counts them


def test_order_numbers_are_human_and_sequential(world):
    a = world.order()
    b = world.order()
    prefix, day, seq = a.number.split("-")
    assert prefix == "BX" and len(day) == 8
    assert b.number == f"{prefix}-{day}-{int(seq) + 1:04d}"


def test_refused_action_changes_nothing(world):
    order = world.order(Status.ACCEPTED)
    before = (order.status, order.version, order.events.count())
    with pytest.raises(NotAllowed):
        apply(order, Action.DISPATCH, by=world.agent, params={"technician": world.technician})
    with pytest.raises(IllegalState):
        apply(order, Action.ACCEPT, by=world.agent)
    with pytest.raises(InvalidInput):
        apply(order, Action.DISPATCH, by=world.dispatcher, params={"technician": "nobody"})
    with pytest.raises(StaleVersion):
        apply(
            order,
            Action.DISPATCH,
            by=world.dispatcher,
            version=order.version - 1,
            params={"technician": world.technician},
        )
    order.refresh_from_db()
    assert (order.status, order.version, order.events.count()) == before


def test_failed_completion_needs_a_suggestion(world):
    order = world.order(Status.IN_PROGRESS)
    with pytest.raises(InvalidInput) as exc:
        apply(
            order,
            Action.COMPLETE,
            by=world.technician,
            params={"result": "failed", "note": "线路老化"},
        )
    assert exc.value.field == "suggestion"
    apply(
        order,
        Action.COMPLETE,
        by=world.technician,
        params={"result": "failed", "note": "线路老化", "suggestion": "需整体更换线路，已报后勤科"},
    )
    assert order.status == Status.COMPLETED and order.result == "failed"


def test_allowed_actions_follow_the_table(world):
    order = world.order(Status.DISPATCHED)
    assert allowed_actions(order, world.technician) == [
        Action.ACKNOWLEDGE,
        Action.DECLINE,
        Action.ESCALATE,
    ]
    assert allowed_actions(order, world.technician2) == []
    assert set(allowed_actions(order, world.dispatcher)) == {
        Action.REASSIGN,
        Action.CANCEL,
        Action.ESCALATE,
    }
    assert allowed_actions(order, world.reporter) == []
    assert allowed_actions(order, world.expert) == []  # not escalated to him


def test_table_has_no_action_out_of_a_terminal_state():
    from repairhub.workorders.states import TERMINAL

    assert all(not (rule.sources & TERMINAL) for rule in TRANSITIONS)


def test_follower_gets_own_link_but_cannot_act(world):
    from repairhub.workorders.access import order_for_token
    from repairhub.workorders.services import follow_order

    order = world.order(Status.ACCEPTED)
    follower, created = follow_order(order, name="李四", phone="139 0000 4444", by=None)
    again, created_again = follow_order(order, name="李四", phone="13900004444", by=None)
    assert created and not created_again and again.pk == follower.pk
    seen, holder = order_for_token(follower.tracking_token)
    assert seen.pk == order.pk and holder.follower
    assert allowed_actions(order, holder) == []
    _, reporter_holder = order_for_token(order.tracking_token)
    assert allowed_actions(order, reporter_holder) == [Action.CANCEL]
    assert order.events.filter(code="workorder.followed").count() == 1


def test_workflow_doc_matches_the_table():
    from pathlib import Path

    from repairhub.workorders.workflow_doc import render_markdown

    doc = Path(__file__).resolve().parents[3] / "docs" / "workflows" / "workorders.md"
    assert doc.read_text() == render_markdown(), (
        "docs/workflows/workorders.md is stale: python -m repairhub.workorders.workflow_doc > it"
    )


def test_place_subtree_does_not_match_a_sibling_with_the_same_prefix(world):
    from repairhub.places.models import Place, PlaceKind
    from repairhub.workorders.models import WorkOrder

    campus = world.room.parent.parent.parent
    sibling = Place.objects.create(
        kind=PlaceKind.BUILDING, code="E030", name="30号楼", parent=campus
    )
    inside = world.order()
    world.order(place=sibling)
    building = world.room.building
    assert list(WorkOrder.objects.in_place(building)) == [inside]


def test_renaming_a_building_rewrites_the_names_below_it(world):
    from repairhub.places.models import Place

    building = Place.objects.get(code="E03")
    building.name = "三号楼"
    building.save()
    room = Place.objects.get(pk=world.room.pk)
    assert room.full_name == "东校区 / 三号楼 / 2层 / 201"
    assert room.path == "E/E03/E03-2F/E03-201"
