"""Back office for SLA calendars (with their dated days) and policies; clocks are read-only.

The calendar pages warn when chinese-calendar lacks this year or next, so the admin can enter
that year's holidays and 调休 days as rows before the fallback to Monday–Friday matters.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import calendar as worktime
from .models import CalendarDay, OrderClock, SlaCalendar, SlaPolicy


def near_missing_years(calendar: SlaCalendar) -> list[int]:
    """Years among this one and the next that the calendar falls back to Monday–Friday for."""
    year = timezone.localdate().year
    try:
        cal = calendar.to_calendar()
    except Exception:  # a row saved with bad text before validation existed: say nothing
        return []
    return worktime.missing_years(cal, dt.date(year, 1, 1), dt.date(year + 1, 12, 31))


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    extra = 3
    fields = ["date", "kind", "note"]


@admin.register(SlaCalendar)
class SlaCalendarAdmin(admin.ModelAdmin):
    inlines = [CalendarDayInline]
    list_display = ["name", "round_the_clock", "periods", "use_public_holidays", "missing"]
    search_fields = ["name"]
    fields = ["name", "round_the_clock", "periods", "use_public_holidays", "manual_years"]

    @admin.display(description=gettext_lazy("节假日数据"))
    def missing(self, obj: SlaCalendar) -> str:
        years = near_missing_years(obj)
        if not years:
            return "—"
        return _("缺少 %(years)s 年") % {"years": _("、").join(map(str, years))}

    def _warn(self, request, calendars) -> None:
        for calendar in calendars:
            years = near_missing_years(calendar)
            if years:
                messages.warning(
                    request,
                    _("工作日历“%(name)s”：%(warning)s")
                    % {"name": calendar.name, "warning": worktime.missing_years_warning(years)},
                )

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET":
            self._warn(request, SlaCalendar.objects.prefetch_related("days"))
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            calendar = self.get_object(request, object_id)
            if calendar is not None:
                self._warn(request, [calendar])
        return super().change_view(request, object_id, form_url, extra_context)


def _minutes(value: int | None) -> str:
    """Targets in hours and minutes, never days: on a working-hours calendar 24 h of counted
    time are three working days, and "1天" would mislead."""
    if value is None:
        return _("不考核")
    hours, minutes = divmod(value, 60)
    if hours and minutes:
        return _("%(hours)d小时%(minutes)d分") % {"hours": hours, "minutes": minutes}
    if hours:
        return _("%(hours)d小时") % {"hours": hours}
    return _("%(minutes)d分") % {"minutes": minutes}


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "calendar",
        "accept",
        "arrive",
        "complete",
        "pause_on_hold",
        "is_active",
    ]
    list_filter = ["is_active", "urgency", "calendar"]
    list_select_related = ["category", "category__parent", "calendar"]
    autocomplete_fields = ["category"]
    fields = [
        "category",
        "urgency",
        "calendar",
        "accept_minutes",
        "arrive_minutes",
        "complete_minutes",
        "pause_on_hold",
        "is_active",
    ]

    @admin.display(description=gettext_lazy("受理"))
    def accept(self, obj: SlaPolicy) -> str:
        return _minutes(obj.accept_minutes)

    @admin.display(description=gettext_lazy("到场"))
    def arrive(self, obj: SlaPolicy) -> str:
        return _minutes(obj.arrive_minutes)

    @admin.display(description=gettext_lazy("完成"))
    def complete(self, obj: SlaPolicy) -> str:
        return _minutes(obj.complete_minutes)


@admin.register(OrderClock)
class OrderClockAdmin(admin.ModelAdmin):
    """Clocks are written by the SLA service only: the admin looks, never edits."""

    list_display = [
        "order",
        "kind",
        "cycle",
        "started_at",
        "due_at",
        "paused_at",
        "stopped_at",
        "outcome",
        "breached_at",
    ]
    list_filter = ["kind", "outcome"]
    search_fields = ["order__number"]
    list_select_related = ["order"]
    date_hierarchy = "started_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
