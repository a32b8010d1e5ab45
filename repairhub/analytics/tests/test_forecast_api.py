"""The forecast page and /api/v1/analytics/forecast: who may see them, what the page points
at, how bad input is refused, and what a new installation gets."""

from __future__ import annotations

import json
from datetime import date

import pytest
import time_machine
from django.test import Client

from repairhub.accounts.models import Team
from repairhub.accounts.services import issue_token
from repairhub.analytics import forecast as forecasting
from repairhub.analytics.periods import Filters
from repairhub.api.tests.conftest import Api

from .history import local
from .small import repaired

pytestmark = pytest.mark.django_db

NOW = local(date(2026, 5, 20), 10)  # a Wednesday


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def api(user) -> Api:
    return Api(Client(), issue_token(user, name="test"))


def browser(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_a_new_installation_is_told_why_there_is_no_forecast(world, clock):
    repaired(world, date(2026, 5, 4))

    r = api(world.manager).get("/analytics/forecast")

    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["today"], body["weeks"], body["level"]) == ("2026-05-20", 8, 80)
    total, lamp = body["series"]
    assert (total["key"], total["label"], lamp["code"]) == ("total", "全部报修", "power")
    assert total["status"] == "insufficient" and total["forecast"] == []
    assert total["message"] == "历史只有 16 天，至少需要 56 天（8 周）才能预测，暂不预测。"
    assert total["history"] == [
        {"week": "2026-05-04", "count": 1},
        {"week": "2026-05-11", "count": 0},
    ]
    assert body == json.loads(json.dumps(forecasting.forecast(Filters())))


def test_too_few_orders_are_refused_in_words(world, clock, settings):
    settings.ANALYTICS_FORECAST_MIN_DAYS = 14

    repaired(world, date(2026, 5, 4))

    total = forecasting.forecast(Filters())["series"][0]

    assert total["status"] == "insufficient"
    assert total["message"] == "历史中只有 1 张报修单，至少需要 50 张才能预测，暂不预测。"


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"weeks": 0}, "weeks", "预测周数必须是 1 到 12 之间的整数（收到“0”）。"),
        ({"weeks": 13}, "weeks", "预测周数必须是 1 到 12 之间的整数（收到“13”）。"),
        ({"weeks": "many"}, "weeks", "字段 weeks：必须是整数。"),
        (
            {"level": 30},
            "level",
            "预测区间的置信水平必须是 50 到 99 之间的整数百分比（收到“30”）。",
        ),
        ({"category": "nope"}, "category", "未知的报修类别“nope”，请从列表中选择。"),
        ({"place": "X9"}, "place", "未知的报修地点“X9”，请从列表中选择。"),
    ],
)
def test_bad_input_is_refused_in_words(world, clock, params, field, message):
    r = api(world.manager).get("/analytics/forecast", params)

    assert r.status_code == 422
    assert r.json() == {"code": "invalid", "message": message, "field": field}


def test_weeks_follow_the_setting(world, clock, settings):
    settings.ANALYTICS_FORECAST_MAX_WEEKS = 6

    r = api(world.manager).get("/analytics/forecast", {"weeks": 8})

    assert r.status_code == 422
    assert r.json()["message"] == "预测周数必须是 1 到 6 之间的整数（收到“8”）。"


@pytest.mark.parametrize("who", ["reporter", "technician", "agent", "qc_inspector"])
def test_forecast_is_refused_to_other_roles(world, clock, who):
    user = getattr(world, who)

    r = api(user).get("/analytics/forecast")

    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"
    page = browser(user).get("/analytics/forecast/")
    assert page.status_code == 403
    assert "您无权访问此页面。" in page.content.decode()


def test_anonymous_callers_are_turned_away(db, client):
    assert client.get("/api/v1/analytics/forecast").status_code == 401
    page = client.get("/analytics/forecast/")
    assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")


def test_a_team_lead_gets_his_teams_forecast_with_a_warning(world, clock):
    Team.objects.create(code="water-b", name="水暖二班")

    mine = api(world.team_lead).get("/analytics/forecast")
    other = api(world.team_lead).get("/analytics/forecast", {"team": "water-b"})

    assert mine.status_code == 200
    assert mine.json()["notes"] == [
        "班组长看到的预测只含已派给本班组的工单：最近几天的新报修多半还没有派工，"
        "历史末尾和预测会偏低。"
    ]
    assert other.status_code == 403
    assert other.json()["message"] == "班组长只能查看本班组的统计。"


@pytest.mark.parametrize("who", ["manager", "dispatcher", "team_lead", "admin"])
def test_forecast_page_points_its_charts_at_the_api(world, clock, who):
    r = browser(getattr(world, who)).get("/analytics/forecast/", {"weeks": 6, "category": "power"})

    assert r.status_code == 200
    html = r.content.decode()
    config = json.loads(
        html.split('id="forecast-config" type="application/json">')[1].split("<")[0]
    )
    assert config["api"] == "/api/v1/analytics/forecast?category=power&weeks=6&level=80"
    # History weeks drill down to their orders: the 26 weeks before this one, by week.
    assert config["drill"] == (
        "/analytics/orders/?category=power&start=2025-11-17&end=2026-05-17&grain=week"
        "&figure=reported"
    )
    assert "vendor/echarts.min.js" in html and "analytics/forecast.js" in html
    assert '<option value="6" selected>6 周</option>' in html


def test_forecast_page_refuses_bad_input_in_words(world, clock):
    r = browser(world.manager).get("/analytics/forecast/", {"weeks": 20})

    assert r.status_code == 422
    assert "预测周数必须是 1 到 12 之间的整数（收到“20”）。" in r.content.decode()
    assert "forecast-config" not in r.content.decode()


def test_the_forecast_is_cached_for_the_day(world, clock, django_assert_max_num_queries):
    first = forecasting.forecast(Filters(), weeks=4)
    repaired(world, date(2026, 5, 19))

    with django_assert_max_num_queries(2):  # the cache look-up only
        again = forecasting.forecast(Filters(), weeks=4)

    assert again == first
