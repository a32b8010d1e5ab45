"""Supervision inspections (FQ6): planned and unplanned, findings, rectifications to closure."""

from __future__ import annotations

import datetime as dt

import pytest

from repairhub.feedback import services
from repairhub.feedback.models import Inspection, Rectification
from repairhub.notify.models import Message
from repairhub.workorders.errors import IllegalState, InvalidInput, NotAllowed

pytestmark = pytest.mark.django_db


def test_planned_inspection_of_a_team_to_closure(world):
    inspection = services.plan_inspection(
        kind="planned",
        team=world.team.code,
        scheduled_for="2026-06-01",
        by=world.manager,
        inspector=world.qc_inspector,
    )
    assert (inspection.status, inspection.subject, inspection.scheduled_for) == (
        "planned",
        "水电一班",
        dt.date(2026, 6, 1),
    )

    services.record_inspection(
        inspection,
        by=world.qc_inspector,
        summary="工具间杂乱，台账不全",
        findings=[
            {
                "text": "工具未归位",
                "task": "整理工具间",
                "assignee": "team_lead",
                "due_date": "2026-06-08",
            },
            {"text": "台账缺三月记录", "severity": "major"},
        ],
    )
    inspection.refresh_from_db()
    assert inspection.status == "open"
    rectification = Rectification.objects.get()
    assert (rectification.assignee, rectification.due_date) == (
        world.team_lead,
        dt.date(2026, 6, 8),
    )
    assert Message.objects.filter(cause="feedback.rectification", user=world.team_lead).exists()

    with pytest.raises(IllegalState):
        services.verify_rectification(rectification, by=world.qc_inspector, accepted=True)
    with pytest.raises(NotAllowed):
        services.complete_rectification(rectification, by=world.technician2, note="做完了")
    services.complete_rectification(rectification, by=world.team_lead, note="已整理并贴标签")
    services.verify_rectification(
        rectification, by=world.qc_inspector, accepted=False, note="标签不全"
    )
    rectification.refresh_from_db()
    assert rectification.status == "open"
    services.complete_rectification(rectification, by=world.team_lead, note="补齐标签")
    services.verify_rectification(rectification, by=world.qc_inspector, accepted=True)

    inspection.refresh_from_db()
    rectification.refresh_from_db()
    assert (rectification.status, rectification.verified_by) == ("verified", world.qc_inspector)
    assert (inspection.status, inspection.closed_at is not None) == ("closed", True)


def test_unplanned_inspection_of_a_site_without_rectification_closes_at_once(world):
    inspection = services.plan_inspection(
        kind="unplanned", place=world.room.code, by=world.qc_inspector
    )

    services.record_inspection(inspection, by=world.qc_inspector, summary="一切正常")

    inspection.refresh_from_db()
    assert (inspection.status, inspection.inspector, inspection.subject) == (
        "closed",
        world.qc_inspector,
        world.room.full_name,
    )
    with pytest.raises(IllegalState):
        services.record_inspection(inspection, by=world.qc_inspector, summary="再记一次")


def test_bad_plans_are_refused(world):
    with pytest.raises(InvalidInput) as exc:
        services.plan_inspection(kind="planned", by=world.manager, team=world.team)
    assert exc.value.field == "scheduled_for"
    with pytest.raises(InvalidInput) as exc:
        services.plan_inspection(kind="unplanned", by=world.manager)
    assert exc.value.message == "请选择被检查的班组或地点。"
    with pytest.raises(InvalidInput):
        services.plan_inspection(kind="sometimes", by=world.manager, team=world.team)
    with pytest.raises(NotAllowed):
        services.plan_inspection(kind="unplanned", by=world.agent, team=world.team)
    assert not Inspection.objects.exists()


def test_a_new_rectification_reopens_a_closed_inspection(world):
    inspection = services.plan_inspection(kind="unplanned", team=world.team, by=world.manager)
    services.record_inspection(
        inspection, by=world.manager, summary="发现一处问题", findings=[{"text": "灭火器过期"}]
    )
    inspection.refresh_from_db()
    assert inspection.status == "closed"

    services.add_rectification(
        inspection.findings.get(),
        by=world.manager,
        task="更换灭火器",
        assignee=world.technician,
        due_date=dt.date(2026, 6, 1),
    )

    inspection.refresh_from_db()
    assert inspection.status == "open"
