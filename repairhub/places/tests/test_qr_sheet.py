"""The printable QR sheet: pages, Chinese text, and QR modules that carry the report URL."""

from __future__ import annotations

import subprocess

import pytest
from django.urls import reverse
from PIL import Image

from repairhub.places import qr
from repairhub.places.models import Place
from repairhub.places.services import create_place

pytestmark = pytest.mark.django_db

DPI = 150


def _pdf(tmp_path, data: bytes):
    path = tmp_path / "sheet.pdf"
    path.write_bytes(data)
    return path


def _pages(path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    line = next(ln for ln in info.stdout.splitlines() if ln.startswith("Pages:"))
    return int(line.split()[1])


def _text(path, page: int) -> str:
    out = subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


def test_report_url_is_site_url_plus_room_code(settings, building):
    settings.SITE_URL = "https://bx.example.edu.cn"
    room = Place.objects.get(code="E03-201")
    assert qr.report_url(room) == "https://bx.example.edu.cn/r/E03-201"
    assert qr.room_qr(room).matrix == qr.make_qr("https://bx.example.edu.cn/r/E03-201").matrix
    # The path is the intake page that opens the report form for the room.
    assert qr.report_url(room) == settings.SITE_URL + reverse("intake:qr", args=[room.code])


def test_sheet_lists_active_rooms_floor_by_floor(building):
    Place.objects.filter(code="E03-207").update(is_active=False)
    codes = [r.code for r in qr.sheet_rooms(building)]
    assert codes == [
        *(f"E03-2{n:02d}" for n in range(1, 7)),
        *(f"E03-10{n:02d}" for n in range(1, 8)),
    ]


def test_pdf_has_a_page_per_twelve_labels_with_chinese_text(tmp_path, building):
    path = _pdf(tmp_path, qr.building_sheet_pdf([building]))
    assert path.read_bytes().startswith(b"%PDF-")
    assert qr.LAYOUT.per_page == 12
    assert _pages(path) == 2  # 14 rooms
    first, second = _text(path, 1), _text(path, 2)
    assert "东校区 / 3号楼" in first
    assert "第 1 / 2 页".replace(" ", "") in first.replace(" ", "")
    assert first.count("扫码报修") == 12
    assert "东校区 / 3号楼 / 2层 / 201" in first
    assert "E03-201" in first and "E03-1005" in first
    assert second.count("扫码报修") == 2
    assert "东校区 / 3号楼 / 10层 / 1007" in second and "E03-1006" in second


def test_several_buildings_each_start_a_page_and_an_empty_one_says_so(tmp_path, building):
    campus = Place.objects.get(code="E")
    empty = create_place(kind="building", code="E09", name="9号楼", parent=campus)
    path = _pdf(tmp_path, qr.building_sheet_pdf([building, empty]))
    assert _pages(path) == 3
    assert "该楼宇没有启用的房间" in _text(path, 3)


def test_only_buildings_make_sheets(building):
    with pytest.raises(ValueError):
        qr.building_sheet_pdf([Place.objects.get(code="E03-2F")])


def test_qr_drawn_in_pdf_is_the_segno_matrix_of_the_report_url(tmp_path, settings, building):
    """Render page 1 and read every module back at its centre: the PDF carries exactly the
    symbol segno makes for the first room's URL (quiet zone included)."""
    settings.SITE_URL = "https://bx.example.edu.cn"
    path = _pdf(tmp_path, qr.building_sheet_pdf([building]))
    args = ["-r", str(DPI), "-gray", "-png", "-f", "1", "-l", "1", "-singlefile"]
    subprocess.run(["pdftoppm", *args, str(path), str(tmp_path / "page")], check=True)
    image = Image.open(tmp_path / "page.png").convert("L")
    px_per_pt = DPI / 72
    room = qr.sheet_rooms(building)[0]
    expected = qr.make_qr(qr.report_url(room))
    x, y, size = qr.LAYOUT.qr_box(0)
    width = expected.symbol_size(border=qr.QUIET_ZONE)[0]
    module = size / width
    read = [
        [
            image.getpixel(
                (
                    round((x + (c + 0.5) * module) * px_per_pt),
                    round((qr.LAYOUT.page_height - (y + size - (r + 0.5) * module)) * px_per_pt),
                )
            )
            < 128
            for c in range(width)
        ]
        for r in range(width)
    ]
    truth = [[bool(v) for v in row] for row in expected.matrix_iter(border=qr.QUIET_ZONE)]
    assert read == truth
