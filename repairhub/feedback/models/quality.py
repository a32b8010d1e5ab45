"""Quality checks (质检, FQ4): the sampling rule, draws, checks, checklists, penalties."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..states import CheckStatus


class SamplingRule(models.Model):
    """How many completed orders are checked: one row, edited in the admin."""

    target_percent = models.DecimalField(
        _("抽检比例（%）"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
    )
    include_rework = models.BooleanField(_("返修工单全部抽检"), default=True)
    include_low_rating = models.BooleanField(_("低评分工单全部抽检"), default=True)
    include_new_technicians = models.BooleanField(_("新入职维修工的工单全部抽检"), default=True)
    new_technician_days = models.PositiveIntegerField(_("入职不满（天）算新维修工"), default=30)
    include_high_cost = models.BooleanField(_("高收费工单全部抽检"), default=True)
    high_cost_yuan = models.DecimalField(
        _("收费达到（元）算高收费"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("500"),
        validators=[MinValueValidator(Decimal("0"))],
    )

    class Meta:
        verbose_name = _("抽检规则")
        verbose_name_plural = _("抽检规则")

    def __str__(self) -> str:
        return f"{self.target_percent}%"

    @classmethod
    def current(cls) -> SamplingRule:
        rule = cls.objects.order_by("pk").first()
        if rule is None:
            rule = cls.objects.create(
                target_percent=Decimal(str(settings.FEEDBACK_QC_TARGET_PERCENT)).quantize(
                    Decimal("0.01")
                ),
                new_technician_days=settings.FEEDBACK_QC_NEW_TECHNICIAN_DAYS,
                high_cost_yuan=Decimal(str(settings.FEEDBACK_QC_HIGH_COST_YUAN)),
            )
        return rule


class ChecklistItem(models.Model):
    """One point an inspector checks; per category (its children inherit it) or for all."""

    category = models.ForeignKey(
        "workorders.Category",
        verbose_name=_("报修类别"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="checklist_items",
        help_text=_("留空表示适用于所有类别；大类的检查项也适用于其子类。"),
    )
    text = models.CharField(_("检查项"), max_length=200)
    sort = models.IntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("质检检查项")
        verbose_name_plural = _("质检检查项")
        ordering = ["sort", "id"]

    def __str__(self) -> str:
        return self.text


class SampleDraw(models.Model):
    """One draw over the orders completed in [period_start, period_end): its seed and the
    population it drew from are kept, so the same draw can be replayed and checked."""

    period_start = models.DateField(_("起始日期"))
    period_end = models.DateField(_("截止日期（不含）"))
    seed = models.CharField(_("随机种子"), max_length=64)
    target_percent = models.DecimalField(_("目标比例（%）"), max_digits=5, decimal_places=2)
    population = models.JSONField(_("总体（工单 ID）"), default=list)
    targeted = models.JSONField(_("定向抽取（工单 ID）"), default=list)
    picked = models.JSONField(_("抽中（工单 ID）"), default=list)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("抽样人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("抽样时间"), default=timezone.now)

    class Meta:
        verbose_name = _("抽样")
        verbose_name_plural = _("抽样")
        ordering = ["-period_start", "-id"]

    def __str__(self) -> str:
        return f"{self.period_start}–{self.period_end}"


class QcCheck(models.Model):
    """One order drawn for a quality check, and the inspector's verdict."""

    draw = models.ForeignKey(SampleDraw, on_delete=models.CASCADE, related_name="checks")
    order = models.ForeignKey(
        "workorders.WorkOrder",
        verbose_name=_("工单"),
        on_delete=models.CASCADE,
        related_name="qc_checks",
    )
    reasons = models.JSONField(_("抽取原因"), default=list)
    technician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("维修人员"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("结论"), max_length=10, choices=CheckStatus.choices, default=CheckStatus.PENDING
    )
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("质检员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answers = models.JSONField(_("检查项结果"), default=dict, blank=True)
    note = models.TextField(_("质检说明"), blank=True)
    checked_at = models.DateTimeField(_("质检时间"), null=True, blank=True)
    rework_order = models.ForeignKey(
        "workorders.WorkOrder",
        verbose_name=_("返工工单"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("质检")
        verbose_name_plural = _("质检")
        ordering = ["created_at", "id"]
        indexes = [
            # The inspectors' queue: pending checks, oldest first.
            models.Index(
                fields=["created_at"], name="qccheck_pending", condition=Q(status="pending")
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["draw", "order"], name="uniq_check_per_draw"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.status}"

    @property
    def is_pending(self) -> bool:
        return self.status == CheckStatus.PENDING


class QcPhoto(models.Model):
    check_row = models.ForeignKey(QcCheck, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to="qc/%Y/%m/")
    original_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("质检照片")
        verbose_name_plural = _("质检照片")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name or self.file.name


class Penalty(models.Model):
    """Points against a technician for a failed check; the appraisal (analytics) sums them."""

    technician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("维修人员"),
        on_delete=models.PROTECT,
        related_name="qc_penalties",
    )
    order = models.ForeignKey(
        "workorders.WorkOrder", verbose_name=_("工单"), on_delete=models.CASCADE, related_name="+"
    )
    check_row = models.OneToOneField(
        QcCheck, verbose_name=_("质检"), on_delete=models.CASCADE, related_name="penalty"
    )
    points = models.PositiveSmallIntegerField(_("扣分"))
    reason = models.TextField(_("原因"))
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("质检处罚")
        verbose_name_plural = _("质检处罚")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["technician", "created_at"], name="penalty_tech")]

    def __str__(self) -> str:
        return f"{self.technician_id} -{self.points}"
