"""The asset register (设备台账): what create_asset refuses in words, the admin's list, search
and filters, and each asset's QR code."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from repairhub.accounts.roles import Role
from repairhub.places.models import Asset, Place
from repairhub.places.services import create_asset, create_place
from repairhub.testing.personas import make_ac_category, make_asset, make_category, make_user

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 5, 20)


@pytest.fixture
def room(building):
    return Place.objects.get(code="E03-201")


@pytest.fixture
def ac(db):
    return make_ac_category()


def refusal(**kw) -> dict[str, list[str]]:
    """The field errors create_asset raises for these arguments; nothing is written."""
    before = Asset.objects.count()
    with pytest.raises(ValidationError) as caught:
        create_asset(**kw)
    assert Asset.objects.count() == before
    return caught.value.message_dict


def test_an_asset_is_registered_with_its_place_category_and_nameplate(room, ac):
    asset = create_asset(
        code=" E03-201-AC2 ",
        name="2号空调",
        place=room,
        category=ac,
        model="格力 KFR-72LW",
        serial="GR72LW19060312",
        installed_on=dt.date(2019, 6, 3),
    )

    asset.refresh_from_db()
    assert (asset.code, asset.name, asset.place, asset.category) == (
        "E03-201-AC2",
        "2号空调",
        room,
        ac,
    )
    assert (asset.model, asset.serial, asset.installed_on, asset.is_active) == (
        "格力 KFR-72LW",
        "GR72LW19060312",
        dt.date(2019, 6, 3),
        True,
    )
    assert str(asset) == "2号空调（E03-201-AC2）"
    assert list(room.assets.all()) == [asset]


def test_a_code_follows_the_place_code_rules_and_is_unique(room):
    assert refusal(code="E03 201/AC", name="空调", place=room) == {
        "code": ["编码只能包含字母、数字、下划线和连字符。"]
    }
    make_asset("E03-201-AC2", place=room)
    assert refusal(code="E03-201-AC2", name="另一台", place=room) == {
        "code": ["具有 编码 的 设备 已存在。"]
    }


def test_an_asset_sits_in_a_building_floor_or_room_that_is_in_use(room):
    campus = Place.objects.get(code="E")
    assert refusal(code="E-AC1", name="空调", place=campus) == {
        "place": ["设备要登记在楼宇、楼层或房间里，不能直接登记在校区。"]
    }
    closed = create_place(kind="room", code="E03-209", name="209", parent=room.parent)
    closed.is_active = False
    closed.save()
    assert refusal(code="E03-209-AC1", name="空调", place=closed) == {
        "place": ["地点“东校区 / 3号楼 / 2层 / 209”已停用：请选择启用的地点，或停用该设备。"]
    }
    assert create_asset(code="E03-AC1", name="楼顶空调主机", place=room.parent.parent).pk


def test_the_usual_category_is_an_active_leaf(room, ac):
    hvac = ac.parent
    assert refusal(code="E03-201-AC2", name="空调", place=room, category=hvac) == {
        "category": ["“空调暖通”下还有小类，请选择具体的小类。"]
    }
    old = make_category("old-ac", parent=hvac, name="窗机", is_active=False)
    assert refusal(code="E03-201-AC2", name="空调", place=room, category=old) == {
        "category": ["报修类别“空调暖通 → 窗机”已停用，请选择其他类别。"]
    }


def test_an_installation_date_cannot_be_in_the_future(room):
    with time_machine.travel(dt.datetime(2026, 5, 20, 12, tzinfo=dt.UTC), tick=False):
        assert refusal(
            code="E03-201-AC2", name="空调", place=room, installed_on=TODAY + dt.timedelta(days=1)
        ) == {"installed_on": ["安装日期不能晚于今天。"]}
        assert create_asset(code="E03-201-AC2", name="空调", place=room, installed_on=TODAY).pk


# --- admin ---------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client):
    client.force_login(make_user("admin", Role.ADMIN))
    return client


@pytest.fixture
def register(building, ac):
    """2号空调 in E03-201 (air conditioner), 1号洗衣机 in E03-1001 (no category), and an
    air conditioner in another building."""
    west = create_place(kind="campus", code="W", name="西校区")
    w06 = create_place(kind="building", code="W06", name="实验楼", parent=west)
    floor = create_place(kind="floor", code="W06-3F", name="3层", parent=w06)
    lab = create_place(kind="room", code="W06-305", name="305", parent=floor)
    return {
        "ac": make_asset(
            "E03-201-AC2",
            place=Place.objects.get(code="E03-201"),
            category=ac,
            serial="GR72LW19060312",
        ),
        "washer": make_asset(
            "E03-1001-WM1", name="1号洗衣机", place=Place.objects.get(code="E03-1001")
        ),
        "lab": make_asset("W06-305-AC1", name="1号空调", place=lab, category=ac),
    }


def listed(admin_client, **params) -> list[str]:
    response = admin_client.get(reverse("admin:places_asset_changelist"), params)
    assert response.status_code == 200
    return sorted(a.code for a in response.context["cl"].result_list)


def test_asset_list_searches_code_name_and_serial_and_links_each_qr(admin_client, register):
    page = admin_client.get(reverse("admin:places_asset_changelist")).content.decode()
    assert "东校区 / 3号楼 / 2层 / 201" in page
    assert "/places/asset/E03-201-AC2/qr.svg" in page
    assert "/places/asset/E03-201-AC2/qr.png" in page

    assert listed(admin_client, q="GR72LW") == ["E03-201-AC2"]
    assert listed(admin_client, q="洗衣机") == ["E03-1001-WM1"]
    assert listed(admin_client, q="W06-305") == ["W06-305-AC1"]


def test_asset_list_filters_by_campus_building_and_category(admin_client, register, ac):
    assert listed(admin_client, within="E03") == ["E03-1001-WM1", "E03-201-AC2"]
    assert listed(admin_client, within="W") == ["W06-305-AC1"]
    assert listed(admin_client, category__id__exact=ac.pk) == ["E03-201-AC2", "W06-305-AC1"]
    assert listed(admin_client, within="E03", category__id__exact=ac.pk) == ["E03-201-AC2"]


def test_admin_refuses_an_asset_on_a_campus_in_words(admin_client, register):
    before = Asset.objects.count()
    response = admin_client.post(
        reverse("admin:places_asset_add"),
        {"code": "E-AC9", "name": "空调", "place": str(Place.objects.get(code="E").pk)},
    )
    assert response.status_code == 200
    assert "设备要登记在楼宇、楼层或房间里，不能直接登记在校区。" in response.content.decode()
    assert Asset.objects.count() == before


# --- QR codes ------------------------------------------------------------------------------------


def test_asset_qr_svg_and_png_for_the_desk(client, register):
    client.force_login(make_user(None, Role.AGENT))
    svg = client.get("/places/asset/E03-201-AC2/qr.svg")
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    assert b"<svg" in svg.content and b"E03-201-AC2" in svg.content
    png = client.get("/places/asset/E03-201-AC2/qr.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert client.get("/places/asset/E03-201/qr.svg").status_code == 404


def test_an_inactive_assets_qr_is_404_and_reporters_get_none(client, register):
    Asset.objects.filter(code="E03-201-AC2").update(is_active=False)
    client.force_login(make_user(None, Role.DISPATCHER))
    assert client.get("/places/asset/E03-201-AC2/qr.svg").status_code == 404
    client.force_login(make_user(None, Role.REPORTER))
    assert client.get("/places/asset/W06-305-AC1/qr.svg").status_code == 403
