"""Supervision inspections (督查, FQ6): planned or unplanned checks of a team or a site, their
findings, and rectifications tracked to closure."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..states import InspectionKind, InspectionStatus, RectificationStatus, Severity


class Inspection(models.Model):
    kind = models.CharField(_("检查类型"), max_length=10, choices=InspectionKind.choices)
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=InspectionStatus.choices,
        default=InspectionStatus.PLANNED,
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("被检查班组"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    place = models.ForeignKey(
        "places.Place",
        verbose_name=_("被检查地点"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    scheduled_for = models.DateField(_("计划日期"), null=True, blank=True)
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("检查人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    summary = models.TextField(_("检查情况"), blank=True)
    performed_at = models.DateTimeField(_("检查时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("闭环时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("督查")
        verbose_name_plural = _("督查")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(team__isnull=False) | Q(place__isnull=False),
                name="inspection_has_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.subject}"

    @property
    def subject(self) -> str:
        parts = [
            str(self.team) if self.team_id else "",
            self.place.full_name if self.place_id else "",
        ]
        return " · ".join(p for p in parts if p)


class Finding(models.Model):
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="findings")
    text = models.TextField(_("发现的问题"))
    severity = models.CharField(
        _("严重程度"), max_length=10, choices=Severity.choices, default=Severity.MINOR
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("检查发现")
        verbose_name_plural = _("检查发现")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.text[:40]


class Rectification(models.Model):
    """What must be put right for a finding, by whom and by when; closed when verified."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="rectifications")
    task = models.TextField(_("整改要求"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("整改责任人"),
        on_delete=models.PROTECT,
        related_name="rectifications",
    )
    due_date = models.DateField(_("整改期限"))
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=RectificationStatus.choices,
        default=RectificationStatus.OPEN,
    )
    done_note = models.TextField(_("整改情况"), blank=True)
    done_at = models.DateTimeField(_("整改完成时间"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("验收人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    verified_at = models.DateTimeField(_("验收时间"), null=True, blank=True)
    verify_note = models.TextField(_("验收意见"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("整改")
        verbose_name_plural = _("整改")
        ordering = ["due_date", "id"]
        indexes = [
            # A person's open rectifications, soonest due first.
            models.Index(
                fields=["assignee", "due_date"],
                name="rectification_open",
                condition=~Q(status="verified"),
            ),
        ]

    def __str__(self) -> str:
        return self.task[:40]

    @property
    def is_overdue(self) -> bool:
        return self.status != RectificationStatus.VERIFIED and self.due_date < timezone.localdate()
