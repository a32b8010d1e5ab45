from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from repairhub.lib.phones import mask_phone, normalize_phone

from .models import ApiToken, RoleGrant, Team, User
from .roles import Role

admin.site.site_header = _("报修云管理后台")
admin.site.site_title = _("报修云管理后台")
admin.site.index_title = _("系统管理")


class UserForm(UserChangeForm):
    phone = forms.CharField(label=_("手机号"), required=False, max_length=20)

    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"

    def clean_phone(self) -> str:
        raw = self.cleaned_data.get("phone", "")
        if not raw.strip():
            return ""
        try:
            return normalize_phone(raw)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None


class RoleGrantInline(admin.TabularInline):
    model = RoleGrant
    extra = 0
    verbose_name = _("角色")
    verbose_name_plural = _("角色")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserForm
    inlines = [RoleGrantInline]
    list_display = [
        "username",
        "display_name",
        "masked_phone",
        "team",
        "role_list",
        "is_active",
        "last_login",
    ]
    list_filter = ["role_grants__role", "team", "is_active", "is_staff"]
    search_fields = ["username", "display_name", "email"]
    ordering = ["username"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("个人信息"), {"fields": ("display_name", "phone", "email", "team")}),
        (
            _("后台权限"),
            {"fields": ("is_active", "is_staff", "is_superuser"), "classes": ("collapse",)},
        ),
        (_("时间"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "usable_password", "password1", "password2"),
            },
        ),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("team").prefetch_related("role_grants")

    @admin.display(description=_("手机号"))
    def masked_phone(self, user: User) -> str:
        return mask_phone(user.phone)

    @admin.display(description=_("角色"))
    def role_list(self, user: User) -> str:
        return _("、").join(str(g) for g in user.role_grants.all())

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user = form.instance
        # Same rule as accounts.services.create_user: the admin role opens this back office.
        if RoleGrant.objects.filter(user=user, role=Role.ADMIN).exists() and not user.is_superuser:
            User.objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "lead", "member_count"]
    search_fields = ["code", "name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_members=Count("members"))

    @admin.display(description=_("人数"), ordering="n_members")
    def member_count(self, team) -> int:
        return team.n_members

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "lead":
            kwargs["queryset"] = User.objects.filter(role_grants__role=Role.TEAM_LEAD)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued by `accounts.services.issue_token` (the secret is shown once); here they
    are only looked at. Deleting one revokes it at once."""

    list_display = ["prefix", "name", "user", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["prefix", "name", "user__username"]
    fields = ["user", "name", "prefix", "digest", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
