"""Walk an order to any state through the real lifecycle (demo data and test personas).

The shortest path from `submitted` to each state, as steps of (action, who, resulting state);
every step goes through `lifecycle.apply`, so the order gets the same events and outbox rows a
person's clicks would give it. Nothing here bypasses a guard.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from .actors import LinkHolder
from .lifecycle import apply
from .models import Result, WorkOrder
from .states import Action, Status

TECH = "@tech"  # stands for the technician the walk dispatches to
REPORTER = "reporter"  # the reporter's account, or his tracking link when he has none

# Default texts, overridable per action with `params`.
DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    Action.REJECT: {"reason": _("不属于后勤维修范围")},
    Action.CANCEL: {"reason": _("重复报修")},
    Action.HOLD: {"reason": _("等配件")},
    Action.COMPLETE: {"note": _("换了灯管")},
}
DEFAULT_FAILED_SUGGESTION = _("设备已无法修复，建议申请更换")


@dataclass(frozen=True)
class Step:
    action: str
    who: str  # a key of `actors`, TECH or REPORTER
    to: Status  # the state the step leaves the order in


def path_to(status: str, *, rated: bool = False) -> list[Step]:
    """The steps from `submitted` to `status`; a rated closure is the reporter's confirmation."""
    status = Status(status)
    if status is Status.SUBMITTED:
        return []
    if status is Status.ACCEPTED:
        return [Step(Action.ACCEPT, "agent", status)]
    if status is Status.REJECTED:
        return [Step(Action.REJECT, "agent", status)]
    if status is Status.CANCELLED:
        return [Step(Action.CANCEL, "agent", status)]
    previous, last = {
        Status.DISPATCHED: (Status.ACCEPTED, Step(Action.DISPATCH, "dispatcher", status)),
        Status.ACKNOWLEDGED: (Status.DISPATCHED, Step(Action.ACKNOWLEDGE, TECH, status)),
        Status.IN_PROGRESS: (Status.ACKNOWLEDGED, Step(Action.ARRIVE, TECH, status)),
        Status.ON_HOLD: (Status.IN_PROGRESS, Step(Action.HOLD, TECH, status)),
        Status.COMPLETED: (Status.IN_PROGRESS, Step(Action.COMPLETE, TECH, status)),
        Status.CLOSED: (
            Status.COMPLETED,
            Step(Action.CONFIRM, REPORTER, status)
            if rated
            else Step(Action.CLOSE, "dispatcher", status),
        ),
    }[status]
    return [*path_to(previous), last]


def remaining_steps(current: str, status: str, *, rated: bool = False) -> list[Step]:
    """The part of the walk still ahead of an order in `current` (an auto-accepted order skips
    acceptance). ValueError when `current` is not on the way to `status`."""
    steps = path_to(status, rated=rated)
    visited = [Status.SUBMITTED, *(s.to for s in steps)]
    if current not in visited:
        raise ValueError(f"no walk from {current} to {status}")
    start = len(visited) - 1 - visited[::-1].index(Status(current))
    return steps[start:]


def walk_to(
    order: WorkOrder,
    status: str,
    *,
    actors: Mapping[str, Any],
    technician,
    result: str = Result.SUCCESS,
    rating: int | None = None,
    comment: str = "",
    params: Mapping[str, Mapping[str, Any]] | None = None,
    channel: str = "web",
) -> WorkOrder:
    """Bring an order from where it is to `status`; returns the same (refreshed) order.

    `actors` maps "agent" and "dispatcher" (and optionally "reporter") to users; `technician`
    is whom the order is dispatched to. `result` chooses how a completed order ended; a
    `rating` closes it by the reporter's confirmation instead of the dispatcher's review.
    `params` overrides the default texts per action ({"reject": {"reason": "…"}}).
    """
    overrides = params or {}
    for step in remaining_steps(order.status, status, rated=rating is not None):
        # Texts are stored in the event: resolve them in the language active now.
        step_params: dict[str, Any] = {
            k: str(v) for k, v in DEFAULT_PARAMS.get(step.action, {}).items()
        }
        if step.action == Action.DISPATCH:
            step_params["technician"] = technician
        elif step.action == Action.COMPLETE:
            step_params["result"] = result
            if result == Result.FAILED:
                step_params["suggestion"] = str(DEFAULT_FAILED_SUGGESTION)
        elif step.action == Action.CONFIRM:
            step_params.update(rating=rating, comment=comment)
        step_params.update(overrides.get(step.action, {}))
        apply(
            order,
            step.action,
            by=_actor(order, step.who, actors, technician),
            params=step_params,
            channel=channel,
        )
    if order.status != status:
        raise RuntimeError(f"walk ended in {order.status}, not {status}")
    return order


def _actor(order: WorkOrder, who: str, actors: Mapping[str, Any], technician):
    if who == TECH:
        return technician
    if who == REPORTER:
        if REPORTER in actors:
            return actors[REPORTER]
        if order.reporter_id:
            return order.reporter
        return LinkHolder(order.tracking_token)
    return actors[who]
