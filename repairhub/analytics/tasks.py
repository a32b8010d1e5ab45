"""Reports in the worker: each on-demand report is generated here, and every hour the schedule
makes the reports whose period is over (docs/reports.md). The daily summaries (rollup.py) are
built or caught up every minute and their recent days recomputed every night.

The hourly job runs once per hour however many workers run (lib/periodic.py); even if two ran,
the unique constraint on scheduled runs lets each report be made once, and a run is taken by one
worker with a conditional UPDATE, so its subscribers are told once.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from repairhub.lib.periodic import once_per_period

from . import reports, rollup


@db_task()
def generate_report(run_id: int) -> None:
    """Build, export and store one report, then tell its subscribers or its requester."""
    reports.generate_run(run_id)


@db_periodic_task(crontab(minute="7"))
@once_per_period("analytics-reports", seconds=3600)
def make_scheduled_reports() -> int:
    """The reports due now: daily after each day, weekly on Monday, monthly on the 1st, …"""
    return len(reports.schedule_due())


@db_periodic_task(crontab(minute="*"))
@once_per_period("analytics-rollup", seconds=60)
def keep_summaries_up() -> int:
    """Build the daily summaries if they never were, else catch up with the events."""
    return rollup.keep_up()


@db_periodic_task(crontab(hour="3", minute="23"))
@once_per_period("analytics-rollup-recent", seconds=3600)
def recompute_recent_summaries() -> int:
    """The last weeks again from the orders: edits made without an event."""
    return rollup.recompute_recent()
