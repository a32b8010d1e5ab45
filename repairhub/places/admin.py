from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import qr
from .models import Asset, Place, PlaceKind


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
    """Everything under a campus or a building (the tree's useful cut, not only direct children);
    for assets, those whose place is there."""

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


class AssetForm(forms.ModelForm):
    class Meta:
        model = Asset
        fields = [
            "code",
            "name",
            "place",
            "category",
            "model",
            "serial",
            "installed_on",
            "is_active",
        ]


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    form = AssetForm
    list_display = [
        "code",
        "name",
        "place_name",
        "category",
        "model",
        "serial",
        "installed_on",
        "is_active",
        "qr_link",
    ]
    list_filter = ["is_active", WithinFilter, ("category", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["place", "category", "category__parent"]
    search_fields = ["code", "name", "serial"]
    autocomplete_fields = ["place"]
    list_per_page = 100

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "category":  # workorders.Category: only those still in use
            kwargs["queryset"] = db_field.related_model.objects.active().select_related("parent")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=gettext_lazy("所在地点"), ordering="place__path")
    def place_name(self, asset: Asset) -> str:
        return asset.place.full_name

    @admin.display(description=gettext_lazy("二维码"))
    def qr_link(self, asset: Asset):
        if not asset.is_active:
            return ""
        svg = reverse("places:asset-qr-svg", args=[asset.code])
        png = reverse("places:asset-qr-png", args=[asset.code])
        return format_html(
            '<a href="{}" target="_blank">{}</a> · <a href="{}" download>PNG</a>',
            svg,
            _("二维码"),
            png,
        )
