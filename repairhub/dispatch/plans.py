"""Optimised dispatch plans (DP5): many waiting orders, one plan of who goes where, in order.

`create_plan` turns the waiting orders and the technicians on duty into a routing problem
(routing.py) and keeps the answer as a draft `Plan`; `edit_plan` lets the dispatcher move
orders between routes (the edit is replayed, so it cannot break a hard rule); `apply_plan`
dispatches every planned order in one transaction, each with its event — or, if any order
changed since it was planned, applies nothing and names those orders.

The mapping:
- technicians on duty now with free slots → vehicles: start at the fresh last position or the
  base, shift from now to the end of today's working hours, capacity = free slots;
- orders waiting (accepted) whose place has coordinates → stops: service time from the
  category's policy, allowed technicians by the hard rules (skill, team, not a decliner), a
  soft deadline (the order's `due_at`, else its urgency's default) whose lateness costs
  per second in proportion to urgency, and a large penalty for leaving it out;
- time in seconds from now, distances in metres, travel at `DISPATCH_SPEED_KMH`.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from repairhub.accounts.models import User
from repairhub.accounts.roles import Role
from repairhub.workorders.errors import InvalidInput, NotAllowed, OrderError
from repairhub.workorders.lifecycle import apply
from repairhub.workorders.models import WorkOrder
from repairhub.workorders.states import Action, Status

from . import routing, rules
from .models import Plan, PlanStatus, PlanStop
from .services import orders_facts, place_positions, policies_for, technician_facts

# Hours from reporting to the soft deadline, when the order carries no deadline of its own.
DEFAULT_DUE_HOURS = {"critical": 2, "high": 4, "normal": 24, "low": 72}
# Leaving an order out costs as much as 10,000 km of travel: only when nobody can take it.
DROP_PENALTY_M = 10_000_000
MAX_ORDERS = 5000


class StalePlan(OrderError):
    status = 409
    code = "stale_plan"


def _seconds(settings_name: str, default: float) -> float:
    return float(getattr(settings, settings_name, default))


def _shift_end(now: dt.datetime, start: dt.time, end: dt.time) -> float:
    """Seconds from `now` to the end of the current working period (0 when off hours)."""
    local = timezone.localtime(now)
    if not rules.within_hours(start, end, local.time()):
        return 0.0
    if start == end:
        return 24 * 3600.0
    finish = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if finish <= local:
        finish += dt.timedelta(days=1)
    return (finish - local).total_seconds()


def build_problem(
    orders: list[WorkOrder], *, now: dt.datetime
) -> tuple[routing.Problem, dict, list[dict]]:
    """The routing problem for these orders; also the technicians by id and the orders that
    cannot be planned, with why."""
    techs = technician_facts(now=now)
    vehicles, by_id = [], {}
    for t in techs:
        free = t.max_open - t.open_orders
        if not t.on_duty or free <= 0 or t.position is None:
            continue
        end = _shift_end(now, t.work_start, t.work_end)
        if end <= 0:
            continue
        vehicles.append(
            routing.Vehicle(
                id=t.user_id, start=t.position, end=None, shift=(0, int(end)), capacity=free
            )
        )
        by_id[t.user_id] = t
    stops, unplannable = [], []
    policies = policies_for({o.category for o in orders})
    all_facts = orders_facts(orders, policies)
    for order in orders:
        facts = all_facts[order.pk]
        if facts.position is None:
            unplannable.append({"number": order.number, "why": _("地点没有坐标")})
            continue
        allowed = frozenset(
            uid
            for uid, t in by_id.items()
            if rules.skill_level(t, facts) is not None
            and uid not in facts.excluded
            and (facts.team_id is None or t.team_id == facts.team_id)
        )
        if not allowed:
            unplannable.append({"number": order.number, "why": _("没有在岗且具备技能的人员")})
            continue
        if getattr(order, "due_at", None):
            due_at = order.due_at
        else:
            due_at = order.created_at + dt.timedelta(hours=DEFAULT_DUE_HOURS.get(order.urgency, 24))
        policy = policies[order.category_id]
        stops.append(
            routing.Stop(
                id=order.pk,
                position=facts.position,
                service=int(policy.service_minutes) * 60,
                due=max(0, int((due_at - now).total_seconds())),
                lateness_weight=rules.URGENCY_WEIGHT.get(order.urgency, 2),
                allowed=allowed,
                demand=1,
                drop_penalty=DROP_PENALTY_M,
            )
        )
    speed = _seconds("DISPATCH_SPEED_KMH", 25) * 1000 / 3600
    problem = routing.Problem(
        vehicles=tuple(vehicles), stops=tuple(stops), metric="haversine", speed=speed, scale=1
    )
    return problem, by_id, unplannable


def _dispatcher(by: User) -> None:
    if not by.has_role(Role.DISPATCHER, Role.ADMIN):
        raise NotAllowed(_("只有调度员可以制定和执行派工计划。"))


def create_plan(
    *, by: User, numbers: list[str] | None = None, seconds: float | None = None, now=None
) -> Plan:
    """Plan the waiting orders (all accepted ones, or those numbered) within `seconds`."""
    _dispatcher(by)
    now = now or timezone.now()
    seconds = seconds if seconds is not None else _seconds("DISPATCH_PLAN_SECONDS", 5)
    if not 0.5 <= seconds <= 120:
        raise InvalidInput(_("求解时限应在 0.5 到 120 秒之间。"), field="seconds")
    orders = WorkOrder.objects.filter(status=Status.ACCEPTED).select_related("category", "place")
    if numbers:
        orders = orders.filter(number__in=numbers)
        found = set(orders.values_list("number", flat=True))
        missing = [n for n in numbers if n not in found]
        if missing:
            raise InvalidInput(
                _("以下工单不存在或不在待派工状态：%(list)s") % {"list": "、".join(missing)},
                field="orders",
            )
    orders = list(orders.order_by("created_at")[:MAX_ORDERS])
    if not orders:
        raise InvalidInput(_("没有待派工的工单。"), field="orders")
    problem, _techs, unplannable = build_problem(orders, now=now)
    if problem.stops and problem.vehicles:
        solution = routing.solve(problem, seconds=seconds)
    else:
        solution = routing.evaluate(problem, {})
    by_pk = {o.pk: o for o in orders}
    with transaction.atomic():
        plan = Plan.objects.create(
            created_by=by,
            created_at=now,
            seconds=seconds,
            order_versions={str(o.pk): o.version for o in orders},
            summary={},
        )
        _store(plan, problem, solution, by_pk, now=now)
        plan.summary |= {
            "solver_status": solution.status,
            "solve_seconds": round(solution.seconds, 2),
            "technicians": len(problem.vehicles),
            "orders": len(orders),
            "unplannable": unplannable,
        }
        plan.save(update_fields=["summary"])
    return plan


def _store(plan: Plan, problem, solution, by_pk: dict, *, now) -> None:
    """(Re)write the plan's stops and figures from an exact solution."""
    plan.stops.all().delete()
    rows = []
    positions = {s.id: s.position for s in problem.stops}
    starts = {v.id: v.start for v in problem.vehicles}
    for route in solution.routes:
        here = starts[route.vehicle_id]
        for seq, visit in enumerate(route.visits, start=1):
            leg = routing.distance(here, positions[visit.stop_id], "haversine")
            here = positions[visit.stop_id]
            rows.append(
                PlanStop(
                    plan=plan,
                    technician_id=route.vehicle_id,
                    order_id=visit.stop_id,
                    sequence=seq,
                    eta=now + dt.timedelta(seconds=visit.start),
                    lateness_minutes=round(visit.lateness / 60, 1),
                    travel_km=round(leg / 1000, 3),
                )
            )
    PlanStop.objects.bulk_create(rows)
    plan.summary = {
        **plan.summary,
        "distance_km": round(solution.distance / 1000, 2),
        "lateness_minutes": round(solution.lateness / 60, 1),
        "weighted_lateness": round(solution.weighted_lateness / 60, 1),
        "routes": len(solution.routes),
        "dropped": [by_pk[pk].number for pk in solution.dropped if pk in by_pk],
    }


def routes_of(plan: Plan) -> list[dict]:
    """The plan as routes: technician, then his stops in order (for lists, the map, the API)."""
    stops = list(
        plan.stops.select_related("order__place", "order__category", "technician").order_by(
            "technician_id", "sequence"
        )
    )
    where = place_positions([s.order.place for s in stops if s.order.place_id])
    routes: dict[int, dict] = {}
    for s in stops:
        r = routes.setdefault(
            s.technician_id,
            {
                "technician": s.technician.username,
                "name": s.technician.name,
                "stops": [],
                "travel_km": 0.0,
            },
        )
        r["travel_km"] = round(r["travel_km"] + s.travel_km, 3)
        lat, lng = where.get(s.order.place_id, (None, None))
        r["stops"].append(
            {
                "number": s.order.number,
                "sequence": s.sequence,
                "eta": timezone.localtime(s.eta).isoformat() if s.eta else None,
                "lateness_minutes": s.lateness_minutes,
                "travel_km": s.travel_km,
                "category": str(s.order.category),
                "place": s.order.place.full_name if s.order.place_id else s.order.address,
                "urgency": s.order.urgency,
                "urgency_label": str(s.order.get_urgency_display()),
                "lat": lat,
                "lng": lng,
            }
        )
    return list(routes.values())


def _check_draft(plan: Plan) -> None:
    if plan.status != PlanStatus.DRAFT:
        raise StalePlan(
            _("派工计划 #%(id)d 已%(status)s，不能再修改或执行。")
            % {"id": plan.pk, "status": plan.get_status_display()}
        )


def _changed(plan: Plan) -> list[str]:
    ids = [int(k) for k in plan.order_versions]
    current = {
        pk: (number, version, status)
        for pk, number, version, status in WorkOrder.objects.filter(pk__in=ids).values_list(
            "pk", "number", "version", "status"
        )
    }
    planned = set(plan.stops.values_list("order_id", flat=True))
    changed = []
    for key, version in plan.order_versions.items():
        pk = int(key)
        if pk not in planned:
            continue
        number, now_version, status = current.get(pk, (f"#{pk}", None, None))
        if now_version != version or status != Status.ACCEPTED:
            changed.append(number)
    return sorted(changed)


def edit_plan(plan: Plan, *, by: User, routes: dict[str, list[str]], now=None) -> Plan:
    """Replace the plan's routes ({username: [numbers in order]}) after checking them: the
    same hard rules as the solver, replayed exactly. Orders left out are listed as dropped."""
    _dispatcher(by)
    _check_draft(plan)
    now = now or timezone.now()
    ids = [int(k) for k in plan.order_versions]
    orders = list(
        WorkOrder.objects.filter(pk__in=ids, status=Status.ACCEPTED).select_related(
            "category", "place"
        )
    )
    by_number = {o.number: o for o in orders}
    problem, techs, _unplannable = build_problem(orders, now=now)
    users = dict(User.objects.filter(username__in=list(routes)).values_list("username", "pk"))
    mapping = {}
    for username, numbers in routes.items():
        if username not in users or users[username] not in techs:
            raise InvalidInput(
                _("%(name)s 现在不能接单（不在岗、已满或没有位置）。") % {"name": username},
                field="routes",
            )
        unknown = [n for n in numbers if n not in by_number]
        if unknown:
            raise InvalidInput(
                _("这些工单不在计划中或已不是待派工：%(list)s") % {"list": "、".join(unknown)},
                field="routes",
            )
        mapping[users[username]] = [by_number[n].pk for n in numbers]
    try:
        solution = routing.evaluate(problem, mapping)
    except ValueError:
        raise InvalidInput(
            _("修改后的计划违反派工规则（技能、在岗、工单上限或工作时间），请调整。"),
            field="routes",
        ) from None
    with transaction.atomic():
        plan = Plan.objects.select_for_update().get(pk=plan.pk)
        _check_draft(plan)
        _store(plan, problem, solution, {o.pk: o for o in orders}, now=now)
        plan.summary["edited_by"] = by.username
        plan.save(update_fields=["summary"])
    return plan


def apply_plan(plan: Plan, *, by: User) -> int:
    """Dispatch every planned order, all in one transaction, each through the lifecycle with
    its event. If any planned order changed since planning, nothing is applied."""
    _dispatcher(by)
    with transaction.atomic():
        plan = Plan.objects.select_for_update().get(pk=plan.pk)
        _check_draft(plan)
        changed = _changed(plan)
        if changed:
            raise StalePlan(
                _("计划制定后这些工单已有变化，整个计划未执行：%(list)s。请重新制定计划。")
                % {"list": "、".join(changed)}
            )
        count = 0
        stops = plan.stops.select_related("order", "technician__team").order_by(
            "technician_id", "sequence"
        )
        for stop in stops:
            apply(
                stop.order,
                Action.DISPATCH,
                by=by,
                params={
                    "technician": stop.technician,
                    "reason": _("派工计划 #%(id)d 第 %(n)d 站")
                    % {"id": plan.pk, "n": stop.sequence},
                },
            )
            count += 1
        plan.status = PlanStatus.APPLIED
        plan.applied_at = timezone.now()
        plan.applied_by = by
        plan.save(update_fields=["status", "applied_at", "applied_by"])
    return count


def discard_plan(plan: Plan, *, by: User) -> None:
    _dispatcher(by)
    _check_draft(plan)
    plan.status = PlanStatus.DISCARDED
    plan.save(update_fields=["status"])
