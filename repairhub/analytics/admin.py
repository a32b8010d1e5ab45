"""The admin sets the appraisal weights; snapshots are read-only here (computed and signed on
the appraisal page, services.py)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import (
    AppraisalMonth,
    AppraisalRow,
    AppraisalWeights,
    ReportRun,
    ReportSubscription,
)


@admin.register(AppraisalWeights)
class AppraisalWeightsAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "arrival",
        "completion",
        "success",
        "satisfaction",
        "on_time",
        "rework",
        "qc_failures",
        "complaints",
        "updated_at",
    ]
    fieldsets = [
        (
            _("权重（各项 0–100 分，按权重加权平均）"),
            {
                "fields": [
                    "arrival",
                    "completion",
                    "success",
                    "satisfaction",
                    "on_time",
                    "rework",
                    "qc_failures",
                    "complaints",
                ]
            },
        ),
        (
            _("时间评分标准"),
            {
                "fields": [
                    ("arrival_good_hours", "arrival_bad_hours"),
                    ("completion_good_hours", "completion_bad_hours"),
                ]
            },
        ),
    ]

    def has_add_permission(self, request):
        return not AppraisalWeights.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


class AppraisalRowInline(admin.TabularInline):
    model = AppraisalRow
    extra = 0
    can_delete = False
    fields = ["rank", "name", "orders", "success_rate", "mean_rating", "on_time_rate", "score"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AppraisalMonth)
class AppraisalMonthAdmin(admin.ModelAdmin):
    list_display = ["__str__", "status", "version", "computed_at", "computed_by", "signed_by"]
    list_filter = ["status"]
    inlines = [AppraisalRowInline]
    readonly_fields = [
        "month",
        "status",
        "version",
        "weights",
        "min_orders",
        "computed_at",
        "computed_by",
        "signed_at",
        "signed_by",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- reports: runs are made by the schedule and the reports page (reports.py); here they are
# looked at, and deleted with their files. Subscriptions are managed by their owners on the page.


@admin.register(ReportRun)
class ReportRunAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "topic",
        "kind",
        "start",
        "status",
        "scheduled",
        "requested_by",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "kind", "topic", "scheduled"]
    date_hierarchy = "start"
    readonly_fields = [
        "kind",
        "topic",
        "start",
        "end",
        "filters",
        "teams",
        "formats",
        "language",
        "requested_by",
        "scheduled",
        "status",
        "created_at",
        "started_at",
        "finished_at",
        "notified_at",
        "xlsx",
        "pdf",
        "error",
    ]
    exclude = ["scope", "token"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        for stored in (obj.xlsx, obj.pdf):
            if stored:
                stored.delete(save=False)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for run in queryset:
            self.delete_model(request, run)


@admin.register(ReportSubscription)
class ReportSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "topic", "kind", "format", "active", "created_at"]
    list_filter = ["active", "kind", "topic", "format"]
    search_fields = ["user__username", "user__display_name"]
    readonly_fields = ["user", "kind", "topic", "format", "filters", "created_at"]
    exclude = ["scope"]

    def has_add_permission(self, request):
        return False
