"""Request and response shapes of /api/v1 (Pydantic v2 via ninja), and the functions that fill
the response shapes from models. Reading only: nothing here writes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.utils import timezone
from ninja import Field, Schema
from pydantic import ConfigDict

from repairhub.places.models import PlaceKind
from repairhub.sla.queries import chips_for, deadlines_for
from repairhub.workorders.models import Attachment, Category, ChangeRequest, Event, WorkOrder
from repairhub.workorders.states import Status

API_ROOT = "/api/v1"

UrgencyCode = Literal["low", "normal", "high", "critical"]
ChangeKindCode = Literal["category", "measures", "deadline", "extra_work"]
ChannelCode = Literal["web", "qr", "phone", "walk_in", "partner"]


class ErrorOut(Schema):
    code: str = Field(..., examples=["invalid"])
    message: str = Field(..., examples=["字段 reporter_phone：必须是文字。"])
    field: str | None = None


# --- orders in ------------------------------------------------------------------------------


class OrderIn(Schema):
    description: str = Field(..., description="故障描述，最多 2000 字")
    category: str = Field(..., description="报修类别编码（GET /categories）")
    place: str = Field("", description="地点编码（GET /places）；填写了 address 或 asset 时可省略")
    asset: str = Field(
        "", description="设备编码（设备二维码上的编码）；地点取设备所在地点，同时给出的地点须一致"
    )
    address: str = Field("", description="详细地址；没有地点编码时必填")
    reporter_name: str
    reporter_phone: str = Field(..., description="手机号、带区号的座机号或 4–8 位校内分机号")
    urgency: UrgencyCode | None = Field(None, description="省略时使用类别的默认紧急程度")
    channel: ChannelCode = Field("web", description="匿名调用只能用 web 或 qr")
    preferred_time: datetime | None = Field(None, description="期望上门时间，ISO 8601")


class OrderQuery(Schema):
    status: str = Field("", description="状态，可用逗号分隔多个")
    category: str = Field("", description="类别编码；大类包含其子类")
    place: str = Field("", description="地点编码；包含其下所有地点")
    assignee: str = Field("", description="维修人员用户名")
    channel: str = ""
    date_from: date | None = Field(None, description="报修日期起（含），YYYY-MM-DD")
    date_to: date | None = Field(None, description="报修日期止（含），YYYY-MM-DD")
    number: str = Field("", description="工单号（部分匹配）")
    phone: str = Field("", description="报修人电话（完整号码）")
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0)


class ActionIn(Schema):
    """Parameters of a lifecycle action; each action reads the ones it needs (docs/api.md)."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(None, ge=1, description="乐观锁：工单当前 version")
    reason: str | None = None
    technician: str | None = Field(None, description="维修人员用户名（dispatch、reassign）")
    note: str | None = None
    result: Literal["success", "failed"] | None = None
    suggestion: str | None = None
    fee: Decimal | None = Field(None, description="收费金额（元，complete；未收费不填）")
    rating: int | None = Field(None, ge=1, le=5)
    comment: str | None = None
    lat: float | None = None
    lng: float | None = None
    # request_change, approve_change, reject_change, escalate (docs/api.md, Change requests)
    kind: ChangeKindCode | None = Field(None, description="变更类型（request_change）")
    new_category: str | None = Field(None, description="新类别编码（kind=category）")
    measures: str | None = Field(None, description="新的维修措施（kind=measures）")
    new_due_at: datetime | None = Field(None, description="新的完成时限（kind=deadline）")
    extra_work: str | None = Field(None, description="增加的工作内容（kind=extra_work）")
    change: int | None = Field(None, ge=1, description="审批的变更申请编号（可选）")
    expert: str | None = Field(None, description="专家用户名（escalate）")


# --- orders out -----------------------------------------------------------------------------


class DeadlineOut(Schema):
    clock: str = Field(..., description="accept（受理）、arrive（到场）或 complete（完成）")
    label: str
    state: str = Field(
        ...,
        description="green/amber/red：进行中的颜色；paused：挂起暂停；met/late/ended：已停止",
    )
    due_at: datetime | None = Field(..., description="截止时间；挂起暂停时为 null")
    remaining_seconds: int | None = Field(..., description="剩余的计时时间（按日历计）")
    overdue_seconds: int | None = Field(..., description="已超时多久")
    text: str


class OrderOut(Schema):
    number: str
    status: str
    status_label: str
    version: int
    category: str
    category_name: str
    place: str | None
    place_name: str
    address: str
    description: str
    urgency: str
    channel: str
    preferred_time: datetime | None
    reporter_name: str
    reporter_phone: str = Field(..., description="列表中一律打码；详情中工作人员和报修人可见全号")
    assignee: str | None
    assignee_name: str
    result: str
    rating: int | None
    created_at: datetime
    updated_at: datetime
    url: str
    tracking_url: str | None = Field(None, description="报修人的私密跟踪链接，只给报修人")
    deadlines: list[DeadlineOut] = Field(
        default_factory=list,
        description="服务时限（只给工作人员）：列表中为进行中的时限，详情中为全部时限",
    )


class EventOut(Schema):
    code: str
    actor: str
    channel: str
    from_status: str
    to_status: str
    data: dict[str, Any]
    created_at: datetime


class AttachmentOut(Schema):
    url: str
    kind: str
    content_type: str
    size: int
    original_name: str
    created_at: datetime


class ChangeOut(Schema):
    id: int
    order: str
    kind: str
    kind_label: str
    status: str
    status_label: str
    summary: str = Field(..., description="变更内容的文字说明")
    reason: str
    new_category: str | None
    new_category_name: str
    measures: str
    new_due_at: datetime | None
    extra_work: str
    requested_by: str
    requested_by_name: str
    created_at: datetime
    decided_by: str | None = Field(..., description="审批人用户名；系统自动关闭时为 null")
    decided_at: datetime | None
    decision_note: str
    order_url: str


class AssetOut(Schema):
    code: str
    name: str


class OrderDetailOut(OrderOut):
    asset: AssetOut | None = Field(..., description="报修的设备；没有则为 null")
    expert: str | None
    expert_name: str
    escalated_at: datetime | None
    measures: str
    due_at: datetime | None
    pending_change: ChangeOut | None = Field(..., description="待审批的变更申请（只给工作人员）")
    hold_reason: str
    completion_note: str
    suggestion: str
    fee: Decimal | None = Field(..., description="收费金额（元），维修人员完工时登记")
    rating_comment: str
    reopen_count: int
    accepted_at: datetime | None
    dispatched_at: datetime | None
    acknowledged_at: datetime | None
    arrived_at: datetime | None
    completed_at: datetime | None
    closed_at: datetime | None
    allowed_actions: list[str]
    events: list[EventOut]
    attachments: list[AttachmentOut]


class OrderListOut(Schema):
    items: list[OrderOut]
    count: int


# --- catalogue --------------------------------------------------------------------------------


class CategoryOut(Schema):
    code: str
    name: str
    parent: str | None
    default_urgency: str
    is_paid: bool
    auto_accept: bool


class CategoryListOut(Schema):
    items: list[CategoryOut]
    count: int


class PlaceOut(Schema):
    kind: str
    code: str
    name: str
    full_name: str
    lat: float | None
    lng: float | None
    has_children: bool


class PlaceListOut(Schema):
    items: list[PlaceOut]
    count: int


# --- filling them -------------------------------------------------------------------------------


def _local(value: datetime | None) -> datetime | None:
    return timezone.localtime(value) if value is not None else None


def _sees_full_phone(order: WorkOrder, viewer) -> bool:
    if not getattr(viewer, "is_authenticated", False):
        return False
    return bool(viewer.is_staff_member or order.reporter_id == viewer.pk)


def order_summary(
    order: WorkOrder,
    *,
    viewer=None,
    full_phone: bool = False,
    tracking: bool = False,
    deadlines: bool = False,
) -> dict[str, Any]:
    """One order as the list shows it. Uses only the relations for_listing() selects, and
    with `deadlines` the clocks `sla.queries.load_clocks` fetched for the page."""
    assignee = order.assignee if order.assignee_id else None
    place = order.place if order.place_id else None
    category: Category = order.category
    return {
        "number": order.number,
        "status": order.status,
        "status_label": str(Status(order.status).label),
        "version": order.version,
        "category": category.code,
        "category_name": category.name,
        "place": place.code if place else None,
        "place_name": place.full_name if place else "",
        "address": order.address,
        "description": order.description,
        "urgency": order.urgency,
        "channel": order.channel,
        "preferred_time": _local(order.preferred_time),
        "reporter_name": order.reporter_name,
        "reporter_phone": order.reporter_phone if full_phone else order.masked_phone,
        "assignee": assignee.username if assignee else None,
        "assignee_name": assignee.name if assignee else "",
        "result": order.result,
        "rating": order.rating,
        "created_at": _local(order.created_at),
        "updated_at": _local(order.updated_at),
        "url": f"{API_ROOT}/orders/{order.number}",
        "tracking_url": order.tracking_url if tracking else None,
        "deadlines": deadlines_out(chips_for(order)) if deadlines else [],
    }


def deadlines_out(chips) -> list[dict[str, Any]]:
    """SLA chips (repairhub.sla.queries) as the API shows them."""
    return [
        {
            "clock": c.kind,
            "label": c.label,
            "state": c.state,
            "due_at": _local(c.due_at),
            "remaining_seconds": int(c.left.total_seconds()) if c.left is not None else None,
            "overdue_seconds": int(c.overdue.total_seconds()) if c.overdue is not None else None,
            "text": c.text,
        }
        for c in chips
    ]


def event_out(event: Event) -> dict[str, Any]:
    return {
        "code": event.code,
        "actor": event.actor_label,
        "channel": event.channel,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "data": event.data or {},
        "created_at": _local(event.created_at),
    }


def attachment_out(att: Attachment) -> dict[str, Any]:
    return {
        "url": att.file.url,
        "kind": att.kind,
        "content_type": att.content_type,
        "size": att.size,
        "original_name": att.original_name,
        "created_at": _local(att.created_at),
    }


def change_out(change: ChangeRequest) -> dict[str, Any]:
    """One change request; uses the relations queries.change_requests selects."""
    category = change.new_category if change.new_category_id else None
    decided_by = change.decided_by if change.decided_by_id else None
    return {
        "id": change.pk,
        "order": change.order.number,
        "kind": change.kind,
        "kind_label": change.get_kind_display(),
        "status": change.status,
        "status_label": change.get_status_display(),
        "summary": change.summary,
        "reason": change.reason,
        "new_category": category.code if category else None,
        "new_category_name": str(category) if category else "",
        "measures": change.measures,
        "new_due_at": _local(change.new_due_at),
        "extra_work": change.extra_work,
        "requested_by": change.requested_by.username,
        "requested_by_name": change.requested_by.name,
        "created_at": _local(change.created_at),
        "decided_by": decided_by.username if decided_by else None,
        "decided_at": _local(change.decided_at),
        "decision_note": change.decision_note,
        "order_url": f"{API_ROOT}/orders/{change.order.number}",
    }


def order_detail(order: WorkOrder, *, viewer) -> dict[str, Any]:
    """One order with its timeline, attachments and what this viewer may do next."""
    from repairhub.workorders.lifecycle import allowed_actions
    from repairhub.workorders.models import ChangeStatus
    from repairhub.workorders.queries import timeline

    is_reporter = bool(getattr(viewer, "pk", None)) and order.reporter_id == viewer.pk
    data = order_summary(
        order, viewer=viewer, full_phone=_sees_full_phone(order, viewer), tracking=is_reporter
    )
    pending = None
    if getattr(viewer, "is_staff_member", False):  # change requests are internal
        pending = (
            order.change_requests.filter(status=ChangeStatus.PENDING)
            .select_related("requested_by", "decided_by", "new_category__parent")
            .first()
        )
    expert = order.expert if order.expert_id else None
    asset = order.asset if order.asset_id else None
    data.update(
        asset={"code": asset.code, "name": asset.name} if asset else None,
        expert=expert.username if expert else None,
        expert_name=expert.name if expert else "",
        escalated_at=_local(order.escalated_at),
        measures=order.measures,
        due_at=_local(order.due_at),
        pending_change=change_out(pending) if pending else None,
    )
    if getattr(viewer, "is_staff_member", False):
        data["deadlines"] = deadlines_out(deadlines_for(order))
    data.update(
        hold_reason=order.hold_reason,
        completion_note=order.completion_note,
        suggestion=order.suggestion,
        fee=order.fee,
        rating_comment=order.rating_comment,
        reopen_count=order.reopen_count,
        accepted_at=_local(order.accepted_at),
        dispatched_at=_local(order.dispatched_at),
        acknowledged_at=_local(order.acknowledged_at),
        arrived_at=_local(order.arrived_at),
        completed_at=_local(order.completed_at),
        closed_at=_local(order.closed_at),
        allowed_actions=[str(a) for a in allowed_actions(order, viewer)],
        events=[event_out(e) for e in timeline(order)],
        attachments=[attachment_out(a) for a in order.attachments.order_by("id")],
    )
    return data


def created_order(order: WorkOrder, *, viewer) -> dict[str, Any]:
    """The answer to whoever just submitted the order: it carries the private tracking link."""
    return order_summary(order, viewer=viewer, full_phone=_sees_full_phone(order, viewer)) | {
        "tracking_url": order.tracking_url
    }


def category_out(category: Category) -> dict[str, Any]:
    return {
        "code": category.code,
        "name": category.name,
        "parent": category.parent.code if category.parent_id else None,
        "default_urgency": category.default_urgency,
        "is_paid": category.is_paid,
        "auto_accept": category.auto_accept,
    }


def place_out(place) -> dict[str, Any]:
    building = place.kind == PlaceKind.BUILDING
    return {
        "kind": place.kind,
        "code": place.code,
        "name": place.name,
        "full_name": place.full_name,
        "lat": float(place.latitude) if building and place.latitude is not None else None,
        "lng": float(place.longitude) if building and place.longitude is not None else None,
        "has_children": bool(place.has_children),
    }
