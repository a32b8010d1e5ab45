"""Periodic jobs that run once per period however many workers run (architecture: scaled mode).

Every Huey consumer runs its own scheduler, so with two workers on Redis each enqueues the same
periodic task every minute. A job wrapped in `once_per_period` claims its period in the shared
cache first (Redis `SET NX` when `REDIS_URL` is set, the database cache table otherwise); the
worker that loses the claim skips the run.

    @db_periodic_task(crontab(minute="*"))
    @once_per_period("sla-check", seconds=60)
    def check_deadlines(): ...
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import ClassVar

from django.core.cache import cache

log = logging.getLogger("repairhub.periodic")


class Clock:
    """Seconds since the epoch; tests replace `now` to step through periods without sleeping."""

    now: ClassVar[Callable[[], float]] = staticmethod(time.time)


def period_slot(seconds: int, at: float | None = None) -> int:
    """The number of the period that `at` (default: now) falls in."""
    return int((Clock.now() if at is None else at) // seconds)


def claim(name: str, seconds: int, at: float | None = None) -> bool:
    """True for exactly one caller per `name` and period, across processes sharing the cache."""
    slot = period_slot(seconds, at)
    return bool(cache.add(f"periodic:{name}:{seconds}:{slot}", 1, timeout=max(seconds * 2, 60)))


def once_per_period(name: str, *, seconds: int) -> Callable:
    def wrap(func: Callable) -> Callable:
        @functools.wraps(func)
        def run(*args, **kwargs):
            if not claim(name, seconds):
                log.debug("periodic %s: this period already taken by another worker", name)
                return None
            return func(*args, **kwargs)

        return run

    return wrap
