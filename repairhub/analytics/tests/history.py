"""A generated order history with chosen timestamps, made through the real services.

Each order is created and moved with `create_order` and `lifecycle.apply` while the clock is
held at the step's time (time_machine), so rows and events are what real clicks would leave.
`Campus` adds the people, categories and places the figures split by.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from repairhub.accounts.models import Team, User
from repairhub.accounts.roles import Role
from repairhub.places.models import Asset, Place, PlaceKind
from repairhub.places.services import create_place
from repairhub.testing.personas import World, make_category, make_room, make_user
from repairhub.workorders.actors import LinkHolder
from repairhub.workorders.lifecycle import apply
from repairhub.workorders.models import Category, ChangeKind, Channel, Result, WorkOrder
from repairhub.workorders.services import create_order

TZ = ZoneInfo("Asia/Shanghai")
REPORTER = "reporter"  # stands for the order's reporter (his account or tracking link)
EXTEND = "extend_minutes"  # a deadline change: minutes past the order's deadline at the time


def local(d: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.combine(d, time(hour, minute), tzinfo=TZ)


@dataclass
class Campus:
    world: World
    agents: list[User]
    dispatchers: list[User]
    technicians: list[User]
    categories: list[Category]
    rooms: list[Place]
    team2: Team


def make_campus(world: World) -> Campus:
    team2 = Team.objects.create(code="water-b", name="水暖二班")
    tech3 = make_user("technician3", Role.TECHNICIAN, team=team2)
    power = Category.objects.get(code="power")
    water, _ = Category.objects.get_or_create(code="water", defaults={"name": "给排水"})
    categories = [
        world.category,
        make_category("socket", parent=power, name="插座"),
        make_category("pipe", parent=water, name="水管"),
    ]
    west = create_place(kind=PlaceKind.CAMPUS, code="W", name="西校区")
    w01 = create_place(kind=PlaceKind.BUILDING, code="W01", name="1号楼", parent=west)
    floor = create_place(kind=PlaceKind.FLOOR, code="W01-1F", name="1层", parent=w01)
    w_room = create_place(kind=PlaceKind.ROOM, code="W01-101", name="101", parent=floor)
    return Campus(
        world=world,
        agents=[world.agent, make_user("agent2", Role.AGENT)],
        dispatchers=[world.dispatcher, make_user("dispatcher2", Role.DISPATCHER)],
        technicians=[world.technician, world.technician2, world.team_lead, tech3],
        categories=categories,
        rooms=[world.room, make_room("E03-305"), w_room],
        team2=team2,
    )


@dataclass
class Story:
    """One order: how it was reported, then (minutes after the report, action, who, params)."""

    reported: datetime
    category: Category
    channel: str = Channel.WEB
    place: Place | None = None
    asset: Asset | None = None  # the order is then at the asset's place
    agent: User | None = None
    received_early_minutes: int = 0
    steps: list[tuple[float, str, Any, dict]] = field(default_factory=list)


def tell(story: Story, world: World) -> WorkOrder:
    desk = story.channel in (Channel.PHONE, Channel.WALK_IN)
    with time_machine.travel(story.reported, tick=False):
        order, _ = create_order(
            category=story.category,
            place=story.place,
            asset=story.asset,
            address="" if story.place or story.asset else "校外家属区 3 栋",
            description="故障",
            reporter_name="张三",
            reporter_phone="13800001111",
            channel=story.channel,
            reporter=None if desk else world.reporter,
            by=story.agent if desk else world.reporter,
            received_at=story.reported - timedelta(minutes=story.received_early_minutes),
        )
    for minutes, action, who, params in story.steps:
        if who == REPORTER:
            who = order.reporter or LinkHolder(order.tracking_token)
        if EXTEND in params:
            order.refresh_from_db(fields=["due_at"])
            due = order.due_at + timedelta(minutes=params[EXTEND])
            params = {**{k: v for k, v in params.items() if k != EXTEND}, "new_due_at": due}
        with time_machine.travel(story.reported + timedelta(minutes=minutes), tick=False):
            apply(order, action, by=who, params=params)
    return order


def _repair(rng: random.Random, c: Campus, t: float, tech: User, *, deadline=True):
    """Steps from dispatch onwards for one visit of `tech`; returns (steps, end time)."""
    steps: list[tuple[float, str, Any, dict]] = []
    t += rng.randint(5, 90)
    steps.append((t, "acknowledge", tech, {}))
    if deadline and rng.random() < 0.45:
        # The deadline extended by an approved change request (延长时限): some hours past the
        # SLA deadline the order has by then (`tell` adds them to it).
        t += 1
        params = {"kind": ChangeKind.DEADLINE, "reason": "等配件", EXTEND: rng.randint(60, 48 * 60)}
        steps.append((t, "request_change", tech, params))
        t += 2
        steps.append((t, "approve_change", rng.choice(c.dispatchers), {}))
    t += rng.randint(10, 300)
    steps.append((t, "arrive", tech, {}))
    # Most repairs take minutes to two days; one in five drags on for days (waiting for parts),
    # past the SLA deadline (normal urgency: three working days).
    t += rng.randint(15, 2 * 24 * 60) if rng.random() < 0.8 else rng.randint(3 * 1440, 9 * 1440)
    result = Result.SUCCESS if rng.random() < 0.85 else Result.FAILED
    params = {"result": result, "note": "处理完毕"}
    if result == Result.FAILED:
        params["suggestion"] = "建议更换"
    steps.append((t, "complete", tech, params))
    return steps, t


def random_story(rng: random.Random, c: Campus, day: date) -> Story:
    channel = rng.choice([Channel.WEB, Channel.WEB, Channel.QR, Channel.PHONE, Channel.WALK_IN])
    desk = channel in (Channel.PHONE, Channel.WALK_IN)
    reported = local(day, rng.randint(0, 23), rng.randint(0, 59))
    story = Story(
        reported=reported,
        category=rng.choice(c.categories),
        channel=channel,
        place=rng.choice([*c.rooms, *c.rooms, None]),
        agent=rng.choice(c.agents) if desk else None,
        received_early_minutes=rng.randint(0, 20) if desk else 0,
    )
    fate = rng.random()
    desk_person = story.agent or rng.choice(c.agents)
    if fate < 0.08:
        return story  # still waiting
    t = float(rng.randint(2, 240))
    if fate < 0.13:
        story.steps.append((t, "reject", desk_person, {"reason": "不属于维修范围"}))
        return story
    if fate < 0.17:
        story.steps.append((t, "cancel", desk_person, {"reason": "重复报修"}))
        return story
    story.steps.append((t, "accept", desk_person, {}))
    if fate < 0.24:
        return story
    tech = rng.choice(c.technicians)
    t += rng.randint(3, 600)
    story.steps.append((t, "dispatch", rng.choice(c.dispatchers), {"technician": tech}))
    if rng.random() < 0.12:
        # Declined, then dispatched again (by someone else, to someone else).
        t += rng.randint(5, 60)
        story.steps.append((t, "decline", tech, {"reason": "不在岗"}))
        tech = rng.choice([x for x in c.technicians if x != tech])
        t += rng.randint(5, 120)
        story.steps.append((t, "dispatch", rng.choice(c.dispatchers), {"technician": tech}))
    if fate < 0.30:
        story.steps.append((t + 5, "acknowledge", tech, {}))
        return story
    steps, t = _repair(rng, c, t, tech)
    story.steps += steps
    if rng.random() < 0.12:
        # Reopened by the dispatcher (rework), repaired again by another technician.
        t += rng.randint(30, 24 * 60)
        story.steps.append((t, "reopen", rng.choice(c.dispatchers), {"reason": "仍然不亮"}))
        tech = rng.choice(c.technicians)
        t += rng.randint(5, 120)
        story.steps.append((t, "dispatch", rng.choice(c.dispatchers), {"technician": tech}))
        steps, t = _repair(rng, c, t, tech, deadline=False)
        story.steps += steps
    end = rng.random()
    t += rng.randint(30, 3 * 24 * 60)
    if end < 0.6:
        rating = rng.choice([1, 3, 4, 4, 5, 5, 5])
        story.steps.append((t, "confirm", REPORTER, {"rating": rating, "comment": ""}))
    elif end < 0.85:
        story.steps.append((t, "close", rng.choice(c.dispatchers), {}))
    return story


def generate(c: Campus, *, first: date, days: int, orders: int, seed: int = 7) -> list[WorkOrder]:
    """`orders` random orders reported over `days` days from `first`, the same for a seed."""
    rng = random.Random(seed)
    stories = [
        random_story(rng, c, first + timedelta(days=rng.randrange(days))) for _ in range(orders)
    ]
    return [tell(s, c.world) for s in stories]
