"""The reports page: who may open it and download, generating through the worker while the list
refreshes itself, bad input refused in words with nothing made, one's own subscriptions."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
import time_machine
from django.test import Client
from openpyxl import load_workbook

from repairhub.accounts.models import Team
from repairhub.analytics import reports, tasks
from repairhub.analytics.models import ReportRun, ReportSubscription, RunStatus
from repairhub.notify.models import Message

from .history import local
from .small import repaired

pytestmark = pytest.mark.django_db

NOW = local(date(2026, 6, 3), 10)
LIST = "/analytics/reports/"
GENERATE = "/analytics/reports/generate/"
MAY = {"kind": "monthly", "topic": "overview", "period": "2026-05", "format": "xlsx"}


@pytest.fixture
def clock(world):
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def may(world):
    with time_machine.travel(local(date(2026, 5, 4), 8), tick=False):
        repaired(world, date(2026, 5, 4), hours=3)
        repaired(world, date(2026, 5, 12), hours=9, rating=2, technician=world.technician2)


def browser(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def generate(user, capture, data=MAY, *, run_worker=True):
    with capture(execute=run_worker):
        return browser(user).post(GENERATE, data)


@pytest.mark.parametrize("who", ["reporter", "technician", "agent"])
def test_people_without_an_analytics_role_get_403_and_make_nothing(
    world, clock, who, django_capture_on_commit_callbacks
):
    user = getattr(world, who)
    assert browser(user).get(LIST).status_code == 403
    r = generate(user, django_capture_on_commit_callbacks)
    assert r.status_code == 403
    r = browser(user).post("/analytics/reports/subscriptions/", {"sub-kind": "monthly"})
    assert r.status_code == 403
    run = reports.request_report(kind="monthly", period="2026-05", by=world.manager)
    assert browser(user).get(f"/analytics/reports/{run.pk}/xlsx/").status_code == 403
    assert ReportRun.objects.count() == 1 and not ReportSubscription.objects.exists()


def test_anonymous_visitors_are_sent_to_login(db, client):
    for url in (LIST, "/analytics/reports/1/xlsx/"):
        r = client.get(url)
        assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")


def test_a_report_is_generated_by_the_worker_and_downloaded(
    world, clock, may, django_capture_on_commit_callbacks
):
    r = generate(world.manager, django_capture_on_commit_callbacks)

    assert r.status_code == 302 and r["Location"] == LIST
    run = ReportRun.objects.get()
    assert (run.kind, run.start, run.end, run.status) == (
        "monthly",
        date(2026, 5, 1),
        date(2026, 5, 31),
        RunStatus.DONE,
    )
    assert (run.requested_by, run.scheduled, run.formats, run.teams) == (
        world.manager,
        False,
        ["xlsx"],
        "",
    )
    page = browser(world.manager).get(LIST).content.decode()
    assert "报修月报（2026年5月）" in page
    assert f'href="/analytics/reports/{run.pk}/xlsx/"' in page
    assert (
        "hx-trigger" not in page.split('id="report-runs"')[1].split(">")[0]
    )  # nothing to wait for

    got = browser(world.manager).get(f"/analytics/reports/{run.pk}/xlsx/")
    assert got.status_code == 200
    assert got["Content-Type"].startswith("application/vnd.openxmlformats")
    assert quote("报修月报（2026年5月）.xlsx") in got["Content-Disposition"]
    wb = load_workbook(io.BytesIO(b"".join(got.streaming_content)))
    summary = {row[0]: row[1] for row in wb["概要"].iter_rows(min_row=2, values_only=True)}
    assert summary["报修量"] == 2 and summary["完成量"] == 2
    assert browser(world.manager).get(f"/analytics/reports/{run.pk}/pdf/").status_code == 404
    told = Message.objects.get(cause="analytics.report_ready", user=world.manager)
    assert told.body.endswith(f"/analytics/reports/{run.pk}/xlsx/")


def test_the_list_refreshes_itself_while_a_report_waits_for_the_worker(
    world, clock, may, django_capture_on_commit_callbacks
):
    generate(world.manager, django_capture_on_commit_callbacks, run_worker=False)
    run = ReportRun.objects.get()
    assert run.status == RunStatus.PENDING

    page = browser(world.manager).get(LIST).content.decode()
    section = page.split('id="report-runs"')[1].split(">")[0]
    assert 'hx-get="/analytics/reports/"' in section and 'hx-trigger="every 3s"' in section
    fragment = browser(world.manager).get(LIST, headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<section class="card" id="report-runs"')
    assert "<html" not in fragment and 'data-status="pending"' in fragment

    with django_capture_on_commit_callbacks(execute=True):
        tasks.generate_report(run.pk)  # the worker takes it
    fragment = browser(world.manager).get(LIST, headers={"HX-Request": "true"}).content.decode()
    assert 'data-status="done"' in fragment and "hx-trigger" not in fragment


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {**MAY, "period": "2026-13"},
            "时段格式不正确：月报请填写该时段中的任一日期（YYYY-MM-DD）或 2026-05 这样的写法。",
        ),
        ({**MAY, "period": "2026-07"}, "该时段尚未开始，无法生成报表。"),
        ({**MAY, "category": "nope"}, "未知的报修类别“nope”，请从列表中选择。"),
        ({**MAY, "team": "ghosts"}, "未知的班组“ghosts”。"),
        ({**MAY, "kind": "hourly"}, "选择一个有效的选项"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_made(
    world, clock, data, message, django_capture_on_commit_callbacks
):
    r = generate(world.manager, django_capture_on_commit_callbacks, data)

    assert r.status_code == 422
    assert message in r.content.decode()
    assert not ReportRun.objects.exists()


def test_one_person_may_have_only_so_many_reports_waiting(
    world, clock, settings, django_capture_on_commit_callbacks
):
    settings.ANALYTICS_REPORT_MAX_WAITING = 1
    generate(world.manager, django_capture_on_commit_callbacks, run_worker=False)

    r = generate(world.manager, django_capture_on_commit_callbacks, run_worker=False)

    assert r.status_code == 422
    assert "您已有 1 份报表正在生成，请等它们完成后再申请。" in r.content.decode()
    assert ReportRun.objects.count() == 1


def test_a_team_lead_sees_and_downloads_only_his_teams_reports(
    world, clock, may, django_capture_on_commit_callbacks
):
    other = Team.objects.create(code="water-b", name="水暖二班")
    generate(world.manager, django_capture_on_commit_callbacks)
    generate(world.manager, django_capture_on_commit_callbacks, {**MAY, "team": world.team.code})
    whole, his_team = ReportRun.objects.order_by("pk")

    refused = generate(
        world.team_lead, django_capture_on_commit_callbacks, {**MAY, "team": other.code}
    )
    assert refused.status_code == 403
    assert "班组长只能查看本班组的统计。" in refused.content.decode()
    assert ReportRun.objects.count() == 2

    generate(world.team_lead, django_capture_on_commit_callbacks)
    own = ReportRun.objects.latest("pk")
    assert own.teams == f",{world.team.pk},"

    lead = browser(world.team_lead)
    page = lead.get(LIST).content.decode()
    assert f'data-run="{own.pk}"' in page and f'data-run="{his_team.pk}"' in page
    assert f'data-run="{whole.pk}"' not in page
    assert lead.get(f"/analytics/reports/{whole.pk}/xlsx/").status_code == 403
    assert lead.get(f"/analytics/reports/{his_team.pk}/xlsx/").status_code == 200
    assert lead.get(f"/analytics/reports/{own.pk}/xlsx/").status_code == 200
    # Managers see everything, the team lead's report included.
    assert browser(world.manager).get(f"/analytics/reports/{own.pk}/xlsx/").status_code == 200


def test_people_manage_their_own_subscriptions(world, clock):
    me = browser(world.dispatcher)
    data = {
        "sub-kind": "weekly",
        "sub-topic": "faults",
        "sub-format": "pdf",
        "sub-channel": "phone",
    }

    assert me.post("/analytics/reports/subscriptions/", data).status_code == 302
    sub = ReportSubscription.objects.get()
    assert (sub.user, sub.kind, sub.topic, sub.format, sub.filters, sub.active) == (
        world.dispatcher,
        "weekly",
        "faults",
        "pdf",
        {"channel": "phone"},
        True,
    )
    page = me.get(LIST).content.decode()
    assert f'data-subscription="{sub.pk}"' in page and "渠道：电话报修" in page

    again = me.post("/analytics/reports/subscriptions/", data)
    assert again.status_code == 422 and "您已订阅了同样的报表。" in again.content.decode()
    assert ReportSubscription.objects.count() == 1

    assert browser(world.manager).post(f"{LIST}subscriptions/{sub.pk}/delete/").status_code == 404
    assert me.post(f"{LIST}subscriptions/{sub.pk}/toggle/").status_code == 302
    sub.refresh_from_db()
    assert sub.active is False
    assert me.post(f"{LIST}subscriptions/{sub.pk}/delete/").status_code == 302
    assert not ReportSubscription.objects.exists()


def test_the_admin_looks_at_runs_and_deleting_one_deletes_its_files(
    world, clock, may, django_capture_on_commit_callbacks
):
    generate(world.manager, django_capture_on_commit_callbacks)
    reports.subscribe(kind="monthly", format="pdf", by=world.manager)
    run = ReportRun.objects.get()
    stored = run.xlsx.path
    admin = browser(world.admin)

    assert "综合报表 月报 2026-05-01" in admin.get("/admin/analytics/reportrun/").content.decode()
    page = admin.get(f"/admin/analytics/reportrun/{run.pk}/change/")
    assert page.status_code == 200 and 'name="kind"' not in page.content.decode()  # read only
    assert admin.get("/admin/analytics/reportsubscription/").status_code == 200
    r = admin.post(f"/admin/analytics/reportrun/{run.pk}/delete/", {"post": "yes"})

    assert r.status_code == 302
    assert not ReportRun.objects.exists()
    assert not Path(stored).exists()
