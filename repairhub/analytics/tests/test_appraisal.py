"""Monthly appraisal: computed from the weights, frozen as a snapshot, signed off by a manager;
a signed month never changes, an unsigned one is replaced by recomputing."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client

from repairhub.analytics.appraisal import month_figures
from repairhub.analytics.models import AppraisalMonth, AppraisalRow, AppraisalWeights
from repairhub.analytics.periods import Period
from repairhub.analytics.services import compute_appraisal, sign_appraisal
from repairhub.workorders.errors import IllegalState, InvalidInput, NotAllowed, StaleVersion
from repairhub.workorders.lifecycle import apply

from .history import local
from .small import repaired

pytestmark = pytest.mark.django_db

MAY = date(2026, 5, 1)
AFTER_MAY = local(date(2026, 6, 3), 9)


def snapshot(appraisal: AppraisalMonth) -> list[tuple]:
    return list(
        AppraisalRow.objects.filter(appraisal=appraisal)
        .order_by("technician_id")
        .values_list("pk", "technician_id", "orders", "successes", "mean_rating", "score", "rank")
    )


@pytest.fixture
def may(world, settings):
    """Two technicians' work in May 2026: technician 2 quick successful repairs rated 5 and 3,
    technician2 one failed repair closed without a rating."""
    settings.ANALYTICS_MIN_ORDERS = 2
    repaired(world, date(2026, 5, 4), hours=2, rating=5)
    repaired(world, date(2026, 5, 6), hours=70, rating=3)
    repaired(world, date(2026, 5, 7), technician=world.technician2, result="failed", rating=None)
    return world


def test_compute_freezes_figures_and_scores_with_the_weights_used(may):
    weights = AppraisalWeights.current()
    weights.satisfaction = 40
    weights.save()

    with time_machine.travel(AFTER_MAY, tick=False):
        appraisal = compute_appraisal(MAY, by=may.manager)

    rows = {r.technician: r for r in appraisal.rows.all()}
    tech, tech2 = rows[may.technician], rows[may.technician2]
    assert (tech.orders, tech.successes, tech.rated, tech.mean_rating) == (2, 2, 2, 4.0)
    assert tech.arrival_hours == 1.0  # dispatched 9:30, arrived 10:30
    assert tech.completion_hours == 36.0  # (2 + 70) / 2
    # Both have the SLA deadline (normal urgency: 24 working hours). The 70-hour repair reported
    # Wednesday 6 May 09:00 is due on the 调休 Saturday, 9 May 09:00 (7 + 8 + 8 hours, then one
    # more on Saturday), and was completed at 07:00 that day: on time, like the 2-hour one.
    assert (tech.with_deadline, tech.on_time) == (2, 2)
    # arrival 100, completion (96-36)/(96-24)*100, success 100, satisfaction 75, on time 100,
    # rework 100, qc 100, complaints 100.
    subs = {"arrival": 100, "completion": 100 * 60 / 72, "success": 100, "satisfaction": 75}
    subs |= {"on_time": 100, "rework": 100, "qc_failures": 100, "complaints": 100}
    w = {"arrival": 15, "completion": 15, "success": 20, "satisfaction": 40, "on_time": 15}
    w |= {"rework": 5, "qc_failures": 5, "complaints": 5}
    want = round(sum(w[k] * subs[k] for k in w) / sum(w.values()), 1)
    assert tech.score == want
    assert tech.sub_scores["on_time"] == 100
    assert (tech.rank, tech2.rank) == (1, None)  # technician2 has one order: not ranked
    assert (tech2.orders, tech2.successes, tech2.mean_rating) == (1, 0, None)
    assert appraisal.weights["satisfaction"] == 40
    assert (appraisal.status, appraisal.version, appraisal.min_orders) == ("draft", 1, 2)
    assert appraisal.computed_by == may.manager


def test_recomputing_an_unsigned_month_replaces_it(may):
    with time_machine.travel(AFTER_MAY, tick=False):
        first = compute_appraisal(MAY, by=may.manager)
    before = snapshot(first)
    repaired(may, date(2026, 5, 20), technician=may.technician2, hours=3, rating=4)

    with time_machine.travel(AFTER_MAY, tick=False):
        second = compute_appraisal(MAY, by=may.admin)

    after = snapshot(second)
    assert second.pk == first.pk and second.version == 2
    assert {pk for pk, *_ in after}.isdisjoint({pk for pk, *_ in before})  # new rows
    tech2 = AppraisalRow.objects.get(appraisal=second, technician=may.technician2)
    assert (tech2.orders, tech2.successes, tech2.mean_rating, tech2.rank) == (2, 1, 4.0, 2)
    assert second.computed_by == may.admin


def test_a_signed_month_does_not_change_when_orders_change_later(may):
    pending = repaired(may, date(2026, 5, 12), hours=4, close=False)
    with time_machine.travel(AFTER_MAY, tick=False):
        appraisal = compute_appraisal(MAY, by=may.manager)
        sign_appraisal(appraisal, by=may.manager, version=1)
    frozen = snapshot(appraisal)

    # In June the reporter reopens the May repair: live May figures lose that completion.
    with time_machine.travel(local(date(2026, 6, 5), 9), tick=False):
        apply(pending, "reopen", by=may.reporter, params={"reason": "又坏了"})
        live = {r["technician_id"]: r for r in month_figures(Period.month(MAY))}
        with pytest.raises(IllegalState) as exc:
            compute_appraisal(MAY, by=may.manager)

    assert live[may.technician.pk]["orders"] == 2
    assert exc.value.message == "2026-05 的考核已签字确认，不能重新计算。"
    assert exc.value.status == 409
    appraisal.refresh_from_db()
    assert snapshot(appraisal) == frozen
    assert AppraisalRow.objects.get(appraisal=appraisal, technician=may.technician).orders == 3
    assert (appraisal.status, appraisal.version, appraisal.signed_by) == ("signed", 1, may.manager)


def test_signing_waits_for_the_month_to_end(may):
    with time_machine.travel(local(date(2026, 5, 31), 20), tick=False):
        appraisal = compute_appraisal(MAY, by=may.manager)
        with pytest.raises(IllegalState) as exc:
            sign_appraisal(appraisal, by=may.manager)

    assert exc.value.message == "该月尚未结束，月末之后才能签字确认。"
    appraisal.refresh_from_db()
    assert (appraisal.status, appraisal.signed_at) == ("draft", None)


def test_only_a_manager_signs(may):
    with time_machine.travel(AFTER_MAY, tick=False):
        appraisal = compute_appraisal(MAY, by=may.admin)
        with pytest.raises(NotAllowed) as exc:
            sign_appraisal(appraisal, by=may.admin)

    assert exc.value.message == "只有主管可以签字确认考核。"
    appraisal.refresh_from_db()
    assert appraisal.status == "draft"


def test_signing_a_version_nobody_looked_at_is_refused(may):
    with time_machine.travel(AFTER_MAY, tick=False):
        appraisal = compute_appraisal(MAY, by=may.manager)
        compute_appraisal(MAY, by=may.manager)  # someone recomputed meanwhile
        with pytest.raises(StaleVersion):
            sign_appraisal(appraisal, by=may.manager, version=1)

    appraisal.refresh_from_db()
    assert (appraisal.status, appraisal.version) == ("draft", 2)


@pytest.mark.parametrize("who", ["dispatcher", "team_lead", "technician", "reporter"])
def test_only_managers_and_admins_compute(may, who):
    with time_machine.travel(AFTER_MAY, tick=False), pytest.raises(NotAllowed):
        compute_appraisal(MAY, by=getattr(may, who))

    assert not AppraisalMonth.objects.exists()


def test_a_month_that_has_not_begun_is_refused(may):
    with time_machine.travel(AFTER_MAY, tick=False), pytest.raises(InvalidInput) as exc:
        compute_appraisal(date(2026, 7, 1), by=may.manager)

    assert exc.value.message == "该月份尚未开始，无法计算考核。"
    assert not AppraisalMonth.objects.exists()


def test_weights_need_a_positive_weight_and_sensible_hours(db):
    weights = AppraisalWeights.current()
    weights.arrival_bad_hours = weights.arrival_good_hours
    for name in AppraisalWeights.DEFAULTS:
        setattr(weights, name, 0)

    with pytest.raises(ValidationError) as exc:
        weights.full_clean()

    assert exc.value.message_dict == {"arrival_bad_hours": ["零分时间必须长于满分时间。"]}
    weights.arrival_bad_hours = 8
    with pytest.raises(ValidationError) as exc:
        weights.full_clean()
    assert exc.value.messages == ["至少要有一项权重大于 0。"]


# --- pages ---------------------------------------------------------------------------------


def browser(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_manager_computes_and_signs_on_the_pages(may):
    manager = browser(may.manager)
    with time_machine.travel(AFTER_MAY, tick=False):
        r = manager.post("/analytics/appraisals/compute/", {"month": "2026-05"})
        assert r.status_code == 302 and r["Location"] == "/analytics/appraisals/2026-05/"
        page = manager.get("/analytics/appraisals/2026-05/").content.decode()
        r = manager.post("/analytics/appraisals/2026-05/sign/", {"version": "1"})
        signed = manager.get(r["Location"]).content.decode()

    assert "签字确认第 1 版" in page and "样本不足" in page
    assert "已由 manager 于" in signed and "不再改变" in signed
    assert "重新计算" not in signed
    assert AppraisalMonth.objects.get().status == "signed"


def test_pages_show_refusals_as_messages(may):
    admin = browser(may.admin)
    with time_machine.travel(AFTER_MAY, tick=False):
        admin.post("/analytics/appraisals/compute/", {"month": "2026-05"})
        r = admin.post("/analytics/appraisals/2026-05/sign/", {"version": "1"}, follow=True)
        bad = admin.post("/analytics/appraisals/compute/", {"month": "May"}, follow=True)

    assert "只有主管可以签字确认考核。" in r.content.decode()
    assert "月份格式不正确，请使用 YYYY-MM，例如 2026-05。" in bad.content.decode()
    assert AppraisalMonth.objects.get().status == "draft"


@pytest.mark.parametrize("who", ["dispatcher", "team_lead"])
def test_appraisal_pages_are_for_managers_and_admins(may, who):
    r = browser(getattr(may, who)).post("/analytics/appraisals/compute/", {"month": "2026-05"})

    assert r.status_code == 403
    assert not AppraisalMonth.objects.exists()
