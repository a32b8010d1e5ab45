"""Dispatch plans: the routing core on Solomon's VRPTW instances, and a surge against the greedy rule.

    .venv/bin/python bench/dispatch.py            # full: all 56 instances at 10 s, the surge (~10 min)
    .venv/bin/python bench/dispatch.py --quick    # one instance per family at 3 s, the surge (< 1 min)
    .venv/bin/python bench/dispatch.py --part 1 --instances 'R1*' --seconds 30

Part 1 — Solomon (/work/shared/data/solomon): each instance is solved by the same routing core
the plans use (repairhub.dispatch.routing via repairhub.dispatch.solomon, fewest vehicles first
then distance, hard windows, capacity, Euclidean travel), every solution is re-checked by
solomon.check (independent of the core), and its vehicles and distance are printed next to the
best-known solution (hierarchical convention, double precision: `bks_vehicles`,
`bks_distance`). Gap = distance / best-known distance - 1; the mean gap per family is printed.
Note that a solution with more vehicles than the best known is worse even when its gap is
negative.

Part 2 — surge: a seeded city, 200 technicians and 2,000 waiting orders (see `make_surge`).
The same orders are dispatched one by one by the automatic rule (`greedy_dispatch`, the
baseline) and planned at once by the routing core. Both are replayed by the bench's own
simulator (`replay_surge`, which counts hard-rule violations per rule) and by routing.evaluate;
the two must agree.
Targets: no violation, the plan at least 20 % cheaper than the baseline on
travel_km + weighted_lateness_hours (+ the same charge for every unserved order), and planned
in under 10 s.

Part 3 — instant assignment latency with 500 technicians: added separately.

The last line printed is one JSON object of the key figures; its "ok" is true only when the
targets held in this run: part 1, every solution passes solomon.check (its gaps are figures,
not targets); part 2, the three targets above. Results also go to bench/out/dispatch-<time>.json.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from repairhub.dispatch import routing, solomon  # noqa: E402

SOLOMON_DIR = Path(os.environ.get("SOLOMON_DIR", "/work/shared/data/solomon"))
FAMILIES = ("C1", "C2", "R1", "R2", "RC1", "RC2")
QUICK_INSTANCES = ("C101", "C201", "R101", "R201", "RC101", "RC201")

_T0 = time.monotonic()


def log(message: str) -> None:
    print(f"[bench {time.monotonic() - _T0:5.1f}s] {message}", flush=True)


# --- part 2: the surge ---------------------------------------------------------------------

CITY = (30.55, 114.30)  # centre (lat, lon): about 20 km across, see `make_surge`
HALF_LAT = 0.09  # ~10 km north and south
HALF_LON = 0.105  # ~10 km east and west at this latitude
ZONES_PER_SIDE = 3  # 3 x 3 districts
SPEED_KMH = 25.0
SPEED_M_PER_MIN = SPEED_KMH * 1000 / 60
NOW = 7 * 60  # the plan is made at 07:00; times are minutes since midnight
MAX_OPEN = 12  # open orders per technician
CATEGORIES = {  # service minutes
    "plumbing": 40,
    "electrical": 35,
    "hvac": 60,
    "carpentry": 50,
    "appliance": 45,
    "network": 20,
}
URGENCY = {  # name: (weight, share of orders, hours from creation to the deadline)
    "low": (1, 0.30, 48),
    "normal": (2, 0.45, 10),
    "urgent": (5, 0.20, 5),
    "critical": (10, 0.05, 3),
}
SHIFTS = ((8 * 60, 17 * 60, 0.45), (12 * 60, 21 * 60, 0.40), (0, 24 * 60, 0.15))
# An order nobody serves is charged as if served a day late: 24 h x its urgency weight.
UNSERVED_HOURS = 24.0
# The plan's own drop penalty (km-equivalents) on top of that, so it drops only what cannot fit.
PLAN_DROP_KM = 200.0


@dataclass(frozen=True)
class Tech:
    id: str
    base: tuple[float, float]
    skills: frozenset
    zones: frozenset
    shift: tuple[int, int]


@dataclass(frozen=True)
class Order:
    id: str
    place: tuple[float, float]
    zone: int
    category: str
    urgency: str
    created: int  # minutes since midnight (negative: the evening before)
    deadline: int


def zone_of(place: tuple[float, float]) -> int:
    lat, lon = place
    row = min(ZONES_PER_SIDE - 1, int((lat - CITY[0] + HALF_LAT) / (2 * HALF_LAT) * ZONES_PER_SIDE))
    col = min(ZONES_PER_SIDE - 1, int((lon - CITY[1] + HALF_LON) / (2 * HALF_LON) * ZONES_PER_SIDE))
    return row * ZONES_PER_SIDE + col


def make_surge(
    seed: int = 20261122, techs: int = 200, orders: int = 2000
) -> tuple[list[Tech], list[Order]]:
    """A city of 3 x 3 districts; orders cluster around a few hot spots per district.

    Technicians: 1-3 of 6 skills, a home district plus (40 %) one neighbouring district, a base
    in the home district, shift 08-17 (45 %), 12-21 (40 %) or round the clock (15 %).
    Orders: created over the 8 hours before 07:00, category and urgency drawn by share,
    deadline = creation + the urgency's hours.
    """
    rnd = random.Random(seed)
    cats = list(CATEGORIES)

    def point_in_zone(zone: int) -> tuple[float, float]:
        row, col = divmod(zone, ZONES_PER_SIDE)
        step_lat = 2 * HALF_LAT / ZONES_PER_SIDE
        step_lon = 2 * HALF_LON / ZONES_PER_SIDE
        lat = CITY[0] - HALF_LAT + (row + rnd.random()) * step_lat
        lon = CITY[1] - HALF_LON + (col + rnd.random()) * step_lon
        return (lat, lon)

    def neighbours(zone: int) -> list[int]:
        row, col = divmod(zone, ZONES_PER_SIDE)
        out = []
        for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            r, c = row + dr, col + dc
            if 0 <= r < ZONES_PER_SIDE and 0 <= c < ZONES_PER_SIDE:
                out.append(r * ZONES_PER_SIDE + c)
        return out

    zones = ZONES_PER_SIDE**2
    tech_list: list[Tech] = []
    for i in range(techs):
        home = i % zones
        covered = {home}
        if rnd.random() < 0.4:
            covered.add(rnd.choice(neighbours(home)))
        k = rnd.choices((1, 2, 3), weights=(0.3, 0.45, 0.25))[0]
        skills = frozenset(rnd.sample(cats, k))
        r = rnd.random()
        shift = SHIFTS[-1][:2]
        acc = 0.0
        for start, end, share in SHIFTS:
            acc += share
            if r < acc:
                shift = (start, end)
                break
        tech_list.append(Tech(f"T{i:03d}", point_in_zone(home), skills, frozenset(covered), shift))

    hot_spots = {z: [point_in_zone(z) for _ in range(4)] for z in range(zones)}
    names = list(URGENCY)
    shares = [URGENCY[u][1] for u in names]
    raw: list[tuple[int, tuple[float, float], str, str]] = []
    for _ in range(orders):
        zone = rnd.randrange(zones)
        if rnd.random() < 0.6:  # around a hot spot (a campus, an estate), else anywhere
            lat0, lon0 = rnd.choice(hot_spots[zone])
            place = (lat0 + rnd.gauss(0, 0.006), lon0 + rnd.gauss(0, 0.007))
            place = (
                min(max(place[0], CITY[0] - HALF_LAT), CITY[0] + HALF_LAT - 1e-9),
                min(max(place[1], CITY[1] - HALF_LON), CITY[1] + HALF_LON - 1e-9),
            )
        else:
            place = point_in_zone(zone)
        created = NOW - rnd.randrange(8 * 60)
        raw.append((created, place, rnd.choice(cats), rnd.choices(names, weights=shares)[0]))
    raw.sort(key=lambda item: item[0])
    order_list = [
        Order(
            f"O{i:04d}",
            place,
            zone_of(place),
            cat,
            urgency,
            created,
            created + URGENCY[urgency][2] * 60,
        )
        for i, (created, place, cat, urgency) in enumerate(raw)
    ]
    return tech_list, order_list


def weight(order: Order) -> int:
    return URGENCY[order.urgency][0]


def qualifies(tech: Tech, order: Order) -> bool:
    """The hard rules both methods share, but the time ones: skill and zone."""
    return order.category in tech.skills and order.zone in tech.zones


def plan_shift(tech: Tech) -> tuple[int, int]:
    """Nobody works before the plan is made: a shift that began earlier starts now."""
    return (max(tech.shift[0], NOW), tech.shift[1])


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    return routing.distance(a, b, "haversine") / 1000


def greedy_dispatch(
    techs: list[Tech], orders: list[Order]
) -> tuple[dict[str, list[str]], list[str]]:
    """The automatic rule, applied to each order in arrival order: the baseline.

    Hard rules filter the technicians: skill, zone, fewer than MAX_OPEN orders, and on duty —
    the order, appended to his queue (served in assignment order, 25 km/h from his base from
    the start of his shift), must finish within the shift. Among those left the lowest score
    wins: km from his current position (the place of his last assigned order, at first his
    base) x 1.0 + the urgency weights of the orders he already holds x 0.5. Returns the queues
    and the orders no technician could take.
    """
    position = {t.id: t.base for t in techs}
    clock = {t.id: float(plan_shift(t)[0]) for t in techs}
    load = {t.id: 0.0 for t in techs}
    queue: dict[str, list[str]] = {t.id: [] for t in techs}
    unassigned: list[str] = []
    for order in orders:
        best: tuple[float, Tech, float] | None = None
        service = CATEGORIES[order.category]
        for tech in techs:
            if not qualifies(tech, order) or len(queue[tech.id]) >= MAX_OPEN:
                continue
            away = km(position[tech.id], order.place)
            finish = clock[tech.id] + away * 1000 / SPEED_M_PER_MIN + service
            if finish > tech.shift[1]:
                continue
            score = away * 1.0 + load[tech.id] * 0.5
            if best is None or score < best[0]:
                best = (score, tech, finish)
        if best is None:
            unassigned.append(order.id)
            continue
        _, tech, finish = best
        queue[tech.id].append(order.id)
        position[tech.id] = order.place
        clock[tech.id] = finish
        load[tech.id] += weight(order)
    return {k: v for k, v in queue.items() if v}, unassigned


def surge_problem(techs: list[Tech], orders: list[Order]) -> routing.Problem:
    """The same techs and orders as a routing problem (minutes, metres, open routes).

    Cost currency: metres. One km of travel = 1,000; one weighted hour late = 1,000 as well, so
    lateness_weight per minute = weight x 1000 / 60 (rounded to an integer, as the model needs).
    """
    vehicles = tuple(
        routing.Vehicle(
            id=t.id,
            start=t.base,
            end=None,
            shift=plan_shift(t),
            skills=t.skills,
            capacity=MAX_OPEN,
        )
        for t in techs
    )
    stops = []
    for o in orders:
        allowed = frozenset(t.id for t in techs if o.zone in t.zones)
        w = weight(o)
        stops.append(
            routing.Stop(
                id=o.id,
                position=o.place,
                service=CATEGORIES[o.category],
                ready=0,
                due=o.deadline,
                lateness_weight=round(w * 1000 / 60),
                allowed=allowed,
                skill=o.category,
                demand=1,
                drop_penalty=int((PLAN_DROP_KM + UNSERVED_HOURS * w) * 1000),
            )
        )
    return routing.Problem(
        vehicles, tuple(stops), metric="haversine", speed=SPEED_M_PER_MIN, scale=10
    )


@dataclass
class Outcome:
    """One method's result on the surge, from the bench's own replay."""

    served: int
    unserved: int
    travel_km: float
    lateness_min: float
    weighted_lateness_h: float
    unserved_charge_h: float
    violations: dict[str, int]

    @property
    def cost(self) -> float:
        """travel_km + weighted_lateness_h + unserved_charge_h (the figure compared)."""
        return self.travel_km + self.weighted_lateness_h + self.unserved_charge_h


def replay_surge(techs: list[Tech], orders: list[Order], queues: dict[str, list[str]]) -> Outcome:
    """Replay queues with the bench's own clock and count every hard-rule breach.

    Written apart from routing.evaluate on purpose: each technician leaves his base at the
    start of his (plan) shift, drives at 25 km/h, serves his orders in the given order, and
    may not finish after his shift; skill, zone, MAX_OPEN and each order at most once.
    """
    by_tech = {t.id: t for t in techs}
    by_order = {o.id: o for o in orders}
    violations = {"skill": 0, "zone": 0, "shift": 0, "over_limit": 0, "duplicate": 0}
    seen: set[str] = set()
    travel = late = weighted = 0.0
    for tech_id, queue in queues.items():
        tech = by_tech[tech_id]
        if len(queue) > MAX_OPEN:
            violations["over_limit"] += 1
        clock = float(plan_shift(tech)[0])
        here = tech.base
        for order_id in queue:
            order = by_order[order_id]
            if order_id in seen:
                violations["duplicate"] += 1
            seen.add(order_id)
            violations["skill"] += order.category not in tech.skills
            violations["zone"] += order.zone not in tech.zones
            leg = km(here, order.place)
            travel += leg
            clock += leg * 1000 / SPEED_M_PER_MIN
            overdue = max(0.0, clock - order.deadline)
            late += overdue
            weighted += overdue * weight(order) / 60
            clock += CATEGORIES[order.category]
            here = order.place
        if queue and clock > tech.shift[1] + 1e-6:
            violations["shift"] += 1
    unserved = [o for o in orders if o.id not in seen]
    return Outcome(
        served=len(seen),
        unserved=len(unserved),
        travel_km=travel,
        lateness_min=late,
        weighted_lateness_h=weighted,
        unserved_charge_h=sum(UNSERVED_HOURS * weight(o) for o in unserved),
        violations=violations,
    )


PLAN_SECONDS = 8.0  # the plan's budget; the target is < 10 s of wall time, all included
TIME_TARGET_S = 10.0
IMPROVEMENT_TARGET = 0.20


def surge() -> dict:
    log("part 2: surge — generating 200 technicians and 2,000 orders (seeded)")
    techs, orders = make_surge()
    problem = surge_problem(techs, orders)

    started = time.perf_counter()
    queues, unassigned = greedy_dispatch(techs, orders)
    greedy_s = time.perf_counter() - started
    base = replay_surge(techs, orders, queues)
    base_exact = routing.evaluate(problem, queues)  # the core's replay must agree

    log(f"part 2: planning with the routing core ({PLAN_SECONDS:.0f} s budget)")
    started = time.perf_counter()
    solution = routing.solve(problem, seconds=PLAN_SECONDS)
    plan_s = time.perf_counter() - started
    plan_queues = solution.as_mapping()
    plan = replay_surge(techs, orders, plan_queues)
    plan_exact = routing.evaluate(problem, plan_queues)

    for name, mine, exact in (("greedy", base, base_exact), ("plan", plan, plan_exact)):
        if abs(mine.travel_km - exact.distance / 1000) > 1e-6 * max(1.0, mine.travel_km):
            raise RuntimeError(f"{name}: bench and core disagree on travel")
        if abs(mine.lateness_min - exact.lateness) > 1e-6 * max(1.0, mine.lateness_min):
            raise RuntimeError(f"{name}: bench and core disagree on lateness")

    improvement = 1 - plan.cost / base.cost if base.cost else 0.0
    print()
    print(
        "Surge: 2,000 waiting orders at 07:00, 200 technicians, 3 x 3 districts, 25 km/h, "
        f"at most {MAX_OPEN} orders each"
    )
    head = f"{'':<22}{'greedy (one by one)':>22}{'plan (routing core)':>22}"
    print(head)
    print("-" * len(head))
    rows = [
        ("time (s)", f"{greedy_s:.2f}", f"{plan_s:.2f}"),
        ("served", base.served, plan.served),
        ("unserved", base.unserved, plan.unserved),
        ("travel (km)", f"{base.travel_km:,.1f}", f"{plan.travel_km:,.1f}"),
        ("lateness (min)", f"{base.lateness_min:,.0f}", f"{plan.lateness_min:,.0f}"),
        (
            "weighted late (h)",
            f"{base.weighted_lateness_h:,.1f}",
            f"{plan.weighted_lateness_h:,.1f}",
        ),
        ("unserved charge (h)", f"{base.unserved_charge_h:,.1f}", f"{plan.unserved_charge_h:,.1f}"),
        ("cost", f"{base.cost:,.1f}", f"{plan.cost:,.1f}"),
        ("violations", sum(base.violations.values()), sum(plan.violations.values())),
    ]
    for label, left, right in rows:
        print(f"{label:<22}{left!s:>22}{right!s:>22}")
    print(
        "cost = travel_km + weighted_lateness_h + unserved_charge_h, where weighted_lateness_h ="
        " sum(urgency weight x hours late)"
    )
    print(
        f"and every unserved order is charged {UNSERVED_HOURS:.0f} h x its urgency weight "
        "(weights: low 1, normal 2, urgent 5, critical 10)."
    )
    print(f"plan better by {improvement:.1%} (target ≥ {IMPROVEMENT_TARGET:.0%}).")
    stats = solution.stats
    if stats.get("seed_objective") and stats.get("objective"):
        gain = 1 - stats["objective"] / stats["seed_objective"]
        print(
            f"search: {stats.get('rounds')} rounds of {stats.get('parts')} parts on "
            f"{stats.get('workers')} processes improved the constructive start by {gain:.1%} "
            "(the core's own objective)."
        )
    failures = []
    if sum(plan.violations.values()) or sum(base.violations.values()):
        failures.append(f"violations: greedy {base.violations}, plan {plan.violations}")
    if improvement < IMPROVEMENT_TARGET:
        failures.append(f"plan better by {improvement:.1%} only (target {IMPROVEMENT_TARGET:.0%})")
    if plan_s >= TIME_TARGET_S:
        failures.append(f"plan took {plan_s:.2f} s (target < {TIME_TARGET_S:.0f} s)")

    def figures(o: Outcome) -> dict:
        return {
            "served": o.served,
            "unserved": o.unserved,
            "travel_km": round(o.travel_km, 1),
            "lateness_min": round(o.lateness_min),
            "weighted_lateness_h": round(o.weighted_lateness_h, 1),
            "unserved_charge_h": round(o.unserved_charge_h, 1),
            "cost": round(o.cost, 1),
            "violations": sum(o.violations.values()),
            "violations_by_rule": o.violations,
        }

    return {
        "plan_s": round(plan_s, 2),
        "greedy_s": round(greedy_s, 3),
        "greedy": figures(base),
        "plan": figures(plan),
        "greedy_unassigned": len(unassigned),
        "improvement": round(improvement, 4),
        "plan_stats": dict(stats),
        "missed": failures,
    }


# --- part 1: Solomon -----------------------------------------------------------------------


def family(name: str) -> str:
    letters = name.rstrip("0123456789")
    return letters + name[len(letters)]


def solomon_part(seconds: float, names: list[str]) -> dict:
    best = solomon.best_known(SOLOMON_DIR / "best_known_solutions.csv")
    log(f"part 1: {len(names)} Solomon instances, {seconds:g} s each")
    head = (
        f"{'instance':<10}{'vehicles':>9}{'distance':>11}{'bk veh':>8}{'bk dist':>10}"
        f"{'gap %':>8}{'time s':>8}"
    )
    print(head)
    print("-" * len(head))
    rows = []
    failures = []
    for name in names:
        instance = solomon.load(SOLOMON_DIR / f"{name}.txt")
        solution = routing.solve(solomon.to_problem(instance), seconds=seconds)
        routes = [[int(v.stop_id) for v in r.visits] for r in solution.routes]
        try:
            checked = solomon.check(instance, routes)
        except ValueError as exc:
            failures.append(f"{name}: {exc}")
            print(f"{name:<10}INFEASIBLE: {exc}")
            continue
        bk_vehicles, bk_distance = best[name]
        gap = checked.distance / bk_distance - 1
        rows.append(
            {
                "instance": name,
                "family": family(name),
                "vehicles": checked.vehicles,
                "distance": round(checked.distance, 2),
                "bk_vehicles": bk_vehicles,
                "bk_distance": bk_distance,
                "gap": round(gap, 5),
                "seconds": round(solution.seconds, 2),
            }
        )
        print(
            f"{name:<10}{checked.vehicles:>9}{checked.distance:>11.2f}{bk_vehicles:>8}"
            f"{bk_distance:>10.2f}{gap * 100:>8.2f}{solution.seconds:>8.1f}",
            flush=True,
        )
    print()
    print(
        f"{'family':<8}{'n':>3}{'mean gap %':>12}{'vehicles':>10}{'bk veh':>8}"
        f"{'same fleet':>12}{'gap % there':>13}"
    )
    by_family = {}
    for fam in FAMILIES:
        mine = [r for r in rows if r["family"] == fam]
        if not mine:
            continue
        mean_gap = sum(r["gap"] for r in mine) / len(mine)
        vehicles = sum(r["vehicles"] for r in mine)
        bk = sum(r["bk_vehicles"] for r in mine)
        same = [r for r in mine if r["vehicles"] == r["bk_vehicles"]]
        same_gap = sum(r["gap"] for r in same) / len(same) if same else None
        by_family[fam] = {
            "n": len(mine),
            "mean_gap": round(mean_gap, 5),
            "vehicles": vehicles,
            "bk_vehicles": bk,
            "same_fleet": len(same),
            "same_fleet_gap": round(same_gap, 5) if same_gap is not None else None,
        }
        there = f"{same_gap * 100:.2f}" if same_gap is not None else "-"
        print(
            f"{fam:<8}{len(mine):>3}{mean_gap * 100:>12.2f}{vehicles:>10}{bk:>8}"
            f"{len(same):>12}{there:>13}"
        )
    print(
        "gap = distance / best-known distance - 1 (double precision, hierarchical best known: "
        "fewest vehicles first); a solution with more vehicles than the best known can show a "
        "negative gap. 'same fleet' = instances solved with the best-known number of vehicles, "
        "'gap % there' = their mean gap."
    )
    overall = sum(r["gap"] for r in rows) / len(rows) if rows else None
    return {
        "seconds_per_instance": seconds,
        "instances": rows,
        "families": by_family,
        "mean_gap": round(overall, 5) if overall is not None else None,
        "vehicles": sum(r["vehicles"] for r in rows),
        "bk_vehicles": sum(r["bk_vehicles"] for r in rows),
        "missed": failures,
    }


# --- part 3 ----------------------------------------------------------------------------------


def assignment_latency(quick: bool) -> dict | None:
    """Instant assignment latency with 500 technicians (bench/assign_latency.py): the
    automatic rule timed per order in a fresh SQLite database, next to its floor, a dispatch
    by name through the same lifecycle."""
    from bench.assign_latency import TARGET_P99_MS, measure

    log("part 3: instant assignment — 500 technicians, fresh database (seeded)")
    figures = measure(quick, "sqlite", 500)
    log(
        f"part 3: auto p50 {figures['auto_p50_ms']} ms, p99 {figures['auto_p99_ms']} ms "
        f"(target < {TARGET_P99_MS:g}); floor (dispatch by name) p50 "
        f"{figures['floor_p50_ms']} ms; ratio of medians {figures['ratio_p50']}"
    )
    missed = []
    if not figures["ok"]:
        missed.append(
            f"assignment: p99 {figures['auto_p99_ms']} ms (target < {TARGET_P99_MS:g} ms)"
        )
    return {"summary": figures, "missed": missed}


# --- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="one instance per family at 3 s; done within a minute"
    )
    parser.add_argument("--seconds", type=float, help="seconds per Solomon instance (default 10)")
    parser.add_argument(
        "--instances", default="*", help="glob over instance names, e.g. 'R1*' (default all)"
    )
    parser.add_argument("--part", default="1,2,3", help="parts to run, e.g. 1,2 (default all)")
    args = parser.parse_args(argv)
    parts = {int(p) for p in args.part.split(",") if p.strip()}
    seconds = args.seconds or (3.0 if args.quick else 10.0)
    started = time.monotonic()
    load_before = os.getloadavg()
    log(f"load average before: {load_before[0]:.2f} ({os.cpu_count()} cores, shared)")

    line: dict = {"bench": "dispatch", "quick": args.quick}
    full: dict = {}
    failures: list[str] = []
    if 1 in parts:
        available = sorted(p.stem for p in SOLOMON_DIR.glob("*.txt"))
        names = [n for n in available if fnmatch.fnmatch(n, args.instances)]
        if args.quick and args.instances == "*":
            names = [n for n in QUICK_INSTANCES if n in available]
        result = solomon_part(seconds, names)
        full["solomon"] = result
        failures += result["missed"]
        line["solomon"] = {
            "instances": len(result["instances"]),
            "seconds": seconds,
            "mean_gap": result["mean_gap"],
            "family_gap": {k: v["mean_gap"] for k, v in result["families"].items()},
            "vehicles": result["vehicles"],
            "bk_vehicles": result["bk_vehicles"],
        }
    if 2 in parts:
        result = surge()
        full["surge"] = result
        failures += result["missed"]
        line["surge"] = {
            "plan_s": result["plan_s"],
            "improvement": result["improvement"],
            "plan_violations": result["plan"]["violations"],
            "greedy_violations": result["greedy"]["violations"],
            "plan_cost": result["plan"]["cost"],
            "greedy_cost": result["greedy"]["cost"],
            "plan_served": result["plan"]["served"],
            "greedy_served": result["greedy"]["served"],
        }
    if 3 in parts:
        result = assignment_latency(args.quick)
        if result is not None:
            full["assignment"] = result
            failures += result.get("missed", [])
            line["assignment"] = result.get("summary", result)
    for failure in failures:
        print(f"MISSED {failure}")
    if not failures:
        print("All targets held.")
    line.update(
        ok=not failures,
        elapsed_s=round(time.monotonic() - started, 1),
        load_before=round(load_before[0], 2),
        load_after=round(os.getloadavg()[0], 2),
        missed=failures,
    )
    out_dir = ROOT / "bench" / "out"  # ignored by git: the full figures of the latest runs
    out_dir.mkdir(exist_ok=True)
    record = {**line, **full, "command": " ".join(["bench/dispatch.py", *(argv or sys.argv[1:])])}
    (out_dir / f"dispatch-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(
        json.dumps(record, ensure_ascii=False, indent=2, default=str)
    )
    print(json.dumps(line, ensure_ascii=False))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
