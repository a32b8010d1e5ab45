"""/api/v1 analytics: the volume forecast and the hotspots of places and assets (AN8). The forecast page draws from
the first; the hotspot page shows the same figures as the second.

Both parse their input with the analytics functions (Chinese refusals), limit the filters to
what the caller may see (analytics.access.scoped) and call the same read functions as the
pages. docs/forecast.md describes the model, the hotspot rule and these endpoints.
"""

from __future__ import annotations

from datetime import date, datetime

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from repairhub.analytics import forecast as forecasting
from repairhub.analytics import hotspots as hot
from repairhub.analytics.access import scoped
from repairhub.analytics.periods import parse_filters

from .schemas import ErrorOut

router = Router(tags=["analytics"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 422: ErrorOut}


class ForecastFilterQuery(Schema):
    category: str = Field("", description="类别编码；大类包含其子类")
    place: str = Field("", description="地点编码；包含其下所有地点")
    team: str = Field("", description="班组编码（按工单维修人员所在班组）")


class ForecastQuery(ForecastFilterQuery):
    weeks: int | None = Field(
        None, description="预测周数（本周起），1 到 ANALYTICS_FORECAST_MAX_WEEKS（12）；默认 8"
    )
    level: int | None = Field(None, description="预测区间的置信水平（百分比，50–99）；默认 80")


class HotspotQuery(ForecastFilterQuery):
    days: int | None = Field(None, description="统计窗口天数（7–366），默认 90")
    min_count: int | None = Field(
        None, description="同一设备或地点同一类别至少几次故障（2–100），默认 3"
    )
    end: date | None = Field(None, description="窗口的最后一天，YYYY-MM-DD；默认今天")


# --- shapes ------------------------------------------------------------------------------------


class ForecastWeekCountOut(Schema):
    week: str = Field(..., description="周一的日期")
    count: int


class ForecastWeekOut(Schema):
    week: str = Field(..., description="周一的日期；第一周为本周")
    expected: float = Field(..., description="预测的报修数（期望值）")
    lower: int = Field(..., description="预测区间下限")
    upper: int = Field(..., description="预测区间上限")
    observed: int = Field(..., description="本周今天以前已报修的（已计入上面三个数）")
    last_year: int | None = Field(..., description="52 周前同一周的报修数；历史不够时为 null")


class ForecastEffectsOut(Schema):
    weekday: list[float] = Field(..., description="周一至周日相对于一周平均的倍数")
    holiday: float = Field(..., description="法定节假日相对于同一星期几的倍数")
    makeup: float = Field(..., description="调休上班的周末相对于普通周末的倍数")
    trend_per_year: float = Field(..., description="每年的变化（0.05 = 每年增加 5%）")
    months: list[float] | None = Field(
        ..., description="1–12 月相对于全年平均的倍数；历史不足一年时为 null"
    )


class ForecastSeriesOut(Schema):
    key: str = Field(..., description="total 为合计；否则为类别编号（下钻 dim=category）")
    code: str
    label: str
    status: str = Field(
        ..., description="ok；no_yearly（不足一年，未含季节）；insufficient（不预测）"
    )
    message: str = Field(..., description="status 不是 ok 时的说明")
    history_days: int
    orders: int = Field(..., description="历史中的报修数")
    history: list[ForecastWeekCountOut] = Field(
        ..., description="本周以前最近 26 个整周的实际报修数"
    )
    forecast: list[ForecastWeekOut]
    effects: ForecastEffectsOut | None
    dispersion: float | None = Field(..., description="离散系数 φ：日方差 = φ × 日均值")


class ForecastOut(Schema):
    today: str
    weeks: int
    level: int
    filters: dict[str, str]
    notes: list[str]
    series: list[ForecastSeriesOut]


class HotspotPlaceOut(Schema):
    code: str
    name: str
    kind: str


class HotspotCategoryOut(Schema):
    code: str
    name: str


class HotspotTopPlaceOut(HotspotPlaceOut):
    count: int


class HotspotAssetOut(Schema):
    code: str
    name: str
    model: str = Field(..., description="型号；未登记时为空")


class HotspotOut(Schema):
    level: str = Field(..., description="asset（设备）、place（地点本身）或 building（楼宇汇总）")
    asset: HotspotAssetOut | None = Field(None, description="设备行：设备；其他行为 null")
    place: HotspotPlaceOut = Field(..., description="地点或楼宇；设备行为设备所在地点")
    category: HotspotCategoryOut
    count: int = Field(..., description="窗口内的故障次数（不含已驳回、已取消）")
    places: int = Field(..., description="涉及的地点数")
    first: datetime = Field(..., description="窗口内第一次故障的报修时间")
    last: datetime = Field(..., description="最近一次故障的报修时间")
    mean_interval_days: float | None = Field(..., description="相邻两次故障的平均间隔（天）")
    failed: int = Field(..., description="维修未成功的次数")
    reworked: int = Field(..., description="修后又重新打开过的工单数")
    shrinking: bool = Field(..., description="故障间隔在缩短")
    widespread: bool = Field(..., description="楼宇：分布在 ANALYTICS_HOTSPOT_SPREAD 处以上")
    orders: list[str] = Field(..., description="设备、地点：工单号，从早到晚")
    top_places: list[HotspotTopPlaceOut] = Field(..., description="楼宇：故障最多的地点")
    suggestion: str


class HotspotWindowOut(Schema):
    start: str
    end: str
    days: int
    min_count: int


class HotspotsOut(Schema):
    window: HotspotWindowOut
    filters: dict[str, str]
    failures: int = Field(..., description="窗口内按地点计的故障总数")
    assets: list[HotspotOut] = Field(..., description="设备台账中反复故障的设备")
    places: list[HotspotOut]
    buildings: list[HotspotOut]
    more: dict[str, int] = Field(..., description="超出 ANALYTICS_HOTSPOT_LIMIT 未列出的行数")


# --- endpoints ---------------------------------------------------------------------------------


def _filters(request: HttpRequest, q: ForecastFilterQuery):
    return scoped(request.auth, parse_filters(q.category, "", q.place, q.team))


@router.get(
    "/analytics/forecast",
    response={200: ForecastOut, **ERRORS},
    summary="报修量预测",
    url_name="analytics-forecast",
)
def forecast(request: HttpRequest, q: Query[ForecastQuery]):
    """Reported orders for the next weeks, in total and per category, with a prediction
    interval; history of the last 26 weeks and the fitted weekday, holiday and month factors."""
    filters = _filters(request, q)
    return forecasting.forecast(filters, weeks=q.weeks, level=q.level)


@router.get(
    "/analytics/hotspots",
    response={200: HotspotsOut, **ERRORS},
    summary="故障热点",
    url_name="analytics-hotspots",
)
def hotspots(request: HttpRequest, q: Query[HotspotQuery]):
    """Assets, places and buildings where the same category failed at least `min_count` times
    in the window, most failures first, each with a suggestion for preventive work."""
    filters = _filters(request, q)
    return hot.hotspots(hot.parse_window(q.days, q.min_count, q.end), filters)
