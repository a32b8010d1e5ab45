"""Random walks through the lifecycle, by random people with random input, hold its invariants.

After every step, whoever took it and whatever he sent:
- the state changes only along a (from, action, to) triple of states.TRANSITIONS;
- a refused step (any OrderError) changes nothing: status, version, events;
- anything else than an OrderError is a bug (a 500 for the user);
- a step succeeds only if lifecycle.allowed_actions offered it (the buttons tell the truth),
  and an offered step is refused only for its input or a stale version;
- the lifecycle events' to_status sequence is the state history observed by the walk, and each
  event's from_status is the previous event's to_status;
- version == the number of lifecycle events: `workorder.submitted` plus one per applied action,
  including notes that keep the state (progress); follower and attachment events do not count;
- once terminal, an order never changes state again.

Each example works on fresh orders made from the one world of the test, inside the test's
transaction; hypothesis runs examples one after another, so they never see each other's orders.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from repairhub.testing.personas import make_category
from repairhub.workorders.access import order_for_token
from repairhub.workorders.actors import SYSTEM
from repairhub.workorders.errors import InvalidInput, OrderError, StaleVersion
from repairhub.workorders.lifecycle import allowed_actions, apply
from repairhub.workorders.models import Channel, WorkOrder
from repairhub.workorders.services import create_order, follow_order
from repairhub.workorders.states import (
    EVENT_CODES,
    EVENT_SUBMITTED,
    OPEN,
    TERMINAL,
    TRANSITIONS,
    Action,
    Status,
)

pytestmark = pytest.mark.django_db

# The moves the table allows, as (from, action, to); a note keeps the state.
LEGAL_MOVES = {
    (source, rule.action, rule.target or source) for rule in TRANSITIONS for source in rule.sources
}
LIFECYCLE_CODES = {EVENT_SUBMITTED, *EVENT_CODES.values()}

TEXTS = st.sampled_from(
    ["等配件", "  ", "", "灯管坏了，已更换", "x" * 2001, "坏\x00了", 7, None, ["a"]]
)
COORDINATES = st.sampled_from([None, "", "30.5", "114.4", "-91", "abc", 181, "NaN", "1e400"])
RATINGS = st.sampled_from([None, "", 1, 3, 5, "4", 0, 6, 2.5, "x", float("inf"), float("nan")])
RESULTS = st.sampled_from(["success", "failed", "", "maybe", None])
KINDS = st.sampled_from(["category", "measures", "deadline", "extra_work", "", "colour", None, 3])
CATEGORIES = st.sampled_from(["lamp", "socket", "retired", "nope", "", None, 5])
DEADLINES = st.sampled_from(
    [None, "", "2099-01-01T08:00:00+08:00", "2000-01-01T08:00:00+08:00", "明天", 12]
)


def plausible_params(world) -> st.SearchStrategy[dict]:
    experts = st.sampled_from([world.expert, "expert", world.technician, "nobody", "", None])
    technicians = st.sampled_from(
        [
            world.technician,
            world.technician2,
            world.team_lead,
            world.expert,
            world.reporter,  # not a technician
            "technician2",
            " expert ",
            "nobody",
            "",
            None,
            42,
        ]
    )
    return st.fixed_dictionaries(
        {},
        optional={
            "technician": technicians,
            "reason": TEXTS,
            "note": TEXTS,
            "result": RESULTS,
            "suggestion": TEXTS,
            "rating": RATINGS,
            "comment": TEXTS,
            "lat": COORDINATES,
            "lng": COORDINATES,
            "kind": KINDS,
            "new_category": CATEGORIES,
            "measures": TEXTS,
            "new_due_at": DEADLINES,
            "extra_work": TEXTS,
            "expert": experts,
            "change": st.sampled_from([None, "", 1, 999999]),
        },
    )


def good_params(world, action: str) -> dict:
    return {
        Action.REJECT: {"reason": "不属于维修范围"},
        Action.DISPATCH: {"technician": world.technician},
        Action.REASSIGN: {"technician": world.team_lead},
        Action.DECLINE: {"reason": "不会修"},
        Action.ARRIVE: {"lat": "30.5", "lng": "114.4"},
        Action.PROGRESS: {"note": "已拆开"},
        Action.HOLD: {"reason": "等配件"},
        Action.COMPLETE: {"result": "failed", "note": "线路老化", "suggestion": "整体换线"},
        Action.CONFIRM: {"rating": 4},
        Action.REOPEN: {"reason": "又坏了"},
        Action.CANCEL: {"reason": "重复报修"},
        Action.REQUEST_CHANGE: {"kind": "category", "new_category": "socket", "reason": "插座"},
        Action.REJECT_CHANGE: {"reason": "按原方案"},
        Action.ESCALATE: {"expert": world.expert, "reason": "复杂"},
        Action.GUIDE: {"note": "先断电"},
    }.get(action, {})


def make_machine(world):
    # Categories a change request may name: one in use, one retired.
    make_category("socket", name="插座")
    make_category("retired", name="旧类别", is_active=False)
    users = {
        name: getattr(world, name)
        for name in (
            "reporter",
            "reporter2",
            "agent",
            "dispatcher",
            "technician",
            "technician2",
            "team_lead",
            "expert",
            "qc_inspector",
            "storekeeper",
            "manager",
            "admin",
            "partner",
        )
    }
    actor_names = [*users, "link", "other_link", "follower", "system", "anonymous"]

    class Lifecycle(RuleBasedStateMachine):
        @initialize(start=st.sampled_from(sorted(OPEN)), account=st.booleans(), auto=st.booleans())
        def report(self, start, account, auto):
            """A fresh order: reported now (by account or anonymously), or walked to `start`."""
            if start != Status.SUBMITTED:
                self.order = world.order(start)
            else:
                category = world.category
                if auto:
                    category = make_category("leak", name="漏水", auto_accept=True)
                reporter = world.reporter if account else None
                self.order, _ = create_order(
                    category=category,
                    place=world.room,
                    description="灯不亮",
                    reporter_name="张三",
                    reporter_phone="13800001111",
                    channel=Channel.WEB,
                    reporter=reporter,
                    by=reporter or AnonymousUser(),
                )
            self.other, _ = create_order(
                category=world.category,
                place=world.room,
                description="水管漏水",
                reporter_name="李四",
                reporter_phone="13800002222",
                channel=Channel.QR,
                by=AnonymousUser(),
            )
            self.follower = None
            self.history = [e.to_status for e in self.lifecycle_events()]

        # --- helpers ---------------------------------------------------------------------
        def lifecycle_events(self):
            return list(self.order.events.filter(code__in=LIFECYCLE_CODES).order_by("id"))

        def actor(self, name):
            if name in users:
                return users[name]
            if name == "link":
                return order_for_token(self.order.tracking_token)[1]
            if name == "other_link":
                return order_for_token(self.other.tracking_token)[1]
            if name == "follower":
                if self.follower is None:  # nobody followed yet: a passer-by instead
                    return AnonymousUser()
                return order_for_token(self.follower.tracking_token)[1]
            if name == "system":
                return SYSTEM
            return AnonymousUser()

        def snapshot(self):
            self.order.refresh_from_db()
            return self.order.status, self.order.version, self.order.events.count()

        def step(self, by, action, params, version):
            status, ver, events = self.snapshot()
            offered = action in allowed_actions(self.order, by)
            try:
                event = apply(self.order, action, by=by, version=version, params=params)
            except OrderError as refusal:
                assert self.snapshot() == (status, ver, events), "a refusal changed the order"
                assert not offered or isinstance(refusal, InvalidInput | StaleVersion), (
                    f"{action} was offered to {by} but refused: {refusal!r}"
                )
                return
            after = self.snapshot()
            assert (status, action, after[0]) in LEGAL_MOVES
            assert status not in TERMINAL
            assert after[1:] == (ver + 1, events + 1)
            assert (event.from_status, event.to_status) == (status, after[0])
            assert event.code == EVENT_CODES[Action(action)]
            if by is not SYSTEM:
                assert offered, f"{action} succeeded for {by} but no button offered it"
            self.history.append(after[0])

        # --- rules ---------------------------------------------------------------------------
        @rule(
            name=st.sampled_from(actor_names),
            action=st.sampled_from([*Action.values, "fly"]),
            params=plausible_params(world),
            version=st.sampled_from(["current", "stale", None]),
        )
        def anything(self, name, action, params, version):
            """Anyone tries anything with input that is often wrong."""
            if action not in Action.values:
                before = self.snapshot()
                with pytest.raises(InvalidInput):
                    apply(self.order, action, by=self.actor(name), params=params)
                assert self.snapshot() == before
                return
            current = self.order.version
            v = {"current": current, "stale": current - 1, None: None}[version]
            self.step(self.actor(name), action, params, v)

        @rule(name=st.sampled_from(actor_names), data=st.data())
        def something_sensible(self, name, data):
            """Someone takes an action the order's state allows, with good input."""
            self.order.refresh_from_db()
            legal = sorted({r.action for r in TRANSITIONS if self.order.status in r.sources})
            if not legal:
                return
            action = data.draw(st.sampled_from(legal))
            self.step(self.actor(name), action, good_params(world, action), None)

        @rule(data=st.data())
        def the_right_person_acts(self, data):
            """The person the table names for a legal action takes it (to get deep walks)."""
            self.right_person_acts(data)

        @rule(data=st.data())
        def the_right_person_acts_again(self, data):
            self.right_person_acts(data)

        def right_person_acts(self, data):
            self.order.refresh_from_db()
            status = self.order.status
            legal = sorted({r.action for r in TRANSITIONS if status in r.sources})
            if not legal:
                return
            action = data.draw(st.sampled_from(legal))
            candidates = {
                Action.ACCEPT: ["agent", "dispatcher"],
                Action.REJECT: ["agent"],
                Action.DISPATCH: ["dispatcher", "admin"],
                Action.REASSIGN: ["dispatcher", "team_lead"],
                Action.CLOSE: ["dispatcher"],
                Action.REOPEN: ["dispatcher", "reporter", "link"],
                Action.CONFIRM: ["reporter", "link"],
                Action.CANCEL: ["agent", "dispatcher", "reporter", "link"],
                Action.APPROVE_CHANGE: ["dispatcher", "admin"],
                Action.REJECT_CHANGE: ["dispatcher"],
                Action.ESCALATE: ["dispatcher", "technician", "team_lead"],
                Action.GUIDE: ["expert"],
                Action.TAKE_OVER: ["expert"],
            }.get(action, ["technician", "team_lead", "expert"])
            name = data.draw(st.sampled_from(candidates))
            by = self.actor(name)
            expert_acts = action in (Action.GUIDE, Action.TAKE_OVER)
            if name in ("technician", "team_lead", "expert") and self.order.assignee_id:
                by = self.order.assignee
            if expert_acts and self.order.expert_id:
                by = self.order.expert
            self.step(by, action, good_params(world, action), None)

        @rule(phone=st.sampled_from(["13900004444", "13900005555", "abc"]))
        def someone_follows(self, phone):
            before = self.snapshot()
            try:
                follower, _ = follow_order(self.order, name="王五", phone=phone, by=None)
            except InvalidInput:
                assert self.snapshot() == before
                return
            self.follower = self.follower or follower
            status, version, _events = self.snapshot()
            assert (status, version) == before[:2], "following is not a lifecycle change"

        # --- invariants (one method: one read of the timeline per step) -----------------
        @invariant()
        def timeline_version_and_terminal_states_agree(self):
            self.order.refresh_from_db()
            events = self.lifecycle_events()
            # The timeline is the observed history, and it chains.
            assert [e.to_status for e in events] == self.history
            assert [e.from_status for e in events[1:]] == [e.to_status for e in events[:-1]]
            # The version counts lifecycle events.
            assert self.order.version == len(events)
            # Terminal stays terminal.
            ends = [i for i, state in enumerate(self.history) if state in TERMINAL]
            if ends:
                assert ends[0] == len(self.history) - 1, self.history
            # Nobody acted on the other order.
            assert WorkOrder.objects.filter(pk=self.other.pk, version=1).exists()

    return Lifecycle


def test_random_walks_keep_the_lifecycle_invariants(world):
    machine = make_machine(world)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=40,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
            database=None,
        ),
    )


def test_confirming_with_an_absurd_rating_is_refused_as_input(world):
    order = world.order(Status.COMPLETED)
    for rating in (float("inf"), float("nan"), 2.5, "五", 0, 6):
        with pytest.raises(InvalidInput) as refusal:
            apply(order, Action.CONFIRM, by=world.reporter, params={"rating": rating})
        assert refusal.value.field == "rating"
    order.refresh_from_db()
    assert (order.status, order.rating) == (Status.COMPLETED, None)


def test_notes_with_a_nul_character_are_refused_as_input(world):
    # PostgreSQL cannot store NUL in text: without the check this was a database error (500).
    order = world.order(Status.IN_PROGRESS)
    with pytest.raises(InvalidInput) as refusal:
        apply(order, Action.PROGRESS, by=world.technician, params={"note": "坏\x00了"})
    assert refusal.value.field == "note"
    assert order.events.filter(code="workorder.progress").count() == 0


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (Status.IN_PROGRESS, Action.REQUEST_CHANGE),
        (Status.DISPATCHED, Action.URGE),
    ],
)
def test_the_system_does_not_act_as_a_person(world, status, action):
    # Found by the random walk: the system "requesting a change" crashed instead of refusing.
    order = world.order(status)
    assert action not in allowed_actions(order, SYSTEM)
    before = order.events.count()
    with pytest.raises(OrderError):
        apply(order, action, by=SYSTEM, params={"reason": "系统", "kind": "measures"})
    assert order.events.count() == before
