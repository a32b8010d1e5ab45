from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WorkerHeartbeat(models.Model):
    """One row a minute from whichever worker took that minute's periodic heartbeat.

    Shows an admin that background work runs (no rows for minutes: no worker), and proves
    that periodic jobs run once per period however many workers share the queue.
    """

    slot = models.BigIntegerField(_("时段"), db_index=True)  # minutes since the epoch
    host = models.CharField(_("主机"), max_length=100)
    pid = models.PositiveIntegerField(_("进程号"))
    ran_at = models.DateTimeField(_("运行时间"), default=timezone.now)

    class Meta:
        verbose_name = _("后台任务心跳")
        verbose_name_plural = _("后台任务心跳")
        ordering = ["-slot"]

    def __str__(self) -> str:
        return f"{self.host}:{self.pid} @ {self.ran_at:%Y-%m-%d %H:%M}"
