"""Technicians' live positions (DP3): reports from their phones, the dispatcher's map, pruning.

`record_position` is the only write path for `Position` rows and a profile's last position;
`map_snapshot` is the read model behind the live map page, its JSON feed and the API;
`prune_positions` keeps tracks only as long as configured (run daily by `tasks.py`).

Settings (read here with defaults, so an install that sets none still works):

- POSITION_MIN_SECONDS (20): a report within this many seconds of the previous one and within
  `THROTTLE_METRES` of it is not stored (phones repeat the same fix while standing still).
- POSITION_KEEP_DAYS (7): positions older than this are deleted, and so is a profile's last
  position when it is older.
- POSITION_STALE_MINUTES (10): a technician whose last report is older is shown as stale.
- POSITION_TRACK_MINUTES (120): how far back the map draws each technician's track.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from repairhub.accounts.models import RoleGrant, User
from repairhub.accounts.roles import Role
from repairhub.workorders.access import visible_orders
from repairhub.workorders.errors import InvalidInput, NotAllowed
from repairhub.workorders.models import Urgency, WorkOrder
from repairhub.workorders.states import WITH_TECHNICIAN, Status

from .models import Position, TechnicianProfile

# Who reports positions, and who may watch them on the map.
REPORTING_ROLES = (Role.TECHNICIAN, Role.EXPERT)
MAP_ROLES = (Role.DISPATCHER, Role.TEAM_LEAD, Role.MANAGER, Role.ADMIN)

# Two reports closer than this (and close in time) are the same place for the throttle.
THROTTLE_METRES = 10.0
# A phone's clock may run a little ahead of the server's; more than this is refused.
CLOCK_SKEW = dt.timedelta(minutes=2)
# Largest accuracy radius accepted, in metres (cell-tower fixes can be kilometres off).
MAX_ACCURACY_M = 100_000
# Points drawn per technician's track at most, the newest ones.
MAX_TRACK_POINTS = 240
EARTH_RADIUS_M = 6_371_008.8
SIX_PLACES = Decimal("0.000001")

# States drawn on the map: orders that still need someone on site. Completed orders await only
# the reporter's confirmation or a review and would crowd the map.
MAP_STATES = (
    Status.SUBMITTED,
    Status.ACCEPTED,
    Status.DISPATCHED,
    Status.ACKNOWLEDGED,
    Status.IN_PROGRESS,
    Status.ON_HOLD,
)
STATUS_COLORS = {
    Status.SUBMITTED: "#e69500",
    Status.ACCEPTED: "#1976d2",
    Status.DISPATCHED: "#7e57c2",
    Status.ACKNOWLEDGED: "#3949ab",
    Status.IN_PROGRESS: "#2e7d32",
    Status.ON_HOLD: "#ad1457",
}
# Urgency is drawn as size and, for the two urgent levels, a coloured ring.
URGENCY_STYLES = {
    Urgency.LOW: {"radius": 6, "ring": ""},
    Urgency.NORMAL: {"radius": 8, "ring": ""},
    Urgency.HIGH: {"radius": 10, "ring": "#ef6c00"},
    Urgency.CRITICAL: {"radius": 12, "ring": "#c62828"},
}
URGENCY_RANK = {Urgency.CRITICAL: 0, Urgency.HIGH: 1, Urgency.NORMAL: 2, Urgency.LOW: 3}


class OffDuty(NotAllowed):
    code = "off_duty"


def _setting(name: str, default: float) -> float:
    return getattr(settings, name, default)


def min_seconds() -> float:
    return float(_setting("POSITION_MIN_SECONDS", 20))


def keep_days() -> float:
    return float(_setting("POSITION_KEEP_DAYS", 7))


def stale_minutes() -> float:
    return float(_setting("POSITION_STALE_MINUTES", 10))


def track_minutes() -> float:
    return float(_setting("POSITION_TRACK_MINUTES", 120))


# --- reporting ----------------------------------------------------------------------------------


def record_position(
    user,
    *,
    latitude: Any,
    longitude: Any,
    accuracy: Any = None,
    at: dt.datetime | None = None,
) -> Position:
    """Store where a technician's phone says he is, and make it his last known position.

    Refused, with nothing stored: a user who is not an active technician or expert
    (`NotAllowed`, 403); one whose profile says he is off duty (`OffDuty`, 403); coordinates
    that are not finite numbers within −90..90 / −180..180, or exactly (0, 0) — "null
    island", what phones report when they have no fix, and no campus lies there; an accuracy
    outside 0..100,000 m; a time more than two minutes in the future or older than
    POSITION_KEEP_DAYS (`InvalidInput`, 422, naming the field).

    Throttled: when his previous report is less than POSITION_MIN_SECONDS older than this one
    and less than 10 m away, nothing is written and that previous `Position` is returned.
    The returned position carries `throttled` (True or False) so callers can tell.

    A report older than his last known position (a phone catching up) is kept for the track
    but does not move his last position. His `TechnicianProfile` is created when missing.
    """
    if not _may_report(user):
        raise NotAllowed(_("只有在职的维修人员或技术专家可以上报位置。"))
    lat = _coordinate(latitude, "latitude", 90)
    lng = _coordinate(longitude, "longitude", 180)
    if lat == 0 and lng == 0:
        raise InvalidInput(
            _("位置 (0, 0) 不是有效定位（手机未取得定位时常报此值），请稍后再试。"),
            field="latitude",
        )
    metres = _accuracy(accuracy)
    now = timezone.now()
    at = _report_time(at, now)

    with transaction.atomic():
        TechnicianProfile.objects.get_or_create(user=user)
        # Locked so two reports of one phone cannot both slip past the throttle.
        profile = TechnicianProfile.objects.select_for_update().get(user=user)
        if not profile.on_duty:
            raise OffDuty(_("您当前不在岗，位置未上报。"))
        previous = Position.objects.filter(technician=user).order_by("-recorded_at", "-pk").first()
        if previous is not None and _is_repeat(previous, lat, lng, at):
            previous.throttled = True
            return previous
        position = Position.objects.create(
            technician=user, latitude=lat, longitude=lng, accuracy=metres, recorded_at=at
        )
        if profile.last_position_at is None or at >= profile.last_position_at:
            TechnicianProfile.objects.filter(pk=profile.pk).update(
                last_latitude=lat, last_longitude=lng, last_position_at=at
            )
    position.throttled = False
    return position


def _may_report(user) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and user.has_role(*REPORTING_ROLES)
    )


def _coordinate(value: Any, field: str, limit: int) -> Decimal:
    if value is None or value == "" or isinstance(value, bool):
        raise InvalidInput(_("请提供%(name)s。") % {"name": _label(field)}, field=field)
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput(
            _("%(name)s必须是数字（十进制度数），例如 30.512345。") % {"name": _label(field)},
            field=field,
        ) from None
    if not number.is_finite() or abs(number) > limit:
        raise InvalidInput(
            _("%(name)s超出范围：必须在 -%(limit)s 到 %(limit)s 之间。")
            % {"name": _label(field), "limit": limit},
            field=field,
        )
    return number.quantize(SIX_PLACES)


def _label(field: str) -> str:
    return {"latitude": _("纬度"), "longitude": _("经度")}[field]


def _accuracy(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(_("定位精度必须是数字（米）。"), field="accuracy") from None
    if not math.isfinite(number) or number < 0 or number > MAX_ACCURACY_M:
        raise InvalidInput(
            _("定位精度超出范围：必须在 0 到 %(max)s 米之间。") % {"max": MAX_ACCURACY_M},
            field="accuracy",
        )
    return round(number)


def _report_time(at: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    if at is None:
        return now
    if not isinstance(at, dt.datetime):
        raise InvalidInput(_("定位时间格式不正确。"), field="recorded_at")
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > now + CLOCK_SKEW:
        raise InvalidInput(
            _("定位时间晚于服务器当前时间，请校准手机时间后再试。"), field="recorded_at"
        )
    if at < now - dt.timedelta(days=keep_days()):
        raise InvalidInput(
            _("定位时间太早：只接收最近 %(days)s 天内的位置。") % {"days": _days(keep_days())},
            field="recorded_at",
        )
    return at.astimezone(dt.UTC)


def _days(value: float) -> str:
    return f"{value:g}"


def _is_repeat(previous: Position, lat: Decimal, lng: Decimal, at: dt.datetime) -> bool:
    seconds = abs((at - previous.recorded_at).total_seconds())
    if seconds >= min_seconds():
        return False
    return distance_m(previous.latitude, previous.longitude, lat, lng) < THROTTLE_METRES


def distance_m(lat1, lng1, lat2, lng2) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    dp = p2 - p1
    dl = math.radians(float(lng2) - float(lng1))
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


# --- keeping ------------------------------------------------------------------------------------


def prune_positions(now: dt.datetime | None = None) -> int:
    """Delete positions older than POSITION_KEEP_DAYS; return how many were deleted.

    A profile's last known position older than that is cleared as well, so nothing about where
    someone was is kept longer than configured.
    """
    cutoff = (now or timezone.now()) - dt.timedelta(days=keep_days())
    with transaction.atomic():
        deleted, _by_model = Position.objects.filter(recorded_at__lt=cutoff).delete()
        TechnicianProfile.objects.filter(last_position_at__lt=cutoff).update(
            last_latitude=None, last_longitude=None, last_position_at=None
        )
    return deleted


# --- the live map -------------------------------------------------------------------------------


def may_see_map(user) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and user.has_role(*MAP_ROLES)
    )


def map_snapshot(viewer, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """What the dispatcher's live map shows, ready for JSON (datetimes are left as such).

    Technicians: dispatchers, managers and admins see all active technicians and experts; a
    team lead sees the members of the teams he leads. Each has his last reported position, or
    his base marked `at_base`, or none; `stale` when no report came within
    POSITION_STALE_MINUTES; his orders in hand; his track over POSITION_TRACK_MINUTES.
    Orders: the open orders the viewer may see that still need a visit, placed at their place's
    coordinates (a room inherits its building's); those without are only counted.
    Four queries whatever the number of technicians and orders (plus the viewer's roles).
    """
    if not may_see_map(viewer):
        raise NotAllowed(_("只有调度员、班组长、主管和管理员可以查看实时地图。"))
    now = now or timezone.now()
    stale_after = dt.timedelta(minutes=stale_minutes())
    track_since = now - dt.timedelta(minutes=track_minutes())

    technicians = _technicians(viewer)
    ids = technicians.order_by().values("pk")
    in_hand = dict(
        WorkOrder.objects.filter(status__in=WITH_TECHNICIAN, assignee__in=ids)
        .order_by()
        .values("assignee")
        .annotate(n=Count("pk"))
        .values_list("assignee", "n")
    )
    tracks: dict[int, list[list[float]]] = defaultdict(list)
    points = (
        Position.objects.filter(
            technician__in=ids,
            recorded_at__gte=track_since,
            recorded_at__lte=now,
        )
        .order_by("technician_id", "recorded_at", "pk")
        .values_list("technician_id", "latitude", "longitude")
    )
    for tech_id, lat, lng in points:
        tracks[tech_id].append([float(lat), float(lng)])

    techs = [
        _technician(user, now, stale_after, in_hand.get(user.pk, 0), tracks.get(user.pk, []))
        for user in technicians
    ]
    orders, unmapped = _orders(viewer)
    return {
        "now": now,
        "stale_minutes": stale_minutes(),
        "track_minutes": track_minutes(),
        "technicians": techs,
        "orders": orders,
        "unmapped_orders": unmapped,
        "legend": legend(),
    }


def _technicians(viewer):
    qs = (
        User.objects.filter(
            is_active=True,
            pk__in=RoleGrant.objects.filter(role__in=REPORTING_ROLES).values("user_id"),
        )
        .select_related("dispatch_profile", "team")
        .order_by("display_name", "username")
    )
    if not viewer.sees_all_orders:
        qs = qs.filter(team__lead=viewer)
    return qs


def _technician(user, now, stale_after, open_orders: int, track: list) -> dict[str, Any]:
    profile = getattr(user, "dispatch_profile", None)
    lat = lng = seen = None
    at_base = False
    if profile is not None:
        seen = profile.last_position_at
        if profile.last_latitude is not None and profile.last_longitude is not None:
            lat, lng = float(profile.last_latitude), float(profile.last_longitude)
        elif profile.base_latitude is not None and profile.base_longitude is not None:
            lat, lng, at_base = float(profile.base_latitude), float(profile.base_longitude), True
    if len(track) > MAX_TRACK_POINTS:
        track = track[-MAX_TRACK_POINTS:]
    return {
        "username": user.username,
        "name": user.name,
        "team": user.team.name if user.team_id else None,
        # Without a profile he has never been taken off duty: the default is on duty.
        "on_duty": profile.on_duty if profile is not None else True,
        "lat": lat,
        "lng": lng,
        "at_base": at_base,
        "last_position_at": seen,
        "stale": seen is None or now - seen > stale_after,
        "open_orders": open_orders,
        "track": track,
    }


def _orders(viewer) -> tuple[list[dict[str, Any]], int]:
    qs = (
        visible_orders(viewer)
        .filter(status__in=MAP_STATES)
        .select_related(
            "category",
            "category__parent",
            "assignee",
            # Rooms sit three levels under a campus; the coordinates may be on any of them.
            "place__parent__parent__parent",
        )
        .order_by("created_at", "pk")
    )
    orders, unmapped = [], 0
    for order in qs:
        where = order.place.coordinates if order.place_id else None
        if where is None:
            unmapped += 1
            continue
        orders.append(
            {
                "number": order.number,
                "url": reverse("workorders:order-detail", args=[order.number]),
                "status": order.status,
                "status_label": str(Status(order.status).label),
                "urgency": order.urgency,
                "urgency_label": str(Urgency(order.urgency).label),
                "category": str(order.category),
                "place": order.place.full_name,
                "lat": where[0],
                "lng": where[1],
                "assignee": order.assignee.username if order.assignee_id else None,
                "assignee_name": order.assignee.name if order.assignee_id else None,
                "created_at": order.created_at,
            }
        )
    # Most urgent first in lists; the map draws the list backwards so they end up on top.
    orders.sort(key=lambda o: URGENCY_RANK.get(o["urgency"], 9))
    return orders, unmapped


def legend() -> dict[str, list[dict[str, Any]]]:
    """Colours and sizes the map uses, with their words: one source for map, list and docs."""
    return {
        "statuses": [
            {"code": s.value, "label": str(s.label), "color": STATUS_COLORS[s]} for s in MAP_STATES
        ],
        "urgencies": [
            {"code": u.value, "label": str(u.label), **URGENCY_STYLES[u]} for u in Urgency
        ],
        "technicians": [
            {"code": "live", "label": _("在岗，位置实时")},
            {"code": "stale", "label": _("位置过期或离岗")},
            {"code": "base", "label": _("无定位，显示驻点")},
        ],
    }
