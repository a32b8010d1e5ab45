"""Quality checks (质检, FQ4).

A draw takes the orders completed in a period and picks every targeted one (rework, low
rating, new technician, a fee at or above the rule's high-cost mark) plus random others
until the target share is met. The random part uses a recorded seed over the recorded
population, so `replay(draw)` gives the same orders again. An inspector answers the category's
checklist; a failure sends the work back (the order reopened and dispatched again, or a new
rework order when it was already closed) and records a penalty for the technician.
"""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from repairhub.accounts.models import User
from repairhub.accounts.roles import Role
from repairhub.lib.uploads import CleanUpload
from repairhub.notify.outbox import post
from repairhub.workorders.actors import SYSTEM
from repairhub.workorders.errors import IllegalState, InvalidInput
from repairhub.workorders.lifecycle import apply_as_system, record_event
from repairhub.workorders.models import Category, Event, WorkOrder
from repairhub.workorders.services import create_order
from repairhub.workorders.states import EVENT_CODES, Action, Status

from .. import texts
from ..models import ChecklistItem, Penalty, QcCheck, QcPhoto, Rework, SampleDraw, SamplingRule
from ..states import EVENT_QC_FAILED, EVENT_QC_PASSED, CheckStatus, ReworkSource, SampleReason
from .common import MANAGEMENT, clean_bool, clean_text, require_role

INSPECTORS = (Role.QC_INSPECTOR, Role.ADMIN)
DRAWERS = (Role.QC_INSPECTOR, *MANAGEMENT)
CHECKABLE = (Status.COMPLETED, Status.CLOSED)
MAX_DESCRIPTION = 2000


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# --- drawing ------------------------------------------------------------------------------------


def pick(
    population: Iterable[int], targeted: Collection[int], *, seed: str, percent: Decimal
) -> list[int]:
    """The ids to check: every targeted one in the population, then random others from a
    generator seeded with `seed` until ceil(percent × population) are chosen. Pure: the same
    arguments always give the same answer."""
    pool = sorted(set(population))
    need = math.ceil(len(pool) * Decimal(percent) / 100)
    chosen = sorted(set(targeted) & set(pool))
    rest = [pk for pk in pool if pk not in set(chosen)]
    extra = max(0, min(need - len(chosen), len(rest)))
    chosen += random.Random(seed).sample(rest, extra)
    return sorted(chosen)


def _targets(rule: SamplingRule, rows: Sequence[dict]) -> dict[int, list[str]]:
    """Why each targeted order of the population must be checked."""
    low = settings.FEEDBACK_LOW_RATING
    ids = [row["pk"] for row in rows]
    linked = set(
        Rework.objects.filter(rework_id__in=ids, source=ReworkSource.WARRANTY).values_list(
            "rework_id", flat=True
        )
    )
    reasons: dict[int, list[str]] = {}
    for row in rows:
        why = []
        if rule.include_rework and (row["reopen_count"] or row["pk"] in linked):
            why.append(SampleReason.REWORK.value)
        if rule.include_low_rating and row["rating"] is not None and row["rating"] <= low:
            why.append(SampleReason.LOW_RATING.value)
        joined = row["assignee__date_joined"]
        if (
            rule.include_new_technicians
            and joined is not None
            and timedelta(0)
            <= row["completed_at"] - joined
            < timedelta(days=rule.new_technician_days)
        ):
            why.append(SampleReason.NEW_TECHNICIAN.value)
        if rule.include_high_cost and row["fee"] is not None and row["fee"] >= rule.high_cost_yuan:
            why.append(SampleReason.HIGH_COST.value)
        if why:
            reasons[row["pk"]] = why
    return reasons


def _population(start: date, end: date) -> list[dict]:
    return list(
        WorkOrder.objects.filter(
            status__in=CHECKABLE,
            completed_at__gte=_day_start(start),
            completed_at__lt=_day_start(end),
        )
        .order_by("pk")
        .values(
            "pk",
            "reopen_count",
            "rating",
            "completed_at",
            "fee",
            "assignee_id",
            "assignee__date_joined",
        )
    )


def draw_sample(*, start: date, end: date, by, seed: str | None = None) -> SampleDraw:
    """Draw the orders completed in [start, end) for checking under the current rule."""
    require_role(by, *DRAWERS, message=_("只有质检员或主管可以抽样。"))
    if not isinstance(start, date) or not isinstance(end, date) or start >= end:
        raise InvalidInput(_("抽样时间段不正确：截止日期必须晚于起始日期。"), field="end")
    if end > timezone.localdate() + timedelta(days=1):
        raise InvalidInput(_("抽样时间段不能包含未来的日期。"), field="end")
    seed = clean_text(seed, field="seed", label=_("随机种子")) or secrets.token_hex(8)
    if len(seed) > 64:
        raise InvalidInput(_("随机种子最多 64 个字符。"), field="seed")
    rule = SamplingRule.current()
    with transaction.atomic():
        # Draws must not overlap: an order is drawn in one draw at most.
        overlap = (
            SampleDraw.objects.select_for_update()
            .filter(period_start__lt=end, period_end__gt=start)
            .first()
        )
        if overlap is not None:
            raise IllegalState(
                _("%(start)s 至 %(end)s 已经抽样过，时间段不能重叠。")
                % {"start": overlap.period_start, "end": overlap.period_end},
                code="already_drawn",
            )
        rows = _population(start, end)
        targeted = _targets(rule, rows)
        population = [row["pk"] for row in rows]
        picked = pick(population, targeted, seed=seed, percent=rule.target_percent)
        draw = SampleDraw.objects.create(
            period_start=start,
            period_end=end,
            seed=seed,
            target_percent=rule.target_percent,
            population=population,
            targeted=sorted(targeted),
            picked=picked,
            drawn_by=by,
        )
        technicians = {row["pk"]: row["assignee_id"] for row in rows}
        QcCheck.objects.bulk_create(
            QcCheck(
                draw=draw,
                order_id=pk,
                reasons=targeted.get(pk, [SampleReason.RANDOM.value]),
                technician_id=technicians[pk],
            )
            for pk in picked
        )
    return draw


def replay(draw: SampleDraw) -> list[int]:
    """The orders the draw picks when run again from its recorded seed and population."""
    return pick(draw.population, draw.targeted, seed=draw.seed, percent=draw.target_percent)


# --- checking -----------------------------------------------------------------------------------


def checklist_for(category: Category) -> list[ChecklistItem]:
    """The active checklist of a category: its own items, its parent's, and those for all."""
    cond = Q(category__isnull=True) | Q(category_id=category.pk)
    if category.parent_id:
        cond |= Q(category_id=category.parent_id)
    return list(ChecklistItem.objects.filter(cond, is_active=True).order_by("sort", "id"))


def _answers(items: Sequence[ChecklistItem], given: Mapping[str, Any]) -> dict[str, bool]:
    known = {str(item.pk) for item in items}
    for key in given:
        if str(key) not in known:
            raise InvalidInput(
                _("检查项 %(item)s 不属于该工单类别的检查表。") % {"item": key}, field="answers"
            )
    answers = {}
    for item in items:
        value = given.get(str(item.pk), given.get(item.pk))  # type: ignore[call-overload]
        answers[str(item.pk)] = bool(clean_bool(value, field=f"item-{item.pk}", question=item.text))
    return answers


def _technician(value: Any) -> User:
    if isinstance(value, str):
        value = User.objects.filter(username=value.strip()).first() if value.strip() else None
    if (
        not isinstance(value, User)
        or not value.is_active
        or not value.has_role(Role.TECHNICIAN, Role.EXPERT)
    ):
        raise InvalidInput(
            _("请选择一名在职的维修人员负责返工。"), field="technician", code="unknown_technician"
        )
    return value


def add_check_photos(check: QcCheck, photos: Iterable[CleanUpload], *, by) -> list[QcPhoto]:
    """Attach photos to a pending check before its verdict (the API sends them first)."""
    require_role(by, *INSPECTORS, message=_("只有质检员可以上传质检照片。"))
    uploads = list(photos)
    if not uploads:
        raise InvalidInput(_("请选择要上传的照片。"), field="files", code="required")
    if any(up.kind != "image" for up in uploads):
        raise InvalidInput(_("质检只接受照片。"), field="files", code="unsupported_type")
    if not check.is_pending:
        raise IllegalState(_("该工单已经质检过了。"), code="already_checked")
    return [_store_photo(check, up) for up in uploads]


def _store_photo(check: QcCheck, up: CleanUpload) -> QcPhoto:
    photo = QcPhoto(check_row=check, original_name=up.original_name)
    photo.file.save(f"{check.order.number}.{up.extension}", ContentFile(up.data), save=False)
    photo.save()
    return photo


@dataclass
class CheckResult:
    check: QcCheck
    rework_order: WorkOrder | None = None
    penalty: Penalty | None = None


def record_check(
    check: QcCheck,
    *,
    by,
    passed: Any,
    answers: Mapping[str, Any] | None = None,
    note: str = "",
    photos: Iterable[CleanUpload] = (),
    technician: Any = None,
    channel: str = "web",
) -> CheckResult:
    """The inspector's verdict on one drawn order, with the checklist's answers and photos.

    A failure sends the work back to `technician` (default: whoever did it) and records a
    penalty of FEEDBACK_QC_PENALTY_POINTS against the one who did it.
    """
    require_role(by, *INSPECTORS, message=_("只有质检员可以录入质检结果。"))
    if not check.is_pending:
        raise IllegalState(_("该工单已经质检过了。"), code="already_checked")
    order = check.order
    verdict = bool(clean_bool(passed, field="passed", question=_("质检结论（合格或不合格）")))
    items = checklist_for(order.category)
    results = _answers(items, answers or {})
    if verdict and not all(results.values()):
        raise InvalidInput(_("有检查项不合格，结论不能为合格。"), field="passed")
    text = clean_text(note, field="note", label=_("质检说明"), required=not verdict)
    uploads = list(photos)
    if any(up.kind != "image" for up in uploads):
        raise InvalidInput(_("质检只接受照片。"), field="photos")
    if not verdict and not uploads and not check.photos.exists():
        raise InvalidInput(_("质检不合格时请上传现场照片。"), field="photos", code="required")
    worker: User | None = None
    if not verdict:
        worker = _technician(technician if technician not in (None, "") else check.technician)
        if order.status not in CHECKABLE:
            raise IllegalState(
                _("工单当前状态为“%(status)s”，不能安排返工。")
                % {"status": Status(order.status).label},
                code="illegal_state",
            )
    now = timezone.now()
    result = CheckResult(check)
    with transaction.atomic():
        status = CheckStatus.PASSED if verdict else CheckStatus.FAILED
        claimed = QcCheck.objects.filter(pk=check.pk, status=CheckStatus.PENDING).update(
            status=status, inspector=by, answers=results, note=text, checked_at=now
        )
        if claimed != 1:
            raise IllegalState(_("该工单已经质检过了。"), code="already_checked")
        check.refresh_from_db()
        for up in uploads:
            _store_photo(check, up)
        data = {"check": check.pk, "reasons": check.reasons, "note": text}
        record_event(order, EVENT_QC_PASSED if verdict else EVENT_QC_FAILED, data=data, by=by)
        if worker is not None:
            result.rework_order = _send_back(order, worker, text)
            check.rework_order = result.rework_order
            check.save(update_fields=["rework_order"])
            Rework.objects.create(
                original=order,
                rework=result.rework_order,
                source=ReworkSource.QC,
                technician=check.technician,
                category_id=order.category_id,
                created_by=by,
            )
            if check.technician is not None:
                result.penalty = Penalty.objects.create(
                    technician=check.technician,
                    order=order,
                    check_row=check,
                    points=settings.FEEDBACK_QC_PENALTY_POINTS,
                    reason=text,
                )
                post(
                    [check.technician],
                    texts.QC_FAILED,
                    {
                        "number": order.number,
                        "rework": result.rework_order.number,
                        "points": settings.FEEDBACK_QC_PENALTY_POINTS,
                        "note": text,
                    },
                    order=order,
                )
    return result


def _send_back(order: WorkOrder, technician: User, note: str) -> WorkOrder:
    """Rework through the lifecycle: a completed order is reopened and dispatched again; a
    closed one cannot be reopened, so a new order is created for the same fault and place."""
    reason = _("质检不合格：%(note)s") % {"note": note}
    if order.status == Status.COMPLETED:
        apply_as_system(order, Action.REOPEN, params={"reason": reason})
        apply_as_system(order, Action.DISPATCH, params={"technician": technician, "reason": reason})
        return order
    description = _("【质检返工】原工单 %(number)s：%(description)s") % {
        "number": order.number,
        "description": order.description,
    }
    rework, _created = create_order(
        category=order.category,
        place=order.place,
        address=order.address,
        description=description[:MAX_DESCRIPTION],
        reporter_name=order.reporter_name,
        reporter_phone=order.reporter_phone,
        channel=order.channel,
        urgency=order.urgency,
        reporter=order.reporter,
        remarks=reason,
        by=SYSTEM,
    )
    if rework.status == Status.SUBMITTED:
        apply_as_system(rework, Action.ACCEPT)
    apply_as_system(rework, Action.DISPATCH, params={"technician": technician, "reason": reason})
    return rework


# --- how much was checked -------------------------------------------------------------------------


@dataclass(frozen=True)
class SamplingSummary:
    start: date
    end: date
    target_percent: Decimal
    completed: int  # orders completed in the period (each once, however often it was completed)
    drawn: int
    checked: int
    failed: int

    @property
    def drawn_percent(self) -> Decimal:
        return _percent(self.drawn, self.completed)

    @property
    def achieved_percent(self) -> Decimal:
        return _percent(self.checked, self.completed)

    @property
    def meets_target(self) -> bool:
        return self.completed > 0 and self.achieved_percent >= self.target_percent


def _percent(part: int, whole: int) -> Decimal:
    if not whole:
        return Decimal("0.0")
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1"))


def sampling_summary(start: date, end: date) -> SamplingSummary:
    """Target against achievement for [start, end): checks of orders drawn from this period,
    over the orders completed in it."""
    completed = (
        Event.objects.filter(
            code=EVENT_CODES[Action.COMPLETE],
            created_at__gte=_day_start(start),
            created_at__lt=_day_start(end),
        )
        .values("order_id")
        .distinct()
        .count()
    )
    checks = QcCheck.objects.filter(draw__period_start__gte=start, draw__period_end__lte=end)
    return SamplingSummary(
        start=start,
        end=end,
        target_percent=SamplingRule.current().target_percent,
        completed=completed,
        drawn=checks.values("order_id").distinct().count(),
        checked=checks.exclude(status=CheckStatus.PENDING).values("order_id").distinct().count(),
        failed=checks.filter(status=CheckStatus.FAILED).count(),
    )
