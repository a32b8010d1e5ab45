"""The printable QR sheet: pages, Chinese text, rooms then assets, and QR modules that carry
the report URL."""

from __future__ import annotations

import subprocess

import pytest
from django.urls import reverse
from PIL import Image

from repairhub.accounts.roles import Role
from repairhub.places import qr
from repairhub.places.models import Asset, Place
from repairhub.places.services import create_place
from repairhub.testing.personas import make_asset, make_user

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


def test_asset_report_url_is_the_intake_asset_page(settings, building):
    settings.SITE_URL = "https://bx.example.edu.cn"
    asset = make_asset("E03-201-AC2", place=Place.objects.get(code="E03-201"))
    assert qr.asset_report_url(asset) == "https://bx.example.edu.cn/r/a/E03-201-AC2"
    assert qr.asset_report_url(asset) == settings.SITE_URL + reverse(
        "intake:qr-asset", args=[asset.code]
    )
    assert qr.asset_qr(asset).matrix == qr.make_qr(qr.asset_report_url(asset)).matrix


def test_the_building_sheet_lists_its_assets_after_its_rooms(tmp_path, building):
    """The active rooms (13 once E03-207 is closed), then the active assets of active places:
    15 labels on two pages."""
    make_asset("E03-1001-AC1", name="1号空调", place=Place.objects.get(code="E03-1001"))
    make_asset("E03-201-AC2", name="2号空调", place=Place.objects.get(code="E03-201"))
    make_asset("E03-202-WM1", name="1号洗衣机", place=Place.objects.get(code="E03-202"))
    Asset.objects.filter(code="E03-202-WM1").update(is_active=False)
    make_asset("E03-207-AC1", name="空调", place=Place.objects.get(code="E03-207"))
    Place.objects.filter(code="E03-207").update(is_active=False)

    assert [a.code for a in qr.sheet_assets(building)] == ["E03-201-AC2", "E03-1001-AC1"]
    labels = qr.sheet_labels(building)
    assert [label.code for label in labels[-3:]] == ["E03-1007", "E03-201-AC2", "E03-1001-AC1"]
    assert labels[-2].url == qr.asset_report_url(Asset.objects.get(code="E03-201-AC2"))

    path = _pdf(tmp_path, qr.building_sheet_pdf([building]))
    assert _pages(path) == 2
    first, second = _text(path, 1), _text(path, 2)
    assert "设备" not in first
    assert second.count("扫码报修") == 1 + 2
    assert "设备：2号空调" in second and "设备：1号空调" in second
    assert "东校区 / 3号楼 / 2层 / 201" in second and "E03-201-AC2" in second
    assert "东校区 / 3号楼 / 10层 / 1001" in second and "E03-1001-AC1" in second
    assert "洗衣机" not in second and "E03-207-AC1" not in second


def test_building_pdf_page_carries_the_asset_labels(client, tmp_path, building):
    make_asset("E03-201-AC2", name="2号空调", place=Place.objects.get(code="E03-201"))
    client.force_login(make_user(None, Role.AGENT))
    response = client.get(reverse("places:building-qr-pdf", args=["E03"]))
    assert response.status_code == 200
    text = _text(_pdf(tmp_path, response.content), 2)
    assert "设备：2号空调" in text and "E03-201-AC2" in text
