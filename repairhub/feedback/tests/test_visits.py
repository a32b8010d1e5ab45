"""Follow-up visits (FQ2): scheduled on completion or rejection N working days ahead, the
agents' queue in priority order, results recorded, failures referred to management."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from repairhub.feedback import services, tasks
from repairhub.feedback.models import FollowUp, Referral, Visit
from repairhub.feedback.queries import follow_up_queue
from repairhub.feedback.states import FollowUpStatus, ReferralStatus
from repairhub.notify.models import Message
from repairhub.workorders.errors import IllegalState, InvalidInput, NotAllowed
from repairhub.workorders.models import Result
from repairhub.workorders.services import complete_order, reopen_order
from repairhub.workorders.states import Status
from repairhub.workorders.walks import walk_to

from .conftest import GOOD

pytestmark = pytest.mark.django_db
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
FRIDAY = dt.datetime(2026, 5, 15, 16, 0, tzinfo=SHANGHAI)
DUE = dt.datetime(2026, 5, 19, 16, 0, tzinfo=SHANGHAI)  # two working days later: Tuesday
LATER = DUE + dt.timedelta(hours=1)


@pytest.fixture(autouse=True)
def two_days(settings):
    settings.FEEDBACK_VISIT_WORKING_DAYS = 2
    settings.FEEDBACK_VISIT_MAX_ATTEMPTS = 3


def finished(world, status=Status.COMPLETED, **kw):
    with time_machine.travel(FRIDAY, tick=False):
        return world.order(status, **kw)


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_completion_schedules_a_visit_two_working_days_later(world):
    order = finished(world)

    follow_up = FollowUp.objects.get(order=order)
    assert (follow_up.kind, follow_up.status, follow_up.due_at) == ("completed", "pending", DUE)


def test_rejection_schedules_a_visit_too(world):
    order = finished(world, Status.REJECTED)

    assert FollowUp.objects.get(order=order).kind == "rejected"


def test_visit_before_it_is_due_is_refused_and_changes_nothing(world):
    order = finished(world)
    events = order.events.count()

    with (
        time_machine.travel(DUE - dt.timedelta(minutes=1), tick=False),
        pytest.raises(IllegalState) as exc,
    ):
        services.record_visit(order, by=world.agent, reached=True, fixed=True, satisfied=True)

    assert exc.value.code == "not_due"
    assert exc.value.message == f"工单 {order.number} 还没到回访时间：2026-05-19 16:00 起才能回访。"
    assert not Visit.objects.exists()
    assert order.events.count() == events
    assert FollowUp.objects.get(order=order).status == FollowUpStatus.PENDING


def test_visit_on_an_unfinished_order_is_refused(world):
    order = world.order(Status.IN_PROGRESS)

    with pytest.raises(IllegalState) as exc:
        services.record_visit(order, by=world.agent, reached=True, fixed=True, satisfied=True)

    assert exc.value.message == f"工单 {order.number} 没有待回访的记录。"
    assert not Visit.objects.exists()


def test_queue_puts_failed_low_rated_and_rejected_first(world):
    plain = finished(world)
    rejected = finished(world, Status.REJECTED)
    with time_machine.travel(FRIDAY, tick=False):
        low = world.order(Status.COMPLETED)
        services.rate_order(low, by=world.reporter, scores={k: 1 for k in GOOD})
        failed = world.order(Status.IN_PROGRESS)
        walk_to(
            failed, Status.COMPLETED, actors={}, technician=world.technician, result=Result.FAILED
        )

    with time_machine.travel(LATER, tick=False):
        queue = [f.order for f in follow_up_queue()]
    with time_machine.travel(DUE - dt.timedelta(minutes=1), tick=False):
        assert list(follow_up_queue()) == []

    assert queue == [failed, low, rejected, plain]


def test_urged_orders_come_before_rejected_ones(world, settings):
    from repairhub.workorders.lifecycle import apply

    settings.SUPERVISION_URGE_AFTER_MINUTES = 30
    rejected = finished(world, Status.REJECTED)
    with time_machine.travel(FRIDAY - dt.timedelta(hours=2), tick=False):
        urged = world.order(Status.IN_PROGRESS)
    with time_machine.travel(FRIDAY - dt.timedelta(hours=1), tick=False):
        apply(urged, "urge", by=world.reporter)
    with time_machine.travel(FRIDAY, tick=False):
        walk_to(urged, Status.COMPLETED, actors={}, technician=world.technician)

    with time_machine.travel(LATER, tick=False):
        assert [f.order for f in follow_up_queue()] == [urged, rejected]


def test_reached_fixed_and_satisfied_closes_the_visit(world):
    order = finished(world)

    with time_machine.travel(LATER, tick=False):
        visit = services.record_visit(
            order, by=world.agent, reached="yes", fixed="yes", satisfied="yes", notes="都好"
        )
        assert list(follow_up_queue()) == []

    follow_up = FollowUp.objects.get(order=order)
    assert (follow_up.status, follow_up.closed_at) == (FollowUpStatus.DONE, LATER)
    assert (visit.reached, visit.fixed, visit.satisfied, visit.notes) == (True, True, True, "都好")
    event = order.events.get(code="feedback.visited")
    assert event.data == {
        "visit": visit.pk,
        "reached": True,
        "fixed": True,
        "satisfied": True,
        "disputes": None,
        "notes": "都好",
    }
    assert event.actor == world.agent
    assert not Referral.objects.exists()


def test_not_fixed_is_referred_to_management(world):
    order = finished(world)

    with time_machine.travel(LATER, tick=False):
        visit = services.record_visit(
            order, by=world.agent, reached=True, fixed=False, satisfied=False, notes="灯还是不亮"
        )

    referral = Referral.objects.get()
    assert (referral.order, referral.visit, referral.status) == (order, visit, ReferralStatus.OPEN)
    assert referral.reason == "回访时报修人反映问题仍未解决。灯还是不亮"
    assert order.events.filter(code="feedback.referred").count() == 1
    told = Message.objects.filter(cause="feedback.referral")
    assert {m.user for m in told} == {world.manager}
    assert order.number in told.first().body


def test_disputed_rejection_is_referred(world):
    order = finished(world, Status.REJECTED)

    with time_machine.travel(LATER, tick=False):
        with pytest.raises(InvalidInput) as exc:
            services.record_visit(order, by=world.agent, reached=True, satisfied=False)
        assert exc.value.field == "disputes"
        services.record_visit(order, by=world.agent, reached=True, disputes=True, satisfied=False)

    assert Referral.objects.get().reason == "报修人对驳回有异议。"


def test_unreached_stays_in_the_queue_until_the_last_attempt(world):
    order = finished(world)

    with time_machine.travel(LATER, tick=False):
        for attempt in (1, 2):
            services.record_visit(order, by=world.agent, reached="no")
            follow_up = FollowUp.objects.get(order=order)
            assert (follow_up.status, follow_up.attempts) == (FollowUpStatus.PENDING, attempt)
        services.record_visit(order, by=world.agent, reached="no")

    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.attempts) == (FollowUpStatus.UNREACHED, 3)
    assert Visit.objects.filter(reached=False).count() == 3


def test_answers_are_required_when_reached(world):
    order = finished(world)

    with time_machine.travel(LATER, tick=False), pytest.raises(InvalidInput) as exc:
        services.record_visit(order, by=world.agent, reached=True, fixed="maybe")

    assert (exc.value.field, exc.value.message) == ("fixed", "“问题是否已解决”只能回答是或否。")
    assert not Visit.objects.exists()


@pytest.mark.parametrize("who", ["technician", "reporter", "qc_inspector"])
def test_only_the_desk_records_visits(world, who):
    order = finished(world)

    with time_machine.travel(LATER, tick=False), pytest.raises(NotAllowed):
        services.record_visit(
            order, by=getattr(world, who), reached=True, fixed=True, satisfied=True
        )

    assert not Visit.objects.exists()


def test_referral_closes_only_with_an_action_by_management(world):
    order = finished(world)
    with time_machine.travel(LATER, tick=False):
        services.record_visit(order, by=world.agent, reached=True, fixed=False, satisfied=False)
    referral = Referral.objects.get()

    with pytest.raises(NotAllowed):
        services.close_referral(referral, by=world.agent, action="已处理")
    with pytest.raises(InvalidInput) as exc:
        services.close_referral(referral, by=world.manager, action="  ")
    assert exc.value.message == "请填写处理措施。"
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.OPEN

    services.close_referral(referral, by=world.manager, action="已安排班组长复修")

    referral.refresh_from_db()
    assert (referral.status, referral.action, referral.closed_by) == (
        ReferralStatus.CLOSED,
        "已安排班组长复修",
        world.manager,
    )
    with pytest.raises(IllegalState):
        services.close_referral(referral, by=world.manager, action="再次")
    assert order.events.get(code="feedback.referral_closed").data["action"] == "已安排班组长复修"


def test_reopened_order_leaves_the_queue_and_is_scheduled_again(world):
    order = finished(world)
    with time_machine.travel(LATER, tick=False):
        reopen_order(order, reason="没修好", by=world.reporter)
        assert list(follow_up_queue()) == []
        walk_to(
            order,
            Status.IN_PROGRESS,
            actors={"dispatcher": world.dispatcher},
            technician=world.technician,
        )
        complete_order(order, result="success", note="换了开关", by=world.technician)

    follow_up = FollowUp.objects.get(order=order)
    assert follow_up.due_at == dt.datetime(2026, 5, 21, 17, 0, tzinfo=SHANGHAI)


def test_catch_up_job_schedules_orders_the_subscriber_missed(world, monkeypatch):
    from repairhub.workorders import subscribers

    monkeypatch.setattr(
        subscribers,
        "SUBSCRIBERS",
        [s for s in subscribers.SUBSCRIBERS if not s.startswith("repairhub.feedback")],
    )
    order = finished(world)
    assert not FollowUp.objects.exists()

    with time_machine.travel(FRIDAY + dt.timedelta(minutes=5), tick=False):
        assert tasks.schedule_follow_ups.call_local() == 1

    assert FollowUp.objects.get(order=order).due_at == DUE


# --- the page -------------------------------------------------------------------------------------


def test_queue_page_shows_due_orders_with_script_and_history(world):
    order = finished(world)
    with time_machine.travel(LATER, tick=False):
        page = client_for(world.agent).get(reverse("feedback:visit-queue"))

    html = page.content.decode()
    assert page.status_code == 200
    assert f'data-testid="visit-{order.number}"' in html
    assert "已由 technician 处理完毕" in html
    assert "处理经过（6 条）" in html


def test_recording_a_visit_from_the_page(world):
    order = finished(world)
    with time_machine.travel(LATER, tick=False):
        response = client_for(world.agent).post(
            reverse("feedback:visit", args=[order.number]),
            {"reached": "yes", "fixed": "no", "satisfied": "no", "notes": "还在漏水"},
        )

    assert response.status_code == 302
    assert Referral.objects.get().order == order


def test_page_refuses_a_visit_not_due_with_the_reason(world):
    order = finished(world)
    with time_machine.travel(DUE - dt.timedelta(hours=1), tick=False):
        response = client_for(world.agent).post(
            reverse("feedback:visit", args=[order.number]),
            {"reached": "yes", "fixed": "yes", "satisfied": "yes"},
        )

    assert response.status_code == 409
    assert not Visit.objects.exists()


@pytest.mark.parametrize("who", ["technician", "reporter"])
def test_queue_page_is_for_the_desk(world, who):
    response = client_for(getattr(world, who)).get(reverse("feedback:visit-queue"))

    assert response.status_code == 403
