from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from . import services
from .models import Message


@db_task()
def deliver_messages(ids: list[int]) -> None:
    for message_id in ids:
        services.deliver(message_id)


@db_periodic_task(crontab(minute="*"))
@lock_task("notify-sweep")
def sweep_outbox() -> None:
    """Deliver anything left pending (a worker died, the queue was down when it was written)."""
    for message_id in Message.objects.due().values_list("pk", flat=True)[:500]:
        services.deliver(message_id)
