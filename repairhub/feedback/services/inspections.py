"""Supervision inspections (督查, FQ6): planned or unplanned inspections of a team or a site,
what they found, and rectifications tracked until an inspector verifies each one; an
inspection is closed when all of its rectifications are verified."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from repairhub.accounts.models import Team, User
from repairhub.accounts.roles import Role
from repairhub.notify.outbox import post
from repairhub.places.models import Place
from repairhub.workorders.errors import IllegalState, InvalidInput, NotAllowed

from .. import texts
from ..models import Finding, Inspection, Rectification
from ..states import InspectionKind, InspectionStatus, RectificationStatus, Severity
from .common import MANAGEMENT, clean_bool, clean_text, require_role

INSPECTORS = (Role.QC_INSPECTOR, *MANAGEMENT)


def _user(value: Any, *, field: str, message: str) -> User:
    if isinstance(value, str):
        value = User.objects.filter(username=value.strip()).first() if value.strip() else None
    if not isinstance(value, User) or not value.is_active:
        raise InvalidInput(message, field=field, code="required" if value is None else "invalid")
    return value


def _date(value: Any, *, field: str, label: str, required: bool) -> date | None:
    if isinstance(value, str):
        value = value.strip()
        try:
            value = parse_date(value) if value else None
        except ValueError:
            value = "bad"
        if value is None and required:
            raise InvalidInput(
                _("请填写%(label)s。") % {"label": label}, field=field, code="required"
            )
    if value is None and not required:
        return None
    if not isinstance(value, date):
        raise InvalidInput(
            _("%(label)s格式不正确，请使用 YYYY-MM-DD。") % {"label": label}, field=field
        )
    return value


def plan_inspection(
    *,
    kind: Any,
    by,
    inspector: Any = None,
    team: Any = None,
    place: Any = None,
    scheduled_for: Any = None,
) -> Inspection:
    """Plan an inspection of a team or a site (or register an unplanned one to record now)."""
    require_role(by, *INSPECTORS, message=_("只有主管或质检员可以安排督查。"))
    if kind not in InspectionKind.values:
        raise InvalidInput(
            _("请选择检查类型：计划检查或不定期检查。"),
            field="kind",
            code="required" if kind in (None, "") else "invalid",
        )
    if isinstance(team, str):
        team = Team.objects.filter(code=team.strip()).first() if team.strip() else None
    if isinstance(place, str):
        place = Place.objects.filter(code=place.strip()).first() if place.strip() else None
    if team is None and place is None:
        raise InvalidInput(_("请选择被检查的班组或地点。"), field="team", code="required")
    who = _user(inspector or by, field="inspector", message=_("请选择检查人。"))
    if not who.has_role(*INSPECTORS):
        raise InvalidInput(_("检查人必须是主管或质检员。"), field="inspector")
    day = _date(
        scheduled_for,
        field="scheduled_for",
        label=_("计划日期"),
        required=kind == InspectionKind.PLANNED,
    )
    return Inspection.objects.create(
        kind=kind, team=team, place=place, scheduled_for=day, inspector=who, created_by=by
    )


def record_inspection(
    inspection: Inspection,
    *,
    by,
    summary: str,
    findings: Iterable[Mapping[str, Any]] = (),
) -> Inspection:
    """Record what the inspection found. Each finding may carry its rectification (`task`,
    `assignee`, `due_date`); without findings needing one, the inspection is closed at once."""
    if by.pk != inspection.inspector_id:
        require_role(by, *MANAGEMENT, message=_("只有检查人或主管可以记录检查结果。"))
    if inspection.status != InspectionStatus.PLANNED:
        raise IllegalState(_("该督查已经记录过检查结果。"), code="already_recorded")
    text = clean_text(summary, field="summary", label=_("检查情况"), required=True)
    items = list(findings)
    now = timezone.now()
    with transaction.atomic():
        moved = Inspection.objects.filter(pk=inspection.pk, status=InspectionStatus.PLANNED).update(
            summary=text, performed_at=now, status=InspectionStatus.OPEN
        )
        if moved != 1:
            raise IllegalState(_("该督查已经记录过检查结果。"), code="already_recorded")
        inspection.refresh_from_db()
        for index, item in enumerate(items):
            severity = item.get("severity") or Severity.MINOR
            if severity not in Severity.values:
                raise InvalidInput(
                    _("严重程度只能是一般或严重。"), field=f"findings.{index}.severity"
                )
            finding = Finding.objects.create(
                inspection=inspection,
                severity=severity,
                text=clean_text(
                    item.get("text"),
                    field=f"findings.{index}.text",
                    label=_("发现的问题"),
                    required=True,
                ),
            )
            if item.get("task") not in (None, ""):
                add_rectification(
                    finding,
                    by=by,
                    task=item.get("task", ""),
                    assignee=item.get("assignee"),
                    due_date=item.get("due_date"),
                )
        _close_if_done(inspection, now)
    return inspection


def add_rectification(
    finding: Finding, *, by, task: str, assignee: Any, due_date: Any
) -> Rectification:
    inspection = finding.inspection
    if by.pk != inspection.inspector_id:
        require_role(by, *MANAGEMENT, message=_("只有检查人或主管可以布置整改。"))
    if inspection.status == InspectionStatus.PLANNED:
        raise IllegalState(_("请先记录检查结果。"), code="not_recorded")
    text = clean_text(task, field="task", label=_("整改要求"), required=True)
    person = _user(assignee, field="assignee", message=_("请选择整改责任人。"))
    due = _date(due_date, field="due_date", label=_("整改期限"), required=True)
    with transaction.atomic():
        rectification = Rectification.objects.create(
            finding=finding, task=text, assignee=person, due_date=due
        )
        if inspection.status == InspectionStatus.CLOSED:
            Inspection.objects.filter(pk=inspection.pk).update(
                status=InspectionStatus.OPEN, closed_at=None
            )
        post(
            [person],
            texts.RECTIFICATION,
            {"task": text[:60], "subject": inspection.subject, "due": due.isoformat()},
        )
    return rectification


def complete_rectification(rectification: Rectification, *, by, note: str) -> Rectification:
    """The responsible person (or his team lead) reports the rectification done."""
    assignee = rectification.assignee
    lead = assignee.team.lead_id if assignee.team_id else None
    if by.pk not in (assignee.pk, lead):
        raise NotAllowed(_("只有整改责任人可以报告整改完成。"))
    text = clean_text(note, field="note", label=_("整改情况"), required=True)
    moved = Rectification.objects.filter(
        pk=rectification.pk, status=RectificationStatus.OPEN
    ).update(status=RectificationStatus.DONE, done_note=text, done_at=timezone.now())
    if moved != 1:
        raise IllegalState(_("该整改不在待整改状态。"), code="illegal_state")
    rectification.refresh_from_db()
    return rectification


def verify_rectification(
    rectification: Rectification, *, by, accepted: Any, note: str = ""
) -> Rectification:
    """The inspector accepts the rectification (closing the inspection when it was the last)
    or sends it back to be done again."""
    inspection = rectification.finding.inspection
    if by.pk != inspection.inspector_id:
        require_role(by, *MANAGEMENT, message=_("只有检查人或主管可以验收整改。"))
    ok = bool(clean_bool(accepted, field="accepted", question=_("是否验收通过")))
    text = clean_text(note, field="note", label=_("验收意见"), required=not ok)
    now = timezone.now()
    with transaction.atomic():
        changes = (
            {"status": RectificationStatus.VERIFIED, "verified_by": by, "verified_at": now}
            if ok
            else {"status": RectificationStatus.OPEN, "done_at": None}
        )
        moved = Rectification.objects.filter(
            pk=rectification.pk, status=RectificationStatus.DONE
        ).update(verify_note=text, **changes)
        if moved != 1:
            raise IllegalState(_("整改尚未报告完成，不能验收。"), code="illegal_state")
        rectification.refresh_from_db()
        _close_if_done(inspection, now)
    return rectification


def _close_if_done(inspection: Inspection, now) -> None:
    left = Rectification.objects.filter(finding__inspection=inspection).exclude(
        status=RectificationStatus.VERIFIED
    )
    if inspection.status == InspectionStatus.OPEN and not left.exists():
        Inspection.objects.filter(pk=inspection.pk).update(
            status=InspectionStatus.CLOSED, closed_at=now
        )
        inspection.refresh_from_db()
