"""Hotspots (AN8): places and assets where the same kind of fault keeps coming back, with a
suggestion for preventive work. The rule in words: docs/forecast.md, "Hotspots".

A *failure* is an order reported in the window at a place (not an address) that was not
rejected or cancelled (outside the remit, withdrawn, a duplicate). A place — the node the
order names, usually a room — is a hotspot of a category when it has at least `min_count`
failures of that category in the window. Its building is one when the failures of that
category at or under it reach `min_count` and are spread over at least two places (otherwise
the building's row would repeat the room's). An asset (the register in places.Asset) is a
hotspot of a category by the same threshold, counted over the failures that name it; those
failures also count at its place, so an asset row never replaces its place's row. Fixtures
that are not registered (lamps, pipes, locks) are counted only at their place.

Counts, first and last failure come from one GROUP BY (place × category) and one (asset ×
category); buildings add the place groups up. Only the orders of the listed place and asset
hotspots are read one by one, to name them and to see whether their intervals shrink.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from django.conf import settings
from django.db.models import Count, Max, Min, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from repairhub.places.models import Asset, Place, PlaceKind
from repairhub.workorders.errors import InvalidInput
from repairhub.workorders.models import Category, Result, WorkOrder
from repairhub.workorders.states import Status

from .periods import Filters, Grain, Period
from .queries import reported

# Not failures of the place: outside the remit, withdrawn, duplicates.
NOT_FAILURES = (Status.REJECTED, Status.CANCELLED)
MIN_DAYS, MAX_DAYS = 7, 366
MIN_COUNT, MAX_COUNT = 2, 100
DAY_SECONDS = 86400.0

# Where to look first, by words in the category's name (category names are the admin's data,
# so this is a hint table, not a list of codes); the last entry is the fallback.
CAUSES: list[tuple[tuple[str, ...], str]] = [
    (("灯", "照明"), "lamp"),
    (("插座", "开关", "电", "线路"), "power"),
    (("水", "管", "漏", "厕", "卫", "下水"), "water"),
    (("空调", "暖", "风"), "air"),
    (("门", "锁", "窗"), "door"),
    (("网", "电话", "宽带"), "network"),
]


def _cause(kind: str) -> str:
    return {
        "lamp": _("线路、开关、镇流器和供电电压"),
        "power": _("线路负荷、接头松动和漏电保护"),
        "water": _("水压、阀门、管道老化和排水坡度"),
        "air": _("滤网、制冷剂、排水和电源"),
        "door": _("门框变形、合页、锁体磨损和使用方式"),
        "network": _("布线、交换机端口和供电"),
    }.get(kind, _("设备老化、安装质量和使用环境"))


def cause_hint(category: Category) -> str:
    """Where a repeated fault of this category usually comes from, in words."""
    words = category.name + (category.parent.name if category.parent_id else "")
    for keys, kind in CAUSES:
        if any(k in words for k in keys):
            return _cause(kind)
    return _cause("")


@dataclass(frozen=True)
class Window:
    """The last `days` local days up to `end` (included), and the threshold."""

    end: date
    days: int
    min_count: int

    @property
    def start(self) -> date:
        return self.end - timedelta(days=self.days - 1)

    @property
    def period(self) -> Period:
        return Period(self.start, self.end, Grain.DAY)

    def as_params(self) -> dict[str, str]:
        return {
            "end": self.end.isoformat(),
            "days": str(self.days),
            "min_count": str(self.min_count),
        }


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def defaults() -> tuple[int, int]:
    """(days, min_count) from ANALYTICS_HOTSPOT_DAYS and ANALYTICS_HOTSPOT_MIN_COUNT."""
    return _setting("ANALYTICS_HOTSPOT_DAYS", 90), _setting("ANALYTICS_HOTSPOT_MIN_COUNT", 3)


def _whole(value, field: str, low: int, high: int, message: str) -> int:
    text = str(value).strip()
    if not text.isdigit() or not low <= int(text) <= high:
        raise InvalidInput(message % {"low": low, "high": high, "value": text}, field=field)
    return int(text)


def parse_window(days=None, min_count=None, end=None, *, today: date | None = None) -> Window:
    """A window from page or API input; empty parts take the configured defaults and today."""
    today = today or timezone.localdate()
    default_days, default_count = defaults()
    n_days = _whole(
        default_days if days in (None, "") else days,
        "days",
        MIN_DAYS,
        MAX_DAYS,
        _("统计窗口必须是 %(low)d 到 %(high)d 天之间的整数（收到“%(value)s”）。"),
    )
    threshold = _whole(
        default_count if min_count in (None, "") else min_count,
        "min_count",
        MIN_COUNT,
        MAX_COUNT,
        _("重复次数阈值必须是 %(low)d 到 %(high)d 之间的整数（收到“%(value)s”）。"),
    )
    last = today
    if end not in (None, ""):
        if isinstance(end, date):
            last = end
        else:
            try:
                last = date.fromisoformat(str(end).strip())
            except ValueError:
                raise InvalidInput(
                    _("日期格式不正确，请使用 YYYY-MM-DD，例如 2026-05-01。"), field="end"
                ) from None
    if last > today:
        raise InvalidInput(_("统计窗口的结束日期不能晚于今天。"), field="end")
    return Window(end=last, days=n_days, min_count=threshold)


def failures(window: Window, f: Filters) -> QuerySet[WorkOrder]:
    """Orders that count as failures of their place in the window (see the module docstring)."""
    return reported(window.period, f).exclude(status__in=NOT_FAILURES).filter(place__isnull=False)


def _building_code(path: str) -> str | None:
    """The building of a place from its path (campus/building/floor/room); None for a campus."""
    codes = path.split("/")
    return codes[1] if len(codes) >= 2 else None


def _local(dt):
    return timezone.localtime(dt)


def _mean_days(first, last, n: int) -> float | None:
    """Mean interval between consecutive failures: the gaps add up to last − first."""
    if n < 2:
        return None
    return round((last - first).total_seconds() / DAY_SECONDS / (n - 1), 1)


def shrinking(times: list) -> bool:
    """Whether the later intervals are less than half the earlier ones (needs three failures)."""
    gaps = [(b - a).total_seconds() for a, b in pairwise(times)]
    if len(gaps) < 2:
        return False
    half = len(gaps) // 2
    early, late = gaps[:half], gaps[len(gaps) - half :]
    return sum(late) / len(late) < 0.5 * sum(early) / len(early)


def _rank_key(row: dict):
    interval = row["mean_interval_days"]
    latest = -row["last"].timestamp()
    return (-row["count"], interval if interval is not None else float("inf"), latest)


def _grouped(qs: QuerySet[WorkOrder], by: str) -> QuerySet:
    """Failures per `by` (place_id or asset_id) and category, with the figures of a row."""
    return (
        qs.order_by()
        .values(by, "category_id")
        .annotate(
            n=Count("pk"),
            first=Min("created_at"),
            last=Max("created_at"),
            failed=Count("pk", filter=Q(result=Result.FAILED)),
            reworked=Count("pk", filter=Q(reopen_count__gt=0)),
        )
    )


def _one_spot(g: dict) -> dict:
    """The figures of one place's or one asset's failures in a category (a _grouped() row)."""
    return {
        "count": g["n"],
        "places": 1,
        "first": g["first"],
        "last": g["last"],
        "mean_interval_days": _mean_days(g["first"], g["last"], g["n"]),
        "failed": g["failed"],
        "reworked": g["reworked"],
        "top_places": [],
        "widespread": False,
    }


def hotspots(window: Window, f: Filters) -> dict:
    """Asset, place and building hotspots of the window, most failures first (then the
    shortest mean interval), each with its figures and a suggestion."""
    limit = _setting("ANALYTICS_HOTSPOT_LIMIT", 50)
    spread = _setting("ANALYTICS_HOTSPOT_SPREAD", 3)
    groups = list(_grouped(failures(window, f), "place_id"))
    # Only the assets at the threshold come back (HAVING): most assets fail once or never.
    asset_groups = list(
        _grouped(failures(window, f).filter(asset__isnull=False), "asset_id").filter(
            n__gte=window.min_count
        )
    )
    places = Place.objects.in_bulk({g["place_id"] for g in groups})
    assets = Asset.objects.select_related("place").in_bulk({g["asset_id"] for g in asset_groups})
    cats = Category.objects.select_related("parent").in_bulk(
        {g["category_id"] for g in (*groups, *asset_groups)}
    )

    # Buildings: the place groups added up.
    by_building: dict[tuple[str, int], list[dict]] = {}
    for g in groups:
        code = _building_code(places[g["place_id"]].path)
        if code is not None:
            by_building.setdefault((code, g["category_id"]), []).append(g)
    buildings = Place.objects.in_bulk([c for c, _cat in by_building], field_name="code")
    building_rows = []
    for (code, cat_id), members in by_building.items():
        n = sum(m["n"] for m in members)
        if n < window.min_count or len(members) < 2:
            continue
        first, last = min(m["first"] for m in members), max(m["last"] for m in members)
        top = sorted(members, key=lambda m: (-m["n"], places[m["place_id"]].path))[:3]
        row = {
            "level": "building",
            "place": _place_out(buildings[code]),
            "category": _category_out(cats[cat_id]),
            "count": n,
            "places": len(members),
            "first": first,
            "last": last,
            "mean_interval_days": _mean_days(first, last, n),
            "failed": sum(m["failed"] for m in members),
            "reworked": sum(m["reworked"] for m in members),
            "shrinking": False,
            "orders": [],
            "top_places": [{**_place_out(places[m["place_id"]]), "count": m["n"]} for m in top],
        }
        row["widespread"] = row["places"] >= spread
        row["suggestion"] = _building_advice(row, cats[cat_id], window)
        building_rows.append(row)
    building_rows.sort(key=_rank_key)
    widespread = {
        (r["place"]["code"], r["category"]["code"]) for r in building_rows if r["widespread"]
    }

    place_rows = []
    for g in groups:
        if g["n"] < window.min_count:
            continue
        place = places[g["place_id"]]
        place_rows.append(
            {
                "level": "place",
                "place": _place_out(place),
                "category": _category_out(cats[g["category_id"]]),
                **_one_spot(g),
                "_key": (g["place_id"], g["category_id"]),
                "_building": _building_code(place.path),
            }
        )
    place_rows.sort(key=_rank_key)

    asset_rows = []
    for g in asset_groups:
        asset = assets[g["asset_id"]]
        asset_rows.append(
            {
                "level": "asset",
                "asset": _asset_out(asset),
                "place": _place_out(asset.place),
                "category": _category_out(cats[g["category_id"]]),
                **_one_spot(g),
                "_key": (g["asset_id"], g["category_id"]),
            }
        )
    asset_rows.sort(key=_rank_key)
    more = {
        "assets": max(len(asset_rows) - limit, 0),
        "places": max(len(place_rows) - limit, 0),
        "buildings": max(len(building_rows) - limit, 0),
    }
    asset_rows = asset_rows[:limit]
    place_rows, building_rows = place_rows[:limit], building_rows[:limit]
    _add_orders(asset_rows, window, f, by="asset_id")
    # The worst listed asset of each place and category, named in the place's suggestion.
    worst: dict[tuple[int, int], dict] = {}
    for row in asset_rows:
        asset_id, cat_id = row.pop("_key")
        asset = assets[asset_id]
        worst.setdefault((asset.place_id, cat_id), row)
        row["suggestion"] = _asset_advice(row, asset, cats[cat_id], window)
    _add_orders(place_rows, window, f)
    for row in place_rows:
        key = row.pop("_key")
        cat = cats[key[1]]
        in_wide = (row.pop("_building"), cat.code) in widespread
        row["suggestion"] = _place_advice(
            row, cat, window, in_wide=in_wide, asset_row=worst.get(key)
        )
    for row in (*asset_rows, *place_rows, *building_rows):
        row["first"], row["last"] = _local(row["first"]), _local(row["last"])
    return {
        "window": {
            "start": window.start.isoformat(),
            "end": window.end.isoformat(),
            "days": window.days,
            "min_count": window.min_count,
        },
        "filters": f.as_params(),
        "failures": sum(g["n"] for g in groups),
        "assets": asset_rows,
        "places": place_rows,
        "buildings": building_rows,
        "more": more,
    }


def _add_orders(rows: list[dict], window: Window, f: Filters, *, by: str = "place_id") -> None:
    """The numbers of each listed place (or asset) hotspot's orders (oldest first) and whether
    the intervals between them shrink: one query for all rows."""
    wanted = {row["_key"]: row for row in rows}
    for row in rows:
        row["orders"], row["_times"] = [], []
    if not wanted:
        return
    found = (
        failures(window, f)
        .filter(**{f"{by}__in": {k[0] for k in wanted}}, category_id__in={k[1] for k in wanted})
        .order_by("created_at", "pk")
        .values_list(by, "category_id", "created_at", "number")
    )
    for spot_id, cat_id, created, number in found:
        row = wanted.get((spot_id, cat_id))
        if row is not None:
            row["orders"].append(number)
            row["_times"].append(created)
    for row in rows:
        row["shrinking"] = shrinking(row.pop("_times"))


def _place_out(place: Place) -> dict:
    return {"code": place.code, "name": place.full_name or place.name, "kind": place.kind}


def _category_out(cat: Category) -> dict:
    return {"code": cat.code, "name": str(cat)}


def _asset_out(asset: Asset) -> dict:
    return {"code": asset.code, "name": asset.name, "model": asset.model}


def _repeat_advice(row: dict) -> list[str]:
    """What failed repairs and reopened orders say, for a place or an asset."""
    parts = []
    if row["failed"]:
        parts.append(
            _("其中 %(n)d 次维修未成功，建议请技术专家到现场评估。") % {"n": row["failed"]}
        )
    if row["reworked"]:
        parts.append(
            _("%(n)d 张工单修后又重新打开过，说明上次的修复没有解决问题。") % {"n": row["reworked"]}
        )
    return parts


def _asset_advice(row: dict, asset: Asset, cat: Category, window: Window) -> str:
    values = {
        "days": window.days,
        "asset": asset.name,
        "n": row["count"],
        "cat": cat.name,
        "hint": cause_hint(cat),
    }
    parts = [
        _(
            "%(days)d 天内设备“%(asset)s”%(n)d 次“%(cat)s”故障：建议对这台设备做一次预防性检修，"
            "查明根本原因（%(hint)s），而不是再修一次。"
        )
        % values,
        *_repeat_advice(row),
    ]
    if row["shrinking"]:
        parts.append(_("故障间隔越来越短，这台设备可能已接近使用寿命，建议评估更换。"))
    elif asset.installed_on is not None:
        years = (window.end - asset.installed_on).days // 365
        if years >= 1:
            parts.append(
                _("这台设备已使用 %(years)d 年，修理费用接近更换费用时，建议直接更换。")
                % {"years": years}
            )
    return "".join(parts)


def _place_advice(
    row: dict, cat: Category, window: Window, *, in_wide: bool, asset_row: dict | None = None
) -> str:
    parts = [
        _(
            "%(days)d 天内同一处 %(n)d 次“%(cat)s”故障：建议安排一次预防性检查，查明根本原因"
            "（%(hint)s），而不是再修一次、再换一次。"
        )
        % {"days": window.days, "n": row["count"], "cat": cat.name, "hint": cause_hint(cat)}
    ]
    parts += _repeat_advice(row)
    if row["shrinking"]:
        parts.append(_("故障间隔越来越短，设备可能已接近使用寿命，建议评估整体更换。"))
    if asset_row is not None:
        parts.append(
            _("其中 %(n)d 次出在设备“%(asset)s”上，见设备热点。")
            % {"n": asset_row["count"], "asset": asset_row["asset"]["name"]}
        )
    if in_wide:
        parts.append(_("同楼多处出现同类故障，见下方楼宇汇总。"))
    return "".join(parts)


def _building_advice(row: dict, cat: Category, window: Window) -> str:
    values = {
        "building": row["place"]["name"],
        "places": row["places"],
        "days": window.days,
        "n": row["count"],
        "cat": cat.name,
        "hint": cause_hint(cat),
        "top": row["top_places"][0]["name"],
    }
    if row["widespread"]:
        return (
            _(
                "%(building)s 有 %(places)d 处在 %(days)d 天内共出现 %(n)d 次“%(cat)s”故障，分布较广，"
                "更像是整栋楼的系统问题：建议对该楼的相关设施（%(hint)s）安排一次计划巡检。"
            )
            % values
        )
    return (
        _(
            "%(building)s 的 %(n)d 次“%(cat)s”故障集中在 %(places)d 处（最多的是 %(top)s）："
            "建议先逐处查明原因。"
        )
        % values
    )


def hotspot_orders(
    window: Window, f: Filters, *, level: str, place: str, category: str, asset: str = ""
) -> tuple[QuerySet[WorkOrder], Place | Asset, Category]:
    """The orders behind one hotspot row: the failures of `category` on the asset (level
    "asset"), at the place itself (level "place") or at or under the building (level
    "building"), newest first; with the asset or place they were counted for."""
    if level not in ("place", "building", "asset"):
        raise InvalidInput(
            _("热点层级只能是 place（地点）、building（楼宇）或 asset（设备）。"), field="level"
        )
    where: Place | Asset | None
    if level == "asset":
        where = Asset.objects.filter(code=(asset or "").strip()).first()
        if where is None:
            raise InvalidInput(
                _("未知的设备编码“%(code)s”，请核对设备上的标签。") % {"code": asset},
                field="spot_asset",
            )
    else:
        where = Place.objects.filter(code=(place or "").strip()).first()
        if where is None:
            raise InvalidInput(
                _("未知的报修地点“%(code)s”，请从列表中选择。") % {"code": place},
                field="spot_place",
            )
        if level == "building" and where.kind != PlaceKind.BUILDING:
            raise InvalidInput(_("“%(name)s”不是楼宇。") % {"name": where}, field="spot_place")
    cat = Category.objects.select_related("parent").filter(code=(category or "").strip()).first()
    if cat is None:
        raise InvalidInput(
            _("未知的报修类别“%(code)s”，请从列表中选择。") % {"code": category},
            field="spot_category",
        )
    qs = failures(window, f).filter(category=cat)
    if level == "asset":
        qs = qs.filter(asset=where)
    elif level == "place":
        qs = qs.filter(place=where)
    else:
        qs = qs.filter(place_id__in=Place.objects.within(where).values("pk"))
    return qs.for_listing().order_by("-created_at", "-pk"), where, cat
