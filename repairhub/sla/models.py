"""SLA calendars, policies and the per-order clocks they drive (TM1).

Calendars and policies are edited by the admin; clocks are written only by `services.py`,
which reacts to work-order events. docs/sla.md explains the rules.
"""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from repairhub.workorders.models import Urgency

from . import calendar as worktime

_PERIOD = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


def parse_periods(text: str) -> tuple[tuple[dt.time, dt.time], ...]:
    """Parse "08:00-12:00, 14:00-18:00" into periods; a Chinese ValidationError if bad."""
    periods = []
    text = re.sub(r"\s*[-–~至]\s*", "-", (text or "").strip()).replace("：", ":")
    for part in re.split(r"[,，;；、\s]+", text):
        if not part:
            continue
        match = _PERIOD.match(part)
        if match is None:
            raise ValidationError(
                _("时段“%(part)s”格式不正确，请写成 08:00-12:00，多个时段用逗号分隔。"),
                params={"part": part.strip()},
                code="invalid",
            )
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h2 == 24 and m2 == 0:
            h2 = 0
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ValidationError(
                _("时段“%(part)s”中的时间不存在。"), params={"part": part.strip()}, code="invalid"
            )
        periods.append((dt.time(h1, m1), dt.time(h2, m2)))
    try:
        worktime.WorkingHours(tuple(periods))
    except ValueError:
        raise ValidationError(
            _(
                "工作时段必须按时间先后排列、互不重叠，且每段结束晚于开始（只有最后一段可到 24:00）。"
            ),
            code="invalid",
        ) from None
    return tuple(periods)


def parse_years(text: str) -> frozenset[int]:
    """Parse "2027, 2028" into {2027, 2028}; a Chinese ValidationError if bad."""
    years = set()
    for part in re.split(r"[,，;；\s]+", (text or "").strip()):
        if not part:
            continue
        if not part.isdigit() or not 2000 <= int(part) <= 2100:
            raise ValidationError(
                _("“%(part)s”不是有效的年份，请填写如 2027 的四位年份，多个用逗号分隔。"),
                params={"part": part},
                code="invalid",
            )
        years.add(int(part))
    return frozenset(years)


class SlaCalendar(models.Model):
    """Which time counts towards a target: 24×7, or working periods on working days."""

    name = models.CharField(_("名称"), max_length=60, unique=True)
    round_the_clock = models.BooleanField(
        _("全天候（24×7）"), default=False, help_text=_("勾选后每一分钟都计时，以下设置不生效。")
    )
    periods = models.CharField(
        _("工作时段"),
        max_length=200,
        blank=True,
        default="08:00-12:00, 14:00-18:00",
        help_text=_("如 08:00-12:00, 14:00-18:00（含午休）；留空表示工作日全天计时。"),
    )
    use_public_holidays = models.BooleanField(
        _("按国家法定节假日和调休"),
        default=True,
        help_text=_("使用 chinese-calendar 的节假日与调休上班日数据。"),
    )
    manual_years = models.CharField(
        _("已手工录入的年份"),
        max_length=100,
        blank=True,
        help_text=_(
            "节假日数据缺少某年时，把当年的节假日添加为停工日、调休上班日添加为额外工作日，"
            "再在此填写该年份（如 2027），系统即不再提醒。"
        ),
    )

    class Meta:
        verbose_name = _("工作日历")
        verbose_name_plural = _("工作日历")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        for name, parse in (("periods", parse_periods), ("manual_years", parse_years)):
            try:
                parse(getattr(self, name))
            except ValidationError as exc:
                errors[name] = exc
        if errors:
            raise ValidationError(errors)

    def to_calendar(self, days: list[CalendarDay] | None = None) -> worktime.Calendar:
        """The pure calendar for the arithmetic; `days` defaults to the rows in the database."""
        if days is None:
            days = list(self.days.all())
        return worktime.Calendar(
            round_the_clock=self.round_the_clock,
            hours=worktime.WorkingHours(parse_periods(self.periods)),
            use_public_holidays=self.use_public_holidays,
            closures=frozenset(d.date for d in days if d.kind == DayKind.CLOSED),
            extra_workdays=frozenset(d.date for d in days if d.kind == DayKind.WORKING),
            tz=timezone.get_default_timezone(),
            manual_years=parse_years(self.manual_years),
        )


class DayKind(models.TextChoices):
    CLOSED = "closed", _("停工日")  # a holiday or the organisation's own closure
    WORKING = "working", _("额外工作日")  # a 调休 Saturday, or a one-off working day


class CalendarDay(models.Model):
    """One dated exception of a calendar, entered by the admin."""

    calendar = models.ForeignKey(
        SlaCalendar, verbose_name=_("工作日历"), on_delete=models.CASCADE, related_name="days"
    )
    date = models.DateField(_("日期"))
    kind = models.CharField(_("类型"), max_length=10, choices=DayKind.choices)
    note = models.CharField(_("说明"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("特殊日期")
        verbose_name_plural = _("特殊日期")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="sla_day_once"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"


class ClockKind(models.TextChoices):
    ACCEPT = "accept", _("受理")
    ARRIVE = "arrive", _("到场")
    COMPLETE = "complete", _("完成")


# Each clock kind's target column on SlaPolicy.
TARGET_FIELDS = {
    ClockKind.ACCEPT: "accept_minutes",
    ClockKind.ARRIVE: "arrive_minutes",
    ClockKind.COMPLETE: "complete_minutes",
}
MAX_MINUTES = 60 * 24 * 366


def _minutes(label):
    return models.PositiveIntegerField(
        label,
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_MINUTES)],
        help_text=_("按所选日历计算的分钟数；留空表示不考核。"),
    )


class SlaPolicy(models.Model):
    """Targets for orders of a category (empty: every category) and urgency (empty: every one).

    The most specific active policy applies: the order's category, then its parent, then the
    default; within each, the one for the order's urgency before the one for all urgencies.
    """

    category = models.ForeignKey(
        "workorders.Category",
        verbose_name=_("报修类别"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("留空表示所有类别的默认时限；大类的时限也适用于它的小类。"),
    )
    urgency = models.CharField(
        _("紧急程度"),
        max_length=10,
        choices=Urgency.choices,
        blank=True,
        help_text=_("留空表示所有紧急程度。"),
    )
    calendar = models.ForeignKey(
        SlaCalendar, verbose_name=_("工作日历"), on_delete=models.PROTECT, related_name="policies"
    )
    accept_minutes = _minutes(_("受理时限（分钟）"))
    arrive_minutes = _minutes(_("到场时限（分钟）"))
    complete_minutes = _minutes(_("完成时限（分钟）"))
    pause_on_hold = models.BooleanField(
        _("挂起时暂停计时"),
        default=True,
        help_text=_("工单挂起（等客户、等配件、等报价）期间不计时。"),
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("服务时限")
        verbose_name_plural = _("服务时限")
        ordering = ["category__code", "urgency"]
        constraints = [
            # One policy per (category, urgency); "" urgency and NULL category mean "all", and
            # NULLs are distinct in a unique index, hence the second constraint.
            models.UniqueConstraint(
                fields=["category", "urgency"],
                condition=Q(category__isnull=False),
                name="sla_policy_once",
            ),
            models.UniqueConstraint(
                fields=["urgency"],
                condition=Q(category__isnull=True),
                name="sla_default_policy_once",
            ),
        ]

    def __str__(self) -> str:
        category = self.category or _("所有类别")
        urgency = self.get_urgency_display() if self.urgency else _("所有紧急程度")
        return f"{category} · {urgency}"

    def validate_constraints(self, exclude=None):
        try:
            super().validate_constraints(exclude)
        except ValidationError:
            raise ValidationError(
                _("该类别和紧急程度已有服务时限，请直接修改那一条。"), code="unique"
            ) from None

    def target(self, kind: str) -> dt.timedelta | None:
        minutes = getattr(self, TARGET_FIELDS[ClockKind(kind)])
        return None if minutes is None else dt.timedelta(minutes=minutes)


class ClockQuerySet(models.QuerySet):
    def running(self):
        """Not yet stopped (paused ones included)."""
        return self.filter(stopped_at__isnull=True)

    def due(self, now: dt.datetime):
        """Running clocks past their deadline and not yet marked as breached."""
        return self.running().filter(breached_at__isnull=True, due_at__lt=now)


class Outcome(models.TextChoices):
    MET = "met", _("按时")
    LATE = "late", _("超时完成")
    ENDED = "ended", _("工单已结束")  # rejected or cancelled before the goal was reached


class OrderClock(models.Model):
    """One SLA clock of one order: started, maybe paused and resumed, stopped, maybe breached.

    `due_at` is NULL while a hold pauses the clock before its deadline (no deadline then), and
    is recomputed from `started_at`, the target and the closed `pauses` on resume.
    """

    order = models.ForeignKey(
        "workorders.WorkOrder",
        verbose_name=_("工单"),
        on_delete=models.CASCADE,
        related_name="sla_clocks",
    )
    kind = models.CharField(_("时限"), max_length=10, choices=ClockKind.choices)
    # Which round of the order: a reopened order's new visit starts a new arrival clock.
    cycle = models.PositiveSmallIntegerField(default=0)
    policy = models.ForeignKey(
        SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # NULL once the calendar is deleted: the clock then counts 24×7.
    calendar = models.ForeignKey(
        SlaCalendar, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target_seconds = models.PositiveIntegerField(_("时限（秒）"))
    pause_on_hold = models.BooleanField(default=True)
    started_at = models.DateTimeField(_("开始"))
    due_at = models.DateTimeField(_("截止"), null=True, blank=True)
    at_risk_at = models.DateTimeField(_("临近超时"), null=True, blank=True)
    paused_at = models.DateTimeField(_("暂停于"), null=True, blank=True)
    # Closed pauses as [[start ISO, end ISO], …]; the open one is `paused_at`.
    pauses = models.JSONField(default=list, blank=True)
    stopped_at = models.DateTimeField(_("停止"), null=True, blank=True)
    outcome = models.CharField(_("结果"), max_length=10, choices=Outcome.choices, blank=True)
    breached_at = models.DateTimeField(_("超时于"), null=True, blank=True)

    objects = ClockQuerySet.as_manager()

    class Meta:
        verbose_name = _("工单计时")
        verbose_name_plural = _("工单计时")
        ordering = ["order", "cycle", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "kind", "cycle"], name="sla_clock_once"),
        ]
        indexes = [
            # The breach job: running clocks past due not yet marked (ClockQuerySet.due).
            models.Index(
                fields=["due_at"],
                condition=Q(stopped_at__isnull=True, breached_at__isnull=True),
                name="sla_clock_due",
            ),
            # The supervision board: running clocks that are at risk (or past due).
            models.Index(
                fields=["at_risk_at"],
                condition=Q(stopped_at__isnull=True),
                name="sla_clock_at_risk",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}#{self.cycle}"

    @property
    def target(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.target_seconds)

    @property
    def is_running(self) -> bool:
        return self.stopped_at is None

    @property
    def is_paused(self) -> bool:
        return self.stopped_at is None and self.paused_at is not None

    def closed_pauses(self) -> list[tuple[dt.datetime, dt.datetime]]:
        return [
            (dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end))
            for start, end in self.pauses or []
        ]
