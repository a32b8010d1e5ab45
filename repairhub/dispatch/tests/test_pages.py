"""The dispatch pages through the test client: candidates, automatic dispatch, pool, rebalance."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from repairhub.dispatch.models import DispatchMode, DispatchPolicy, Skill, TechnicianProfile
from repairhub.workorders.lifecycle import apply
from repairhub.workorders.states import Action, Status

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def all_day(user, category, **kw):
    p = TechnicianProfile.objects.create(
        user=user, work_start=dt.time(0), work_end=dt.time(0), **kw
    )
    Skill.objects.create(technician=p, category=category, level=4)
    return p


def test_candidates_page_ranks_and_explains(world):
    all_day(world.technician2, world.category)
    all_day(world.technician, world.category, on_duty=False)
    order = world.order(Status.ACCEPTED)

    page = client_for(world.dispatcher).get(reverse("dispatch:candidates", args=[order.number]))

    assert page.status_code == 200
    html = page.content.decode()
    assert html.index("technician2") < html.index("不在岗")
    assert "按规则自动派工" in html
    assert 'name="technician" value="technician2"' in html


def test_dispatching_from_the_candidate_list_uses_the_lifecycle(world):
    all_day(world.technician2, world.category)
    order = world.order(Status.ACCEPTED)
    response = client_for(world.dispatcher).post(
        reverse("workorders:order-action", args=[order.number, "dispatch"]),
        {"technician": "technician2", "version": order.version},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.assignee) == (Status.DISPATCHED, world.technician2)


def test_the_auto_button_dispatches_and_says_to_whom(world):
    all_day(world.technician2, world.category)
    order = world.order(Status.ACCEPTED)
    c = client_for(world.dispatcher)
    response = c.post(reverse("dispatch:auto", args=[order.number]), follow=True)
    assert "已自动派给" in response.content.decode()
    order.refresh_from_db()
    assert order.assignee == world.technician2
    assert order.events.get(code="workorder.dispatched").data["auto"]["chosen"]["username"] == (
        "technician2"
    )


def test_auto_on_an_order_already_dispatched_is_refused(world):
    order = world.order(Status.DISPATCHED)
    response = client_for(world.dispatcher).post(reverse("dispatch:auto", args=[order.number]))
    assert response.status_code == 409
    order.refresh_from_db()
    assert order.assignee == world.technician


def test_technicians_and_reporters_cannot_see_candidates(world):
    order = world.order(Status.ACCEPTED)
    for user in (world.technician, world.reporter):
        page = client_for(user).get(reverse("dispatch:candidates", args=[order.number]))
        assert page.status_code == 403


def test_pool_page_and_claim(world):
    DispatchPolicy.objects.create(category=world.category, mode=DispatchMode.POOL)
    all_day(world.technician2, world.category)
    order = world.order(Status.SUBMITTED)
    apply(order, Action.ACCEPT, by=world.agent)
    c = client_for(world.technician2)

    page = c.get(reverse("dispatch:pool"))
    assert f'data-number="{order.number}"' in page.content.decode()

    response = c.post(reverse("dispatch:claim", args=[order.number]))
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.assignee) == (Status.ACKNOWLEDGED, world.technician2)
    assert f'data-number="{order.number}"' not in c.get(reverse("dispatch:pool")).content.decode()


def test_a_failed_claim_says_why_and_changes_nothing(world):
    DispatchPolicy.objects.create(category=world.category, mode=DispatchMode.POOL)
    all_day(world.technician2, world.category, on_duty=False)
    order = world.order(Status.SUBMITTED)
    apply(order, Action.ACCEPT, by=world.agent)
    response = client_for(world.technician2).post(
        reverse("dispatch:claim", args=[order.number]), follow=True
    )
    assert "不在岗" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Status.ACCEPTED


def test_team_lead_rebalances_from_the_board(world):
    for user in (world.technician, world.team_lead):
        all_day(user, world.category)
    for _ in range(4):
        world.order(Status.DISPATCHED, technician=world.technician)
    response = client_for(world.team_lead).post(
        reverse("dispatch:rebalance", args=[world.team.code]), follow=True
    )
    assert "已调整 2 张工单" in response.content.decode()


def test_the_board_says_why_an_order_waits_and_links_the_candidates(world):
    DispatchPolicy.objects.create(category=world.category, mode=DispatchMode.AUTO)
    all_day(world.technician2, world.category, on_duty=False)
    order = world.order(Status.SUBMITTED)
    apply(order, Action.ACCEPT, by=world.agent)

    html = client_for(world.dispatcher).get(reverse("workorders:dispatch-board")).content.decode()

    assert "自动派工未成：不在岗（1人）" in html
    assert reverse("dispatch:candidates", args=[order.number]) in html
