"""Dispatch pages: ranked candidates and automatic dispatch for an order, the technician's
pool (抢单), team rebalancing, and optimised plans."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from repairhub.accounts.models import Team, User
from repairhub.accounts.roles import Role
from repairhub.workorders.access import access_work_order
from repairhub.workorders.errors import InvalidInput, OrderError
from repairhub.workorders.models import WorkOrder
from repairhub.workorders.states import Status
from repairhub.workorders.views import page_for, refuse

from . import services

DESK_ROLES = (Role.DISPATCHER, Role.ADMIN)
TECH_ROLES = (Role.TECHNICIAN, Role.EXPERT)


def _order_or_refusal(request, number):
    try:
        return access_work_order(request.user, number), None
    except OrderError as exc:
        return None, refuse(request, exc.message, exc.status)


@page_for(*DESK_ROLES, Role.TEAM_LEAD)
def candidates(request, number):
    """Everyone ranked for this order, with the cost parts and the rules each one breaks."""
    order, refusal = _order_or_refusal(request, number)
    if refusal:
        return refusal
    ranked = services.candidates(order)
    context = {
        "order": order,
        "ranked": ranked,
        "can_auto": order.status == Status.ACCEPTED and request.user.has_role(*DESK_ROLES),
        "can_dispatch": order.status in (Status.ACCEPTED, Status.DISPATCHED, Status.ACKNOWLEDGED)
        and request.user.has_role(*DESK_ROLES, Role.TEAM_LEAD),
        "action": "dispatch" if order.status == Status.ACCEPTED else "reassign",
    }
    template = "dispatch/candidates.html"
    if request.htmx:
        template += "#candidates"
    return render(request, template, context)


@page_for(*DESK_ROLES)
@require_POST
def auto(request, number):
    order, refusal = _order_or_refusal(request, number)
    if refusal:
        return refusal
    try:
        outcome = services.dispatch_automatically(order, by=request.user)
    except OrderError as exc:
        return refuse(request, exc.message, exc.status)
    if outcome.chosen:
        messages.success(
            request,
            _("工单 %(number)s 已自动派给 %(name)s。")
            % {"number": order.number, "name": outcome.chosen.name},
        )
    else:
        messages.warning(
            request,
            _("工单 %(number)s 暂无合适人员：%(why)s。")
            % {"number": order.number, "why": "；".join(outcome.reasons)},
        )
    return redirect(reverse("dispatch:candidates", args=[order.number]))


@page_for(*TECH_ROLES)
def pool(request):
    orders = list(services.pool_orders(request.user)[:100])
    return render(request, "dispatch/pool.html", {"orders": orders})


@page_for(*TECH_ROLES)
@require_POST
def claim(request, number):
    order = get_object_or_404(WorkOrder, number=number)
    try:
        services.claim(order, by=request.user)
    except OrderError as exc:
        messages.error(request, exc.message)
        return redirect("dispatch:pool")
    messages.success(request, _("抢单成功：%(number)s 已归您处理。") % {"number": number})
    return redirect("workorders:tech-list")


@page_for(*DESK_ROLES, Role.TEAM_LEAD)
@require_POST
def rebalance(request, code):
    team = get_object_or_404(Team, code=code)
    try:
        moves = services.rebalance_team(team, by=request.user)
    except OrderError as exc:
        return refuse(request, exc.message, exc.status)
    if moves:
        messages.success(
            request,
            _("已调整 %(n)d 张工单：%(list)s")
            % {"n": len(moves), "list": "；".join(f"{n} {a}→{b}" for n, a, b in moves)},
        )
    else:
        messages.info(request, _("班组工单已经均衡，无需调整。"))
    return redirect("workorders:dispatch-board")


# --- optimised plans (DP5) -----------------------------------------------------------------


@page_for(*DESK_ROLES)
def plans_page(request):
    """Recent plans, and the form that asks for a new one."""
    from .models import Plan
    from .plans import create_plan

    if request.method == "POST":
        numbers = [
            n for n in request.POST.get("orders", "").replace("，", ",").split(",") if n.strip()
        ]
        try:
            seconds = float(request.POST.get("seconds") or 5)
        except ValueError:
            seconds = -1.0
        try:
            plan = create_plan(
                by=request.user, numbers=[n.strip() for n in numbers] or None, seconds=seconds
            )
        except OrderError as exc:
            messages.error(request, exc.message)
        else:
            return redirect("dispatch:plan-detail", pk=plan.pk)
    recent = Plan.objects.select_related("created_by")[:20]
    waiting = WorkOrder.objects.filter(status=Status.ACCEPTED).count()
    return render(request, "dispatch/plans.html", {"plans": recent, "waiting": waiting})


@page_for(*DESK_ROLES)
def plan_detail(request, pk):
    from repairhub.dispatch.map_views import map_config
    from repairhub.dispatch.positions import map_snapshot

    from .models import Plan
    from .plans import routes_of

    plan = get_object_or_404(Plan, pk=pk)
    routes = routes_of(plan)
    technicians = [(t.username, t.name) for t in _plannable_people()]
    map_routes = [
        {
            "technician": r["name"],
            "points": [],
            "stops": [
                {"number": s["number"], "lat": s["lat"], "lng": s["lng"], "sequence": s["sequence"]}
                for s in r["stops"]
                if s["lat"] is not None
            ],
        }
        for r in routes
    ]
    context = {
        "plan": plan,
        "routes": routes,
        "technicians": technicians,
        "config": map_config(feed=False),
        "snapshot": map_snapshot(request.user),
        "map_routes": map_routes,
    }
    return render(request, "dispatch/plan_detail.html", context)


def _plannable_people():
    from .models import TechnicianProfile

    return (
        User.objects.filter(dispatch_profile__in=TechnicianProfile.objects.all(), is_active=True)
        .order_by("username")
        .only("username", "display_name")
    )


@page_for(*DESK_ROLES)
@require_POST
def plan_action(request, pk, verb):
    from .models import Plan
    from .plans import apply_plan, discard_plan, edit_plan

    plan = get_object_or_404(Plan, pk=pk)
    try:
        if verb == "apply":
            n = apply_plan(plan, by=request.user)
            messages.success(request, _("计划已执行：派出 %(n)d 张工单。") % {"n": n})
            return redirect("workorders:dispatch-board")
        if verb == "discard":
            discard_plan(plan, by=request.user)
            messages.info(request, _("计划已放弃。"))
            return redirect("dispatch:plans")
        if verb == "edit":
            routes: dict[str, list[tuple[float, str]]] = {}
            for number in request.POST.getlist("number"):
                who = request.POST.get(f"tech-{number}", "")
                if not who:
                    continue  # left out of the plan
                try:
                    seq = float(request.POST.get(f"seq-{number}") or 0)
                except ValueError:
                    raise InvalidInput(_("顺序必须是数字。"), field=f"seq-{number}") from None
                routes.setdefault(who, []).append((seq, number))
            edit_plan(
                plan,
                by=request.user,
                routes={who: [n for _s, n in sorted(stops)] for who, stops in routes.items()},
            )
            messages.success(request, _("计划已按您的修改重新核算。"))
            return redirect("dispatch:plan-detail", pk=plan.pk)
    except OrderError as exc:
        messages.error(request, exc.message)
        return redirect("dispatch:plan-detail", pk=plan.pk)
    return refuse(request, _("未知操作：%(action)s。") % {"action": verb}, 404)
