"""Applies the transition table in states.py: the only way an order's state changes.

One call = one transaction: visibility, permission, state guard, input checks, a conditional
UPDATE on (status, version) that loses races cleanly (409), the event row, and the subscribers
(which write outbox rows in the same transaction).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from repairhub.accounts.roles import Role

from . import subscribers
from .access import can_see
from .actors import SYSTEM, LinkHolder, SystemActor
from .errors import IllegalState, InvalidInput, NotAllowed, NotVisible, StaleVersion
from .models import (
    Category,
    ChangeKind,
    ChangeRequest,
    ChangeStatus,
    Event,
    Result,
    WorkOrder,
)
from .states import (
    CHANGE_DECIDABLE,
    EVENT_CODES,
    TRANSITIONS,
    Action,
    Guard,
    Relation,
    Rule,
    Status,
)

MAX_TEXT = 2000


def _stands(order: WorkOrder, by, relation: Relation) -> bool:
    if relation is Relation.ANY:
        return True
    if relation is Relation.ASSIGNEE:
        return by.pk is not None and order.assignee_id == by.pk
    if relation is Relation.REPORTER:
        if isinstance(by, LinkHolder):
            return by.token == order.tracking_token
        return by.pk is not None and order.reporter_id == by.pk
    if relation is Relation.TEAM_LEAD:
        assignee = order.assignee
        return bool(
            by.pk is not None
            and assignee is not None
            and assignee.team_id
            and assignee.team.lead_id == by.pk
        )
    if relation is Relation.EXPERT:
        return by.pk is not None and order.expert_id == by.pk
    return False


# What only a person can do: ask for a change (he is its applicant), take over as the expert,
# urge as the reporter. The system may take every other action (automatic dispatch,
# auto-confirmation, rework).
PERSON_ONLY = frozenset({Action.REQUEST_CHANGE, Action.TAKE_OVER, Action.URGE})


def _permits(rule: Rule, order: WorkOrder, by) -> bool:
    if isinstance(by, SystemActor):
        return rule.action not in PERSON_ONLY
    # Anyone may act as the reporter of an order he reported himself.
    roles = by.roles | {Role.REPORTER}
    return any(role in roles and _stands(order, by, rel) for role, rel in rule.who)


# --- guards: conditions on the order beyond its state (states.Guard) -------------------------


def pending_change_id(order: WorkOrder) -> int | None:
    """The id of the order's change request awaiting a decision, if any.

    Lists annotate it (WorkOrderQuerySet.with_pending_change) to spare a query per row.
    """
    if hasattr(order, "pending_change_id"):
        return order.pending_change_id
    return (
        ChangeRequest.objects.filter(order_id=order.pk, status=ChangeStatus.PENDING)
        .values_list("pk", flat=True)
        .first()
    )


def _guard_holds(guard: Guard | None, order: WorkOrder) -> bool:
    if guard is None:
        return True
    if guard is Guard.NO_PENDING_CHANGE:
        return pending_change_id(order) is None
    if guard is Guard.PENDING_CHANGE:
        return pending_change_id(order) is not None
    if guard is Guard.EXPERT_NOT_ASSIGNEE:
        return order.expert_id is not None and order.expert_id != order.assignee_id
    if guard is Guard.URGE_DUE:
        return urge_refusal(order) is None
    return False


def _guard_refusal(guard: Guard, order: WorkOrder) -> IllegalState:
    if guard is Guard.URGE_DUE:
        return urge_refusal(order) or IllegalState(_("现在不能催单，请稍后再试。"), code="urge")
    messages = {
        Guard.NO_PENDING_CHANGE: (
            _("工单 %(number)s 已有一条待审批的变更申请，请等调度员处理后再申请。"),
            "change_pending",
        ),
        Guard.PENDING_CHANGE: (
            _("工单 %(number)s 没有待审批的变更申请。"),
            "no_pending_change",
        ),
        Guard.EXPERT_NOT_ASSIGNEE: (
            _("您已是工单 %(number)s 的维修人员，无需再接手。"),
            "already_assignee",
        ),
    }
    message, code = messages[guard]
    return IllegalState(message % {"number": order.number}, code=code)


# --- urging (催单, TM3): how long to wait, how often a day ------------------------------------


def _local_day_start(moment: datetime) -> datetime:
    return timezone.localtime(moment).replace(hour=0, minute=0, second=0, microsecond=0)


def urges_today(order: WorkOrder, now: datetime | None = None) -> int:
    """How many times the order was urged since local midnight."""
    return Event.objects.filter(
        order_id=order.pk,
        code=EVENT_CODES[Action.URGE],
        created_at__gte=_local_day_start(now or timezone.now()),
    ).count()


def next_urge_at(order: WorkOrder) -> datetime:
    """The earliest time the reporter may urge: a wait after submission and after each urge."""
    since = order.last_urged_at or order.created_at
    return since + timedelta(minutes=settings.SUPERVISION_URGE_AFTER_MINUTES)


def _clock(moment: datetime, now: datetime) -> str:
    local = timezone.localtime(moment)
    same_day = local.date() == timezone.localtime(now).date()
    return local.strftime("%H:%M" if same_day else "%m-%d %H:%M")


def urge_refusal(order: WorkOrder, now: datetime | None = None) -> IllegalState | None:
    """Why the reporter may not urge now (too soon, or today's urges used up), or None."""
    now = now or timezone.now()
    ready = next_urge_at(order)
    if now < ready:
        if order.last_urged_at:
            message = _("您已在 %(last)s 催过单，请在 %(time)s 之后再催。") % {
                "last": _clock(order.last_urged_at, now),
                "time": _clock(ready, now),
            }
        else:
            message = _("报修提交 %(minutes)d 分钟后才能催单，请在 %(time)s 之后再试。") % {
                "minutes": settings.SUPERVISION_URGE_AFTER_MINUTES,
                "time": _clock(ready, now),
            }
        return IllegalState(message, code="urge_too_soon")
    limit = settings.SUPERVISION_URGE_PER_DAY
    if urges_today(order, now) >= limit:
        return IllegalState(
            _("每天最多催单 %(max)d 次，今天的次数已用完，请明天再试。") % {"max": limit},
            code="urge_limit",
        )
    return None


def allowed_actions(order: WorkOrder, by) -> list[str]:
    """The actions this actor may take on the order now, in table order (for buttons and API)."""
    if (
        by is None
        or not (isinstance(by, LinkHolder) or by.is_authenticated)
        or not can_see(by, order)
    ):
        return []
    seen: list[str] = []
    for rule in TRANSITIONS:
        if (
            order.status in rule.sources
            and rule.action not in seen
            and _permits(rule, order, by)
            and _guard_holds(rule.guard, order)
        ):
            seen.append(rule.action)
    return seen


# --- input checks per action: return (column changes, event data) --------------------------


def _text(params: dict, name: str, *, required: bool, label: str) -> str:
    value = params.get(name)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(_("%(label)s必须是文字。") % {"label": label}, field=name)
    value = value.strip()
    if "\x00" in value:
        # PostgreSQL cannot store NUL in text or JSON: refuse it here rather than fail there.
        raise InvalidInput(_("%(label)s含有无效字符。") % {"label": label}, field=name)
    if required and not value:
        raise InvalidInput(_("请填写%(label)s。") % {"label": label}, field=name, code="required")
    if len(value) > MAX_TEXT:
        raise InvalidInput(
            _("%(label)s过长：最多 %(max)d 个字。") % {"label": label, "max": MAX_TEXT}, field=name
        )
    return value


def _technician(order: WorkOrder, by, params: dict):
    from repairhub.accounts.models import User

    tech = params.get("technician")
    if isinstance(tech, str):
        tech = User.objects.select_related("team").filter(username=tech.strip()).first()
    if (
        not isinstance(tech, User)
        or not tech.is_active
        or not tech.has_role(Role.TECHNICIAN, Role.EXPERT)
    ):
        raise InvalidInput(
            _("请选择一名在职的维修人员。"), field="technician", code="unknown_technician"
        )
    if (
        by.pk is not None
        and not by.has_role(Role.DISPATCHER, Role.ADMIN)
        and by.has_role(Role.TEAM_LEAD)
    ):
        if tech.team_id is None or tech.team.lead_id != by.pk:
            raise NotAllowed(_("班组长只能把工单改派给本班组的维修人员。"))
    return tech


def _reason(order, by, params):
    return {}, {"reason": _text(params, "reason", required=True, label=_("原因"))}


def _accept(order, by, params):
    return {"accepted_at": timezone.now()}, {}


def _dispatch(order, by, params):
    tech = _technician(order, by, params)
    if order.assignee_id == tech.pk:
        raise InvalidInput(
            _("工单已经派给 %(name)s，请选择其他人员。") % {"name": tech.name}, field="technician"
        )
    data = {"technician": tech.username, "technician_name": tech.name}
    if order.assignee_id:
        data["previous"] = order.assignee.username
    note = _text(params, "reason", required=False, label=_("说明"))
    if note:
        data["reason"] = note
    # Automatic dispatch explains its choice on the event; nobody else may write one.
    if isinstance(by, SystemActor) and isinstance(params.get("explanation"), dict):
        data["auto"] = params["explanation"]
    return {"assignee": tech, "dispatched_at": timezone.now(), "acknowledged_at": None}, data


def _acknowledge(order, by, params):
    return {"acknowledged_at": timezone.now()}, {}


def _decline(order, by, params):
    _changes, data = _reason(order, by, params)
    data["technician"] = order.assignee.username if order.assignee_id else ""
    return {"assignee": None, "acknowledged_at": None}, data


def _coordinate(params: dict, name: str, limit: int) -> Decimal | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("位置坐标格式不正确。"), field=name) from None
    if not number.is_finite() or abs(number) > limit:
        raise InvalidInput(_("位置坐标超出范围。"), field=name)
    return number.quantize(Decimal("0.000001"))


def _arrive(order, by, params):
    lat = _coordinate(params, "lat", 90)
    lng = _coordinate(params, "lng", 180)
    if (lat is None) != (lng is None):
        raise InvalidInput(_("位置需要同时提供纬度和经度。"), field="lat")
    now = timezone.now()
    data: dict[str, Any] = {"at": now.isoformat()}
    if lat is not None:
        data.update(lat=str(lat), lng=str(lng))
    return {"arrived_at": now, "arrival_latitude": lat, "arrival_longitude": lng}, data


def _progress(order, by, params):
    return {}, {"note": _text(params, "note", required=True, label=_("进展说明"))}


def _hold(order, by, params):
    reason = _text(params, "reason", required=True, label=_("挂起原因"))
    return {"hold_reason": reason[:200]}, {"reason": reason}


def _resume(order, by, params):
    return {"hold_reason": ""}, {}


def _complete(order, by, params):
    result = params.get("result")
    if result not in Result.values:
        raise InvalidInput(_("请选择维修结果：成功或失败。"), field="result")
    note = _text(params, "note", required=True, label=_("完工说明"))
    suggestion = _text(
        params, "suggestion", required=result == Result.FAILED, label=_("给报修人的解决建议")
    )
    changes = {
        "result": result,
        "completion_note": note,
        "suggestion": suggestion,
        "completed_at": timezone.now(),
    }
    data = {"result": result, "note": note, "suggestion": suggestion}
    fee = _fee(params.get("fee"))
    if fee is not None:
        # A repeat visit after a reopening records its own fee, or keeps the first one.
        changes["fee"] = fee
        data["fee"] = str(fee)
    return changes, data


MAX_FEE = Decimal("100000")


def _fee(value) -> Decimal | None:
    """The fee charged (元) as given at completion: empty for none, else 0 to MAX_FEE with at
    most two decimals."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool | float):
        value = str(value)
    try:
        fee = Decimal(str(value).strip().removesuffix("元").strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("收费金额请填写数字，例如 35 或 35.50。"), field="fee") from None
    if not fee.is_finite() or fee < 0 or fee > MAX_FEE or fee != fee.quantize(Decimal("0.01")):
        raise InvalidInput(
            _("收费金额应在 0 到 %(max)s 元之间，最多两位小数。") % {"max": MAX_FEE}, field="fee"
        )
    return fee.quantize(Decimal("0.01"))


def _confirm(order, by, params):
    rating = params.get("rating")
    if rating in (None, ""):
        rating = None
    else:
        try:
            rating = int(rating)
        except (TypeError, ValueError, OverflowError):  # OverflowError: int(float("inf"))
            raise InvalidInput(_("评分必须是 1 到 5 的整数。"), field="rating") from None
        if isinstance(params.get("rating"), float) and params["rating"] != rating:
            raise InvalidInput(_("评分必须是 1 到 5 的整数。"), field="rating")
        if not 1 <= rating <= 5:
            raise InvalidInput(_("评分必须是 1 到 5 的整数。"), field="rating")
    comment = _text(params, "comment", required=False, label=_("评价"))
    changes = {"closed_at": timezone.now(), "rating": rating, "rating_comment": comment}
    data: dict[str, Any] = {"rating": rating, "comment": comment}
    if isinstance(by, SystemActor) and params.get("auto"):
        data["auto"] = True  # nobody answered in time (feedback): never counted as a rating
    return changes, data


def _close(order, by, params):
    note = _text(params, "note", required=False, label=_("说明"))
    return {"closed_at": timezone.now()}, ({"note": note} if note else {})


def _reopen(order, by, params):
    _changes, data = _reason(order, by, params)
    data["technician"] = order.assignee.username if order.assignee_id else ""
    data["result"] = order.result
    return {
        "assignee": None,
        "result": "",
        "completed_at": None,
        "acknowledged_at": None,
        "reopen_count": F("reopen_count") + 1,
    }, data


# --- change requests (工单变更) ------------------------------------------------------------


def _aware(value: Any, *, field: str) -> datetime:
    missing = value is None or (isinstance(value, str) and not value.strip())
    if isinstance(value, str) and not missing:
        try:
            value = parse_datetime(value.strip())
        except ValueError:
            value = None
    if not isinstance(value, datetime):
        raise InvalidInput(
            _("请填写新的完成时限，例如 2026-05-01T18:00:00+08:00。"),
            field=field,
            code="required" if missing else "invalid",
        )
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _active_category(value: Any, *, field: str) -> Category:
    if isinstance(value, str):
        value = value.strip()
        if not value:
            raise InvalidInput(_("请选择新的报修类别。"), field=field, code="required")
        category = Category.objects.select_related("parent").filter(code=value).first()
    elif isinstance(value, Category):
        category = value
    elif value is None:
        raise InvalidInput(_("请选择新的报修类别。"), field=field, code="required")
    else:
        category = None
    if category is None:
        raise InvalidInput(
            _("没有编码为“%(code)s”的报修类别。") % {"code": value},
            field=field,
            code="unknown_category",
        )
    if not category.is_active:
        raise InvalidInput(
            _("报修类别“%(name)s”已停用，请选择其他类别。") % {"name": category},
            field=field,
            code="inactive_category",
        )
    return category


def _later_deadline(order: WorkOrder, due: datetime, *, field: str) -> datetime:
    """A new deadline must be later than now and than the order's current deadline."""
    floor = max(filter(None, (order.due_at, timezone.now())))
    if due <= floor:
        raise InvalidInput(
            _("新的完成时限必须晚于 %(time)s。")
            % {"time": timezone.localtime(floor).strftime("%Y-%m-%d %H:%M")},
            field=field,
            code="deadline_not_later",
        )
    return due


# The value each kind needs, and the parameter that carries it.
CHANGE_VALUE_FIELDS = {
    ChangeKind.CATEGORY: "new_category",
    ChangeKind.MEASURES: "measures",
    ChangeKind.DEADLINE: "new_due_at",
    ChangeKind.EXTRA_WORK: "extra_work",
}


def _request_change(order, by, params):
    kind = params.get("kind")
    if kind not in ChangeKind.values:
        raise InvalidInput(
            _("请选择变更类型：变更类别、变更措施、延长时限或增加工作内容。"),
            field="kind",
            code="required" if kind in (None, "") else "invalid",
        )
    kind = ChangeKind(kind)
    wanted = CHANGE_VALUE_FIELDS[kind]
    for other in CHANGE_VALUE_FIELDS.values():
        if other != wanted and params.get(other) not in (None, ""):
            raise InvalidInput(
                _("“%(kind)s”的申请不需要填写 %(field)s。") % {"kind": kind.label, "field": other},
                field=other,
            )
    reason = _text(params, "reason", required=True, label=_("变更原因"))
    row = ChangeRequest(order=order, requested_by=by, kind=kind, reason=reason)
    data: dict[str, Any] = {"kind": kind.value, "reason": reason}
    if kind is ChangeKind.CATEGORY:
        category = _active_category(params.get("new_category"), field="new_category")
        if category.pk == order.category_id:
            raise InvalidInput(
                _("工单已经是“%(name)s”类别，请选择其他类别。") % {"name": category},
                field="new_category",
            )
        row.new_category = category
        data.update(new_category=category.code, new_category_name=str(category))
    elif kind is ChangeKind.DEADLINE:
        due = _later_deadline(
            order, _aware(params.get("new_due_at"), field="new_due_at"), field="new_due_at"
        )
        row.new_due_at = due
        data["new_due_at"] = timezone.localtime(due).isoformat()
    elif kind is ChangeKind.MEASURES:
        row.measures = _text(params, "measures", required=True, label=_("新的维修措施"))
        data["measures"] = row.measures
    else:
        row.extra_work = _text(params, "extra_work", required=True, label=_("增加的工作内容"))
        data["extra_work"] = row.extra_work
    try:
        # A savepoint: losing the race on the one-pending constraint leaves the outer
        # transaction usable for the refusal.
        with transaction.atomic():
            row.save()
    except IntegrityError:
        raise _guard_refusal(Guard.NO_PENDING_CHANGE, order) from None
    data["change"] = row.pk
    return {}, data


def _pending_change(order: WorkOrder, params: dict) -> ChangeRequest:
    """The pending request the dispatcher decides; `change` (its id), when given, must match."""
    pending = (
        ChangeRequest.objects.select_related("requested_by", "new_category", "new_category__parent")
        .filter(order=order, status=ChangeStatus.PENDING)
        .first()
    )
    if pending is None:
        raise _guard_refusal(Guard.PENDING_CHANGE, order)
    wanted = params.get("change")
    if wanted not in (None, "") and str(wanted) != str(pending.pk):
        raise IllegalState(
            _("变更申请 #%(id)s 已处理或不属于工单 %(number)s，请刷新后重试。")
            % {"id": wanted, "number": order.number},
            code="change_decided",
        )
    return pending


def _decide(pending: ChangeRequest, by, status: str, note: str, now: datetime) -> None:
    decided = ChangeRequest.objects.filter(pk=pending.pk, status=ChangeStatus.PENDING).update(
        status=status, decided_by=by, decided_at=now, decision_note=note
    )
    if decided != 1:
        raise StaleVersion(_("该变更申请已被他人处理，请刷新后重试。"))


def _approve_change(order, by, params):
    pending = _pending_change(order, params)
    note = _text(params, "note", required=False, label=_("审批说明"))
    kind = ChangeKind(pending.kind)
    data: dict[str, Any] = {
        "change": pending.pk,
        "kind": kind.value,
        "requested_by": pending.requested_by.username,
    }
    if note:
        data["note"] = note
    changes: dict[str, Any]
    if kind is ChangeKind.CATEGORY:
        # Checked again: the category may have been retired since the request.
        category = _active_category(pending.new_category, field="new_category")
        changes = {"category": category}
        data.update(
            previous_category=order.category.code,
            new_category=category.code,
            new_category_name=str(category),
        )
    elif kind is ChangeKind.DEADLINE:
        due = _later_deadline(order, pending.new_due_at, field="new_due_at")
        changes = {"due_at": due}
        data.update(
            previous_due_at=timezone.localtime(order.due_at).isoformat() if order.due_at else "",
            new_due_at=timezone.localtime(due).isoformat(),
        )
    elif kind is ChangeKind.MEASURES:
        changes = {"measures": pending.measures}
        data.update(previous_measures=order.measures, measures=pending.measures)
    else:
        # Extra work is added to the measures as a new paragraph; nothing is replaced.
        measures = (
            f"{order.measures}\n\n{pending.extra_work}" if order.measures else pending.extra_work
        )
        changes = {"measures": measures}
        data["extra_work"] = pending.extra_work
    _decide(pending, by, ChangeStatus.APPROVED, note, timezone.now())
    return changes, data


def _reject_change(order, by, params):
    pending = _pending_change(order, params)
    reason = _text(params, "reason", required=True, label=_("驳回原因"))
    _decide(pending, by, ChangeStatus.REJECTED, reason, timezone.now())
    data = {
        "change": pending.pk,
        "kind": pending.kind,
        "requested_by": pending.requested_by.username,
        "reason": reason,
    }
    return {}, data


def _close_pending_change(order: WorkOrder, action: str, now: datetime) -> int | None:
    """An order leaving the states where a change can be decided takes its pending request
    with it: closed as rejected, decided by the system, with a note saying why."""
    pending = pending_change_id(order)
    if pending is None:
        return None
    note = _("工单已%(action)s，变更申请自动关闭。") % {"action": Action(action).label}
    ChangeRequest.objects.filter(pk=pending, status=ChangeStatus.PENDING).update(
        status=ChangeStatus.REJECTED, decided_by=None, decided_at=now, decision_note=note
    )
    return pending


# --- experts (DP4) ---------------------------------------------------------------------------


def _escalate(order, by, params):
    from repairhub.accounts.models import User

    expert = params.get("expert")
    missing = expert is None or (isinstance(expert, str) and not expert.strip())
    if isinstance(expert, str) and not missing:
        expert = User.objects.filter(username=expert.strip()).first()
    if not isinstance(expert, User) or not expert.is_active or not expert.has_role(Role.EXPERT):
        raise InvalidInput(
            _("请选择一名在职的技术专家。"),
            field="expert",
            code="required" if missing else "unknown_expert",
        )
    if expert.pk == order.assignee_id:
        raise InvalidInput(
            _("%(name)s 已是该工单的维修人员，请选择其他专家。") % {"name": expert.name},
            field="expert",
        )
    if expert.pk == order.expert_id:
        raise InvalidInput(_("工单已经转给专家 %(name)s。") % {"name": expert.name}, field="expert")
    reason = _text(params, "reason", required=True, label=_("转专家原因"))
    data = {"expert": expert.username, "expert_name": expert.name, "reason": reason}
    if order.expert_id:
        data["previous_expert"] = order.expert.username
    return {"expert": expert, "escalated_at": timezone.now()}, data


def _guide(order, by, params):
    return {}, {"note": _text(params, "note", required=True, label=_("指导意见"))}


def _take_over(order, by, params):
    now = timezone.now()
    data = {"technician": by.username, "technician_name": by.name}
    if order.assignee_id:
        data["previous"] = order.assignee.username
    changes = {
        "assignee": by,
        "acknowledged_at": now,
        "dispatched_at": order.dispatched_at or now,
        "hold_reason": "",
    }
    return changes, data


MAX_URGE_NOTE = 200  # it goes out by SMS


def _urge(order, by, params):
    note = _text(params, "note", required=False, label=_("催单留言"))
    if len(note) > MAX_URGE_NOTE:
        raise InvalidInput(_("催单留言最多 %(max)d 个字。") % {"max": MAX_URGE_NOTE}, field="note")
    count = order.urge_count + 1
    data: dict[str, Any] = {"urge_count": count}
    if note:
        data["note"] = note
    # A plain value, not F() + 1: the conditional UPDATE on version already serialises urges.
    return {"urge_count": count, "last_urged_at": timezone.now()}, data


HANDLERS: dict[str, Callable[[WorkOrder, Any, dict], tuple[dict, dict]]] = {
    Action.ACCEPT: _accept,
    Action.REJECT: _reason,
    Action.DISPATCH: _dispatch,
    Action.REASSIGN: _dispatch,
    Action.ACKNOWLEDGE: _acknowledge,
    Action.DECLINE: _decline,
    Action.ARRIVE: _arrive,
    Action.PROGRESS: _progress,
    Action.HOLD: _hold,
    Action.RESUME: _resume,
    Action.COMPLETE: _complete,
    Action.CONFIRM: _confirm,
    Action.CLOSE: _close,
    Action.REOPEN: _reopen,
    Action.CANCEL: _reason,
    Action.REQUEST_CHANGE: _request_change,
    Action.APPROVE_CHANGE: _approve_change,
    Action.REJECT_CHANGE: _reject_change,
    Action.ESCALATE: _escalate,
    Action.GUIDE: _guide,
    Action.TAKE_OVER: _take_over,
    Action.URGE: _urge,
}


def actor_fields(by) -> dict[str, Any]:
    if isinstance(by, LinkHolder | SystemActor):
        return {"actor": None, "actor_label": by.name}
    if by is None or not getattr(by, "is_authenticated", False):
        return {"actor": None, "actor_label": _("访客")}
    return {"actor": by, "actor_label": by.name}


def _settle(fresh: WorkOrder, target: str, now, changes: dict) -> None:
    """Bring `fresh` to what the UPDATE wrote, without reading the row again: the values are
    known here. Only expressions (a counter + 1) are read back from the database."""
    computed = [name for name, value in changes.items() if hasattr(value, "resolve_expression")]
    fresh.status = target
    fresh.version += 1
    fresh.updated_at = now
    for name, value in changes.items():
        if name not in computed:
            setattr(fresh, name, value)
    if computed:
        fresh.refresh_from_db(fields=computed)


def _adopt(order: WorkOrder, fresh: WorkOrder) -> None:
    """Make the caller's `order` the settled row, with the relations already loaded, so the
    subscribers (receipts, dispatch) do not fetch them again."""
    if order is fresh:
        return
    order.__dict__.update({k: v for k, v in fresh.__dict__.items() if k != "_state"})
    order.__dict__.pop("_prefetched_objects_cache", None)
    order._state.fields_cache = dict(fresh._state.fields_cache)
    order._state.db = fresh._state.db
    order._state.adding = False


def _loaded_with(order: WorkOrder) -> list[str]:
    """The relations apply reads with the order: its category (with the parent the receipts
    name) and place always; its assignee (with his team) and expert when the caller's copy has
    them. A stale copy that guesses wrong costs a query when one is used, never a wrong value;
    a new order's transitions then join three tables instead of six (PostgreSQL plans each)."""
    related = ["category", "category__parent", "place"]
    if order.__dict__.get("assignee_id", True) is not None:
        related += ["assignee", "assignee__team"]
    if order.__dict__.get("expert_id", True) is not None:
        related.append("expert")
    return related


def apply(
    order: WorkOrder,
    action: str,
    *,
    by,
    channel: str = "web",
    version: int | None = None,
    params: dict | None = None,
    savepoint: bool = True,
) -> Event:
    """Take `action` on `order` for `by`. Returns the event; refreshes `order` in place.

    `savepoint=False` is for callers whose own transaction ends with any error raised here
    (perform, automatic dispatch): it spares two round trips and changes nothing else.
    """
    params = params or {}
    if action not in Action.values:
        raise InvalidInput(_("未知操作：%(action)s。") % {"action": action}, code="unknown_action")
    with transaction.atomic(savepoint=savepoint):
        fresh = WorkOrder.objects.select_related(*_loaded_with(order)).get(pk=order.pk)
        if not isinstance(by, SystemActor) and not can_see(by, fresh):
            raise NotVisible(_("找不到工单 %(number)s，或您无权查看。") % {"number": fresh.number})
        if version is not None and not str(version).isdigit():
            raise InvalidInput(_("版本号必须是整数。"), field="version")
        if version is not None and int(version) != fresh.version:
            raise StaleVersion(
                _("工单 %(number)s 已被他人更新，请刷新后重试。") % {"number": fresh.number}
            )
        rules = [r for r in TRANSITIONS if r.action == action and _permits(r, fresh, by)]
        label = Action(action).label
        if not rules:
            raise NotAllowed(_("您无权对该工单执行“%(action)s”。") % {"action": label})
        rule = next((r for r in rules if fresh.status in r.sources), None)
        if rule is None:
            raise IllegalState(
                _("工单当前状态为“%(status)s”，不能执行“%(action)s”。")
                % {"status": Status(fresh.status).label, "action": label}
            )
        if not _guard_holds(rule.guard, fresh):
            raise _guard_refusal(rule.guard, fresh)
        changes, data = HANDLERS[action](fresh, by, params)
        target = rule.target or fresh.status
        now = timezone.now()
        if fresh.status in CHANGE_DECIDABLE and target not in CHANGE_DECIDABLE:
            closed = _close_pending_change(fresh, action, now)
            if closed is not None:
                data = {**data, "change_closed": closed}
        updated = WorkOrder.objects.filter(
            pk=fresh.pk, version=fresh.version, status=fresh.status
        ).update(status=target, version=F("version") + 1, updated_at=now, **changes)
        if updated != 1:
            raise StaleVersion(
                _("工单 %(number)s 已被他人更新，请刷新后重试。") % {"number": fresh.number}
            )
        event = Event.objects.create(
            order=fresh,
            code=EVENT_CODES[Action(action)],
            channel=channel,
            from_status=fresh.status,
            to_status=target,
            data=data,
            created_at=now,
            **actor_fields(by),
        )
        _settle(fresh, target, now, changes)
        _adopt(order, fresh)
        # A list's annotation (with_pending_change) may be stale now: guards ask again.
        order.__dict__.pop("pending_change_id", None)
        event.order = order
        subscribers.publish(event)
    return event


def apply_as_system(order: WorkOrder, action: str, *, params: dict | None = None) -> Event:
    return apply(order, action, by=SYSTEM, channel="system", params=params)


def record_event(
    order: WorkOrder,
    code: str,
    *,
    data: dict | None = None,
    by=SYSTEM,
    channel: str = "system",
) -> Event:
    """Append an event that changes no state (an SLA breach, a reminder sent, an escalation)
    and tell the subscribers, inside the caller's transaction (or a new one)."""
    with transaction.atomic():
        event = Event.objects.create(
            order=order,
            code=code,
            channel=channel,
            from_status=order.status,
            to_status=order.status,
            data=data or {},
            created_at=timezone.now(),
            **actor_fields(by),
        )
        event.order = order
        subscribers.publish(event)
    return event
