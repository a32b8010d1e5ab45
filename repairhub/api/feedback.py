"""/api/v1 feedback: ratings, follow-up visits and referrals, quality checks, warranty and
rework, complaints, supervision inspections (FQ1–FQ6).

Each endpoint parses (schema) → checks visibility → calls one service of
repairhub.feedback.services, the same as the pages → serialises. Refusals are the services'
(workorders.errors) and are shaped by errors.py.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status as Reply
from pydantic import ConfigDict

from repairhub.accounts.roles import Role
from repairhub.feedback import queries, services
from repairhub.feedback.models import (
    Complaint,
    FollowUp,
    Inspection,
    QcCheck,
    Rating,
    Rectification,
    Referral,
    Rework,
    SampleDraw,
)
from repairhub.feedback.services.common import DESK, MANAGEMENT
from repairhub.feedback.services.complaints import (
    access_complaint,
    clean_scan,
    shows_identity,
    visible_complaints,
)
from repairhub.feedback.services.quality import DRAWERS, checklist_for
from repairhub.feedback.services.warranty import warranty_until
from repairhub.feedback.states import ComplaintStatus
from repairhub.lib.uploads import clean_upload
from repairhub.places.models import Asset, Place
from repairhub.workorders.access import access_work_order, order_for_token
from repairhub.workorders.errors import InvalidInput, NotAllowed, NotVisible
from repairhub.workorders.models import Category, WorkOrder

from .auth import OPTIONAL
from .schemas import ErrorOut

router = Router(tags=["feedback"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _local(value: datetime | None) -> datetime | None:
    return timezone.localtime(value) if value is not None else None


def _require(user, *roles: str, message: str) -> None:
    if not user.has_role(*roles):
        raise NotAllowed(message)


class PageQuery(Schema):
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0)


def _page(qs, filters: PageQuery) -> tuple[list, int]:
    return list(qs[filters.offset : filters.offset + filters.limit]), qs.count()


# --- ratings (FQ1) ------------------------------------------------------------------------------


class RatingIn(Schema):
    """Scores 1–5. `agent_*` only when an agent registered the report; `price_transparency`
    only when the category is paid (GET the rating form's `dimensions` to know)."""

    model_config = ConfigDict(extra="forbid")

    timeliness: int | None = Field(None, description="维修及时（1–5，必填）")
    quality: int | None = Field(None, description="维修质量（1–5，必填）")
    attitude: int | None = Field(None, description="服务态度（1–5，必填）")
    result: int | None = Field(None, description="维修结果（1–5，必填）")
    agent_attitude: int | None = Field(None, description="值班员接线态度（值班员登记的报修必填）")
    agent_response: int | None = Field(None, description="值班员响应速度（值班员登记的报修必填）")
    agent_handling: int | None = Field(None, description="值班员处理办法（值班员登记的报修必填）")
    price_transparency: int | None = Field(None, description="收费透明（收费类别必填）")
    comment: str | None = Field(None, description="评价（选填）")
    version: int | None = Field(None, ge=1, description="乐观锁：工单当前 version（仅首次评价）")


class RatingOut(Schema):
    number: str
    dimensions: list[str] = Field(..., description="该工单需要评价的维度")
    scores: dict[str, int] = Field(..., description="已给出的各维度评分")
    overall: int = Field(..., description="综合评分：维修人员四项的平均值，四舍五入")
    comment: str
    technician: str | None
    agent: str | None
    created_at: datetime
    changed_at: datetime | None
    editable_until: datetime
    editable: bool


def rating_out(rating: Rating) -> dict[str, Any]:
    from repairhub.feedback.services.ratings import dimensions

    return {
        "number": rating.order.number,
        "dimensions": dimensions(rating.order),
        "scores": {name: score for name, _label, score in rating.scores()},
        "overall": rating.overall,
        "comment": rating.comment,
        "technician": rating.technician.username if rating.technician_id else None,
        "agent": rating.agent.username if rating.agent_id else None,
        "created_at": _local(rating.created_at),
        "changed_at": _local(rating.changed_at),
        "editable_until": _local(rating.editable_until()),
        "editable": rating.is_editable,
    }


def _rating_of(order: WorkOrder) -> Rating:
    rating = (
        Rating.objects.select_related("order__category", "technician", "agent")
        .filter(order=order)
        .first()
    )
    if rating is None:
        raise NotVisible(_("工单 %(number)s 还没有评价。") % {"number": order.number})
    return rating


def _scores(payload: RatingIn) -> tuple[dict, str]:
    values = payload.model_dump(exclude={"comment", "version"})
    return values, payload.comment or ""


@router.get("/orders/{number}/rating", response={200: RatingOut, **ERRORS}, summary="查看评价")
def get_rating(request: HttpRequest, number: str):
    """The reporter's rating of an order, for whoever may see the order."""
    return rating_out(_rating_of(access_work_order(request.auth, number)))


@router.post(
    "/orders/{number}/rating", response={201: RatingOut, **ERRORS}, summary="评价并确认完成"
)
def rate(request: HttpRequest, number: str, payload: RatingIn):
    """The reporter rates his completed order and confirms it in one step. Once per order."""
    order = access_work_order(request.auth, number)
    scores, comment = _scores(payload)
    rating = services.rate_order(
        order,
        by=request.auth,
        scores=scores,
        comment=comment,
        channel="api",
        version=payload.version,
    )
    return Reply(201, rating_out(rating))


@router.put("/orders/{number}/rating", response={200: RatingOut, **ERRORS}, summary="修改评价")
def change_rating(request: HttpRequest, number: str, payload: RatingIn):
    """The reporter changes his rating within FEEDBACK_RATING_EDIT_HOURS of giving it."""
    order = access_work_order(request.auth, number)
    scores, comment = _scores(payload)
    rating = services.change_rating(
        _rating_of(order), by=request.auth, scores=scores, comment=comment, channel="api"
    )
    return rating_out(rating)


@router.post(
    "/tracking/{token}/rating",
    auth=OPTIONAL,
    response={201: RatingOut, **ERRORS},
    summary="凭跟踪链接评价",
)
def rate_by_link(request: HttpRequest, token: str, payload: RatingIn):
    """For reporters without an account: the token of the private tracking link stands for
    the reporter (a follower's link may not rate)."""
    order, holder = order_for_token(token)
    scores, comment = _scores(payload)
    rating = services.rate_order(
        order, by=holder, scores=scores, comment=comment, channel="api", version=payload.version
    )
    return Reply(201, rating_out(rating))


# --- follow-up visits (FQ2) ---------------------------------------------------------------------


class FollowUpOut(Schema):
    number: str
    status: str = Field(..., description="工单状态")
    kind: Literal["completed", "rejected"]
    due_at: datetime
    attempts: int
    flags: list[str] = Field(
        ..., description="排在前面的原因：维修失败、低评分、催单、未接通次数（驳回见 status）"
    )
    script: str = Field(..., description="回访话术")
    reporter_name: str
    reporter_phone: str
    technician: str | None
    rating: int | None


class FollowUpListOut(Schema):
    items: list[FollowUpOut]
    count: int


class VisitIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reached: bool | None = Field(None, description="是否联系上报修人（必填）")
    fixed: bool | None = Field(None, description="问题是否已解决（完工回访、联系上时必填）")
    disputes: bool | None = Field(None, description="对驳回是否有异议（驳回回访、联系上时必填）")
    satisfied: bool | None = Field(None, description="是否满意（联系上时必填）")
    notes: str | None = Field(None, description="回访记录")


class VisitOut(Schema):
    id: int
    number: str
    reached: bool
    fixed: bool | None
    disputes: bool | None
    satisfied: bool | None
    notes: str
    by: str
    created_at: datetime
    follow_up_status: str = Field(..., description="pending（仍待回访）、done、unreached")
    referral: int | None = Field(
        None, description="上报管理部门的事项编号（未修好或对驳回有异议时）"
    )


class ReferralOut(Schema):
    id: int
    number: str
    reason: str
    status: str
    action: str
    closed_by: str | None
    created_at: datetime
    closed_at: datetime | None


class ReferralListOut(Schema):
    items: list[ReferralOut]
    count: int


class ReferralQuery(PageQuery):
    status: Literal["open", "closed"] = "open"


class CloseReferralIn(Schema):
    model_config = ConfigDict(extra="forbid")

    action: str | None = Field(None, description="处理措施（必填）")


def follow_up_out(row: queries.VisitRow) -> dict[str, Any]:
    f, order = row.follow_up, row.follow_up.order
    return {
        "number": order.number,
        "status": order.status,
        "kind": f.kind,
        "due_at": _local(f.due_at),
        "attempts": f.attempts,
        "flags": row.flags,
        "script": row.script,
        "reporter_name": order.reporter_name,
        "reporter_phone": order.reporter_phone,
        "technician": order.assignee.username if order.assignee_id else None,
        "rating": order.rating,
    }


def referral_out(r: Referral) -> dict[str, Any]:
    return {
        "id": r.pk,
        "number": r.order.number,
        "reason": r.reason,
        "status": r.status,
        "action": r.action,
        "closed_by": r.closed_by.username if r.closed_by_id else None,
        "created_at": _local(r.created_at),
        "closed_at": _local(r.closed_at),
    }


@router.get("/followups", response={200: FollowUpListOut, **ERRORS}, summary="待回访队列")
def list_follow_ups(request: HttpRequest, filters: Query[PageQuery]):
    """Visits due now, in the order an agent should make them (agents, dispatchers,
    managers, admins)."""
    _require(request.auth, *DESK, message=_("只有值班员、调度员或主管可以查看回访队列。"))
    page, count = _page(queries.follow_up_queue(), filters)
    return {"items": [follow_up_out(r) for r in queries.visit_rows(page)], "count": count}


@router.post("/orders/{number}/visits", response={201: VisitOut, **ERRORS}, summary="记录回访结果")
def record_visit(request: HttpRequest, number: str, payload: VisitIn):
    order = access_work_order(request.auth, number)
    visit = services.record_visit(
        order, by=request.auth, channel="api", **payload.model_dump(exclude_none=True)
    )
    follow_up = FollowUp.objects.get(pk=visit.follow_up_id)
    referral = visit.referrals.values_list("pk", flat=True).first()
    return Reply(
        201,
        {
            "id": visit.pk,
            "number": order.number,
            "reached": visit.reached,
            "fixed": visit.fixed,
            "disputes": visit.disputes,
            "satisfied": visit.satisfied,
            "notes": visit.notes,
            "by": visit.by.username,
            "created_at": _local(visit.created_at),
            "follow_up_status": follow_up.status,
            "referral": referral,
        },
    )


@router.get("/referrals", response={200: ReferralListOut, **ERRORS}, summary="回访上报事项")
def list_referrals(request: HttpRequest, filters: Query[ReferralQuery]):
    _require(request.auth, *MANAGEMENT, message=_("只有主管或管理员可以查看上报事项。"))
    qs = Referral.objects.filter(status=filters.status).select_related("order", "closed_by")
    page, count = _page(qs.order_by("created_at", "id"), filters)
    return {"items": [referral_out(r) for r in page], "count": count}


@router.post(
    "/referrals/{referral_id}/close", response={200: ReferralOut, **ERRORS}, summary="处理上报事项"
)
def close_referral(request: HttpRequest, referral_id: int, payload: CloseReferralIn):
    _require(request.auth, *MANAGEMENT, message=_("只有主管或管理员可以处理上报事项。"))
    referral = Referral.objects.select_related("order").filter(pk=referral_id).first()
    if referral is None:
        raise NotVisible(_("找不到上报事项 %(id)s。") % {"id": referral_id})
    services.close_referral(referral, by=request.auth, action=payload.action or "", channel="api")
    return referral_out(Referral.objects.select_related("order", "closed_by").get(pk=referral_id))


# --- quality checks (FQ4) -----------------------------------------------------------------------


class DrawIn(Schema):
    model_config = ConfigDict(extra="forbid")

    start: date = Field(..., description="起始日期（含）")
    end: date = Field(..., description="截止日期（不含）")
    seed: str | None = Field(None, description="随机种子；留空自动生成")


class DrawOut(Schema):
    id: int
    start: date
    end: date
    seed: str
    target_percent: Decimal
    population: int = Field(..., description="期间完工的工单数")
    picked: list[str] = Field(..., description="抽中的工单号")
    targeted: list[str] = Field(..., description="定向抽取的工单号（返修、低评分、新维修工）")


class ChecklistItemOut(Schema):
    id: int
    text: str


class CheckOut(Schema):
    id: int
    number: str
    category: str
    technician: str | None
    reasons: list[str]
    status: str
    inspector: str | None
    answers: dict[str, bool]
    note: str
    photos: int
    rework_order: str | None
    checklist: list[ChecklistItemOut]


class CheckListOut(Schema):
    items: list[CheckOut]
    count: int


class CheckQuery(PageQuery):
    status: Literal["pending", "passed", "failed"] = "pending"


class CheckIn(Schema):
    model_config = ConfigDict(extra="forbid")

    passed: bool | None = Field(None, description="合格 true / 不合格 false（必填）")
    answers: dict[str, bool] = Field(default_factory=dict, description="检查项 id → 是否合格")
    note: str | None = Field(None, description="质检说明（不合格必填）")
    technician: str | None = Field(None, description="返工维修人员用户名（默认原维修人员）")


class SummaryOut(Schema):
    start: date
    end: date
    target_percent: Decimal
    completed: int
    drawn: int
    checked: int
    failed: int
    drawn_percent: Decimal
    achieved_percent: Decimal
    meets_target: bool


def draw_out(draw: SampleDraw) -> dict[str, Any]:
    numbers = dict(
        WorkOrder.objects.filter(pk__in=draw.picked + draw.targeted).values_list("pk", "number")
    )
    return {
        "id": draw.pk,
        "start": draw.period_start,
        "end": draw.period_end,
        "seed": draw.seed,
        "target_percent": draw.target_percent,
        "population": len(draw.population),
        "picked": [numbers[pk] for pk in draw.picked if pk in numbers],
        "targeted": [numbers[pk] for pk in draw.targeted if pk in numbers],
    }


def check_out(check: QcCheck) -> dict[str, Any]:
    return {
        "id": check.pk,
        "number": check.order.number,
        "category": check.order.category.code,
        "technician": check.technician.username if check.technician_id else None,
        "reasons": check.reasons,
        "status": check.status,
        "inspector": check.inspector.username if check.inspector_id else None,
        "answers": check.answers,
        "note": check.note,
        "photos": check.photos.count(),
        "rework_order": check.rework_order.number if check.rework_order_id else None,
        "checklist": [
            {"id": item.pk, "text": item.text} for item in checklist_for(check.order.category)
        ],
    }


def _check(check_id: int) -> QcCheck:
    check = (
        QcCheck.objects.select_related(
            "order__category__parent", "technician", "inspector", "rework_order"
        )
        .filter(pk=check_id)
        .first()
    )
    if check is None:
        raise NotVisible(_("找不到质检 %(id)s。") % {"id": check_id})
    return check


@router.post("/qc/draws", response={201: DrawOut, **ERRORS}, summary="抽样")
def draw(request: HttpRequest, payload: DrawIn):
    """Draw orders completed in [start, end) for checking under the current sampling rule:
    every targeted one plus random others up to the target share. The seed and population are
    kept: the same draw can be replayed."""
    sample = services.draw_sample(
        start=payload.start, end=payload.end, seed=payload.seed, by=request.auth
    )
    return Reply(201, draw_out(sample))


@router.get("/qc/checks", response={200: CheckListOut, **ERRORS}, summary="质检队列")
def list_checks(request: HttpRequest, filters: Query[CheckQuery]):
    _require(request.auth, *DRAWERS, message=_("只有质检员或主管可以查看质检。"))
    qs = (
        QcCheck.objects.filter(status=filters.status)
        .select_related("order__category__parent", "technician", "inspector", "rework_order")
        .order_by("created_at", "id")
    )
    page, count = _page(qs, filters)
    return {"items": [check_out(c) for c in page], "count": count}


@router.post(
    "/qc/checks/{check_id}/photos", response={201: CheckOut, **ERRORS}, summary="上传质检照片"
)
def check_photos(request: HttpRequest, check_id: int, files: File[list[UploadedFile]]):
    """Photos of the site (multipart, field `files`), before the verdict."""
    check = _check(check_id)
    try:
        uploads = [clean_upload(f.name or "photo", f.read()) for f in files]
    except DjangoValidationError as exc:
        raise InvalidInput(exc.messages[0], field="files", code=exc.code or "invalid") from None
    services.add_check_photos(check, uploads, by=request.auth)
    return Reply(201, check_out(check))


@router.post(
    "/qc/checks/{check_id}/result", response={200: CheckOut, **ERRORS}, summary="录入质检结果"
)
def check_result(request: HttpRequest, check_id: int, payload: CheckIn):
    """Pass or fail. A failure needs a note and at least one photo; it reopens the order (or
    opens a rework order when it was closed) for `technician` and records a penalty."""
    check = _check(check_id)
    services.record_check(
        check,
        by=request.auth,
        passed=payload.passed,
        answers=payload.answers,
        note=payload.note or "",
        technician=payload.technician,
        channel="api",
    )
    return check_out(_check(check_id))


@router.get("/qc/summary", response={200: SummaryOut, **ERRORS}, summary="抽检完成率")
def qc_summary(request: HttpRequest, start: date, end: date):
    """Checks done on orders completed in [start, end) against the sampling target."""
    _require(request.auth, *DRAWERS, message=_("只有质检员或主管可以查看抽检完成率。"))
    from repairhub.feedback.services.quality import sampling_summary

    s = sampling_summary(start, end)
    return {
        **{k: getattr(s, k) for k in ("start", "end", "target_percent", "completed", "drawn")},
        "checked": s.checked,
        "failed": s.failed,
        "drawn_percent": s.drawn_percent,
        "achieved_percent": s.achieved_percent,
        "meets_target": s.meets_target,
    }


# --- warranty and rework (FQ5) ------------------------------------------------------------------


class CandidateOut(Schema):
    original: str | None = Field(None, description="保修期内的原工单号；没有则为 null")
    technician: str | None
    completed_at: datetime | None
    warranty_until: datetime | None


class ReworkIn(Schema):
    model_config = ConfigDict(extra="forbid")

    original: str | None = Field(None, description="原工单号（必填）")


class ReworkOut(Schema):
    original: str
    rework: str
    source: str
    technician: str | None
    category: str
    created_at: datetime


class ReworkRateOut(Schema):
    key: str = Field(..., description="维修人员用户名或类别编码")
    name: str
    completed: int
    reworked: int
    rate: Decimal = Field(..., description="返修率（%）")


class ReworkRateQuery(Schema):
    start: date
    end: date
    by: Literal["technician", "category"] = "technician"


@router.get("/rework-candidate", response={200: CandidateOut, **ERRORS}, summary="保修期内的原工单")
def rework_candidate(request: HttpRequest, category: str, place: str = "", asset: str = ""):
    """For a new report: the closed order on the same asset (when `asset` is given), else at
    the same place, in the same category and still in warranty, which the new one is probably
    the rework of (desk staff)."""
    _require(request.auth, *DESK, message=_("只有值班员、调度员或主管可以查询返修。"))
    unit = Asset.objects.filter(code=asset).first() if asset else None
    if asset and unit is None:
        raise InvalidInput(
            _("未知的设备编码“%(code)s”，请核对设备上的标签。") % {"code": asset}, field="asset"
        )
    where = Place.objects.filter(code=place).first() if unit is None else unit.place
    kind = Category.objects.filter(code=category).first()
    if where is None or kind is None:
        raise InvalidInput(
            _("地点或类别编码不存在。"), field="place" if where is None else "category"
        )
    original = services.rework_candidate(where, kind, asset=unit)
    if original is None:
        return {"original": None, "technician": None, "completed_at": None, "warranty_until": None}
    return {
        "original": original.number,
        "technician": original.assignee.username if original.assignee_id else None,
        "completed_at": _local(original.completed_at),
        "warranty_until": _local(warranty_until(original)),
    }


def rework_out(link: Rework) -> dict[str, Any]:
    return {
        "original": link.original.number,
        "rework": link.rework.number,
        "source": link.source,
        "technician": link.technician.username if link.technician_id else None,
        "category": link.category.code,
        "created_at": _local(link.created_at),
    }


@router.post("/orders/{number}/rework", response={201: ReworkOut, **ERRORS}, summary="关联返修")
def link_rework(request: HttpRequest, number: str, payload: ReworkIn):
    """Mark order `number` as the rework of `original` (closed, inside its warranty)."""
    rework = access_work_order(request.auth, number)
    if not payload.original:
        raise InvalidInput(_("请填写原工单号。"), field="original", code="required")
    original = access_work_order(request.auth, payload.original)
    link = services.link_rework(original, rework, by=request.auth, channel="api")
    return Reply(201, rework_out(link))


@router.get("/rework-rates", response={200: list[ReworkRateOut], **ERRORS}, summary="返修率")
def rework_rates(request: HttpRequest, filters: Query[ReworkRateQuery]):
    """Share of the work done in [start, end) that was done again, per technician or category."""
    _require(
        request.auth,
        *MANAGEMENT,
        Role.QC_INSPECTOR,
        Role.DISPATCHER,
        message=_("只有主管、调度员或质检员可以查看返修率。"),
    )
    rows = queries.rework_rates(filters.start, filters.end, by=filters.by)
    return [
        {
            "key": r.key,
            "name": r.name,
            "completed": r.completed,
            "reworked": r.reworked,
            "rate": r.rate,
        }
        for r in rows
    ]


# --- complaints (FQ3) ---------------------------------------------------------------------------


class ComplaintIn(Schema):
    model_config = ConfigDict(extra="forbid")

    channel: Literal["phone", "web", "walk_in", "letter"] | None = Field(
        None,
        description="phone、web、walk_in、letter（必填；信件请用 /complaints/letters 上传扫描件）",
    )
    category: str | None = Field(None, description="投诉类别编码（必填）")
    description: str | None = Field(None, description="投诉内容（必填）")
    complainant_name: str | None = Field(None, description="投诉人姓名（网上投诉默认本人）")
    complainant_phone: str | None = Field(None, description="联系电话（信件可不填）")
    department: str | None = Field(None, description="责任部门编码；默认按类别")
    order: str | None = Field(None, description="相关工单号")
    person: str | None = Field(None, description="被投诉人用户名")


class EntryIn(Schema):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["contact", "finding", "resolution", "satisfaction", "note"] | None = None
    text: str | None = None
    satisfaction: Literal["satisfied", "neutral", "dissatisfied"] | None = None


class HandlerIn(Schema):
    model_config = ConfigDict(extra="forbid")

    handler: str | None = Field(None, description="处理人用户名（须为责任部门成员）")


class EntryOut(Schema):
    kind: str
    text: str
    by: str | None
    created_at: datetime


class ComplaintOut(Schema):
    number: str
    channel: str
    category: str
    department: str
    status: str
    status_label: str
    description: str
    complainant_name: str | None = Field(..., description="投诉人；被投诉人本人查看时为 null")
    complainant_phone: str | None
    order: str | None
    person: str | None
    handler: str | None
    repeat_of: str | None
    first_contact_due: datetime
    first_contact_at: datetime | None
    escalated_at: datetime | None
    resolution: str
    satisfaction: str
    created_at: datetime
    entries: list[EntryOut] | None = None


class ComplaintListOut(Schema):
    items: list[ComplaintOut]
    count: int


class ComplaintQuery(PageQuery):
    status: Literal["open", "in_progress", "resolved", "closed", ""] = ""


def complaint_out(c: Complaint, viewer, *, entries: bool = False) -> dict[str, Any]:
    identity = shows_identity(viewer, c)
    body = {
        "number": c.number,
        "channel": c.channel,
        "category": c.category.code,
        "department": c.department.code,
        "status": c.status,
        "status_label": str(ComplaintStatus(c.status).label),
        "description": c.description,
        "complainant_name": c.complainant_name if identity else None,
        "complainant_phone": c.complainant_phone if identity else None,
        "order": c.order.number if c.order_id else None,
        "person": c.person.username if c.person_id else None,
        "handler": c.handler.username if c.handler_id else None,
        "repeat_of": c.repeat_of.number if c.repeat_of_id else None,
        "first_contact_due": _local(c.first_contact_due),
        "first_contact_at": _local(c.first_contact_at),
        "escalated_at": _local(c.escalated_at),
        "resolution": c.resolution,
        "satisfaction": c.satisfaction,
        "created_at": _local(c.created_at),
    }
    if entries:
        body["entries"] = [
            {
                "kind": e.kind,
                "text": e.text,
                "by": e.by.username if e.by_id and identity else None,
                "created_at": _local(e.created_at),
            }
            for e in c.entries.select_related("by")
        ]
    return body


def _complaints(user) -> QuerySet[Complaint]:
    return visible_complaints(user).select_related(
        "category", "department", "order", "person", "handler", "repeat_of"
    )


@router.post("/complaints", response={201: ComplaintOut, **ERRORS}, summary="登记投诉")
def create_complaint(request: HttpRequest, payload: ComplaintIn):
    """Phone and walk-in complaints by the desk; anyone signed in may complain on the web."""
    complaint = services.register_complaint(by=request.auth, **payload.model_dump())
    return Reply(201, complaint_out(access_complaint(request.auth, complaint.number), request.auth))


@router.post("/complaints/letters", response={201: ComplaintOut, **ERRORS}, summary="登记信件投诉")
def create_letter(
    request: HttpRequest,
    payload: Form[ComplaintIn],
    scan: File[UploadedFile],
):
    """A letter, with its scan (multipart/form-data: the fields of POST /complaints and
    `scan`)."""
    upload = clean_scan(scan.name or "letter", scan.read())
    values = {**payload.model_dump(), "channel": "letter"}
    complaint = services.register_complaint(by=request.auth, scan=upload, **values)
    return Reply(201, complaint_out(access_complaint(request.auth, complaint.number), request.auth))


@router.get("/complaints", response={200: ComplaintListOut, **ERRORS}, summary="投诉列表")
def list_complaints(request: HttpRequest, filters: Query[ComplaintQuery]):
    """Complaints the caller may see: his departments' (all for managers and holders of
    `feedback.view_all_complaints`), those he handles, made or is the subject of."""
    qs = _complaints(request.auth)
    if filters.status:
        qs = qs.filter(status=filters.status)
    page, count = _page(qs.order_by("-created_at", "-id"), filters)
    return {"items": [complaint_out(c, request.auth) for c in page], "count": count}


@router.get("/complaints/{number}", response={200: ComplaintOut, **ERRORS}, summary="投诉详情")
def get_complaint(request: HttpRequest, number: str):
    return complaint_out(access_complaint(request.auth, number), request.auth, entries=True)


@router.post(
    "/complaints/{number}/entries", response={201: ComplaintOut, **ERRORS}, summary="记录处理情况"
)
def add_entry(request: HttpRequest, number: str, payload: EntryIn):
    """contact (first contact stops the 24-hour clock), finding, resolution, satisfaction
    (closes the complaint) or note."""
    complaint = access_complaint(request.auth, number)
    services.add_entry(
        complaint,
        kind=payload.kind,
        text=payload.text or "",
        satisfaction=payload.satisfaction,
        by=request.auth,
    )
    return Reply(
        201, complaint_out(access_complaint(request.auth, number), request.auth, entries=True)
    )


@router.post(
    "/complaints/{number}/handler", response={200: ComplaintOut, **ERRORS}, summary="指派处理人"
)
def assign_handler(request: HttpRequest, number: str, payload: HandlerIn):
    complaint = access_complaint(request.auth, number)
    services.assign_handler(complaint, handler=payload.handler or "", by=request.auth)
    return complaint_out(access_complaint(request.auth, number), request.auth)


# --- supervision inspections (FQ6) --------------------------------------------------------------


class InspectionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["planned", "unplanned"] | None = None
    team: str | None = Field(None, description="被检查班组编码")
    place: str | None = Field(None, description="被检查地点编码")
    scheduled_for: date | None = Field(None, description="计划日期（计划检查必填）")
    inspector: str | None = Field(None, description="检查人用户名；默认本人")


class FindingIn(Schema):
    model_config = ConfigDict(extra="forbid")

    text: str | None = None
    severity: Literal["minor", "major"] | None = None
    task: str | None = Field(None, description="整改要求（需整改时填写）")
    assignee: str | None = Field(None, description="整改责任人用户名")
    due_date: date | None = Field(None, description="整改期限")


class RecordIn(Schema):
    model_config = ConfigDict(extra="forbid")

    summary: str | None = None
    findings: list[FindingIn] = Field(default_factory=list)


class DoneIn(Schema):
    model_config = ConfigDict(extra="forbid")

    note: str | None = None


class VerifyIn(Schema):
    model_config = ConfigDict(extra="forbid")

    accepted: bool | None = None
    note: str | None = None


class RectificationOut(Schema):
    id: int
    task: str
    assignee: str
    due_date: date
    status: str
    done_note: str
    verify_note: str


class FindingOut(Schema):
    id: int
    text: str
    severity: str
    rectifications: list[RectificationOut]


class InspectionOut(Schema):
    id: int
    kind: str
    status: str
    team: str | None
    place: str | None
    scheduled_for: date | None
    inspector: str
    summary: str
    performed_at: datetime | None
    closed_at: datetime | None
    findings: list[FindingOut]


class InspectionListOut(Schema):
    items: list[InspectionOut]
    count: int


def inspection_out(i: Inspection) -> dict[str, Any]:
    return {
        "id": i.pk,
        "kind": i.kind,
        "status": i.status,
        "team": i.team.code if i.team_id else None,
        "place": i.place.code if i.place_id else None,
        "scheduled_for": i.scheduled_for,
        "inspector": i.inspector.username,
        "summary": i.summary,
        "performed_at": _local(i.performed_at),
        "closed_at": _local(i.closed_at),
        "findings": [
            {
                "id": f.pk,
                "text": f.text,
                "severity": f.severity,
                "rectifications": [
                    {
                        "id": r.pk,
                        "task": r.task,
                        "assignee": r.assignee.username,
                        "due_date": r.due_date,
                        "status": r.status,
                        "done_note": r.done_note,
                        "verify_note": r.verify_note,
                    }
                    for r in f.rectifications.select_related("assignee")
                ],
            }
            for f in i.findings.all()
        ],
    }


def _inspection(user, inspection_id: int) -> Inspection:
    found = queries.visible_inspections(user).filter(pk=inspection_id).first()
    if found is None:
        raise NotVisible(_("找不到督查 %(id)s，或您无权查看。") % {"id": inspection_id})
    return found


def _rectification(user, rectification_id: int) -> Rectification:
    found = (
        Rectification.objects.select_related("finding__inspection", "assignee__team")
        .filter(pk=rectification_id, finding__inspection__in=queries.visible_inspections(user))
        .first()
    )
    if found is None:
        raise NotVisible(_("找不到整改 %(id)s，或您无权查看。") % {"id": rectification_id})
    return found


@router.post("/inspections", response={201: InspectionOut, **ERRORS}, summary="安排督查")
def plan_inspection(request: HttpRequest, payload: InspectionIn):
    inspection = services.plan_inspection(by=request.auth, **payload.model_dump())
    return Reply(201, inspection_out(inspection))


@router.get("/inspections", response={200: InspectionListOut, **ERRORS}, summary="督查列表")
def list_inspections(request: HttpRequest, filters: Query[PageQuery]):
    page, count = _page(queries.visible_inspections(request.auth).order_by("-id"), filters)
    return {"items": [inspection_out(i) for i in page], "count": count}


@router.get(
    "/inspections/{inspection_id}", response={200: InspectionOut, **ERRORS}, summary="督查详情"
)
def get_inspection(request: HttpRequest, inspection_id: int):
    return inspection_out(_inspection(request.auth, inspection_id))


@router.post(
    "/inspections/{inspection_id}/record",
    response={200: InspectionOut, **ERRORS},
    summary="记录检查结果",
)
def record_inspection(request: HttpRequest, inspection_id: int, payload: RecordIn):
    inspection = _inspection(request.auth, inspection_id)
    services.record_inspection(
        inspection,
        by=request.auth,
        summary=payload.summary or "",
        findings=[f.model_dump() for f in payload.findings],
    )
    return inspection_out(_inspection(request.auth, inspection_id))


@router.post(
    "/rectifications/{rectification_id}/done",
    response={200: InspectionOut, **ERRORS},
    summary="报告整改完成",
)
def rectification_done(request: HttpRequest, rectification_id: int, payload: DoneIn):
    r = _rectification(request.auth, rectification_id)
    services.complete_rectification(r, by=request.auth, note=payload.note or "")
    return inspection_out(Inspection.objects.get(pk=r.finding.inspection_id))


@router.post(
    "/rectifications/{rectification_id}/verify",
    response={200: InspectionOut, **ERRORS},
    summary="验收整改",
)
def rectification_verify(request: HttpRequest, rectification_id: int, payload: VerifyIn):
    r = _rectification(request.auth, rectification_id)
    services.verify_rectification(
        r, by=request.auth, accepted=payload.accepted, note=payload.note or ""
    )
    return inspection_out(Inspection.objects.get(pk=r.finding.inspection_id))
