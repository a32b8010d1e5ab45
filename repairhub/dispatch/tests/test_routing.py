"""The routing core: exact replay, hard rules, drops, and properties over random small problems.

Solutions are checked here by `independent_check`, a replay written separately from
routing.evaluate, so a bug shared by the solver and its own evaluator cannot hide.
"""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repairhub.dispatch import routing
from repairhub.dispatch.routing import Problem, Stop, Vehicle

EPS = 1e-6


def independent_check(problem: Problem, solution: routing.Solution) -> None:
    """Assert every hard rule and recompute distance and lateness from scratch."""
    vehicles = {v.id: v for v in problem.vehicles}
    stops = {s.id: s for s in problem.stops}
    routed = [visit.stop_id for route in solution.routes for visit in route.visits]
    assert len(routed) == len(set(routed)), "a stop is routed twice"
    assert set(routed).isdisjoint(solution.dropped), "a stop is both routed and dropped"
    assert set(routed) | set(solution.dropped) == set(stops), "a stop is neither routed nor dropped"
    for stop_id in solution.dropped:
        assert stops[stop_id].drop_penalty is not None, "a must-serve stop was dropped"
    assert len({r.vehicle_id for r in solution.routes}) == len(solution.routes)

    def dist(a, b):
        if problem.metric == "euclidean":
            return math.sqrt((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2)
        p1, p2 = math.radians(a[0]), math.radians(b[0])
        dp, dl = p2 - p1, math.radians(b[1] - a[1])
        h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
        return 2 * 6_371_008.8 * math.asin(math.sqrt(h))

    total = late_total = weighted_total = 0.0
    for route in solution.routes:
        v = vehicles[route.vehicle_id]
        assert route.visits, "an empty route is listed"
        t, here, load, length = float(v.shift[0]), v.start, 0, 0.0
        for visit in route.visits:
            s = stops[visit.stop_id]
            if s.skill is not None:
                assert s.skill in v.skills, f"{v.id} lacks skill {s.skill} for {s.id}"
            if s.allowed is not None:
                assert v.id in s.allowed, f"{v.id} not allowed for {s.id}"
            leg = dist(here, s.position)
            length += leg
            t = max(t + leg / problem.speed, s.ready)
            assert visit.start == pytest.approx(t, abs=EPS)
            if s.due is not None:
                if s.hard_window:
                    assert t <= s.due + EPS, f"{s.id} starts at {t} after its hard due {s.due}"
                else:
                    late_total += max(0.0, t - s.due)
                    weighted_total += max(0.0, t - s.due) * s.lateness_weight
            load += s.demand
            if v.capacity is not None:
                assert load <= v.capacity, f"{v.id} over capacity"
            t += s.service
            here = s.position
        if v.end is not None:
            leg = dist(here, v.end)
            length += leg
            t += leg / problem.speed
        assert t <= v.shift[1] + EPS, f"{v.id} finishes at {t} after its shift end {v.shift[1]}"
        assert route.distance == pytest.approx(length, abs=EPS)
        assert route.finish == pytest.approx(t, abs=EPS)
        total += length
    assert solution.distance == pytest.approx(total, abs=EPS)
    assert solution.lateness == pytest.approx(late_total, abs=EPS)
    assert solution.weighted_lateness == pytest.approx(weighted_total, abs=EPS)


# --- exact replay ------------------------------------------------------------------------------


def line_problem(**stop_changes) -> Problem:
    """One vehicle at the origin, shift 0-100, two stops on the x axis at 3 and 7."""
    vehicle = Vehicle(id="v", start=(0.0, 0.0), end=(0.0, 0.0), shift=(0, 100), capacity=5)
    a = Stop(id="a", position=(3.0, 0.0), service=2, ready=10, demand=2)
    b = Stop(id="b", position=(7.0, 0.0), service=1, due=15, lateness_weight=3, demand=2)
    b = Stop(**{**b.__dict__, **stop_changes})
    return Problem(vehicles=(vehicle,), stops=(a, b))


def test_evaluate_waits_for_ready_and_counts_soft_lateness():
    solution = routing.evaluate(line_problem(), {"v": ["a", "b"]})
    (route,) = solution.routes
    a, b = route.visits
    assert (a.arrival, a.start, a.lateness) == (3.0, 10.0, 0.0)  # waits 7 for the ready time
    assert (b.arrival, b.start) == (16.0, 16.0)  # 10 + 2 service + 4 travel
    assert b.lateness == 1.0
    assert solution.lateness == 1.0 and solution.weighted_lateness == 3.0
    assert route.distance == solution.distance == 14.0  # 3 + 4 + 7 back
    assert route.finish == 24.0
    assert solution.dropped == []


def test_evaluate_open_route_ends_at_the_last_stop():
    problem = line_problem()
    open_vehicle = Vehicle(id="v", start=(0.0, 0.0), end=None, shift=(0, 100))
    problem = Problem(vehicles=(open_vehicle,), stops=problem.stops)
    solution = routing.evaluate(problem, {"v": ["a", "b"]})
    assert solution.distance == 7.0 and solution.routes[0].finish == 17.0


def test_evaluate_travel_time_is_distance_over_speed():
    problem = line_problem()
    problem = Problem(problem.vehicles, problem.stops, speed=0.5)
    route = routing.evaluate(problem, {"v": ["a", "b"]}).routes[0]
    assert [v.arrival for v in route.visits] == [6.0, 20.0]  # 3 / 0.5; 12 + 4 / 0.5
    assert route.finish == 35.0  # 21 + 7 / 0.5


@pytest.mark.parametrize(
    ("problem", "routes", "message"),
    [
        (line_problem(skill="weld"), {"v": ["a", "b"]}, "lacks skill"),
        (line_problem(allowed=frozenset({"w"})), {"v": ["b"]}, "not allowed"),
        (line_problem(hard_window=True), {"v": ["a", "b"]}, "after its window"),
        (line_problem(demand=4), {"v": ["a", "b"]}, "over its capacity"),
        (line_problem(service=90), {"v": ["a", "b"]}, "after its shift"),
        (line_problem(), {"v": ["a", "a"]}, "more than once"),
        (line_problem(), {"w": ["a"]}, "unknown vehicle"),
        (line_problem(), {"v": ["z"]}, "unknown stop"),
        (line_problem(), {"v": ["a"]}, "must be served"),
    ],
)
def test_evaluate_names_the_breach(problem, routes, message):
    with pytest.raises(ValueError, match=message):
        routing.evaluate(problem, routes)


def test_evaluate_lists_droppable_stops_left_out():
    problem = line_problem(drop_penalty=10)
    solution = routing.evaluate(problem, {"v": ["a"]})
    assert solution.dropped == ["b"]
    assert routing.objective(problem, solution) == solution.distance + 10


def test_haversine_distance_of_one_degree_of_latitude():
    assert routing.distance((30.0, 114.0), (31.0, 114.0), "haversine") == pytest.approx(
        111_195, rel=1e-4
    )
    assert routing.distance_matrix([(30.0, 114.0)], [(31.0, 114.0)], "haversine")[
        0, 0
    ] == pytest.approx(routing.distance((30.0, 114.0), (31.0, 114.0), "haversine"))


# --- solving -----------------------------------------------------------------------------------


def test_solve_respects_skills_and_prefers_the_short_tour():
    vehicles = (
        Vehicle(id="plumber", start=(0, 0), end=None, shift=(0, 1000), skills=frozenset({"p"})),
        Vehicle(id="sparky", start=(100, 0), end=None, shift=(0, 1000), skills=frozenset({"e"})),
    )
    stops = tuple(
        Stop(id=f"s{i}", position=(float(10 * i), 0.0), service=5, skill="p" if i < 4 else "e")
        for i in range(1, 7)
    )
    problem = Problem(vehicles, stops)
    solution = routing.solve(problem, seconds=0.5, workers=1)
    independent_check(problem, solution)
    routes = solution.as_mapping()
    assert routes["plumber"] == ["s1", "s2", "s3"]
    assert routes["sparky"] == ["s6", "s5", "s4"]
    assert solution.distance == pytest.approx(30 + 60)


def test_solve_serves_urgent_first_when_deadlines_are_soft():
    vehicle = Vehicle(id="v", start=(0, 0), end=None, shift=(0, 1000))
    stops = (
        Stop(id="far-urgent", position=(10, 0), service=30, due=15, lateness_weight=100),
        Stop(id="near-routine", position=(1, 0), service=30, due=500),
    )
    problem = Problem((vehicle,), stops)
    solution = routing.solve(problem, seconds=0.3, workers=1)
    independent_check(problem, solution)
    assert solution.as_mapping()["v"] == ["far-urgent", "near-routine"]
    assert solution.lateness == 0


def test_solve_drops_what_cannot_fit_and_raises_for_impossible_must_serve():
    vehicle = Vehicle(id="v", start=(0, 0), end=(0, 0), shift=(0, 50))
    far = Stop(id="far", position=(100, 0), service=1, drop_penalty=1000)
    near = Stop(id="near", position=(5, 0), service=1)
    problem = Problem((vehicle,), (far, near))
    solution = routing.solve(problem, seconds=0.3, workers=1)
    independent_check(problem, solution)
    assert solution.dropped == ["far"] and solution.as_mapping() == {"v": ["near"]}
    with pytest.raises(ValueError, match="must be served"):
        routing.solve(Problem((vehicle,), (Stop(id="far", position=(100, 0), service=1),)))


def test_solve_uses_fixed_costs_to_save_vehicles():
    vehicles = tuple(
        Vehicle(id=k, start=(0, 0), end=(0, 0), shift=(0, 1000), fixed_cost=1000) for k in range(3)
    )
    stops = tuple(Stop(id=i, position=(10.0, float(i)), service=1) for i in range(6))
    problem = Problem(vehicles, stops, minimize_vehicles=True)
    solution = routing.solve(problem, seconds=0.3, workers=1)
    independent_check(problem, solution)
    assert len(solution.routes) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"metric": "manhattan"}, "unknown metric"),
        ({"speed": 0}, "speed"),
        (
            {"vehicles": (Vehicle("v", (0, 0), None, (0, 9)), Vehicle("v", (0, 0), None, (0, 9)))},
            "ids repeat",
        ),
        ({"vehicles": (Vehicle("v", (0, 0), None, (9, 0)),)}, "shift ends before"),
        ({"stops": (Stop("s", (1, 1), service=-1),)}, "negative"),
    ],
)
def test_solve_refuses_inputs_it_cannot_model(changes, message):
    base = Problem((Vehicle("v", (0, 0), None, (0, 9)),), (Stop("s", (1, 1), service=1),))
    with pytest.raises(ValueError, match=message):
        routing.solve(Problem(**{**base.__dict__, **changes}), seconds=0.1)


def test_solve_with_nothing_to_do():
    vehicle = Vehicle(id="v", start=(0, 0), end=None, shift=(0, 10))
    solution = routing.solve(Problem((vehicle,), ()), seconds=0.1)
    assert solution.routes == [] and solution.dropped == [] and solution.distance == 0


def test_large_problems_are_split_and_keep_every_rule(monkeypatch):
    """The split path (parts on two processes, two rounds) on a small city, haversine."""
    monkeypatch.setattr(routing, "SPLIT_STOPS", 30)
    monkeypatch.setattr(routing, "PART_STOPS", 20)
    rnd = random.Random(7)
    skills = ("p", "e", "h")
    vehicles = tuple(
        Vehicle(
            id=f"t{k}",
            start=(30.5 + rnd.random() * 0.1, 114.3 + rnd.random() * 0.1),
            end=None,
            shift=rnd.choice(((480, 1020), (720, 1260), (0, 1440))),
            skills=frozenset(rnd.sample(skills, rnd.randint(1, 2))),
            capacity=8,
        )
        for k in range(10)
    )
    stops = tuple(
        Stop(
            id=f"o{i}",
            position=(30.5 + rnd.random() * 0.1, 114.3 + rnd.random() * 0.1),
            service=rnd.choice((20, 40, 60)),
            due=rnd.randint(500, 900),
            lateness_weight=rnd.choice((1, 2, 5)),
            skill=rnd.choice(skills),
            allowed=frozenset(v.id for v in rnd.sample(vehicles, 7)),
            demand=1,
            drop_penalty=100_000,
        )
        for i in range(80)
    )
    problem = Problem(vehicles, stops, metric="haversine", speed=25_000 / 60, scale=10)
    solution = routing.solve(problem, seconds=2.0, workers=2)
    independent_check(problem, solution)
    assert solution.stats["rounds"] >= 1 and solution.stats["parts"] >= 2
    assert len(solution.dropped) < 20
    assert solution.seconds < 3.5


# --- properties over random small problems -----------------------------------------------------

SKILLS = ("a", "b", "c")
point = st.tuples(st.integers(0, 40), st.integers(0, 40)).map(lambda p: (float(p[0]), float(p[1])))


@st.composite
def problems(draw) -> Problem:
    n_vehicles = draw(st.integers(1, 3))
    vehicles = []
    for k in range(n_vehicles):
        start = draw(point)
        end = draw(st.sampled_from(["same", "open", "other"]))
        begin = draw(st.integers(0, 40))
        vehicles.append(
            Vehicle(
                id=f"v{k}",
                start=start,
                end=start if end == "same" else None if end == "open" else draw(point),
                shift=(begin, begin + draw(st.integers(20, 250))),
                skills=frozenset(draw(st.sets(st.sampled_from(SKILLS), max_size=3))),
                capacity=draw(st.one_of(st.none(), st.integers(1, 6))),
                fixed_cost=draw(st.sampled_from((0, 0, 30))),
            )
        )
    ids = [v.id for v in vehicles]
    stops = []
    for i in range(draw(st.integers(0, 8))):
        ready = draw(st.integers(0, 120))
        stops.append(
            Stop(
                id=i,
                position=draw(point),
                service=draw(st.integers(0, 20)),
                ready=ready,
                due=draw(st.one_of(st.none(), st.integers(ready, ready + 150))),
                hard_window=draw(st.booleans()),
                lateness_weight=draw(st.integers(0, 5)),
                allowed=draw(st.one_of(st.none(), st.frozensets(st.sampled_from(ids)))),
                skill=draw(st.one_of(st.none(), st.sampled_from(SKILLS))),
                demand=draw(st.integers(0, 3)),
                drop_penalty=draw(st.one_of(st.integers(0, 500), st.integers(0, 500), st.none())),
            )
        )
    speed = draw(st.sampled_from((0.5, 1.0, 2.0)))
    return Problem(tuple(vehicles), tuple(stops), speed=speed)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_solutions_keep_every_hard_rule(problem):
    try:
        solution = routing.solve(problem, seconds=0.1, workers=1)
    except ValueError as exc:
        # Only allowed when a must-serve stop truly has no vehicle able to serve it alone.
        assert "must be served" in str(exc)
        eligible = routing.eligibility(problem)
        assert any(
            not allowed and s.drop_penalty is None
            for s, allowed in zip(problem.stops, eligible, strict=True)
        )
        return
    if solution.status == "no solution":
        assert any(s.drop_penalty is None for s in problem.stops)
        return
    independent_check(problem, solution)
    # The solver's figures are the exact replay of its own routes.
    replay = routing.evaluate(problem, solution.as_mapping())
    assert replay.distance == solution.distance
    assert replay.weighted_lateness == solution.weighted_lateness
