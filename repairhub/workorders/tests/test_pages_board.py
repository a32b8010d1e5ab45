"""The dispatch board, the technician's list, navigation and start pages."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from repairhub.accounts.context_processors import nav_items
from repairhub.accounts.roles import Role
from repairhub.workorders.lifecycle import apply
from repairhub.workorders.states import Action, Status

pytestmark = pytest.mark.django_db

BOARD = reverse("workorders:dispatch-board")
MINE = reverse("workorders:tech-list")
ROW_RE = re.compile(r'<article class="wo-row" data-number="([^"]+)">')
CARD_RE = re.compile(r'<a class="card order-card wo-card[^"]*" href="/orders/([^/"]+)/">')


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def section(html: str, name: str) -> str:
    start = html.index(f'id="board-{name}"')
    end = html.index("</section>", start)
    return html[start:end]


def rows(html: str, name: str) -> list[str]:
    return ROW_RE.findall(section(html, name))


# --- dispatch board -----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["dispatcher", "admin", "team_lead"])
def test_board_opens_for_dispatch_roles(world, who):
    assert client_for(getattr(world, who)).get(BOARD).status_code == 200


@pytest.mark.parametrize("who", ["agent", "technician", "manager", "reporter", "qc_inspector"])
def test_board_is_refused_to_others(world, who):
    assert client_for(getattr(world, who)).get(BOARD).status_code == 403


def test_board_sections_list_the_right_orders(world):
    waiting_old = world.order(Status.ACCEPTED, urgency="critical")
    waiting_new = world.order(Status.ACCEPTED)
    dispatched = world.order(Status.DISPATCHED)
    on_hold = world.order(Status.ON_HOLD, technician=world.technician2)
    done_ok = world.order(Status.COMPLETED)
    failed = world.order(Status.IN_PROGRESS)
    apply(
        failed,
        Action.COMPLETE,
        by=world.technician,
        params={"result": "failed", "note": "坏了", "suggestion": "换新"},
    )
    reopened = world.order(Status.COMPLETED)
    apply(reopened, Action.REOPEN, by=world.dispatcher, params={"reason": "仍不亮"})
    for action, who, params in (
        (Action.DISPATCH, world.dispatcher, {"technician": world.technician}),
        (Action.ACKNOWLEDGE, world.technician, {}),
        (Action.ARRIVE, world.technician, {}),
        (Action.COMPLETE, world.technician, {"result": "success", "note": "好了"}),
    ):
        apply(reopened, action, by=who, params=params)
    for status in (Status.SUBMITTED, Status.CLOSED, Status.CANCELLED):
        world.order(status)

    html = client_for(world.dispatcher).get(BOARD).content.decode()
    assert rows(html, "waiting") == [waiting_old.number, waiting_new.number]
    assert rows(html, "assigned") == [dispatched.number, on_hold.number]
    assert rows(html, "review") == [failed.number, reopened.number, done_ok.number]
    assert "特急" in section(html, "waiting")
    assert "维修失败" in section(html, "review") and "重开 1 次" in section(html, "review")


def test_board_forms_follow_the_table(world):
    world.order(Status.ACCEPTED)
    world.order(Status.DISPATCHED)
    world.order(Status.COMPLETED)
    html = client_for(world.dispatcher).get(BOARD).content.decode()
    verbs = re.compile(r'action="/orders/[^/"]+/actions/([a-z_]+)/"')
    assert verbs.findall(section(html, "waiting")) == ["dispatch"]
    assert verbs.findall(section(html, "assigned")) == ["reassign"]
    assert verbs.findall(section(html, "review")) == ["close", "reopen"]
    sections = "".join(section(html, name) for name in ("waiting", "assigned", "review"))
    assert sections.count(f'name="next" value="{BOARD}"') == 4
    assert "technician2（在办 0 单）" in section(html, "waiting")


def test_team_lead_sees_only_his_teams_orders_and_team(world):
    mine = world.order(Status.DISPATCHED)  # world.technician is in the lead's team
    world.order(Status.DISPATCHED, technician=world.technician2)
    world.order(Status.ACCEPTED)
    html = client_for(world.team_lead).get(BOARD).content.decode()
    assert rows(html, "waiting") == []
    assert rows(html, "assigned") == [mine.number]
    options = re.findall(r'<option value="([^"]+)">', section(html, "assigned"))
    assert options == ["team_lead"]  # his team, without the current assignee


def test_board_section_refreshes_as_a_fragment(world):
    waiting = world.order(Status.ACCEPTED)
    response = client_for(world.dispatcher).get(
        BOARD, {"section": "waiting"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="card wo-section" id="board-waiting"')
    assert ROW_RE.findall(html) == [waiting.number]
    assert "<html" not in html
    assert 'hx-trigger="every 20s' in html


def test_board_query_count_does_not_grow_with_rows(world, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for status in (Status.ACCEPTED, Status.DISPATCHED, Status.COMPLETED):
        world.order(status)
    client = client_for(world.dispatcher)
    client.get(BOARD)
    with CaptureQueriesContext(connection) as few:
        client.get(BOARD)
    for _ in range(4):
        for status in (Status.ACCEPTED, Status.DISPATCHED, Status.COMPLETED):
            world.order(status)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(BOARD).content.decode()
    assert len(ROW_RE.findall(html)) == 15


# --- technician's list --------------------------------------------------------------------


@pytest.mark.parametrize("who", ["technician", "expert", "team_lead"])
def test_tech_list_opens_for_technicians(world, who):
    assert client_for(getattr(world, who)).get(MINE).status_code == 200


@pytest.mark.parametrize("who", ["dispatcher", "manager", "reporter", "agent"])
def test_tech_list_is_refused_to_others(world, who):
    assert client_for(getattr(world, who)).get(MINE).status_code == 403


def test_tech_list_shows_his_open_orders_as_cards(world):
    a = world.order(Status.DISPATCHED, urgency="high")
    b = world.order(Status.ON_HOLD)
    world.order(Status.COMPLETED)
    world.order(Status.DISPATCHED, technician=world.technician2)
    html = client_for(world.technician).get(MINE).content.decode()
    assert CARD_RE.findall(html) == [a.number, b.number]
    assert "紧急" in html and "东校区 / 3号楼 / 2层 / 201" in html and "等配件" in html


# --- navigation and start pages -------------------------------------------------------------


def labels(roles, path="/"):
    return [(str(i["label"]), i["active"]) for i in nav_items(frozenset(roles), path)]


def test_nav_items_by_role():
    assert [label for label, _ in labels({Role.REPORTER})] == ["我要报修", "我的报修"]
    assert [label for label, _ in labels({Role.AGENT})] == ["值班台", "回访", "投诉", "工单查询"]
    assert [label for label, _ in labels({Role.DISPATCHER})] == [
        "调度台",
        "变更审批",
        "实时地图",
        "派工计划",
        "督办看板",
        "统计分析",
        "工单查询",
    ]
    assert [label for label, _ in labels({Role.TEAM_LEAD, Role.TECHNICIAN})] == [
        "调度台",
        "我的工单",
        "抢单池",
        "实时地图",
        "督办看板",
        "统计分析",
        "督查",
        "工单查询",
    ]
    assert [label for label, _ in labels({Role.TECHNICIAN})] == ["我的工单", "抢单池"]
    assert [label for label, _ in labels({Role.EXPERT})] == ["我的工单", "专家工单"]
    assert [label for label, _ in labels({Role.MANAGER})] == [
        "实时地图",
        "督办看板",
        "统计分析",
        "回访",
        "投诉",
        "质检",
        "督查",
        "上报事项",
        "工单查询",
    ]
    assert [label for label, _ in labels({Role.QC_INSPECTOR})] == ["质检", "督查", "工单查询"]
    assert [label for label, _ in labels({Role.ADMIN})] == [
        "督办看板",
        "统计分析",
        "投诉",
        "工单查询",
    ]
    assert labels({Role.STOREKEEPER}) == []


def test_nav_marks_the_current_page():
    assert labels({Role.DISPATCHER}, BOARD)[0] == ("调度台", True)
    assert labels({Role.DISPATCHER}, "/orders/BX-1/")[-1] == ("工单查询", True)
    assert ("派工计划", True) in labels({Role.DISPATCHER}, "/dispatch/plans/3/")


def test_nav_skips_pages_that_do_not_exist(monkeypatch):
    from repairhub.accounts import context_processors

    monkeypatch.setattr(
        context_processors,
        "NAV_LINKS",
        ((frozenset({Role.REPORTER}), "intake:no-such-page", "x"), *context_processors.NAV_LINKS),
    )
    assert [label for label, _ in labels({Role.REPORTER})] == ["我要报修", "我的报修"]


def test_nav_is_rendered_in_pages(world):
    html = client_for(world.dispatcher).get(BOARD).content.decode()
    assert f'<a href="{BOARD}" class="active">调度台</a>' in html
    assert '<a href="/orders/">工单查询</a>' in html


@pytest.mark.parametrize(
    ("who", "start"),
    [
        ("agent", reverse("intake:desk")),
        ("dispatcher", BOARD),
        ("technician", MINE),
        ("expert", MINE),
        ("team_lead", BOARD),
        ("manager", reverse("workorders:order-list")),
        ("qc_inspector", reverse("workorders:order-list")),
        ("admin", reverse("workorders:order-list")),
        ("reporter", reverse("intake:my-orders")),
    ],
)
def test_home_sends_each_role_to_its_start_page(world, who, start):
    response = client_for(getattr(world, who)).get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == start
