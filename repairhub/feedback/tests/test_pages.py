"""The staff pages: referrals, quality checks, complaints and inspections through the client."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from repairhub.feedback import services
from repairhub.feedback.models import (
    ChecklistItem,
    Complaint,
    Inspection,
    QcCheck,
    Rectification,
    Referral,
    SamplingRule,
)
from repairhub.workorders.states import Status

from .conftest import png_bytes

pytestmark = pytest.mark.django_db
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
MAY = dt.datetime(2026, 5, 12, 10, 0, tzinfo=SHANGHAI)


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_manager_closes_a_referral_from_the_page(world):
    with time_machine.travel(MAY, tick=False):
        order = world.order(Status.COMPLETED)
    with time_machine.travel(MAY + dt.timedelta(days=5), tick=False):
        services.record_visit(order, by=world.agent, reached=True, fixed=False, satisfied=False)
    referral = Referral.objects.get()
    manager = client_for(world.manager)

    assert order.number in manager.get(reverse("feedback:referrals")).content.decode()
    manager.post(reverse("feedback:referral-close", args=[referral.pk]), {"action": "已返修"})

    referral.refresh_from_db()
    assert (referral.status, referral.action) == ("closed", "已返修")
    assert client_for(world.agent).get(reverse("feedback:referrals")).status_code == 403


def test_qc_page_draws_shows_the_rate_and_records_a_failure(world):
    SamplingRule.objects.create(target_percent=Decimal("50"))
    item = ChecklistItem.objects.create(text="灯具牢固")
    with time_machine.travel(MAY, tick=False):
        orders = [world.order(Status.COMPLETED) for _ in range(2)]
    inspector = client_for(world.qc_inspector)

    with time_machine.travel(MAY + dt.timedelta(days=20), tick=False):
        drawn = inspector.post(
            reverse("feedback:qc-queue"),
            {"start": "2026-05-01", "end": "2026-06-01", "seed": "x"},
            follow=True,
        )
    html = drawn.content.decode()
    assert "已抽取 1 张工单（总体 2 张，随机种子 x）" in html
    assert "已检 0 / 完工 2 张：<b>0.0%</b>，目标 50.00%" in html
    check = QcCheck.objects.get()
    assert check.order in orders

    page = inspector.get(reverse("feedback:qc-check", args=[check.pk]))
    assert "灯具牢固" in page.content.decode()
    response = inspector.post(
        reverse("feedback:qc-check", args=[check.pk]),
        {
            f"item-{item.pk}": "no",
            "passed": "no",
            "note": "灯具松动",
            "photos": SimpleUploadedFile("a.png", png_bytes(), "image/png"),
        },
    )
    assert response.status_code == 302
    check.refresh_from_db()
    assert (check.status, check.photos.count()) == ("failed", 1)
    summary = inspector.get(reverse("feedback:qc-queue") + "?start=2026-05-01&end=2026-06-01")
    assert "已检 1 / 完工 2 张：<b>50.0%</b>" in summary.content.decode()


def test_qc_check_page_shows_refusals(world):
    SamplingRule.objects.create(target_percent=Decimal("100"))
    item = ChecklistItem.objects.create(text="灯具牢固")
    with time_machine.travel(MAY, tick=False):
        world.order(Status.COMPLETED)
        services.draw_sample(
            start=dt.date(2026, 5, 1), end=dt.date(2026, 5, 13), by=world.qc_inspector
        )
    check = QcCheck.objects.get()

    response = client_for(world.qc_inspector).post(
        reverse("feedback:qc-check", args=[check.pk]),
        {f"item-{item.pk}": "no", "passed": "no", "note": "x"},
    )

    assert response.status_code == 422
    assert "质检不合格时请上传现场照片。" in response.content.decode()
    assert (
        client_for(world.technician).get(reverse("feedback:qc-check", args=[check.pk])).status_code
        == 403
    )


def test_desk_registers_a_complaint_and_handles_it(world, departments):
    agent = client_for(world.agent)
    assert "投诉渠道" in agent.get(reverse("feedback:complaint-new")).content.decode()

    missing = agent.post(
        reverse("feedback:complaint-new"),
        {
            "category": "repair",
            "description": "太慢",
            "complainant_name": "赵六",
            "complainant_phone": "13800007777",
        },
    )
    assert missing.status_code == 422
    assert "请选择投诉渠道：电话、网上、来访或信件。" in missing.content.decode()
    assert not Complaint.objects.exists()

    created = agent.post(
        reverse("feedback:complaint-new"),
        {
            "channel": "phone",
            "category": "repair",
            "description": "太慢",
            "complainant_name": "赵六",
            "complainant_phone": "13800007777",
            "person": "technician2",
        },
    )
    complaint = Complaint.objects.get()
    assert created["Location"] == reverse("feedback:complaint-detail", args=[complaint.number])
    agent.post(created["Location"], {"kind": "contact", "text": "已致电"})
    complaint.refresh_from_db()
    assert complaint.status == "in_progress"

    subject = client_for(world.technician2).get(created["Location"]).content.decode()
    assert "赵六" not in subject and "13800007777" not in subject and "（不公开）" in subject
    listing = client_for(world.technician2).get(reverse("feedback:complaint-list")).content.decode()
    assert complaint.number in listing and "赵六" not in listing


def test_reporter_complains_on_the_web(world, departments):
    reporter = client_for(world.reporter)
    form = reporter.get(reverse("feedback:complaint-new")).content.decode()
    assert "投诉渠道" not in form

    reporter.post(
        reverse("feedback:complaint-new"),
        {"category": "canteen", "description": "饭菜太咸", "channel": "phone"},
    )

    complaint = Complaint.objects.get()
    assert (complaint.channel, complaint.complainant) == ("web", world.reporter)


def test_other_departments_complaint_page_is_refused(world, departments):
    _repairs, _canteen, canteen_agent = departments
    complaint = services.register_complaint(
        channel="walk_in",
        category="canteen",
        description="排队太久",
        complainant_name="钱七",
        complainant_phone="13800006666",
        by=canteen_agent,
    )

    response = client_for(world.agent).get(
        reverse("feedback:complaint-detail", args=[complaint.number])
    )

    assert response.status_code == 404


def test_inspection_pages_plan_record_and_close(world):
    inspector = client_for(world.qc_inspector)
    inspector.post(
        reverse("feedback:inspection-list"),
        {"kind": "planned", "team": "power-a", "scheduled_for": "2026-06-01"},
    )
    inspection = Inspection.objects.get()
    url = reverse("feedback:inspection-detail", args=[inspection.pk])
    inspector.post(
        url,
        {
            "verb": "record",
            "summary": "工具间杂乱",
            "text-0": "工具未归位",
            "severity-0": "minor",
            "task-0": "整理工具间",
            "assignee-0": "technician",
            "due-0": "2026-06-05",
        },
    )
    rect = Rectification.objects.get()
    client_for(world.technician).post(
        url, {"verb": "done", "rectification": rect.pk, "note": "已整理"}
    )
    inspector.post(url, {"verb": "verify", "rectification": rect.pk, "accepted": "yes"})

    inspection.refresh_from_db()
    assert inspection.status == "closed"
    assert client_for(world.technician2).get(url).status_code == 404
