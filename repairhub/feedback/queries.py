"""Read models for the feedback pages and the API: queues, lists, rates."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Avg, Case, Count, IntegerField, QuerySet, Value, When
from django.utils import timezone

from repairhub.workorders.models import Event, Result, WorkOrder
from repairhub.workorders.states import EVENT_CODES, Action, Status

from .models import FollowUp, QcCheck, Rating, Referral, Rework
from .services.quality import _day_start
from .services.visits import VISITABLE
from .states import CheckStatus, FollowUpStatus, ReferralStatus

FOLLOW_UP_RELATED = (
    "order",
    "order__category",
    "order__category__parent",
    "order__place",
    "order__assignee",
    "order__registered_by",
)


def _has_urges() -> bool:
    """WorkOrder.urge_count arrives with reminders and urging (TM3); read it when present."""
    try:
        WorkOrder._meta.get_field("urge_count")
    except FieldDoesNotExist:
        return False
    return True


def follow_up_queue(now: datetime | None = None) -> QuerySet[FollowUp]:
    """Visits due now: failed repairs first, then low ratings, urged orders, rejections, then
    the rest, each by how long it has been due."""
    now = now or timezone.now()
    tiers = [
        When(order__result=Result.FAILED, then=Value(0)),
        When(order__rating__lte=settings.FEEDBACK_LOW_RATING, then=Value(1)),
    ]
    if _has_urges():
        tiers.append(When(order__urge_count__gt=0, then=Value(2)))
    tiers.append(When(order__status=Status.REJECTED, then=Value(3)))
    return (
        FollowUp.objects.filter(
            status=FollowUpStatus.PENDING, due_at__lte=now, order__status__in=VISITABLE
        )
        .select_related(*FOLLOW_UP_RELATED)
        .annotate(tier=Case(*tiers, default=Value(9), output_field=IntegerField()))
        .order_by("tier", "due_at", "id")
    )


def follow_up_flags(follow_up: FollowUp) -> list[str]:
    """Why a visit is near the top (a rejection shows in the order's state), in words."""
    from django.utils.translation import gettext as _

    order = follow_up.order
    flags = []
    if order.result == Result.FAILED:
        flags.append(_("维修失败"))
    if order.rating is not None and order.rating <= settings.FEEDBACK_LOW_RATING:
        flags.append(_("低评分 %(n)d 星") % {"n": order.rating})
    if getattr(order, "urge_count", 0):
        flags.append(_("催单 %(n)d 次") % {"n": order.urge_count})
    if follow_up.attempts:
        flags.append(_("未接通 %(n)d 次") % {"n": follow_up.attempts})
    return flags


def open_referrals() -> QuerySet[Referral]:
    return (
        Referral.objects.filter(status=ReferralStatus.OPEN)
        .select_related("order", "order__category", "order__category__parent", "visit__by")
        .order_by("created_at", "id")
    )


def check_queue() -> QuerySet[QcCheck]:
    """Pending quality checks: targeted ones first, then the oldest draw."""
    return (
        QcCheck.objects.filter(status=CheckStatus.PENDING)
        .select_related(
            "order",
            "order__category",
            "order__category__parent",
            "order__place",
            "technician",
            "draw",
        )
        .order_by("created_at", "id")
    )


# --- rates ----------------------------------------------------------------------------------------


@dataclass
class ReworkRate:
    key: str
    name: str
    completed: int
    reworked: int

    @property
    def rate(self) -> Decimal:
        if not self.completed:
            return Decimal("0.0")
        return (Decimal(self.reworked) * 100 / self.completed).quantize(Decimal("0.1"))


def rework_rates(start: date, end: date, *, by: str = "technician") -> list[ReworkRate]:
    """Share of the work done in [start, end) that had to be done again, per technician or per
    category. Work done: an order a technician completed (once per order and technician).
    Done again: reopened afterwards (by the reporter, a dispatcher or a failed check) or linked
    as the original of a rework under warranty."""
    if by not in ("technician", "category"):
        raise ValueError(by)
    since, until = _day_start(start), _day_start(end)
    completed = Event.objects.filter(
        code=EVENT_CODES[Action.COMPLETE], created_at__gte=since, created_at__lt=until
    ).exclude(actor=None)
    done = set(completed.values_list("order_id", "actor_id"))
    order_ids = {order_id for order_id, _actor in done}
    orders = {
        o.pk: o
        for o in WorkOrder.objects.filter(pk__in=order_ids).select_related(
            "category", "category__parent"
        )
    }
    from repairhub.accounts.models import User

    usernames = dict(
        User.objects.filter(pk__in={a for _o, a in done}).values_list("username", "pk")
    )
    by_name = {pk: name for name, pk in usernames.items()}
    again: set[tuple[int, int]] = set()
    for order_id, data in Event.objects.filter(
        code=EVENT_CODES[Action.REOPEN], order_id__in=order_ids
    ).values_list("order_id", "data"):
        technician = usernames.get((data or {}).get("technician", ""))
        if technician is not None:
            again.add((order_id, technician))
    again |= set(
        Rework.objects.filter(original_id__in=order_ids)
        .exclude(technician=None)
        .values_list("original_id", "technician_id")
    )
    totals: dict[str, list] = defaultdict(lambda: ["", 0, 0])
    for order_id, actor_id in done:
        order = orders[order_id]
        key, name = (
            (by_name.get(actor_id, str(actor_id)), "")
            if by == "technician"
            else (order.category.code, str(order.category))
        )
        row = totals[key]
        row[0] = name
        row[1] += 1
        row[2] += (order_id, actor_id) in again
    rows = [ReworkRate(key, name, n, r) for key, (name, n, r) in totals.items()]
    if by == "technician":
        names = dict(
            User.objects.filter(username__in=[r.key for r in rows]).values_list(
                "username", "display_name"
            )
        )
        for row in rows:
            row.name = names.get(row.key) or row.key
    return sorted(rows, key=lambda r: (-r.rate, r.key))


def satisfaction(start: date, end: date) -> list[dict]:
    """Average scores per technician for ratings given in [start, end) (automatic
    confirmations are not ratings and never appear here)."""
    return list(
        Rating.objects.filter(created_at__gte=_day_start(start), created_at__lt=_day_start(end))
        .exclude(technician=None)
        .values("technician__username", "technician__display_name")
        .annotate(
            n=Count("id"),
            overall=Avg("overall"),
            timeliness=Avg("timeliness"),
            quality=Avg("quality"),
            attitude=Avg("attitude"),
            result=Avg("result"),
        )
        .order_by("-overall", "technician__username")
    )


# --- the follow-up page ---------------------------------------------------------------------------


@dataclass
class VisitRow:
    follow_up: FollowUp
    flags: list[str]
    script: str
    history: list[Event]
    failed: dict | None = None  # a refused visit on this row: its message and the values sent


def visit_script(follow_up: FollowUp, reject_reason: str = "") -> str:
    """What the agent says on the phone, for this kind of visit."""
    from django.utils.translation import gettext as _

    order = follow_up.order
    values = {
        "date": timezone.localtime(order.created_at).strftime("%m月%d日"),
        "category": order.category.name,
        "number": order.number,
        "technician": order.assignee.name if order.assignee_id else _("维修人员"),
        "suggestion": order.suggestion or _("无"),
        "reason": reject_reason or _("不属于维修范围"),
    }
    if order.status == Status.REJECTED:
        return (
            _(
                "您好，我是后勤服务中心的回访员。您%(date)s的报修（单号 %(number)s）因“%(reason)s”"
                "未能受理。想了解一下您是否认可这个处理？如有异议，我们会上报管理部门处理。"
            )
            % values
        )
    if order.result == Result.FAILED:
        return (
            _(
                "您好，我是后勤服务中心的回访员。您%(date)s报修的%(category)s（单号 %(number)s），"
                "%(technician)s 反馈未能修复，建议：%(suggestion)s。想了解一下现在问题解决了吗？"
                "您对处理是否满意？"
            )
            % values
        )
    return (
        _(
            "您好，我是后勤服务中心的回访员。您%(date)s报修的%(category)s（单号 %(number)s）"
            "已由 %(technician)s 处理完毕。想了解一下：问题是否已经解决？您对维修人员的服务是否满意？"
            "还有什么意见或建议吗？"
        )
        % values
    )


def visit_rows(follow_ups) -> list[VisitRow]:
    """The queue's rows with each order's history and the rejection reasons, in two queries."""
    follow_ups = list(follow_ups)
    orders = [f.order_id for f in follow_ups]
    history: dict[int, list[Event]] = defaultdict(list)
    for event in Event.objects.filter(order_id__in=orders).select_related("actor").order_by("id"):
        history[event.order_id].append(event)
    rows = []
    for follow_up in follow_ups:
        events = history[follow_up.order_id]
        rejected = [e for e in events if e.code == EVENT_CODES[Action.REJECT]]
        reason = (rejected[-1].data or {}).get("reason", "") if rejected else ""
        rows.append(
            VisitRow(follow_up, follow_up_flags(follow_up), visit_script(follow_up, reason), events)
        )
    return rows


# --- inspections ----------------------------------------------------------------------------------


def visible_inspections(user) -> QuerySet:
    """Inspections this user may see: all for inspectors and management; otherwise those of
    his team (as its lead) and those where he must rectify something."""
    from django.db.models import Q

    from repairhub.accounts.roles import Role

    from .models import Inspection

    qs = Inspection.objects.select_related("team", "place", "inspector")
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return qs.none()
    if user.has_role(Role.QC_INSPECTOR, Role.MANAGER, Role.ADMIN):
        return qs
    cond = Q(findings__rectifications__assignee=user) | Q(team__lead=user)
    return qs.filter(cond).distinct()
