"""The analytics pages: who may open them, what they show, how they refuse bad input."""

from __future__ import annotations

import json
from datetime import date

import pytest
import time_machine
from django.test import Client

from repairhub.accounts.models import Team
from repairhub.accounts.roles import Role
from repairhub.testing.personas import make_user

from .history import local
from .small import repaired, waiting

pytestmark = pytest.mark.django_db

NOW = local(date(2026, 5, 20), 10)
PERIOD = {"start": "2026-05-01", "end": "2026-05-19"}
PAGES = ["/analytics/", "/analytics/rankings/", "/analytics/workload/", "/analytics/orders/"]


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def browser(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.mark.parametrize("who", ["reporter", "technician", "agent", "qc_inspector"])
def test_pages_refuse_people_without_an_analytics_role(world, clock, who):
    for url in [*PAGES, "/analytics/appraisals/", "/analytics/appraisals/2026-04/"]:
        r = browser(getattr(world, who)).get(url, PERIOD)

        assert r.status_code == 403, url
        assert "您无权访问此页面。" in r.content.decode()


def test_pages_send_anonymous_visitors_to_login(db, client):
    r = client.get("/analytics/")

    assert r.status_code == 302
    assert r["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("who", ["manager", "dispatcher", "team_lead", "admin"])
def test_pages_open_for_managers_dispatchers_leads_and_admins(world, clock, who):
    repaired(world)
    for url in PAGES:
        assert browser(getattr(world, who)).get(url, PERIOD).status_code == 200, url


def test_dashboard_page_points_its_charts_at_the_api_with_the_chosen_scope(world, clock):
    r = browser(world.manager).get("/analytics/", {**PERIOD, "grain": "week", "split": "channel"})

    html = r.content.decode()
    config = json.loads(
        html.split('id="analytics-config" type="application/json">')[1].split("<")[0]
    )
    assert config["api"] == (
        "/api/v1/analytics/dashboard?start=2026-05-01&end=2026-05-19&grain=week&split=channel"
    )
    assert config["drill"] == "/analytics/orders/?start=2026-05-01&end=2026-05-19&grain=week"
    assert "vendor/echarts.min.js" in html
    assert 'value="2026-05-01"' in html


def test_dashboard_page_defaults_to_the_last_30_days(world, clock):
    html = browser(world.manager).get("/analytics/").content.decode()

    assert "start=2026-04-21&amp;end=2026-05-20&amp;grain=day" in html or (
        "start=2026-04-21\\u0026end=2026-05-20\\u0026grain=day" in html
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2026-13-01"}, "日期格式不正确，请使用 YYYY-MM-DD，例如 2026-05-01。"),
        ({"start": "2026-05-10", "end": "2026-05-01"}, "开始日期不能晚于结束日期。"),
        ({"category": "nope"}, "未知的报修类别“nope”，请从列表中选择。"),
        ({"team": "ghosts"}, "未知的班组“ghosts”。"),
        (
            {"start": "2024-01-01", "end": "2026-05-01", "grain": "day"},
            "按日统计最多 366 天，请缩短时段或改用更粗的粒度。",
        ),
    ],
)
def test_dashboard_page_explains_bad_input_and_draws_nothing(world, clock, params, message):
    r = browser(world.manager).get("/analytics/", params)

    html = r.content.decode()
    assert r.status_code == 200
    assert message in html
    assert "analytics-config" not in html


def test_team_lead_sees_only_his_team_and_is_refused_another(world, clock):
    repaired(world, technician=world.technician)  # his team
    repaired(world, technician=world.technician2)  # no team
    other = Team.objects.create(code="other", name="别的班")
    lead = browser(world.team_lead)

    mine = lead.get("/analytics/orders/", {**PERIOD, "figure": "completed"})
    refused = lead.get("/analytics/", {**PERIOD, "team": other.code})

    assert mine.content.decode().count("/orders/BX-") == 1
    assert refused.status_code == 403
    assert "班组长只能查看本班组的统计。" in refused.content.decode()


def test_drill_down_lists_the_orders_behind_a_figure(world, clock):
    good = repaired(world, rating=5)
    bad = repaired(world, rating=2, result="failed")
    open_order = waiting(world)
    manager = browser(world.manager)

    completed = manager.get(
        "/analytics/orders/", {**PERIOD, "figure": "completed"}
    ).content.decode()
    failed = manager.get(
        "/analytics/orders/", {**PERIOD, "figure": "completed", "flag": "failed"}
    ).content.decode()
    backlog = manager.get(
        "/analytics/orders/", {**PERIOD, "figure": "backlog", "dim": "status", "key": "submitted"}
    ).content.decode()

    assert good.number in completed and bad.number in completed
    assert open_order.number not in completed
    assert bad.number in failed and good.number not in failed
    assert open_order.number in backlog and good.number not in backlog
    # The order query page can show the backlog list by state: offered as a link.
    assert "/orders/?status=submitted" in backlog


def test_drill_down_refuses_unknown_parts(world, clock):
    r = browser(world.manager).get("/analytics/orders/", {**PERIOD, "figure": "everything"})

    assert r.status_code == 422
    assert "下钻参数 figure 不正确。" in r.content.decode()


def test_rankings_page_lists_people_apart_below_the_minimum(world, clock, settings):
    settings.ANALYTICS_MIN_ORDERS = 2
    repaired(world, technician=world.technician, hours=3)
    repaired(world, technician=world.technician, hours=5)
    repaired(world, technician=world.technician2, hours=1)

    html = browser(world.manager).get("/analytics/rankings/", PERIOD).content.decode()

    ranked, apart = html.split("样本不足（不排名）", 1)[0], html.split("样本不足（不排名）", 1)[1]
    assert "technician2" not in ranked.split("rank-dispatch")[0]
    assert "technician2：" in apart.split("</ul>")[0]
    assert '<td class="an-rank">1</td><th scope="row">technician</th>' in html


def test_workload_page_shows_agents_and_technicians(world, clock):
    repaired(world, channel="phone")
    repaired(world, channel="walk_in", result="failed", rating=None)

    html = browser(world.dispatcher).get("/analytics/workload/", PERIOD).content.decode()

    assert f'figure=registered&amp;dim=agent&amp;key={world.agent.pk}">2</a>' in html
    assert "50.0%" in html  # one of two settled calls succeeded at first contact


def test_a_reporter_made_team_lead_of_nothing_sees_an_empty_scope(world, clock):
    lead = make_user("lonely_lead", Role.TEAM_LEAD)
    repaired(world)

    r = browser(lead).get("/analytics/orders/", {**PERIOD, "figure": "completed"})

    assert r.status_code == 200
    assert "/orders/BX-" not in r.content.decode()
