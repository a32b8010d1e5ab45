"""Who may do what to which order: every persona × every action, and who sees which orders.

The expectations are written out by hand below (not computed from states.TRANSITIONS), so a
change to the table that widens or narrows a permission makes this file fail until someone
decides the change was meant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from repairhub.accounts.roles import Role
from repairhub.accounts.services import create_user
from repairhub.workorders.access import access_work_order, can_see, order_for_token, visible_orders
from repairhub.workorders.errors import IllegalState, NotAllowed, NotVisible
from repairhub.workorders.services import (
    add_attachments,
    cancel_order,
    close_order,
    complete_order,
    escalate_order,
    follow_order,
    perform,
    reject_order,
    request_change,
)
from repairhub.workorders.states import Action, Status

pytestmark = pytest.mark.django_db

S = Status

# --- who sees an order ---------------------------------------------------------------------
# The order under test is reported by `reporter` (with an account) and, once dispatched, is
# assigned to `technician`, a member of `team_lead`'s team. "foreign" personas stand in the same
# role to somebody else's order. `follower` followed the order while it was open.
EVERY_STATE = frozenset(Status)
NO_STATE: frozenset[Status] = frozenset()
ASSIGNED_ONCE = frozenset(
    {S.DISPATCHED, S.ACKNOWLEDGED, S.IN_PROGRESS, S.ON_HOLD, S.COMPLETED, S.CLOSED}
)

VISIBLE: dict[str, frozenset[Status]] = {
    "reporter_own": EVERY_STATE,
    "reporter_foreign": NO_STATE,
    "agent": EVERY_STATE,
    "dispatcher": EVERY_STATE,
    "technician_assigned": ASSIGNED_ONCE,
    "technician_other": NO_STATE,
    "team_lead_own": ASSIGNED_ONCE,
    "team_lead_other": NO_STATE,
    "expert": NO_STATE,
    "storekeeper": NO_STATE,
    "qc_inspector": frozenset({S.COMPLETED, S.CLOSED}),
    "manager": EVERY_STATE,
    "admin": EVERY_STATE,
    "partner": NO_STATE,
    "link_own": EVERY_STATE,
    "link_foreign": NO_STATE,
    "follower": EVERY_STATE,
}
PERSONAS = list(VISIBLE)


# --- who may act ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Situation:
    action: Action
    state: Status  # the order is brought here first: a state where the action is legal
    target: Status  # where a permitted actor's action takes it
    may: frozenset[str]  # who succeeds; every other persona is refused
    # What happened to the order first: "pending_change" (its technician asked for a change),
    # "escalated" (a dispatcher escalated it to `expert`).
    prepare: str = ""

    @property
    def id(self) -> str:
        return f"{self.action}@{self.state}"


def _may(*names: str) -> frozenset[str]:
    return frozenset(names)


DESK = _may("agent", "dispatcher", "admin")  # the front desk: accepts, rejects, cancels early
DISPATCH_DESK = _may("dispatcher", "admin")  # dispatching, closing, late cancellation
ASSIGNEE = _may("technician_assigned")  # the technician doing the work, nobody else
REPORTER = _may("reporter_own", "link_own")  # the reporter, by account or private link
EXPERT = _may("expert")  # the expert the order was escalated to
WITH_TECH = (S.DISPATCHED, S.ACKNOWLEDGED, S.IN_PROGRESS, S.ON_HOLD)

SITUATIONS = [
    Situation(Action.ACCEPT, S.SUBMITTED, S.ACCEPTED, DESK),
    Situation(Action.REJECT, S.SUBMITTED, S.REJECTED, DESK),
    Situation(Action.DISPATCH, S.ACCEPTED, S.DISPATCHED, DISPATCH_DESK),
    *(
        Situation(Action.REASSIGN, state, S.DISPATCHED, DISPATCH_DESK | {"team_lead_own"})
        for state in (S.DISPATCHED, S.ACKNOWLEDGED, S.IN_PROGRESS, S.ON_HOLD)
    ),
    Situation(Action.ACKNOWLEDGE, S.DISPATCHED, S.ACKNOWLEDGED, ASSIGNEE),
    Situation(Action.DECLINE, S.DISPATCHED, S.ACCEPTED, ASSIGNEE),
    Situation(Action.DECLINE, S.ACKNOWLEDGED, S.ACCEPTED, ASSIGNEE),
    Situation(Action.ARRIVE, S.ACKNOWLEDGED, S.IN_PROGRESS, ASSIGNEE),
    Situation(Action.PROGRESS, S.ACKNOWLEDGED, S.ACKNOWLEDGED, ASSIGNEE),
    Situation(Action.PROGRESS, S.IN_PROGRESS, S.IN_PROGRESS, ASSIGNEE),
    Situation(Action.PROGRESS, S.ON_HOLD, S.ON_HOLD, ASSIGNEE),
    Situation(Action.HOLD, S.IN_PROGRESS, S.ON_HOLD, ASSIGNEE),
    Situation(Action.RESUME, S.ON_HOLD, S.IN_PROGRESS, ASSIGNEE),
    Situation(Action.COMPLETE, S.IN_PROGRESS, S.COMPLETED, ASSIGNEE),
    Situation(Action.CONFIRM, S.COMPLETED, S.CLOSED, REPORTER),
    Situation(Action.CLOSE, S.COMPLETED, S.CLOSED, DISPATCH_DESK),
    Situation(Action.REOPEN, S.COMPLETED, S.ACCEPTED, DISPATCH_DESK | REPORTER),
    Situation(Action.CANCEL, S.SUBMITTED, S.CANCELLED, DESK | REPORTER),
    Situation(Action.CANCEL, S.ACCEPTED, S.CANCELLED, DESK | REPORTER),
    Situation(Action.CANCEL, S.DISPATCHED, S.CANCELLED, DISPATCH_DESK),
    Situation(Action.CANCEL, S.ACKNOWLEDGED, S.CANCELLED, DISPATCH_DESK),
    Situation(Action.CANCEL, S.ON_HOLD, S.CANCELLED, DISPATCH_DESK),
    *(
        Situation(Action.REQUEST_CHANGE, state, state, ASSIGNEE)
        for state in (S.ACKNOWLEDGED, S.IN_PROGRESS, S.ON_HOLD)
    ),
    *(
        Situation(action, state, state, DISPATCH_DESK, "pending_change")
        for action in (Action.APPROVE_CHANGE, Action.REJECT_CHANGE)
        for state in (S.ACKNOWLEDGED, S.IN_PROGRESS, S.ON_HOLD)
    ),
    Situation(Action.ESCALATE, S.ACCEPTED, S.ACCEPTED, DISPATCH_DESK),
    *(
        Situation(Action.ESCALATE, state, state, ASSIGNEE | DISPATCH_DESK | {"team_lead_own"})
        for state in WITH_TECH
    ),
    *(
        Situation(Action.GUIDE, state, state, EXPERT, "escalated")
        for state in (S.ACCEPTED, *WITH_TECH)
    ),
    *(
        Situation(Action.TAKE_OVER, state, S.ACKNOWLEDGED, EXPERT, "escalated")
        for state in (S.ACCEPTED, *WITH_TECH)
    ),
    # Urging (催单): the reporter only, once the wait is over (the test sets it to zero).
    *(
        Situation(Action.URGE, state, state, REPORTER)
        for state in (S.SUBMITTED, S.ACCEPTED, *WITH_TECH)
    ),
]

# Refused with 409 instead of 403: they may cancel, but only before a technician is sent.
TOO_LATE: dict[tuple[Action, Status], frozenset[str]] = {
    (Action.CANCEL, state): _may("agent", "reporter_own", "link_own")
    for state in (S.DISPATCHED, S.ACKNOWLEDGED, S.ON_HOLD)
}


# The timeline entry each action writes.
EVENT_CODE = {
    Action.ACCEPT: "workorder.accepted",
    Action.REJECT: "workorder.rejected",
    Action.DISPATCH: "workorder.dispatched",
    Action.REASSIGN: "workorder.reassigned",
    Action.ACKNOWLEDGE: "workorder.acknowledged",
    Action.DECLINE: "workorder.declined",
    Action.ARRIVE: "workorder.arrived",
    Action.PROGRESS: "workorder.progress",
    Action.HOLD: "workorder.held",
    Action.RESUME: "workorder.resumed",
    Action.COMPLETE: "workorder.completed",
    Action.CONFIRM: "workorder.confirmed",
    Action.CLOSE: "workorder.closed",
    Action.REOPEN: "workorder.reopened",
    Action.CANCEL: "workorder.cancelled",
    Action.REQUEST_CHANGE: "workorder.change_requested",
    Action.APPROVE_CHANGE: "workorder.change_approved",
    Action.REJECT_CHANGE: "workorder.change_rejected",
    Action.ESCALATE: "workorder.escalated",
    Action.GUIDE: "workorder.guided",
    Action.TAKE_OVER: "workorder.taken_over",
    Action.URGE: "workorder.urged",
}


def expected_outcome(persona: str, situation: Situation) -> type[Exception] | None:
    """None for success, else the refusal: 404 if he cannot see it, 409 if too late, 403."""
    if persona in situation.may:
        return None
    if situation.state not in VISIBLE[persona]:
        return NotVisible
    if persona in TOO_LATE.get((situation.action, situation.state), ()):
        return IllegalState
    return NotAllowed


def test_every_action_appears_in_the_matrix():
    assert {s.action for s in SITUATIONS} == set(Action)


# --- the cast -----------------------------------------------------------------------------
@dataclass
class Cast:
    world: Any
    team_lead_other: Any
    foreign_order: Any

    def order(self, state: Status, prepare: str = ""):
        """The order under test in `state`, with a follower who joined while it was open."""
        w = self.world
        before = {
            S.COMPLETED: S.IN_PROGRESS,
            S.CLOSED: S.IN_PROGRESS,
            S.REJECTED: S.SUBMITTED,
            S.CANCELLED: S.SUBMITTED,
        }.get(state, state)
        order = w.order(before)
        follower, _ = follow_order(order, name="李四", phone="13900004444", by=None)
        if state in (S.COMPLETED, S.CLOSED):
            complete_order(order, result="success", note="换了灯管", by=w.technician)
        if state is S.CLOSED:
            close_order(order, by=w.dispatcher)
        if state is S.REJECTED:
            reject_order(order, reason="不属于后勤维修范围", by=w.agent)
        if state is S.CANCELLED:
            cancel_order(order, reason="重复报修", by=w.agent)
        if prepare == "pending_change":
            request_change(
                order, kind="measures", measures="更换镇流器", reason="灯管无问题", by=w.technician
            )
        if prepare == "escalated":
            escalate_order(order, expert=w.expert, reason="需要专家", by=w.dispatcher)
        assert order.status == state
        return order, follower

    def persona(self, name: str, order, follower):
        w = self.world
        links = {
            "link_own": lambda: order_for_token(order.tracking_token)[1],
            "link_foreign": lambda: order_for_token(self.foreign_order.tracking_token)[1],
            "follower": lambda: order_for_token(follower.tracking_token)[1],
        }
        if name in links:
            return links[name]()
        users = {
            "reporter_own": w.reporter,
            "reporter_foreign": w.reporter2,
            "technician_assigned": w.technician,
            "technician_other": w.technician2,
            "team_lead_own": w.team_lead,
            "team_lead_other": self.team_lead_other,
        }
        return users.get(name) or getattr(w, name)


@pytest.fixture
def cast(world):
    from repairhub.accounts.models import Team

    other_team = Team.objects.create(code="hvac", name="空调班")
    lead = create_user("lead_other", roles=[Role.TEAM_LEAD, Role.TECHNICIAN], team=other_team)
    other_team.lead = lead
    other_team.save()
    foreign = world.order(S.SUBMITTED, reporter=world.reporter2, reporter_phone="13800002222")
    return Cast(world=world, team_lead_other=lead, foreign_order=foreign)


def params_for(action: Action, world) -> dict[str, Any]:
    """Valid input for each action, so only permission and state decide the outcome."""
    return {
        Action.REJECT: {"reason": "不属于后勤维修范围"},
        Action.DISPATCH: {"technician": world.technician},
        # A member of team_lead's team, so the lead may reassign to him too.
        Action.REASSIGN: {"technician": world.team_lead, "reason": "就近安排"},
        Action.DECLINE: {"reason": "不会修空调"},
        Action.ARRIVE: {"lat": "30.500000", "lng": "114.400000"},
        Action.PROGRESS: {"note": "已拆开灯罩"},
        Action.HOLD: {"reason": "等配件"},
        Action.COMPLETE: {"result": "success", "note": "换了灯管"},
        Action.CONFIRM: {"rating": 5, "comment": "很及时"},
        Action.CLOSE: {"note": "回访满意"},
        Action.REOPEN: {"reason": "灯又不亮了"},
        Action.CANCEL: {"reason": "重复报修"},
        Action.REQUEST_CHANGE: {"kind": "measures", "measures": "换灯座", "reason": "灯座老化"},
        Action.APPROVE_CHANGE: {"note": "同意"},
        Action.REJECT_CHANGE: {"reason": "按原方案"},
        Action.ESCALATE: {"expert": world.expert, "reason": "需要专家"},
        Action.GUIDE: {"note": "先断电再检查"},
    }.get(action, {})


def snapshot(order):
    order.refresh_from_db()
    return (order.status, order.version, order.assignee_id, order.events.count())


# --- the matrix ---------------------------------------------------------------------------
@pytest.mark.parametrize("situation", SITUATIONS, ids=lambda s: s.id)
def test_each_persona_may_or_may_not_take_the_action(cast, situation, subtests, settings):
    # Urging waits SUPERVISION_URGE_AFTER_MINUTES after submission; here only who may counts.
    settings.SUPERVISION_URGE_AFTER_MINUTES = 0
    order = follower = None
    for name in PERSONAS:
        if order is None:
            order, follower = cast.order(situation.state, situation.prepare)
        expected = expected_outcome(name, situation)
        label = f"{name} {situation.action} on {situation.state}"
        with subtests.test(msg=label):
            actor = cast.persona(name, order, follower)
            before = snapshot(order)
            params = params_for(situation.action, cast.world)
            if expected is None:
                order_before = before
                event = perform(order, situation.action, by=actor, **params)
                assert order.status == situation.target
                assert order.version == order_before[1] + 1
                assert order.events.count() == order_before[3] + 1
                assert (event.from_status, event.to_status) == (situation.state, situation.target)
                assert event.code == EVENT_CODE[situation.action]
                assert event.actor_id == getattr(actor, "pk", None)
                order = None  # it moved on: the next persona gets a fresh one
            else:
                with pytest.raises(expected):
                    perform(order, situation.action, by=actor, **params)
                assert snapshot(order) == before, "a refusal must change nothing"


# --- a few cases spelled out, for the reader ------------------------------------------------
def test_agent_closing_an_order_is_refused(world):
    order = world.order(S.COMPLETED)
    before = snapshot(order)
    with pytest.raises(NotAllowed):
        close_order(order, by=world.agent)
    assert snapshot(order) == before


def test_reporter_reading_anothers_order_is_refused(world):
    order = world.order(S.SUBMITTED, reporter=world.reporter2)
    with pytest.raises(NotVisible) as exc:
        access_work_order(world.reporter, order.number)
    assert exc.value.status == 404
    before = snapshot(order)
    with pytest.raises(NotVisible):
        cancel_order(order, reason="不要了", by=world.reporter)
    assert snapshot(order) == before


def test_technician_acting_on_an_order_not_his_is_refused(world):
    order = world.order(S.DISPATCHED)
    before = snapshot(order)
    with pytest.raises(NotVisible):
        perform(order, Action.ACKNOWLEDGE, by=world.technician2)
    assert snapshot(order) == before


def test_dispatcher_acknowledging_for_the_technician_is_refused(world):
    order = world.order(S.DISPATCHED)
    before = snapshot(order)
    with pytest.raises(NotAllowed) as exc:
        perform(order, Action.ACKNOWLEDGE, by=world.dispatcher)
    assert exc.value.status == 403
    assert snapshot(order) == before


def test_team_lead_may_reassign_only_within_his_team(world):
    order = world.order(S.DISPATCHED)
    before = snapshot(order)
    with pytest.raises(NotAllowed):
        perform(order, Action.REASSIGN, by=world.team_lead, technician=world.technician2)
    assert snapshot(order) == before


def test_follower_link_may_not_upload_attachments(cast):
    from repairhub.lib.uploads import CleanUpload

    order, follower = cast.order(S.ACCEPTED)
    holder = cast.persona("follower", order, follower)
    photo = CleanUpload("image", "image/jpeg", "jpg", b"\xff\xd8\xff", "a.jpg")
    before = snapshot(order)
    with pytest.raises(NotAllowed):
        add_attachments(order, [photo], by=holder)
    assert snapshot(order) == before
    assert order.attachments.count() == 0


# --- visibility ----------------------------------------------------------------------------
@pytest.mark.parametrize("state", list(Status))
def test_each_persona_sees_exactly_the_orders_of_his_remit(cast, state, subtests):
    order, follower = cast.order(state)
    for name in PERSONAS:
        with subtests.test(msg=f"{name} on {state}"):
            viewer = cast.persona(name, order, follower)
            sees = state in VISIBLE[name]
            assert can_see(viewer, order) is sees
            assert visible_orders(viewer).filter(pk=order.pk).exists() is sees
            if sees:
                assert access_work_order(viewer, order.number).pk == order.pk
            else:
                with pytest.raises(NotVisible):
                    access_work_order(viewer, order.number)


def test_reporter_lists_only_his_own_orders(cast):
    world = cast.world
    mine = {world.order(state).pk for state in (S.SUBMITTED, S.IN_PROGRESS, S.CLOSED)}
    assert set(visible_orders(world.reporter).values_list("pk", flat=True)) == mine
    assert set(visible_orders(world.reporter2).values_list("pk", flat=True)) == {
        cast.foreign_order.pk
    }


def test_technician_lists_only_orders_assigned_to_him(world):
    his = world.order(S.IN_PROGRESS)
    world.order(S.IN_PROGRESS, technician=world.technician2)
    world.order(S.ACCEPTED)
    assert list(visible_orders(world.technician)) == [his]


def test_team_lead_lists_his_teams_orders_and_qc_the_finished_ones(cast):
    world = cast.world
    team_order = world.order(S.DISPATCHED)  # assigned to technician, of team_lead's team
    outsider = world.order(S.COMPLETED, technician=world.technician2)
    closed = world.order(S.CLOSED, technician=world.technician2)
    world.order(S.ACCEPTED)
    assert set(visible_orders(world.team_lead)) == {team_order}
    assert set(visible_orders(cast.team_lead_other)) == set()
    assert set(visible_orders(world.qc_inspector)) == {outsider, closed}


def test_desk_and_management_see_all_and_storekeeper_none(cast):
    world = cast.world
    world.order(S.IN_PROGRESS)
    world.order(S.CLOSED)
    everything = set(visible_orders(world.admin))
    assert len(everything) == 3  # with the foreign order
    for viewer in (world.agent, world.dispatcher, world.manager):
        assert set(visible_orders(viewer)) == everything
    for viewer in (world.storekeeper, world.partner, world.expert):
        assert not visible_orders(viewer).exists()
