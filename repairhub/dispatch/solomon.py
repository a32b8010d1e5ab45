"""Solomon VRPTW instances: read the text format, turn it into a routing `Problem`, check routes.

The format (one instance per file, CRLF or LF line ends): a name line, a VEHICLE block with
the number of vehicles K and their capacity Q, then a CUSTOMER table of integer rows
`number x y demand ready due service`; row 0 is the depot, whose window is the horizon.
Windows are hard and bound the start of service; early arrivals wait. Travel time equals the
Euclidean distance.

Distance convention: plain double-precision Euclidean distances, summed without rounding or
truncation — the convention of the hierarchical best-known table (fewest vehicles, then
distance) in `best_known_solutions.csv`, column `bks_distance`. The CVRPLIB column truncates
each arc to one decimal and is therefore lower; do not compare with it.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from .routing import Problem, Stop, Vehicle

# Objective weight of one vehicle, in distance units: above any distance a vehicle could save
# in these instances (100 customers in a 100 x 100 square), so fewer vehicles always wins.
VEHICLE_COST = 10_000
# Finer than the routing default so rounding travel times up costs little slack on tight windows.
SOLOMON_SCALE = 1000


@dataclass(frozen=True)
class Customer:
    number: int
    x: float
    y: float
    demand: int
    ready: int
    due: int
    service: int


@dataclass(frozen=True)
class Instance:
    name: str
    vehicles: int
    capacity: int
    depot: Customer
    customers: tuple[Customer, ...]


class FormatError(ValueError):
    """The text is not a Solomon instance."""


def parse(text: str, *, name: str | None = None) -> Instance:
    """Read an instance from its text; raises FormatError with the reason when it is not one."""
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = [line for line in lines if line]
    if not lines:
        raise FormatError(_("文件是空的。"))
    title = lines[0]
    try:
        v_at = next(i for i, line in enumerate(lines) if line.upper().startswith("VEHICLE"))
        c_at = next(i for i, line in enumerate(lines) if line.upper().startswith("CUSTOMER"))
    except StopIteration:
        raise FormatError(_("缺少 VEHICLE 或 CUSTOMER 段。")) from None
    numbers = None
    for line in lines[v_at + 1 : c_at]:
        fields = line.split()
        if len(fields) == 2 and all(f.isdigit() for f in fields):
            numbers = (int(fields[0]), int(fields[1]))
            break
    if numbers is None:
        raise FormatError(_("VEHICLE 段缺少车辆数和容量两个整数。"))
    rows: list[Customer] = []
    for line in lines[c_at + 1 :]:
        fields = line.split()
        if not fields or not fields[0].lstrip("-").isdigit():
            continue  # the column header
        if len(fields) != 7:
            raise FormatError(
                _("客户行应有 7 个数，这一行有 %(n)d 个：%(line)s")
                % {"n": len(fields), "line": line}
            )
        try:
            values = [float(f) for f in fields]
        except ValueError:
            raise FormatError(_("客户行中有不是数字的内容：%(line)s") % {"line": line}) from None
        number, x, y, demand, ready, due, service = values
        rows.append(Customer(int(number), x, y, int(demand), int(ready), int(due), int(service)))
    if len(rows) < 2:
        raise FormatError(_("没有客户行（至少需要车场和一个客户）。"))
    if rows[0].number != 0:
        raise FormatError(_("第一行客户必须是编号为 0 的车场。"))
    numbers_seen = [c.number for c in rows]
    if len(set(numbers_seen)) != len(numbers_seen):
        raise FormatError(_("客户编号有重复。"))
    return Instance(name or title, numbers[0], numbers[1], rows[0], tuple(rows[1:]))


def load(path: str | Path) -> Instance:
    """Read a file; OSError when it cannot be read, FormatError when it is not an instance."""
    path = Path(path)
    return parse(path.read_text(encoding="utf-8", errors="replace"), name=path.stem)


def to_problem(instance: Instance) -> Problem:
    """Depot start and end, hard windows, capacity, Euclidean travel, fewest vehicles first."""
    d = instance.depot
    vehicles = tuple(
        Vehicle(
            id=k,
            start=(d.x, d.y),
            end=(d.x, d.y),
            shift=(d.ready, d.due),
            capacity=instance.capacity,
            fixed_cost=VEHICLE_COST,
        )
        for k in range(instance.vehicles)
    )
    stops = tuple(
        Stop(
            id=c.number,
            position=(c.x, c.y),
            service=c.service,
            ready=c.ready,
            due=c.due,
            hard_window=True,
            demand=c.demand,
        )
        for c in instance.customers
    )
    return Problem(
        vehicles, stops, metric="euclidean", speed=1.0, scale=SOLOMON_SCALE, minimize_vehicles=True
    )


@dataclass(frozen=True)
class Checked:
    vehicles: int
    distance: float


def check(instance: Instance, routes: Sequence[Sequence[int]]) -> Checked:
    """Verify routes (lists of customer numbers) independently of the routing core.

    Each customer exactly once, at most K non-empty routes, load within capacity, service
    starting within every window (waiting when early), back at the depot by its due time.
    Returns the number of routes and the total distance in plain float Euclidean; raises
    ValueError on the first violation.
    """
    customers = {c.number: c for c in instance.customers}
    depot = instance.depot
    used = [list(r) for r in routes if len(r)]
    if len(used) > instance.vehicles:
        raise ValueError(f"{len(used)} routes, but only {instance.vehicles} vehicles")
    seen: set[int] = set()
    total = 0.0
    eps = 1e-6
    for r, route in enumerate(used):
        x, y, clock, load = depot.x, depot.y, float(depot.ready), 0
        for number in route:
            if number not in customers:
                raise ValueError(f"route {r}: unknown customer {number}")
            if number in seen:
                raise ValueError(f"customer {number} visited twice")
            seen.add(number)
            c = customers[number]
            leg = math.hypot(c.x - x, c.y - y)
            total += leg
            clock = max(clock + leg, c.ready)
            if clock > c.due + eps:
                raise ValueError(
                    f"route {r}: customer {number} served at {clock:.2f} > due {c.due}"
                )
            clock += c.service
            load += c.demand
            x, y = c.x, c.y
        if load > instance.capacity:
            raise ValueError(f"route {r}: load {load} > capacity {instance.capacity}")
        leg = math.hypot(depot.x - x, depot.y - y)
        total += leg
        clock += leg
        if clock > depot.due + eps:
            raise ValueError(f"route {r}: back at the depot at {clock:.2f} > {depot.due}")
    missing = set(customers) - seen
    if missing:
        raise ValueError(f"{len(missing)} customers not visited, e.g. {min(missing)}")
    return Checked(len(used), total)


def best_known(csv_path: str | Path) -> dict[str, tuple[int, float]]:
    """Instance name -> (vehicles, distance) from the hierarchical best-known columns."""
    with open(csv_path, newline="", encoding="utf-8") as handle:
        return {
            row["instance"]: (int(row["bks_vehicles"]), float(row["bks_distance"]))
            for row in csv.DictReader(handle)
        }
