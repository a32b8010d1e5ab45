"""Admin and team leads set who can do what where, and how each category is dispatched."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import DispatchMode, DispatchPolicy, Plan, Skill, TechnicianProfile


class SkillInline(admin.TabularInline):
    model = Skill
    extra = 1
    autocomplete_fields = ["category"]


@admin.register(TechnicianProfile)
class TechnicianProfileAdmin(admin.ModelAdmin):
    inlines = [SkillInline]
    list_display = [
        "user",
        "team",
        "on_duty",
        "work_start",
        "work_end",
        "max_open_orders",
        "skill_list",
        "last_position_at",
    ]
    list_editable = ["on_duty"]
    list_filter = ["on_duty", "user__team", "skills__category"]
    search_fields = ["user__username", "user__display_name"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["zones"]
    readonly_fields = ["last_latitude", "last_longitude", "last_position_at"]
    fieldsets = [
        (None, {"fields": ["user", "on_duty", "max_open_orders"]}),
        (_("工作时间"), {"fields": ["work_start", "work_end"]}),
        (_("区域与驻点"), {"fields": ["zones", "base_latitude", "base_longitude"]}),
        (_("最近定位"), {"fields": ["last_latitude", "last_longitude", "last_position_at"]}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("user__team")
            .prefetch_related("skills__category")
        )

    @admin.display(description=_("班组"))
    def team(self, obj):
        return obj.user.team or "—"

    @admin.display(description=_("技能"))
    def skill_list(self, obj):
        return "、".join(f"{s.category.name}·{s.level}" for s in obj.skills.all()) or "—"

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "zones":
            from repairhub.places.models import Place, PlaceKind

            kwargs["queryset"] = Place.objects.filter(
                kind__in=[PlaceKind.CAMPUS, PlaceKind.BUILDING]
            ).order_by("path")
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class DispatchPolicyForm(admin.ModelAdmin.form):
    def clean(self):
        data = super().clean()
        if data.get("mode") == DispatchMode.ROUND_ROBIN and not data.get("team"):
            raise ValidationError({"team": _("班组轮派需要选择一个班组。")})
        return data


@admin.register(DispatchPolicy)
class DispatchPolicyAdmin(admin.ModelAdmin):
    form = DispatchPolicyForm
    list_display = ["category", "mode", "team", "service_minutes"]
    list_editable = ["mode"]
    list_filter = ["mode"]
    autocomplete_fields = ["category"]


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["pk", "created_at", "created_by", "status", "seconds", "applied_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in Plan._meta.fields]

    def has_add_permission(self, request):
        return False
