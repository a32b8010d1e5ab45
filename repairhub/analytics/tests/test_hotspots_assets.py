"""Asset hotspots: a registered unit with repeated failures of one category gets its own row
(beside its place's), with the orders behind it and a suggestion for that unit."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.test import Client

from repairhub.accounts.services import issue_token
from repairhub.analytics import hotspots as hot
from repairhub.analytics.periods import Filters
from repairhub.api.tests.conftest import Api
from repairhub.testing.personas import World, make_ac_category, make_asset
from repairhub.workorders.models import Result

from .history import Story, local, tell

pytestmark = pytest.mark.django_db

NOW = local(date(2026, 5, 20), 10)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def fault(world: World, day: date, asset, category, *, result: str = Result.SUCCESS):
    """An order on `asset` reported at 9:00 on `day` and repaired the same morning."""
    tech = world.technician
    params = {"result": result, "note": "处理完毕"}
    if result == Result.FAILED:
        params["suggestion"] = "建议更换压缩机"
    steps = [
        (10, "accept", world.agent, {}),
        (30, "dispatch", world.dispatcher, {"technician": tech}),
        (40, "acknowledge", tech, {}),
        (90, "arrive", tech, {}),
        (300, "complete", tech, params),
    ]
    story = Story(reported=local(day, 9), category=category, asset=asset, steps=steps)
    return tell(story, world)


@pytest.fixture
def scene(world):
    """Room E03-201 has two air conditioners: 2号空调 failed three times (once the repair did
    not succeed), 1号空调 twice, and once before the window."""
    ac = make_ac_category()
    unit = make_asset(
        "E03-201-AC2",
        name="2号空调",
        place=world.room,
        category=ac,
        model="格力 KFR-72LW",
        installed_on=date(2019, 6, 3),
    )
    other = make_asset("E03-201-AC1", name="1号空调", place=world.room, category=ac)
    return {
        "ac": ac,
        "u1": fault(world, date(2026, 3, 5), unit, ac),
        "u2": fault(world, date(2026, 4, 10), unit, ac, result=Result.FAILED),
        "u3": fault(world, date(2026, 5, 10), unit, ac),
        "o1": fault(world, date(2026, 4, 1), other, ac),
        "o2": fault(world, date(2026, 5, 1), other, ac),
        "o_old": fault(world, date(2026, 1, 10), other, ac),
    }


def numbers(*orders) -> list[str]:
    return [o.number for o in orders]


def test_an_asset_with_repeated_failures_is_listed_and_one_below_the_threshold_is_not(
    world, scene, clock
):
    result = hot.hotspots(hot.parse_window(90, 3), Filters())

    (row,) = result["assets"]
    assert row["level"] == "asset"
    assert row["asset"] == {"code": "E03-201-AC2", "name": "2号空调", "model": "格力 KFR-72LW"}
    assert (row["place"]["code"], row["category"]["code"]) == ("E03-201", "ac")
    assert (row["count"], row["failed"], row["reworked"], row["shrinking"]) == (3, 1, 0, False)
    assert row["first"] == local(date(2026, 3, 5), 9) and row["last"] == local(date(2026, 5, 10), 9)
    assert row["mean_interval_days"] == 33.0
    assert row["orders"] == numbers(scene["u1"], scene["u2"], scene["u3"])
    assert row["suggestion"] == (
        "90 天内设备“2号空调”3 次“空调”故障：建议对这台设备做一次预防性检修，"
        "查明根本原因（滤网、制冷剂、排水和电源），而不是再修一次。"
        "其中 1 次维修未成功，建议请技术专家到现场评估。"
        "这台设备已使用 6 年，修理费用接近更换费用时，建议直接更换。"
    )
    assert result["more"] == {"assets": 0, "places": 0, "buildings": 0}

    # The same failures still count at the room, which names its worst asset.
    (room,) = result["places"]
    assert (room["place"]["code"], room["count"]) == ("E03-201", 5)
    assert room["suggestion"].endswith("其中 3 次出在设备“2号空调”上，见设备热点。")

    two = hot.hotspots(hot.parse_window(90, 2), Filters())
    assert [(r["asset"]["code"], r["count"]) for r in two["assets"]] == [
        ("E03-201-AC2", 3),
        ("E03-201-AC1", 2),
    ]


def test_the_page_lists_asset_rows_and_links_each_to_exactly_its_orders(world, scene, clock):
    client = Client()
    client.force_login(world.manager)
    page = client.get("/analytics/hotspots/", {"days": 90, "min_count": 3})

    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="asset-hotspot"' in html and "建议对这台设备做一次预防性检修" in html
    link = page.context["found"]["assets"][0]["url"]
    assert "level=asset" in link and "spot_asset=E03-201-AC2" in link

    orders = client.get(link)
    listed = [o.number for o in orders.context["page"].object_list]
    assert sorted(listed) == sorted(numbers(scene["u1"], scene["u2"], scene["u3"]))
    assert "“2号空调（E03-201-AC2）”的“空调暖通 → 空调”故障" in orders.content.decode()


def test_api_returns_asset_rows_and_refuses_an_unknown_asset_drill_down(world, scene, clock):
    api = Api(Client(), issue_token(world.manager, name="test"))
    body = api.get("/analytics/hotspots", {"days": 90, "min_count": 3}).json()

    assert [(r["asset"]["code"], r["place"]["code"], r["count"]) for r in body["assets"]] == [
        ("E03-201-AC2", "E03-201", 3)
    ]
    assert body["assets"][0]["orders"] == numbers(scene["u1"], scene["u2"], scene["u3"])
    assert body["places"][0]["asset"] is None
    assert body["more"] == {"assets": 0, "places": 0, "buildings": 0}

    client = Client()
    client.force_login(world.manager)
    refused = client.get(
        "/analytics/hotspots/orders/",
        {"level": "asset", "spot_asset": "E03-201-AC9", "spot_category": "ac"},
    )
    assert refused.status_code == 422
    assert "未知的设备编码“E03-201-AC9”，请核对设备上的标签。" in refused.content.decode()
