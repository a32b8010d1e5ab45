"""Follow-up visits (回访, FQ2): scheduled when an order is completed or rejected, due N
working days later; the agent records the result; what is still broken, and rejections the
reporter disputes, go to management as referrals that close only with an action."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from repairhub.accounts.models import User
from repairhub.accounts.roles import Role
from repairhub.notify.outbox import post
from repairhub.sla.calendar import add_working_time
from repairhub.sla.defaults import WORKING_DAY, WORKING_HOURS_CALENDAR
from repairhub.workorders.errors import IllegalState
from repairhub.workorders.lifecycle import record_event
from repairhub.workorders.models import WorkOrder
from repairhub.workorders.states import Status

from .. import texts
from ..models import FollowUp, Referral, Visit
from ..states import (
    EVENT_REFERRAL_CLOSED,
    EVENT_REFERRED,
    EVENT_VISITED,
    FollowUpKind,
    FollowUpStatus,
    ReferralStatus,
)
from .common import DESK, MANAGEMENT, clean_bool, clean_text, require_role

# Orders that may be visited: the work is over, one way or the other.
VISITABLE = (Status.COMPLETED, Status.CLOSED, Status.REJECTED)


def visit_due_at(finished_at: datetime) -> datetime:
    """N working days (FEEDBACK_VISIT_WORKING_DAYS) of working time after `finished_at`."""
    duration = WORKING_DAY * settings.FEEDBACK_VISIT_WORKING_DAYS
    due = add_working_time(WORKING_HOURS_CALENDAR, finished_at, duration)
    assert due is not None  # no pauses: the clock always reaches the duration
    return due


def schedule_follow_up(order: WorkOrder, *, at: datetime | None = None) -> FollowUp:
    """(Re)schedule the order's follow-up after it was completed or rejected at `at`."""
    at = at or timezone.now()
    kind = FollowUpKind.REJECTED if order.status == Status.REJECTED else FollowUpKind.COMPLETED
    follow_up, _created = FollowUp.objects.update_or_create(
        order=order,
        defaults={
            "kind": kind,
            "status": FollowUpStatus.PENDING,
            "due_at": visit_due_at(at),
            "attempts": 0,
            "closed_at": None,
        },
    )
    return follow_up


def on_order_event(event) -> None:
    """Subscriber (workorders/subscribers.py): a completion or a rejection schedules a visit."""
    if event.code in ("workorder.completed", "workorder.rejected"):
        schedule_follow_up(event.order, at=event.created_at)


def schedule_missing(now: datetime | None = None, *, days: int = 30) -> int:
    """Catch-up for orders finished in the last `days` without a follow-up (e.g. before this
    app was subscribed); the subscriber does it at once otherwise. Returns how many."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    missing = (
        WorkOrder.objects.filter(
            status__in=VISITABLE, follow_up__isnull=True, updated_at__gte=since
        )
        .only("pk", "status", "completed_at", "updated_at")
        .order_by("id")[:500]
    )
    count = 0
    for order in missing:
        finished = order.completed_at if order.status != Status.REJECTED else order.updated_at
        schedule_follow_up(order, at=finished or order.updated_at)
        count += 1
    return count


def _follow_up_for(order: WorkOrder, now: datetime) -> FollowUp:
    follow_up = FollowUp.objects.filter(order=order).first()
    if follow_up is None or follow_up.status != FollowUpStatus.PENDING:
        raise IllegalState(
            _("工单 %(number)s 没有待回访的记录。") % {"number": order.number}, code="not_due"
        )
    if order.status not in VISITABLE:
        raise IllegalState(
            _("工单 %(number)s 正在处理中（%(status)s），处理完后才能回访。")
            % {"number": order.number, "status": Status(order.status).label},
            code="not_due",
        )
    if follow_up.due_at > now:
        raise IllegalState(
            _("工单 %(number)s 还没到回访时间：%(time)s 起才能回访。")
            % {
                "number": order.number,
                "time": timezone.localtime(follow_up.due_at).strftime("%Y-%m-%d %H:%M"),
            },
            code="not_due",
        )
    return follow_up


def record_visit(
    order: WorkOrder,
    *,
    by,
    reached: Any,
    fixed: Any = None,
    satisfied: Any = None,
    disputes: Any = None,
    notes: str = "",
    channel: str = "web",
) -> Visit:
    """The agent records one follow-up call.

    Not reached: the visit stays in the queue until FEEDBACK_VISIT_MAX_ATTEMPTS calls failed.
    Reached: whether it is fixed (completed orders) or whether the reporter disputes the
    rejection (rejected ones), and whether he is satisfied. Not fixed, or a disputed
    rejection, is referred to management.
    """
    require_role(by, *DESK, message=_("只有值班员、调度员或主管可以记录回访。"))
    now = timezone.now()
    follow_up = _follow_up_for(order, now)
    was_reached = clean_bool(reached, field="reached", question=_("是否联系上报修人"))
    text = clean_text(notes, field="notes", label=_("回访记录"))
    answers: dict[str, bool | None] = {"fixed": None, "satisfied": None, "disputes": None}
    if was_reached:
        if follow_up.kind == FollowUpKind.COMPLETED:
            answers["fixed"] = clean_bool(fixed, field="fixed", question=_("问题是否已解决"))
        else:
            answers["disputes"] = clean_bool(
                disputes, field="disputes", question=_("报修人是否对驳回有异议")
            )
        answers["satisfied"] = clean_bool(
            satisfied, field="satisfied", question=_("报修人是否满意")
        )
    with transaction.atomic():
        locked = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        if locked.status != FollowUpStatus.PENDING:
            raise IllegalState(_("该回访已由他人记录，请刷新后查看。"), code="not_due")
        visit = Visit.objects.create(
            follow_up=locked, by=by, reached=was_reached, notes=text, created_at=now, **answers
        )
        if was_reached:
            locked.status = FollowUpStatus.DONE
            locked.closed_at = now
        else:
            locked.attempts += 1
            if locked.attempts >= settings.FEEDBACK_VISIT_MAX_ATTEMPTS:
                locked.status = FollowUpStatus.UNREACHED
                locked.closed_at = now
        locked.save(update_fields=["status", "closed_at", "attempts"])
        record_event(
            order,
            EVENT_VISITED,
            data={"visit": visit.pk, "reached": was_reached, **answers, "notes": text},
            by=by,
            channel=channel,
        )
        reason = _referral_reason(order, answers, text)
        if reason:
            _refer(order, visit, reason, by=by, channel=channel)
    return visit


def _referral_reason(order: WorkOrder, answers: dict, notes: str) -> str:
    if answers["fixed"] is False:
        reason = _("回访时报修人反映问题仍未解决。")
    elif answers["disputes"] is True:
        reason = _("报修人对驳回有异议。")
    else:
        return ""
    return f"{reason}{notes}" if notes else reason


def _refer(order: WorkOrder, visit: Visit, reason: str, *, by, channel: str) -> Referral:
    referral = Referral.objects.create(order=order, visit=visit, reason=reason)
    record_event(
        order,
        EVENT_REFERRED,
        data={"referral": referral.pk, "reason": reason},
        by=by,
        channel=channel,
    )
    managers = User.objects.filter(is_active=True, role_grants__role=Role.MANAGER).distinct()
    post(list(managers), texts.REFERRAL, {"number": order.number, "reason": reason}, order=order)
    return referral


def close_referral(referral: Referral, *, by, action: str, channel: str = "web") -> Referral:
    """Management closes a referral, saying what was done about it."""
    require_role(by, *MANAGEMENT, message=_("只有主管或管理员可以处理上报事项。"))
    text = clean_text(action, field="action", label=_("处理措施"), required=True)
    now = timezone.now()
    with transaction.atomic():
        closed = Referral.objects.filter(pk=referral.pk, status=ReferralStatus.OPEN).update(
            status=ReferralStatus.CLOSED, action=text, closed_by=by, closed_at=now
        )
        if closed != 1:
            raise IllegalState(_("该上报事项已处理。"), code="already_closed")
        referral.refresh_from_db()
        record_event(
            referral.order,
            EVENT_REFERRAL_CLOSED,
            data={"referral": referral.pk, "action": text},
            by=by,
            channel=channel,
        )
    return referral
