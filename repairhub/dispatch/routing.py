"""Routing core for dispatch plans: a vehicle-routing problem with time windows and skills.

Technicians are vehicles (start place, shift window, skills, optional order limit as capacity),
orders are stops (place, service time, ready time, deadline, required skill, allowed
technicians, drop penalty). `solve` builds an OR-Tools routing model and searches it with
guided local search under a wall-clock budget; `evaluate` replays given routes exactly in
float and refuses any route that breaks a hard rule. Every figure a `Solution` reports comes
from `evaluate`, never from the solver's scaled integers, so callers can trust them.

Units are the problem's own: positions in its metric (plane coordinates, or latitude and
longitude in degrees for "haversine", where distances are metres), times in whole time units,
travel time = distance / speed. The objective is total distance plus, in the same currency,
`lateness_weight` per time unit late at each soft deadline, vehicles' fixed costs and the drop
penalties of stops left out.

Small problems are one model; with two processes, two searches from different starts run
side by side and the better plan is kept. Large problems (a storm of orders) start from a
quick constructive plan (earliest deadline first), then technicians are grouped by where they
work, each group with its orders becomes a model of its own, the groups are searched in
parallel, and a second round with other group borders lets orders move between technicians
who were apart. Hard rules hold throughout: every part keeps the global rules, and the result
is replayed by `evaluate`, which refuses any breach.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Hashable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.util.optional_boolean_pb2 import BOOL_TRUE

EARTH_RADIUS_M = 6_371_008.8
# Float slack when comparing replayed times with limits: sums of floats drift in the last bits.
TOLERANCE = 1e-6
# Above these sizes a single model is split into parts (see `_partition`).
SPLIT_STOPS = 260
PART_STOPS = 100
SPLIT_ROUNDS = 2
# Seconds a part spends outside the search (model building, start and collection).
PART_OVERHEAD = 0.08
# Seconds kept at the end of a solve for replaying the result exactly.
REPLAY_RESERVE = 0.1
# Starts for one model, shared out over the workers (see `_solve_whole`).
STARTS_HARD = (
    "PARALLEL_CHEAPEST_INSERTION",
    "SAVINGS",
    "PATH_CHEAPEST_ARC",
    "LOCAL_CHEAPEST_INSERTION",
)
STARTS_SOFT = ("SEED", "PARALLEL_CHEAPEST_INSERTION", "PATH_CHEAPEST_ARC", "SAVINGS")
# With minimize_vehicles, the share of one worker's time spent emptying routes.
REDUCE_SHARE = 0.6
# Penalty for leaving out a must-serve stop, as a multiple of a bound on any route plan's cost.
MUST_SERVE_FACTOR = 100
# Largest objective we let the solver add up (int64 with room to spare).
INT_BUDGET = 2**61
LOG_SEARCH = bool(os.environ.get("REPAIRHUB_ROUTING_LOG"))


@dataclass(frozen=True)
class Vehicle:
    """A technician for one plan."""

    id: Hashable
    start: tuple[float, float]
    end: tuple[float, float] | None  # None: the route ends at its last stop (open route)
    shift: tuple[int, int]  # earliest departure, latest return (or finish of an open route)
    skills: frozenset = frozenset()
    capacity: int | None = None
    fixed_cost: int = 0


@dataclass(frozen=True)
class Stop:
    """An order to serve; `due` is the latest start of service."""

    id: Hashable
    position: tuple[float, float]
    service: int
    ready: int = 0
    due: int | None = None
    hard_window: bool = False
    lateness_weight: int = 1
    allowed: frozenset | None = None
    skill: Hashable | None = None
    demand: int = 0
    drop_penalty: int | None = None  # None: must be served


@dataclass(frozen=True)
class Problem:
    vehicles: tuple[Vehicle, ...]
    stops: tuple[Stop, ...]
    metric: str = "euclidean"  # or "haversine": (lat, lon) in degrees, distances in metres
    speed: float = 1.0  # distance units per time unit
    scale: int = 100  # distances and times are multiplied by this for the integer solver
    minimize_vehicles: bool = False


@dataclass(frozen=True)
class Visit:
    stop_id: Hashable
    arrival: float
    start: float
    lateness: float


@dataclass
class Route:
    vehicle_id: Hashable
    visits: list[Visit]
    distance: float
    finish: float


@dataclass
class Solution:
    routes: list[Route]
    dropped: list
    distance: float
    lateness: float
    weighted_lateness: float
    status: str
    seconds: float
    stats: dict[str, Any] = field(default_factory=dict)

    def as_mapping(self) -> dict[Hashable, list[Hashable]]:
        """Vehicle id -> stop ids in visiting order, the form `evaluate` takes."""
        return {r.vehicle_id: [v.stop_id for v in r.visits] for r in self.routes}


# --- distances -----------------------------------------------------------------------------


def distance(a: tuple[float, float], b: tuple[float, float], metric: str = "euclidean") -> float:
    """Exact float distance between two positions; the one every reported figure uses."""
    if metric == "euclidean":
        return math.hypot(a[0] - b[0], a[1] - b[1])
    if metric == "haversine":
        lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
        h = (
            math.sin((lat2 - lat1) / 2) ** 2
            + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
        )
        return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
    raise ValueError(f"unknown metric {metric!r}")


def distance_matrix(
    rows: Sequence[tuple[float, float]], cols: Sequence[tuple[float, float]], metric: str
) -> np.ndarray:
    """Vectorised `distance` for building models quickly (may differ from it in the last bit)."""
    a = np.asarray(rows, dtype=float).reshape(-1, 2)
    b = np.asarray(cols, dtype=float).reshape(-1, 2)
    if metric == "euclidean":
        return np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])
    if metric == "haversine":
        la, lo = np.radians(a[:, 0])[:, None], np.radians(a[:, 1])[:, None]
        lb, lob = np.radians(b[:, 0])[None, :], np.radians(b[:, 1])[None, :]
        h = np.sin((lb - la) / 2) ** 2 + np.cos(la) * np.cos(lb) * np.sin((lob - lo) / 2) ** 2
        return 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    raise ValueError(f"unknown metric {metric!r}")


# --- exact replay --------------------------------------------------------------------------


def _qualifies(vehicle: Vehicle, stop: Stop) -> bool:
    if stop.skill is not None and stop.skill not in vehicle.skills:
        return False
    return stop.allowed is None or vehicle.id in stop.allowed


def _replay(
    problem: Problem, vehicle: Vehicle, stops: Sequence[Stop]
) -> tuple[Route, float, float, str | None]:
    """Simulate one route from the shift start; returns it, lateness, weighted, first breach."""
    metric, speed = problem.metric, problem.speed
    clock = float(vehicle.shift[0])
    here = vehicle.start
    travelled = 0.0
    load = 0
    late_sum = weighted = 0.0
    visits: list[Visit] = []
    breach: str | None = None
    for stop in stops:
        step = distance(here, stop.position, metric)
        travelled += step
        arrival = clock + step / speed
        start = max(arrival, float(stop.ready))
        lateness = 0.0
        if stop.due is not None and start > stop.due:
            lateness = start - stop.due
            if stop.hard_window and lateness > TOLERANCE and breach is None:
                breach = (
                    f"stop {stop.id!r} starts at {start:.3f}, after its window ends at {stop.due}"
                )
            if not stop.hard_window:
                late_sum += lateness
                weighted += lateness * stop.lateness_weight
            else:
                lateness = 0.0
        if breach is None and not _qualifies(vehicle, stop):
            if stop.skill is not None and stop.skill not in vehicle.skills:
                breach = f"vehicle {vehicle.id!r} lacks skill {stop.skill!r} for stop {stop.id!r}"
            else:
                breach = f"vehicle {vehicle.id!r} is not allowed to serve stop {stop.id!r}"
        load += stop.demand
        if breach is None and vehicle.capacity is not None and load > vehicle.capacity:
            breach = f"vehicle {vehicle.id!r} carries {load}, over its capacity {vehicle.capacity}"
        visits.append(Visit(stop.id, arrival, start, lateness))
        clock = start + stop.service
        here = stop.position
    if vehicle.end is not None:
        step = distance(here, vehicle.end, metric)
        travelled += step
        clock += step / speed
    if breach is None and clock > vehicle.shift[1] + TOLERANCE:
        breach = f"vehicle {vehicle.id!r} finishes at {clock:.3f}, after its shift ends at {vehicle.shift[1]}"
    return Route(vehicle.id, visits, travelled, clock), late_sum, weighted, breach


def evaluate(problem: Problem, routes: Mapping[Hashable, Sequence[Hashable]]) -> Solution:
    """Replay routes exactly (float, earliest departures, waiting for ready times).

    Raises ValueError naming the first hard-rule breach: unknown ids, a stop routed twice, a
    must-serve stop left out, a missing skill or a vehicle not allowed, a hard window missed,
    capacity exceeded or a shift overrun. Stops in no route are returned as dropped.
    """
    started = time.perf_counter()
    vehicles = {v.id: v for v in problem.vehicles}
    stops = {s.id: s for s in problem.stops}
    seen: set[Hashable] = set()
    out: list[Route] = []
    total = late = weighted = 0.0
    for vehicle_id, stop_ids in routes.items():
        if vehicle_id not in vehicles:
            raise ValueError(f"unknown vehicle {vehicle_id!r}")
        sequence = []
        for stop_id in stop_ids:
            if stop_id not in stops:
                raise ValueError(f"unknown stop {stop_id!r}")
            if stop_id in seen:
                raise ValueError(f"stop {stop_id!r} is routed more than once")
            seen.add(stop_id)
            sequence.append(stops[stop_id])
        if not sequence:
            continue
        route, route_late, route_weighted, breach = _replay(problem, vehicles[vehicle_id], sequence)
        if breach:
            raise ValueError(breach)
        out.append(route)
        total += route.distance
        late += route_late
        weighted += route_weighted
    dropped = [s.id for s in problem.stops if s.id not in seen]
    for stop_id in dropped:
        if stops[stop_id].drop_penalty is None:
            raise ValueError(f"stop {stop_id!r} must be served but is in no route")
    return Solution(
        routes=out,
        dropped=dropped,
        distance=total,
        lateness=late,
        weighted_lateness=weighted,
        status="evaluated",
        seconds=time.perf_counter() - started,
    )


def objective(problem: Problem, solution: Solution) -> float:
    """The cost `solve` minimises, in float: distance + weighted lateness + fixed + drops."""
    by_id = {v.id: v for v in problem.vehicles}
    stops = {s.id: s for s in problem.stops}
    fixed = sum(by_id[r.vehicle_id].fixed_cost for r in solution.routes)
    drops = sum(stops[s].drop_penalty or 0 for s in solution.dropped)
    return solution.distance + solution.weighted_lateness + fixed + drops


# --- which vehicle may serve which stop --------------------------------------------------------


def eligibility(problem: Problem) -> list[list[int]]:
    """Per stop, the vehicle indices that qualify and could serve it alone within the rules.

    Serving alone (leave at shift start, go there, wait, serve, finish or return in the shift,
    meet a hard window, fit the capacity) is necessary for any route, so filtering on it is
    exact and keeps the solver from exploring hopeless pairs.
    """
    vs, ss = problem.vehicles, problem.stops
    if not vs or not ss:
        return [[] for _ in ss]
    to_stop = distance_matrix([v.start for v in vs], [s.position for s in ss], problem.metric)
    ends = [v.end if v.end is not None else (0.0, 0.0) for v in vs]
    from_stop = distance_matrix(ends, [s.position for s in ss], problem.metric)
    result: list[list[int]] = []
    shift0 = np.array([v.shift[0] for v in vs], dtype=float)
    shift1 = np.array([v.shift[1] for v in vs], dtype=float)
    open_end = np.array([v.end is None for v in vs])
    for j, stop in enumerate(ss):
        start = np.maximum(shift0 + to_stop[:, j] / problem.speed, stop.ready)
        back = np.where(open_end, 0.0, from_stop[:, j] / problem.speed)
        # A hair of slack so a stop reachable exactly on the limit is not lost to float noise.
        ok = start + stop.service + back <= shift1 + TOLERANCE
        if stop.hard_window and stop.due is not None:
            ok &= start <= stop.due + TOLERANCE
        allowed = []
        for i in np.flatnonzero(ok):
            v = vs[i]
            if not _qualifies(v, stop):
                continue
            if v.capacity is not None and stop.demand > v.capacity:
                continue
            allowed.append(int(i))
        result.append(allowed)
    return result


# --- a quick constructive start --------------------------------------------------------------


def _construct(
    problem: Problem, stop_idx: Sequence[int], eligible: Sequence[Sequence[int]]
) -> dict[int, list[int]]:
    """Earliest deadline first, each stop appended where it adds least cost (a seed for search).

    Append cost = extra distance + weighted lateness of the stop + the vehicle's fixed cost if
    it is still unused. Times use the solver's rounded-up travel times, so the seed is feasible
    in the integer model too. Stops that fit nowhere stay out (left to the search).
    """
    vs, ss, scale, speed = problem.vehicles, problem.stops, problem.scale, problem.speed
    pos = np.array([v.start for v in vs], dtype=float)
    clock = np.array([v.shift[0] for v in vs], dtype=float)
    shift_end = np.array([v.shift[1] for v in vs], dtype=float)
    load = np.zeros(len(vs))
    cap = np.array([v.capacity if v.capacity is not None else np.inf for v in vs], dtype=float)
    fixed = np.array([v.fixed_cost for v in vs], dtype=float)
    has_end = np.array([v.end is not None for v in vs])
    ends = np.array([v.end if v.end is not None else v.start for v in vs], dtype=float)
    # Distance from each vehicle's last stop back to its end (what an appended stop replaces).
    was_home = np.where(has_end, np.diag(distance_matrix(pos, ends, problem.metric)), 0.0)
    routes: dict[int, list[int]] = {}

    def order_key(j: int) -> tuple[float, float]:
        s = ss[j]
        return (s.due if s.due is not None else math.inf, -s.lateness_weight)

    for j in sorted(stop_idx, key=order_key):
        s = ss[j]
        cand = np.asarray(eligible[j], dtype=int)
        if cand.size == 0:
            continue
        here = np.array(s.position, dtype=float)[None, :]
        step = distance_matrix(pos[cand], here, problem.metric)[:, 0]
        home = distance_matrix(ends[cand], here, problem.metric)[:, 0]
        back = np.where(has_end[cand], home, 0.0)
        start = np.maximum(clock[cand] + np.ceil(step / speed * scale) / scale, s.ready)
        finish = start + s.service
        ok = finish + np.ceil(back / speed * scale) / scale <= shift_end[cand]
        ok &= load[cand] + s.demand <= cap[cand]
        late = np.zeros_like(start)
        if s.due is not None:
            late = np.maximum(0.0, start - s.due)
            if s.hard_window:
                ok &= late <= 0
                late = np.zeros_like(start)
        if not ok.any():
            continue
        unused = np.array([i not in routes for i in cand])
        cost = (
            step
            + back
            - was_home[cand]
            + late * s.lateness_weight
            + np.where(unused, fixed[cand], 0)
        )
        cost[~ok] = np.inf
        k = int(np.argmin(cost))
        i = int(cand[k])
        routes.setdefault(i, []).append(j)
        pos[i] = s.position
        was_home[i] = back[k]
        clock[i] = finish[k]
        load[i] += s.demand
    return routes


# --- one OR-Tools model ----------------------------------------------------------------------


def _solve_part(
    problem: Problem,
    vehicle_idx: Sequence[int],
    stop_idx: Sequence[int],
    eligible: Sequence[Sequence[int]],
    seconds: float,
    strategy: str = "PATH_CHEAPEST_ARC",
    initial: Mapping[int, Sequence[int]] | None = None,
    until_all_served: bool = False,
    fresh_if_initial_fails: bool = True,
) -> tuple[dict[int, list[int]], str]:
    """Solve the problem restricted to some vehicles and stops (global indices in and out).

    Travel times are rounded up to the integer grid and service times are exact multiples of
    it, so the solver's schedule is never earlier than the float replay: a route it finds
    feasible stays feasible when replayed exactly.
    """
    entered = time.perf_counter()
    vehicles = [problem.vehicles[i] for i in vehicle_idx]
    stops = [problem.stops[i] for i in stop_idx]
    scale = problem.scale
    m = len(stops)
    points: list[tuple[float, float]] = [s.position for s in stops]
    depot_nodes: dict[tuple[str, tuple[float, float]], int] = {}

    def depot(kind: str, position: tuple[float, float]) -> int:
        key = (kind, position)
        if key not in depot_nodes:
            depot_nodes[key] = len(points)
            points.append(position)
        return depot_nodes[key]

    starts = [depot("start", v.start) for v in vehicles]
    ends_pos = [depot("end", v.end) if v.end is not None else -1 for v in vehicles]
    dummy = -1
    if any(e < 0 for e in ends_pos):
        dummy = len(points)
        points.append((0.0, 0.0))
    ends = [e if e >= 0 else dummy for e in ends_pos]
    n = len(points)

    dist = distance_matrix(points, points, problem.metric)
    service = np.zeros(n)
    service[:m] = [s.service for s in stops]
    travel_int = np.ceil(dist / problem.speed * scale)
    time_int = travel_int + (service * scale)[:, None]
    cost_int = np.rint(dist * scale)
    if dummy >= 0:
        cost_int[:, dummy] = 0
        cost_int[dummy, :] = 0
        time_int[:, dummy] = service * scale
        time_int[dummy, :] = 0
    np.fill_diagonal(cost_int, 0)
    np.fill_diagonal(time_int, 0)

    manager = pywrapcp.RoutingIndexManager(n, len(vehicles), starts, ends)
    model = pywrapcp.RoutingModel(manager)
    cost_cb = model.RegisterTransitMatrix(cost_int.astype(np.int64).tolist())
    time_cb = model.RegisterTransitMatrix(time_int.astype(np.int64).tolist())
    model.SetArcCostEvaluatorOfAllVehicles(cost_cb)

    horizon = max(v.shift[1] for v in vehicles) * scale
    model.AddDimension(time_cb, horizon, horizon, False, "time")
    clock = model.GetDimensionOrDie("time")
    for k, v in enumerate(vehicles):
        clock.CumulVar(model.Start(k)).SetRange(v.shift[0] * scale, v.shift[1] * scale)
        clock.CumulVar(model.End(k)).SetRange(v.shift[0] * scale, v.shift[1] * scale)
        model.AddVariableMinimizedByFinalizer(clock.CumulVar(model.End(k)))
        if v.fixed_cost:
            model.SetFixedCostOfVehicle(int(v.fixed_cost * scale), k)

    if any(s.demand for s in stops) and any(v.capacity is not None for v in vehicles):
        demands = [s.demand for s in stops] + [0] * (n - m)
        big = sum(demands)
        load_cb = model.RegisterUnaryTransitVector(demands)
        caps = [v.capacity if v.capacity is not None else big for v in vehicles]
        model.AddDimensionWithVehicleCapacity(load_cb, 0, caps, True, "load")

    local = {g: k for k, g in enumerate(vehicle_idx)}
    # Leaving out a must-serve stop must cost more than any plan could otherwise: all arcs,
    # fixed costs and lateness up to the horizon; capped so that all of them fit in int64.
    fixed_total = sum(v.fixed_cost for v in vehicles) * scale
    late_total = sum(
        s.lateness_weight * (horizon + max(0, -s.due * scale)) for s in stops if s.due is not None
    )
    bound = float(cost_int.max()) * (m + len(vehicles)) + fixed_total + late_total + 1
    must_serve = int(min(MUST_SERVE_FACTOR * bound, INT_BUDGET / (m + 1)))
    for node, (g, s) in enumerate(zip(stop_idx, stops, strict=True)):
        index = manager.NodeToIndex(node)
        upper = horizon
        if s.due is not None and s.hard_window:
            upper = min(upper, s.due * scale)
        clock.CumulVar(index).SetRange(min(s.ready * scale, upper), upper)
        if s.due is not None and not s.hard_window and s.lateness_weight > 0:
            clock.SetCumulVarSoftUpperBound(index, s.due * scale, int(s.lateness_weight))
        allowed = [local[i] for i in eligible[g] if i in local]
        if len(allowed) < len(vehicles):
            # Restricting the vehicle variable (-1 = not served) is what SetAllowedVehiclesFor-
            # Index does too; its Python binding rejects lists in this OR-Tools release.
            model.VehicleVar(index).SetValues([-1, *allowed])
        if s.drop_penalty is not None:
            model.AddDisjunction([index], int(min(s.drop_penalty * scale, INT_BUDGET / (m + 1))))
        else:
            # Must-serve stops get a prohibitive penalty rather than none: the first-solution
            # heuristics then always succeed, and a stop still left out is reported as failure.
            model.AddDisjunction([index], must_serve)

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, strategy)
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    # The budget covers building the model too.
    search = seconds - (time.perf_counter() - entered)
    params.time_limit.FromMilliseconds(max(10, int(search * 1000)))
    params.log_search = LOG_SEARCH
    if any(s.drop_penalty is not None for s in stops):
        # Moves that make room for a left-out stop by moving another one away first.
        operators = params.local_search_operators
        operators.use_relocate_and_make_active = BOOL_TRUE
        operators.use_exchange_and_make_active = BOOL_TRUE

    if until_all_served:
        # Stop as soon as nothing is left out: the caller only wants to know that it can be.
        def check_all_served() -> None:
            if model.CostVar().Max() < must_serve:
                model.solver().FinishCurrentSearch()

        model.AddAtSolutionCallback(check_all_served)

    found = None
    if initial:
        node_of = {g: node for node, g in enumerate(stop_idx)}
        seeds = [[] for _ in vehicles]
        for g, seq in initial.items():
            if g in local:
                seeds[local[g]] = [manager.NodeToIndex(node_of[s]) for s in seq if s in node_of]
        model.CloseModelWithParameters(params)
        start_from = model.ReadAssignmentFromRoutes(seeds, True)
        if start_from is not None:
            found = model.SolveFromAssignmentWithParameters(start_from, params)
        elif not fresh_if_initial_fails:
            return {}, "no solution"
    if found is None:
        found = model.SolveWithParameters(params)

    status_name = {
        routing_enums_pb2.RoutingSearchStatus.ROUTING_OPTIMAL: "optimal",
        routing_enums_pb2.RoutingSearchStatus.ROUTING_SUCCESS: "feasible",
        routing_enums_pb2.RoutingSearchStatus.ROUTING_PARTIAL_SUCCESS_LOCAL_OPTIMUM_NOT_REACHED: (
            "feasible"
        ),
    }.get(model.status(), "no solution")
    if found is None:
        return {}, "no solution"
    routes: dict[int, list[int]] = {}
    for k, g in enumerate(vehicle_idx):
        index = found.Value(model.NextVar(model.Start(k)))
        seq = []
        while not model.IsEnd(index):
            node = manager.IndexToNode(index)
            seq.append(stop_idx[node])
            index = found.Value(model.NextVar(index))
        if seq:
            routes[g] = seq
    return routes, status_name


# --- the public entry point ------------------------------------------------------------------


def solve(problem: Problem, *, seconds: float = 5.0, workers: int | None = None) -> Solution:
    """Plan routes within about `seconds` of wall time; every figure is replayed exactly.

    A must-serve stop (drop_penalty None) that no vehicle could serve even alone raises
    ValueError. If the search finds no plan serving every must-serve stop in time, status is
    "no solution" and no route is returned; when every stop may be dropped, the answer is
    then the empty plan with status "timeout". `workers` is the number of processes to search
    with (default: up to 2, the cores of the machine this was tuned on); 1 stays in-process.
    """
    started = time.perf_counter()
    deadline = started + seconds - REPLAY_RESERVE
    _check_input(problem)
    eligible = eligibility(problem)
    for s, allowed in zip(problem.stops, eligible, strict=True):
        if not allowed and s.drop_penalty is None:
            raise ValueError(f"stop {s.id!r} must be served but no vehicle can serve it")
    candidates = [i for i, allowed in enumerate(eligible) if allowed]
    procs = max(1, workers if workers is not None else min(2, os.cpu_count() or 1))
    stats: dict[str, Any] = {"candidates": len(candidates), "workers": procs}
    if not candidates or not problem.vehicles:
        routes, status = {}, "optimal"
    elif len(candidates) <= SPLIT_STOPS:
        routes, status, more = _solve_whole(problem, candidates, eligible, deadline, procs)
        stats.update(more)
    else:
        routes, status, more = _solve_split(problem, candidates, eligible, deadline, procs)
        stats.update(more)
    solution = _replayed(problem, routes) if status != "no solution" else None
    if solution is None and all(s.drop_penalty is not None for s in problem.stops):
        # Out of time before a first plan (a tiny budget on a busy machine): leaving every
        # stop out is still a valid answer, and says so.
        solution = _replayed(problem, {})
        status = "timeout"
    if solution is None:
        solution = Solution([], [s.id for s in problem.stops], 0.0, 0.0, 0.0, "no solution", 0.0)
    else:
        solution.status = status
        stats["objective"] = objective(problem, solution)
    solution.seconds = time.perf_counter() - started
    solution.stats = stats
    return solution


def _check_input(problem: Problem) -> None:
    """Refuse inputs the model cannot represent, with the reason (ValueError)."""
    if problem.metric not in ("euclidean", "haversine"):
        raise ValueError(f"unknown metric {problem.metric!r}")
    if problem.speed <= 0 or problem.scale < 1:
        raise ValueError("speed must be positive and scale at least 1")
    for kind, ids in (
        ("vehicle", [v.id for v in problem.vehicles]),
        ("stop", [s.id for s in problem.stops]),
    ):
        if len(set(ids)) != len(ids):
            raise ValueError(f"{kind} ids repeat")
    for v in problem.vehicles:
        if v.shift[1] < v.shift[0]:
            raise ValueError(f"vehicle {v.id!r}: shift ends before it starts")
    for stop in problem.stops:
        if stop.service < 0 or stop.demand < 0 or stop.lateness_weight < 0:
            raise ValueError(f"stop {stop.id!r}: negative service, demand or weight")


def _replayed(problem: Problem, routes: Mapping[int, Sequence[int]]) -> Solution | None:
    """`evaluate` on index routes; None when a must-serve stop was left out."""
    mapping = {
        problem.vehicles[v].id: [problem.stops[s].id for s in seq] for v, seq in routes.items()
    }
    try:
        return evaluate(problem, mapping)
    except ValueError as exc:
        if "must be served" in str(exc):
            return None
        raise


# --- worker processes ------------------------------------------------------------------------

_WORKER_PROBLEM: tuple[Problem, Sequence[Sequence[int]]] | None = None


def _init_worker(problem: Problem, eligible: Sequence[Sequence[int]]) -> None:
    global _WORKER_PROBLEM
    _WORKER_PROBLEM = (problem, eligible)


def _pool(
    problem: Problem, eligible: Sequence[Sequence[int]], workers: int
) -> ProcessPoolExecutor | None:
    """A process pool holding the problem (sent once per process), or None for in-process."""
    _init_worker(problem, eligible)
    if workers <= 1:
        return None
    import multiprocessing

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context(method),
        initializer=_init_worker,
        initargs=(problem, eligible),
    )


def _run_part(
    vehicle_idx: Sequence[int],
    stop_idx: Sequence[int],
    seconds: float,
    seed: Mapping[int, Sequence[int]] | None,
) -> tuple[dict[int, list[int]], str, float]:
    """One part of a split problem, searched from the routes it already has."""
    assert _WORKER_PROBLEM is not None
    problem, eligible = _WORKER_PROBLEM
    started = time.perf_counter()
    # A part that cannot start from its routes keeps them rather than risk a worse plan.
    routes, status = _solve_part(
        problem,
        vehicle_idx,
        stop_idx,
        eligible,
        seconds,
        "PATH_CHEAPEST_ARC",
        initial=seed,
        fresh_if_initial_fails=False,
    )
    return routes, status, time.perf_counter() - started


def _run_starts(
    stop_idx: Sequence[int], seconds: float, starts: Sequence[str], reduce: float
) -> tuple[dict[int, list[int]], str, str]:
    """Several searches one after another in a worker, each from another start; the best wins.

    A start is a first-solution strategy of OR-Tools or "SEED" (`_construct`). The last
    `reduce` share of the time tries to do with fewer vehicles (`_reduce_vehicles`).
    """
    assert _WORKER_PROBLEM is not None
    problem, eligible = _WORKER_PROBLEM
    deadline = time.perf_counter() + seconds
    search_end = deadline - seconds * reduce
    everyone = list(range(len(problem.vehicles)))
    best: tuple[float, dict[int, list[int]], str, str] = (math.inf, {}, "no solution", "")
    for k, start in enumerate(starts):
        share = (search_end - time.perf_counter()) / (len(starts) - k)
        seed = _construct(problem, stop_idx, eligible) if start == "SEED" else None
        strategy = "PARALLEL_CHEAPEST_INSERTION" if start == "SEED" else start
        routes, status = _solve_part(
            problem, everyone, stop_idx, eligible, max(0.05, share), strategy, initial=seed
        )
        replay = _replayed(problem, routes) if status != "no solution" else None
        if replay is not None and (cost := objective(problem, replay)) < best[0]:
            best = (cost, routes, status, start)
    _, routes, status, winner = best
    if reduce and status != "no solution":
        before = len(routes)
        routes = _reduce_vehicles(problem, stop_idx, eligible, routes, deadline)
        if len(routes) < before:
            winner += f"-{before - len(routes)} vehicles"
    return routes, status, winner


def _reduce_vehicles(
    problem: Problem,
    stop_idx: Sequence[int],
    eligible: Sequence[Sequence[int]],
    routes: dict[int, list[int]],
    deadline: float,
) -> dict[int, list[int]]:
    """Try to serve every stop with one vehicle fewer, again and again, then polish.

    Guided local search rarely empties a route by itself even when a vehicle costs a lot: the
    stops of a route must all move at once. Here the shortest route is removed, its stops are
    left out, and a search with one vehicle less (leaving a stop out costs far more than any
    distance) tries to take them in, stopping as soon as it has. Each attempt gets at most
    two thirds of the time left; after the first failure the rest goes to shortening the
    routes of the smallest fleet found.
    """
    served = sum(len(r) for r in routes.values())
    while len(routes) > 1:
        left = deadline - time.perf_counter()
        if left < 0.2:
            break
        keep = sorted(routes, key=lambda i: len(routes[i]))[1:]
        trial, status = _solve_part(
            problem,
            keep,
            stop_idx,
            eligible,
            left * 2 / 3,
            "PARALLEL_CHEAPEST_INSERTION",
            initial={i: routes[i] for i in keep},
            until_all_served=True,
        )
        if status == "no solution" or sum(len(r) for r in trial.values()) < served:
            break
        routes = trial
    left = deadline - time.perf_counter()
    if left > 0.1:
        polished, status = _solve_part(
            problem, sorted(routes), stop_idx, eligible, left, "PATH_CHEAPEST_ARC", initial=routes
        )
        if status != "no solution" and sum(len(r) for r in polished.values()) == served:
            routes = polished
    return routes


def _solve_whole(
    problem: Problem,
    candidates: Sequence[int],
    eligible: Sequence[Sequence[int]],
    deadline: float,
    workers: int,
) -> tuple[dict[int, list[int]], str, dict[str, Any]]:
    """One model searched from several starts, shared out over the workers; the best is kept.

    Which start leads to the best plan varies from instance to instance and guided local
    search tends to settle near its start, so (measured on Solomon) four searches of a
    quarter of the time each beat one search of the whole time.
    """
    soft = any(s.due is not None and not s.hard_window for s in problem.stops)
    starts = STARTS_SOFT if soft else STARTS_HARD
    shares = [tuple(starts[k :: max(1, workers)]) for k in range(min(workers, len(starts)))]
    # Fewer vehicles: one worker spends most of its time emptying routes, the others none,
    # so one plan is the fleet's smallest found and another has the shortest routes.
    reduce = [0.0] * len(shares)
    if problem.minimize_vehicles:
        reduce[0] = REDUCE_SHARE if len(shares) > 1 else REDUCE_SHARE / 2
    pool = _pool(problem, eligible, len(shares))
    try:
        limit = max(0.05, deadline - time.perf_counter() - PART_OVERHEAD)
        jobs = [
            pool.submit(_run_starts, candidates, limit, share, fewer)
            if pool
            else (candidates, limit, share, fewer)
            for share, fewer in zip(shares, reduce, strict=True)
        ]
        results = [job.result() if pool else _run_starts(*job) for job in jobs]
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    best: tuple[float, dict[int, list[int]], str, str] | None = None
    for routes, status, winner in results:
        replay = _replayed(problem, routes) if status != "no solution" else None
        if replay is None:
            continue
        cost = objective(problem, replay)
        if best is None or cost < best[0]:
            best = (cost, routes, status, winner)
    stats: dict[str, Any] = {"starts": [list(share) for share in shares]}
    if best is None:
        return {}, "no solution", stats
    return best[1], best[2], {**stats, "winner": best[3]}


# --- large problems: split, solve the parts, repeat with other borders -----------------------


def _planar(problem: Problem, points: np.ndarray) -> np.ndarray:
    """Positions as plane coordinates (km for haversine) so splits follow real distances."""
    if problem.metric != "haversine" or len(points) == 0:
        return points
    lat0 = math.radians(float(np.mean(points[:, 0])))
    return np.column_stack((points[:, 1] * 111.32 * math.cos(lat0), points[:, 0] * 110.57))


def _bisect(points: np.ndarray, weights: np.ndarray, parts: int) -> list[np.ndarray]:
    """Recursive coordinate bisection into `parts` groups of about equal weight."""
    index = np.arange(len(points))
    if parts <= 1 or len(points) <= 1:
        return [index]
    spread = points.max(axis=0) - points.min(axis=0)
    axis = int(np.argmax(spread))
    order = np.argsort(points[:, axis], kind="stable")
    left_parts = parts // 2
    cumulative = np.cumsum(weights[order])
    cut = int(np.searchsorted(cumulative, cumulative[-1] * left_parts / parts)) + 1
    cut = min(max(cut, 1), len(points) - 1)
    left, right = order[:cut], order[cut:]
    groups = []
    for side, count in ((left, left_parts), (right, parts - left_parts)):
        for sub in _bisect(points[side], weights[side], count):
            groups.append(side[sub])
    return groups


def _partition(
    problem: Problem,
    routes: Mapping[int, Sequence[int]],
    pending: Sequence[int],
    eligible: Sequence[Sequence[int]],
    parts: int,
    angle: float,
) -> list[tuple[list[int], list[int]]]:
    """Group vehicles by where they work; each part keeps its vehicles' stops.

    A stop not yet routed joins the part holding most of the vehicles allowed to serve it.
    `angle` rotates the split axes, so successive rounds draw different borders and stops
    can move between technicians who were apart in the previous round.
    """
    vs, ss = problem.vehicles, problem.stops
    where = []
    for i, v in enumerate(vs):
        seq = routes.get(i)
        if seq:
            where.append(np.mean([ss[j].position for j in seq], axis=0))
        else:
            where.append(np.array(v.start, dtype=float))
    points = _planar(problem, np.array(where, dtype=float))
    turn = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    points = points @ turn
    weights = np.array([len(routes.get(i, ())) + 1.0 for i in range(len(vs))])
    for j in pending:
        for i in eligible[j]:
            weights[i] += 1.0 / len(eligible[j])
    groups = _bisect(points, weights, parts)
    group_of = np.empty(len(vs), dtype=int)
    for g, members in enumerate(groups):
        group_of[members] = g
    stops_of: list[list[int]] = [[] for _ in groups]
    for i, seq in routes.items():
        stops_of[group_of[i]].extend(seq)
    for j in pending:
        counts = np.bincount(group_of[np.asarray(eligible[j], dtype=int)], minlength=len(groups))
        stops_of[int(np.argmax(counts))].append(j)
    return [
        ([int(i) for i in members], stops)
        for members, stops in zip(groups, stops_of, strict=True)
        if stops
    ]


def _solve_split(
    problem: Problem,
    candidates: Sequence[int],
    eligible: Sequence[Sequence[int]],
    deadline: float,
    workers: int,
) -> tuple[dict[int, list[int]], str, dict[str, Any]]:
    """Seed, then rounds of part solves (in parallel when workers > 1) until the deadline."""
    routes = _construct(problem, candidates, eligible)
    seed = _replayed(problem, routes)
    stats: dict[str, Any] = {
        "seed_served": sum(len(r) for r in routes.values()),
        "seed_objective": objective(problem, seed) if seed is not None else None,
        "rounds": 0,
        "part_seconds": 0.0,
        "part_limits": 0.0,
    }
    parts = max(2, math.ceil(len(candidates) / PART_STOPS))
    angles = (0.0, math.pi / 4, math.pi / 8, 3 * math.pi / 8)
    pool = _pool(problem, eligible, workers)
    try:
        for r in range(SPLIT_ROUNDS):
            left = deadline - time.perf_counter()
            if left < 0.3:
                break
            served = {j for seq in routes.values() for j in seq}
            pending = [j for j in candidates if j not in served]
            plan = _partition(problem, routes, pending, eligible, parts, angles[r % len(angles)])
            total = sum(len(stops) for _, stops in plan)
            # Worker-seconds this round can use; each worker runs parts one after another.
            capacity = left / (SPLIT_ROUNDS - r) * min(workers, len(plan)) * 0.95
            jobs = []
            for vehicle_idx, stop_idx in plan:
                limit = max(0.05, capacity * len(stop_idx) / total - PART_OVERHEAD)
                stats["part_limits"] += limit
                own = {i: routes[i] for i in vehicle_idx if i in routes}
                args = (vehicle_idx, stop_idx, limit, own)
                jobs.append(pool.submit(_run_part, *args) if pool else args)
            for (vehicle_idx, _), job in zip(plan, jobs, strict=True):
                part_routes, status, spent = job.result() if pool else _run_part(*job)
                stats["part_seconds"] += spent
                if status == "no solution":
                    continue  # the part keeps the routes it had
                for i in vehicle_idx:
                    routes.pop(i, None)
                routes.update(part_routes)
            stats["rounds"] += 1
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    stats["parts"] = parts
    stats["part_seconds"] = round(stats["part_seconds"], 2)
    stats["part_limits"] = round(stats["part_limits"], 2)
    return routes, "feasible", stats
