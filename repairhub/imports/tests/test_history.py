"""Imported orders are history: no SLA clock, reminder, follow-up, warranty or outbox message
comes of them — while the same orders made through intake would have all of those. They read
like any other order (its page, its timeline), and an order imported mid-way goes on through
the lifecycle."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.test import Client

from repairhub.feedback.models import FollowUp, Warranty
from repairhub.feedback.services import ratings, visits
from repairhub.imports.queries import order_for_source
from repairhub.notify.models import Message
from repairhub.sla.models import OrderClock
from repairhub.supervision.models import Escalation, Reminder
from repairhub.workorders.models import WorkOrder
from repairhub.workorders.services import acknowledge_order, complete_order, record_arrival
from repairhub.workorders.states import Status

from .conftest import EXAMPLES, closed_row, run, write_orders

TZ = ZoneInfo("Asia/Shanghai")


def side_effects() -> dict[str, int]:
    return {
        "outbox": Message.objects.count(),
        "sla clocks": OrderClock.objects.count(),
        "reminders": Reminder.objects.count(),
        "escalations": Escalation.objects.count(),
        "follow-ups": FollowUp.objects.count(),
        "warranties": Warranty.objects.count(),
    }


def test_importing_writes_no_outbox_rows_clocks_reminders_or_surveys(
    campus, tmp_path, mapping_file
):
    rows = [
        closed_row("H-1"),
        closed_row("H-2", 状态="dispatched", 接单时间="", 到场时间="", 完成时间="", 关闭时间="",
                   评分=""),
        closed_row("H-3", 状态="in_progress", 完成时间="", 关闭时间="", 评分=""),
        closed_row("H-4", 状态="submitted", 受理时间="", 派工时间="", 接单时间="", 到场时间="",
                   完成时间="", 关闭时间="", 评分="", 维修工="", 派工人=""),
    ]  # fmt: skip
    with time_machine.travel(datetime(2026, 3, 5, 9, tzinfo=TZ), tick=False):
        out, _err = run(write_orders(tmp_path / "o.csv", rows), mapping_file)
        assert "导入 4，拒绝 0" in out
        assert side_effects() == dict.fromkeys(side_effects(), 0)
        # Nor do the periodic jobs take imported history up: nothing is due.
        assert ratings.auto_confirm_due() == 0
        assert side_effects()["outbox"] == 0

        # The same kind of order through intake and the lifecycle starts all of it.
        campus.order(Status.DISPATCHED)
        made = side_effects()
        assert made["outbox"] > 0 and made["sla clocks"] > 0 and made["reminders"] > 0


def test_old_history_is_left_alone_by_the_feedback_jobs(campus):
    run(EXAMPLES / "orders.csv", EXAMPLES / "mapping.toml")  # September 2025, months ago
    assert ratings.auto_confirm_due() == 0
    assert visits.schedule_missing() == 0
    assert side_effects() == dict.fromkeys(side_effects(), 0)


def test_an_order_imported_mid_way_goes_on_through_the_lifecycle(campus, tmp_path, mapping_file):
    row = closed_row(
        "M-1", 状态="dispatched", 接单时间="", 到场时间="", 完成时间="", 关闭时间="", 评分=""
    )
    run(write_orders(tmp_path / "o.csv", [row]), mapping_file)
    order = WorkOrder.objects.get()
    assert (order.status, order.assignee, order.version) == ("dispatched", campus.technician, 1)

    acknowledge_order(order, by=campus.technician)
    record_arrival(order, by=campus.technician)
    complete_order(order, result="success", note="换好了", by=campus.technician)

    order.refresh_from_db()
    assert order.status == Status.COMPLETED and order.version == 4
    assert order.dispatched_at is not None and order.completed_at > order.dispatched_at
    codes = list(order.events.order_by("id").values_list("code", flat=True))
    assert codes == [
        "workorder.submitted",
        "workorder.accepted",
        "workorder.dispatched",
        "workorder.imported",
        "workorder.acknowledged",
        "workorder.arrived",
        "workorder.completed",
    ]


def test_an_imported_order_reads_like_any_other(campus):
    run(EXAMPLES / "orders.csv", EXAMPLES / "mapping.toml")
    order = order_for_source("旧后勤报修系统", "HQ-2025-0001")
    client = Client()
    client.force_login(campus.dispatcher)

    page = client.get(f"/orders/{order.number}/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "历史数据导入" in html
    assert "导入自“旧后勤报修系统”，原工单号 HQ-2025-0001（orders.csv 第 2 行）" in html
    assert 'href="tel:13800005555"' in html  # decrypted for staff, as for every order
    tracking = Client().get(order.tracking_path)
    assert tracking.status_code == 200
