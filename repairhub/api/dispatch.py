"""/api/v1 dispatch: candidates, dispatch (by name or `auto`), the pool, team rebalancing.

Each endpoint checks visibility, then calls the same services as the pages
(repairhub.dispatch.services, workorders.services.perform).
"""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.responses import Status as Reply
from pydantic import ConfigDict

from repairhub.accounts.models import Team
from repairhub.accounts.roles import Role
from repairhub.dispatch import services
from repairhub.workorders.access import access_work_order
from repairhub.workorders.errors import NotAllowed
from repairhub.workorders.models import WorkOrder
from repairhub.workorders.services import perform
from repairhub.workorders.states import Action, Status

from .schemas import ErrorOut, OrderDetailOut, order_detail, order_summary

router = Router(tags=["dispatch"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
DESK = (Role.DISPATCHER, Role.ADMIN)


class CandidateOut(Schema):
    username: str
    name: str
    qualifies: bool
    cost: float = Field(..., description="综合成本（越低越合适），单位约等于公里")
    distance_km: float | None
    refusals: list[str] = Field(..., description="不符合的硬性规则；为空表示可派")
    parts: dict[str, float] = Field(..., description="distance、zone、load、skill、fairness")


class DispatchIn(Schema):
    model_config = ConfigDict(extra="forbid")

    technician: str = Field(..., description="维修人员用户名，或 auto 由系统按规则选择")
    version: int | None = Field(None, ge=1)
    reason: str | None = None


class DispatchOut(Schema):
    order: OrderDetailOut
    auto: dict | None = Field(None, description="自动派工时：选中的人和其他候选人及原因")
    waiting: dict[str, int] | None = Field(None, description="无人可派时：各条规则排除的人数")


class MoveOut(Schema):
    number: str
    from_name: str
    to_name: str


def _candidate(c) -> dict:
    d = c.as_dict()
    return {k: d[k] for k in ("username", "name", "qualifies", "cost", "distance_km")} | {
        "refusals": list(c.refusals),
        "parts": d["parts"],
    }


def _desk_only(user, *also: str) -> None:
    if not user.has_role(*DESK, *also):
        raise NotAllowed(_("只有调度员可以执行此操作。"))


@router.get(
    "/orders/{number}/candidates",
    response={200: list[CandidateOut], **ERRORS},
    summary="推荐维修人员",
)
def order_candidates(request: HttpRequest, number: str):
    """Every technician with a dispatch profile ranked for this order: those who qualify first,
    cheapest first, then the others with the hard rules they break."""
    _desk_only(request.auth, Role.TEAM_LEAD)
    order = access_work_order(request.auth, number)
    return [_candidate(c) for c in services.candidates(order)]


@router.post(
    "/orders/{number}/dispatch", response={200: DispatchOut, **ERRORS}, summary="派工（可自动）"
)
def dispatch_order(request: HttpRequest, number: str, payload: DispatchIn):
    """`technician: "auto"` applies the category's automatic rule now and explains the choice;
    a username dispatches (or reassigns) to that person, like the dispatch action."""
    order = access_work_order(request.auth, number)
    if payload.technician.strip().lower() == "auto":
        outcome = services.dispatch_automatically(order, by=request.auth)
        order.refresh_from_db()
        auto = None
        if outcome.chosen is not None:
            auto = order.events.filter(code__in=["workorder.dispatched", "workorder.reassigned"])
            auto = auto.latest("id").data.get("auto")
        return {
            "order": order_detail(order, viewer=request.auth),
            "auto": auto,
            "waiting": outcome.reasons or None,
        }
    action = Action.DISPATCH if order.status == Status.ACCEPTED else Action.REASSIGN
    params = {"technician": payload.technician}
    if payload.reason:
        params["reason"] = payload.reason
    perform(order, action, by=request.auth, channel="api", version=payload.version, **params)
    return {"order": order_detail(order, viewer=request.auth), "auto": None, "waiting": None}


@router.get("/pool", response={200: list[dict], **ERRORS}, summary="抢单池")
def pool(request: HttpRequest):
    """Accepted orders of pool categories that the calling technician has the skill for."""
    if not request.auth.has_role(Role.TECHNICIAN, Role.EXPERT):
        raise NotAllowed(_("只有维修人员可以查看抢单池。"))
    return [order_summary(o) for o in services.pool_orders(request.auth)[:100]]


@router.post("/pool/{number}/claim", response={200: OrderDetailOut, **ERRORS}, summary="抢单")
def claim(request: HttpRequest, number: str):
    """First claim wins; a late one gets 409 and changes nothing."""
    order = get_object_or_404(WorkOrder, number=number)
    services.claim(order, by=request.auth)
    return order_detail(order, viewer=request.auth)


@router.post(
    "/teams/{code}/rebalance", response={200: list[MoveOut], **ERRORS}, summary="班组工单调整"
)
def rebalance(request: HttpRequest, code: str):
    team = get_object_or_404(Team, code=code)
    moves = services.rebalance_team(team, by=request.auth)
    return [{"number": n, "from_name": a, "to_name": b} for n, a, b in moves]


# --- optimised plans -----------------------------------------------------------------------


class PlanIn(Schema):
    model_config = ConfigDict(extra="forbid")

    orders: list[str] | None = Field(None, description="工单号；省略表示全部待派工单")
    seconds: float | None = Field(None, description="求解时限，0.5–120 秒，默认 5")


class PlanRoutesIn(Schema):
    model_config = ConfigDict(extra="forbid")

    routes: dict[str, list[str]] = Field(
        ..., description="{维修人员用户名: [按上门顺序的工单号]}；未列出的工单移出计划"
    )


class PlanOut(Schema):
    id: int
    status: str
    created_at: str
    summary: dict
    routes: list[dict]


class AppliedOut(Schema):
    id: int
    status: str
    dispatched: int


def _plan_out(plan) -> dict:
    from repairhub.dispatch.plans import routes_of

    return {
        "id": plan.pk,
        "status": plan.status,
        "created_at": plan.created_at.isoformat(),
        "summary": plan.summary,
        "routes": routes_of(plan),
    }


def _plan(pk: int):
    from repairhub.dispatch.models import Plan

    return get_object_or_404(Plan, pk=pk)


@router.post("/plans", response={201: PlanOut, **ERRORS}, summary="制定派工计划")
def create_plan(request: HttpRequest, payload: PlanIn):
    """Plan the waiting orders: who goes where, in which order. Nothing is dispatched until
    the plan is applied."""
    from repairhub.dispatch.plans import create_plan as make

    plan = make(by=request.auth, numbers=payload.orders, seconds=payload.seconds)
    return Reply(201, _plan_out(plan))


@router.get("/plans/{plan_id}", response={200: PlanOut, **ERRORS}, summary="查看派工计划")
def show_plan(request: HttpRequest, plan_id: int):
    _desk_only(request.auth)
    return _plan_out(_plan(plan_id))


@router.put("/plans/{plan_id}/routes", response={200: PlanOut, **ERRORS}, summary="修改派工计划")
def edit_plan(request: HttpRequest, plan_id: int, payload: PlanRoutesIn):
    """Replace the routes; refused (422) if the edit breaks a hard rule, and nothing changes."""
    from repairhub.dispatch.plans import edit_plan as edit

    return _plan_out(edit(_plan(plan_id), by=request.auth, routes=payload.routes))


@router.post("/plans/{plan_id}/apply", response={200: AppliedOut, **ERRORS}, summary="执行派工计划")
def apply_plan(request: HttpRequest, plan_id: int):
    """Dispatch every planned order in one transaction. If any changed since planning, 409
    names them and nothing is dispatched."""
    from repairhub.dispatch.plans import apply_plan as run

    plan = _plan(plan_id)
    n = run(plan, by=request.auth)
    plan.refresh_from_db()
    return {"id": plan.pk, "status": plan.status, "dispatched": n}
