"""The dispatcher's live map, its JSON feed, and the technician page's position reports (DP3).

Glue only: parse → check → one service (dispatch.positions) → render. The feed and the report
answer JSON even when refused (`{code, message, field}`), because scripts read them.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from ninja.utils import check_csrf

from repairhub.workorders.errors import InvalidInput, OrderError
from repairhub.workorders.views import refuse

from .positions import map_snapshot, may_see_map, record_position

# How often the map page asks the feed for fresh data.
REFRESH_SECONDS = 15


def _error(code: str, message: str, status: int, field: str | None = None) -> JsonResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if field:
        body["field"] = field
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def _signed_in_json(request) -> JsonResponse | None:
    if not request.user.is_authenticated:
        return _error("unauthorized", _("登录已过期，请重新登录。"), 401)
    return None


@login_required
@require_GET
def live_map(request):
    if not may_see_map(request.user):
        return refuse(request, _("您无权访问此页面。"), 403)
    snapshot = map_snapshot(request.user)
    return render(
        request,
        "dispatch/map.html",
        {"snapshot": snapshot, "config": map_config(feed=True)},
    )


@require_GET
def map_feed(request):
    refused = _signed_in_json(request)
    if refused is not None:
        return refused
    if not may_see_map(request.user):
        return _error("forbidden", _("只有调度员、班组长、主管和管理员可以查看实时地图。"), 403)
    return JsonResponse(map_snapshot(request.user), json_dumps_params={"ensure_ascii": False})


@csrf_exempt  # checked below, so a refusal is JSON the page can show rather than an HTML page
@require_POST
def report_position(request):
    refused = _signed_in_json(request)
    if refused is not None:
        return refused
    if check_csrf(request) is not None:
        return _error("csrf_failed", _("页面已过期（CSRF 校验失败），请刷新页面后重试。"), 403)
    try:
        data = _body(request)
        position = record_position(
            request.user,
            latitude=data.get("latitude"),
            longitude=data.get("longitude"),
            accuracy=data.get("accuracy"),
            at=_when(data.get("recorded_at")),
        )
    except OrderError as exc:
        return _error(exc.code, exc.message, exc.status, exc.field)
    body = {
        "position": {
            "latitude": float(position.latitude),
            "longitude": float(position.longitude),
            "accuracy": position.accuracy,
            "recorded_at": position.recorded_at,
        },
        "throttled": position.throttled,
    }
    return JsonResponse(body, status=200 if position.throttled else 201)


def map_config(*, feed: bool) -> dict[str, Any]:
    """What map.js needs besides the data: tiles, start view, feed, words in the page language.

    Also used by other pages that embed the map (the plan page draws routes on it) with
    `feed=False`.
    """
    center = getattr(settings, "MAP_CENTER", None)
    return {
        "feedUrl": reverse("dispatch:map-feed") if feed else "",
        "refreshSeconds": REFRESH_SECONDS,
        "tileUrl": getattr(settings, "MAP_TILE_URL", ""),
        "tileAttribution": getattr(settings, "MAP_TILE_ATTRIBUTION", ""),
        "center": [float(center[0]), float(center[1])] if center else None,
        "zoom": int(getattr(settings, "MAP_ZOOM", 16)),
        "timeZone": settings.TIME_ZONE,
        "text": {
            "onDuty": _("在岗"),
            "offDuty": _("离岗"),
            "stale": _("位置过期"),
            "atBase": _("驻点（无定位）"),
            "noPosition": _("无定位"),
            "lastSeen": _("最近定位"),
            "never": _("从未上报"),
            "minutesAgo": _("%(n)s 分钟前"),
            "hoursAgo": _("%(n)s 小时前"),
            "daysAgo": _("%(n)s 天前"),
            "justNow": _("刚刚"),
            "openOrders": _("在手工单"),
            "status": _("状态"),
            "urgency": _("紧急程度"),
            "category": _("类别"),
            "place": _("地点"),
            "assignee": _("维修人员"),
            "unassigned": _("未派工"),
            "updated": _("更新于 %(time)s"),
            "refreshFailed": _("刷新失败（%(reason)s），稍后自动重试。"),
            "noData": _("暂无可显示的位置。"),
            "noTechnicians": _("没有维修人员。"),
            "noOrders": _("没有带坐标的未完成工单。"),
            "unmapped": _("地点没有坐标、未在地图上显示的工单：%(n)s 张。"),
            "mapUnavailable": _("地图组件未加载，请使用下方列表。"),
            "route": _("路线"),
            # Label and value separator in popups ("最近定位：10:02").
            "sep": _("："),
            "stop": _("第 %(n)s 站"),
        },
    }


def _body(request) -> dict[str, Any]:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise InvalidInput(_("请求体不是合法的 JSON，请检查格式。")) from None
        if not isinstance(data, dict):
            raise InvalidInput(_("请求体必须是 JSON 对象。"))
        return data
    return request.POST.dict()


def _when(value: Any):
    if value in (None, ""):
        return None
    try:
        parsed = parse_datetime(value.strip()) if isinstance(value, str) else None
    except ValueError:  # well formed but impossible, such as month 13
        parsed = None
    if parsed is None:
        raise InvalidInput(
            _("定位时间格式不正确，请使用 ISO 8601 格式，例如 2026-05-01T09:00:00+08:00。"),
            field="recorded_at",
        )
    return parsed
