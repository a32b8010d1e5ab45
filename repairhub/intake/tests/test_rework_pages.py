"""The warranty rework proposal at intake (FQ5): offered on the report form and the desk,
linked only when ticked for the candidate found again at submit, shown on the order page."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from repairhub.feedback.models import Rework
from repairhub.feedback.services.warranty import warranty_until
from repairhub.testing.personas import make_room
from repairhub.workorders.models import WorkOrder
from repairhub.workorders.states import Status

from .test_desk_pages import desk_data

pytestmark = pytest.mark.django_db

QR_URL = "/r/E03-201"
OFFER = "可能是 {number} 的返修（保修至 {until}）"
TICKED = '<input type="checkbox" name="rework" value="1" checked>'
UNTICKED = '<input type="checkbox" name="rework" value="1">'


@pytest.fixture
def original(world):
    """A closed, successful repair at the room, completed just now: under warranty."""
    return world.order(Status.CLOSED)


@pytest.fixture
def agent_client(client, world):
    client.force_login(world.agent)
    return client


def offer_text(order) -> str:
    until = timezone.localtime(warranty_until(order)).strftime("%Y-%m-%d")
    return OFFER.format(number=order.number, until=until)


def new_order(original) -> WorkOrder:
    return WorkOrder.objects.exclude(pk=original.pk).get()


# --- the reporter's form -----------------------------------------------------------------


def test_rework_fragment_offers_the_candidate_ticked(client, world, original):
    response = client.get("/report/rework/", {"place": "E03-201", "category": "lamp"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith('<div id="rework-offer"')
    assert offer_text(original) in html
    assert f'<input type="hidden" name="rework_of" value="{original.number}">' in html
    assert TICKED in html and "这是同一问题的返修" in html


def test_rework_fragment_is_empty_elsewhere_or_for_another_category(client, world, original):
    for params in ({"place": "E03", "category": "lamp"}, {"place": "E03-201", "category": ""}):
        html = client.get("/report/rework/", params).content.decode()
        assert "rework_of" not in html and 'id="rework-offer"' in html


def test_report_form_shown_again_offers_it_and_keeps_an_unticked_box(
    client, world, original, report_data
):
    data = {**report_data, "description": ""}
    html = client.post(QR_URL, data).content.decode()
    assert offer_text(original) in html and TICKED in html
    html = client.post(QR_URL, {**data, "rework_of": original.number}).content.decode()
    assert offer_text(original) in html and UNTICKED in html
    assert WorkOrder.objects.count() == 1


def test_ticked_rework_links_the_new_order_by_the_system(client, world, original, report_data):
    data = {**report_data, "rework_of": original.number, "rework": "1"}
    response = client.post(QR_URL, data)
    order = new_order(original)
    assert response.status_code == 302
    link = Rework.objects.get()
    assert (link.original, link.rework, link.source, link.created_by) == (
        original,
        order,
        "warranty",
        None,
    )
    event = order.events.get(code="feedback.rework_linked")
    assert (event.actor, event.channel) == (None, "qr")
    assert event.data == {"original": original.number, "rework": order.number, "source": "warranty"}


def test_unticked_rework_is_not_linked(client, world, original, report_data):
    response = client.post(QR_URL, {**report_data, "rework_of": original.number})
    assert response.status_code == 302
    assert new_order(original).status == Status.SUBMITTED
    assert not Rework.objects.exists()


def test_a_forged_original_is_ignored(client, world, original, report_data):
    elsewhere = world.order(Status.CLOSED, place=make_room("E03-202"))
    older = original
    latest = world.order(Status.CLOSED)  # the candidate now
    for number in (elsewhere.number, older.number, "RH-20990101-0001"):
        response = client.post(
            QR_URL,
            {**report_data, "token": f"tok-{number}", "rework_of": number, "rework": "1"},
        )
        assert response.status_code == 302
    assert WorkOrder.objects.count() == 3 + 3
    assert not Rework.objects.exists()
    client.post(
        QR_URL, {**report_data, "token": "tok-ok", "rework_of": latest.number, "rework": "1"}
    )
    assert Rework.objects.get().original == latest


def test_the_same_token_twice_links_once(client, world, original, report_data):
    data = {**report_data, "rework_of": original.number, "rework": "1"}
    client.post(QR_URL, data)
    client.post(QR_URL, data)
    assert Rework.objects.count() == 1


def test_nothing_is_offered_or_linked_outside_the_warranty(client, world, report_data, settings):
    settings.FEEDBACK_WARRANTY_DAYS = 90
    with time_machine.travel(timezone.now() - dt.timedelta(days=91), tick=False):
        old = world.order(Status.CLOSED)
    html = client.get("/report/rework/", {"place": "E03-201", "category": "lamp"}).content
    assert b"rework_of" not in html
    response = client.post(QR_URL, {**report_data, "rework_of": old.number, "rework": "1"})
    assert response.status_code == 302
    assert new_order(old) and not Rework.objects.exists()


# --- the agent desk ---------------------------------------------------------------------


def test_desk_rework_fragment_offers_the_candidate(agent_client, world, original):
    response = agent_client.get("/desk/rework/", {"place": "E03-201", "category": "lamp"})
    html = response.content.decode()
    assert response.status_code == 200
    assert offer_text(original) in html and TICKED in html
    assert 'hx-get="/desk/rework/"' in html and "#desk-form [name=place]" in html


def test_desk_rework_fragment_is_for_the_desk_only(client, world, original):
    client.force_login(world.reporter)
    assert client.get("/desk/rework/", {"place": "E03-201", "category": "lamp"}).status_code == 403


def test_desk_form_shown_again_offers_the_candidate(agent_client, world, original):
    html = agent_client.post("/desk/", desk_data(description="")).content.decode()
    assert offer_text(original) in html and TICKED in html


def test_desk_ticked_rework_is_linked_by_the_agent(agent_client, world, original):
    data = desk_data(rework_of=original.number, rework="1")
    response = agent_client.post("/desk/", data)
    order = new_order(original)
    assert response["Location"] == f"/desk/?new={order.number}"
    link = Rework.objects.get()
    assert (link.original, link.rework, link.created_by) == (original, order, world.agent)
    event = order.events.get(code="feedback.rework_linked")
    assert (event.actor, event.channel) == (world.agent, "phone")


def test_desk_unticked_or_forged_rework_is_not_linked(agent_client, world, original):
    elsewhere = world.order(Status.CLOSED, place=make_room("E03-202"))
    agent_client.post("/desk/", desk_data(token="d1", rework_of=original.number))
    agent_client.post("/desk/", desk_data(token="d2", rework_of=elsewhere.number, rework="1"))
    assert WorkOrder.objects.count() == 4
    assert not Rework.objects.exists()


def test_desk_offers_nothing_outside_the_warranty(agent_client, world, settings):
    settings.FEEDBACK_WARRANTY_DAYS = 90
    with time_machine.travel(timezone.now() - dt.timedelta(days=91), tick=False):
        old = world.order(Status.CLOSED)
    html = agent_client.get("/desk/rework/", {"place": "E03-201", "category": "lamp"}).content
    assert b"rework_of" not in html
    agent_client.post("/desk/", desk_data(rework_of=old.number, rework="1"))
    assert not Rework.objects.exists()


# --- the order page ---------------------------------------------------------------------


def test_order_page_shows_the_rework_links_to_staff(client, world, original, report_data):
    client.post(QR_URL, {**report_data, "rework_of": original.number, "rework": "1"})
    order = new_order(original)
    client.force_login(world.dispatcher)
    html = client.get(f"/orders/{order.number}/").content.decode()
    assert (
        f'<dt>返修自</dt><dd data-testid="rework-of"><a href="/orders/{original.number}/">'
        f"{original.number}</a></dd>"
    ) in html
    html = client.get(f"/orders/{original.number}/").content.decode()
    assert (
        f'<dt>返修单</dt><dd data-testid="reworks"><a href="/orders/{order.number}/">'
        f"{order.number}</a></dd>"
    ) in html


def test_order_page_without_links_shows_no_block(client, world, original):
    client.force_login(world.dispatcher)
    html = client.get(f"/orders/{original.number}/").content.decode()
    assert "返修自" not in html and "返修单" not in html
