"""Intake from every channel (IN1–IN5): the rules of who may report how, then one order.

The web/QR form, the agent desk and the API all come through `submit_report`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.core.cache import cache
from django.utils.translation import gettext as _

from repairhub.accounts.roles import Role
from repairhub.lib.localcache import LocalCache
from repairhub.lib.uploads import CleanUpload
from repairhub.places.models import Asset, Place
from repairhub.workorders.errors import InvalidInput, NotAllowed
from repairhub.workorders.models import ANONYMOUS_CHANNELS, Category, Channel, WorkOrder
from repairhub.workorders.services import create_order, idempotency_digest

DESK_CHANNELS = frozenset({Channel.PHONE, Channel.WALK_IN})


@dataclass
class Report:
    description: str
    category: str  # code
    reporter_name: str
    reporter_phone: str
    channel: str = Channel.WEB
    place: str = ""  # code
    asset: str = ""  # code; the order is then at the asset's place
    address: str = ""
    urgency: str = ""
    preferred_time: datetime | None = None
    received_at: datetime | None = None
    handling: str = ""
    remarks: str = ""
    attachments: list[CleanUpload] = field(default_factory=list)


class RateLimited(InvalidInput):
    status = 429
    code = "rate_limited"


# Categories and places this process has looked up by code (repairhub/lib/localcache.py);
# saving or deleting either clears them (apps.py).
CATEGORIES: LocalCache[Category] = LocalCache("categories")
PLACES: LocalCache[Place] = LocalCache("places")


def resolve_category(code: str, *, by) -> Category:
    """The category for a code; reporters may pick only those marked as selectable."""
    code = (code or "").strip()
    category = CATEGORIES.get(code, lambda: Category.objects.active().filter(code=code).first())
    staff = getattr(by, "is_authenticated", False) and by.is_staff_member
    if category is None or not (staff or category.reporter_selectable):
        raise InvalidInput(
            _("未知的报修类别“%(code)s”，请从列表中选择。") % {"code": code},
            field="category",
            code="unknown_category",
        )
    return category


def resolve_place(code: str) -> Place | None:
    code = (code or "").strip()
    if not code:
        return None
    place = PLACES.get(code, lambda: Place.objects.active().filter(code=code).first())
    if place is None:
        raise InvalidInput(
            _("未知的报修地点“%(code)s”，请从列表中选择。") % {"code": code},
            field="place",
            code="unknown_place",
        )
    return place


def resolve_asset(code: str) -> Asset | None:
    """The asset for a code, active or not: workorders.create_order refuses an inactive one
    in words."""
    code = (code or "").strip()
    if not code:
        return None
    asset = Asset.objects.select_related("place").filter(code=code).first()
    if asset is None:
        raise InvalidInput(
            _("未知的设备编码“%(code)s”，请核对设备上的标签。") % {"code": code},
            field="asset",
            code="unknown_asset",
        )
    return asset


def check_rate(client: str, *, limit: int | None = None, per_seconds: int | None = None) -> None:
    """Anonymous intake per client address: a fixed window counter in the shared cache."""
    from django.conf import settings

    if limit is None or per_seconds is None:
        count, _sep, unit = settings.ANON_INTAKE_RATE.partition("/")
        limit = int(count)
        per_seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit or "h"]
    key = f"intake-rate:{client}"
    cache.add(key, 0, per_seconds)
    try:
        used = cache.incr(key)
    except ValueError:
        cache.set(key, 1, per_seconds)
        used = 1
    if used > limit:
        raise RateLimited(_("提交过于频繁，请稍后再试；紧急情况请拨打报修电话。"))


def submit_report(
    report: Report, *, by, client: str = "", idempotency_key: str = ""
) -> tuple[WorkOrder, bool]:
    """Register a report from a reporter, an agent or a partner. Returns (order, created)."""
    authenticated = bool(getattr(by, "is_authenticated", False))
    roles = by.roles if authenticated else frozenset()
    channel = report.channel or Channel.WEB
    if channel not in Channel.values:
        raise InvalidInput(
            _("未知的报修渠道：%(channel)s。") % {"channel": channel}, field="channel"
        )
    if channel in DESK_CHANNELS and not roles & {Role.AGENT, Role.DISPATCHER, Role.ADMIN}:
        raise NotAllowed(_("电话和现场报修只能由值班员登记。"))
    if (
        channel == Channel.PARTNER
        and not roles & {Role.ADMIN, Role.AGENT, Role.DISPATCHER}
        and Role.PARTNER not in roles
    ):
        raise NotAllowed(_("只有合作平台账号可以使用“合作平台”渠道。"))
    if not authenticated and channel not in ANONYMOUS_CHANNELS:
        raise NotAllowed(_("未登录时只能使用网上报修或扫码报修。"))

    category = resolve_category(report.category, by=by)
    place = resolve_place(report.place)
    asset = resolve_asset(report.asset)
    scope = f"user:{by.pk}" if authenticated else f"anon:{client}"
    key = idempotency_digest(scope, idempotency_key) if idempotency_key else None
    if not authenticated:
        # A double tap on the form must not count against the rate limit: look the key up
        # first. Everyone else relies on the unique index (create_order returns the first
        # order on a repeat), which saves a query on every submission.
        if key:
            existing = WorkOrder.objects.filter(idempotency_key=key).first()
            if existing is not None:
                return existing, False
        check_rate(client or "unknown")
    return create_order(
        category=category,
        place=place,
        asset=asset,
        address=report.address,
        description=report.description,
        urgency=report.urgency or None,
        channel=channel,
        preferred_time=report.preferred_time,
        reporter_name=report.reporter_name,
        reporter_phone=report.reporter_phone,
        reporter=by if authenticated and channel not in DESK_CHANNELS else None,
        by=by,
        received_at=report.received_at,
        handling=report.handling,
        remarks=report.remarks,
        idempotency_key=key,
        attachments=report.attachments,
    )
