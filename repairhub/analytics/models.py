"""Monthly appraisal (AN5): the weights the admin sets, and each month's frozen snapshot.

A month is computed into `AppraisalMonth` + one `AppraisalRow` per technician, holding the
figures and the score as they were; a manager's signature freezes it. Later edits to orders
change live figures, never a signed month. Written only through services.py.

Reports (AN7): `ReportRun` (one generated report and its files) and `ReportSubscription` (who
gets which report each period). Written only through reports.py.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def _weight(label):
    return models.PositiveSmallIntegerField(
        label, default=0, validators=[MaxValueValidator(100)], help_text=_("0 表示不计入。")
    )


def _hours(label, default):
    return models.FloatField(label, default=default, validators=[MinValueValidator(0)])


class AppraisalWeights(models.Model):
    """How much each criterion counts (one row, edited in the admin).

    Each criterion gives a sub-score from 0 to 100; the month's score is their mean weighted by
    these numbers, over the criteria that have data for the technician.
    """

    arrival = _weight(_("派工到到场时间"))
    completion = _weight(_("报修到完成时间"))
    success = _weight(_("维修成功率"))
    satisfaction = _weight(_("满意度"))
    on_time = _weight(_("按时完成率"))
    rework = _weight(_("返修"))
    qc_failures = _weight(_("质检不合格"))
    complaints = _weight(_("投诉"))
    arrival_good_hours = _hours(_("到场满分时间（小时）"), 1)
    arrival_bad_hours = _hours(_("到场零分时间（小时）"), 8)
    completion_good_hours = _hours(_("完成满分时间（小时）"), 24)
    completion_bad_hours = _hours(_("完成零分时间（小时）"), 96)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("考核权重")
        verbose_name_plural = _("考核权重")

    def __str__(self) -> str:
        return str(_("考核权重"))

    DEFAULTS = {
        "arrival": 15,
        "completion": 15,
        "success": 20,
        "satisfaction": 20,
        "on_time": 15,
        "rework": 5,
        "qc_failures": 5,
        "complaints": 5,
    }

    @classmethod
    def current(cls) -> AppraisalWeights:
        """The admin's row (migration 0002 creates it), or the defaults if it was removed."""
        row = cls.objects.order_by("pk").first()
        return row if row is not None else cls(**cls.DEFAULTS)

    def clean(self) -> None:
        if self.arrival_bad_hours <= self.arrival_good_hours:
            raise ValidationError({"arrival_bad_hours": _("零分时间必须长于满分时间。")})
        if self.completion_bad_hours <= self.completion_good_hours:
            raise ValidationError({"completion_bad_hours": _("零分时间必须长于满分时间。")})
        if not any(getattr(self, name) for name in self.DEFAULTS):
            raise ValidationError(_("至少要有一项权重大于 0。"))

    def as_dict(self) -> dict:
        keys = [*self.DEFAULTS, "arrival_good_hours", "arrival_bad_hours"]
        keys += ["completion_good_hours", "completion_bad_hours"]
        return {k: getattr(self, k) for k in keys}


class AppraisalStatus(models.TextChoices):
    DRAFT = "draft", _("待签字")  # computed; may be recomputed, which replaces it
    SIGNED = "signed", _("已签字")  # a manager signed it off; frozen for good


class AppraisalMonth(models.Model):
    month = models.DateField(_("月份"), unique=True, help_text=_("该月第一天"))
    status = models.CharField(
        _("状态"), max_length=10, choices=AppraisalStatus.choices, default=AppraisalStatus.DRAFT
    )
    # Bumped by every computation: signing names the version the manager saw.
    version = models.PositiveIntegerField(default=1)
    weights = models.JSONField(_("所用权重"), default=dict)
    min_orders = models.PositiveSmallIntegerField(_("最少工单数"))
    computed_at = models.DateTimeField(_("计算时间"), default=timezone.now)
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("计算人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    signed_at = models.DateTimeField(_("签字时间"), null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签字人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("月度考核")
        verbose_name_plural = _("月度考核")
        ordering = ["-month"]

    def __str__(self) -> str:
        return self.month.strftime("%Y-%m")

    @property
    def is_signed(self) -> bool:
        return self.status == AppraisalStatus.SIGNED

    @property
    def label(self) -> str:
        return self.month.strftime("%Y-%m")


class AppraisalRow(models.Model):
    """One technician's month: the figures as computed, the sub-scores and the score."""

    appraisal = models.ForeignKey(AppraisalMonth, on_delete=models.CASCADE, related_name="rows")
    technician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("维修人员"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    name = models.CharField(_("姓名"), max_length=60)  # as it was that month
    orders = models.PositiveIntegerField(_("完成工单"))
    successes = models.PositiveIntegerField(_("维修成功"))
    success_rate = models.FloatField(_("成功率"), null=True)
    arrival_hours = models.FloatField(_("平均到场（小时）"), null=True)
    completion_hours = models.FloatField(_("平均完成（小时）"), null=True)
    rated = models.PositiveIntegerField(_("评价数"))
    mean_rating = models.FloatField(_("平均评分"), null=True)
    with_deadline = models.PositiveIntegerField(_("有时限工单"))
    on_time = models.PositiveIntegerField(_("按时完成"))
    on_time_rate = models.FloatField(_("按时率"), null=True)
    rework = models.PositiveIntegerField(_("返修"))
    qc_failures = models.PositiveIntegerField(_("质检不合格"))
    complaints = models.PositiveIntegerField(_("投诉"))
    sub_scores = models.JSONField(_("分项得分"), default=dict)
    score = models.FloatField(_("得分"))
    rank = models.PositiveIntegerField(_("名次"), null=True, help_text=_("样本不足时为空"))

    class Meta:
        verbose_name = _("考核明细")
        verbose_name_plural = _("考核明细")
        ordering = ["appraisal", "-score", "name"]
        constraints = [
            models.UniqueConstraint(fields=["appraisal", "technician"], name="appraisal_row_once"),
        ]

    def __str__(self) -> str:
        return f"{self.appraisal} {self.name}"


# --- reports (AN7) -----------------------------------------------------------------------------


class ReportKind(models.TextChoices):
    DAILY = "daily", _("日报")
    WEEKLY = "weekly", _("周报")  # Monday to Sunday
    MONTHLY = "monthly", _("月报")
    QUARTERLY = "quarterly", _("季报")
    ANNUAL = "annual", _("年报")


class ReportTopic(models.TextChoices):
    OVERVIEW = "overview", _("综合报表")
    FAULTS = "faults", _("故障原因专题")
    SATISFACTION = "satisfaction", _("满意度专题")


class ReportFormat(models.TextChoices):
    XLSX = "xlsx", _("Excel")
    PDF = "pdf", _("PDF")


class RunStatus(models.TextChoices):
    PENDING = "pending", _("排队中")  # written; the worker has not taken it yet
    RUNNING = "running", _("生成中")  # one worker took it (conditional UPDATE)
    DONE = "done", _("已完成")  # files stored
    FAILED = "failed", _("生成失败")  # `error` says why


def new_token() -> str:
    return secrets.token_hex(16)


def report_path(run: ReportRun, filename: str) -> str:
    # A random part: files under MEDIA_URL must not be guessable (downloads go through the view).
    return f"reports/{run.start:%Y/%m}/{run.token}/{filename}"


class ReportRun(models.Model):
    """One generated report: what was asked for, by whom (nobody: the schedule), and its files.

    `filters` holds the codes the report was filtered by, `teams` the teams a team lead's report
    is limited to; `scope` is a digest of both, so the schedule makes one run per kind, topic,
    period and scope (a partial unique constraint).
    """

    kind = models.CharField(_("周期"), max_length=10, choices=ReportKind.choices)
    topic = models.CharField(
        _("报表"), max_length=12, choices=ReportTopic.choices, default=ReportTopic.OVERVIEW
    )
    start = models.DateField(_("开始日期"))
    end = models.DateField(_("结束日期"))
    filters = models.JSONField(_("筛选条件"), default=dict, blank=True)
    # A team lead's report is limited to the teams he led when it was asked for: ",3,7,"
    # (ids, sorted); empty for the whole organisation. A string, so access is one IN lookup.
    teams = models.CharField(_("限于班组"), max_length=200, blank=True, editable=False)
    scope = models.CharField(max_length=40, editable=False)
    formats = models.JSONField(_("格式"), default=list)
    language = models.CharField(_("语言"), max_length=10, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("为空表示按计划生成"),
    )
    scheduled = models.BooleanField(_("按计划生成"), default=False)
    status = models.CharField(
        _("状态"), max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING
    )
    token = models.CharField(max_length=32, editable=False, default=new_token)
    created_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    started_at = models.DateTimeField(_("开始生成"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    notified_at = models.DateTimeField(_("通知订阅人时间"), null=True, blank=True)
    xlsx = models.FileField(_("Excel 文件"), upload_to=report_path, blank=True, max_length=300)
    pdf = models.FileField(_("PDF 文件"), upload_to=report_path, blank=True, max_length=300)
    error = models.TextField(_("错误信息"), blank=True)

    class Meta:
        verbose_name = _("报表")
        verbose_name_plural = _("报表")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The reports page: newest runs first.
            models.Index(fields=["-created_at"], name="report_run_created"),
            # The hourly job: runs still waiting for a worker.
            models.Index(
                fields=["created_at"],
                condition=models.Q(status="pending"),
                name="report_run_pending",
            ),
        ]
        constraints = [
            # The schedule makes each report once, however many workers run the job.
            models.UniqueConstraint(
                fields=["kind", "topic", "start", "scope"],
                condition=models.Q(scheduled=True),
                name="report_run_scheduled_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_topic_display()} {self.get_kind_display()} {self.start:%Y-%m-%d}"

    @property
    def is_finished(self) -> bool:
        return self.status in (RunStatus.DONE, RunStatus.FAILED)

    def file_for(self, fmt: str):
        """The stored file of a format (empty when not generated)."""
        return self.xlsx if fmt == ReportFormat.XLSX else self.pdf


class ReportSubscription(models.Model):
    """A person's standing order for a report: each period's report is posted to him when the
    schedule has made it (notify outbox, with a download link in his format)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("订阅人"),
        on_delete=models.CASCADE,
        related_name="report_subscriptions",
    )
    kind = models.CharField(_("周期"), max_length=10, choices=ReportKind.choices)
    topic = models.CharField(
        _("报表"), max_length=12, choices=ReportTopic.choices, default=ReportTopic.OVERVIEW
    )
    format = models.CharField(_("格式"), max_length=4, choices=ReportFormat.choices)
    filters = models.JSONField(_("筛选条件"), default=dict, blank=True)
    scope = models.CharField(max_length=40, editable=False)
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("订阅时间"), default=timezone.now)

    class Meta:
        verbose_name = _("报表订阅")
        verbose_name_plural = _("报表订阅")
        ordering = ["user", "kind", "topic", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "topic", "format", "scope"],
                name="report_subscription_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.get_topic_display()} {self.get_kind_display()}"


# --- daily summaries (rollup.py) -----------------------------------------------------------------


def _count():
    return models.PositiveIntegerField(default=0)


class DayFigures(models.Model):
    """One local day's figures for one category × channel × campus, each counted on its own
    day: `reported` on the day the orders were reported, the completion figures on the day they
    were completed, the ratings on the day the orders were closed with one. Derived data, kept
    by rollup.py from the orders; never edited by hand."""

    day = models.DateField()
    category = models.IntegerField()  # the order's (leaf) category id
    channel = models.CharField(max_length=20)
    campus = models.CharField(max_length=60, blank=True)  # top-level place code, '' for none
    reported = _count()
    completed = _count()
    successes = _count()
    with_deadline = _count()
    late = _count()
    repair_seconds = models.FloatField(default=0.0)
    longest_seconds = models.FloatField(null=True)
    rated_1 = _count()
    rated_2 = _count()
    rated_3 = _count()
    rated_4 = _count()
    rated_5 = _count()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "category", "channel", "campus"], name="analytics_day_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.category} {self.channel} {self.campus}"


class DayPerson(models.Model):
    """One local day's figures for one person: as technician (orders completed that day, and
    rated that day), as agent (calls registered that day, settled and first-contact successes
    as they stand now) and as dispatcher (first dispatches made that day). `person` 0 holds the
    dispatches nobody made by hand (automatic dispatch, pool claims)."""

    day = models.DateField()
    person = models.IntegerField()
    completed = _count()
    successes = _count()
    with_deadline = _count()
    late = _count()
    repair_seconds = models.FloatField(default=0.0)
    site_seconds = models.FloatField(default=0.0)
    rated = _count()
    rating_sum = _count()
    calls = _count()
    settled = _count()
    first_contact = _count()
    dispatched = _count()
    dispatch_seconds = models.FloatField(default=0.0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "person"], name="analytics_person_key")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.person}"


class RollupState(models.Model):
    """How far the daily summaries reflect the orders (one row). `built_at` is empty until the
    first full build; `zone` is the time zone whose days they count."""

    built_at = models.DateTimeField(null=True)
    zone = models.CharField(max_length=64, blank=True)
    seen_event_id = models.BigIntegerField(default=0)  # every event up to here was read once
    safe_event_id = models.BigIntegerField(default=0)  # … and re-read after in-flight commits
    checkpoint_event_id = models.BigIntegerField(default=0)
    checkpoint_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"{self.zone} {self.built_at} {self.seen_event_id}"
