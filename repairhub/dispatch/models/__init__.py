"""Dispatch data: who can do what where (profiles, skills, zones), how each category is
dispatched, where technicians are, and optimised plans."""

from .plans import Plan, PlanStatus, PlanStop
from .positions import Position
from .profiles import DispatchMode, DispatchPolicy, RosterVersion, Skill, TechnicianProfile

__all__ = [
    "DispatchMode",
    "DispatchPolicy",
    "Plan",
    "PlanStatus",
    "PlanStop",
    "Position",
    "RosterVersion",
    "Skill",
    "TechnicianProfile",
]
