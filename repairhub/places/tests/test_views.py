from __future__ import annotations

import pytest
from django.urls import reverse

from repairhub.accounts.roles import Role
from repairhub.testing.personas import make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.AGENT, Role.DISPATCHER])
def test_desk_roles_get_the_building_pdf(client, building, role):
    client.force_login(make_user(None, role))
    response = client.get(reverse("places:building-qr-pdf", args=["E03"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="qr-E03.pdf"'
    assert response.content.startswith(b"%PDF-")


def test_url_is_places_code_qr_pdf(building):
    assert reverse("places:building-qr-pdf", args=["E03"]) == "/places/E03/qr.pdf"
    assert reverse("places:room-qr-svg", args=["E03-201"]) == "/places/room/E03-201/qr.svg"


@pytest.mark.parametrize("role", [Role.REPORTER, Role.TECHNICIAN, Role.QC_INSPECTOR])
def test_other_roles_get_a_403_page(client, building, role):
    client.force_login(make_user(None, role))
    response = client.get(reverse("places:building-qr-pdf", args=["E03"]))
    assert response.status_code == 403
    assert "只有管理员、主管、值班员和调度员可以打印报修二维码" in response.content.decode()


def test_anonymous_is_sent_to_login(client, building):
    response = client.get("/places/E03/qr.pdf")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("code", ["NOPE", "E", "E03-2F", "E03-201"])
def test_unknown_or_non_building_code_is_404(client, building, code):
    client.force_login(make_user(None, Role.AGENT))
    assert client.get(f"/places/{code}/qr.pdf").status_code == 404


def test_room_qr_svg_and_png(client, building):
    client.force_login(make_user(None, Role.DISPATCHER))
    svg = client.get("/places/room/E03-201/qr.svg")
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    assert b"<svg" in svg.content
    png = client.get("/places/room/E03-201/qr.png")
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")
    assert client.get("/places/room/E03/qr.svg").status_code == 404


def test_room_qr_is_refused_to_reporters(client, building):
    client.force_login(make_user(None, Role.REPORTER))
    assert client.get("/places/room/E03-201/qr.svg").status_code == 403
