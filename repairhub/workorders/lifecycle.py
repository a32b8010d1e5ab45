"""Applies the transition table in states.py: the only way an order's state changes.

One call = one transaction: visibility, permission, state guard, input checks, a conditional
UPDATE on (status, version) that loses races cleanly (409), the event row, and the subscribers
(which write outbox rows in the same transaction).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from repairhub.accounts.roles import Role

from . import subscribers
from .access import can_see
from .actors import SYSTEM, LinkHolder, SystemActor
from .errors import IllegalState, InvalidInput, NotAllowed, NotVisible, StaleVersion
from .models import Event, Result, WorkOrder
from .states import EVENT_CODES, TRANSITIONS, Action, Relation, Rule, Status

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
    return False


def _permits(rule: Rule, order: WorkOrder, by) -> bool:
    if isinstance(by, SystemActor):
        return True
    # Anyone may act as the reporter of an order he reported himself.
    roles = by.roles | {Role.REPORTER}
    return any(role in roles and _stands(order, by, rel) for role, rel in rule.who)


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
        if order.status in rule.sources and rule.action not in seen and _permits(rule, order, by):
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
    return changes, {"result": result, "note": note, "suggestion": suggestion}


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
    return changes, {"rating": rating, "comment": comment}


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
}


def actor_fields(by) -> dict[str, Any]:
    if isinstance(by, LinkHolder | SystemActor):
        return {"actor": None, "actor_label": by.name}
    if by is None or not getattr(by, "is_authenticated", False):
        return {"actor": None, "actor_label": _("访客")}
    return {"actor": by, "actor_label": by.name}


def apply(
    order: WorkOrder,
    action: str,
    *,
    by,
    channel: str = "web",
    version: int | None = None,
    params: dict | None = None,
) -> Event:
    """Take `action` on `order` for `by`. Returns the event; refreshes `order` in place."""
    params = params or {}
    if action not in Action.values:
        raise InvalidInput(_("未知操作：%(action)s。") % {"action": action}, code="unknown_action")
    with transaction.atomic():
        fresh = WorkOrder.objects.select_related("assignee", "assignee__team").get(pk=order.pk)
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
        changes, data = HANDLERS[action](fresh, by, params)
        target = rule.target or fresh.status
        now = timezone.now()
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
        order.refresh_from_db()
        event.order = order
        subscribers.publish(event)
    return event


def apply_as_system(order: WorkOrder, action: str, *, params: dict | None = None) -> Event:
    return apply(order, action, by=SYSTEM, channel="system", params=params)
