"""Import runs and their rejected rows, read only: imports run from the command line
(`repairhub import_orders`, docs/import.md)."""

from __future__ import annotations

from django.contrib import admin

from .models import ImportRejection, ImportRun


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnly):
    list_display = [
        "id",
        "file_name",
        "source",
        "status",
        "rows_done",
        "accepted",
        "rejected",
        "skipped",
        "unassigned",
        "rows_per_second",
        "started_at",
        "finished_at",
    ]
    list_filter = ["status", "source"]
    search_fields = ["file_name", "source", "file_hash"]
    exclude = ["mapping_hash"]


@admin.register(ImportRejection)
class ImportRejectionAdmin(ReadOnly):
    list_display = ["run", "row", "number", "reason"]
    list_filter = ["run"]
    search_fields = ["number", "reason"]
    list_select_related = ["run"]
