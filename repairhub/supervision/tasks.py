"""The supervision clock: every minute, due reminders go out and due escalations climb.

Each job runs once per minute however many workers run (lib/periodic.py); inside it, each row
is claimed with a conditional UPDATE, so an overlapping run never sends twice either.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from repairhub.lib import periodic

from . import services


@db_periodic_task(crontab(minute="*"))
@periodic.once_per_period("supervision-reminders", seconds=60)
def send_reminders() -> int:
    """Remind each technician whose order is due (TM2)."""
    return services.send_due_reminders()


@db_periodic_task(crontab(minute="*"))
@periodic.once_per_period("supervision-managers", seconds=60)
def escalate_to_managers() -> int:
    """Tell the managers of orders still unresolved after the team lead was told (TM4)."""
    return services.escalate_to_managers()
