from __future__ import annotations

import os
import socket
from datetime import timedelta

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from repairhub.lib import periodic

from .models import WorkerHeartbeat

KEEP = timedelta(days=7)


@db_periodic_task(crontab(minute="*"))
@periodic.once_per_period("worker-heartbeat", seconds=60)
def heartbeat() -> None:
    """Note that a worker ran this minute's periodic jobs; keep a week of notes."""
    now = timezone.now()
    WorkerHeartbeat.objects.create(
        slot=periodic.period_slot(60),
        host=socket.gethostname()[:100],
        pid=os.getpid(),
        ran_at=now,
    )
    WorkerHeartbeat.objects.filter(ran_at__lt=now - KEEP).delete()
