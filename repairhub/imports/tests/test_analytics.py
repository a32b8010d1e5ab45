"""Every analytics figure works on imported history: dashboard, rankings (the dispatchers'
one reads the first `workorder.dispatched` event), workload, appraisal and the drill-down
count the imported orders exactly as their rows say."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from repairhub.accounts.services import issue_token
from repairhub.analytics import queries, rankings, workload
from repairhub.analytics.appraisal import month_figures
from repairhub.analytics.periods import Filters, Period
from repairhub.analytics.queries import Drill
from repairhub.api.tests.conftest import Api

from .conftest import closed_row, run, write_orders

TZ = ZoneInfo("Asia/Shanghai")
MARCH = Period(date(2026, 3, 1), date(2026, 3, 31), "week")
STEPS = ("受理时间", "派工时间", "接单时间", "到场时间", "完成时间", "关闭时间")


def row(number: str, day: int, times: list[str], month: int = 3, **changes: str) -> dict:
    """An order reported on `day` of the month at 08:00, with its steps at the given local
    times of that day ("" when the step did not happen) or at full times."""
    out = closed_row(number)
    out["报修时间"] = f"2026-{month:02d}-{day:02d} 08:00"
    for name, at in zip(STEPS, times, strict=True):
        out[name] = at if not at or len(at) > 5 else f"2026-{month:02d}-{day:02d} {at}"
    out.update(changes)
    return out


ROWS = [
    # technician: 2 h, 4 h (late, failed), 6 h (on time) from report to completion
    row("A-1", 2, ["08:10", "08:30", "08:40", "09:00", "10:00", "2026-03-03 09:00"]),
    row("A-2", 3, ["08:20", "09:20", "", "10:00", "12:00", "18:00"],
        评分="3", 结果="failed", 类别="pipe", 时限="2026-03-03 11:00"),
    row("A-3", 10, ["08:00", "08:40", "", "09:00", "14:00", "14:00"], 评分="", 时限="2026-03-10 18:00"),
    # team_lead (a technician too), dispatched by nobody the old system named
    row("A-4", 11, ["08:30", "09:00", "", "09:30", "10:00", "2026-03-12 10:00"],
        评分="4", 维修工="team_lead", 派工人=""),
    # the phone desk: one rejected, one still waiting
    row("A-5", 12, ["", "", "", "", "", "09:00"], 状态="rejected", 评分="", 维修工="",
        派工人="", 渠道="phone", 值班员="agent"),
    row("A-6", 15, ["", "", "", "", "", ""], 状态="submitted", 评分="", 维修工="", 派工人="",
        渠道="phone", 值班员="agent"),
    # before March: counted nowhere in the period
    row("A-7", 27, ["08:10", "08:30", "", "09:00", "10:00", "11:00"], month=2),
]  # fmt: skip


@pytest.fixture
def imported(campus, tmp_path, mapping_file, settings):
    settings.ANALYTICS_MIN_ORDERS = 1
    with time_machine.travel(datetime(2026, 4, 2, 12, tzinfo=TZ), tick=False):
        out, _err = run(write_orders(tmp_path / "o.csv", ROWS), mapping_file)
        assert "导入 7，拒绝 0" in out
        yield campus


def test_dashboard_counts_imported_orders(imported):
    got = queries.dashboard(MARCH, Filters())
    assert got["summary"] == {
        "reported": 6,
        "completed": 4,
        "success_rate": 0.75,
        "mean_repair_hours": 3.5,
    }
    assert got["volume"]["total"] == 6
    assert got["backlog"]["total"] == 1
    assert [s["count"] for s in got["backlog"]["states"] if s["status"] == "submitted"] == [1]
    assert {k: got["on_time"][k] for k in ("with_deadline", "on_time", "late", "rate")} == {
        "with_deadline": 2,
        "on_time": 1,
        "late": 1,
        "rate": 0.5,
    }
    assert (got["satisfaction"]["rated"], got["satisfaction"]["mean"]) == (3, 4.0)
    faults = {r["code"]: r for r in got["fault_types"]["rows"]}
    assert {k: faults["lamp"][k] for k in ("reported", "completed", "success_rate")} == {
        "reported": 5,
        "completed": 3,
        "success_rate": 1.0,
    }
    assert (faults["lamp"]["median_hours"], faults["lamp"]["longest_hours"]) == (2.0, 6.0)
    assert (faults["pipe"]["completed"], faults["pipe"]["mean_hours"]) == (1, 4.0)


def test_rankings_count_imported_orders(imported):
    techs = rankings.technician_efficiency(MARCH, Filters())
    assert [
        (r["username"], r["rank"], r["orders"], r["mean_hours"], r["delays"]) for r in techs.ranked
    ] == [
        ("team_lead", 1, 1, 2.0, 0),
        ("technician", 2, 3, 4.0, 1),
    ]
    # From acceptance to the first dispatch event: 20, 60 and 40 minutes by the dispatcher;
    # the dispatch nobody was named for stands apart.
    speed = rankings.dispatch_speed(MARCH, Filters())
    assert [(r["username"], r["orders"], r["mean_minutes"]) for r in speed.ranked] == [
        ("dispatcher", 3, 40.0)
    ]
    assert [(r["orders"], r["mean_minutes"]) for r in speed.apart] == [(1, 30.0)]
    liked = rankings.technician_satisfaction(MARCH, Filters())
    assert [(r["username"], r["rank"], r["orders"], r["mean_rating"]) for r in liked.ranked] == [
        ("technician", 1, 2, 4.0),
        ("team_lead", 2, 1, 4.0),
    ]


def test_workload_and_appraisal_count_imported_orders(imported):
    agents = workload.agents(MARCH, Filters())["rows"]
    assert [
        (r["username"], r["calls"], r["settled"], r["pending"], r["first_contact"]) for r in agents
    ] == [("agent", 2, 1, 1, 0)]
    techs = {r["username"]: r for r in workload.technicians(MARCH, Filters())["rows"]}
    assert (techs["technician"]["orders"], techs["technician"]["successes"]) == (3, 2)
    assert techs["technician"]["hours_on_site"] == 8.0  # 1 + 2 + 5
    assert techs["team_lead"]["hours_on_site"] == 0.5

    month = {r["username"]: r for r in month_figures(Period.month(date(2026, 3, 1)))}
    tech = month["technician"]
    assert (tech["orders"], tech["successes"]) == (3, 2)
    assert tech["arrival_hours"] == 0.5  # dispatch → arrival: 30, 40 and 20 minutes


def test_the_drill_down_lists_the_imported_orders_behind_a_figure(imported):
    behind = queries.orders_behind(MARCH, Filters(), Drill(figure="completed"))
    marks = [o.events.get(code="workorder.imported").data["number"] for o in behind]
    assert sorted(marks) == ["A-1", "A-2", "A-3", "A-4"]
    first = queries.orders_behind(
        MARCH, Filters(), Drill(figure="dispatched", dim="dispatcher", key="none")
    )
    assert [o.events.get(code="workorder.imported").data["number"] for o in first] == ["A-4"]


def test_the_api_dashboard_serves_the_same_figures(imported):
    api = Api(Client(), issue_token(imported.manager, name="test"))
    r = api.get(
        "/analytics/dashboard", {"start": "2026-03-01", "end": "2026-03-31", "grain": "week"}
    )
    assert r.status_code == 200, r.content
    assert r.json()["summary"]["completed"] == 4
