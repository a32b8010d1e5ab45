"""The generated history is built once per test module (it takes seconds: every step goes
through the lifecycle and its subscribers) inside a transaction rolled back at the end; each
test runs in a savepoint within it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.db import transaction

from repairhub.testing.personas import make_world

from .history import Campus, generate, local, make_campus

FIRST = date(2026, 3, 2)  # a Monday
LAST = date(2026, 4, 26)  # a Sunday: eight whole weeks
NOW = local(date(2026, 5, 10), 10)


@pytest.fixture(scope="module")
def history(django_db_setup, django_db_blocker) -> Campus:
    with django_db_blocker.unblock(), transaction.atomic():
        campus = make_campus(make_world())
        # Some orders fall outside the window on either side: they must not count.
        generate(campus, first=FIRST - timedelta(days=5), days=66, orders=80)
        yield campus
        transaction.set_rollback(True)


@pytest.fixture
def at_now(db, settings, history):
    """Inside the history, at NOW, ranking people from four orders up."""
    settings.ANALYTICS_MIN_ORDERS = 4
    with time_machine.travel(NOW, tick=False):
        yield history
