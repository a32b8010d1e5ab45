"""The admin edits what is configuration here: the sampling rule, checklists, warranty periods,
complaint categories and departments. Records (ratings, visits, checks, complaints) are read
only: they change through the services."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import (
    ChecklistItem,
    Complaint,
    ComplaintCategory,
    Department,
    Inspection,
    Penalty,
    QcCheck,
    Rating,
    Referral,
    SampleDraw,
    SamplingRule,
    Warranty,
)


@admin.register(SamplingRule)
class SamplingRuleAdmin(admin.ModelAdmin):
    list_display = [
        "target_percent",
        "include_rework",
        "include_low_rating",
        "include_new_technicians",
        "new_technician_days",
        "include_high_cost",
        "high_cost_yuan",
    ]

    def has_add_permission(self, request):
        # One rule: SamplingRule.current() creates it with the settings' defaults.
        return not SamplingRule.objects.exists()


@admin.register(ChecklistItem)
class ChecklistItemAdmin(admin.ModelAdmin):
    list_display = ["text", "category", "sort", "is_active"]
    list_editable = ["sort", "is_active"]
    list_filter = ["is_active", "category"]
    search_fields = ["text"]
    autocomplete_fields = ["category"]


@admin.register(Warranty)
class WarrantyAdmin(admin.ModelAdmin):
    list_display = ["category", "days"]
    list_editable = ["days"]
    autocomplete_fields = ["category"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "head", "is_active"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["head"]
    filter_horizontal = ["members"]


@admin.register(ComplaintCategory)
class ComplaintCategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "department", "sort", "is_active"]
    list_editable = ["sort", "is_active"]


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Rating)
class RatingAdmin(ReadOnly):
    list_display = ["order", "overall", "technician", "agent", "created_at"]
    list_filter = ["overall"]
    search_fields = ["order__number"]


@admin.register(Referral)
class ReferralAdmin(ReadOnly):
    list_display = ["order", "status", "created_at", "closed_by"]
    list_filter = ["status"]


@admin.register(SampleDraw)
class SampleDrawAdmin(ReadOnly):
    list_display = ["period_start", "period_end", "seed", "target_percent", "drawn", "drawn_by"]

    @admin.display(description=_("抽中"))
    def drawn(self, obj):
        return len(obj.picked)


@admin.register(QcCheck)
class QcCheckAdmin(ReadOnly):
    list_display = ["order", "status", "technician", "inspector", "checked_at"]
    list_filter = ["status"]
    search_fields = ["order__number"]


@admin.register(Penalty)
class PenaltyAdmin(ReadOnly):
    list_display = ["technician", "order", "points", "created_at"]


@admin.register(Complaint)
class ComplaintAdmin(ReadOnly):
    list_display = ["number", "channel", "category", "department", "status", "created_at"]
    list_filter = ["status", "channel", "department"]
    search_fields = ["number"]


@admin.register(Inspection)
class InspectionAdmin(ReadOnly):
    list_display = ["kind", "team", "place", "inspector", "status", "scheduled_for"]
    list_filter = ["status", "kind"]
