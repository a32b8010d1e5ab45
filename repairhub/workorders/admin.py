"""Back office for categories (editable) and orders (look only).

An order's state changes only through workorders.lifecycle (permission, guard, event, outbox in
one transaction), so the admin shows orders and their timelines but cannot change, add or
delete them.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Category, ChangeRequest, Event, Follower, WorkOrder


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = [
            "code",
            "name",
            "parent",
            "default_urgency",
            "auto_accept",
            "is_paid",
            "reporter_selectable",
            "sort",
            "is_active",
        ]

    def clean(self):
        data = super().clean()
        parent = data.get("parent")
        if parent is None:
            return data
        # Two levels only: 大类 → 小类.
        if parent.parent_id is not None:
            raise ValidationError({"parent": _("上级类别必须是大类：类别最多两级。")})
        if self.instance.pk is not None:
            if parent.pk == self.instance.pk:
                raise ValidationError({"parent": _("类别不能是自己的上级。")})
            if self.instance.children.exists():
                raise ValidationError(
                    {"parent": _("该类别下已有小类，不能再设置上级：类别最多两级。")}
                )
        return data


class ParentCategoryFilter(admin.SimpleListFilter):
    title = _("大类")
    parameter_name = "top"

    def lookups(self, request, model_admin):
        return [(c.pk, c.name) for c in Category.objects.filter(parent__isnull=True)]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return queryset.filter(pk=self.value()) | queryset.filter(parent_id=self.value())


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    form = CategoryForm
    list_display = [
        "code",
        "name",
        "parent",
        "default_urgency",
        "auto_accept",
        "is_paid",
        "reporter_selectable",
        "sort",
        "is_active",
    ]
    list_display_links = ["code"]
    list_editable = [
        "name",
        "parent",
        "default_urgency",
        "auto_accept",
        "is_paid",
        "reporter_selectable",
        "sort",
        "is_active",
    ]
    list_filter = [ParentCategoryFilter, "is_active", "is_paid", "auto_accept"]
    search_fields = ["code", "name"]
    list_per_page = 200

    def get_changelist_form(self, request, **kwargs):
        # The list's inline edits get the same two-level check as the edit page.
        kwargs.setdefault("form", CategoryForm)
        return super().get_changelist_form(request, **kwargs)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("parent")


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EventInline(ReadOnlyInline):
    model = Event
    verbose_name = _("事件")
    verbose_name_plural = _("时间线")
    fields = ["created_at", "code", "actor_label", "channel", "from_status", "to_status", "data"]
    readonly_fields = fields


class ChangeRequestInline(ReadOnlyInline):
    model = ChangeRequest
    fk_name = "order"
    fields = [
        "created_at",
        "kind",
        "requested_by",
        "reason",
        "status",
        "decided_by",
        "decided_at",
        "decision_note",
    ]
    readonly_fields = fields


class FollowerInline(ReadOnlyInline):
    model = Follower
    fields = ["name", "masked_phone", "created_at"]
    readonly_fields = fields

    @admin.display(description=_("联系电话"))
    def masked_phone(self, follower) -> str:
        from repairhub.lib.phones import mask_phone

        return mask_phone(follower.phone)


@admin.register(WorkOrder)
class WorkOrderAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "status",
        "category",
        "place",
        "channel",
        "urgency",
        "reporter_name",
        "masked_phone",
        "assignee",
        "created_at",
    ]
    list_filter = ["status", "channel", "urgency", "category__parent", "result"]
    search_fields = ["number", "reporter_name", "description"]
    date_hierarchy = "created_at"
    list_select_related = ["category", "category__parent", "place", "assignee"]
    inlines = [EventInline, ChangeRequestInline, FollowerInline]
    fieldsets = (
        (
            None,
            {"fields": ("number", "status", "result", "version", "category", "urgency", "channel")},
        ),
        (
            _("地点与故障"),
            {"fields": ("place", "asset", "address", "description", "preferred_time")},
        ),
        (
            _("报修人"),
            {"fields": ("reporter", "reporter_name", "masked_phone", "registered_by")},
        ),
        (
            _("处理"),
            {
                "fields": (
                    "assignee",
                    "expert",
                    "escalated_at",
                    "measures",
                    "due_at",
                    "hold_reason",
                    "completion_note",
                    "suggestion",
                    "rating",
                    "rating_comment",
                    "reopen_count",
                    "handling",
                    "remarks",
                )
            },
        ),
        (
            _("时间"),
            {
                "fields": (
                    "received_at",
                    "created_at",
                    "accepted_at",
                    "dispatched_at",
                    "acknowledged_at",
                    "arrived_at",
                    "completed_at",
                    "closed_at",
                    "updated_at",
                )
            },
        ),
    )

    @admin.display(description=_("联系电话"))
    def masked_phone(self, order: WorkOrder) -> str:
        return order.masked_phone

    def get_readonly_fields(self, request, obj=None):
        return [f for fs in self.fieldsets for f in fs[1]["fields"]]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
