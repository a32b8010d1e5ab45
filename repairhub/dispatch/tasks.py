from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from . import positions


@db_periodic_task(crontab(hour="3", minute="20"))
@lock_task("dispatch-prune-positions")
def prune_positions() -> None:
    """Forget positions older than POSITION_KEEP_DAYS (DP3: tracks are kept only so long)."""
    positions.prune_positions()
