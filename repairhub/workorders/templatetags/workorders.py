"""Words for the timeline and badges: labels for event codes, states, channels and event data."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from repairhub.workorders.models import ChangeKind, Channel, Result, Urgency
from repairhub.workorders.states import (
    EVENT_ATTACHMENT,
    EVENT_CODES,
    EVENT_FOLLOWED,
    EVENT_LABELS,
    EVENT_SUBMITTED,
    Status,
)

register = template.Library()


@register.filter
def event_label(code: str) -> str:
    for action, event_code in EVENT_CODES.items():
        if event_code == code:
            return str(action.label)
    other = {
        EVENT_SUBMITTED: _("提交报修"),
        EVENT_ATTACHMENT: _("上传附件"),
        EVENT_FOLLOWED: _("关注工单"),
    }
    if code in other:
        return other[code]
    return str(EVENT_LABELS.get(code, code))


@register.filter
def status_label(value: str) -> str:
    return str(Status(value).label) if value in Status.values else ""


@register.filter
def channel_label(value: str) -> str:
    if value in Channel.values:
        return str(Channel(value).label)
    return {"system": _("系统"), "api": _("接口"), "import": _("导入")}.get(value, value)


@register.filter
def event_details(data: dict) -> list[tuple[str, str]]:
    """The event's data as (label, value) pairs, in a fixed reading order."""
    data = data or {}
    rows: list[tuple[str, str]] = []
    tech = data.get("technician_name") or data.get("technician")
    if tech:
        rows.append((_("维修人员"), tech))
    if data.get("previous"):
        rows.append((_("原维修人员"), data["previous"]))
    if data.get("urgency") in Urgency.values:
        rows.append((_("紧急程度"), str(Urgency(data["urgency"]).label)))
    if data.get("result") in Result.values:
        rows.append((_("结果"), str(Result(data["result"]).label)))
    if data.get("kind") in ChangeKind.values:
        rows.append((_("变更类型"), str(ChangeKind(data["kind"]).label)))
    if data.get("expert_name") or data.get("expert"):
        rows.append((_("技术专家"), data.get("expert_name") or data["expert"]))
    if data.get("previous_expert"):
        rows.append((_("原专家"), data["previous_expert"]))
    if data.get("previous_category"):
        rows.append((_("原类别"), data["previous_category"]))
    if data.get("new_category_name") or data.get("new_category"):
        rows.append((_("新类别"), data.get("new_category_name") or data["new_category"]))
    if data.get("previous_due_at"):
        rows.append((_("原完成时限"), _local_time(data["previous_due_at"])))
    if data.get("new_due_at"):
        rows.append((_("新的完成时限"), _local_time(data["new_due_at"])))
    if data.get("previous_measures"):
        rows.append((_("原维修措施"), data["previous_measures"]))
    if data.get("measures"):
        rows.append((_("维修措施"), data["measures"]))
    if data.get("extra_work"):
        rows.append((_("增加的工作内容"), data["extra_work"]))
    for key, label in (
        ("reason", _("原因")),
        ("note", _("说明")),
        ("suggestion", _("建议")),
        ("comment", _("评价")),
        ("name", _("关注人")),
    ):
        if data.get(key):
            rows.append((label, str(data[key])))
    if data.get("lat") and data.get("lng"):
        rows.append((_("位置"), f"{data['lat']}, {data['lng']}"))
    if data.get("rating"):
        rows.append((_("评分"), _("%(n)s 星") % {"n": data["rating"]}))
    if data.get("fee") is not None:
        rows.append((_("收费金额"), _("%(fee)s 元") % {"fee": data["fee"]}))
    if data.get("change_closed"):
        rows.append((_("变更申请"), _("待审批的变更申请已自动关闭")))
    rows += _supervision_details(data)
    return rows


def _supervision_details(data: dict) -> list[tuple[str, str]]:
    """Reminders, urges, SLA breaches and escalations (repairhub/supervision, repairhub/sla)."""
    rows: list[tuple[str, str]] = []
    if data.get("reminder"):
        rows.append((_("提醒次数"), _("第 %(n)s 次") % {"n": data["reminder"]}))
    if data.get("asks_result"):
        rows.append((_("提醒内容"), _("请维修人员报告维修结果")))
    if data.get("urge_count"):
        rows.append((_("催单次数"), str(data["urge_count"])))
    levels = {1: _("班组长"), 2: _("主管")}
    if data.get("level") in levels:
        rows.append((_("督办对象"), levels[data["level"]]))
    causes = {
        "sla_breach": _("超过服务时限"),
        "urges": _("报修人多次催单"),
        "unresolved": _("督办后仍未解决"),
    }
    if data.get("cause") in causes:
        rows.append((_("督办原因"), causes[data["cause"]]))
    clocks = {"accept": _("受理"), "arrive": _("到场"), "complete": _("完成")}
    if data.get("clock") in clocks:
        rows.append((_("超时环节"), clocks[data["clock"]]))
    if data.get("due_at"):
        rows.append((_("时限"), _local_time(data["due_at"])))
    if data.get("notified"):
        rows.append((_("已通知"), "、".join(str(n) for n in data["notified"])))
    return rows


def _local_time(value: str) -> str:
    from django.utils import timezone
    from django.utils.dateparse import parse_datetime

    try:
        moment = parse_datetime(value)
    except (TypeError, ValueError):
        moment = None
    if moment is None:
        return str(value)
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
