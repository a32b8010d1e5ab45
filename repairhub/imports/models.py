from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from repairhub.lib.crypto import EncryptedTextField

# The event that marks an order as loaded from another system (its source number, the file).
EVENT_IMPORTED = "workorder.imported"


class RunStatus(models.TextChoices):
    RUNNING = "running", _("未完成")  # started; stopped or crashed before the end: run it again
    FINISHED = "finished", _("已完成")  # every row of the file was read and committed


class ImportRun(models.Model):
    """One file loaded with one mapping: how far it got and what became of its rows.

    Rows are committed in batches; `rows_done` and the counts move in the same transaction as
    each batch, so after a crash the run continues right after its last committed batch.
    """

    source = models.CharField(_("来源系统"), max_length=60)
    file_name = models.CharField(_("文件名"), max_length=255)
    file_hash = models.CharField(_("文件 SHA-256"), max_length=64)
    file_size = models.BigIntegerField(_("文件大小（字节）"))
    mapping = models.TextField(_("映射文件内容"))
    mapping_hash = models.CharField(max_length=64)
    # The file's column names, so the rejects file can repeat them.
    header = models.JSONField(_("表头"), default=list)
    status = models.CharField(
        _("状态"), max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    batch_size = models.PositiveIntegerField(_("每批行数"))
    rows_done = models.PositiveIntegerField(_("已处理行数"), default=0)
    accepted = models.PositiveIntegerField(_("导入"), default=0)
    rejected = models.PositiveIntegerField(_("拒绝"), default=0)
    skipped = models.PositiveIntegerField(_("已存在"), default=0)
    blank = models.PositiveIntegerField(_("空行"), default=0)
    unassigned = models.PositiveIntegerField(_("维修人员未知"), default=0)
    auto_confirmed = models.PositiveIntegerField(_("按期自动确认"), default=0)
    # Seconds spent importing, summed over every resumption (rows/s = rows_done / seconds).
    seconds = models.FloatField(_("用时（秒）"), default=0.0)
    started_at = models.DateTimeField(_("开始时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("导入记录")
        verbose_name_plural = _("导入记录")
        ordering = ["-started_at", "-id"]
        constraints = [
            # Running the same file with the same mapping again resumes this one run.
            models.UniqueConstraint(
                fields=["file_hash", "mapping_hash"],
                condition=Q(status="running"),
                name="uniq_unfinished_import_run",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.source})"

    @property
    def rows_per_second(self) -> float | None:
        return round(self.rows_done / self.seconds, 1) if self.seconds > 0 else None


class ImportRejection(models.Model):
    """A row that was not imported, why, and its original values (encrypted: they hold phone
    numbers), so the admin can fix the rows and load them again."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="rejections")
    row = models.PositiveIntegerField(_("行号"))
    number = models.CharField(_("原工单号"), max_length=100, blank=True)
    reason = models.TextField(_("原因"))
    values = EncryptedTextField(_("原始数据"))

    class Meta:
        verbose_name = _("拒绝的行")
        verbose_name_plural = _("拒绝的行")
        ordering = ["run", "row"]
        indexes = [
            # The rejects file of a run, in row order.
            models.Index(fields=["run", "row"], name="import_rejection_run_row"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}:{self.row} {self.reason}"
