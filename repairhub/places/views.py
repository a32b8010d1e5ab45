"""Printable QR codes for staff: one building's sheet (PDF), one room's or asset's code
(SVG/PNG)."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from repairhub.accounts.roles import Role

from . import qr
from .models import Asset, Place, PlaceKind

# Who prints and hands out QR codes: the desk and the people who run it.
QR_ROLES = (Role.ADMIN, Role.MANAGER, Role.AGENT, Role.DISPATCHER)


def may_print_qr(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.has_role(*QR_ROLES))


def qr_staff_required(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not may_print_qr(request.user):
            return render(
                request,
                "places/qr_forbidden.html",
                {"message": _("只有管理员、主管、值班员和调度员可以打印报修二维码。")},
                status=403,
            )
        return view(request, *args, **kwargs)

    return wrapped


def _place(code: str, kind: str) -> Place:
    place = Place.objects.filter(code=code, kind=kind).first()
    if place is None:
        raise Http404(_("找不到编码为 %(code)s 的地点。") % {"code": code})
    return place


@require_GET
@qr_staff_required
def building_qr_pdf(request, code: str):
    building = _place(code, PlaceKind.BUILDING)
    response = HttpResponse(qr.building_sheet_pdf([building]), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="qr-{building.code}.pdf"'
    return response


@require_GET
@qr_staff_required
def room_qr_svg(request, code: str):
    room = _place(code, PlaceKind.ROOM)
    return HttpResponse(qr.room_qr_svg(room), content_type="image/svg+xml")


@require_GET
@qr_staff_required
def room_qr_png(request, code: str):
    room = _place(code, PlaceKind.ROOM)
    return HttpResponse(qr.room_qr_png(room), content_type="image/png")


def _asset(code: str) -> Asset:
    asset = Asset.objects.active().filter(code=code).first()
    if asset is None:
        raise Http404(_("找不到编码为 %(code)s 的启用设备。") % {"code": code})
    return asset


@require_GET
@qr_staff_required
def asset_qr_svg(request, code: str):
    return HttpResponse(qr.asset_qr_svg(_asset(code)), content_type="image/svg+xml")


@require_GET
@qr_staff_required
def asset_qr_png(request, code: str):
    return HttpResponse(qr.asset_qr_png(_asset(code)), content_type="image/png")
