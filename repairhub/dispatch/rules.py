"""Who may take an order, and who should (DP1): hard rules, then a cost to rank by.

Pure Python over plain facts, so the live assignment (services.py), the candidate list, the
benchmarks and the property tests all judge the same way. Lower cost is better.

Hard rules — a technician qualifies only if all hold:
- he has a skill for the order's category or its parent category;
- he is on duty now (marked on duty, and now falls within his working hours);
- his open orders are under his limit;
- he has not declined this order;
- he belongs to the category's team, when the category's policy names one.

Cost, in "kilometre equivalents" (each part is listed in the explanation):
- distance from his latest fresh position (or his base) to the place, in km;
- zone: `ZONE_PENALTY` when he has zones and the place is in none of them;
- workload: his open orders weighted by urgency, times `LOAD_WEIGHT`;
- skill: (5 − level) × `SKILL_WEIGHT`, so masters are preferred for the same trip;
- fairness: orders dispatched to him today × `FAIRNESS_WEIGHT`.
Unknown positions cost `UNKNOWN_DISTANCE_KM`, so they neither win nor lose by default.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

URGENCY_WEIGHT = {"low": 1, "normal": 2, "high": 4, "critical": 8}
LOAD_WEIGHT = 0.5
ZONE_PENALTY = 5.0
SKILL_WEIGHT = 0.5
FAIRNESS_WEIGHT = 0.2
UNKNOWN_DISTANCE_KM = 5.0


@dataclass(frozen=True)
class TechFacts:
    user_id: int
    name: str
    skills: Mapping[int, int]  # category id → level 1–5
    zone_paths: tuple[str, ...]  # materialised paths of the places he serves; () = anywhere
    position: tuple[float, float] | None  # (lat, lng): fresh last position, else base
    on_duty: bool
    work_start: dt.time
    work_end: dt.time
    open_orders: int
    max_open: int
    load: float  # open orders weighted by urgency
    dispatched_today: int = 0
    team_id: int | None = None
    username: str = ""


@dataclass(frozen=True)
class OrderFacts:
    category_id: int
    category_parent_id: int | None
    place_path: str  # "" when the order has only an address
    position: tuple[float, float] | None
    urgency: str = "normal"
    excluded: frozenset[int] = frozenset()  # technicians who declined it
    team_id: int | None = None  # the policy's team, if it restricts who may take it


@dataclass(frozen=True)
class Candidate:
    user_id: int
    name: str
    cost: float
    refusals: tuple[str, ...]  # why he does not qualify; empty when he does
    parts: dict[str, float] = field(default_factory=dict)
    distance_km: float | None = None
    username: str = ""

    @property
    def qualifies(self) -> bool:
        return not self.refusals

    def as_dict(self) -> dict:
        return {
            "user_id": self.user_id,
            "username": self.username,
            "name": self.name,
            "cost": round(self.cost, 2),
            "qualifies": self.qualifies,
            "refusals": list(self.refusals),
            "parts": {k: round(v, 2) for k, v in self.parts.items()},
            "distance_km": None if self.distance_km is None else round(self.distance_km, 2),
        }


def km_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in kilometres between two (lat, lng) points."""
    lat1, lng1, lat2, lng2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def within_hours(start: dt.time, end: dt.time, now: dt.time) -> bool:
    """Working hours; an end before the start is a night shift across midnight."""
    if start == end:
        return True  # round the clock
    if start < end:
        return start <= now < end
    return now >= start or now < end


def skill_level(tech: TechFacts, order: OrderFacts) -> int | None:
    level = tech.skills.get(order.category_id)
    if level is None and order.category_parent_id is not None:
        level = tech.skills.get(order.category_parent_id)
    return level


def in_zone(tech: TechFacts, order: OrderFacts) -> bool:
    if not tech.zone_paths:
        return True
    path = order.place_path
    return bool(path) and any(path == z or path.startswith(z + "/") for z in tech.zone_paths)


def refusals(tech: TechFacts, order: OrderFacts, now: dt.time) -> tuple[str, ...]:
    """Every hard rule `tech` breaks for `order`, in words for the dispatcher."""
    found = []
    if skill_level(tech, order) is None:
        found.append(_("没有该类别的技能"))
    if not tech.on_duty:
        found.append(_("不在岗"))
    elif not within_hours(tech.work_start, tech.work_end, now):
        found.append(_("不在工作时间"))
    if tech.open_orders >= tech.max_open:
        found.append(
            _("在手工单已满（%(n)d/%(max)d）") % {"n": tech.open_orders, "max": tech.max_open}
        )
    if tech.user_id in order.excluded:
        found.append(_("已退过此单"))
    if order.team_id is not None and tech.team_id != order.team_id:
        found.append(_("不属于指定班组"))
    return tuple(found)


def judge(tech: TechFacts, order: OrderFacts, now: dt.time) -> Candidate:
    distance = (
        km_between(tech.position, order.position)
        if tech.position is not None and order.position is not None
        else None
    )
    level = skill_level(tech, order) or 0
    parts = {
        "distance": UNKNOWN_DISTANCE_KM if distance is None else distance,
        "zone": 0.0 if in_zone(tech, order) else ZONE_PENALTY,
        "load": tech.load * LOAD_WEIGHT,
        "skill": (5 - level) * SKILL_WEIGHT if level else 0.0,
        "fairness": tech.dispatched_today * FAIRNESS_WEIGHT,
    }
    return Candidate(
        user_id=tech.user_id,
        name=tech.name,
        cost=sum(parts.values()),
        refusals=refusals(tech, order, now),
        parts=parts,
        distance_km=distance,
        username=tech.username,
    )


def rank(techs: Iterable[TechFacts], order: OrderFacts, now: dt.time) -> list[Candidate]:
    """Everyone judged: those who qualify first, cheapest first; then the rest."""
    judged = [judge(t, order, now) for t in techs]
    judged.sort(key=lambda c: (not c.qualifies, c.cost, c.user_id))
    return judged


def why_nobody(candidates: list[Candidate]) -> dict[str, int]:
    """How many technicians each hard rule turned away (for 'waiting, because …')."""
    counts: dict[str, int] = {}
    for c in candidates:
        for reason in c.refusals:
            counts[reason] = counts.get(reason, 0) + 1
    return counts
