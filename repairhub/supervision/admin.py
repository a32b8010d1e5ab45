"""Read-only views of the supervision schedules: what the jobs will do, what they did."""

from __future__ import annotations

from django.contrib import admin

from .models import Escalation, Reminder


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ["order", "technician", "count", "started_at", "next_at", "last_sent_at"]
    list_select_related = ["order", "technician"]
    search_fields = ["order__number", "technician__username"]
    readonly_fields = [f.name for f in Reminder._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Escalation)
class EscalationAdmin(admin.ModelAdmin):
    list_display = ["order", "level", "reason", "clock", "raised_at", "resolved_at"]
    list_filter = ["level", "reason", ("resolved_at", admin.EmptyFieldListFilter)]
    list_select_related = ["order"]
    search_fields = ["order__number"]
    date_hierarchy = "raised_at"
    readonly_fields = [f.name for f in Escalation._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
