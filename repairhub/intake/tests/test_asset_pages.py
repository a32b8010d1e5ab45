"""Reports on an asset (IN2): its QR code opens the form with place, asset and category filled
in; the order is stored with both; the rework proposal matches the asset; the desk takes an
asset code."""

from __future__ import annotations

import pytest

from repairhub.feedback.models import Rework
from repairhub.places.models import Asset
from repairhub.testing.personas import make_ac_category, make_asset, make_room
from repairhub.workorders.models import Channel, Event, WorkOrder
from repairhub.workorders.states import Status

from .test_desk_pages import desk_data

pytestmark = pytest.mark.django_db

ASSET_URL = "/r/a/E03-201-AC2"


@pytest.fixture
def ac(world):
    return make_ac_category()


@pytest.fixture
def unit(world, ac):
    """2号空调 in room E03-201, which usually gets 空调 faults."""
    return make_asset("E03-201-AC2", name="2号空调", place=world.room, category=ac)


@pytest.fixture
def asset_report(report_data, ac):
    return {**report_data, "category": ac.code, "description": "空调不制冷"}


def counts() -> tuple[int, int]:
    return WorkOrder.objects.count(), Event.objects.count()


def test_asset_qr_opens_the_form_with_place_asset_and_category_filled_in(client, unit):
    response = client.get(ASSET_URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert "东校区 / 3号楼 / 2层 / 201" in html
    assert '<input type="hidden" name="place" value="E03-201">' in html
    assert "设备：2号空调（E03-201-AC2）" in html
    assert '<input type="hidden" name="asset" value="E03-201-AC2">' in html
    assert '<option value="ac" selected>空调</option>' in html
    assert f'action="{ASSET_URL}"' in html
    # Not this unit: the room's own form, without the asset.
    assert 'href="/r/E03-201" data-testid="asset-clear"' in html
    room_page = client.get("/r/E03-201").content.decode()
    assert 'name="asset"' not in room_page and "设备：" not in room_page


def test_asset_qr_report_stores_the_asset_and_its_place(client, unit, asset_report):
    response = client.post(ASSET_URL, asset_report)
    order = WorkOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/t/{order.tracking_token}?new=1"
    assert (order.channel, order.place, order.asset, order.category.code) == (
        Channel.QR,
        unit.place,
        unit,
        "ac",
    )
    assert order.events.get().data == {
        "channel": "qr",
        "urgency": "normal",
        "category": "ac",
        "place": "E03-201",
        "asset": "E03-201-AC2",
    }
    tracking = client.get(order.tracking_path).content.decode()
    assert "2号空调" in tracking


def test_a_posted_asset_or_place_cannot_replace_the_scanned_one(client, world, unit, asset_report):
    make_asset("E03-202-AC1", name="1号空调", place=make_room("E03-202"))
    client.post(ASSET_URL, {**asset_report, "asset": "E03-202-AC1", "place": "E03-202"})
    order = WorkOrder.objects.get()
    assert (order.asset, order.place) == (unit, world.room)


def test_an_asset_form_with_an_error_keeps_the_asset(client, unit, asset_report):
    response = client.post(ASSET_URL, {**asset_report, "description": ""})
    html = response.content.decode()
    assert response.status_code == 422
    assert "请描述故障情况。" in html
    assert "设备：2号空调（E03-201-AC2）" in html
    assert WorkOrder.objects.count() == 0


@pytest.mark.parametrize("code", ["NOPE-1", "E03-201"])
def test_unknown_asset_qr_is_404(client, unit, code):
    assert client.get(f"/r/a/{code}").status_code == 404


def test_an_asset_taken_out_of_service_is_404_and_nothing_is_written(client, unit, asset_report):
    Asset.objects.filter(pk=unit.pk).update(is_active=False)
    before = counts()
    assert client.get(ASSET_URL).status_code == 404
    assert client.post(ASSET_URL, asset_report).status_code == 404
    assert counts() == before


def test_the_asset_form_offers_the_assets_own_rework_only(client, world, unit, ac, asset_report):
    """A closed repair of another unit in the same room is another repair; this unit's is the
    candidate."""
    other = make_asset("E03-201-AC1", name="1号空调", place=world.room, category=ac)
    neighbour = world.order(Status.CLOSED, category=ac, asset=other)
    assert neighbour.number not in client.get(ASSET_URL).content.decode()

    original = world.order(Status.CLOSED, category=ac, asset=unit)
    html = client.get(ASSET_URL).content.decode()
    assert f'name="rework_of" value="{original.number}"' in html
    fragment = client.get(
        "/report/rework/", {"place": "E03-201", "category": "ac", "asset": "E03-201-AC1"}
    ).content.decode()
    assert neighbour.number in fragment

    client.post(ASSET_URL, {**asset_report, "rework_of": original.number, "rework": "1"})
    link = Rework.objects.get()
    assert (link.original, link.rework.asset) == (original, unit)


# --- the desk ------------------------------------------------------------------------------


@pytest.fixture
def agent_client(client, world):
    client.force_login(world.agent)
    return client


def test_the_desk_registers_an_asset_code_without_a_place(agent_client, world, unit):
    response = agent_client.post("/desk/", desk_data(place="", asset="E03-201-AC2"))
    order = WorkOrder.objects.get()
    assert response.status_code == 302
    assert (order.asset, order.place, order.channel) == (unit, world.room, Channel.PHONE)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"asset": "E03-201-AC9"}, "未知的设备编码“E03-201-AC9”，请核对设备上的标签。"),
        (
            {"asset": "E03-201-AC2", "place": "E03-202"},
            "设备 2号空调（E03-201-AC2） 不在所选地点“东校区 / 3号楼 / 2层 / 202”。",
        ),
    ],
)
def test_the_desk_refuses_a_wrong_asset_code_and_writes_nothing(
    agent_client, world, unit, changes, message
):
    make_room("E03-202")
    before = counts()
    response = agent_client.post("/desk/", desk_data(**changes))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert counts() == before


def test_the_duplicate_hint_on_an_asset_names_that_unit_first_and_not_the_one_beside_it(
    client, world, ac, unit
):
    other = make_asset("E03-201-AC1", name="1号空调", place=world.room, category=ac)
    unnamed = world.order(Status.ACCEPTED, category=ac, description="房间空调漏水")
    this_one = world.order(Status.SUBMITTED, category=ac, asset=unit, description="2号空调不制冷")
    beside = world.order(Status.SUBMITTED, category=ac, asset=other, description="1号空调异响")

    html = client.get(ASSET_URL).content.decode()
    assert "这里已有 2 个相同的报修正在处理" in html
    assert this_one.number in html and unnamed.number in html
    assert beside.number not in html
    assert html.index(this_one.number) < html.index(unnamed.number)  # this unit's order first

    # The fragment the form refreshes when the category changes says the same ...
    fragment = client.get(
        "/report/duplicates/", {"place": "E03-201", "category": "ac", "asset": unit.code}
    ).content.decode()
    assert this_one.number in fragment and unnamed.number in fragment
    assert beside.number not in fragment
    # ... and the room's own form, naming no unit, shows every open 空调 order there.
    room = client.get("/report/duplicates/", {"place": "E03-201", "category": "ac"})
    assert "这里已有 3 个相同的报修正在处理" in room.content.decode()


def test_an_asset_from_another_place_does_not_narrow_the_hint(client, world, ac, unit):
    elsewhere = make_asset("E03-202-AC1", name="202空调", place=make_room("E03-202"), category=ac)
    beside = world.order(Status.SUBMITTED, category=ac, asset=unit)
    fragment = client.get(
        "/report/duplicates/", {"place": "E03-201", "category": "ac", "asset": elsewhere.code}
    ).content.decode()
    assert beside.number in fragment
