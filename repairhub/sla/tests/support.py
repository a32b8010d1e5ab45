"""Helpers for the SLA tests: Shanghai wall times and an order's clocks by kind."""

from __future__ import annotations

import datetime as dt

from repairhub.sla.calendar import SHANGHAI
from repairhub.sla.models import OrderClock


def at(*args: int) -> dt.datetime:
    """A Shanghai wall time."""
    return dt.datetime(*args, tzinfo=SHANGHAI)


def clocks(order) -> dict[str, OrderClock]:
    """The order's clocks of its latest round, by kind."""
    found: dict[str, OrderClock] = {}
    for c in OrderClock.objects.filter(order=order).order_by("cycle"):
        found[c.kind] = c
    return found
