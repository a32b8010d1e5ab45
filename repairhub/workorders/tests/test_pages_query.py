"""The manager's query (IN9): who may use it, each filter, paging, masked phones, query counts."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from repairhub.places.models import Place, PlaceKind
from repairhub.testing.personas import make_category, make_room
from repairhub.workorders.models import Channel
from repairhub.workorders.states import Status

pytestmark = pytest.mark.django_db

URL = reverse("workorders:order-list")
ROW_RE = re.compile(r'<td><a href="/orders/([^/"]+)/">')
SHANGHAI = ZoneInfo("Asia/Shanghai")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def numbers(user, **params) -> list[str]:
    response = client_for(user).get(URL, params)
    assert response.status_code == 200
    return ROW_RE.findall(response.content.decode())


@pytest.mark.parametrize(
    "who", ["manager", "qc_inspector", "admin", "agent", "dispatcher", "team_lead", "technician"]
)
def test_staff_may_open_the_query(world, who):
    assert client_for(getattr(world, who)).get(URL).status_code == 200


@pytest.mark.parametrize("who", ["reporter", "partner"])
def test_reporters_and_partners_are_refused(world, who):
    response = client_for(getattr(world, who)).get(URL)
    assert response.status_code == 403
    assert "您无权访问此页面" in response.content.decode()


def test_anonymous_goes_to_login(world):
    response = Client().get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_list_shows_the_columns_and_a_masked_phone(world):
    order = world.order(Status.DISPATCHED, channel=Channel.PHONE, reporter_phone="13912345678")
    html = client_for(world.manager).get(URL).content.decode()
    assert ROW_RE.findall(html) == [order.number]
    for text in (
        "139****5678",
        "水电 → 灯具",
        "东校区 / 3号楼 / 2层 / 201",
        "普通",
        "已派工",
        "technician",
        "电话报修",
    ):
        assert text in html
    assert "13912345678" not in html


def test_rows_link_to_the_detail_page(world):
    order = world.order()
    html = client_for(world.manager).get(URL).content.decode()
    assert f'href="{reverse("workorders:order-detail", args=[order.number])}"' in html


def test_technician_sees_only_his_orders(world):
    mine = world.order(Status.DISPATCHED)
    world.order(Status.DISPATCHED, technician=world.technician2)
    world.order(Status.ACCEPTED)
    assert numbers(world.technician) == [mine.number]


def test_filter_by_status(world):
    dispatched = world.order(Status.DISPATCHED)
    world.order(Status.ACCEPTED)
    completed = world.order(Status.COMPLETED)
    assert numbers(world.manager, status="dispatched") == [dispatched.number]
    assert numbers(world.manager, status="completed") == [completed.number]


def test_filter_by_category_parent_includes_children(world):
    lamp = world.order()
    socket = world.order(category=make_category("socket", name="插座"))
    door = world.order(
        category=make_category(
            "door", parent=make_category("carpentry", parent=None, name="木工"), name="门窗"
        )
    )
    assert numbers(world.manager, category="socket") == [socket.number]
    assert numbers(world.manager, category="power") == [socket.number, lamp.number]
    assert numbers(world.manager, category="carpentry") == [door.number]


def test_filter_by_place_includes_the_subtree(world):
    room_201 = world.order()
    room_305 = world.order(place=make_room("E03-305"))
    campus = Place.objects.get(code="E")
    other = Place.objects.create(kind=PlaceKind.BUILDING, code="E05", name="5号楼", parent=campus)
    floor = Place.objects.create(kind=PlaceKind.FLOOR, code="E05-1F", name="1层", parent=other)
    room = Place.objects.create(kind=PlaceKind.ROOM, code="E05-101", name="101", parent=floor)
    elsewhere = world.order(place=room)
    assert numbers(world.manager, place="E03") == [room_305.number, room_201.number]
    assert numbers(world.manager, place="E05") == [elsewhere.number]
    assert numbers(world.manager, place="E") == [elsewhere.number, room_305.number, room_201.number]


def test_filter_by_technician(world):
    first = world.order(Status.DISPATCHED)
    second = world.order(Status.DISPATCHED, technician=world.technician2)
    world.order(Status.ACCEPTED)
    assert numbers(world.manager, technician="technician") == [first.number]
    assert numbers(world.manager, technician="technician2") == [second.number]


def test_filter_by_channel(world):
    web = world.order(channel=Channel.WEB)
    phone = world.order(channel=Channel.PHONE)
    assert numbers(world.manager, channel="phone") == [phone.number]
    assert numbers(world.manager, channel="web") == [web.number]


def test_filter_by_number(world):
    world.order()
    second = world.order()
    assert numbers(world.manager, number=second.number) == [second.number]


def test_filter_by_phone_is_exact(world):
    a = world.order(reporter_phone="13911112222")
    world.order(reporter_phone="13911112223")
    assert numbers(world.manager, phone="139-1111-2222") == [a.number]
    assert numbers(world.manager, phone="1391111") == []
    assert numbers(world.manager, phone="not a phone") == []


def test_filter_by_date_range_is_inclusive(world):
    made = {}
    for day in (1, 2, 3, 4):
        # Late in the local evening: the day boundary is the local one.
        with time_machine.travel(dt.datetime(2026, 3, day, 23, 30, tzinfo=SHANGHAI), tick=False):
            made[day] = world.order().number
    assert numbers(world.manager, date_from="2026-03-02", date_to="2026-03-03") == [
        made[3],
        made[2],
    ]
    assert numbers(world.manager, date_from="2026-03-04") == [made[4]]
    assert numbers(world.manager, date_to="2026-03-01") == [made[1]]


def test_filters_combine(world):
    match = world.order(Status.DISPATCHED, channel=Channel.PHONE)
    world.order(Status.DISPATCHED, channel=Channel.WEB)
    world.order(Status.ACCEPTED, channel=Channel.PHONE)
    assert numbers(world.manager, status="dispatched", channel="phone") == [match.number]


def test_reversed_dates_are_an_error(world):
    world.order()
    response = client_for(world.manager).get(
        URL, {"date_from": "2026-03-05", "date_to": "2026-03-01"}
    )
    html = response.content.decode()
    assert "开始日期不能晚于结束日期" in html
    assert ROW_RE.findall(html) == []


def test_pagination_is_fifty_a_page_and_keeps_the_filters(world):
    made = [world.order(channel=Channel.PHONE).number for _ in range(53)]
    world.order(channel=Channel.WEB)
    first = client_for(world.manager).get(URL, {"channel": "phone"}).content.decode()
    assert ROW_RE.findall(first) == made[::-1][:50]
    assert "第 1 / 2 页" in first
    assert 'href="?channel=phone&amp;page=2"' in first
    second = numbers(world.manager, channel="phone", page="2")
    assert second == made[::-1][50:]


def _fill(world, n):
    for i in range(n):
        status = [Status.SUBMITTED, Status.DISPATCHED, Status.COMPLETED][i % 3]
        world.order(status)


def test_query_count_does_not_grow_with_rows(world, django_assert_max_num_queries):
    _fill(world, 3)
    client = client_for(world.manager)
    client.get(URL)  # warm the session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    _fill(world, 30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(URL)
    assert len(ROW_RE.findall(response.content.decode())) == 33
    assert len(few.captured_queries) <= 12
