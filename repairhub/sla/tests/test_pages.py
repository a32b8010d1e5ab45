"""Deadline chips on the staff pages and the supervision board, through the test client."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from repairhub.testing.personas import make_category, make_order
from repairhub.workorders import services as wo
from repairhub.workorders.models import ChangeKind
from repairhub.workorders.states import Status

from .support import at

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def chips(html: str) -> list[tuple[str, str, str]]:
    """(clock, state, text) of every chip on a page."""
    found = re.findall(
        r'<span class="sla-chip sla-(\w+)" data-clock="(\w+)" data-state="\w+"[^>]*>([^<]*)', html
    )
    return [(clock, state, " ".join(text.split())) for state, clock, text in found]


def dispatched(world, urgency="high", technician=None):
    order = make_order(world, Status.SUBMITTED, urgency=urgency)
    wo.accept_order(order, by=world.agent)
    wo.dispatch_order(order, technician=technician or world.technician, by=world.dispatcher)
    return order


# --- chips on lists --------------------------------------------------------------------------


def test_dispatch_board_shows_green_amber_and_red_chips(world, clock):
    order = dispatched(world)  # 09:00: arrive within 30 min, complete within 24 h
    board = client_for(world.dispatcher)

    clock.move_to(at(2025, 10, 14, 9, 5))
    assert chips(board.get(reverse("workorders:dispatch-board")).content.decode()) == [
        ("arrive", "green", "到场 · 剩余 25分"),
        ("complete", "green", "完成 · 剩余 23小时55分"),
    ]
    clock.move_to(at(2025, 10, 14, 9, 25))  # under a quarter of 30 min left
    html = board.get(reverse("workorders:dispatch-board")).content.decode()
    assert ("arrive", "amber", "到场 · 剩余 5分") in chips(html)
    clock.move_to(at(2025, 10, 14, 9, 40))
    html = board.get(reverse("workorders:dispatch-board")).content.decode()
    assert ("arrive", "red", "到场 · 已超时 10分") in chips(html)
    assert order.number in html


def test_a_held_order_shows_its_clock_as_paused(world, clock):
    order = dispatched(world)
    wo.acknowledge_order(order, by=world.technician)
    wo.record_arrival(order, by=world.technician)
    clock.move_to(at(2025, 10, 14, 11, 0))
    wo.hold_order(order, reason="等客户", by=world.technician)
    clock.move_to(at(2025, 10, 15, 11, 0))
    html = client_for(world.technician).get(reverse("workorders:tech-list")).content.decode()
    assert chips(html) == [("complete", "paused", "完成 · 已暂停，剩余 22小时")]


def test_working_hours_chips_count_only_working_time(world, clock):
    clock.move_to(at(2025, 10, 10, 17, 45))  # Friday; accept within 30 working minutes
    order = make_order(world, Status.SUBMITTED, urgency="normal")
    clock.move_to(at(2025, 10, 10, 22, 0))
    html = client_for(world.manager).get(reverse("workorders:order-list")).content.decode()
    # 15 minutes counted on Friday, 15 left for the 调休 Saturday morning.
    assert ("accept", "green", "受理 · 剩余 15分") in chips(html)
    assert order.number in html


def test_finished_orders_show_no_chips(world, clock):
    make_order(world, Status.CANCELLED, urgency="high")
    html = client_for(world.manager).get(reverse("workorders:order-list")).content.decode()
    assert "已取消" in html
    assert chips(html) == []


def sla_queries(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "sla_orderclock" in q["sql"]]


@pytest.mark.parametrize(
    "page", ["workorders:order-list", "workorders:dispatch-board", "workorders:tech-list"]
)
def test_lists_load_all_clocks_in_one_query_per_list(world, clock, page):
    user = world.technician if page == "workorders:tech-list" else world.dispatcher
    client = client_for(user)
    dispatched(world)
    client.get(reverse(page))  # warm the per-process caches
    with CaptureQueriesContext(connection) as one:
        first = client.get(reverse(page)).content.decode()
    for _ in range(4):
        dispatched(world)
    with CaptureQueriesContext(connection) as five:
        html = client.get(reverse(page)).content.decode()

    assert len(chips(first)) == 2
    assert len(chips(html)) == 10
    assert len(sla_queries(one)) == len(sla_queries(five)) == 1
    assert len(five.captured_queries) == len(one.captured_queries)


def test_expert_and_change_queues_show_chips(world, clock):
    order = dispatched(world)
    wo.acknowledge_order(order, by=world.technician)
    wo.record_arrival(order, by=world.technician)
    wo.escalate_order(order, expert=world.expert, reason="复杂线路", by=world.technician)
    wo.request_change(
        order, kind=ChangeKind.MEASURES, reason="换方案", measures="换整套灯具", by=world.technician
    )
    clock.move_to(at(2025, 10, 14, 10, 0))

    expert = client_for(world.expert).get(reverse("workorders:expert-queue")).content.decode()
    changes = client_for(world.dispatcher).get(reverse("workorders:change-queue"))
    assert chips(expert) == [("complete", "green", "完成 · 剩余 23小时")]
    assert chips(changes.content.decode()) == [("complete", "green", "完成 · 剩余 23小时")]


def test_order_page_lists_every_deadline(world, clock):
    order = dispatched(world)
    clock.move_to(at(2025, 10, 14, 9, 20))
    wo.acknowledge_order(order, by=world.technician)
    wo.record_arrival(order, by=world.technician)
    html = (
        client_for(world.dispatcher)
        .get(reverse("workorders:order-detail", args=[order.number]))
        .content.decode()
    )
    assert chips(html) == [
        ("accept", "met", "受理 · 按时"),
        ("arrive", "met", "到场 · 按时"),
        ("complete", "green", "完成 · 剩余 23小时40分"),
    ]
    assert "截止 2025-10-15 09:00" in html


# --- the supervision board -----------------------------------------------------------------


BOARD = "/sla/board/"


def test_board_is_for_managers_team_leads_and_dispatchers(world):
    assert reverse("sla:board") == BOARD
    for user in (world.manager, world.team_lead, world.dispatcher, world.admin):
        assert client_for(user).get(BOARD).status_code == 200, user
    for user in (world.technician, world.reporter, world.agent, world.qc_inspector):
        refused = client_for(user).get(BOARD)
        assert refused.status_code == 403, user
        assert "您无权访问此页面" in refused.content.decode()
    anonymous = Client().get(BOARD)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("accounts:login"))


def board_rows(html: str) -> list[tuple[str, str]]:
    return re.findall(r'data-number="([^"]+)" data-state="(\w+)"', html)


def test_board_lists_overdue_then_at_risk_orders_with_counts(world, clock):
    late_normal = make_order(world, Status.SUBMITTED, urgency="normal")  # accept by 09:30
    late_urgent = dispatched(world, "high")  # arrive by 09:30
    calm = make_order(world, Status.SUBMITTED, urgency="low")  # accept within 2 h
    clock.move_to(at(2025, 10, 14, 9, 35))
    at_risk = make_order(world, Status.SUBMITTED, urgency="critical")  # accept by 09:40
    clock.move_to(at(2025, 10, 14, 9, 39))

    html = client_for(world.manager).get(BOARD).content.decode()
    # Overdue first, the more urgent order first; then at risk.
    assert board_rows(html) == [
        (late_urgent.number, "red"),
        (late_normal.number, "red"),
        (at_risk.number, "amber"),
    ]
    assert calm.number not in html
    assert 'data-count="overdue">2<' in html
    assert 'data-count="at-risk">1<' in html
    assert f'href="/orders/{late_urgent.number}/"' in html
    assert "已超时 9分" in html
    assert 'hx-trigger="every 30s"' in html


def test_board_refreshes_as_a_fragment(world, clock):
    order = dispatched(world)
    clock.move_to(at(2025, 10, 14, 10, 0))
    fragment = client_for(world.dispatcher).get(BOARD, HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith('<section id="sla-board"')
    assert "<html" not in fragment
    assert board_rows(fragment) == [(order.number, "red")]


def test_team_lead_sees_his_team_and_filters_work(world, clock):
    ours = dispatched(world, technician=world.technician)  # in the lead's team
    theirs = dispatched(world, technician=world.technician2)  # no team
    pipes = make_category("pipe", name="水管")
    other_category = make_order(world, Status.SUBMITTED, urgency="high", category=pipes)
    clock.move_to(at(2025, 10, 14, 10, 0))

    lead = client_for(world.team_lead).get(BOARD).content.decode()
    assert [n for n, _ in board_rows(lead)] == [ours.number]

    manager = client_for(world.manager)
    by_team = manager.get(BOARD, {"team": world.team.code}).content.decode()
    assert [n for n, _ in board_rows(by_team)] == [ours.number]
    by_category = manager.get(BOARD, {"category": "pipe"}).content.decode()
    assert [n for n, _ in board_rows(by_category)] == [other_category.number]
    everything = manager.get(BOARD).content.decode()
    assert {n for n, _ in board_rows(everything)} == {
        ours.number,
        theirs.number,
        other_category.number,
    }


def test_board_refuses_an_unknown_team_in_chinese(world, clock):
    dispatched(world)
    clock.move_to(at(2025, 10, 14, 10, 0))
    page = client_for(world.manager).get(BOARD, {"team": "nope"})
    assert page.status_code == 400
    html = page.content.decode()
    assert "没有编码为“nope”的班组" in html
    assert board_rows(html) == []


def test_grab_pool_shows_chips(world, clock):
    from repairhub.dispatch.models import DispatchMode, DispatchPolicy, Skill, TechnicianProfile

    DispatchPolicy.objects.create(category=world.category, mode=DispatchMode.POOL)
    profile = TechnicianProfile.objects.create(user=world.technician)
    Skill.objects.create(technician=profile, category=world.category, level=3)
    order = make_order(world, Status.ACCEPTED, urgency="high")
    clock.move_to(at(2025, 10, 14, 10, 0))
    html = client_for(world.technician).get(reverse("dispatch:pool")).content.decode()
    assert order.number in html
    assert chips(html) == [("complete", "green", "完成 · 剩余 23小时")]
