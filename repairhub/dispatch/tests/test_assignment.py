"""Automatic, round-robin and pool dispatch through the real lifecycle (DP1, DP2)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from repairhub.accounts.roles import Role
from repairhub.dispatch import services
from repairhub.dispatch.models import DispatchMode, DispatchPolicy, Skill, TechnicianProfile
from repairhub.notify.models import Message, MessageChannel
from repairhub.testing.personas import make_user
from repairhub.workorders.errors import IllegalState, NotAllowed
from repairhub.workorders.lifecycle import apply
from repairhub.workorders.models import Event
from repairhub.workorders.states import Action, Status

pytestmark = pytest.mark.django_db

# A weekday morning in Shanghai, inside everyone's default hours (08:00–18:00).
MORNING = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture(autouse=True)
def _morning():
    with time_machine.travel(MORNING, tick=False):
        yield


def profile(user, *, skills, lat=None, lng=None, max_open=8, on_duty=True, zones=(), **kw):
    p = TechnicianProfile.objects.create(
        user=user,
        base_latitude=lat,
        base_longitude=lng,
        max_open_orders=max_open,
        on_duty=on_duty,
        **kw,
    )
    for category, level in skills:
        Skill.objects.create(technician=p, category=category, level=level)
    p.zones.set(zones)
    return p


def policy(category, mode, **kw):
    return DispatchPolicy.objects.create(category=category, mode=mode, **kw)


def accept(world, order):
    apply(order, Action.ACCEPT, by=world.agent)
    order.refresh_from_db()
    return order


def test_an_accepted_order_goes_to_the_nearest_qualified_technician(world):
    policy(world.category, DispatchMode.AUTO)
    # The building is at 30.5, 114.4: technician2 is 1 km away, technician about 11 km.
    profile(world.technician, skills=[(world.category, 3)], lat="30.600000", lng="114.400000")
    profile(world.technician2, skills=[(world.category, 3)], lat="30.509000", lng="114.400000")

    order = accept(world, world.order())

    assert order.status == Status.DISPATCHED
    assert order.assignee == world.technician2
    event = order.events.get(code="workorder.dispatched")
    assert event.actor_label == "系统"
    auto = event.data["auto"]
    assert auto["mode"] == "auto"
    assert auto["chosen"]["user_id"] == world.technician2.pk
    assert auto["chosen"]["distance_km"] == pytest.approx(1.0, abs=0.05)
    assert [c["user_id"] for c in auto["others"]] == [world.technician.pk]


def test_a_parent_category_skill_covers_its_children(world):
    policy(world.category, DispatchMode.AUTO)
    profile(world.technician2, skills=[(world.category.parent, 4)])
    order = accept(world, world.order())
    assert order.assignee == world.technician2


@pytest.mark.parametrize(
    "blocker",
    ["no_skill", "off_duty", "after_hours", "full"],
)
def test_hard_rules_keep_a_technician_out(world, blocker):
    other = world.category.parent.children.create(code="door", name="门窗")
    skills = [(other, 5)] if blocker == "no_skill" else [(world.category, 5)]
    kw = {}
    if blocker == "off_duty":
        kw["on_duty"] = False
    if blocker == "after_hours":
        kw["work_start"], kw["work_end"] = dt.time(14, 0), dt.time(22, 0)
    if blocker == "full":
        kw["max_open"] = 1
    profile(world.technician2, skills=skills, **kw)
    if blocker == "full":
        busy = world.order(Status.DISPATCHED, technician=world.technician2)
        assert busy.assignee == world.technician2
    policy(world.category, DispatchMode.AUTO)
    world.dispatcher.phone = "13900001111"  # he could be texted, but is not for this
    world.dispatcher.save(update_fields=["phone"])

    order = accept(world, world.order())

    assert order.status == Status.ACCEPTED and order.assignee is None
    waiting = order.events.get(code=services.EVENT_UNASSIGNED)
    assert waiting.data["reasons"]
    told = Message.objects.filter(
        user=world.dispatcher, cause=services.EVENT_UNASSIGNED, order_number=order.number
    )
    assert told.filter(channel=MessageChannel.IN_APP).exists()
    # No SMS per unassigned order: the queue shows it, and a storm would flood the duty phone.
    assert not told.filter(channel=MessageChannel.SMS).exists()


def test_a_night_shift_counts_across_midnight(world):
    policy(world.category, DispatchMode.AUTO)
    profile(
        world.technician2,
        skills=[(world.category, 3)],
        work_start=dt.time(20, 0),
        work_end=dt.time(8, 0),
    )
    late = dt.datetime(2026, 11, 23, 23, 30, tzinfo=MORNING.tzinfo)
    with time_machine.travel(late, tick=False):
        order = accept(world, world.order())
    assert order.assignee == world.technician2


def test_a_declined_order_goes_to_someone_else_automatically(world):
    policy(world.category, DispatchMode.AUTO)
    profile(world.technician, skills=[(world.category, 3)], lat="30.600000", lng="114.400000")
    profile(world.technician2, skills=[(world.category, 3)], lat="30.501000", lng="114.400000")
    order = accept(world, world.order())
    assert order.assignee == world.technician2

    apply(order, Action.DECLINE, by=world.technician2, params={"reason": "在外地"})
    order.refresh_from_db()

    assert order.status == Status.DISPATCHED
    assert order.assignee == world.technician
    # Declined again: nobody is left, so it waits for the dispatcher with the reason.
    apply(order, Action.DECLINE, by=world.technician, params={"reason": "缺配件"})
    order.refresh_from_db()
    assert order.status == Status.ACCEPTED
    reasons = order.events.filter(code=services.EVENT_UNASSIGNED).latest("id").data["reasons"]
    assert reasons == {"已退过此单": 2}


def test_a_declined_order_of_a_manual_category_is_offered_to_the_next_best(world):
    profile(world.technician2, skills=[(world.category, 3)])
    order = world.order(Status.DISPATCHED)
    apply(order, Action.DECLINE, by=world.technician, params={"reason": "不在片区"})
    order.refresh_from_db()
    assert (order.status, order.assignee) == (Status.DISPATCHED, world.technician2)
    # technician2 declines too: nobody is left, and a manual category just waits, quietly.
    apply(order, Action.DECLINE, by=world.technician2, params={"reason": "请假"})
    order.refresh_from_db()
    assert order.status == Status.ACCEPTED
    assert not order.events.filter(code=services.EVENT_UNASSIGNED).exists()


def test_manual_categories_wait_for_the_dispatcher(world):
    profile(world.technician2, skills=[(world.category, 3)])
    order = accept(world, world.order())
    assert order.status == Status.ACCEPTED
    assert not order.events.filter(code=services.EVENT_UNASSIGNED).exists()


def test_workload_weighted_by_urgency_tips_the_choice(world):
    profile(world.technician, skills=[(world.category, 3)], lat="30.500000", lng="114.400000")
    profile(world.technician2, skills=[(world.category, 3)], lat="30.500000", lng="114.400000")
    world.order(Status.DISPATCHED, technician=world.technician, urgency="critical")
    policy(world.category, DispatchMode.AUTO)
    order = accept(world, world.order())
    assert order.assignee == world.technician2


def test_candidates_rank_qualified_first_and_say_why_others_are_not(world):
    profile(world.technician, skills=[(world.category, 3)], on_duty=False)
    profile(world.technician2, skills=[(world.category, 5)])
    order = accept(world, world.order())

    ranked = services.candidates(order)

    assert [c.user_id for c in ranked] == [world.technician2.pk, world.technician.pk]
    assert ranked[0].qualifies
    assert ranked[1].refusals == ("不在岗",)


def test_round_robin_takes_turns_within_the_team(world):
    policy(world.category, DispatchMode.ROUND_ROBIN, team=world.team)
    for user in (world.technician, world.team_lead):
        profile(user, skills=[(world.category, 3)])
    outside = world.technician2  # not in the team: never chosen
    profile(outside, skills=[(world.category, 5)])

    chosen = [accept(world, world.order()).assignee for _ in range(4)]

    members = sorted([world.technician, world.team_lead], key=lambda u: u.pk)
    assert chosen == members * 2


def test_pool_orders_are_claimed_first_come_first_served(world):
    policy(world.category, DispatchMode.POOL)
    profile(world.technician, skills=[(world.category, 3)])
    profile(world.technician2, skills=[(world.category, 3)])
    order = accept(world, world.order())
    assert order.status == Status.ACCEPTED  # waits in the pool
    assert list(services.pool_orders(world.technician2)) == [order]

    services.claim(order, by=world.technician2)
    order.refresh_from_db()
    assert order.status == Status.ACKNOWLEDGED and order.assignee == world.technician2

    with pytest.raises(IllegalState):
        services.claim(order, by=world.technician)
    assert list(services.pool_orders(world.technician)) == []


def test_unqualified_technicians_cannot_claim(world):
    policy(world.category, DispatchMode.POOL)
    profile(world.technician2, skills=[(world.category, 3)], on_duty=False)
    order = accept(world, world.order())
    with pytest.raises(NotAllowed):
        services.claim(order, by=world.technician2)
    order.refresh_from_db()
    assert order.status == Status.ACCEPTED
    assert not Event.objects.filter(order=order, code="workorder.dispatched").exists()


def test_team_lead_rebalances_unacknowledged_orders(world):
    for user in (world.technician, world.team_lead):
        profile(user, skills=[(world.category, 3)])
    for _ in range(4):
        world.order(Status.DISPATCHED, technician=world.technician)

    moves = services.rebalance_team(world.team, by=world.team_lead)

    assert len(moves) == 2
    counts = {
        u: u.assigned_orders.filter(status=Status.DISPATCHED).count()
        for u in (world.technician, world.team_lead)
    }
    assert counts == {world.technician: 2, world.team_lead: 2}


def test_only_the_teams_lead_or_a_dispatcher_rebalances(world):
    stranger = make_user("lead2", Role.TEAM_LEAD, Role.TECHNICIAN)
    with pytest.raises(NotAllowed):
        services.rebalance_team(world.team, by=stranger)


def test_fresh_positions_beat_the_base_and_stale_ones_do_not(world, settings):
    settings.POSITION_STALE_MINUTES = 10
    policy(world.category, DispatchMode.AUTO)
    far = profile(world.technician, skills=[(world.category, 3)], lat="31.000000", lng="114.4")
    profile(world.technician2, skills=[(world.category, 3)], lat="30.550000", lng="114.4")
    far.last_latitude, far.last_longitude = "30.500500", "114.400000"
    far.last_position_at = timezone.now() - dt.timedelta(minutes=2)
    far.save()
    assert accept(world, world.order()).assignee == world.technician

    far.last_position_at = timezone.now() - dt.timedelta(minutes=30)
    far.save()
    assert accept(world, world.order()).assignee == world.technician2


def test_arrival_with_a_position_goes_on_the_track(world):
    from repairhub.dispatch.models import Position

    profile(world.technician, skills=[(world.category, 3)])
    order = world.order(Status.ACKNOWLEDGED)
    apply(order, Action.ARRIVE, by=world.technician, params={"lat": "30.5001", "lng": "114.4002"})
    spot = Position.objects.get(technician=world.technician)
    assert (float(spot.latitude), float(spot.longitude)) == (30.5001, 114.4002)
    TechnicianProfile.objects.filter(user=world.technician).update(on_duty=False)
    other = world.order(Status.ACKNOWLEDGED)
    apply(other, Action.ARRIVE, by=world.technician, params={"lat": "30.6", "lng": "114.5"})
    other.refresh_from_db()
    assert other.status == Status.IN_PROGRESS  # the arrival stands; the track does not move
    assert Position.objects.filter(technician=world.technician).count() == 1


def test_the_roster_follows_edits_made_here_and_in_other_processes(world):
    from django.db.models import F

    from repairhub.dispatch.models import RosterVersion

    p = profile(world.technician2, skills=[(world.category, 3)])
    order = accept(world, world.order())
    assert [c.user_id for c in services.candidates(order) if c.qualifies] == [world.technician2.pk]

    p.on_duty = False
    p.save()  # the admin's switch
    assert not services.candidates(order)[0].qualifies

    # Another server process edits and bumps the version; this one's memory is not told.
    TechnicianProfile.objects.filter(pk=p.pk).update(on_duty=True)
    assert not services.candidates(order)[0].qualifies  # same version: memory still used
    RosterVersion.objects.filter(pk=1).update(value=F("value") + 1)
    assert services.candidates(order)[0].qualifies


def test_what_was_read_in_a_transaction_that_rolled_back_is_not_kept(world):
    from django.db import transaction
    from django.db.models import F

    from repairhub.dispatch.models import RosterVersion

    p = profile(world.technician2, skills=[(world.category, 3)])
    order = accept(world, world.order())
    assert services.candidates(order)[0].qualifies

    # An edit here, read by this process inside its transaction, then rolled back ...
    with pytest.raises(RuntimeError), transaction.atomic():
        p.on_duty = False
        p.save()
        assert not services.candidates(order)[0].qualifies
        raise RuntimeError("rolled back")
    p.refresh_from_db()
    assert p.on_duty
    # ... and another process's edit that commits the same version number: the roster must be
    # read again, not taken from what the rolled-back transaction saw.
    RosterVersion.objects.filter(pk=1).update(value=F("value") + 1)
    assert services.candidates(order)[0].qualifies
    # A committed edit of this process's own is kept and followed as before.
    p.on_duty = False
    p.save()
    assert not services.candidates(order)[0].qualifies


def test_someone_who_went_off_duty_a_moment_ago_is_passed_over_under_the_lock(world):
    policy(world.category, DispatchMode.AUTO)
    near = profile(world.technician2, skills=[(world.category, 3)], lat="30.509", lng="114.4")
    profile(world.technician, skills=[(world.category, 3)], lat="30.600", lng="114.4")
    first = accept(world, world.order())
    assert first.assignee == world.technician2  # the roster is now kept in this process

    # He signs off while this process still ranks by the roster it read (no version bump
    # reached it yet): the lock reads his profile as it is and the next one gets the order.
    TechnicianProfile.objects.filter(pk=near.pk).update(on_duty=False)
    second = accept(world, world.order())
    assert second.assignee == world.technician
    # Likewise an account switched off.
    TechnicianProfile.objects.filter(pk=near.pk).update(on_duty=True)
    type(world.technician2).objects.filter(pk=world.technician2.pk).update(is_active=False)
    third = accept(world, world.order())
    assert third.assignee == world.technician


def test_a_building_given_new_coordinates_counts_at_the_next_assignment(world):
    profile(world.technician, skills=[(world.category, 3)], lat="30.600000", lng="114.400000")
    profile(world.technician2, skills=[(world.category, 3)], lat="30.509000", lng="114.400000")
    order = accept(world, world.order())  # a category dispatched by hand: it waits
    assert services.candidates(order)[0].user_id == world.technician2.pk

    # The room has no coordinates of its own: its building's are kept in memory until a
    # place is saved.
    building = world.room.parent.parent
    building.latitude = building.longitude = None
    building.save()
    assert [c.distance_km for c in services.candidates(order)] == [None, None]
    building.latitude, building.longitude = "30.600000", "114.400000"
    building.save()
    assert services.candidates(order)[0].user_id == world.technician.pk


def test_signing_in_does_not_reload_the_roster(world, client):
    from repairhub.dispatch.services import roster_version

    profile(world.technician2, skills=[(world.category, 3)])
    before = roster_version()
    client.post("/accounts/login/", {"username": "technician2", "password": "pass-technician2"})
    assert roster_version() == before


def test_the_lock_reads_the_technicians_account_and_team_as_the_orm_does(world):
    from django.db import transaction

    from repairhub.accounts.models import User

    for user in (world.technician, world.technician2):  # in a team, and in none
        profile(user, skills=[(world.category, 3)], max_open=4)
        with transaction.atomic():
            on_duty, max_open, *account = services._LOCK_PROFILE.rows(user=user.pk)[0]
        tech = services._account(account)
        orm = User.objects.select_related("team").get(pk=user.pk)

        assert (on_duty, max_open) == (True, 4)
        assert [getattr(tech, f.attname) for f in User._meta.concrete_fields] == [
            getattr(orm, f.attname) for f in User._meta.concrete_fields
        ]
        assert tech.phone == orm.phone and not tech._state.adding
        assert tech._state.fields_cache["team"] == orm.team  # no query for his team
        if orm.team is not None:
            assert tech.team.lead_id == orm.team.lead_id
