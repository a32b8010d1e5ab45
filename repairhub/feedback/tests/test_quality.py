"""Quality checks (FQ4): an honest, reproducible draw that meets the target and includes the
targeted orders; the inspector's verdict; a failure sends the work back with a penalty."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from repairhub.accounts.roles import Role
from repairhub.feedback import services
from repairhub.feedback.models import ChecklistItem, Penalty, QcCheck, Rework, SamplingRule
from repairhub.feedback.services.quality import checklist_for, pick, sampling_summary
from repairhub.notify.models import Message
from repairhub.testing.personas import make_category, make_user, make_world
from repairhub.workorders.errors import IllegalState, InvalidInput, NotAllowed
from repairhub.workorders.services import complete_order, reopen_order
from repairhub.workorders.states import Status
from repairhub.workorders.walks import walk_to

from .conftest import GOOD, photo

pytestmark = pytest.mark.django_db
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
JOINED = dt.datetime(2025, 1, 6, 9, 0, tzinfo=SHANGHAI)
MAY = dt.datetime(2026, 5, 12, 10, 0, tzinfo=SHANGHAI)
JUNE = dt.date(2026, 6, 1)


@pytest.fixture
def old_world(db):
    with time_machine.travel(JOINED, tick=False):
        return make_world()


def test_pick_is_reproducible_meets_the_target_and_keeps_targeted():
    population = list(range(1, 201))
    targeted = {7, 150}

    first = pick(population, targeted, seed="abc", percent=Decimal("10"))

    assert first == pick(reversed(population), targeted, seed="abc", percent=Decimal("10"))
    assert len(first) == 20 and targeted <= set(first)
    assert first != pick(population, targeted, seed="abd", percent=Decimal("10"))
    assert pick(population, set(range(1, 31)), seed="x", percent=Decimal("10")) == list(
        range(1, 31)
    )
    assert len(pick(population, set(), seed="x", percent=Decimal("0.5"))) == 1  # rounded up
    assert pick([], set(), seed="x", percent=Decimal("10")) == []


def test_a_months_draw_meets_the_target_includes_targeted_orders_and_replays(old_world, settings):
    w = old_world
    settings.FEEDBACK_LOW_RATING = 2
    SamplingRule.objects.create(target_percent=Decimal("10"), new_technician_days=30)
    with time_machine.travel(MAY - dt.timedelta(days=5), tick=False):
        newcomer = make_user("newcomer", Role.TECHNICIAN)
    with time_machine.travel(MAY, tick=False):
        plain = [w.order(Status.COMPLETED) for _ in range(24)]
        low = w.order(Status.COMPLETED)
        services.rate_order(low, by=w.reporter, scores={k: 1 for k in GOOD})
        reworked = w.order(Status.COMPLETED)
        reopen_order(reworked, reason="没修好", by=w.reporter)
        walk_to(
            reworked, Status.COMPLETED, actors={"dispatcher": w.dispatcher}, technician=w.technician
        )
        by_newcomer = w.order(Status.COMPLETED, technician=newcomer)
        costly = w.order(Status.IN_PROGRESS)
        complete_order(costly, result="success", note="换压缩机", fee="800", by=w.technician)
        cheap = w.order(Status.IN_PROGRESS)
        complete_order(cheap, result="success", note="换灯管", fee="35.50", by=w.technician)
        w.order(Status.IN_PROGRESS)  # not completed: not in the population
    with time_machine.travel(dt.datetime(2026, 6, 2, 9, 0, tzinfo=SHANGHAI), tick=False):
        w.order(Status.COMPLETED)  # completed in June: outside the period
        draw = services.draw_sample(start=dt.date(2026, 5, 1), end=JUNE, by=w.qc_inspector)

    assert len(draw.population) == 29
    assert sorted(draw.targeted) == sorted([low.pk, reworked.pk, by_newcomer.pk, costly.pk])
    assert len(draw.picked) >= Decimal("0.10") * len(draw.population)
    assert len(draw.picked) == 4  # ceil(2.9) = 3: the targeted ones already exceed the target
    assert services.replay(draw) == draw.picked
    reasons = {c.order_id: c.reasons for c in QcCheck.objects.filter(draw=draw)}
    assert reasons == {
        low.pk: ["low_rating"],
        reworked.pk: ["rework"],
        by_newcomer.pk: ["new_technician"],
        costly.pk: ["high_cost"],  # 800 元 against the rule's 500; 35.50 元 is not
    }
    assert {p.pk for p in [*plain, cheap]}.isdisjoint(reasons)


def test_random_part_fills_up_to_the_target(old_world):
    w = old_world
    SamplingRule.objects.create(target_percent=Decimal("25"))
    with time_machine.travel(MAY, tick=False):
        orders = [w.order(Status.COMPLETED) for _ in range(10)]
    with time_machine.travel(MAY + dt.timedelta(days=30), tick=False):
        draw = services.draw_sample(start=dt.date(2026, 5, 1), end=JUNE, by=w.manager, seed="s1")

    assert len(draw.picked) == 3  # ceil(10 × 25%)
    assert set(draw.picked) <= {o.pk for o in orders}
    assert draw.picked == pick([o.pk for o in orders], set(), seed="s1", percent=Decimal("25"))
    assert sorted(c.reasons for c in QcCheck.objects.all()) == [["random"]] * 3


def test_draws_must_not_overlap_and_need_a_drawer(old_world):
    w = old_world
    with time_machine.travel(MAY + dt.timedelta(days=30), tick=False):
        services.draw_sample(start=dt.date(2026, 5, 1), end=JUNE, by=w.qc_inspector)
        with pytest.raises(IllegalState) as exc:
            services.draw_sample(start=dt.date(2026, 5, 20), end=dt.date(2026, 6, 5), by=w.manager)
        assert exc.value.code == "already_drawn"
        with pytest.raises(NotAllowed):
            services.draw_sample(start=dt.date(2026, 4, 1), end=dt.date(2026, 5, 1), by=w.agent)
        with pytest.raises(InvalidInput):
            services.draw_sample(start=JUNE, end=dt.date(2026, 5, 1), by=w.qc_inspector)


def test_checklist_has_the_categorys_its_parents_and_general_items(world):
    other = make_category("pipe", name="水管")
    general = ChecklistItem.objects.create(text="现场已清理", sort=9)
    parent = ChecklistItem.objects.create(category=world.category.parent, text="断电操作", sort=1)
    own = ChecklistItem.objects.create(category=world.category, text="灯具牢固", sort=2)
    ChecklistItem.objects.create(category=other, text="无渗漏")
    ChecklistItem.objects.create(category=world.category, text="旧项", is_active=False)

    assert checklist_for(world.category) == [parent, own, general]


# --- the verdict ----------------------------------------------------------------------------------


@pytest.fixture
def drawn(old_world):
    """One completed order drawn for a check, with a two-item checklist."""
    w = old_world
    SamplingRule.objects.create(target_percent=Decimal("100"))
    items = [
        ChecklistItem.objects.create(category=w.category, text="灯具牢固"),
        ChecklistItem.objects.create(text="现场已清理"),
    ]
    with time_machine.travel(MAY, tick=False):
        order = w.order(Status.COMPLETED)
        draw = services.draw_sample(
            start=dt.date(2026, 5, 1), end=dt.date(2026, 5, 13), by=w.qc_inspector
        )
    check = QcCheck.objects.get(draw=draw)
    return w, order, check, items


def all_ok(items, ok=True):
    return {str(i.pk): ok for i in items}


def test_a_pass_is_recorded(drawn):
    w, order, check, items = drawn

    services.record_check(check, by=w.qc_inspector, passed=True, answers=all_ok(items))

    check.refresh_from_db()
    assert (check.status, check.inspector, check.answers) == (
        "passed",
        w.qc_inspector,
        all_ok(items),
    )
    assert order.events.get(code="feedback.qc_passed").actor == w.qc_inspector
    order.refresh_from_db()
    assert order.status == Status.COMPLETED
    assert not Penalty.objects.exists()


def test_pass_with_a_failed_item_is_refused(drawn):
    w, _order, check, items = drawn
    answers = {**all_ok(items), str(items[0].pk): False}

    with pytest.raises(InvalidInput) as exc:
        services.record_check(check, by=w.qc_inspector, passed=True, answers=answers)

    assert exc.value.message == "有检查项不合格，结论不能为合格。"
    check.refresh_from_db()
    assert check.status == "pending"


def test_every_item_must_be_answered(drawn):
    w, _order, check, items = drawn

    with pytest.raises(InvalidInput) as exc:
        services.record_check(
            check, by=w.qc_inspector, passed=True, answers={str(items[0].pk): True}
        )

    assert (exc.value.field, exc.value.message) == (f"item-{items[1].pk}", "请选择：现场已清理")


def test_a_failure_needs_a_photo_and_a_note(drawn):
    w, order, check, items = drawn
    with pytest.raises(InvalidInput) as exc:
        services.record_check(
            check, by=w.qc_inspector, passed=False, answers=all_ok(items, False), note="松动"
        )
    assert exc.value.message == "质检不合格时请上传现场照片。"
    with pytest.raises(InvalidInput) as exc:
        services.record_check(
            check, by=w.qc_inspector, passed=False, answers=all_ok(items, False), photos=[photo()]
        )
    assert exc.value.message == "请填写质检说明。"
    order.refresh_from_db()
    assert (order.status, QcCheck.objects.get().status) == (Status.COMPLETED, "pending")


def test_a_failure_reopens_the_order_to_another_technician_with_a_penalty(drawn, settings):
    w, order, check, items = drawn
    settings.FEEDBACK_QC_PENALTY_POINTS = 2

    outcome = services.record_check(
        check,
        by=w.qc_inspector,
        passed="no",
        answers=all_ok(items, False),
        note="灯具松动",
        photos=[photo()],
        technician="technician2",
    )

    order.refresh_from_db()
    assert outcome.rework_order == order
    assert (order.status, order.assignee, order.reopen_count) == (
        Status.DISPATCHED,
        w.technician2,
        1,
    )
    reopened = order.events.get(code="workorder.reopened")
    assert (reopened.actor_label, reopened.data["reason"]) == ("系统", "质检不合格：灯具松动")
    penalty = Penalty.objects.get()
    assert (penalty.technician, penalty.points, penalty.reason) == (w.technician, 2, "灯具松动")
    link = Rework.objects.get()
    assert (link.original, link.rework, link.source, link.technician) == (
        order,
        order,
        "qc",
        w.technician,
    )
    check.refresh_from_db()
    assert (check.status, check.rework_order, check.photos.count()) == ("failed", order, 1)
    told = Message.objects.filter(cause="feedback.qc_failed", user=w.technician)
    assert told.exists() and "扣 2 分" in told.first().body


def test_a_failure_on_a_closed_order_creates_a_linked_rework_order(drawn):
    w, order, check, items = drawn
    from repairhub.workorders.services import close_order

    close_order(order, by=w.dispatcher)

    outcome = services.record_check(
        check,
        by=w.qc_inspector,
        passed=False,
        answers=all_ok(items, False),
        note="漏装灯罩",
        photos=[photo()],
    )

    rework = outcome.rework_order
    assert rework != order
    assert (rework.status, rework.assignee, rework.place, rework.category) == (
        Status.DISPATCHED,
        w.technician,
        order.place,
        order.category,
    )
    assert rework.description.startswith(f"【质检返工】原工单 {order.number}：")
    assert Rework.objects.get().rework == rework
    order.refresh_from_db()
    assert order.status == Status.CLOSED


def test_only_an_inspector_checks_and_only_once(drawn):
    w, _order, check, items = drawn
    with pytest.raises(NotAllowed):
        services.record_check(check, by=w.dispatcher, passed=True, answers=all_ok(items))

    services.record_check(check, by=w.qc_inspector, passed=True, answers=all_ok(items))
    with pytest.raises(IllegalState) as exc:
        services.record_check(check, by=w.qc_inspector, passed=True, answers=all_ok(items))
    assert exc.value.code == "already_checked"


def test_summary_shows_achieved_share_against_the_target(drawn):
    w, _order, check, items = drawn
    with time_machine.travel(MAY, tick=False):
        w.order(Status.COMPLETED)  # completed in the period, after the draw's end

    before = sampling_summary(dt.date(2026, 5, 1), JUNE)
    services.record_check(check, by=w.qc_inspector, passed=True, answers=all_ok(items))
    after = sampling_summary(dt.date(2026, 5, 1), JUNE)

    assert (before.completed, before.drawn, before.checked, before.achieved_percent) == (
        2,
        1,
        0,
        Decimal("0.0"),
    )
    assert (after.checked, after.achieved_percent, after.target_percent) == (
        1,
        Decimal("50.0"),
        Decimal("100.00"),
    )
    assert not after.meets_target


def test_high_cost_targeting_follows_the_rule(old_world):
    w = old_world
    SamplingRule.objects.create(
        target_percent=Decimal("1"), include_high_cost=True, high_cost_yuan=Decimal("200")
    )
    with time_machine.travel(MAY, tick=False):
        orders = [w.order(Status.IN_PROGRESS) for _ in range(3)]
        for order, fee in zip(orders, ["199.99", "200", ""], strict=True):
            complete_order(order, result="success", note="修好了", fee=fee, by=w.technician)
    with time_machine.travel(MAY + dt.timedelta(days=30), tick=False):
        draw = services.draw_sample(start=dt.date(2026, 5, 1), end=JUNE, by=w.manager, seed="t")
    assert draw.targeted == [orders[1].pk]  # at the mark counts; just under or no fee does not

    SamplingRule.objects.update(include_high_cost=False)
    with time_machine.travel(dt.datetime(2026, 6, 10, 10, 0, tzinfo=SHANGHAI), tick=False):
        again = w.order(Status.IN_PROGRESS)
        complete_order(again, result="success", note="修好了", fee="5000", by=w.technician)
    with time_machine.travel(dt.datetime(2026, 7, 2, 10, 0, tzinfo=SHANGHAI), tick=False):
        draw = services.draw_sample(start=JUNE, end=dt.date(2026, 7, 1), by=w.manager, seed="t")
    assert draw.targeted == []
