"""Optimised dispatch plans (DP5): who goes where, in which order, until applied."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("待确认")
    APPLIED = "applied", _("已执行")
    DISCARDED = "discarded", _("已放弃")


class Plan(models.Model):
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    seconds = models.FloatField(_("求解时限（秒）"))
    # The version of each order when planned ({order id: version}): applying checks it.
    order_versions = models.JSONField(default=dict)
    # Figures of the solution: distance, lateness, solver status and time, dropped orders.
    summary = models.JSONField(default=dict)
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("派工计划")
        verbose_name_plural = _("派工计划")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_status_display()}"


class PlanStop(models.Model):
    """One order in a technician's route; `sequence` orders his visits."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="stops")
    technician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    order = models.ForeignKey("workorders.WorkOrder", on_delete=models.CASCADE, related_name="+")
    sequence = models.PositiveSmallIntegerField()
    eta = models.DateTimeField(_("预计开始"), null=True, blank=True)
    lateness_minutes = models.FloatField(default=0)
    travel_km = models.FloatField(default=0)

    class Meta:
        ordering = ["plan", "technician", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "order"], name="plan_order_once"),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id}/{self.technician_id}/{self.sequence}"
