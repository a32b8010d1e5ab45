"""Complaints (投诉, FQ3).

Registered from the phone, the web, a walk-in or a letter (with its scan), routed to a
responsible department, due for first contact within FEEDBACK_COMPLAINT_FIRST_CONTACT_HOURS on
the complaint clock (24×7 by default). Handlers record contact, findings, the resolution and
the complainant's satisfaction (states.COMPLAINT_STEPS). A complaint about a matter already
complained of within FEEDBACK_COMPLAINT_REPEAT_DAYS is a repeat: flagged, escalated at once
and counted against the earlier complaint's handler.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from repairhub.accounts.models import User
from repairhub.accounts.roles import Role
from repairhub.lib.crypto import blind_index
from repairhub.lib.phones import normalize_phone
from repairhub.lib.uploads import CleanUpload, clean_upload
from repairhub.notify.outbox import post
from repairhub.sla.calendar import add_working_time
from repairhub.sla.defaults import default_calendar
from repairhub.workorders.access import can_see
from repairhub.workorders.actors import SYSTEM
from repairhub.workorders.errors import IllegalState, InvalidInput, NotAllowed, NotVisible
from repairhub.workorders.lifecycle import record_event
from repairhub.workorders.models import WorkOrder

from .. import texts
from ..models import Complaint, ComplaintCategory, ComplaintEntry, Department
from ..states import (
    EVENT_COMPLAINT,
    HANDLER_KINDS,
    ComplaintChannel,
    ComplaintStatus,
    EntryKind,
    Satisfaction,
    complaint_step,
)
from .common import DESK, MANAGEMENT, clean_text, user_of

MAX_SCAN_BYTES = 10 * 1024 * 1024

# --- who sees what ------------------------------------------------------------------------------


def sees_all_complaints(user) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and (user.has_role(*MANAGEMENT) or user.has_perm("feedback.view_all_complaints"))
    )


def visible_complaints(user) -> QuerySet[Complaint]:
    """Complaints this user may see: all (managers, admins, holders of the permission); else
    those of his departments, those he handles or registered, his own, and — when
    FEEDBACK_SUBJECT_SEES_COMPLAINTS — those about him (without the complainant's identity)."""
    qs = Complaint.objects.all()
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return qs.none()
    if sees_all_complaints(user):
        return qs
    cond = Q(complainant=user) | Q(handler=user) | Q(registered_by=user)
    if user.is_staff_member:
        cond |= Q(department__members=user) | Q(department__head=user)
    if settings.FEEDBACK_SUBJECT_SEES_COMPLAINTS:
        cond |= Q(person=user)
    return qs.filter(cond).distinct()


def handles(user, complaint: Complaint) -> bool:
    """Whether the user may work on the complaint: its department's members and head, its
    handler, management."""
    if sees_all_complaints(user):
        return True
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if complaint.person_id == user.pk:
        return False  # nobody handles a complaint about himself
    if complaint.handler_id == user.pk or complaint.department.head_id == user.pk:
        return True
    return complaint.department.members.filter(pk=user.pk).exists()


def shows_identity(user, complaint: Complaint) -> bool:
    """Whether the user may see who complained: never the person complained about; the
    complainant himself and those who handle it otherwise."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if complaint.person_id is not None and complaint.person_id == user.pk:
        return False
    if complaint.complainant_id == user.pk or complaint.registered_by_id == user.pk:
        return True
    return handles(user, complaint)


def access_complaint(user, number: str) -> Complaint:
    complaint = (
        visible_complaints(user)
        .select_related("category", "department", "handler", "person", "order", "repeat_of")
        .filter(number=number)
        .first()
    )
    if complaint is None:
        raise NotVisible(_("找不到投诉 %(number)s，或您无权查看。") % {"number": number})
    return complaint


# --- registering --------------------------------------------------------------------------------


def clean_scan(name: str, data: bytes) -> CleanUpload:
    """A letter's scan: a photo (re-encoded, like every upload) or a PDF."""
    if data[:5] == b"%PDF-":
        if len(data) > MAX_SCAN_BYTES:
            raise InvalidInput(_("扫描件太大：最大 10 MB。"), field="scan", code="too_large")
        return CleanUpload("pdf", "application/pdf", "pdf", data, name[:200])
    try:
        upload = clean_upload(name, data)
    except ValidationError as exc:
        raise InvalidInput(exc.messages[0], field="scan", code=exc.code or "invalid") from None
    if upload.kind != "image":
        raise InvalidInput(_("扫描件只能是照片或 PDF。"), field="scan", code="unsupported_type")
    return upload


def _category(value: Any) -> ComplaintCategory:
    if isinstance(value, str):
        value = (
            ComplaintCategory.objects.filter(code=value.strip()).first() if value.strip() else None
        )
    if not isinstance(value, ComplaintCategory) or not value.is_active:
        raise InvalidInput(_("请选择投诉类别。"), field="category", code="required")
    return value


def _department(value: Any, category: ComplaintCategory) -> Department:
    if isinstance(value, str):
        value = Department.objects.filter(code=value.strip()).first() if value.strip() else None
    if value is None and category.department_id:
        value = category.department
    if not isinstance(value, Department) or not value.is_active:
        raise InvalidInput(_("请选择负责处理的部门。"), field="department", code="required")
    return value


def _person(value: Any) -> User | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        value = User.objects.filter(username=value.strip()).first()
    if not isinstance(value, User):
        raise InvalidInput(_("找不到被投诉人。"), field="person", code="unknown_person")
    return value


def _order(value: Any, by) -> WorkOrder | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        value = WorkOrder.objects.filter(number=value.strip()).first()
    if not isinstance(value, WorkOrder) or not can_see(by, value):
        raise InvalidInput(_("找不到相关工单，或您无权查看。"), field="order", code="unknown_order")
    return value


def first_contact_due(at: datetime) -> datetime:
    calendar = default_calendar(settings.FEEDBACK_COMPLAINT_CALENDAR)
    hours = timedelta(hours=settings.FEEDBACK_COMPLAINT_FIRST_CONTACT_HOURS)
    due = add_working_time(calendar, at, hours)
    assert due is not None
    return due


def find_repeat(
    *,
    category: ComplaintCategory,
    order: WorkOrder | None,
    person: User | None,
    phone_index: str,
    complainant: User | None,
    now: datetime,
) -> Complaint | None:
    """The latest earlier complaint about the same matter: the same order, or else the same
    complainant about the same category and person, within FEEDBACK_COMPLAINT_REPEAT_DAYS."""
    since = now - timedelta(days=settings.FEEDBACK_COMPLAINT_REPEAT_DAYS)
    earlier = Complaint.objects.filter(created_at__gte=since).select_related("department")
    if order is not None:
        match = earlier.filter(order=order)
    else:
        who = Q(pk__in=[])
        if phone_index:
            who |= Q(complainant_phone_index=phone_index)
        if complainant is not None:
            who |= Q(complainant=complainant)
        match = earlier.filter(who, category=category, person=person, order__isnull=True)
    return match.order_by("-created_at", "-id").first()


def register_complaint(
    *,
    channel: Any,
    category: Any,
    description: str,
    by,
    complainant_name: str = "",
    complainant_phone: str = "",
    department: Any = None,
    order: Any = None,
    person: Any = None,
    scan: CleanUpload | None = None,
) -> Complaint:
    """Register a complaint from any channel. The desk registers phone, walk-in and letter
    complaints; anyone signed in may complain on the web, about his own orders."""
    if channel in (None, ""):
        raise InvalidInput(
            _("请选择投诉渠道：电话、网上、来访或信件。"), field="channel", code="required"
        )
    if channel not in ComplaintChannel.values:
        raise InvalidInput(
            _("投诉渠道只能是：电话、网上、来访或信件。"), field="channel", code="invalid"
        )
    user = user_of(by)
    if user is None or not user.is_active:
        raise NotAllowed(_("请先登录再提交投诉。"))
    desk = user.has_role(*DESK)
    if channel != ComplaintChannel.WEB and not desk:
        raise NotAllowed(_("电话、来访和信件投诉由值班员登记。"))
    cat = _category(category)
    dept = _department(department, cat)
    text = clean_text(description, field="description", label=_("投诉内容"), required=True)
    self_service = channel == ComplaintChannel.WEB and not desk
    name = clean_text(
        complainant_name or (user.name if self_service else ""),
        field="complainant_name",
        label=_("投诉人姓名"),
        required=True,
    )[:60]
    raw_phone = complainant_phone or (user.phone if self_service else "")
    phone = ""
    if raw_phone or channel != ComplaintChannel.LETTER:
        try:
            phone = normalize_phone(raw_phone)
        except ValidationError as exc:
            raise InvalidInput(
                exc.messages[0], field="complainant_phone", code="invalid_phone"
            ) from None
    if channel == ComplaintChannel.LETTER and scan is None:
        raise InvalidInput(_("信件投诉请上传信件扫描件。"), field="scan", code="required")
    related = _order(order, user)
    subject = _person(person)
    now = timezone.now()
    index = blind_index(phone) if phone else ""
    with transaction.atomic():
        earlier = find_repeat(
            category=cat,
            order=related,
            person=subject,
            phone_index=index,
            complainant=user if self_service else None,
            now=now,
        )
        complaint = Complaint(
            number=f"tmp-{uuid.uuid4().hex[:28]}",  # unique until the pk is known
            channel=channel,
            category=cat,
            department=dept,
            description=text,
            complainant_name=name,
            complainant_phone=phone,
            complainant_phone_index=index,
            complainant=user if self_service else None,
            order=related,
            person=subject,
            first_contact_due=first_contact_due(now),
            registered_by=user,
            created_at=now,
            updated_at=now,
        )
        if scan is not None:
            complaint.scan.save(f"letter.{scan.extension}", ContentFile(scan.data), save=False)
        complaint.save()
        complaint.number = f"TS-{timezone.localdate(now):%Y%m%d}-{complaint.pk:04d}"
        complaint.save(update_fields=["number"])
        if related is not None:
            # By the system: the order's timeline must not name the complainant.
            record_event(related, EVENT_COMPLAINT, data={"complaint": complaint.number}, by=SYSTEM)
        _tell_department(complaint)
        if earlier is not None:
            _escalate_repeat(complaint, earlier, now)
    return complaint


def _department_people(department: Department) -> list[User]:
    people = list(department.members.filter(is_active=True))
    if department.head is not None and department.head.is_active:
        people.append(department.head)
    return people


def _managers() -> list[User]:
    return list(User.objects.filter(is_active=True, role_grants__role=Role.MANAGER).distinct())


def _values(complaint: Complaint) -> dict[str, Any]:
    return {
        "complaint": complaint.number,
        "category": complaint.category.name,
        "department": complaint.department.name,
        "due": timezone.localtime(complaint.first_contact_due).strftime("%m-%d %H:%M"),
        "summary": complaint.description[:60],
    }


def _tell_department(complaint: Complaint) -> None:
    post(_department_people(complaint.department), texts.COMPLAINT_NEW, _values(complaint))


def _escalate_repeat(complaint: Complaint, earlier: Complaint, now: datetime) -> None:
    handler = earlier.handler or earlier.department.head
    Complaint.objects.filter(pk=complaint.pk).update(
        repeat_of=earlier, counted_against=handler, escalated_at=now
    )
    complaint.repeat_of, complaint.counted_against, complaint.escalated_at = earlier, handler, now
    ComplaintEntry.objects.create(
        complaint=complaint,
        kind=EntryKind.ESCALATION,
        text=_("与投诉 %(earlier)s 为同一事项，已升级。") % {"earlier": earlier.number},
    )
    head = complaint.department.head
    post(
        [*([head] if head else []), *_managers()],
        texts.COMPLAINT_REPEAT,
        {
            **_values(complaint),
            "earlier": earlier.number,
            "handler": handler.name if handler else _("未指定"),
        },
        urgent=True,
    )


# --- handling -----------------------------------------------------------------------------------


def assign_handler(complaint: Complaint, *, handler: Any, by) -> Complaint:
    """Give the complaint to a member of its department (the head or management, or a member
    taking it himself)."""
    if not handles(by, complaint):
        raise NotAllowed(_("您无权处理该投诉。"))
    if isinstance(handler, str):
        handler = User.objects.filter(username=handler.strip()).first()
    dept = complaint.department
    if (
        not isinstance(handler, User)
        or not handler.is_active
        or not (handler.pk == dept.head_id or dept.members.filter(pk=handler.pk).exists())
    ):
        raise InvalidInput(
            _("处理人必须是%(department)s的成员。") % {"department": dept.name}, field="handler"
        )
    if handler.pk == complaint.person_id:
        raise InvalidInput(_("被投诉人不能处理投诉自己的事项。"), field="handler")
    if not (sees_all_complaints(by) or by.pk in (dept.head_id, handler.pk)):
        raise NotAllowed(_("只有部门负责人或主管可以把投诉指派给他人。"))
    if complaint.status == ComplaintStatus.CLOSED:
        raise IllegalState(_("投诉已关闭。"), code="illegal_state")
    with transaction.atomic():
        Complaint.objects.filter(pk=complaint.pk).update(handler=handler, updated_at=timezone.now())
        complaint.handler = handler
        ComplaintEntry.objects.create(
            complaint=complaint, kind=EntryKind.ASSIGNED, text=handler.name, by=by
        )
    return complaint


def add_entry(
    complaint: Complaint, *, kind: Any, by, text: str = "", satisfaction: Any = None
) -> ComplaintEntry:
    """Record a contact, a finding, the resolution, the complainant's satisfaction or a note;
    the complaint moves as states.COMPLAINT_STEPS says."""
    if kind not in HANDLER_KINDS:
        raise InvalidInput(
            _("记录类型只能是：联系投诉人、调查情况、处理结果、投诉人满意度或备注。"),
            field="kind",
            code="required" if kind in (None, "") else "invalid",
        )
    if not handles(by, complaint):
        raise NotAllowed(_("您无权处理该投诉。"))
    step = complaint_step(kind, complaint.status)
    if step is None:
        raise IllegalState(
            _("投诉当前状态为“%(status)s”，不能记录“%(kind)s”。")
            % {
                "status": ComplaintStatus(complaint.status).label,
                "kind": EntryKind(kind).label,
            }
        )
    changes: dict[str, Any] = {}
    now = timezone.now()
    if kind == EntryKind.SATISFACTION:
        if satisfaction not in Satisfaction.values:
            raise InvalidInput(
                _("请选择投诉人满意度：满意、基本满意或不满意。"),
                field="satisfaction",
                code="required" if satisfaction in (None, "") else "invalid",
            )
        body = clean_text(text, field="text", label=_("说明"))
        changes.update(satisfaction=satisfaction, closed_at=now)
    else:
        body = clean_text(text, field="text", label=EntryKind(kind).label, required=True)
    if kind == EntryKind.CONTACT and complaint.first_contact_at is None:
        changes["first_contact_at"] = now
    if kind == EntryKind.RESOLUTION:
        changes["resolution"] = body
    if complaint.handler_id is None and by.pk != complaint.person_id:
        changes["handler"] = by  # whoever first works on it handles it
    target = step.target or complaint.status
    with transaction.atomic():
        moved = Complaint.objects.filter(pk=complaint.pk, status=complaint.status).update(
            status=target, updated_at=now, **changes
        )
        if moved != 1:
            raise IllegalState(_("投诉已被他人更新，请刷新后重试。"), code="stale_version")
        entry = ComplaintEntry.objects.create(
            complaint=complaint, kind=kind, text=body, by=by, created_at=now
        )
    complaint.refresh_from_db()
    return entry


# --- deadlines (periodic) ------------------------------------------------------------------------


def check_deadlines(now: datetime | None = None) -> tuple[int, int]:
    """Remind before the first-contact deadline, escalate after it (urgent, to the department
    head and managers). Each complaint is reminded and escalated once. Returns the counts."""
    now = now or timezone.now()
    waiting = Complaint.objects.filter(first_contact_at__isnull=True).select_related(
        "department__head", "handler", "category"
    )
    remind_by = now + timedelta(hours=settings.FEEDBACK_COMPLAINT_REMIND_HOURS)
    reminded = escalated = 0
    for complaint in waiting.filter(
        reminded_at__isnull=True,
        escalated_at__isnull=True,
        first_contact_due__lte=remind_by,
        first_contact_due__gt=now,
    ):
        with transaction.atomic():
            if not Complaint.objects.filter(pk=complaint.pk, reminded_at__isnull=True).update(
                reminded_at=now
            ):
                continue
            ComplaintEntry.objects.create(complaint=complaint, kind=EntryKind.REMINDER)
            people = [complaint.handler] if complaint.handler else None
            post(
                people or _department_people(complaint.department),
                texts.COMPLAINT_DUE_SOON,
                _values(complaint),
            )
            reminded += 1
    for complaint in waiting.filter(escalated_at__isnull=True, first_contact_due__lte=now):
        with transaction.atomic():
            if not Complaint.objects.filter(pk=complaint.pk, escalated_at__isnull=True).update(
                escalated_at=now
            ):
                continue
            ComplaintEntry.objects.create(
                complaint=complaint,
                kind=EntryKind.ESCALATION,
                text=_("超过首次联系时限仍未联系投诉人，已升级。"),
            )
            head = complaint.department.head
            post(
                [*([head] if head else []), *_managers()],
                texts.COMPLAINT_OVERDUE,
                _values(complaint),
                urgent=True,
            )
            escalated += 1
    return reminded, escalated
