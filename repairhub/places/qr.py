"""QR codes for rooms and assets (IN2): the code on a door opens the report form with the place
filled in; the code on an asset also fills in the asset and the fault it usually gets.

One room or asset: SVG or PNG from segno. One building: a printable A4 PDF of labels, its rooms
then its assets (ReportLab, the built-in CJK CID font STSong-Light, so Chinese needs no font
files). The QR modules are drawn as vector squares from segno's matrix, so print size never
blurs them.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

import segno
from django.conf import settings
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from .models import Asset, Place, PlaceKind

CJK_FONT = "STSong-Light"
LATIN_BOLD = "Helvetica-Bold"
QUIET_ZONE = 4  # modules of white around the symbol, as the QR standard asks
REPORT_PATH = "/r/{code}"  # the intake page `intake:qr` (path "r/<code>")
ASSET_REPORT_PATH = "/r/a/{code}"  # the intake page `intake:qr-asset` (path "r/a/<code>")


def report_url(room: Place) -> str:
    """The absolute URL a room's QR code carries: the report form with the place filled in."""
    return settings.SITE_URL + REPORT_PATH.format(code=room.code)


def make_qr(url: str) -> segno.QRCode:
    # Level M survives a scuffed or partly covered sticker and keeps the symbol small.
    return segno.make(url, error="m", micro=False)


def room_qr(room: Place) -> segno.QRCode:
    return make_qr(report_url(room))


def room_qr_svg(room: Place) -> bytes:
    buf = io.BytesIO()
    room_qr(room).save(buf, kind="svg", scale=8, border=QUIET_ZONE, xmldecl=True, title=room.code)
    return buf.getvalue()


def room_qr_png(room: Place, *, scale: int = 10) -> bytes:
    buf = io.BytesIO()
    room_qr(room).save(buf, kind="png", scale=scale, border=QUIET_ZONE)
    return buf.getvalue()


def asset_report_url(asset: Asset) -> str:
    """The URL an asset's QR code carries: the form with its place and itself filled in."""
    return settings.SITE_URL + ASSET_REPORT_PATH.format(code=asset.code)


def asset_qr(asset: Asset) -> segno.QRCode:
    return make_qr(asset_report_url(asset))


def asset_qr_svg(asset: Asset) -> bytes:
    buf = io.BytesIO()
    asset_qr(asset).save(
        buf, kind="svg", scale=8, border=QUIET_ZONE, xmldecl=True, title=asset.code
    )
    return buf.getvalue()


def asset_qr_png(asset: Asset, *, scale: int = 10) -> bytes:
    buf = io.BytesIO()
    asset_qr(asset).save(buf, kind="png", scale=scale, border=QUIET_ZONE)
    return buf.getvalue()


def _natural(value: str) -> tuple:
    """Sort "2F" before "10F" and "201" before "1001"."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", value))


def sheet_rooms(building: Place) -> list[Place]:
    """The active rooms of a building in walking order: floor by floor, room by room."""
    rooms = (
        Place.objects.within(building)
        .rooms()
        .active()
        .filter(parent__is_active=True)
        .select_related("parent")
    )
    return sorted(
        rooms,
        key=lambda r: (r.parent.sort, _natural(r.parent.code), r.sort, _natural(r.code)),
    )


def sheet_assets(building: Place) -> list[Asset]:
    """The active assets in a building's active places, in the rooms' walking order."""
    assets = (
        Asset.objects.active()
        .within(building)
        .filter(place__is_active=True)
        .select_related("place", "place__parent")
    )

    def walk(a: Asset) -> tuple:
        place, parent = a.place, a.place.parent
        if place.kind == PlaceKind.ROOM and parent is not None:
            spot = (parent.sort, _natural(parent.code), place.sort, _natural(place.code))
        else:  # the building or a floor itself: before the rooms of that floor
            spot = (place.sort, _natural(place.code), -1, ())
        return (*spot, _natural(a.code))

    return sorted(assets, key=walk)


@dataclass(frozen=True)
class Label:
    """One sticker on the sheet: the symbol's URL and the words under it."""

    url: str
    title: str  # the asset's name, or "" for a room
    where: str  # the place's full name
    code: str


def room_label(room: Place) -> Label:
    return Label(report_url(room), "", room.full_name, room.code)


def asset_label(asset: Asset) -> Label:
    return Label(asset_report_url(asset), asset.name, asset.place.full_name, asset.code)


def sheet_labels(building: Place) -> list[Label]:
    """A building's labels: its rooms in walking order, then its assets."""
    return [
        *(room_label(r) for r in sheet_rooms(building)),
        *(asset_label(a) for a in sheet_assets(building)),
    ]


# --- the printable sheet ------------------------------------------------------------------


@cache
def _register_fonts() -> None:
    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


@dataclass(frozen=True)
class SheetLayout:
    """Where things go on an A4 page, in points from the bottom-left corner."""

    columns: int = 3
    rows: int = 4
    margin: float = 10 * mm
    header: float = 12 * mm
    qr_size: float = 40 * mm
    page_width: float = A4[0]
    page_height: float = A4[1]

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    @property
    def label_width(self) -> float:
        return (self.page_width - 2 * self.margin) / self.columns

    @property
    def label_height(self) -> float:
        return (self.page_height - 2 * self.margin - self.header) / self.rows

    def label_origin(self, slot: int) -> tuple[float, float]:
        """Bottom-left corner of label `slot` (0 = top left, row by row)."""
        row, col = divmod(slot, self.columns)
        x = self.margin + col * self.label_width
        top = self.page_height - self.margin - self.header
        return x, top - (row + 1) * self.label_height

    def qr_box(self, slot: int) -> tuple[float, float, float]:
        """(x, y, size) of the QR area, quiet zone included, centred near the label's top."""
        x, y = self.label_origin(slot)
        qx = x + (self.label_width - self.qr_size) / 2
        qy = y + self.label_height - 3 * mm - self.qr_size
        return qx, qy, self.qr_size


LAYOUT = SheetLayout()


def page_count(n_labels: int, layout: SheetLayout = LAYOUT) -> int:
    """Pages one building needs; a building without rooms still gets a page saying so."""
    return max(1, -(-n_labels // layout.per_page))


def _draw_qr(c: canvas.Canvas, qr: segno.QRCode, x: float, y: float, size: float) -> None:
    width, _height = qr.symbol_size(border=QUIET_ZONE)
    module = size / width
    c.setFillColorRGB(1, 1, 1)
    c.rect(x, y, size, size, stroke=0, fill=1)
    c.setFillColorRGB(0, 0, 0)
    path = c.beginPath()
    for r, row in enumerate(qr.matrix):
        for col, dark in enumerate(row):
            if dark:
                # Row 0 is the top of the symbol; PDF y grows upwards.
                px = x + (col + QUIET_ZONE) * module
                py = y + size - (r + QUIET_ZONE + 1) * module
                path.rect(px, py, module, module)
    c.drawPath(path, stroke=0, fill=1)


def _wrap(text: str, font: str, size: float, width: float, max_lines: int) -> list[str]:
    """Break at " / " where possible, else between characters; ellipsise what does not fit."""

    def fits(s: str) -> bool:
        return pdfmetrics.stringWidth(s, font, size) <= width

    lines: list[str] = []
    current = ""
    for part in text.split(" / "):
        candidate = f"{current} / {part}" if current else part
        if fits(candidate):
            current = candidate
            continue
        if current:
            lines.append(current)
            current = ""
        for ch in part:
            if fits(current + ch):
                current += ch
            else:
                lines.append(current)
                current = ch
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and not fits(last + "…"):
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last + "…"]
    return lines


def _draw_label(c: canvas.Canvas, label: Label, slot: int, layout: SheetLayout) -> None:
    x, y = layout.label_origin(slot)
    w, h = layout.label_width, layout.label_height
    c.setStrokeColorRGB(0.7, 0.7, 0.7)
    c.setLineWidth(0.5)
    c.setDash(3, 3)
    c.rect(x, y, w, h, stroke=1, fill=0)
    c.setDash()
    qx, qy, size = layout.qr_box(slot)
    _draw_qr(c, make_qr(label.url), qx, qy, size)

    centre = x + w / 2
    text_y = qy - 2 * mm
    c.setFillColorRGB(0, 0, 0)
    c.setFont(CJK_FONT, 12)
    text_y -= 12
    c.drawCentredString(centre, text_y, _("扫码报修"))
    if label.title:
        c.setFont(CJK_FONT, 10)
        text_y -= 11
        title = _("设备：%(name)s") % {"name": label.title}
        c.drawCentredString(centre, text_y, _wrap(title, CJK_FONT, 10, w - 6 * mm, 1)[0])
    c.setFont(CJK_FONT, 9)
    for line in _wrap(label.where, CJK_FONT, 9, w - 6 * mm, 2):
        text_y -= 11
        c.drawCentredString(centre, text_y, line)
    c.setFont(LATIN_BOLD, 9)
    text_y -= 11
    c.drawCentredString(centre, text_y, label.code)


def _draw_header(c: canvas.Canvas, building: Place, page: int, pages: int, layout: SheetLayout):
    c.setFillColorRGB(0, 0, 0)
    c.setFont(CJK_FONT, 11)
    top = layout.page_height - layout.margin - 7 * mm
    c.drawString(
        layout.margin,
        top,
        _("%(building)s　报修二维码") % {"building": building.full_name},
    )
    c.setFont(CJK_FONT, 9)
    c.drawRightString(
        layout.page_width - layout.margin,
        top,
        _("第 %(page)d / %(pages)d 页") % {"page": page, "pages": pages},
    )


def building_sheet_pdf(buildings: Iterable[Place], *, layout: SheetLayout = LAYOUT) -> bytes:
    """An A4 PDF of labels, rooms then assets; each building starts on a new page."""
    _register_fonts()
    buildings = list(buildings)
    for b in buildings:
        if b.kind != PlaceKind.BUILDING:
            raise ValueError(f"{b.code} is not a building")
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, pageCompression=1)
    c.setTitle(_("报修二维码") + " — " + "、".join(b.full_name for b in buildings))
    c.setAuthor(_("报修云"))
    c.setCreator("RepairHub")
    for building in buildings:
        labels = sheet_labels(building)
        pages = page_count(len(labels), layout)
        for page in range(pages):
            _draw_header(c, building, page + 1, pages, layout)
            chunk: Sequence[Label] = labels[page * layout.per_page : (page + 1) * layout.per_page]
            if not chunk:
                c.setFont(CJK_FONT, 12)
                c.drawCentredString(
                    layout.page_width / 2, layout.page_height / 2, _("该楼宇没有启用的房间。")
                )
            for slot, label in enumerate(chunk):
                _draw_label(c, label, slot, layout)
            c.showPage()
    c.save()
    return buf.getvalue()
