"""Stored schedules of supervision: whom to remind when (TM2), who was brought in (TM4).

Both are written only by supervision.services; the periodic jobs in tasks.py take due rows
through partial indexes and claim each with a conditional UPDATE, so two workers never send
the same reminder or raise the same level twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Reminder(models.Model):
    """The reminder cadence of one order's current technician (TM2).

    Restarted for each technician the order is sent to; `next_at` is None while nobody is to
    be reminded (the order moved on, or it is on hold).
    """

    order = models.OneToOneField(
        "workorders.WorkOrder",
        verbose_name=_("工单"),
        on_delete=models.CASCADE,
        related_name="reminder",
    )
    technician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("维修人员"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    count = models.PositiveSmallIntegerField(_("已提醒次数"), default=0)
    started_at = models.DateTimeField(_("派工时间"), default=timezone.now)
    next_at = models.DateTimeField(_("下次提醒时间"), null=True, blank=True)
    last_sent_at = models.DateTimeField(_("最近提醒时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("催办提醒")
        verbose_name_plural = _("催办提醒")
        indexes = [
            # The reminder job: schedules due now, oldest first.
            models.Index(
                fields=["next_at"], name="reminder_due", condition=Q(next_at__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} → {self.technician_id} #{self.count}"

    @property
    def is_active(self) -> bool:
        return self.next_at is not None


class Level(models.IntegerChoices):
    TEAM_LEAD = 1, _("班组长")
    MANAGER = 2, _("主管")


class Reason(models.TextChoices):
    SLA_BREACH = "sla_breach", _("超过服务时限")
    URGES = "urges", _("报修人多次催单")
    UNRESOLVED = "unresolved", _("督办后仍未解决")


class EscalationQuerySet(models.QuerySet):
    def unresolved(self):
        return self.filter(resolved_at__isnull=True)


class Escalation(models.Model):
    """One step up the supervision ladder (督办) for one order: level 1 the team lead, level 2
    the managers. Resolved when the order is completed, closed, rejected or cancelled.

    Not the expert escalation of DP4 (WorkOrder.expert): that asks for technical help, this
    tells those in charge that an order is late or the reporter is pressing.
    """

    order = models.ForeignKey(
        "workorders.WorkOrder",
        verbose_name=_("工单"),
        on_delete=models.CASCADE,
        related_name="escalations",
    )
    level = models.PositiveSmallIntegerField(_("级别"), choices=Level.choices)
    reason = models.CharField(_("原因"), max_length=20, choices=Reason.choices)
    clock = models.CharField(_("超时环节"), max_length=20, blank=True)  # for SLA breaches
    notified = models.JSONField(_("已通知"), default=list, blank=True)  # usernames
    raised_at = models.DateTimeField(_("督办时间"), default=timezone.now)
    # Level 1 only: when the managers are told if the order is still unresolved; cleared by
    # the job that tells them (its claim) and on resolution.
    manager_due_at = models.DateTimeField(_("上报主管时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("解决时间"), null=True, blank=True)

    objects = EscalationQuerySet.as_manager()

    class Meta:
        verbose_name = _("督办记录")
        verbose_name_plural = _("督办记录")
        ordering = ["-raised_at", "-id"]
        indexes = [
            # The level-2 job: unresolved level-1 rows whose wait is over.
            models.Index(
                fields=["manager_due_at"],
                name="escalation_manager_due",
                condition=Q(manager_due_at__isnull=False),
            ),
        ]
        constraints = [
            # Never the same level twice for one order while it is unresolved, even under a race;
            # its index also serves the resolution on completion (open rows of an order).
            models.UniqueConstraint(
                fields=["order", "level"],
                condition=Q(resolved_at__isnull=True),
                name="uniq_open_escalation_level",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} L{self.level} {self.reason}"

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None
