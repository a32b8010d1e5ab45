"""Words for the timeline and badges: labels for event codes, states, channels and event data."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from repairhub.workorders.models import Channel, Result, Urgency
from repairhub.workorders.states import (
    EVENT_ATTACHMENT,
    EVENT_CODES,
    EVENT_FOLLOWED,
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
    return other.get(code, code)


@register.filter
def status_label(value: str) -> str:
    return str(Status(value).label) if value in Status.values else ""


@register.filter
def channel_label(value: str) -> str:
    if value in Channel.values:
        return str(Channel(value).label)
    return {"system": _("系统"), "api": _("接口")}.get(value, value)


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
    return rows
