"""/api/v1/me/position and the live-map feed (DP3).

Both call dispatch.positions: `record_position` (technicians and experts on duty) and
`map_snapshot` (dispatchers, team leads, managers, admins). Refusals come from there.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status as Reply
from pydantic import ConfigDict

from repairhub.dispatch.positions import map_snapshot, record_position

from .schemas import ErrorOut

router = Router(tags=["positions"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 422: ErrorOut}


class PositionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    latitude: float = Field(..., ge=-90, le=90, allow_inf_nan=False, description="纬度（WGS-84）")
    longitude: float = Field(
        ..., ge=-180, le=180, allow_inf_nan=False, description="经度（WGS-84）"
    )
    accuracy: float | None = Field(
        None, ge=0, le=100_000, allow_inf_nan=False, description="定位精度半径（米）"
    )
    recorded_at: datetime | None = Field(
        None, description="定位时间，ISO 8601；省略时为服务器收到的时间"
    )


class PositionOut(Schema):
    latitude: float
    longitude: float
    accuracy: int | None
    recorded_at: datetime


class PositionReplyOut(Schema):
    position: PositionOut
    throttled: bool = Field(
        ..., description="true：与上次上报时间太近且位置几乎未变，未保存，返回的是上次的位置"
    )


class MapTechnicianOut(Schema):
    username: str
    name: str
    team: str | None
    on_duty: bool
    lat: float | None
    lng: float | None
    at_base: bool = Field(..., description="true：没有上报过位置，显示的是驻点")
    last_position_at: datetime | None
    stale: bool = Field(..., description="最近一次上报早于 POSITION_STALE_MINUTES，或从未上报")
    open_orders: int
    track: list[list[float]] = Field(
        ..., description="近 POSITION_TRACK_MINUTES 的轨迹，[[lat, lng], …]，从旧到新"
    )


class MapOrderOut(Schema):
    number: str
    url: str
    status: str
    status_label: str
    urgency: str
    urgency_label: str
    category: str
    place: str
    lat: float
    lng: float
    assignee: str | None
    assignee_name: str | None
    created_at: datetime


class LegendStatusOut(Schema):
    code: str
    label: str
    color: str


class LegendUrgencyOut(Schema):
    code: str
    label: str
    radius: int
    ring: str


class LegendTechnicianOut(Schema):
    code: str
    label: str


class LegendOut(Schema):
    statuses: list[LegendStatusOut]
    urgencies: list[LegendUrgencyOut]
    technicians: list[LegendTechnicianOut]


class MapOut(Schema):
    now: datetime
    stale_minutes: float
    track_minutes: float
    technicians: list[MapTechnicianOut]
    orders: list[MapOrderOut]
    unmapped_orders: int = Field(..., description="未完成但地点没有坐标、未画在地图上的工单数")
    legend: LegendOut


@router.post(
    "/me/position",
    response={201: PositionReplyOut, 200: PositionReplyOut, **ERRORS},
    summary="上报我的位置",
)
def post_my_position(request: HttpRequest, payload: PositionIn):
    """A technician's or expert's phone reports where he is, while he is on duty.

    201 when stored; 200 with `throttled: true` when it repeats the previous report (within
    POSITION_MIN_SECONDS and 10 m), which is returned instead. 403 for other roles and when
    he is off duty (`code: off_duty`); 422 for values out of range, (0, 0), or a time in the
    future — nothing is stored then.
    """
    position = record_position(
        request.auth,
        latitude=payload.latitude,
        longitude=payload.longitude,
        accuracy=payload.accuracy,
        at=payload.recorded_at,
    )
    reply = {"position": position, "throttled": position.throttled}
    return Reply(200 if position.throttled else 201, reply)


@router.get("/dispatch/map", response={200: MapOut, **ERRORS}, summary="实时地图数据")
def get_map(request: HttpRequest):
    """Technicians (position or base, stale flag, orders in hand, recent track) and open
    orders with coordinates, with the legend — what /dispatch/map/ shows."""
    return map_snapshot(request.auth)
