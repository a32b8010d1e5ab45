"""What a figure is about: a period cut into buckets, and the filters (category, channel, place
subtree, team). Parsed once at the edge (page, API) with Chinese errors; queries take these."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from repairhub.accounts.models import Team
from repairhub.places.models import Place
from repairhub.workorders.errors import InvalidInput
from repairhub.workorders.models import Category, Channel


class Grain(models.TextChoices):
    DAY = "day", gettext_lazy("按日")
    WEEK = "week", gettext_lazy("按周")
    MONTH = "month", gettext_lazy("按月")


# The longest period each grain may span: a chart with more points says nothing more.
MAX_DAYS = {Grain.DAY: 366, Grain.WEEK: 3 * 366, Grain.MONTH: 10 * 366}
DEFAULT_DAYS = 30


def local_midnight(d: date) -> datetime:
    return timezone.make_aware(datetime.combine(d, time.min))


def bucket_start(d: date, grain: str) -> date:
    """The first day of the bucket holding `d`: itself, the Monday of its week, the 1st."""
    if grain == Grain.WEEK:
        return d - timedelta(days=d.weekday())
    if grain == Grain.MONTH:
        return d.replace(day=1)
    return d


def next_bucket(d: date, grain: str) -> date:
    if grain == Grain.WEEK:
        return d + timedelta(days=7)
    if grain == Grain.MONTH:
        return (d.replace(day=28) + timedelta(days=4)).replace(day=1)
    return d + timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """Local days `start`..`end` (both included), shown in buckets of `grain`."""

    start: date
    end: date
    grain: str = Grain.DAY

    @property
    def start_at(self) -> datetime:
        return local_midnight(self.start)

    @property
    def end_at(self) -> datetime:
        """The first instant after the period (exclusive bound)."""
        return local_midnight(self.end + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def buckets(self) -> list[date]:
        """Every bucket the period touches, first to last (a week may begin before `start`)."""
        out, b = [], bucket_start(self.start, self.grain)
        while b <= self.end:
            out.append(b)
            b = next_bucket(b, self.grain)
        return out

    def bucket_days(self, b: date) -> tuple[date, date]:
        """The first and last day of bucket `b` that lie inside the period."""
        return max(b, self.start), min(next_bucket(b, self.grain) - timedelta(days=1), self.end)

    def bucket_range(self, b: date) -> tuple[datetime, datetime]:
        """The instants of bucket `b` that lie inside the period."""
        lo, hi = self.bucket_days(b)
        return local_midnight(lo), local_midnight(hi + timedelta(days=1))

    def as_params(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "grain": self.grain}

    @classmethod
    def month(cls, first: date) -> Period:
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        return cls(first, last, Grain.MONTH)


def _date(value, field: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput(
            _("日期格式不正确，请使用 YYYY-MM-DD，例如 2026-05-01。"), field=field
        ) from None


def parse_period(start=None, end=None, grain=None, *, today: date | None = None) -> Period:
    """A period from page or API input; empty parts default to the last 30 days by day."""
    grain = str(grain or Grain.DAY).strip()
    if grain not in Grain.values:
        raise InvalidInput(
            _("统计粒度只能是：按日、按周、按月（day、week、month）。"), field="grain"
        )
    today = today or timezone.localdate()
    d_end = _date(end, "end") or today
    d_start = _date(start, "start") or d_end - timedelta(days=DEFAULT_DAYS - 1)
    if d_start > d_end:
        raise InvalidInput(_("开始日期不能晚于结束日期。"), field="start")
    if (d_end - d_start).days + 1 > MAX_DAYS[grain]:
        raise InvalidInput(
            _("%(grain)s统计最多 %(days)d 天，请缩短时段或改用更粗的粒度。")
            % {"grain": Grain(grain).label, "days": MAX_DAYS[grain]},
            field="start",
        )
    return Period(d_start, d_end, grain)


def parse_month(value: str) -> date:
    """'2026-05' → date(2026, 5, 1)."""
    try:
        year, month = (int(p) for p in str(value).strip().split("-"))
        return date(year, month, 1)
    except (TypeError, ValueError):
        raise InvalidInput(
            _("月份格式不正确，请使用 YYYY-MM，例如 2026-05。"), field="month"
        ) from None


@dataclass(frozen=True)
class Filters:
    """Which orders count. `teams` is a restriction the viewer's access imposes (team leads)."""

    category: Category | None = None
    channel: str = ""
    place: Place | None = None
    team: Team | None = None
    teams: tuple[int, ...] | None = None

    def as_params(self) -> dict[str, str]:
        params = {
            "category": self.category.code if self.category else "",
            "channel": self.channel,
            "place": self.place.code if self.place else "",
            "team": self.team.code if self.team else "",
        }
        return {k: v for k, v in params.items() if v}


def parse_filters(category="", channel="", place="", team="") -> Filters:
    category, channel = (category or "").strip(), (channel or "").strip()
    place, team = (place or "").strip(), (team or "").strip()
    cat = None
    if category:
        cat = Category.objects.select_related("parent").filter(code=category).first()
        if cat is None:
            raise InvalidInput(
                _("未知的报修类别“%(code)s”，请从列表中选择。") % {"code": category},
                field="category",
            )
    if channel and channel not in Channel.values:
        raise InvalidInput(
            _("未知的报修渠道“%(code)s”，只能是：%(choices)s。")
            % {"code": channel, "choices": _("、").join(Channel.values)},
            field="channel",
        )
    where = None
    if place:
        where = Place.objects.filter(code=place).first()
        if where is None:
            raise InvalidInput(
                _("未知的报修地点“%(code)s”，请从列表中选择。") % {"code": place}, field="place"
            )
    crew = None
    if team:
        crew = Team.objects.filter(code=team).first()
        if crew is None:
            raise InvalidInput(_("未知的班组“%(code)s”。") % {"code": team}, field="team")
    return Filters(category=cat, channel=channel, place=where, team=crew)
