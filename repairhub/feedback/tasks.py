"""Periodic jobs: automatic confirmation, catching up follow-ups, complaint deadlines.

Each runs once per period however many workers run (repairhub/lib/periodic.py).
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from repairhub.lib.periodic import once_per_period

from .services import complaints, ratings, visits


@db_periodic_task(crontab(minute="*/10"))
@once_per_period("feedback-autoconfirm", seconds=600)
def auto_confirm() -> int:
    """Confirm orders the reporter left unanswered for FEEDBACK_AUTO_CONFIRM_DAYS (FQ1)."""
    return ratings.auto_confirm_due()


@db_periodic_task(crontab(minute="5-59/10"))
@once_per_period("feedback-followups", seconds=600)
def schedule_follow_ups() -> int:
    """Schedule visits for finished orders the subscriber missed (FQ2)."""
    return visits.schedule_missing()


@db_periodic_task(crontab(minute="*"))
@once_per_period("feedback-complaints", seconds=60)
def complaint_deadlines() -> tuple[int, int]:
    """Remind before, and escalate after, the complaints' first-contact deadline (FQ3)."""
    return complaints.check_deadlines()
