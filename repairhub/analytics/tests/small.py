"""A handful of orders with known numbers, for page, API and appraisal tests."""

from __future__ import annotations

from datetime import date

from repairhub.testing.personas import World
from repairhub.workorders.models import Channel, Result, WorkOrder

from .history import REPORTER, Story, local, tell

DAY = date(2026, 5, 4)  # a Monday


def repaired(
    world: World,
    day: date = DAY,
    *,
    technician=None,
    hours: float = 5,
    rating: int | None = 5,
    result: str = Result.SUCCESS,
    channel: str = Channel.WEB,
    close: bool = True,
) -> WorkOrder:
    """Reported at 9:00, accepted 9:10, dispatched 9:30, arrived 10:30, completed `hours` after
    the report, then (unless `close` is False) confirmed with `rating`, or without one closed by
    the dispatcher, a day later."""
    tech = technician or world.technician
    done = hours * 60
    params = {"result": result, "note": "处理完毕"}
    if result == Result.FAILED:
        params["suggestion"] = "建议更换"
    steps = [
        (10, "accept", world.agent, {}),
        (30, "dispatch", world.dispatcher, {"technician": tech}),
        (40, "acknowledge", tech, {}),
        (90, "arrive", tech, {}),
        (done, "complete", tech, params),
    ]
    if not close:
        pass
    elif rating is not None:
        steps.append((done + 24 * 60, "confirm", REPORTER, {"rating": rating, "comment": ""}))
    else:
        steps.append((done + 24 * 60, "close", world.dispatcher, {}))
    desk = channel in (Channel.PHONE, Channel.WALK_IN)
    story = Story(
        reported=local(day, 9),
        category=world.category,
        channel=channel,
        place=world.room,
        agent=world.agent if desk else None,
        steps=steps,
    )
    return tell(story, world)


def waiting(world: World, day: date = DAY) -> WorkOrder:
    return tell(Story(reported=local(day, 9), category=world.category, place=world.room), world)
