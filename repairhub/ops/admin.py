from __future__ import annotations

from django.contrib import admin

from .models import WorkerHeartbeat


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["ran_at", "host", "pid", "slot"]
    date_hierarchy = "ran_at"
    readonly_fields = ["slot", "host", "pid", "ran_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
