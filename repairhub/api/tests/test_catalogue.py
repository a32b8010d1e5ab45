from __future__ import annotations

from repairhub.testing.personas import make_category, make_room


def codes(response) -> list[str]:
    return [item["code"] for item in response.json()["items"]]


def test_anonymous_sees_only_categories_reporters_may_pick(world, anon):
    make_category("meter", name="电表", reporter_selectable=False)
    make_category("old", name="停用", is_active=False)

    r = anon.get("/categories")

    assert r.status_code == 200
    assert codes(r) == ["lamp", "power"]
    assert r.json()["count"] == 2


def test_category_fields(world, anon):
    make_category("leak", name="漏水", default_urgency="high", is_paid=True, auto_accept=True)

    items = {i["code"]: i for i in anon.get("/categories").json()["items"]}

    assert items["leak"] == {
        "code": "leak",
        "name": "漏水",
        "parent": "power",
        "default_urgency": "high",
        "is_paid": True,
        "auto_accept": True,
    }
    assert items["power"]["parent"] is None


def test_staff_see_every_active_category(world, api_as):
    make_category("meter", name="电表", reporter_selectable=False)
    make_category("old", name="停用", is_active=False)

    assert codes(api_as("agent").get("/categories")) == ["lamp", "meter", "power"]
    assert codes(api_as("reporter").get("/categories")) == ["lamp", "power"]


def test_top_level_places_are_campuses(world, anon):
    r = anon.get("/places")

    assert r.json() == {
        "items": [
            {
                "kind": "campus",
                "code": "E",
                "name": "东校区",
                "full_name": "东校区",
                "lat": None,
                "lng": None,
                "has_children": True,
            }
        ],
        "count": 1,
    }


def test_buildings_carry_coordinates(world, anon):
    item = anon.get("/places", {"parent": "E"}).json()["items"][0]

    assert item == {
        "kind": "building",
        "code": "E03",
        "name": "3号楼",
        "full_name": "东校区 / 3号楼",
        "lat": 30.5,
        "lng": 114.4,
        "has_children": True,
    }


def test_rooms_have_no_children(world, anon):
    make_room("E03-202")

    r = anon.get("/places", {"parent": "E03-2F"})

    assert codes(r) == ["E03-201", "E03-202"]
    assert [i["has_children"] for i in r.json()["items"]] == [False, False]
    assert [i["lat"] for i in r.json()["items"]] == [None, None]


def test_unknown_parent_is_404(world, anon):
    r = anon.get("/places", {"parent": "ZZ"})

    assert r.status_code == 404
    assert r.json() == {"code": "unknown_place", "message": "未知的地点编码“ZZ”。"}
