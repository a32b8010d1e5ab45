"""The appraisal counts what the feedback app records: a failed quality check is a QC failure
of the technician who did the work; a complaint counts against the technician it names, or
against the technician of the order it is about; a complaint about the canteen against nobody."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from repairhub.analytics.appraisal import complaints_by_technician, qc_failures_by_technician
from repairhub.analytics.services import compute_appraisal
from repairhub.feedback import services as feedback
from repairhub.feedback.models import (
    ChecklistItem,
    ComplaintCategory,
    Department,
    QcCheck,
    SamplingRule,
)
from repairhub.lib.uploads import clean_upload
from repairhub.testing.personas import make_world
from repairhub.workorders.states import Status

from .history import local

pytestmark = pytest.mark.django_db
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
JOINED = dt.datetime(2025, 1, 6, 9, 0, tzinfo=SHANGHAI)  # long before: nobody is "new"
MAY12 = dt.datetime(2026, 5, 12, 10, 0, tzinfo=SHANGHAI)
MAY = dt.date(2026, 5, 1)


def png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def world(db):
    with time_machine.travel(JOINED, tick=False):
        w = make_world()
    repairs = Department.objects.create(code="repairs", name="维修中心")
    canteen = Department.objects.create(code="canteen", name="饮食中心")
    ComplaintCategory.objects.filter(code="repair").update(department=repairs)
    ComplaintCategory.objects.filter(code="canteen").update(department=canteen)
    return w


def complain(world, **kw):
    return feedback.register_complaint(
        channel="phone",
        description=kw.pop("description", "维修工态度差"),
        complainant_name="赵六",
        complainant_phone="13800007777",
        by=world.agent,
        **kw,
    )


def test_failed_checks_and_complaints_count_in_the_month_they_were_recorded(world, settings):
    settings.ANALYTICS_MIN_ORDERS = 1
    SamplingRule.objects.create(target_percent=100)
    item = ChecklistItem.objects.create(text="现场已清理")
    with time_machine.travel(MAY12, tick=False):
        checked = world.order(Status.COMPLETED)  # by world.technician
        theirs = world.order(Status.COMPLETED, technician=world.technician2)
        draw = feedback.draw_sample(
            start=dt.date(2026, 5, 1), end=dt.date(2026, 5, 13), by=world.qc_inspector
        )
        check = QcCheck.objects.get(draw=draw, order=checked)
        feedback.record_check(
            check,
            by=world.qc_inspector,
            passed=False,
            answers={str(item.pk): False},
            note="地面未清理",
            photos=[clean_upload("现场.png", png())],
        )
        complain(world, category="repair", person=world.technician)
        complain(world, category="repair", order=theirs.number)
        complain(world, category="canteen", description="饭菜太咸")
    # A complaint in June is not May's.
    with time_machine.travel(MAY12 + dt.timedelta(days=30), tick=False):
        complain(world, category="repair", person=world.technician)

    start, end = local(MAY, 0), local(dt.date(2026, 6, 1), 0)
    assert qc_failures_by_technician(start, end) == {world.technician.pk: 1}
    assert complaints_by_technician(start, end) == {
        world.technician.pk: 1,
        world.technician2.pk: 1,
    }

    with time_machine.travel(local(dt.date(2026, 6, 3), 9), tick=False):
        appraisal = compute_appraisal(MAY, by=world.manager)
    rows = {r.technician_id: r for r in appraisal.rows.all()}
    assert (rows[world.technician.pk].qc_failures, rows[world.technician.pk].complaints) == (1, 1)
    assert (rows[world.technician2.pk].qc_failures, rows[world.technician2.pk].complaints) == (0, 1)
