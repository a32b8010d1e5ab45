"""The SLA's periodic job: mark breached clocks every minute, once however many workers run."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from repairhub.lib.periodic import once_per_period

from . import services


@db_periodic_task(crontab(minute="*"))
@once_per_period("sla-breaches", seconds=60)
def check_breaches() -> int:
    """Running clocks past their deadline become breaches (one event each, services.py)."""
    return services.mark_breaches()
