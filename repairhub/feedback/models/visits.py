"""Follow-up visits (回访, FQ2) and what they report to management."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..states import FollowUpKind, FollowUpStatus, ReferralStatus


class FollowUp(models.Model):
    """An order waiting for (or done with) its follow-up call: one row per order, scheduled
    again whenever the order is completed or rejected anew."""

    order = models.OneToOneField(
        "workorders.WorkOrder",
        verbose_name=_("工单"),
        on_delete=models.CASCADE,
        related_name="follow_up",
    )
    kind = models.CharField(_("回访类型"), max_length=10, choices=FollowUpKind.choices)
    status = models.CharField(
        _("状态"), max_length=10, choices=FollowUpStatus.choices, default=FollowUpStatus.PENDING
    )
    due_at = models.DateTimeField(_("应回访时间"))
    attempts = models.PositiveSmallIntegerField(_("未接通次数"), default=0)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("回访")
        verbose_name_plural = _("回访")
        indexes = [
            # The agents' queue: pending visits that are due.
            models.Index(
                fields=["due_at"], name="followup_pending_due", condition=Q(status="pending")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.status}"

    @property
    def is_due(self) -> bool:
        return self.status == FollowUpStatus.PENDING and self.due_at <= timezone.now()


class Visit(models.Model):
    """One call made for a follow-up, reached or not, with what the reporter said."""

    follow_up = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="visits")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("回访人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    reached = models.BooleanField(_("已联系上"))
    fixed = models.BooleanField(_("已修好"), null=True, blank=True)
    satisfied = models.BooleanField(_("满意"), null=True, blank=True)
    disputes = models.BooleanField(_("对驳回有异议"), null=True, blank=True)
    notes = models.TextField(_("回访记录"), blank=True)
    created_at = models.DateTimeField(_("回访时间"), default=timezone.now)

    class Meta:
        verbose_name = _("回访记录")
        verbose_name_plural = _("回访记录")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.follow_up_id} {self.created_at:%Y-%m-%d}"


class Referral(models.Model):
    """Something a follow-up found that management must act on (seed 001: 对未成功的维修及未维修
    的情况一律上报管理部门处理). Closed only with the action taken."""

    order = models.ForeignKey(
        "workorders.WorkOrder",
        verbose_name=_("工单"),
        on_delete=models.CASCADE,
        related_name="referrals",
    )
    visit = models.ForeignKey(
        Visit, null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals"
    )
    reason = models.TextField(_("上报原因"))
    status = models.CharField(
        _("状态"), max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.OPEN
    )
    action = models.TextField(_("处理措施"), blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("上报时间"), default=timezone.now)

    class Meta:
        verbose_name = _("上报事项")
        verbose_name_plural = _("上报事项")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="referral_status")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.status}"
