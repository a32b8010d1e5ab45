from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import qr
from .models import Place, PlaceKind


class PlaceForm(forms.ModelForm):
    class Meta:
        model = Place
        fields = ["kind", "parent", "code", "name", "latitude", "longitude", "sort", "is_active"]

    def _post_clean(self):
        # Place.clean() checks the kind against the parent's and needs a valid kind to do so;
        # without one the form already shows "this field is required".
        if "kind" in self._errors:
            return
        super()._post_clean()


class WithinFilter(admin.SimpleListFilter):
    """Everything under a campus or a building (the tree's useful cut, not only direct children)."""

    title = gettext_lazy("所属区域")
    parameter_name = "within"

    def lookups(self, request, model_admin):
        nodes = Place.objects.filter(kind__in=[PlaceKind.CAMPUS, PlaceKind.BUILDING])
        return [(p.code, p.full_name) for p in nodes]

    def queryset(self, request, queryset):
        code = self.value()
        if not code:
            return queryset
        node = Place.objects.filter(code=code).first()
        return queryset.within(node) if node else queryset.none()


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):
    form = PlaceForm
    list_display = ["full_name", "kind", "code", "latitude", "longitude", "is_active", "qr_link"]
    list_filter = ["kind", "is_active", WithinFilter]
    search_fields = ["code", "name", "full_name"]
    readonly_fields = ["full_name"]
    list_per_page = 100
    actions = ["print_qr_sheet"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            kwargs["queryset"] = Place.objects.exclude(kind=PlaceKind.ROOM)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=gettext_lazy("二维码"))
    def qr_link(self, place: Place):
        if place.kind == PlaceKind.BUILDING:
            url = reverse("places:building-qr-pdf", args=[place.code])
            return format_html('<a href="{}" target="_blank">{}</a>', url, _("二维码 PDF"))
        if place.kind == PlaceKind.ROOM:
            url = reverse("places:room-qr-svg", args=[place.code])
            return format_html('<a href="{}" target="_blank">{}</a>', url, _("二维码"))
        return ""

    @admin.action(description=gettext_lazy("打印二维码 (PDF)"))
    def print_qr_sheet(self, request, queryset):
        buildings = list(queryset.filter(kind=PlaceKind.BUILDING).order_by("path"))
        if not buildings:
            self.message_user(
                request, _("请至少选择一个楼宇：二维码按楼宇打印。"), level=messages.ERROR
            )
            return None
        response = HttpResponse(qr.building_sheet_pdf(buildings), content_type="application/pdf")
        name = buildings[0].code if len(buildings) == 1 else "buildings"
        response["Content-Disposition"] = f'attachment; filename="qr-{name}.pdf"'
        return response
