"""Hotspots: places (and their buildings) where the same category keeps failing, the orders
behind each row, the suggestion, who may see them and how bad input is refused."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from django.test import Client

from repairhub.accounts.models import Team
from repairhub.accounts.services import issue_token
from repairhub.analytics import hotspots as hot
from repairhub.analytics.periods import Filters
from repairhub.api.tests.conftest import Api
from repairhub.places.models import PlaceKind
from repairhub.places.services import create_place
from repairhub.testing.personas import World, make_category, make_room
from repairhub.workorders.models import Category, Result

from .history import Story, local, tell

pytestmark = pytest.mark.django_db

NOW = local(date(2026, 5, 20), 10)
TODAY = date(2026, 5, 20)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def fault(world: World, day: date, place, category, *, fate: str = "success", tech=None):
    """An order reported at 9:00 on `day`: repaired ("success", "failed", "reopened" — repaired,
    then reopened by the dispatcher), "cancelled" or "rejected"."""
    tech = tech or world.technician
    if fate == "cancelled":
        steps = [(10, "cancel", world.agent, {"reason": "重复报修"})]
    elif fate == "rejected":
        steps = [(10, "reject", world.agent, {"reason": "不属于维修范围"})]
    else:
        result = Result.FAILED if fate == "failed" else Result.SUCCESS
        params = {"result": result, "note": "处理完毕"}
        if result == Result.FAILED:
            params["suggestion"] = "建议更换"
        steps = [
            (10, "accept", world.agent, {}),
            (30, "dispatch", world.dispatcher, {"technician": tech}),
            (40, "acknowledge", tech, {}),
            (90, "arrive", tech, {}),
            (300, "complete", tech, params),
        ]
        if fate == "reopened":
            steps.append((600, "reopen", world.dispatcher, {"reason": "仍然不亮"}))
    story = Story(reported=local(day, 9), category=category, place=place, steps=steps)
    return tell(story, world)


@pytest.fixture
def scene(world):
    """Room E03-201: four lamp failures at shrinking intervals (one failed repair, one
    reopened), plus a cancelled and a rejected report and one before the window. E03-305 and
    E03-306: three more lamp failures in the same building. W01-101: three pipe failures a
    month apart, repaired by a technician outside the team. Three lamp reports with only an
    address."""
    lamp = world.category
    water = Category.objects.create(code="water", name="给排水")
    pipe = make_category("pipe", parent=water, name="水管")
    room_a, room_b, room_c = world.room, make_room("E03-305"), make_room("E03-306")
    west = create_place(kind=PlaceKind.CAMPUS, code="W", name="西校区")
    w01 = create_place(kind=PlaceKind.BUILDING, code="W01", name="1号楼", parent=west)
    floor = create_place(kind=PlaceKind.FLOOR, code="W01-1F", name="1层", parent=w01)
    room_w = create_place(kind=PlaceKind.ROOM, code="W01-101", name="101", parent=floor)
    o = {}
    o["a1"] = fault(world, date(2026, 3, 2), room_a, lamp)
    o["a2"] = fault(world, date(2026, 4, 1), room_a, lamp, fate="failed")
    o["a3"] = fault(world, date(2026, 4, 21), room_a, lamp, fate="reopened")
    o["a4"] = fault(world, date(2026, 5, 1), room_a, lamp)
    o["a_cancelled"] = fault(world, date(2026, 5, 5), room_a, lamp, fate="cancelled")
    o["a_rejected"] = fault(world, date(2026, 5, 6), room_a, lamp, fate="rejected")
    o["a_old"] = fault(world, date(2026, 1, 10), room_a, lamp)
    o["b1"] = fault(world, date(2026, 4, 10), room_b, lamp)
    o["b2"] = fault(world, date(2026, 5, 12), room_b, lamp)
    o["c1"] = fault(world, date(2026, 5, 15), room_c, lamp)
    for i, day in enumerate([date(2026, 3, 10), date(2026, 4, 9), date(2026, 5, 9)]):
        o[f"w{i + 1}"] = fault(world, day, room_w, pipe, tech=world.technician2)
    for day in (date(2026, 4, 2), date(2026, 4, 3), date(2026, 4, 4)):
        fault(world, day, None, lamp)
    return o


def numbers(*orders) -> list[str]:
    return [o.number for o in orders]


def at(day: date) -> datetime:
    return local(day, 9)


def test_places_and_buildings_with_repeated_failures_are_ranked_with_their_pattern(
    world, scene, clock
):
    result = hot.hotspots(hot.parse_window(90, 3), Filters())

    assert result["window"] == {
        "start": "2026-02-20",
        "end": "2026-05-20",
        "days": 90,
        "min_count": 3,
    }
    assert result["failures"] == 4 + 2 + 1 + 3
    room, pipe = result["places"]
    assert (room["place"]["code"], room["category"]["code"]) == ("E03-201", "lamp")
    assert (room["count"], room["failed"], room["reworked"]) == (4, 1, 1)
    assert room["first"] == at(date(2026, 3, 2)) and room["last"] == at(date(2026, 5, 1))
    assert room["mean_interval_days"] == 20.0  # 60 days over three intervals
    assert room["shrinking"] is True  # 30, 20, then 10 days
    assert room["orders"] == numbers(scene["a1"], scene["a2"], scene["a3"], scene["a4"])
    assert room["suggestion"] == (
        "90 天内同一处 4 次“灯具”故障：建议安排一次预防性检查，查明根本原因"
        "（线路、开关、镇流器和供电电压），而不是再修一次、再换一次。"
        "其中 1 次维修未成功，建议请技术专家到现场评估。"
        "1 张工单修后又重新打开过，说明上次的修复没有解决问题。"
        "故障间隔越来越短，设备可能已接近使用寿命，建议评估整体更换。"
        "同楼多处出现同类故障，见下方楼宇汇总。"
    )
    assert (pipe["place"]["code"], pipe["count"], pipe["mean_interval_days"]) == (
        "W01-101",
        3,
        30.0,
    )
    assert pipe["shrinking"] is False
    assert pipe["suggestion"] == (
        "90 天内同一处 3 次“水管”故障：建议安排一次预防性检查，查明根本原因"
        "（水压、阀门、管道老化和排水坡度），而不是再修一次、再换一次。"
    )
    (building,) = result["buildings"]  # W01 has one place only: no roll-up row
    assert (building["place"]["code"], building["category"]["code"]) == ("E03", "lamp")
    assert (building["count"], building["places"], building["widespread"]) == (7, 3, True)
    assert building["mean_interval_days"] == round(74 / 6, 1)
    assert [(p["code"], p["count"]) for p in building["top_places"]] == [
        ("E03-201", 4),
        ("E03-305", 2),
        ("E03-306", 1),
    ]
    assert building["suggestion"] == (
        "东校区 / 3号楼 有 3 处在 90 天内共出现 7 次“灯具”故障，分布较广，更像是整栋楼的系统问题："
        "建议对该楼的相关设施（线路、开关、镇流器和供电电压）安排一次计划巡检。"
    )


def test_a_building_concentrated_in_one_room_points_at_the_room(world, scene, clock, settings):
    settings.ANALYTICS_HOTSPOT_SPREAD = 4

    (building,) = hot.hotspots(hot.parse_window(90, 3), Filters())["buildings"]

    assert building["widespread"] is False
    assert building["suggestion"] == (
        "东校区 / 3号楼 的 7 次“灯具”故障集中在 3 处（最多的是 东校区 / 3号楼 / 2层 / 201）："
        "建议先逐处查明原因。"
    )
    room = hot.hotspots(hot.parse_window(90, 3), Filters())["places"][0]
    assert "见下方楼宇汇总" not in room["suggestion"]


def test_the_threshold_and_the_window_decide_what_is_listed(world, scene, clock):
    four = hot.hotspots(hot.parse_window(90, 4), Filters())
    assert [(r["place"]["code"], r["count"]) for r in four["places"]] == [("E03-201", 4)]
    assert [(r["place"]["code"], r["count"]) for r in four["buildings"]] == [("E03", 7)]

    # The 30 days up to 12 May: a3 and a4 in E03-201, b2 in E03-305, w3 alone at W01-101.
    month = hot.hotspots(hot.parse_window(30, 2, "2026-05-12"), Filters())
    assert [(r["place"]["code"], r["count"]) for r in month["places"]] == [("E03-201", 2)]
    assert [(r["place"]["code"], r["count"], r["places"]) for r in month["buildings"]] == [
        ("E03", 3, 2)
    ]


def test_a_category_filter_keeps_its_own_hotspots(world, scene, clock):
    water = Filters(category=Category.objects.get(code="water"))

    result = hot.hotspots(hot.parse_window(90, 3), water)

    assert [r["category"]["code"] for r in result["places"]] == ["pipe"]
    assert result["buildings"] == []


def api(user) -> Api:
    return Api(Client(), issue_token(user, name="test"))


def browser(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_api_returns_the_service_figures(world, scene, clock):
    r = api(world.manager).get("/analytics/hotspots", {"days": 90, "min_count": 3})

    assert r.status_code == 200, r.content
    body = r.json()
    assert [(p["place"]["code"], p["count"]) for p in body["places"]] == [
        ("E03-201", 4),
        ("W01-101", 3),
    ]
    assert body["places"][0]["last"] == "2026-05-01T09:00:00+08:00"
    assert body["places"][0]["orders"] == numbers(
        scene["a1"], scene["a2"], scene["a3"], scene["a4"]
    )
    assert body["buildings"][0]["top_places"][0] == {
        "code": "E03-201",
        "name": "东校区 / 3号楼 / 2层 / 201",
        "kind": "room",
        "count": 4,
    }


def test_hotspot_page_links_each_row_to_exactly_its_orders(world, scene, clock):
    client = browser(world.manager)
    page = client.get("/analytics/hotspots/", {"days": 90, "min_count": 3})

    assert page.status_code == 200
    html = page.content.decode()
    assert "建议安排一次预防性检查" in html and "vendor/echarts.min.js" in html
    room_link = page.context["found"]["places"][0]["url"]
    building_link = page.context["found"]["buildings"][0]["url"]
    assert room_link.startswith("/analytics/hotspots/orders/?")

    room = client.get(room_link)
    listed = [o.number for o in room.context["page"].object_list]
    assert sorted(listed) == sorted(numbers(scene["a1"], scene["a2"], scene["a3"], scene["a4"]))
    building = client.get(building_link)
    listed = [o.number for o in building.context["page"].object_list]
    want = ["a1", "a2", "a3", "a4", "b1", "b2", "c1"]
    assert sorted(listed) == sorted(numbers(*(scene[k] for k in want)))
    assert "共 7 张" in building.content.decode()


def test_a_team_lead_sees_only_his_teams_failures(world, scene, clock):
    r = api(world.team_lead).get("/analytics/hotspots", {"days": 90, "min_count": 3})

    assert r.status_code == 200
    # W01-101's pipes were repaired by a technician outside his team, and the reopened lamp
    # order has no technician now: his team's figures count orders its members hold.
    assert [(p["place"]["code"], p["count"]) for p in r.json()["places"]] == [("E03-201", 3)]
    Team.objects.create(code="water-b", name="水暖二班")
    refused = api(world.team_lead).get("/analytics/hotspots", {"team": "water-b"})
    assert refused.status_code == 403
    assert refused.json()["message"] == "班组长只能查看本班组的统计。"


@pytest.mark.parametrize("who", ["reporter", "technician", "agent", "qc_inspector"])
def test_hotspots_are_refused_to_other_roles(world, clock, who):
    user = getattr(world, who)
    r = api(user).get("/analytics/hotspots")
    assert r.status_code == 403
    assert r.json()["message"] == "只有主管、调度员、班组长和管理员可以查看统计分析。"
    for url in ("/analytics/hotspots/", "/analytics/hotspots/orders/"):
        page = browser(user).get(url)
        assert page.status_code == 403
        assert "您无权访问此页面。" in page.content.decode()


def test_anonymous_callers_are_turned_away(db, client):
    assert client.get("/api/v1/analytics/hotspots").status_code == 401
    page = client.get("/analytics/hotspots/")
    assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"days": 3}, "days", "统计窗口必须是 7 到 366 天之间的整数（收到“3”）。"),
        ({"days": 400}, "days", "统计窗口必须是 7 到 366 天之间的整数（收到“400”）。"),
        ({"min_count": 1}, "min_count", "重复次数阈值必须是 2 到 100 之间的整数（收到“1”）。"),
        ({"end": "2026-06-01"}, "end", "统计窗口的结束日期不能晚于今天。"),
        (
            {"end": "2026-13-01"},
            "end",
            "字段 end：日期格式不正确，请使用 YYYY-MM-DD，例如 2026-05-01。",
        ),
        ({"category": "nope"}, "category", "未知的报修类别“nope”，请从列表中选择。"),
        ({"days": "x"}, "days", "字段 days：必须是整数。"),
    ],
)
def test_bad_input_is_refused_in_words(world, clock, params, field, message):
    r = api(world.manager).get("/analytics/hotspots", params)

    assert r.status_code == 422
    assert r.json() == {"code": "invalid", "message": message, "field": field}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"days": 3}, "统计窗口必须是 7 到 366 天之间的整数（收到“3”）。"),
        ({"end": "2026-13-01"}, "日期格式不正确，请使用 YYYY-MM-DD，例如 2026-05-01。"),
        ({"min_count": "abc"}, "重复次数阈值必须是 2 到 100 之间的整数（收到“abc”）。"),
    ],
)
def test_hotspot_page_refuses_bad_input_in_words(world, clock, params, message):
    r = browser(world.manager).get("/analytics/hotspots/", params)

    assert r.status_code == 422
    assert message in r.content.decode()
    assert "found" not in r.context


def test_hotspot_orders_page_refuses_an_unknown_place(world, clock):
    r = browser(world.manager).get(
        "/analytics/hotspots/orders/",
        {"level": "building", "spot_place": "E03-201", "spot_category": "lamp"},
    )

    assert r.status_code == 422
    assert "“东校区 / 3号楼 / 2层 / 201”不是楼宇。" in r.content.decode()
