"""The schedule: each due report is made once after its period (from ANALYTICS_REPORT_HOUR on
the next day, Monday, the 1st …), however often the hourly job runs, and each subscriber gets
one message with the link to his format."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from repairhub.analytics import exports, reports, tasks
from repairhub.analytics.models import ReportRun, ReportSubscription, RunStatus
from repairhub.notify.models import Message

from .history import local
from .small import repaired

pytestmark = pytest.mark.django_db

JUNE_1 = date(2026, 6, 1)  # a Monday, and the first of a month


@pytest.fixture
def hourly(settings, django_capture_on_commit_callbacks):
    """Run the hourly job at a local time, the worker's tasks included (Huey immediate mode)."""
    settings.ANALYTICS_REPORT_HOUR = 6
    settings.SITE_URL = "https://bx.example.edu.cn"

    def run(day: date, hour: int, minute: int = 7):
        at = time_machine.travel(local(day, hour, minute), tick=False)
        with at, django_capture_on_commit_callbacks(execute=True):
            tasks.make_scheduled_reports()

    return run


@pytest.fixture
def subscribed(world):
    with time_machine.travel(local(date(2026, 5, 2), 9), tick=False):
        repaired(world, date(2026, 5, 4), hours=3)
        repaired(world, date(2026, 5, 20), hours=5, rating=4)
    return {
        "manager": reports.subscribe(kind="monthly", format="xlsx", by=world.manager),
        "dispatcher": reports.subscribe(kind="monthly", format="pdf", by=world.dispatcher),
        "team_lead": reports.subscribe(kind="monthly", format="xlsx", by=world.team_lead),
        "admin": reports.subscribe(
            kind="weekly",
            topic="faults",
            format="pdf",
            filters={"category": "lamp"},
            by=world.admin,
        ),
    }


def ready_messages():
    return Message.objects.filter(cause="analytics.report_ready", channel="in_app")


def scheduled():
    return ReportRun.objects.filter(scheduled=True)


def test_each_due_report_is_made_once_and_each_subscriber_told_once(world, subscribed, hourly):
    hourly(JUNE_1, 7)

    runs = {(r.kind, r.topic, r.start, bool(r.teams), bool(r.filters)): r for r in scheduled()}
    assert scheduled().count() == len(runs) == 7
    assert set(runs) == {
        ("daily", "overview", date(2026, 5, 31), False, False),
        ("weekly", "overview", date(2026, 5, 25), False, False),
        ("monthly", "overview", date(2026, 5, 1), False, False),
        ("quarterly", "overview", date(2026, 1, 1), False, False),
        ("annual", "overview", date(2025, 1, 1), False, False),
        ("monthly", "overview", date(2026, 5, 1), True, False),  # the team lead's teams only
        ("weekly", "faults", date(2026, 5, 25), False, True),  # the admin's: category lamp
    }
    for run in runs.values():
        assert run.status == RunStatus.DONE, run.error
        assert run.xlsx and run.pdf and run.notified_at is not None
    whole = runs[("monthly", "overview", date(2026, 5, 1), False, False)]
    mine = runs[("monthly", "overview", date(2026, 5, 1), True, False)]
    faults = runs[("weekly", "faults", date(2026, 5, 25), False, True)]
    assert mine.teams == f",{world.team.pk},"
    bodies = {m.user.username: m.body for m in ready_messages()}
    site = "https://bx.example.edu.cn/analytics/reports"
    assert bodies == {
        "manager": f"【报修云】报修月报（2026年5月）已生成，登录后下载：{site}/{whole.pk}/xlsx/",
        "dispatcher": f"【报修云】报修月报（2026年5月）已生成，登录后下载：{site}/{whole.pk}/pdf/",
        "team_lead": f"【报修云】报修月报（2026年5月）已生成，登录后下载：{site}/{mine.pk}/xlsx/",
        "admin": (
            "【报修云】故障原因专题周报（2026年5月25日至5月31日）已生成，登录后下载："
            f"{site}/{faults.pk}/pdf/"
        ),
    }
    assert ready_messages().count() == 4

    # The same hour again (another worker), the next hour, and the job's body called directly:
    # nothing new is made, nobody is told twice.
    hourly(JUNE_1, 7, 30)
    hourly(JUNE_1, 8)
    with time_machine.travel(local(JUNE_1, 9), tick=False):
        assert reports.schedule_due() == []
    assert scheduled().count() == 7
    assert ready_messages().count() == 4


def test_a_period_is_due_from_the_report_hour_of_the_next_day(world, subscribed, hourly, settings):
    settings.ANALYTICS_REPORT_SCHEDULE = ["monthly"]

    hourly(JUNE_1, 5)
    assert sorted(r.start for r in scheduled().filter(kind="monthly")) == [
        date(2026, 4, 1),  # May is not reported before 06:00 on June 1
        date(2026, 4, 1),
    ]

    hourly(JUNE_1, 6)
    may = scheduled().filter(kind="monthly", start=date(2026, 5, 1))
    assert may.count() == 2  # the organisation's and the team lead's

    hourly(date(2026, 6, 2), 7)
    hourly(date(2026, 6, 30), 23)
    assert scheduled().filter(kind="monthly").count() == 4  # June is over only on July 1
    weekly = scheduled().filter(kind="weekly").values_list("start", flat=True)
    assert sorted(weekly) == [date(2026, 5, 18), date(2026, 5, 25), date(2026, 6, 22)]


def test_a_task_delivered_twice_generates_and_tells_once(world, subscribed, hourly):
    hourly(JUNE_1, 7)
    run = scheduled().get(kind="monthly", teams="")
    before = (run.finished_at, run.xlsx.name, ready_messages().count())

    tasks.generate_report(run.pk)
    reports.tell_subscribers(run)

    run.refresh_from_db()
    assert (run.finished_at, run.xlsx.name, ready_messages().count()) == before


def test_a_failed_report_is_recorded_and_its_subscribers_told(
    world, subscribed, hourly, settings, monkeypatch
):
    settings.ANALYTICS_REPORT_SCHEDULE = []

    def broken(report, stream):
        raise OSError("磁盘已满")

    monkeypatch.setattr(exports, "to_pdf", broken)
    hourly(JUNE_1, 7)

    run = scheduled().get(kind="monthly", teams="")
    assert run.status == RunStatus.FAILED
    assert run.error == "生成报表时出错：磁盘已满"
    failed = Message.objects.filter(cause="analytics.report_failed", channel="in_app")
    assert sorted(failed.values_list("user__username", flat=True)) == [
        "admin",
        "dispatcher",
        "manager",
        "team_lead",
    ]
    assert failed.get(user=world.manager).body == (
        "【报修云】报修月报（2026年5月）生成失败：生成报表时出错：磁盘已满 请联系管理员。"
    )


def test_paused_subscriptions_and_people_who_lost_the_access_get_nothing(
    world, subscribed, hourly, settings
):
    settings.ANALYTICS_REPORT_SCHEDULE = []
    reports.set_subscription_active(subscribed["manager"], active=False, by=world.manager)
    world.team.lead = world.manager  # the team lead no longer leads his team
    world.team.save()

    hourly(JUNE_1, 7)

    assert sorted(ready_messages().values_list("user__username", flat=True)) == [
        "admin",
        "dispatcher",
    ]
    assert not scheduled().exclude(teams="").exists()
    assert ReportSubscription.objects.count() == 4  # kept; they simply get nothing now
