"""/api/v1 analytics: dashboard figures, rankings, workload, the orders behind a figure, and
the monthly appraisal (compute, sign). The dashboard page draws from these same endpoints.

Each endpoint parses the period and filters (repairhub.analytics.periods), limits them to what
the caller may see (analytics.access.scoped), then calls the same read functions and services
as the pages.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict

from repairhub.analytics import queries, rankings, services, workload
from repairhub.analytics.access import require_appraiser, scoped
from repairhub.analytics.models import AppraisalMonth
from repairhub.analytics.periods import parse_filters, parse_month, parse_period
from repairhub.analytics.services import ROW_FIELDS
from repairhub.workorders.errors import NotVisible
from repairhub.workorders.models import WorkOrder

from .schemas import ErrorOut, OrderListOut, order_summary

router = Router(tags=["analytics"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
GrainCode = Literal["day", "week", "month"]
SplitCode = Literal["", "category", "channel", "place", "team"]


class ScopeQuery(Schema):
    start: date | None = Field(
        None, description="起始日期（含），YYYY-MM-DD；默认为结束日期前 29 天"
    )
    end: date | None = Field(None, description="结束日期（含），YYYY-MM-DD；默认为今天")
    grain: GrainCode = Field("day", description="统计粒度：day、week（周一起）、month")
    category: str = Field("", description="类别编码；大类包含其子类")
    channel: str = Field("", description="报修渠道")
    place: str = Field("", description="地点编码；包含其下所有地点")
    team: str = Field("", description="班组编码（按工单维修人员所在班组）")


class DashboardQuery(ScopeQuery):
    split: SplitCode = Field("", description="报修量分组：category、channel、place、team 或不分组")


class DrillQuery(ScopeQuery):
    figure: Literal[
        "reported", "completed", "deadline", "rated", "backlog", "registered", "dispatched"
    ] = Field(..., description="数字所属的工单集合，见 docs/analytics.md")
    bucket: date | None = Field(None, description="只看这一格（日、周一或月初）")
    dim: str = Field(
        "",
        description="维度：category、channel、place、team、status、assignee、agent、dispatcher、rating",
    )
    key: str = Field("", description="维度的取值（编号、代码；none 表示空）")
    flag: str = Field("", description="late、on_time、success、failed、first_contact")
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0)


# --- shapes ------------------------------------------------------------------------------------


class PeriodOut(Schema):
    start: str
    end: str
    grain: str


class SeriesOut(Schema):
    key: str = Field(..., description="下钻时作为 key（dim 为所选分组）；other 为合并的其余项")
    label: str
    data: list[int] = Field(..., description="与 buckets 一一对应的工单数")
    total: int


class VolumeOut(Schema):
    split: str
    buckets: list[str] = Field(..., description="每格的第一天（日、周一、月初）")
    series: list[SeriesOut]
    total: int


class StateCountOut(Schema):
    status: str
    label: str
    count: int


class BacklogOut(Schema):
    total: int
    overdue: int = Field(..., description="其中已超过完成时限的")
    states: list[StateCountOut]


class OnTimeBucketOut(Schema):
    bucket: str
    with_deadline: int
    on_time: int
    rate: float | None


class OnTimeOut(Schema):
    with_deadline: int = Field(..., description="本期完成且有完成时限的工单")
    on_time: int
    late: int
    rate: float | None = Field(..., description="按时率（0–1）；没有数据时为 null")
    buckets: list[OnTimeBucketOut]


class RatingCountOut(Schema):
    rating: int
    count: int


class SatisfactionBucketOut(Schema):
    bucket: str
    rated: int
    mean: float | None


class SatisfactionOut(Schema):
    rated: int
    mean: float | None
    distribution: list[RatingCountOut]
    buckets: list[SatisfactionBucketOut]


class FaultTypeOut(Schema):
    key: str = Field(..., description="类别编号（下钻 dim=category）")
    code: str
    name: str
    reported: int = Field(..., description="本期报修数")
    completed: int = Field(..., description="本期完成数")
    success_rate: float | None
    mean_hours: float | None = Field(..., description="报修（接报）到完成的平均小时数")
    median_hours: float | None
    longest_hours: float | None


class FaultTotalOut(Schema):
    reported: int
    completed: int
    mean_hours: float | None
    median_hours: float | None
    longest_hours: float | None


class FaultTypesOut(Schema):
    rows: list[FaultTypeOut]
    total: FaultTotalOut


class SummaryOut(Schema):
    reported: int
    completed: int
    success_rate: float | None
    mean_repair_hours: float | None


class DashboardOut(Schema):
    period: PeriodOut
    filters: dict[str, str]
    summary: SummaryOut
    volume: VolumeOut
    backlog: BacklogOut
    on_time: OnTimeOut
    satisfaction: SatisfactionOut
    fault_types: FaultTypesOut


class RankingOut(Schema):
    kind: str
    min_orders: int = Field(..., description="少于此工单数的人员不参与排名（样本不足）")
    ranked: list[dict] = Field(..., description="名次 rank 从 1 起，并列同名次")
    insufficient: list[dict] = Field(..., description="样本不足，不排名")
    apart: list[dict] = Field(..., description="非个人（系统自动派工、抢单）")
    period: PeriodOut


class WorkloadOut(Schema):
    period: PeriodOut
    buckets: list[str]
    rows: list[dict]


class AppraisalRowOut(Schema):
    rank: int | None = Field(..., description="名次；样本不足时为 null")
    technician: str
    name: str
    orders: int
    successes: int
    success_rate: float | None
    arrival_hours: float | None
    completion_hours: float | None
    rated: int
    mean_rating: float | None
    with_deadline: int
    on_time: int
    on_time_rate: float | None
    rework: int
    qc_failures: int
    complaints: int
    sub_scores: dict[str, float | None]
    score: float


class AppraisalOut(Schema):
    month: str
    status: Literal["draft", "signed"]
    version: int
    weights: dict[str, float]
    min_orders: int
    computed_at: datetime
    computed_by: str | None
    signed_at: datetime | None
    signed_by: str | None
    rows: list[AppraisalRowOut]


class AppraisalListOut(Schema):
    items: list[AppraisalOut]


class SignIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(None, ge=1, description="所核对的计算版本；省略时为当前版本")


# --- helpers -----------------------------------------------------------------------------------


def _scope(request: HttpRequest, q: ScopeQuery):
    period = parse_period(q.start, q.end, q.grain)
    filters = scoped(request.auth, parse_filters(q.category, q.channel, q.place, q.team))
    return period, filters


def _appraisal_out(a: AppraisalMonth, *, rows: bool = True) -> dict:
    def who(user):
        return user.username if user else None

    items = []
    if rows:
        for r in a.rows.select_related("technician").order_by("rank", "-score", "name"):
            items.append(
                {
                    "technician": r.technician.username,
                    **{f: getattr(r, f) for f in ("name", *ROW_FIELDS)},
                }
            )
        items.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, -r["score"], r["name"]))
    return {
        "month": a.label,
        "status": a.status,
        "version": a.version,
        "weights": a.weights,
        "min_orders": a.min_orders,
        "computed_at": timezone.localtime(a.computed_at),
        "computed_by": who(a.computed_by),
        "signed_at": timezone.localtime(a.signed_at) if a.signed_at else None,
        "signed_by": who(a.signed_by),
        "rows": items,
    }


def _month(request: HttpRequest, month: str) -> AppraisalMonth:
    require_appraiser(request.auth)
    first = parse_month(month)
    found = AppraisalMonth.objects.select_related("computed_by", "signed_by").filter(month=first)
    appraisal = found.first()
    if appraisal is None:
        raise NotVisible(_("%(month)s 的考核还没有计算。") % {"month": first.strftime("%Y-%m")})
    return appraisal


# --- endpoints ---------------------------------------------------------------------------------


@router.get("/analytics/dashboard", response={200: DashboardOut, **ERRORS}, summary="统计看板")
def dashboard(request: HttpRequest, q: Query[DashboardQuery]):
    """Volume (split by category, channel, place or team), backlog by state, on-time rate,
    satisfaction trend and fault types with mean, median and longest repair times."""
    period, filters = _scope(request, q)
    return queries.dashboard(period, filters, split=q.split)


@router.get(
    "/analytics/rankings/{kind}", response={200: RankingOut, **ERRORS}, summary="效率与满意度排行"
)
def ranking(
    request: HttpRequest,
    kind: Literal["technicians", "dispatchers", "satisfaction"],
    q: Query[ScopeQuery],
):
    """technicians: by report-to-completion time, with delays; dispatchers: by acceptance to
    first dispatch; satisfaction: technicians by mean rating."""
    period, filters = _scope(request, q)
    return rankings.RANKINGS[kind](period, filters).as_dict() | {"period": period.as_params()}


@router.get("/analytics/workload/{kind}", response={200: WorkloadOut, **ERRORS}, summary="工作量")
def workload_of(request: HttpRequest, kind: Literal["agents", "technicians"], q: Query[ScopeQuery]):
    """agents: calls registered per day and first-contact success; technicians: orders
    completed, success rate and hours on site, per bucket."""
    period, filters = _scope(request, q)
    return (workload.agents if kind == "agents" else workload.technicians)(period, filters)


@router.get("/analytics/orders", response={200: OrderListOut, **ERRORS}, summary="数字背后的工单")
def orders_behind(request: HttpRequest, q: Query[DrillQuery]):
    """The orders a figure was computed from (the same set, the same filters), newest first."""
    period, filters = _scope(request, q)
    drill = queries.Drill(q.figure, q.bucket, q.dim, q.key, q.flag)
    qs = queries.orders_behind(period, filters, drill)
    page: list[WorkOrder] = list(qs[q.offset : q.offset + q.limit])
    return {"items": [order_summary(o) for o in page], "count": qs.count()}


@router.get(
    "/analytics/appraisals", response={200: AppraisalListOut, **ERRORS}, summary="月度考核列表"
)
def appraisals(request: HttpRequest):
    require_appraiser(request.auth)
    found = AppraisalMonth.objects.select_related("computed_by", "signed_by").order_by("-month")
    return {"items": [_appraisal_out(a, rows=False) for a in found[:36]]}


@router.get(
    "/analytics/appraisals/{month}", response={200: AppraisalOut, **ERRORS}, summary="月度考核"
)
def appraisal(request: HttpRequest, month: str):
    return _appraisal_out(_month(request, month))


@router.post(
    "/analytics/appraisals/{month}/compute",
    response={200: AppraisalOut, **ERRORS},
    summary="计算月度考核",
)
def compute(request: HttpRequest, month: str):
    """Compute the month with the current weights; replaces an unsigned result, refuses a
    signed month (409)."""
    return _appraisal_out(services.compute_appraisal(parse_month(month), by=request.auth))


@router.post(
    "/analytics/appraisals/{month}/sign",
    response={200: AppraisalOut, **ERRORS},
    summary="签字确认月度考核",
)
def sign(request: HttpRequest, month: str, payload: SignIn | None = None):
    """A manager signs the month off once it is over; it never changes afterwards."""
    appraisal = _month(request, month)
    version = payload.version if payload else None
    return _appraisal_out(services.sign_appraisal(appraisal, by=request.auth, version=version))
