"""A controllable clock and readers of what supervision wrote (messages, events, ladder)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from repairhub.notify.models import Message

# A Monday morning in the site's time zone; every test starts here with the clock stopped.
START = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


class Clock:
    def __init__(self, traveller):
        self.traveller = traveller

    def at(self, **offset) -> datetime:
        """Move to START + offset (hours=…, minutes=…, seconds=…)."""
        moment = START + timedelta(**offset)
        self.traveller.move_to(moment)
        return moment


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield Clock(traveller)


def told(cause: str, order=None) -> list[str]:
    """Usernames given an in-app message of `cause` (about `order`), oldest first."""
    rows = Message.objects.filter(cause=cause, channel="in_app")
    if order is not None:
        rows = rows.filter(order_number=order.number)
    return list(rows.order_by("id").values_list("user__username", flat=True))


def bodies(cause: str, order=None) -> list[str]:
    rows = Message.objects.filter(cause=cause, channel="in_app")
    if order is not None:
        rows = rows.filter(order_number=order.number)
    return list(rows.order_by("id").values_list("body", flat=True))


def supervision_messages(order) -> list[tuple[str, str]]:
    """(cause, username) of every in-app supervision message about the order."""
    rows = Message.objects.filter(
        order_number=order.number, cause__startswith="supervision.", channel="in_app"
    )
    return list(rows.order_by("id").values_list("cause", "user__username"))


def events(order, code: str) -> list[dict]:
    return list(order.events.filter(code=code).order_by("id").values_list("data", flat=True))
