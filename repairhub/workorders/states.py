"""Work-order states, actions and the one transition table (architecture.md rule 2).

Pure Python: no models here. `lifecycle.py` applies the table; the UI and the API ask it which
actions a viewer may take. docs/workflows/workorders.md is drawn from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _

from repairhub.accounts.roles import Role


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("待受理")  # reported, nobody has taken it yet
    ACCEPTED = "accepted", _("已受理")  # within remit, waiting for a technician
    REJECTED = "rejected", _("已驳回")  # outside remit or impossible; reason sent to reporter
    DISPATCHED = "dispatched", _("已派工")  # a technician was chosen, he has not answered
    ACKNOWLEDGED = "acknowledged", _("已接单")  # the technician took it and is on his way
    IN_PROGRESS = "in_progress", _("维修中")  # on site, working
    ON_HOLD = "on_hold", _("挂起")  # waiting for parts, a quote or the customer
    COMPLETED = "completed", _("已完成")  # result recorded; awaiting confirmation or review
    CLOSED = "closed", _("已关闭")  # confirmed or reviewed; done
    CANCELLED = "cancelled", _("已取消")  # withdrawn before the work


TERMINAL = frozenset({Status.REJECTED, Status.CLOSED, Status.CANCELLED})
OPEN = frozenset(Status) - TERMINAL
WITH_TECHNICIAN = frozenset(
    {Status.DISPATCHED, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.ON_HOLD}
)


class Action(models.TextChoices):
    ACCEPT = "accept", _("受理")
    REJECT = "reject", _("驳回")
    DISPATCH = "dispatch", _("派工")
    REASSIGN = "reassign", _("改派")
    ACKNOWLEDGE = "acknowledge", _("接单")
    DECLINE = "decline", _("退单")
    ARRIVE = "arrive", _("到场")
    PROGRESS = "progress", _("记录进展")
    HOLD = "hold", _("挂起")
    RESUME = "resume", _("恢复维修")
    COMPLETE = "complete", _("完工")
    CONFIRM = "confirm", _("确认完成")
    CLOSE = "close", _("审核关闭")
    REOPEN = "reopen", _("重新打开")
    CANCEL = "cancel", _("取消")
    REQUEST_CHANGE = "request_change", _("申请变更")
    APPROVE_CHANGE = "approve_change", _("批准变更")
    REJECT_CHANGE = "reject_change", _("驳回变更")
    ESCALATE = "escalate", _("转专家")
    GUIDE = "guide", _("专家指导")
    TAKE_OVER = "take_over", _("专家接手")
    URGE = "urge", _("催单")


# Event code written for each action (the timeline's vocabulary).
EVENT_CODES = {
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
EVENT_SUBMITTED = "workorder.submitted"
EVENT_ATTACHMENT = "workorder.attachment_added"
EVENT_FOLLOWED = "workorder.followed"

# Labels of events that change no state and come from other apps (SLA breaches, reminders,
# supervision): each app adds its own at import, the timeline reads them here.
EVENT_LABELS: dict[str, str] = {}


class Relation(StrEnum):
    """How the actor must stand to the order, on top of holding the role."""

    ANY = "any"  # any order the role can see
    ASSIGNEE = "assignee"  # the technician the order is assigned to
    REPORTER = "reporter"  # the person who reported it (account or tracking link)
    TEAM_LEAD = "team_lead"  # lead of the assigned technician's team
    EXPERT = "expert"  # the expert the order is escalated to (DP4)


class Guard(StrEnum):
    """A condition on the order beyond its state; lifecycle.py evaluates it (409 when false)."""

    NO_PENDING_CHANGE = "no_pending_change"  # no change request awaits a decision
    PENDING_CHANGE = "pending_change"  # a change request awaits the dispatcher's decision
    EXPERT_NOT_ASSIGNEE = "expert_not_assignee"  # the expert has not taken the order over yet
    URGE_DUE = "urge_due"  # the reporter waited long enough and has urges left today (TM3)


@dataclass(frozen=True)
class Rule:
    action: Action
    sources: frozenset[Status]
    target: Status | None  # None: the state does not change (a note, say)
    who: tuple[tuple[str, Relation], ...]
    required: tuple[str, ...] = field(default=())
    guard: Guard | None = None


def _s(*states: Status) -> frozenset[Status]:
    return frozenset(states)


DESK = ((Role.AGENT, Relation.ANY), (Role.DISPATCHER, Relation.ANY), (Role.ADMIN, Relation.ANY))
DISPATCH_DESK = ((Role.DISPATCHER, Relation.ANY), (Role.ADMIN, Relation.ANY))
ASSIGNEE = ((Role.TECHNICIAN, Relation.ASSIGNEE), (Role.EXPERT, Relation.ASSIGNEE))
REPORTER = ((Role.REPORTER, Relation.REPORTER),)
EXPERT = ((Role.EXPERT, Relation.EXPERT),)
# A change request can be decided while a technician holds the order; leaving these states
# closes a pending one (lifecycle.apply).
CHANGE_DECIDABLE = WITH_TECHNICIAN
ESCALATABLE = frozenset({Status.ACCEPTED}) | WITH_TECHNICIAN
# A reporter may urge (催单) any order still waiting for its repair (TM3).
URGEABLE = OPEN - {Status.COMPLETED}

TRANSITIONS: tuple[Rule, ...] = (
    Rule(Action.ACCEPT, _s(Status.SUBMITTED), Status.ACCEPTED, DESK),
    Rule(Action.REJECT, _s(Status.SUBMITTED), Status.REJECTED, DESK, ("reason",)),
    Rule(Action.DISPATCH, _s(Status.ACCEPTED), Status.DISPATCHED, DISPATCH_DESK, ("technician",)),
    Rule(
        Action.REASSIGN,
        WITH_TECHNICIAN,
        Status.DISPATCHED,
        (*DISPATCH_DESK, (Role.TEAM_LEAD, Relation.TEAM_LEAD)),
        ("technician",),
    ),
    Rule(Action.ACKNOWLEDGE, _s(Status.DISPATCHED), Status.ACKNOWLEDGED, ASSIGNEE),
    Rule(
        Action.DECLINE,
        _s(Status.DISPATCHED, Status.ACKNOWLEDGED),
        Status.ACCEPTED,
        ASSIGNEE,
        ("reason",),
    ),
    Rule(Action.ARRIVE, _s(Status.ACKNOWLEDGED), Status.IN_PROGRESS, ASSIGNEE),
    Rule(
        Action.PROGRESS,
        _s(Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.ON_HOLD),
        None,
        ASSIGNEE,
        ("note",),
    ),
    Rule(Action.HOLD, _s(Status.IN_PROGRESS), Status.ON_HOLD, ASSIGNEE, ("reason",)),
    Rule(Action.RESUME, _s(Status.ON_HOLD), Status.IN_PROGRESS, ASSIGNEE),
    Rule(Action.COMPLETE, _s(Status.IN_PROGRESS), Status.COMPLETED, ASSIGNEE, ("result", "note")),
    Rule(Action.CONFIRM, _s(Status.COMPLETED), Status.CLOSED, REPORTER),
    Rule(Action.CLOSE, _s(Status.COMPLETED), Status.CLOSED, DISPATCH_DESK),
    Rule(
        Action.REOPEN,
        _s(Status.COMPLETED),
        Status.ACCEPTED,
        (*DISPATCH_DESK, *REPORTER),
        ("reason",),
    ),
    Rule(
        Action.CANCEL,
        _s(Status.SUBMITTED, Status.ACCEPTED),
        Status.CANCELLED,
        (*DESK, *REPORTER),
        ("reason",),
    ),
    Rule(
        Action.CANCEL,
        WITH_TECHNICIAN,
        Status.CANCELLED,
        DISPATCH_DESK,
        ("reason",),
    ),
    # Change requests (工单变更): the technician asks, the dispatcher decides.
    Rule(
        Action.REQUEST_CHANGE,
        _s(Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.ON_HOLD),
        None,
        ASSIGNEE,
        ("kind", "reason", "new_category/measures/new_due_at/extra_work"),
        Guard.NO_PENDING_CHANGE,
    ),
    Rule(Action.APPROVE_CHANGE, CHANGE_DECIDABLE, None, DISPATCH_DESK, (), Guard.PENDING_CHANGE),
    Rule(
        Action.REJECT_CHANGE,
        CHANGE_DECIDABLE,
        None,
        DISPATCH_DESK,
        ("reason",),
        Guard.PENDING_CHANGE,
    ),
    # Experts (DP4): escalate a complex order; the expert guides or takes it over.
    Rule(
        Action.ESCALATE,
        ESCALATABLE,
        None,
        (*ASSIGNEE, *DISPATCH_DESK, (Role.TEAM_LEAD, Relation.TEAM_LEAD)),
        ("expert", "reason"),
    ),
    Rule(Action.GUIDE, ESCALATABLE, None, EXPERT, ("note",)),
    Rule(
        Action.TAKE_OVER,
        ESCALATABLE,
        Status.ACKNOWLEDGED,
        EXPERT,
        (),
        Guard.EXPERT_NOT_ASSIGNEE,
    ),
    # Urging (催单, TM3): the state stays; the order is marked and the staff are told
    # (repairhub/supervision). How long to wait and how often: settings.SUPERVISION_URGE_*.
    Rule(Action.URGE, URGEABLE, None, REPORTER, (), Guard.URGE_DUE),
)


def rules_for(action: str) -> list[Rule]:
    return [r for r in TRANSITIONS if r.action == action]


def rule_for_state(action: str, status: str) -> list[Rule]:
    return [r for r in TRANSITIONS if r.action == action and status in r.sources]


class ReporterLabel(models.TextChoices):
    """The few plain words a reporter sees instead of the full state."""

    WAITING = "waiting", _("待受理")
    ACCEPTED = "accepted", _("已受理")
    REPAIRING = "repairing", _("维修中")
    TO_CONFIRM = "to_confirm", _("待评价")
    DONE = "done", _("已完成")
    REJECTED = "rejected", _("已驳回")
    CANCELLED = "cancelled", _("已取消")


REPORTER_LABELS = {
    Status.SUBMITTED: ReporterLabel.WAITING,
    Status.ACCEPTED: ReporterLabel.ACCEPTED,
    Status.DISPATCHED: ReporterLabel.REPAIRING,
    Status.ACKNOWLEDGED: ReporterLabel.REPAIRING,
    Status.IN_PROGRESS: ReporterLabel.REPAIRING,
    Status.ON_HOLD: ReporterLabel.REPAIRING,
    Status.COMPLETED: ReporterLabel.TO_CONFIRM,
    Status.CLOSED: ReporterLabel.DONE,
    Status.REJECTED: ReporterLabel.REJECTED,
    Status.CANCELLED: ReporterLabel.CANCELLED,
}
