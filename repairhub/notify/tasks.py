from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from repairhub.lib.periodic import once_per_period

from . import services


@db_task()
def deliver_messages(ids: list[int]) -> None:
    """Deliver messages just written (queued after their transaction committed)."""
    services.deliver_many(ids)


@db_periodic_task(crontab(minute="*"))
@once_per_period("notify-sweep", seconds=60)
def sweep_outbox() -> None:
    """Deliver what is due: held and retried messages, messages never queued (the queue was
    down), and messages whose worker died mid-delivery (lease expired)."""
    services.sweep()
