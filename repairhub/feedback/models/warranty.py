"""Warranty periods and rework links (FQ5)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..states import ReworkSource


class Warranty(models.Model):
    """The warranty of a category's repairs; a subcategory without one uses its parent's,
    and a category with neither uses FEEDBACK_WARRANTY_DAYS."""

    category = models.OneToOneField(
        "workorders.Category",
        verbose_name=_("报修类别"),
        on_delete=models.CASCADE,
        related_name="warranty",
    )
    days = models.PositiveIntegerField(_("保修天数"), default=90)

    class Meta:
        verbose_name = _("保修期")
        verbose_name_plural = _("保修期")

    def __str__(self) -> str:
        return f"{self.category}: {self.days}"


class Rework(models.Model):
    """Work done again: a new report inside the warranty linked to the original order, or an
    order sent back by a failed quality check (then `rework` may be the original itself,
    reopened). `technician` did the original work and is the one it counts against."""

    original = models.ForeignKey(
        "workorders.WorkOrder",
        verbose_name=_("原工单"),
        on_delete=models.CASCADE,
        related_name="reworks",
    )
    rework = models.ForeignKey(
        "workorders.WorkOrder",
        verbose_name=_("返修工单"),
        on_delete=models.CASCADE,
        related_name="rework_of",
    )
    source = models.CharField(_("来源"), max_length=10, choices=ReworkSource.choices)
    technician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("原维修人员"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    category = models.ForeignKey(
        "workorders.Category", verbose_name=_("类别"), on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("关联时间"), default=timezone.now)

    class Meta:
        verbose_name = _("返修")
        verbose_name_plural = _("返修")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["technician", "created_at"], name="rework_tech")]
        constraints = [
            # A new report is the rework of one original order at most.
            models.UniqueConstraint(
                fields=["rework"], condition=Q(source="warranty"), name="uniq_warranty_rework"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_id} → {self.rework_id}"
