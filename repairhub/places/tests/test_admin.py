from __future__ import annotations

import pytest
from django.urls import reverse

from repairhub.accounts.roles import Role
from repairhub.places.models import Place
from repairhub.testing.personas import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(make_user("admin", Role.ADMIN))
    return client


def test_place_list_shows_tree_and_filters_within_a_building(admin_client, building):
    url = reverse("admin:places_place_changelist")
    page = admin_client.get(url, {"within": "E03"}).content.decode()
    assert "东校区 / 3号楼 / 2层 / 201" in page
    assert "/places/E03-201/" not in page  # rooms link their SVG, not a sheet
    assert "/places/room/E03-201/qr.svg" in page
    assert admin_client.get(url, {"within": "NOPE"}).status_code == 200


def test_print_action_returns_one_pdf_for_the_selected_buildings(admin_client, building):
    url = reverse("admin:places_place_changelist")
    ids = list(Place.objects.filter(code__in=["E03", "E03-201"]).values_list("pk", flat=True))
    response = admin_client.post(
        url, {"action": "print_qr_sheet", "_selected_action": [str(i) for i in ids]}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="qr-E03.pdf"'


def test_print_action_without_a_building_says_what_to_select(admin_client, building):
    url = reverse("admin:places_place_changelist")
    room = Place.objects.get(code="E03-201")
    response = admin_client.post(
        url, {"action": "print_qr_sheet", "_selected_action": [str(room.pk)]}, follow=True
    )
    assert "请至少选择一个楼宇" in response.content.decode()


def test_room_under_a_campus_is_refused_with_a_chinese_message(admin_client, building):
    campus = Place.objects.get(code="E")
    before = Place.objects.count()
    response = admin_client.post(
        reverse("admin:places_place_add"),
        {"kind": "room", "parent": str(campus.pk), "code": "E-999", "name": "999", "sort": "0"},
    )
    assert response.status_code == 200
    assert "房间 的上级必须是 楼层" in response.content.decode()
    assert Place.objects.count() == before


def test_missing_kind_is_a_form_error_not_a_crash(admin_client, building):
    response = admin_client.post(
        reverse("admin:places_place_add"), {"kind": "", "code": "X1", "name": "x", "sort": "0"}
    )
    assert response.status_code == 200
    assert not Place.objects.filter(code="X1").exists()


def test_floor_under_a_building_is_saved_with_its_full_name(admin_client, building):
    response = admin_client.post(
        reverse("admin:places_place_add"),
        {
            "kind": "floor",
            "parent": str(Place.objects.get(code="E03").pk),
            "code": "E03-3F",
            "name": "3层",
            "sort": "3",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert Place.objects.get(code="E03-3F").full_name == "东校区 / 3号楼 / 3层"
