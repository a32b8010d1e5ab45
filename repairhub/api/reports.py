"""/api/v1/analytics/reports: periodic and special reports (AN7) — list and request runs, download
their files, and the caller's subscriptions. The same access and the same writes as the reports
page (repairhub.analytics.reports): a team lead sees and asks for his teams' reports only.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from django.http import FileResponse, HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status as Reply
from pydantic import ConfigDict

from repairhub.analytics import reports
from repairhub.analytics.access import require_viewer
from repairhub.analytics.models import ReportRun, ReportSubscription, RunStatus
from repairhub.workorders.errors import NotVisible

from .schemas import ErrorOut

router = Router(tags=["reports"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
Kind = Literal["daily", "weekly", "monthly", "quarterly", "annual"]
Topic = Literal["overview", "faults", "satisfaction"]
Format = Literal["xlsx", "pdf"]
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


class FiltersIn(Schema):
    model_config = ConfigDict(extra="forbid")

    category: str = Field("", description="类别编码；大类包含其子类")
    channel: str = Field("", description="报修渠道")
    place: str = Field("", description="地点编码；包含其下所有地点")
    team: str = Field("", description="班组编码（按工单维修人员所在班组）")


class RunIn(FiltersIn):
    kind: Kind = Field(
        ..., description="周期：daily、weekly（周一至周日）、monthly、quarterly、annual"
    )
    topic: Topic = Field(
        "overview", description="overview 综合、faults 故障原因、satisfaction 满意度"
    )
    period: str = Field(
        "",
        description="时段中的任一日期（YYYY-MM-DD），或 2026-W19、2026-05、2026-Q2、2026；"
        "留空为最近一个已结束的时段",
    )
    formats: list[Format] = Field(["xlsx"], description="要生成的格式")


class RunQuery(Schema):
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0)


class RunOut(Schema):
    id: int
    title: str
    kind: str
    topic: str
    start: date
    end: date
    filters: dict[str, str] = Field(..., description="筛选条件（编码）")
    limited_to_teams: bool = Field(..., description="true：班组长申请，只含其所带班组的工单")
    scheduled: bool = Field(..., description="true：按计划生成")
    requested_by: str | None
    status: Literal["pending", "running", "done", "failed"]
    created_at: datetime
    finished_at: datetime | None
    error: str
    downloads: dict[str, str] = Field(..., description="格式 → 下载地址（需登录或令牌）")


class RunListOut(Schema):
    count: int
    items: list[RunOut]


class SubscriptionIn(FiltersIn):
    kind: Kind
    topic: Topic = "overview"
    format: Format


class SubscriptionPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    active: bool


class SubscriptionOut(Schema):
    id: int
    kind: str
    topic: str
    format: str
    filters: dict[str, str]
    active: bool
    created_at: datetime


class SubscriptionListOut(Schema):
    items: list[SubscriptionOut]


def _run_out(run: ReportRun) -> dict:
    downloads = {}
    if run.status == RunStatus.DONE:
        for fmt in run.formats:
            if run.file_for(fmt):
                downloads[fmt] = reverse("api-v1:report-download", args=[run.pk, fmt])
    return {
        "id": run.pk,
        "title": reports.run_title(run),
        "kind": run.kind,
        "topic": run.topic,
        "start": run.start,
        "end": run.end,
        "filters": run.filters,
        "limited_to_teams": bool(run.teams),
        "scheduled": run.scheduled,
        "requested_by": run.requested_by.username if run.requested_by else None,
        "status": run.status,
        "created_at": timezone.localtime(run.created_at),
        "finished_at": timezone.localtime(run.finished_at) if run.finished_at else None,
        "error": run.error,
        "downloads": downloads,
    }


def _sub_out(sub: ReportSubscription) -> dict:
    return {
        "id": sub.pk,
        "kind": sub.kind,
        "topic": sub.topic,
        "format": sub.format,
        "filters": sub.filters,
        "active": sub.active,
        "created_at": timezone.localtime(sub.created_at),
    }


def _filters(payload: FiltersIn) -> dict[str, str]:
    return {
        "category": payload.category,
        "channel": payload.channel,
        "place": payload.place,
        "team": payload.team,
    }


@router.get("/analytics/reports", response={200: RunListOut, **ERRORS}, summary="报表列表")
def list_runs(request: HttpRequest, q: Query[RunQuery]):
    """Reports the caller may see, newest first: scheduled and on-demand."""
    qs = reports.visible_runs(request.auth)
    page = list(qs[q.offset : q.offset + q.limit])
    return {"count": qs.count(), "items": [_run_out(r) for r in page]}


@router.post("/analytics/reports", response={202: RunOut, **ERRORS}, summary="生成报表")
def create_run(request: HttpRequest, payload: RunIn):
    """Ask for a report; the worker generates it. Poll the run until `status` is `done` (or
    `failed`), then download from `downloads`."""
    run = reports.request_report(
        kind=payload.kind,
        topic=payload.topic,
        period=payload.period,
        filters=_filters(payload),
        formats=list(payload.formats),
        by=request.auth,
    )
    run.refresh_from_db()
    return Reply(202, _run_out(run))


@router.get("/analytics/reports/{run_id}", response={200: RunOut, **ERRORS}, summary="报表状态")
def get_run(request: HttpRequest, run_id: int):
    return _run_out(reports.get_run(request.auth, run_id))


@router.get(
    "/analytics/reports/{run_id}/{fmt}",
    response={200: None, **ERRORS},
    url_name="report-download",
    summary="下载报表文件",
)
def download(request: HttpRequest, run_id: int, fmt: Format):
    """The file itself (xlsx or pdf) as an attachment."""
    run = reports.get_run(request.auth, run_id)
    stored = run.file_for(fmt)
    if run.status != RunStatus.DONE or not stored:
        raise NotVisible(_("这份报表没有该格式的文件。"))
    return FileResponse(
        stored.open("rb"),
        as_attachment=True,
        filename=reports.download_name(run, fmt),
        content_type=CONTENT_TYPES[fmt],
    )


@router.get(
    "/analytics/report-subscriptions",
    response={200: SubscriptionListOut, **ERRORS},
    summary="我的报表订阅",
)
def list_subscriptions(request: HttpRequest):
    require_viewer(request.auth)
    subs = request.auth.report_subscriptions.order_by("kind", "topic", "pk")
    return {"items": [_sub_out(s) for s in subs]}


@router.post(
    "/analytics/report-subscriptions",
    response={201: SubscriptionOut, **ERRORS},
    summary="订阅报表",
)
def create_subscription(request: HttpRequest, payload: SubscriptionIn):
    """Each period's report is posted to the caller (notification centre, e-mail if chosen)
    with a download link once the schedule made it."""
    sub = reports.subscribe(
        kind=payload.kind,
        topic=payload.topic,
        format=payload.format,
        filters=_filters(payload),
        by=request.auth,
    )
    return Reply(201, _sub_out(sub))


@router.patch(
    "/analytics/report-subscriptions/{sub_id}",
    response={200: SubscriptionOut, **ERRORS},
    summary="暂停或恢复订阅",
)
def update_subscription(request: HttpRequest, sub_id: int, payload: SubscriptionPatch):
    sub = reports.my_subscription(request.auth, sub_id)
    return _sub_out(reports.set_subscription_active(sub, active=payload.active, by=request.auth))


@router.delete(
    "/analytics/report-subscriptions/{sub_id}",
    response={204: None, **ERRORS},
    summary="取消订阅",
)
def delete_subscription(request: HttpRequest, sub_id: int):
    reports.unsubscribe(reports.my_subscription(request.auth, sub_id), by=request.auth)
    return Reply(204, None)
