"""The panel 回访与质量 on the staff order page: the reporter's rating (or the automatic
confirmation), the follow-up visits and referrals, the quality checks and the complaints the
viewer may see — through the page, set up with the real services."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from repairhub.feedback import services, tasks
from repairhub.feedback.models import Complaint, QcCheck, SamplingRule
from repairhub.testing.personas import make_category, make_world
from repairhub.workorders.models import WorkOrder
from repairhub.workorders.states import Status
from repairhub.workorders.walks import walk_to

from .conftest import GOOD, desk_order, link, photo

pytestmark = pytest.mark.django_db
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
JOINED = dt.datetime(2025, 1, 6, 9, 0, tzinfo=SHANGHAI)
MAY = dt.datetime(2026, 5, 12, 10, 0, tzinfo=SHANGHAI)  # a Tuesday: the visit is due Thursday
JUNE = dt.datetime(2026, 6, 2, 9, 0, tzinfo=SHANGHAI)
JULY = dt.datetime(2026, 7, 2, 9, 0, tzinfo=SHANGHAI)
RATED = {
    **GOOD,
    "agent_attitude": 5,
    "agent_response": 3,
    "agent_handling": 4,
    "price_transparency": 2,
}
AGENT_RATED = {name: score for name, score in RATED.items() if name != "price_transparency"}
COMPLAINANT = ("赵六", "13800007777")

PANEL = 'data-testid="feedback-panel"'
SCORE_RE = re.compile(r'data-dim="(\w+)" data-score="(\d)"')
VISIT_RE = re.compile(
    r'data-testid="visit" data-reached="(\w*)" data-fixed="(\w*)" data-satisfied="(\w*)"'
)
REFERRAL_RE = re.compile(r'data-testid="referral" data-status="(\w+)"')
CHECK_RE = re.compile(r'data-testid="check" data-status="(\w+)"')
COMPLAINT_RE = re.compile(r'data-testid="complaint-([\w-]+)"')


@pytest.fixture
def world(db):
    """The personas, hired long before May: their work is drawn at random, not as a newcomer's."""
    with time_machine.travel(JOINED, tick=False):
        return make_world()


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def order_page(user, order, at: dt.datetime = JULY) -> str:
    with time_machine.travel(at, tick=False):
        response = client_for(user).get(reverse("workorders:order-detail", args=[order.number]))
    assert response.status_code == 200
    return response.content.decode()


def panel_of(html: str) -> str:
    """The panel's markup ("" when the page has none); it is the last part of the summary."""
    start = html.find(PANEL)
    return "" if start == -1 else html[start : html.index("</section>", start)]


def complain(world, order, *, name: str = COMPLAINANT[0], phone: str = COMPLAINANT[1], **kw):
    return services.register_complaint(
        channel="phone",
        category="repair",
        description="水龙头修完还在滴水，师傅态度也不好",
        complainant_name=name,
        complainant_phone=phone,
        order=order,
        by=world.agent,
        **kw,
    )


def draw(world, start: dt.date, end: dt.date) -> None:
    services.draw_sample(start=start, end=end, by=world.qc_inspector)


@dataclass
class Loop:
    order: WorkOrder
    complaints: list[Complaint]
    check: QcCheck


@pytest.fixture
def loop(world, departments) -> Loop:
    """A paid repair registered on the phone, rated, visited twice (the second call finds it
    still broken: a referral), complained about twice (the second is a repeat) and failed by
    a quality check after it was closed (a new rework order, a penalty)."""
    SamplingRule.objects.create(target_percent=Decimal("100"))
    paid = make_category("tap", name="水龙头", is_paid=True)
    with time_machine.travel(MAY, tick=False):
        order = desk_order(world, Status.COMPLETED, category=paid)
    with time_machine.travel(MAY + dt.timedelta(hours=1), tick=False):
        services.rate_order(order, by=link(order), scores=RATED, comment="师傅很细心")
    with time_machine.travel(MAY + dt.timedelta(days=5), tick=False):
        services.record_visit(order, by=world.agent, reached=False)
    with time_machine.travel(MAY + dt.timedelta(days=6), tick=False):
        services.record_visit(
            order, by=world.agent, reached=True, fixed=False, satisfied=False, notes="还在滴水"
        )
    with time_machine.travel(MAY + dt.timedelta(days=7), tick=False):
        first = complain(world, order, person=world.technician)
    with time_machine.travel(MAY + dt.timedelta(days=8), tick=False):
        second = complain(world, order, name="钱七", phone="13800008888")
    with time_machine.travel(JUNE, tick=False):
        draw(world, dt.date(2026, 5, 1), dt.date(2026, 6, 1))
        check = QcCheck.objects.get(order=order)
        services.record_check(
            check, by=world.qc_inspector, passed=False, note="阀芯没换", photos=[photo()]
        )
    order.refresh_from_db()
    check.refresh_from_db()
    return Loop(order, [first, second], check)


# --- what each section says ---------------------------------------------------------------------


def test_rating_shows_every_dimension_the_reporter_gave(loop, world):
    panel = panel_of(order_page(world.manager, loop.order))

    assert dict(SCORE_RE.findall(panel)) == {
        "timeliness": "5",
        "quality": "4",
        "attitude": "4",
        "result": "4",
        "agent_attitude": "5",
        "agent_response": "3",
        "agent_handling": "4",
        "price_transparency": "2",
        "overall": "4",
    }
    assert "值班员响应速度" in panel and "收费透明" in panel
    assert "师傅很细心" in panel
    assert "2026-05-12 11:00" in panel
    assert "自动确认" not in panel


def test_a_web_report_on_a_free_category_shows_only_the_technicians_scores(world):
    with time_machine.travel(MAY, tick=False):
        order = world.order(Status.COMPLETED, reporter=world.reporter)
        services.rate_order(order, by=world.reporter, scores=GOOD)

    panel = panel_of(order_page(world.manager, order))

    assert dict(SCORE_RE.findall(panel)) == {
        "timeliness": "5",
        "quality": "4",
        "attitude": "4",
        "result": "4",
        "overall": "4",
    }


def test_follow_up_shows_each_visit_and_the_referral(loop, world):
    panel = panel_of(order_page(world.manager, loop.order))

    assert 'data-testid="follow-up" data-status="done"' in panel
    assert VISIT_RE.findall(panel) == [("no", "", ""), ("yes", "no", "no")]
    assert "还在滴水" in panel and "agent 回访" in panel
    assert REFERRAL_RE.findall(panel) == ["open"]
    assert "回访时报修人反映问题仍未解决。还在滴水" in panel
    assert f'href="{reverse("feedback:referrals")}"' in panel  # the manager closes it there


def test_a_closed_referral_shows_what_was_done(loop, world):
    referral = loop.order.referrals.get()
    with time_machine.travel(JUNE + dt.timedelta(days=1), tick=False):
        services.close_referral(referral, by=world.manager, action="已更换阀芯")

    panel = panel_of(order_page(world.manager, loop.order))

    assert REFERRAL_RE.findall(panel) == ["closed"]
    assert "manager 于 2026-06-03 09:00 处理：已更换阀芯" in panel
    assert 'data-testid="referrals-link"' not in panel


def test_a_visit_not_yet_due_then_due_with_the_queue_link_for_agents(world):
    with time_machine.travel(MAY, tick=False):
        order = world.order(Status.COMPLETED)
    wednesday, friday = MAY + dt.timedelta(days=1), MAY + dt.timedelta(days=3)

    early = panel_of(order_page(world.agent, order, at=wednesday))
    due = panel_of(order_page(world.agent, order, at=friday))
    technician = panel_of(order_page(world.technician, order, at=friday))

    assert "2026-05-14 10:00 起回访" in early
    assert 'data-testid="visit-queue-link"' not in early
    assert "已到回访时间（2026-05-14 10:00 起）" in due
    assert f'href="{reverse("feedback:visit-queue")}"' in due
    assert "已到回访时间" in technician and 'data-testid="visit-queue-link"' not in technician
    assert 'data-testid="not-sampled"' in due  # completed, no draw has picked it
    assert SCORE_RE.findall(due) == []


def test_quality_check_shows_the_verdict_photos_penalty_and_rework(loop, world):
    rework = loop.check.rework_order
    panel = panel_of(order_page(world.manager, loop.order))

    assert CHECK_RE.findall(panel) == ["failed"]
    assert "qc_inspector" in panel and "2026-06-02 09:00" in panel
    assert "阀芯没换" in panel
    assert 'data-photos="1"' in panel
    assert 'data-penalty="1"' in panel and "technician 扣 1 分" in panel
    assert rework is not None and rework.pk != loop.order.pk
    assert f'href="{reverse("workorders:order-detail", args=[rework.number])}"' in panel
    assert "随机抽取" in panel
    assert "2026-05-01 至 2026-06-01 前的抽样" in panel


def test_check_links_go_where_the_viewer_may_open_them(loop, world):
    check_page = reverse("feedback:qc-check", args=[loop.check.pk])
    period = f"{reverse('feedback:qc-queue')}?start=2026-05-01&amp;end=2026-06-01"

    inspector = panel_of(order_page(world.qc_inspector, loop.order))
    manager = panel_of(order_page(world.manager, loop.order))
    technician = panel_of(order_page(world.technician, loop.order))

    assert f'href="{check_page}"' in inspector
    assert f'href="{period}"' in manager and check_page not in manager
    assert 'data-testid="check-link"' not in technician
    assert CHECK_RE.findall(technician) == ["failed"]


def test_a_pending_check_links_the_inspector_to_it(world):
    SamplingRule.objects.create(target_percent=Decimal("100"))
    with time_machine.travel(MAY, tick=False):
        order = world.order(Status.COMPLETED)
    with time_machine.travel(JUNE, tick=False):
        draw(world, dt.date(2026, 5, 1), dt.date(2026, 6, 1))
    check = QcCheck.objects.get(order=order)

    panel = panel_of(order_page(world.qc_inspector, order))

    assert CHECK_RE.findall(panel) == ["pending"]
    assert f'href="{reverse("feedback:qc-check", args=[check.pk])}"' in panel
    assert "去质检" in panel
    assert "质检员" not in panel  # no verdict yet


def test_complaints_show_number_category_state_department_and_repeat(loop, world):
    first, second = loop.complaints
    panel = panel_of(order_page(world.manager, loop.order))

    assert COMPLAINT_RE.findall(panel) == [first.number, second.number]
    row = panel[panel.index(f'data-testid="complaint-{second.number}"') :]
    row = row[: row.index("</tr>")]
    assert "维修服务" in row and "待联系" in row and "维修中心" in row
    assert 'data-testid="repeat"' in row
    assert 'data-testid="repeat"' not in panel[: panel.index(row)]


def test_an_automatic_confirmation_is_never_shown_as_a_rating(world, settings):
    settings.FEEDBACK_AUTO_CONFIRM_DAYS = 7
    with time_machine.travel(MAY, tick=False):
        order = world.order(Status.COMPLETED)
    with time_machine.travel(MAY + dt.timedelta(days=7, minutes=1), tick=False):
        assert tasks.auto_confirm.call_local() == 1

    panel = panel_of(order_page(world.manager, order))

    assert 'data-testid="auto-confirmed"' in panel
    assert "自动确认（未评价）" in panel and "2026-05-19 10:01" in panel
    assert SCORE_RE.findall(panel) == []
    assert "综合评分" not in panel


def test_no_panel_when_there_is_nothing_to_say(world):
    with time_machine.travel(MAY, tick=False):
        submitted = world.order(Status.SUBMITTED)
        working = world.order(Status.IN_PROGRESS)

    assert PANEL not in order_page(world.manager, submitted)
    assert PANEL not in order_page(world.manager, working)
    assert PANEL not in order_page(world.technician, working)


# --- who sees what --------------------------------------------------------------------------------


def test_manager_sees_every_section(loop, world):
    panel = panel_of(order_page(world.manager, loop.order))

    for part in ("rating", "follow-up", "quality", "complaints"):
        assert f'data-testid="panel-{part}"' in panel
    assert len(COMPLAINT_RE.findall(panel)) == 2


def test_agent_of_another_department_does_not_see_the_complaints(loop, world, departments):
    _repairs, _canteen, canteen_agent = departments

    own = panel_of(order_page(world.agent, loop.order))
    other = panel_of(order_page(canteen_agent, loop.order))

    assert COMPLAINT_RE.findall(own) == [c.number for c in loop.complaints]
    assert 'data-testid="panel-complaints"' not in other
    assert not any(c.number in other for c in loop.complaints)
    assert 'data-testid="panel-rating"' in other and 'data-testid="panel-quality"' in other


def test_the_permission_lets_another_departments_agent_see_them(loop, world, departments):
    from django.contrib.auth.models import Permission

    _repairs, _canteen, canteen_agent = departments
    canteen_agent.user_permissions.add(Permission.objects.get(codename="view_all_complaints"))

    panel = panel_of(order_page(canteen_agent, loop.order))

    assert COMPLAINT_RE.findall(panel) == [c.number for c in loop.complaints]


def test_the_technician_complained_about_sees_it_but_not_who_complained(loop, world):
    first, _repeat = loop.complaints
    html = order_page(world.technician, loop.order)
    panel = panel_of(html)

    assert COMPLAINT_RE.findall(panel) == [first.number]  # about him; the repeat names nobody
    name, phone = COMPLAINANT
    for secret in (name, phone, first.masked_phone, "钱七", "13800008888"):
        assert secret not in html


def test_the_technician_sees_no_complaint_when_the_policy_says_so(loop, world, settings):
    settings.FEEDBACK_SUBJECT_SEES_COMPLAINTS = False

    panel = panel_of(order_page(world.technician, loop.order))

    assert 'data-testid="panel-complaints"' not in panel
    assert 'data-testid="panel-quality"' in panel


def test_a_reporter_never_sees_the_panel(world, departments):
    with time_machine.travel(MAY, tick=False):
        order = world.order(Status.COMPLETED, reporter=world.reporter)
        services.rate_order(order, by=world.reporter, scores=GOOD, comment="还行")
        services.register_complaint(
            channel="web",
            category="repair",
            description="修了两次还坏",
            order=order.number,
            by=world.reporter,
        )

    assert PANEL in order_page(world.manager, order)
    assert PANEL not in order_page(world.reporter, order)
    with time_machine.travel(JULY, tick=False):
        tracking = Client().get(order.tracking_path)
    assert tracking.status_code == 200
    assert PANEL not in tracking.content.decode()
    assert "回访与质量" not in tracking.content.decode()


# --- cost -----------------------------------------------------------------------------------------


def test_query_count_does_not_grow_with_visits_checks_and_complaints(world, departments):
    """Two closed orders, one with a row of each kind and one with several: same queries."""
    SamplingRule.objects.create(target_percent=Decimal("100"))
    with time_machine.travel(MAY, tick=False):
        few = desk_order(world, Status.COMPLETED)
        many = desk_order(world, Status.COMPLETED)
    with time_machine.travel(MAY + dt.timedelta(days=5), tick=False):
        services.record_visit(few, by=world.agent, reached=True, fixed=False, satisfied=False)
        services.record_visit(many, by=world.agent, reached=False)
        services.record_visit(many, by=world.agent, reached=True, fixed=False, satisfied=False)
        complain(world, few)
        for n in range(3):
            complain(world, many, phone=f"1380000900{n}")
    with time_machine.travel(JUNE, tick=False):
        draw(world, dt.date(2026, 5, 1), dt.date(2026, 6, 1))
        services.record_check(QcCheck.objects.get(order=few), by=world.qc_inspector, passed=True)
        services.record_check(
            QcCheck.objects.get(order=many),
            by=world.qc_inspector,
            passed=False,
            note="没修好",
            photos=[photo(), photo()],
        )
    with time_machine.travel(JUNE + dt.timedelta(days=1), tick=False):
        many.refresh_from_db()
        walk_to(
            many,
            Status.COMPLETED,
            actors={"dispatcher": world.dispatcher},
            technician=world.technician,
        )
    with time_machine.travel(JUNE + dt.timedelta(days=6), tick=False):
        services.record_visit(many, by=world.agent, reached=True, fixed=False, satisfied=True)
    with time_machine.travel(JULY, tick=False):
        draw(world, dt.date(2026, 6, 1), dt.date(2026, 7, 1))
        later = QcCheck.objects.get(order=many, status="pending")
        services.record_check(later, by=world.qc_inspector, passed=True)
        for order in (few, many):
            order.refresh_from_db()
            services.rate_order(order, by=link(order), scores=AGENT_RATED)

    order_page(world.manager, few)  # warm the per-process caches
    with CaptureQueriesContext(connection) as one:
        few_panel = panel_of(order_page(world.manager, few))
    with CaptureQueriesContext(connection) as several:
        many_panel = panel_of(order_page(world.manager, many))

    assert (len(VISIT_RE.findall(few_panel)), len(VISIT_RE.findall(many_panel))) == (1, 3)
    assert (len(REFERRAL_RE.findall(few_panel)), len(REFERRAL_RE.findall(many_panel))) == (1, 2)
    assert CHECK_RE.findall(few_panel) == ["passed"]
    assert CHECK_RE.findall(many_panel) == ["failed", "passed"]
    assert 'data-photos="2"' in many_panel
    assert (len(COMPLAINT_RE.findall(few_panel)), len(COMPLAINT_RE.findall(many_panel))) == (1, 3)
    assert len(several.captured_queries) == len(one.captured_queries)
