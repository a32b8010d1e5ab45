"""/api/v1 change requests (工单变更) and expert escalations (DP4).

Each endpoint parses (schema) → checks visibility (workorders.access) → takes one lifecycle
action through services.perform, the same path as the web buttons → serialises (schemas.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status as Reply
from pydantic import ConfigDict

from repairhub.accounts.roles import Role
from repairhub.workorders.access import access_work_order
from repairhub.workorders.errors import NotAllowed, NotVisible
from repairhub.workorders.models import ChangeRequest, ChangeStatus
from repairhub.workorders.queries import change_requests, expert_orders
from repairhub.workorders.services import perform
from repairhub.workorders.states import Action

from .schemas import (
    ChangeKindCode,
    ChangeOut,
    ErrorOut,
    OrderDetailOut,
    OrderListOut,
    change_out,
    order_detail,
    order_summary,
)

router = Router(tags=["changes"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
VERSION = Field(None, ge=1, description="乐观锁：工单当前 version")


class ChangeIn(Schema):
    """A change request: `kind`, `reason`, and the one value that kind needs."""

    model_config = ConfigDict(extra="forbid")

    kind: ChangeKindCode | None = Field(
        None, description="category、measures、deadline、extra_work"
    )
    reason: str | None = Field(None, description="变更原因（必填）")
    new_category: str | None = Field(
        None, description="kind=category：新类别编码（须为启用的类别）"
    )
    measures: str | None = Field(None, description="kind=measures：新的维修措施（替换原措施）")
    new_due_at: datetime | None = Field(
        None, description="kind=deadline：新的完成时限，须晚于现在和当前时限"
    )
    extra_work: str | None = Field(None, description="kind=extra_work：追加到维修措施的新一段")
    version: int | None = VERSION


class ApproveIn(Schema):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, description="审批说明（可选）")
    version: int | None = VERSION


class RejectIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(None, description="驳回原因（必填，会告知申请人）")
    version: int | None = VERSION


class EscalateIn(Schema):
    model_config = ConfigDict(extra="forbid")

    expert: str | None = Field(None, description="专家用户名（必填）")
    reason: str | None = Field(None, description="转专家原因（必填）")
    version: int | None = VERSION


class ChangeQuery(Schema):
    status: Literal["pending", "approved", "rejected"] = "pending"
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0)


class PageQuery(Schema):
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0)


class ChangeListOut(Schema):
    items: list[ChangeOut]
    count: int


def _act(request: HttpRequest, number: str, action: str, payload: Schema | None, **extra):
    """Take `action` on the order through the lifecycle; returns (order, event)."""
    order = access_work_order(request.auth, number)
    params = payload.model_dump(exclude_unset=True) if payload is not None else {}
    version = params.pop("version", None)
    event = perform(
        order, action, by=request.auth, channel="api", version=version, **params, **extra
    )
    return order, event


def _change(order_number: str, change_id: int) -> ChangeRequest:
    return (
        ChangeRequest.objects.select_related(
            "order", "requested_by", "decided_by", "new_category__parent"
        )
        .filter(pk=change_id, order__number=order_number)
        .first()
    )


def _visible_change(request: HttpRequest, number: str, change_id: int) -> None:
    access_work_order(request.auth, number)  # 404 first for orders out of sight
    if _change(number, change_id) is None:
        raise NotVisible(
            _("工单 %(number)s 没有编号为 %(id)s 的变更申请。")
            % {"number": number, "id": change_id}
        )


@router.post(
    "/orders/{number}/changes",
    response={201: ChangeOut, **ERRORS},
    summary="申请工单变更",
)
def create_change(request: HttpRequest, number: str, payload: ChangeIn | None = None):
    """The assigned technician asks to change the category or the measures, extend the
    deadline or add work. Nothing changes on the order until a dispatcher approves."""
    order, event = _act(request, number, Action.REQUEST_CHANGE, payload)
    return Reply(201, change_out(_change(order.number, event.data["change"])))


@router.post(
    "/orders/{number}/changes/{change_id}/approve",
    response={200: ChangeOut, **ERRORS},
    summary="批准工单变更",
)
def approve_change(
    request: HttpRequest, number: str, change_id: int, payload: ApproveIn | None = None
):
    """Dispatchers and admins: apply the pending change to the order."""
    _visible_change(request, number, change_id)
    _act(request, number, Action.APPROVE_CHANGE, payload, change=change_id)
    return change_out(_change(number, change_id))


@router.post(
    "/orders/{number}/changes/{change_id}/reject",
    response={200: ChangeOut, **ERRORS},
    summary="驳回工单变更",
)
def reject_change(
    request: HttpRequest, number: str, change_id: int, payload: RejectIn | None = None
):
    """Dispatchers and admins: refuse the pending change with a reason the technician is told."""
    _visible_change(request, number, change_id)
    _act(request, number, Action.REJECT_CHANGE, payload, change=change_id)
    return change_out(_change(number, change_id))


@router.get("/changes", response={200: ChangeListOut, **ERRORS}, summary="变更申请队列")
def list_changes(request: HttpRequest, filters: Query[ChangeQuery]):
    """Change requests on the orders the caller may see, oldest first: with the default
    `status=pending`, the dispatcher's queue."""
    qs = change_requests(request.auth, filters.status or ChangeStatus.PENDING)
    page = qs[filters.offset : filters.offset + filters.limit]
    return {"items": [change_out(c) for c in page], "count": qs.count()}


@router.post(
    "/orders/{number}/escalate",
    response={200: OrderDetailOut, **ERRORS},
    summary="转专家",
)
def escalate(request: HttpRequest, number: str, payload: EscalateIn | None = None):
    """Hand a complex order to an expert (DP4): he is told (in-app, SMS if he has a phone),
    sees the order, and may guide (`actions/guide`) or take it over (`actions/take_over`)."""
    order, _event = _act(request, number, Action.ESCALATE, payload)
    return order_detail(order, viewer=request.auth)


@router.get("/expert/orders", response={200: OrderListOut, **ERRORS}, summary="专家工单队列")
def list_expert_orders(request: HttpRequest, filters: Query[PageQuery]):
    """Open orders escalated to the caller, oldest escalation first. Experts only."""
    if not request.auth.has_role(Role.EXPERT):
        raise NotAllowed(_("只有技术专家有专家工单队列。"))
    qs = expert_orders(request.auth)
    page = qs[filters.offset : filters.offset + filters.limit]
    return {"items": [order_summary(o) for o in page], "count": qs.count()}
