"""Periodic and special reports (AN7): what each report contains, and their writes.

A report is a list of tables (`Section`) built from the same GROUP BY queries as the dashboard,
the rankings and the workload pages (queries.py, rankings.py, workload.py), so a report never
says something the pages do not. Nothing here loops over orders.

    report = reports.build("annual", date(2025, 1, 1), Filters())   # or "2025", a Period …
    exports.to_xlsx(report, stream); exports.to_pdf(report, stream)

`build(kind, period, filters, *, topic="overview", now=None)` takes the kind (daily, weekly
Monday–Sunday, monthly, quarterly, annual), the period (any day inside it, a label such as
"2026-05", "2026-Q2", "2026-W19", "2026", or a `Period`) and the filters (periods.Filters), and
returns a `Report`. Topics: `overview` (volume with the previous period, backlog, on-time rate,
satisfaction, fault types, rankings, workload; broken down by day, or by month for quarters
and years), `faults` (fault causes by category and place, repair times, rework) and
`satisfaction` (ratings by dimension, technician and agent).

The writes of reports live here too (the app's services.py holds the appraisal's):
`request_report` (on demand: a `ReportRun` the worker generates), `generate_run` (the worker:
build, export, store, tell subscribers), `schedule_due` (the hourly job: each period's
scheduled reports once), `subscribe` / `set_subscription_active` / `unsubscribe`.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import combinations

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import (
    Avg,
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from repairhub.accounts.models import Team
from repairhub.accounts.roles import Role
from repairhub.feedback.models import Rating, Rework
from repairhub.feedback.models.ratings import AGENT_SCORES, ALL_SCORES, TECHNICIAN_SCORES
from repairhub.places.models import Place
from repairhub.workorders.errors import (
    IllegalState,
    InvalidInput,
    NotAllowed,
    NotVisible,
    OrderError,
)
from repairhub.workorders.models import Category, Channel, Result

from . import queries, rankings, rollup, workload
from .access import WHOLE_ROLES, require_viewer, scoped
from .expressions import medians
from .models import (
    ReportFormat,
    ReportKind,
    ReportRun,
    ReportSubscription,
    ReportTopic,
    RunStatus,
)
from .periods import Filters, Grain, Period, parse_filters

log = logging.getLogger("repairhub.analytics")

# Quarters and years are broken down by month, shorter periods by day.
GRAIN = {
    ReportKind.DAILY: Grain.DAY,
    ReportKind.WEEKLY: Grain.DAY,
    ReportKind.MONTHLY: Grain.DAY,
    ReportKind.QUARTERLY: Grain.MONTH,
    ReportKind.ANNUAL: Grain.MONTH,
}
FILTER_KEYS = ("category", "channel", "place", "team")
# A pending run nobody took for this long is queued again (the queue was down); a running one
# this old lost its worker.
REQUEUE_AFTER = timedelta(minutes=10)
STALLED_AFTER = timedelta(hours=1)


# --- periods -----------------------------------------------------------------------------------


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _add_months(d: date, n: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12)
    return date(y, m + 1, 1)


def period_of(kind: str, day: date) -> Period:
    """The report period of `kind` holding `day`."""
    if kind == ReportKind.DAILY:
        start, end = day, day
    elif kind == ReportKind.WEEKLY:
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(days=6)
    elif kind == ReportKind.MONTHLY:
        start = _month_start(day)
        end = _add_months(start, 1) - timedelta(days=1)
    elif kind == ReportKind.QUARTERLY:
        start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        end = _add_months(start, 3) - timedelta(days=1)
    elif kind == ReportKind.ANNUAL:
        start, end = date(day.year, 1, 1), date(day.year, 12, 31)
    else:
        raise _bad_kind()
    return Period(start, end, GRAIN[kind])


def previous_period(kind: str, period: Period) -> Period:
    return period_of(kind, period.start - timedelta(days=1))


def last_complete(kind: str, today: date) -> Period:
    """The latest period of `kind` that ended before `today`."""
    return previous_period(kind, period_of(kind, today))


def _bad_kind() -> InvalidInput:
    return InvalidInput(
        _(
            "报表周期只能是：日报、周报、月报、季报、年报（daily、weekly、monthly、quarterly、annual）。"
        ),
        field="kind",
    )


PERIOD_HINTS = {
    ReportKind.DAILY: "2026-05-04",
    ReportKind.WEEKLY: "2026-W19",
    ReportKind.MONTHLY: "2026-05",
    ReportKind.QUARTERLY: "2026-Q2",
    ReportKind.ANNUAL: "2026",
}
_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")


def _label_day(kind: str, value: str) -> date | None:
    """The first day a kind-specific label names ("2026-W19", "2026-05", "2026-Q2", "2026")."""
    if kind == ReportKind.WEEKLY and (m := _WEEK.match(value)):
        return date.fromisocalendar(int(m[1]), int(m[2]), 1)
    if kind == ReportKind.MONTHLY and (m := _MONTH.match(value)):
        return date(int(m[1]), int(m[2]), 1)
    if kind == ReportKind.QUARTERLY and (m := _QUARTER.match(value)):
        return date(int(m[1]), 3 * int(m[2]) - 2, 1)
    if kind == ReportKind.ANNUAL and (m := _YEAR.match(value)):
        return date(int(m[1]), 1, 1)
    return None


def _day_in(kind: str, text: str) -> date:
    """The day a period input names: any day inside the period, or the kind's own label."""
    try:
        day = _label_day(kind, text) or date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or day.year < 2000:
        raise InvalidInput(
            _(
                "时段格式不正确：%(kind)s请填写该时段中的任一日期（YYYY-MM-DD）或 %(hint)s 这样的写法。"
            )
            % {"kind": ReportKind(kind).label, "hint": PERIOD_HINTS[kind]},
            field="period",
        )
    return day


def parse_report_period(kind: str, value=None, *, today: date | None = None) -> Period:
    """A report period from page or API input: any day inside it or the kind's own label; empty
    means the latest period that is over. A period that has not begun is refused."""
    if kind not in ReportKind.values:
        raise _bad_kind()
    today = today or timezone.localdate()
    if isinstance(value, date):
        return _begun(period_of(kind, value), today)
    text = str(value or "").strip()
    if not text:
        return last_complete(kind, today)
    return _begun(period_of(kind, _day_in(kind, text)), today)


def _begun(period: Period, today: date) -> Period:
    if period.start > today:
        raise InvalidInput(_("该时段尚未开始，无法生成报表。"), field="period")
    return period


def period_label(kind: str, period: Period) -> str:
    s, e = period.start, period.end
    if kind == ReportKind.DAILY:
        return _("%(y)d年%(m)d月%(d)d日") % {"y": s.year, "m": s.month, "d": s.day}
    if kind == ReportKind.WEEKLY:
        return _("%(y)d年%(m)d月%(d)d日至%(m2)d月%(d2)d日") % {
            "y": s.year,
            "m": s.month,
            "d": s.day,
            "m2": e.month,
            "d2": e.day,
        }
    if kind == ReportKind.MONTHLY:
        return _("%(y)d年%(m)d月") % {"y": s.year, "m": s.month}
    if kind == ReportKind.QUARTERLY:
        return _("%(y)d年第%(q)d季度") % {"y": s.year, "q": (s.month - 1) // 3 + 1}
    return _("%(y)d年") % {"y": s.year}


def report_name(kind: str, topic: str) -> str:
    """ "报修月报", "故障原因专题月报" …: one whole string per combination, for translators."""
    names = {
        ReportTopic.OVERVIEW: {
            ReportKind.DAILY: _("报修日报"),
            ReportKind.WEEKLY: _("报修周报"),
            ReportKind.MONTHLY: _("报修月报"),
            ReportKind.QUARTERLY: _("报修季报"),
            ReportKind.ANNUAL: _("报修年报"),
        },
        ReportTopic.FAULTS: {
            ReportKind.DAILY: _("故障原因专题日报"),
            ReportKind.WEEKLY: _("故障原因专题周报"),
            ReportKind.MONTHLY: _("故障原因专题月报"),
            ReportKind.QUARTERLY: _("故障原因专题季报"),
            ReportKind.ANNUAL: _("故障原因专题年报"),
        },
        ReportTopic.SATISFACTION: {
            ReportKind.DAILY: _("满意度专题日报"),
            ReportKind.WEEKLY: _("满意度专题周报"),
            ReportKind.MONTHLY: _("满意度专题月报"),
            ReportKind.QUARTERLY: _("满意度专题季报"),
            ReportKind.ANNUAL: _("满意度专题年报"),
        },
    }
    return names[topic][kind]


def report_title(kind: str, topic: str, period: Period) -> str:
    return _("%(name)s（%(period)s）") % {
        "name": report_name(kind, topic),
        "period": period_label(kind, period),
    }


# --- what a report is --------------------------------------------------------------------------

# How a column's values are written: text; int; float (2 decimals); hours (a duration, 2
# decimals); rate (a share 0–1, shown as a percentage); date (a day); month (the 1st of a
# month); auto (the row says: `Section.row_kinds`).
KINDS = ("text", "int", "float", "hours", "rate", "date", "month", "auto")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"
    # Width in Excel's characters; 0: measured from the header and the values. The PDF always
    # measures.
    width: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


@dataclass
class Section:
    """One table: a sheet in Excel, a titled table in the PDF."""

    key: str
    title: str
    columns: list[Column]
    rows: list[list] = field(default_factory=list)
    note: str = ""
    row_kinds: list[str] | None = None  # for "auto" columns, one kind per row

    def kind_of(self, column: Column, row_index: int) -> str:
        if column.kind == "auto" and self.row_kinds is not None:
            return self.row_kinds[row_index]
        return column.kind

    def as_dicts(self) -> list[dict]:
        keys = [c.key for c in self.columns]
        return [dict(zip(keys, row, strict=True)) for row in self.rows]


@dataclass
class Report:
    kind: str
    topic: str
    period: Period
    previous: Period
    filters: Filters
    title: str
    generated_at: datetime
    sections: list[Section]
    # The query results the sections were made from, as the pages and the API return them.
    figures: dict

    def section(self, key: str) -> Section:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)

    @property
    def slug(self) -> str:
        """A file name stem: report-monthly-2026-04-01, faults-annual-2025-01-01 …"""
        stem = "report" if self.topic == ReportTopic.OVERVIEW else self.topic
        return f"{stem}-{self.kind}-{self.period.start.isoformat()}"


def _cols(*spec) -> list[Column]:
    return [Column(*s) for s in spec]


def _change(now, before):
    if now is None or before is None:
        return None
    return round(now - before, 4)


def _growth(now: int, before: int) -> float | None:
    return round((now - before) / before, 4) if before else None


def _note_apart(insufficient: bool) -> str:
    return _("样本不足，不排名") if insufficient else ""


# --- building ------------------------------------------------------------------------------------


def _resolve(kind: str, period) -> Period:
    if kind not in ReportKind.values:
        raise _bad_kind()
    if isinstance(period, Period):
        return period
    if isinstance(period, datetime):
        period = timezone.localtime(period).date() if timezone.is_aware(period) else period.date()
    if isinstance(period, date):
        return period_of(kind, period)
    return period_of(kind, _day_in(kind, str(period).strip()))


@rollup.reading()
def build(
    kind: str,
    period,
    filters: Filters | None = None,
    *,
    topic: str = ReportTopic.OVERVIEW,
    now: datetime | None = None,
) -> Report:
    """The report of `kind` and `topic` for one period and set of filters (see module doc)."""
    if topic not in ReportTopic.values:
        raise InvalidInput(
            _("报表只能是：综合报表、故障原因专题、满意度专题（overview、faults、satisfaction）。"),
            field="topic",
        )
    current = _resolve(kind, period)
    filters = filters or Filters()
    now = now or timezone.now()
    prev = previous_period(kind, current)
    report = Report(
        kind=kind,
        topic=topic,
        period=current,
        previous=prev,
        filters=filters,
        title=report_title(kind, topic, current),
        generated_at=now,
        sections=[],
        figures={},
    )
    report.sections.append(_info(report))
    if topic == ReportTopic.OVERVIEW:
        report.sections += _overview(report, now)
    elif topic == ReportTopic.FAULTS:
        report.sections += _faults(report)
    else:
        report.sections += _satisfaction(report)
    return report


def filter_labels(f: Filters) -> list[tuple[str, str]]:
    out = []
    if f.category is not None:
        out.append((_("类别"), str(f.category)))
    if f.channel:
        out.append((_("渠道"), str(dict(Channel.choices).get(f.channel, f.channel))))
    if f.place is not None:
        out.append((_("地点"), f.place.full_name or f.place.name))
    if f.team is not None:
        out.append((_("班组"), f.team.name))
    if f.teams is not None:
        names = Team.objects.filter(pk__in=f.teams).order_by("code").values_list("name", flat=True)
        out.append((_("限于班组"), _("、").join(names) or _("（未带班组）")))
    return out


def _info(report: Report) -> Section:
    local = timezone.localtime(report.generated_at)
    p = report.period
    rows = [
        [_("报表"), report.title],
        [_("时段"), _("%(start)s 至 %(end)s") % {"start": p.start, "end": p.end}],
        [
            _("对比时段"),
            _("%(start)s 至 %(end)s")
            % {"start": report.previous.start, "end": report.previous.end},
        ],
    ]
    labels = filter_labels(report.filters)
    rows += [[label, value] for label, value in labels] or [[_("筛选"), _("全部工单")]]
    rows.append([_("生成时间"), local.strftime("%Y-%m-%d %H:%M")])
    if p.end >= local.date():
        rows.append([_("说明"), _("时段尚未结束，数字截至生成时间。")])
    return Section(
        "info",
        _("报表信息"),
        _cols(("item", _("项目"), "text", 12), ("value", _("内容"), "text", 48)),
        rows,
    )


# --- overview ------------------------------------------------------------------------------------


def _completed_by_bucket(period: Period, f: Filters) -> dict[date, dict]:
    """Orders completed per bucket and how many successfully (the dashboard has only totals)."""
    out: dict[date, dict] = {}
    for r in queries.completed_stats_by_category(period, f):
        bucket = out.setdefault(r["b"], {"b": r["b"], "n": 0, "ok": 0})
        bucket["n"] += r["n"]
        bucket["ok"] += r["ok"]
    return out


def _previous_summary(prev: Period, f: Filters, volume_total: int) -> dict:
    """The summary figures of the previous period, for comparison (no medians: not shown)."""
    done = queries.completed_stats_by_category(prev, f)
    n, ok = sum(r["n"] for r in done), sum(r["ok"] for r in done)
    seconds = sum(r["seconds"] or 0.0 for r in done)
    return {
        "reported": volume_total,
        "completed": n,
        "success_rate": queries.share(ok, n),
        "mean_repair_hours": queries.in_hours(seconds / n if n else None),
        "on_time": queries.on_time(prev, f),
        "satisfaction": queries.satisfaction(prev, f),
    }


def _overview(report: Report, now: datetime) -> list[Section]:
    period, prev, f = report.period, report.previous, report.filters
    dash = queries.dashboard(period, f, split="category", now=now)
    volumes = {"category": dash["volume"]}
    previous = {"category": queries.volume(prev, f, "category")}
    for split in ("channel", "place"):
        volumes[split] = queries.volume(period, f, split)
        previous[split] = queries.volume(prev, f, split)
    before = _previous_summary(prev, f, previous["category"]["total"])
    done_by_bucket = _completed_by_bucket(period, f)
    efficiency = rankings.technician_efficiency(period, f)
    dispatch = rankings.dispatch_speed(period, f)
    liked = rankings.technician_satisfaction(period, f)
    agents = workload.agents(period, f)
    techs = workload.technicians(period, f)
    report.figures = {
        "dashboard": dash,
        "volumes": volumes,
        "previous_volumes": previous,
        "previous": before,
        "completed_by_bucket": done_by_bucket,
        "rankings": {
            "technicians": efficiency.as_dict(),
            "dispatchers": dispatch.as_dict(),
            "satisfaction": liked.as_dict(),
        },
        "workload": {"agents": agents, "technicians": techs},
    }
    return [
        _summary_section(dash, before),
        _trend_section(period, dash, done_by_bucket),
        _volume_section(volumes, previous),
        _backlog_section(dash["backlog"]),
        _fault_section(dash["fault_types"]),
        _efficiency_section(efficiency),
        _dispatch_section(dispatch),
        _liked_section(liked),
        _agents_section(agents),
        _technicians_section(techs),
    ]


def _summary_section(dash: dict, before: dict) -> Section:
    s, on, sat, back = dash["summary"], dash["on_time"], dash["satisfaction"], dash["backlog"]
    b_on, b_sat = before["on_time"], before["satisfaction"]
    spec = [
        (_("报修量"), "int", s["reported"], before["reported"]),
        (_("完成量"), "int", s["completed"], before["completed"]),
        (_("维修成功率"), "rate", s["success_rate"], before["success_rate"]),
        (_("平均维修时长（小时）"), "hours", s["mean_repair_hours"], before["mean_repair_hours"]),
        (_("有完成时限的完成工单"), "int", on["with_deadline"], b_on["with_deadline"]),
        (_("按时完成"), "int", on["on_time"], b_on["on_time"]),
        (_("按时率"), "rate", on["rate"], b_on["rate"]),
        (_("评价数"), "int", sat["rated"], b_sat["rated"]),
        (_("平均评分（1–5）"), "float", sat["mean"], b_sat["mean"]),
        (_("当前积压（未完结）"), "int", back["total"], None),
        (_("其中已超时"), "int", back["overdue"], None),
    ]
    return Section(
        "summary",
        _("概要"),
        _cols(
            ("figure", _("指标"), "text", 22),
            ("current", _("本期"), "auto"),
            ("previous", _("上期"), "auto"),
            ("change", _("增减"), "auto"),
        ),
        [[label, now, then, _change(now, then)] for label, _kind, now, then in spec],
        note=_("积压为生成报表时的未完结工单，不分时段。"),
        row_kinds=[kind for _label, kind, _now, _then in spec],
    )


def _trend_section(period: Period, dash: dict, done: dict) -> Section:
    buckets = period.buckets()
    reported = [0] * len(buckets)
    for series in dash["volume"]["series"]:
        for i, n in enumerate(series["data"]):
            reported[i] += n
    on = {b["bucket"]: b for b in dash["on_time"]["buckets"]}
    sat = {b["bucket"]: b for b in dash["satisfaction"]["buckets"]}
    rows = []
    for i, b in enumerate(buckets):
        key = b.isoformat()
        d = done.get(b, {"n": 0, "ok": 0})
        rows.append(
            [
                b,
                reported[i],
                d["n"],
                d["ok"],
                on[key]["with_deadline"],
                on[key]["on_time"],
                on[key]["rate"],
                sat[key]["rated"],
                sat[key]["mean"],
            ]
        )
    by_month = period.grain == Grain.MONTH
    return Section(
        "trend",
        _("按月") if by_month else _("按日"),
        _cols(
            ("bucket", _("月份") if by_month else _("日期"), "month" if by_month else "date", 12),
            ("reported", _("报修"), "int"),
            ("completed", _("完成"), "int"),
            ("successes", _("维修成功"), "int"),
            ("with_deadline", _("有时限"), "int"),
            ("on_time", _("按时"), "int"),
            ("on_time_rate", _("按时率"), "rate"),
            ("rated", _("评价数"), "int"),
            ("mean_rating", _("平均评分"), "float"),
        ),
        rows,
    )


def _volume_section(volumes: dict, previous: dict) -> Section:
    names = {"category": _("类别"), "channel": _("渠道"), "place": _("地点")}
    rows = []
    for split, result in volumes.items():
        before = {s["key"]: s for s in previous[split]["series"]}
        seen = set()
        for s in result["series"]:
            then = before.get(s["key"], {}).get("total", 0)
            rows.append(
                [
                    names[split],
                    s["label"],
                    s["total"],
                    then,
                    s["total"] - then,
                    _growth(s["total"], then),
                ]
            )
            seen.add(s["key"])
        for key, s in before.items():
            if key not in seen:
                rows.append([names[split], s["label"], 0, s["total"], -s["total"], -1.0])
    return Section(
        "volume",
        _("报修量对比"),
        _cols(
            ("split", _("分组"), "text", 8),
            ("name", _("名称"), "text", 24),
            ("current", _("本期"), "int"),
            ("previous", _("上期"), "int"),
            ("change", _("增减"), "int"),
            ("growth", _("增减率"), "rate"),
        ),
        rows,
        note=_("本期与上期报修的工单，按类别、渠道、地点分组；超过十项时其余合并为“其他”。"),
    )


def _backlog_section(back: dict) -> Section:
    rows = [[s["label"], s["count"]] for s in back["states"]]
    rows += [[_("合计"), back["total"]], [_("其中已超时"), back["overdue"]]]
    return Section(
        "backlog",
        _("积压"),
        _cols(("status", _("状态"), "text", 16), ("count", _("工单数"), "int")),
        rows,
        note=_("生成报表时尚未完结的工单。"),
    )


def _fault_columns() -> list[Column]:
    # Built per call: the labels follow the active language.
    return _cols(
        ("reported", _("报修"), "int"),
        ("completed", _("完成"), "int"),
        ("success_rate", _("维修成功率"), "rate"),
        ("mean_hours", _("平均维修时长（小时）"), "hours"),
        ("median_hours", _("中位维修时长（小时）"), "hours"),
        ("longest_hours", _("最长维修时长（小时）"), "hours"),
    )


def _fault_section(faults: dict) -> Section:
    keys = [c.key for c in _fault_columns()]
    rows = [[r["name"], *(r[k] for k in keys)] for r in faults["rows"]]
    t = faults["total"]
    rows.append([_("合计"), t["reported"], t["completed"], None, *(t[k] for k in keys[3:])])
    return Section(
        "faults",
        _("故障类型"),
        [Column("category", _("类别"), "text", 18), *_fault_columns()],
        rows,
        note=_("报修：本期报修的工单；其余各列：本期完成的工单，维修时长为接报到完成。"),
    )


def _ranking_rows(ranking: rankings.Ranking, figures) -> list[list]:
    """Ranked people first (rank 1 is best), then those resting on too few orders, unranked."""
    rows = [[r["rank"], r["name"], r["username"], *figures(r), ""] for r in ranking.ranked]
    rows += [
        [None, r["name"], r["username"], *figures(r), _note_apart(True)]
        for r in ranking.insufficient
    ]
    return rows


def _person_columns(who: str) -> list[Column]:
    return _cols(
        ("rank", _("名次"), "int", 6),
        ("name", who, "text", 12),
        ("username", _("账号"), "text", 12),
    )


def _efficiency_section(ranking: rankings.Ranking) -> Section:
    rows = _ranking_rows(
        ranking, lambda r: [r["orders"], r["mean_hours"], r["with_deadline"], r["delays"]]
    )
    return Section(
        "technicians",
        _("维修效率排行"),
        [
            *_person_columns(_("维修人员")),
            *_cols(
                ("orders", _("完成工单"), "int"),
                ("mean_hours", _("平均维修时长（小时）"), "hours"),
                ("with_deadline", _("有时限"), "int"),
                ("delays", _("拖延"), "int"),
                ("note", _("备注"), "text", 14),
            ),
        ],
        rows,
        note=_("本期完成的工单，报修到完成的平均时长越短名次越前；拖延 = 完成晚于完成时限。"),
    )


def _minutes_in_hours(minutes: float | None) -> float | None:
    return None if minutes is None else round(minutes / 60, 4)


def _dispatch_section(ranking: rankings.Ranking) -> Section:
    def figures(r):
        return [r["orders"], _minutes_in_hours(r["mean_minutes"])]

    rows = _ranking_rows(ranking, figures)
    rows += [[None, r["name"], "", *figures(r), ""] for r in ranking.apart]
    return Section(
        "dispatchers",
        _("派工效率排行"),
        [
            *_person_columns(_("派工人")),
            *_cols(
                ("orders", _("派工单数"), "int"),
                ("mean_hours", _("受理到派工平均时长（小时）"), "hours"),
                ("note", _("备注"), "text", 14),
            ),
        ],
        rows,
        note=_("本期每张工单的首次派工，时长越短名次越前。"),
    )


def _liked_section(ranking: rankings.Ranking) -> Section:
    rows = _ranking_rows(ranking, lambda r: [r["orders"], r["mean_rating"]])
    return Section(
        "satisfaction_ranking",
        _("满意度排行"),
        [
            *_person_columns(_("维修人员")),
            *_cols(
                ("rated", _("评价数"), "int"),
                ("mean_rating", _("平均评分"), "float"),
                ("note", _("备注"), "text", 14),
            ),
        ],
        rows,
        note=_("本期关闭并评分的工单（1–5 分），分数越高名次越前。"),
    )


def _table(key: str, title, columns: list[Column], result: dict, note) -> Section:
    """A section whose rows are the result's rows read column by column."""
    rows = [[r[c.key] for c in columns] for r in result["rows"]]
    return Section(key, title, columns, rows, note=note)


def _agents_section(result: dict) -> Section:
    return _table(
        "agents",
        _("值班员工作量"),
        _cols(
            ("name", _("值班员"), "text", 12),
            ("username", _("账号"), "text", 12),
            ("calls", _("登记来电"), "int"),
            ("per_day", _("日均"), "float"),
            ("peak_day", _("单日最多"), "int"),
            ("settled", _("已办结"), "int"),
            ("pending", _("未办结"), "int"),
            ("first_contact", _("首次接线解决"), "int"),
            ("first_contact_rate", _("首次接线解决率"), "rate"),
        ),
        result,
        _("值班员在电话和窗口登记的报修；首次接线解决率以已办结的来电为分母。"),
    )


def _technicians_section(result: dict) -> Section:
    return _table(
        "workload",
        _("维修人员工作量"),
        _cols(
            ("name", _("维修人员"), "text", 12),
            ("username", _("账号"), "text", 12),
            ("orders", _("完成工单"), "int"),
            ("successes", _("维修成功"), "int"),
            ("success_rate", _("维修成功率"), "rate"),
            ("hours_on_site", _("在场时长（小时）"), "hours"),
        ),
        result,
        _("本期完成的工单；在场时长 = 到场到完成。"),
    )


# --- fault causes --------------------------------------------------------------------------------

# Rework (返修): an order completed in the period that had been reopened (its first repair did
# not hold), or that a later report under warranty was linked to (feedback, FQ5).
REWORK = Q(reopen_count__gt=0) | Q(Exists(Rework.objects.filter(original=OuterRef("pk"))))


def place_groups(f: Filters):
    """(key expression, {key: label}): the place one level below the filtered one (top-level
    places without a filter) that holds each order — the dashboard's split by place. Orders at
    the filtered place itself stay there; orders without a place have key NULL."""
    if f.place is None:
        nodes = list(Place.objects.filter(parent__isnull=True))
        whens = []
    else:
        nodes = [f.place, *Place.objects.filter(parent=f.place)]
        whens = [When(place__path=f.place.path, then=Value(f.place.pk))]
    for node in nodes:
        if node is f.place:
            continue
        subtree = Q(place__path=node.path) | Q(place__path__startswith=node.path + "/")
        whens.append(When(subtree, then=Value(node.pk)))
    key = Case(*whens, default=Value(None), output_field=IntegerField())
    labels = {n.pk: n.full_name or n.name for n in nodes}
    return key, labels


def _place_label(labels: dict, key) -> str:
    return _("未选地点") if key is None else labels[key]


def _fault_stats(period: Period, f: Filters, *keys) -> dict:
    """Per group of `keys` (expressions by name): orders reported; for orders completed in the
    period the count, successes, failures, rework and mean/longest repair time."""
    names = list(keys[0])
    new = {
        tuple(r[k] for k in names): r["n"]
        for r in queries.reported(period, f)
        .order_by()
        .annotate(**keys[0])
        .values(*names)
        .annotate(n=Count("*"))
    }
    done = {
        tuple(r[k] for k in names): r
        for r in queries.completed(period, f)
        .order_by()
        .annotate(**keys[0])
        .values(*names)
        .annotate(
            n=Count("*"),
            ok=Count("completed_at", filter=Q(result=Result.SUCCESS)),
            failed=Count("completed_at", filter=Q(result=Result.FAILED)),
            rework=Count("completed_at", filter=REWORK),
            mean=Avg(queries.REPAIR_SECONDS),
            longest=Max(queries.REPAIR_SECONDS),
        )
    }
    return {"reported": new, "completed": done}


def _fault_row(reported: int, d: dict | None, median) -> list:
    d = d or {"n": 0, "ok": 0, "failed": 0, "rework": 0, "mean": None, "longest": None}
    return [
        reported,
        d["n"],
        d["ok"],
        d["failed"],
        queries.share(d["ok"], d["n"]),
        queries.in_hours(d["mean"]),
        queries.in_hours(median),
        queries.in_hours(d["longest"]),
        d["rework"],
        queries.share(d["rework"], d["n"]),
    ]


def _cause_columns() -> list[Column]:
    return _cols(
        ("reported", _("报修"), "int"),
        ("completed", _("完成"), "int"),
        ("successes", _("维修成功"), "int"),
        ("failures", _("维修失败"), "int"),
        ("success_rate", _("维修成功率"), "rate"),
        ("mean_hours", _("平均维修时长（小时）"), "hours"),
        ("median_hours", _("中位维修时长（小时）"), "hours"),
        ("longest_hours", _("最长维修时长（小时）"), "hours"),
        ("rework", _("返修"), "int"),
        ("rework_rate", _("返修率"), "rate"),
    )


def _faults(report: Report) -> list[Section]:
    period, f = report.period, report.filters
    done = queries.completed(period, f)
    # By category: the dashboard's fault types, plus failures and rework.
    by_cat = _fault_stats(period, f, {"cat": F("category_id")})
    cat_medians = medians(done, F("category_id"), queries.REPAIR_SECONDS)
    cats = Category.objects.select_related("parent").in_bulk(
        {k[0] for k in by_cat["reported"]} | {k[0] for k in by_cat["completed"]}
    )
    cat_rows = []
    for pk, cat in cats.items():
        row = _fault_row(
            by_cat["reported"].get((pk,), 0), by_cat["completed"].get((pk,)), cat_medians.get(pk)
        )
        cat_rows.append([str(cat), *row])
    cat_rows.sort(key=lambda r: (-r[1], -r[2], r[0]))
    total = {
        "n": sum(d["n"] for d in by_cat["completed"].values()),
        "ok": sum(d["ok"] for d in by_cat["completed"].values()),
        "failed": sum(d["failed"] for d in by_cat["completed"].values()),
        "rework": sum(d["rework"] for d in by_cat["completed"].values()),
    }
    overall = done.order_by().aggregate(
        mean=Avg(queries.REPAIR_SECONDS), longest=Max(queries.REPAIR_SECONDS)
    )
    total |= overall
    cat_rows.append(
        [
            _("合计"),
            *_fault_row(
                sum(by_cat["reported"].values()),
                total,
                medians(done, Value(1), queries.REPAIR_SECONDS).get(1),
            ),
        ]
    )
    # By place, and by place and category.
    key, labels = place_groups(f)
    by_place = _fault_stats(period, f, {"node": key})
    place_medians = medians(done, key, queries.REPAIR_SECONDS)
    place_rows = [
        [
            _place_label(labels, k[0]),
            *_fault_row(
                by_place["reported"].get(k, 0),
                by_place["completed"].get(k),
                place_medians.get(k[0]),
            ),
        ]
        for k in set(by_place["reported"]) | set(by_place["completed"])
    ]
    place_rows.sort(key=lambda r: (-r[1], -r[2], r[0]))
    both = _fault_stats(period, f, {"node": key, "cat": F("category_id")})
    cats |= Category.objects.select_related("parent").in_bulk(
        {k[1] for k in both["reported"]} | {k[1] for k in both["completed"]}
    )
    cross = []
    for k in set(both["reported"]) | set(both["completed"]):
        d = both["completed"].get(k) or {"n": 0, "rework": 0, "mean": None, "longest": None}
        cross.append(
            [
                _place_label(labels, k[0]),
                str(cats[k[1]]),
                both["reported"].get(k, 0),
                d["n"],
                queries.in_hours(d["mean"]),
                queries.in_hours(d["longest"]),
                d["rework"],
            ]
        )
    cross.sort(key=lambda r: (-r[2], -r[3], r[0], r[1]))
    report.figures = {
        "fault_types": queries.fault_types(period, f),
        "by_category": by_cat,
        "by_place": by_place,
        "by_place_category": both,
    }
    note = _(
        "报修：本期报修的工单；其余各列：本期完成的工单。维修时长为接报到完成；返修 = 本期完成的"
        "工单中曾被重开、或保修期内再次报修并关联到它的。"
    )
    return [
        Section(
            "causes",
            _("按类别"),
            [Column("category", _("类别"), "text", 18), *_cause_columns()],
            cat_rows,
            note=note,
        ),
        Section(
            "places",
            _("按地点"),
            [Column("place", _("地点"), "text", 24), *_cause_columns()],
            place_rows,
            note=note,
        ),
        Section(
            "place_categories",
            _("按地点和类别"),
            _cols(
                ("place", _("地点"), "text", 24),
                ("category", _("类别"), "text", 18),
                ("reported", _("报修"), "int"),
                ("completed", _("完成"), "int"),
                ("mean_hours", _("平均维修时长（小时）"), "hours"),
                ("longest_hours", _("最长维修时长（小时）"), "hours"),
                ("rework", _("返修"), "int"),
            ),
            cross,
            note=note,
        ),
    ]


# --- satisfaction --------------------------------------------------------------------------------


def _ratings(period: Period, f: Filters) -> QuerySet[Rating]:
    """The dimension scores of the orders the satisfaction figures count (closed with a rating
    in the period): the same set, so the counts agree."""
    return Rating.objects.filter(order__in=queries.rated(period, f)).order_by()


def _dimension_means(qs: QuerySet, names: Iterable[str]) -> dict:
    return qs.aggregate(
        **{f"{n}__n": Count(n) for n in names}, **{f"{n}__mean": Avg(n) for n in names}
    )


def _mean(value) -> float | None:
    return None if value is None else round(value, 2)


def _satisfaction(report: Report) -> list[Section]:
    period, f = report.period, report.filters
    sat = queries.satisfaction(period, f)
    liked = rankings.technician_satisfaction(period, f)
    ratings = _ratings(period, f)
    names = [n for n, _label in ALL_SCORES]
    dims = _dimension_means(ratings, names)
    tech_names = [n for n, _label in TECHNICIAN_SCORES]
    agent_names = [n for n, _label in AGENT_SCORES]
    by_tech = {
        r["order__assignee_id"]: r
        for r in ratings.filter(order__assignee__isnull=False)
        .values("order__assignee_id")
        .annotate(n=Count("pk"), **{n: Avg(n) for n in tech_names})
    }
    by_agent = list(
        ratings.filter(order__registered_by__isnull=False, agent_attitude__isnull=False)
        .values("order__registered_by_id")
        .annotate(n=Count("pk"), overall_mean=Avg("overall"), **{n: Avg(n) for n in agent_names})
    )
    agents = queries.user_names(r["order__registered_by_id"] for r in by_agent)
    report.figures = {
        "satisfaction": sat,
        "ranking": liked.as_dict(),
        "dimensions": dims,
        "by_technician": by_tech,
        "by_agent": by_agent,
    }
    low = settings.FEEDBACK_LOW_RATING
    summary = Section(
        "ratings",
        _("评分分布"),
        _cols(
            ("rating", _("评分"), "text", 12),
            ("count", _("评价数"), "int"),
            ("share", _("占比"), "rate"),
        ),
        [
            *(
                [
                    _("%(n)d 分") % {"n": d["rating"]},
                    d["count"],
                    queries.share(d["count"], sat["rated"]),
                ]
                for d in reversed(sat["distribution"])
            ),
            [_("合计"), sat["rated"], 1.0 if sat["rated"] else None],
            [
                _("低分（%(n)d 分及以下）") % {"n": low},
                sum(d["count"] for d in sat["distribution"] if d["rating"] <= low),
                queries.share(
                    sum(d["count"] for d in sat["distribution"] if d["rating"] <= low), sat["rated"]
                ),
            ],
        ],
        note=_("本期关闭并评分的工单；平均评分 %(mean)s。")
        % {"mean": "—" if sat["mean"] is None else sat["mean"]},
    )
    by_month = period.grain == Grain.MONTH
    trend = Section(
        "rating_trend",
        _("按月") if by_month else _("按日"),
        _cols(
            ("bucket", _("月份") if by_month else _("日期"), "month" if by_month else "date", 12),
            ("rated", _("评价数"), "int"),
            ("mean", _("平均评分"), "float"),
        ),
        [[date.fromisoformat(b["bucket"]), b["rated"], b["mean"]] for b in sat["buckets"]],
    )
    dimensions = Section(
        "dimensions",
        _("分项评分"),
        _cols(
            ("dimension", _("评价维度"), "text", 16),
            ("count", _("评价数"), "int"),
            ("mean", _("平均分"), "float"),
        ),
        [[str(label), dims[f"{n}__n"], _mean(dims[f"{n}__mean"])] for n, label in ALL_SCORES],
        note=_(
            "报修人按维度的评分（1–5 分）：维修人员四项，值班员登记的报修另评值班员三项，收费类别另评收费透明。"
        ),
    )
    tech_rows = []
    for insufficient, people in ((False, liked.ranked), (True, liked.insufficient)):
        for r in people:
            d = by_tech.get(r["user_id"])
            tech_rows.append(
                [
                    None if insufficient else r["rank"],
                    r["name"],
                    r["username"],
                    r["orders"],
                    r["mean_rating"],
                    *(_mean(d[n]) if d else None for n in tech_names),
                    _note_apart(insufficient),
                ]
            )
    technicians = Section(
        "technicians",
        _("维修人员满意度"),
        [
            *_person_columns(_("维修人员")),
            *_cols(("rated", _("评价数"), "int"), ("mean_rating", _("平均评分"), "float")),
            *[Column(n, str(label), "float") for n, label in TECHNICIAN_SCORES],
            Column("note", _("备注"), "text", 14),
        ],
        tech_rows,
        note=_("名次按工单评分（各项平均的整数）；分项为报修人的分项评分平均。"),
    )
    agent_rows = sorted(
        (
            [
                agents[r["order__registered_by_id"]].name,
                agents[r["order__registered_by_id"]].username,
                r["n"],
                *(_mean(r[n]) for n in agent_names),
                _mean(r["overall_mean"]),
            ]
            for r in by_agent
        ),
        key=lambda r: (-r[2], r[0]),
    )
    agents_section = Section(
        "agents",
        _("值班员满意度"),
        [
            *_cols(("name", _("值班员"), "text", 12), ("username", _("账号"), "text", 12)),
            Column("rated", _("评价数"), "int"),
            *[Column(n, str(label), "float") for n, label in AGENT_SCORES],
            Column("overall", _("维修综合评分"), "float"),
        ],
        agent_rows,
        note=_("值班员登记的报修中评价了值班员的。"),
    )
    return [summary, trend, dimensions, technicians, agents_section]


# --- scope: the filters a run or subscription stores, and who may see a run --------------------


def stored_filters(raw) -> dict[str, str]:
    """The filter codes worth storing: category, channel, place, team, each only when given."""
    raw = raw or {}
    out = {}
    for key in FILTER_KEYS:
        value = raw.get(key)
        if value not in (None, "") and str(value).strip():
            out[key] = str(value).strip()
    return out


def teams_key(f: Filters) -> str:
    """ ",3,7," for filters limited to teams 3 and 7 (a team lead's), "" for no limit."""
    if f.teams is None:
        return ""
    return "," + ",".join(str(pk) for pk in sorted(f.teams)) + ","


def _team_ids(key: str) -> tuple[int, ...] | None:
    if not key:
        return None
    return tuple(int(pk) for pk in key.strip(",").split(",") if pk)


def scope_digest(filters: dict, teams: str = "") -> str:
    text = json.dumps({"filters": filters, "teams": teams}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha1(text.encode()).hexdigest()


def allowed_filters(user, raw) -> Filters:
    """The filters `user` may have a report made with (a team lead's limited to his teams)."""
    f = scoped(user, parse_filters(**stored_filters(raw)))
    if f.teams is not None and not f.teams:
        raise NotAllowed(_("您目前不带领任何班组，没有可以统计的工单。"))
    return f


def run_filters(run: ReportRun) -> Filters:
    f = parse_filters(**run.filters)
    teams = _team_ids(run.teams)
    if teams is None:
        return f
    return Filters(f.category, f.channel, f.place, f.team, teams)


def run_period(run: ReportRun) -> Period:
    return Period(run.start, run.end, GRAIN[run.kind])


def run_title(run: ReportRun) -> str:
    return report_title(run.kind, run.topic, run_period(run))


def _led(user) -> list[tuple[int, str]]:
    return list(user.led_teams.order_by("pk").values_list("pk", "code"))


# A team lead's reports are keyed by every non-empty set of the teams he leads; more teams than
# this (never seen in practice) would make the lookup list too long, so only his own team filter
# and runs limited to at most this many of them are found.
MAX_LED_TEAMS = 8


def visible_runs(user) -> QuerySet[ReportRun]:
    """Runs `user` may see and download: all for managers, dispatchers and admins; for a team
    lead, those about the teams he leads (filtered by one of them, or limited to them)."""
    require_viewer(user)
    qs = ReportRun.objects.select_related("requested_by")
    if user.has_role(*WHOLE_ROLES):
        return qs
    led = _led(user)
    ids = [pk for pk, _code in led]
    keys = [
        "," + ",".join(str(pk) for pk in combo) + ","
        for size in range(1, min(len(ids), MAX_LED_TEAMS) + 1)
        for combo in combinations(ids, size)
    ]
    codes = [code for _pk, code in led]
    cond = Q(teams__in=keys) if keys else Q(pk__in=[])
    if codes:
        cond |= Q(filters__team__in=codes)
    return qs.filter(cond)


def can_see_run(user, run: ReportRun) -> bool:
    if not user.has_role(Role.MANAGER, Role.DISPATCHER, Role.TEAM_LEAD, Role.ADMIN):
        return False
    if user.has_role(*WHOLE_ROLES):
        return True
    led = _led(user)
    ids = {pk for pk, _code in led}
    limited = _team_ids(run.teams)
    if run.filters.get("team") in {code for _pk, code in led}:
        return True
    return bool(limited) and set(limited) <= ids


def get_run(user, pk) -> ReportRun:
    """The run `pk` if `user` may see it: 404 when there is none, 403 when it is not his."""
    require_viewer(user)
    run = ReportRun.objects.select_related("requested_by").filter(pk=pk).first()
    if run is None:
        raise NotVisible(_("没有这份报表。"))
    if not can_see_run(user, run):
        raise NotAllowed(_("班组长只能查看本班组的报表。"))
    return run


def download_name(run: ReportRun, fmt: str) -> str:
    return f"{run_title(run)}.{fmt}"


# --- writes --------------------------------------------------------------------------------------


def _check_choice(value, choices, message: str, field_name: str) -> str:
    if value not in choices:
        raise InvalidInput(message, field=field_name)
    return value


def _check_topic(topic) -> str:
    return _check_choice(
        topic,
        ReportTopic.values,
        _("报表只能是：综合报表、故障原因专题、满意度专题（overview、faults、satisfaction）。"),
        "topic",
    )


def _check_format(fmt) -> str:
    return _check_choice(fmt, ReportFormat.values, _("格式只能是 xlsx 或 pdf。"), "format")


def _check_formats(formats) -> list[str]:
    if isinstance(formats, str):
        formats = [formats]
    out: list[str] = []
    for fmt in formats or ():
        if _check_format(fmt) not in out:
            out.append(fmt)
    if not out:
        raise InvalidInput(_("请至少选择一种格式（xlsx 或 pdf）。"), field="format")
    return out


def _enqueue(run_id: int) -> None:
    """Generate the run in the worker once the row is committed."""

    def send() -> None:
        from .tasks import generate_report

        generate_report(run_id)

    transaction.on_commit(send, robust=True)


def request_report(
    *,
    kind: str,
    topic: str = ReportTopic.OVERVIEW,
    period=None,
    filters=None,
    formats=(ReportFormat.XLSX,),
    by,
) -> ReportRun:
    """Ask for a report now. The worker generates it (a year takes seconds); the run shows its
    status meanwhile. A team lead's report is limited to the teams he leads."""
    require_viewer(by)
    if kind not in ReportKind.values:
        raise _bad_kind()
    _check_topic(topic)
    fmts = _check_formats(formats)
    p = parse_report_period(kind, period)
    raw = stored_filters(filters)
    f = allowed_filters(by, raw)
    waiting = ReportRun.objects.filter(
        requested_by=by, status__in=[RunStatus.PENDING, RunStatus.RUNNING]
    ).count()
    limit = settings.ANALYTICS_REPORT_MAX_WAITING
    if waiting >= limit:
        raise IllegalState(
            _("您已有 %(n)d 份报表正在生成，请等它们完成后再申请。") % {"n": waiting},
            code="too_many_reports",
        )
    teams = teams_key(f)
    with transaction.atomic():
        run = ReportRun.objects.create(
            kind=kind,
            topic=topic,
            start=p.start,
            end=p.end,
            filters=raw,
            teams=teams,
            scope=scope_digest(raw, teams),
            formats=fmts,
            requested_by=by,
            language=translation.get_language() or "",
        )
        _enqueue(run.pk)
    return run


WRITERS = {ReportFormat.XLSX: "to_xlsx", ReportFormat.PDF: "to_pdf"}


def _export(report: Report, fmt: str) -> ContentFile:
    from . import exports

    buf = io.BytesIO()
    getattr(exports, WRITERS[fmt])(report, buf)
    return ContentFile(buf.getvalue())


def generate_run(run_id: int) -> ReportRun | None:
    """The worker's part: take the run (once, however often the task is delivered), build the
    report, store each format's file, then tell the subscribers (scheduled) or the requester."""
    started = timezone.now()
    taken = ReportRun.objects.filter(pk=run_id, status=RunStatus.PENDING).update(
        status=RunStatus.RUNNING, started_at=started
    )
    if taken != 1:
        return None
    run = ReportRun.objects.get(pk=run_id)
    files: dict[str, str] = {}
    language = run.language or settings.LANGUAGE_CODE
    try:
        with translation.override(language):
            report = build(run.kind, run_period(run), run_filters(run), topic=run.topic)
            for fmt in run.formats:
                stored = run.file_for(fmt)
                stored.save(f"{report.slug}.{fmt}", _export(report, fmt), save=False)
                files[fmt] = stored.name
    except Exception as exc:  # recorded on the run; the page and the admin show it
        log.exception("report run %s failed", run_id)
        with translation.override(language):
            message = (
                exc.message
                if isinstance(exc, OrderError)
                else _("生成报表时出错：%(error)s") % {"error": exc}
            )
        ReportRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED, finished_at=timezone.now(), error=str(message)[:2000]
        )
    else:
        ReportRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
            status=RunStatus.DONE, finished_at=timezone.now(), error="", **files
        )
    run.refresh_from_db()
    tell_subscribers(run)
    return run


def _subscriber_scope(sub: ReportSubscription) -> str | None:
    """The scope of the report a subscriber gets now, or None when he may no longer have it
    (he lost his role, leads other teams now, or a filter code is gone)."""
    try:
        f = allowed_filters(sub.user, sub.filters)
    except OrderError:
        return None
    return scope_digest(stored_filters(sub.filters), teams_key(f))


def subscribers_of(run: ReportRun) -> list[ReportSubscription]:
    subs = ReportSubscription.objects.filter(
        active=True, user__is_active=True, kind=run.kind, topic=run.topic
    ).select_related("user")
    return [s for s in subs.order_by("pk") if _subscriber_scope(s) == run.scope]


def download_url(run: ReportRun, fmt: str) -> str:
    return settings.SITE_URL + reverse("analytics:report-download", args=[run.pk, fmt])


def tell_subscribers(run: ReportRun, *, now: datetime | None = None) -> int:
    """One message per subscription (scheduled runs) or to the requester (on demand), with the
    download link of his format; once per run, however often this is called."""
    from repairhub.notify.outbox import post

    from . import texts

    if not run.is_finished:
        return 0
    if run.scheduled:
        targets = [(s.user, s.format) for s in subscribers_of(run)]
    elif run.requested_by is not None:
        targets = [(run.requested_by, run.formats[0])]
    else:
        targets = []
    now = now or timezone.now()
    with transaction.atomic():
        if (
            ReportRun.objects.filter(pk=run.pk, notified_at__isnull=True).update(notified_at=now)
            != 1
        ):
            return 0
        for user, fmt in targets:
            params = {"title": run_title(run)}
            if run.status == RunStatus.DONE:
                post([user], texts.REPORT_READY, params | {"url": download_url(run, fmt)})
            else:
                post([user], texts.REPORT_FAILED, params | {"error": run.error})
    return len(targets)


def _due_day(now: datetime) -> date:
    """Reports are made from ANALYTICS_REPORT_HOUR on the day after their period."""
    local = timezone.localtime(now)
    if local.hour >= settings.ANALYTICS_REPORT_HOUR:
        return local.date()
    return local.date() - timedelta(days=1)


def schedule_due(now: datetime | None = None) -> list[ReportRun]:
    """Make each due report once: for every kind in ANALYTICS_REPORT_SCHEDULE the whole
    organisation's overview, and one per kind, topic and scope that someone subscribed to, for
    the latest period that is over. Safe to run any number of times, by any number of workers
    (the unique constraint on scheduled runs decides)."""
    now = now or timezone.now()
    day = _due_day(now)
    wanted: dict[tuple[str, str, str], tuple[dict, str]] = {}
    for kind in settings.ANALYTICS_REPORT_SCHEDULE:
        wanted[(kind, ReportTopic.OVERVIEW, scope_digest({}, ""))] = ({}, "")
    subs = ReportSubscription.objects.filter(active=True, user__is_active=True).select_related(
        "user"
    )
    for sub in subs.order_by("pk"):
        try:
            f = allowed_filters(sub.user, sub.filters)
        except OrderError:
            continue
        raw, teams = stored_filters(sub.filters), teams_key(f)
        wanted[(sub.kind, sub.topic, scope_digest(raw, teams))] = (raw, teams)
    made = []
    for (kind, topic, scope), (raw, teams) in wanted.items():
        p = last_complete(kind, day)
        exists = ReportRun.objects.filter(
            scheduled=True, kind=kind, topic=topic, start=p.start, scope=scope
        ).exists()
        if exists:
            continue
        try:
            with transaction.atomic():
                run = ReportRun.objects.create(
                    kind=kind,
                    topic=topic,
                    start=p.start,
                    end=p.end,
                    filters=raw,
                    teams=teams,
                    scope=scope,
                    formats=list(ReportFormat.values),
                    scheduled=True,
                    language=settings.LANGUAGE_CODE,
                    created_at=now,
                )
                _enqueue(run.pk)
        except IntegrityError:
            continue  # another worker made it first
        made.append(run)
    requeue_stalled(now)
    forget_old_runs(now)
    return made


def requeue_stalled(now: datetime | None = None) -> int:
    """Queue again runs nobody took (the queue was down) and runs whose worker died."""
    now = now or timezone.now()
    stalled = ReportRun.objects.filter(
        status=RunStatus.RUNNING, started_at__lt=now - STALLED_AFTER
    ).values_list("pk", flat=True)
    for pk in list(stalled[:50]):
        ReportRun.objects.filter(pk=pk, status=RunStatus.RUNNING).update(status=RunStatus.PENDING)
    waiting = ReportRun.objects.filter(
        status=RunStatus.PENDING, created_at__lt=now - REQUEUE_AFTER
    ).values_list("pk", flat=True)
    ids = list(waiting[:50])
    for pk in ids:
        _enqueue(pk)
    return len(ids)


def forget_old_runs(now: datetime | None = None) -> int:
    """Delete runs (and their files) older than ANALYTICS_REPORT_KEEP_DAYS; 0 keeps them all."""
    days = settings.ANALYTICS_REPORT_KEEP_DAYS
    if days <= 0:
        return 0
    now = now or timezone.now()
    old = list(
        ReportRun.objects.filter(
            created_at__lt=now - timedelta(days=days),
            status__in=[RunStatus.DONE, RunStatus.FAILED],
        ).order_by("created_at")[:200]
    )
    for run in old:
        for fmt in ReportFormat.values:
            stored = run.file_for(fmt)
            if stored:
                stored.delete(save=False)
        run.delete()
    return len(old)


# --- subscriptions -------------------------------------------------------------------------------


def subscribe(
    *, kind: str, topic: str = ReportTopic.OVERVIEW, format: str, filters=None, by
) -> ReportSubscription:
    """Have each period's report of `kind` posted to `by` when the schedule made it."""
    require_viewer(by)
    if kind not in ReportKind.values:
        raise _bad_kind()
    _check_topic(topic)
    _check_format(format)
    raw = stored_filters(filters)
    allowed_filters(by, raw)
    try:
        with transaction.atomic():
            return ReportSubscription.objects.create(
                user=by,
                kind=kind,
                topic=topic,
                format=format,
                filters=raw,
                scope=scope_digest(raw),
            )
    except IntegrityError:
        raise IllegalState(_("您已订阅了同样的报表。"), code="already_subscribed") from None


def my_subscription(user, pk) -> ReportSubscription:
    sub = ReportSubscription.objects.filter(pk=pk).first()
    if sub is None or sub.user_id != getattr(user, "pk", None):
        raise NotVisible(_("没有这项订阅。"))
    return sub


def set_subscription_active(sub: ReportSubscription, *, active: bool, by) -> ReportSubscription:
    """Pause or resume one's own subscription."""
    if sub.user_id != by.pk:
        raise NotAllowed(_("只能管理自己的订阅。"))
    ReportSubscription.objects.filter(pk=sub.pk).update(active=bool(active))
    sub.active = bool(active)
    return sub


def unsubscribe(sub: ReportSubscription, *, by) -> None:
    if sub.user_id != by.pk:
        raise NotAllowed(_("只能管理自己的订阅。"))
    ReportSubscription.objects.filter(pk=sub.pk).delete()
