"""Complaints (FQ3): registration from every channel, routing, the first-contact clock with
reminder and escalation, handling records, repeats, and who sees what."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from repairhub.feedback import services, tasks
from repairhub.feedback.models import Complaint, ComplaintEntry
from repairhub.feedback.services.complaints import (
    access_complaint,
    clean_scan,
    shows_identity,
    visible_complaints,
)
from repairhub.notify.models import Message
from repairhub.workorders.errors import IllegalState, InvalidInput, NotAllowed, NotVisible
from repairhub.workorders.states import Status

from .conftest import png_bytes

pytestmark = pytest.mark.django_db
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 5, 15, 17, 30, tzinfo=SHANGHAI)  # a Friday evening


def phone_complaint(world, **kw):
    values = {
        "channel": "phone",
        "category": "repair",
        "description": "维修工态度差，还没修好",
        "complainant_name": "赵六",
        "complainant_phone": "13800007777",
        "by": world.agent,
        **kw,
    }
    return services.register_complaint(**values)


def test_phone_complaint_is_routed_and_due_in_24_hours(world, departments):
    repairs, _canteen, _agent = departments
    with time_machine.travel(T0, tick=False):
        complaint = phone_complaint(world, person=world.technician)

    assert complaint.number == f"TS-20260515-{complaint.pk:04d}"
    assert (complaint.department, complaint.status, complaint.registered_by) == (
        repairs,
        "open",
        world.agent,
    )
    assert complaint.first_contact_due == T0 + dt.timedelta(hours=24)  # 24×7 clock by default
    assert complaint.complainant_phone == "13800007777"
    told = {m.user for m in Message.objects.filter(cause="feedback.complaint_new")}
    assert told == {world.agent, world.technician2, world.team_lead}


def test_working_hours_clock_when_configured(world, departments, settings):
    settings.FEEDBACK_COMPLAINT_CALENDAR = "working_hours"
    settings.FEEDBACK_COMPLAINT_FIRST_CONTACT_HOURS = 8
    with time_machine.travel(T0, tick=False):
        complaint = phone_complaint(world)

    assert complaint.first_contact_due == dt.datetime(
        2026, 5, 18, 17, 30, tzinfo=SHANGHAI
    )  # 30 min Friday, 7.5 h Monday


@pytest.mark.parametrize("channel", [None, "", "fax"])
def test_a_complaint_needs_a_known_channel(world, departments, channel):
    with pytest.raises(InvalidInput) as exc:
        phone_complaint(world, channel=channel)

    assert exc.value.field == "channel"
    assert "电话、网上、来访或信件" in exc.value.message
    assert not Complaint.objects.exists()


def test_a_letter_needs_its_scan_and_accepts_a_pdf(world, departments):
    with pytest.raises(InvalidInput) as exc:
        phone_complaint(world, channel="letter", complainant_phone="")
    assert exc.value.message == "信件投诉请上传信件扫描件。"

    letter = phone_complaint(
        world, channel="letter", complainant_phone="", scan=clean_scan("信.pdf", b"%PDF-1.4 ...")
    )
    photo = phone_complaint(world, channel="letter", scan=clean_scan("信.png", png_bytes()))

    assert letter.scan.name.endswith(".pdf") and letter.complainant_phone == ""
    assert photo.scan.name.endswith(".jpg")
    with pytest.raises(InvalidInput):
        clean_scan("信.txt", b"hello")


def test_reporters_complain_on_the_web_only_about_their_own_orders(world, departments):
    mine = world.order(Status.COMPLETED)
    theirs = world.order(Status.COMPLETED, reporter=world.reporter2)

    complaint = services.register_complaint(
        channel="web",
        category="repair",
        description="修了两次还坏",
        order=mine.number,
        by=world.reporter,
    )
    assert (complaint.complainant, complaint.complainant_name, complaint.complainant_phone) == (
        world.reporter,
        "reporter",
        "13800001111",
    )
    with pytest.raises(InvalidInput) as exc:
        services.register_complaint(
            channel="web",
            category="repair",
            description="x",
            order=theirs.number,
            by=world.reporter,
        )
    assert exc.value.field == "order"
    with pytest.raises(NotAllowed):
        phone_complaint(world, by=world.reporter)
    event = mine.events.get(code="feedback.complaint")
    assert (event.actor_label, event.data) == ("系统", {"complaint": complaint.number})


def test_reminder_before_and_escalation_after_the_first_contact_deadline(
    world, departments, settings
):
    settings.FEEDBACK_COMPLAINT_REMIND_HOURS = 4
    with time_machine.travel(T0, tick=False):
        complaint = phone_complaint(world)
    Message.objects.all().delete()

    with time_machine.travel(T0 + dt.timedelta(hours=19), tick=False):
        assert tasks.complaint_deadlines.call_local() == (0, 0)
    with time_machine.travel(T0 + dt.timedelta(hours=21), tick=False):
        assert tasks.complaint_deadlines.call_local() == (1, 0)
    with time_machine.travel(T0 + dt.timedelta(hours=22), tick=False):
        assert tasks.complaint_deadlines.call_local() == (0, 0)  # reminded once only
    with time_machine.travel(T0 + dt.timedelta(hours=24, minutes=1), tick=False):
        assert tasks.complaint_deadlines.call_local() == (0, 1)
    with time_machine.travel(T0 + dt.timedelta(hours=25), tick=False):
        assert tasks.complaint_deadlines.call_local() == (0, 0)

    assert {m.user for m in Message.objects.filter(cause="feedback.complaint_due_soon")} == {
        world.agent,
        world.technician2,
        world.team_lead,
    }
    overdue = Message.objects.filter(cause="feedback.complaint_overdue")
    assert {m.user for m in overdue} == {world.team_lead, world.manager}
    assert all(m.urgent for m in overdue)
    complaint.refresh_from_db()
    assert complaint.escalated_at == T0 + dt.timedelta(hours=24, minutes=1)
    assert list(complaint.entries.values_list("kind", flat=True)) == ["reminder", "escalation"]


def test_contacted_in_time_is_neither_reminded_nor_escalated(world, departments):
    with time_machine.travel(T0, tick=False):
        complaint = phone_complaint(world)
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        services.add_entry(complaint, kind="contact", text="已致电致歉", by=world.agent)
    with time_machine.travel(T0 + dt.timedelta(hours=30), tick=False):
        assert tasks.complaint_deadlines.call_local() == (0, 0)


def test_handling_walks_to_closure(world, departments):
    complaint = phone_complaint(world)

    with pytest.raises(IllegalState):
        services.add_entry(complaint, kind="resolution", text="太早", by=world.agent)
    services.add_entry(complaint, kind="contact", text="已联系", by=world.agent)
    assert (complaint.status, complaint.handler) == ("in_progress", world.agent)
    assert complaint.first_contact_at is not None
    services.add_entry(complaint, kind="finding", text="维修工确实迟到", by=world.agent)
    services.add_entry(complaint, kind="resolution", text="批评教育并重新维修", by=world.agent)
    with pytest.raises(InvalidInput) as exc:
        services.add_entry(complaint, kind="satisfaction", satisfaction="great", by=world.agent)
    assert exc.value.field == "satisfaction"
    services.add_entry(complaint, kind="satisfaction", satisfaction="satisfied", by=world.agent)

    complaint.refresh_from_db()
    assert (complaint.status, complaint.resolution, complaint.satisfaction) == (
        "closed",
        "批评教育并重新维修",
        "satisfied",
    )
    assert list(complaint.entries.values_list("kind", flat=True)) == [
        "contact",
        "finding",
        "resolution",
        "satisfaction",
    ]
    with pytest.raises(IllegalState):
        services.add_entry(complaint, kind="note", text="再记一笔", by=world.agent)


def test_a_repeat_is_flagged_escalated_and_counted_against_the_handler(world, departments):
    first = phone_complaint(world, person=world.technician)
    services.add_entry(first, kind="contact", text="已联系", by=world.technician2)
    Message.objects.all().delete()

    second = phone_complaint(world, person=world.technician, description="又来了，还是没人管")

    assert (second.repeat_of, second.counted_against) == (first, world.technician2)
    assert second.escalated_at is not None
    repeat = Message.objects.filter(cause="feedback.complaint_repeat")
    assert {m.user for m in repeat} == {world.team_lead, world.manager}
    assert all(m.urgent for m in repeat)
    assert first.number in repeat.first().body
    other = phone_complaint(world, person=world.technician2)  # another matter
    assert other.repeat_of is None


def test_a_repeat_about_the_same_order(world, departments):
    order = world.order(Status.COMPLETED)
    first = phone_complaint(world, order=order)
    second = phone_complaint(world, order=order, complainant_phone="13900001234")

    assert second.repeat_of == first


# --- who sees what ------------------------------------------------------------------------------


def test_agent_sees_only_his_departments_complaints(world, departments):
    _repairs, _canteen, canteen_agent = departments
    repair = phone_complaint(world)
    canteen = phone_complaint(world, category="canteen", by=canteen_agent)

    assert list(visible_complaints(world.agent)) == [repair]
    assert list(visible_complaints(canteen_agent)) == [canteen]
    assert set(visible_complaints(world.manager)) == {repair, canteen}
    with pytest.raises(NotVisible):
        access_complaint(world.agent, canteen.number)
    with pytest.raises(NotAllowed):
        services.add_entry(canteen, kind="contact", text="x", by=world.agent)


def test_the_permission_lets_an_agent_see_every_department(world, departments):
    from django.contrib.auth.models import Permission

    _repairs, _canteen, canteen_agent = departments
    canteen = phone_complaint(world, category="canteen", by=canteen_agent)
    world.agent.user_permissions.add(Permission.objects.get(codename="view_all_complaints"))
    from repairhub.accounts.models import User

    agent = User.objects.get(pk=world.agent.pk)  # permissions are cached per instance
    assert canteen in visible_complaints(agent)


def test_the_technician_complained_about_never_sees_who_complained(world, departments):
    complaint = phone_complaint(world, person=world.technician2)  # a member of the department

    assert complaint in visible_complaints(world.technician2)
    assert not shows_identity(world.technician2, complaint)
    assert shows_identity(world.agent, complaint)
    with pytest.raises(NotAllowed):
        services.add_entry(complaint, kind="contact", text="我来联系", by=world.technician2)
    with pytest.raises(InvalidInput):
        services.assign_handler(complaint, handler=world.technician2, by=world.team_lead)


def test_subject_sees_nothing_when_policy_says_so(world, departments, settings):
    settings.FEEDBACK_SUBJECT_SEES_COMPLAINTS = False
    complaint = phone_complaint(world, person=world.technician)

    assert complaint not in visible_complaints(world.technician)


def test_assigning_a_handler(world, departments):
    complaint = phone_complaint(world)
    with pytest.raises(NotAllowed):
        services.assign_handler(complaint, handler=world.technician2, by=world.agent)
    with pytest.raises(InvalidInput):
        services.assign_handler(complaint, handler=world.technician, by=world.team_lead)

    services.assign_handler(complaint, handler="technician2", by=world.team_lead)

    complaint.refresh_from_db()
    assert complaint.handler == world.technician2
    assert ComplaintEntry.objects.get(kind="assigned").text == "technician2"
