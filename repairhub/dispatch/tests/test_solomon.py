"""Solomon instances: parsing, the independent checker, C101 near its best known, the command."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from repairhub.dispatch import routing, solomon

DATA = Path("/work/shared/data/solomon")
needs_data = pytest.mark.skipif(
    not (DATA / "C101.txt").is_file(), reason="Solomon instances not available"
)

TINY = """TINY

VEHICLE
NUMBER     CAPACITY
  2          10

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      0          0           0          0        100          0
    1      3          4           4          0         50          1
    2      6          8           4         25         50          1
    3      0          5           5         20         30          2
"""


def tiny() -> solomon.Instance:
    return solomon.parse(TINY.replace("\n", "\r\n"))


def test_parse_reads_the_blocks_with_crlf_line_ends():
    instance = tiny()
    assert instance.name == "TINY"
    assert (instance.vehicles, instance.capacity) == (2, 10)
    assert instance.depot == solomon.Customer(0, 0.0, 0.0, 0, 0, 100, 0)
    assert [c.number for c in instance.customers] == [1, 2, 3]
    assert instance.customers[2] == solomon.Customer(3, 0.0, 5.0, 5, 20, 30, 2)
    assert solomon.parse(TINY) == instance


@pytest.mark.parametrize(
    "text",
    [
        "",
        "NAME\nCUSTOMER\n 0 0 0 0 0 10 0\n 1 1 1 1 0 10 1\n",
        TINY.replace("  2          10", "  two        10"),
        TINY.replace(
            "    3      0          5           5         20         30          2", "  3 0 5"
        ),
        TINY.replace("    0      0          0", "    9      0          0"),
        TINY.split("CUSTOMER")[0] + "CUSTOMER\n",
    ],
)
def test_parse_rejects_what_is_not_an_instance(text):
    with pytest.raises(solomon.FormatError):
        solomon.parse(text)


def test_problem_has_hard_windows_capacity_and_a_cost_per_vehicle():
    problem = solomon.to_problem(tiny())
    assert len(problem.vehicles) == 2 and problem.minimize_vehicles
    v = problem.vehicles[0]
    assert v.start == v.end == (0.0, 0.0) and v.shift == (0, 100) and v.capacity == 10
    assert v.fixed_cost == solomon.VEHICLE_COST
    assert all(s.hard_window and s.drop_penalty is None for s in problem.stops)


def test_check_computes_float_distance_and_counts_vehicles():
    checked = solomon.check(tiny(), [[1, 2], [3], []])
    assert checked.vehicles == 2
    assert checked.distance == pytest.approx(5 + 5 + 10 + 5 + 5)


@pytest.mark.parametrize(
    ("routes", "message"),
    [
        ([[3, 1, 2]], "capacity"),
        ([[1, 2], [3, 1]], "twice"),
        ([[1, 2]], "not visited"),
        ([[1], [2, 3]], "due"),
        ([[1], [2], [3]], "vehicles"),
        ([[1, 2], [4, 3]], "unknown"),
    ],
)
def test_check_refuses_infeasible_routes(routes, message):
    with pytest.raises(ValueError, match=message):
        solomon.check(tiny(), routes)


def test_tiny_instance_is_solved_with_fewest_vehicles():
    instance = tiny()
    solution = routing.solve(solomon.to_problem(instance), seconds=0.3, workers=1)
    routes = [[v.stop_id for v in r.visits] for r in solution.routes]
    checked = solomon.check(instance, routes)
    assert checked.vehicles == 2  # 13 units of demand need two vehicles of 10
    assert checked.distance == pytest.approx(solution.distance)


@needs_data
def test_best_known_table_uses_the_hierarchical_double_precision_column():
    table = solomon.best_known(DATA / "best_known_solutions.csv")
    assert len(table) == 56
    assert table["C101"] == (10, 828.94)


@needs_data
def test_c101_is_feasible_and_near_its_best_known():
    instance = solomon.load(DATA / "C101.txt")
    assert len(instance.customers) == 100 and instance.vehicles == 25
    solution = routing.solve(solomon.to_problem(instance), seconds=3)
    checked = solomon.check(instance, [[v.stop_id for v in r.visits] for r in solution.routes])
    assert checked.distance == pytest.approx(solution.distance)
    assert checked.vehicles == 10
    # 828.94 in double precision (827.3 is the same tour with arcs truncated to one decimal).
    assert checked.distance <= 828.94 * 1.03


@needs_data
def test_command_prints_json_routes_as_its_last_line():
    out = StringIO()
    call_command("dispatch", "solve-vrptw", str(DATA / "C101.txt"), "--seconds", "2", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) >= 2
    result = json.loads(lines[-1])
    assert set(result) == {"vehicles", "distance", "routes"}
    instance = solomon.load(DATA / "C101.txt")
    checked = solomon.check(instance, result["routes"])
    assert result["vehicles"] == checked.vehicles == len(result["routes"])
    assert result["distance"] == round(checked.distance, 2)


def test_command_explains_a_bad_file(tmp_path):
    missing = tmp_path / "missing.txt"
    with pytest.raises(CommandError, match="无法读取算例文件"):
        call_command("dispatch", "solve-vrptw", str(missing))
    junk = tmp_path / "junk.txt"
    junk.write_text("hello\n")
    with pytest.raises(CommandError, match="格式"):
        call_command("dispatch", "solve-vrptw", str(junk))
    with pytest.raises(CommandError):
        call_command("dispatch", "solve-vrptw", str(junk), "--seconds", "0")
