"""What the dispatcher knows of each technician, and how each category is dispatched."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class TechnicianProfile(models.Model):
    """One technician's dispatch facts: zones, home base, limit, hours, duty, last position."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("维修人员"),
        on_delete=models.CASCADE,
        related_name="dispatch_profile",
    )
    zones = models.ManyToManyField(
        "places.Place",
        verbose_name=_("服务区域"),
        blank=True,
        related_name="technicians",
        help_text=_("他负责的校区或楼栋；不选表示不限区域。"),
    )
    base_latitude = models.DecimalField(
        _("驻点纬度"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    base_longitude = models.DecimalField(
        _("驻点经度"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    max_open_orders = models.PositiveSmallIntegerField(
        _("最多在手工单"), default=8, validators=[MinValueValidator(1), MaxValueValidator(200)]
    )
    work_start = models.TimeField(_("上班时间"), default=dt.time(8, 0))
    work_end = models.TimeField(
        _("下班时间"), default=dt.time(18, 0), help_text=_("早于上班时间表示跨夜班。")
    )
    on_duty = models.BooleanField(_("在岗"), default=True)
    last_latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    last_longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    last_position_at = models.DateTimeField(_("最近定位时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("维修人员派工设置")
        verbose_name_plural = _("维修人员派工设置")

    def __str__(self) -> str:
        return str(self.user)


class Skill(models.Model):
    """A technician can handle a category (and its sub-categories) at a level from 1 to 5."""

    technician = models.ForeignKey(
        TechnicianProfile, on_delete=models.CASCADE, related_name="skills"
    )
    category = models.ForeignKey(
        "workorders.Category", verbose_name=_("类别"), on_delete=models.CASCADE
    )
    level = models.PositiveSmallIntegerField(
        _("等级"), default=3, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )

    class Meta:
        verbose_name = _("技能")
        verbose_name_plural = _("技能")
        constraints = [
            models.UniqueConstraint(fields=["technician", "category"], name="skill_once"),
            models.CheckConstraint(
                condition=models.Q(level__gte=1, level__lte=5), name="skill_level_1_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} · {self.level}"


class DispatchMode(models.TextChoices):
    MANUAL = "manual", _("人工派工")
    AUTO = "auto", _("自动派工")
    ROUND_ROBIN = "round_robin", _("班组轮派")
    POOL = "pool", _("抢单")


class DispatchPolicy(models.Model):
    """How accepted orders of a category are dispatched. Sub-categories without their own
    policy follow their parent's; categories with none are dispatched by hand."""

    category = models.OneToOneField(
        "workorders.Category",
        verbose_name=_("类别"),
        on_delete=models.CASCADE,
        related_name="dispatch_policy",
    )
    mode = models.CharField(
        _("派工方式"), max_length=12, choices=DispatchMode.choices, default=DispatchMode.MANUAL
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("轮派班组"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        help_text=_("班组轮派时必填；自动派工和抢单时可选，用于限定人员。"),
    )
    service_minutes = models.PositiveSmallIntegerField(
        _("预计作业时长（分钟）"), default=45, validators=[MinValueValidator(1)]
    )
    last_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        verbose_name = _("派工方式")
        verbose_name_plural = _("派工方式")

    def __str__(self) -> str:
        return f"{self.category}: {self.get_mode_display()}"


class RosterVersion(models.Model):
    """One row stamped anew by every edit to who can do what, where and when (profiles, skills,
    zones, users, roles, places). Every server process compares it with the stamp of the roster
    it keeps in memory, so an edit made anywhere is seen everywhere on the next assignment."""

    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("派工资料版本")
        verbose_name_plural = _("派工资料版本")

    def __str__(self) -> str:
        return str(self.value)
