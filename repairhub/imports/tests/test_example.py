"""The shipped example (examples/mapping.toml + orders.csv) imports as documented: every order
in the state, with the times, people and timeline its row describes; the same orders from a
GB18030 or BOM-marked CSV and from an .xlsx workbook."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from repairhub.imports.mapping import parse_mapping
from repairhub.imports.models import EVENT_IMPORTED, ImportRun, RunStatus
from repairhub.imports.queries import order_for_source
from repairhub.lib.crypto import blind_index
from repairhub.workorders.models import Event, NumberSequence, WorkOrder

from .conftest import EXAMPLES, read_csv, run

TZ = ZoneInfo("Asia/Shanghai")
SOURCE = "旧后勤报修系统"
DOCS = Path(__file__).resolve().parents[3] / "docs" / "import.md"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def timeline(order: WorkOrder) -> list[tuple[str, str, str, str]]:
    return [
        (e.code, e.from_status, e.to_status, e.actor_label)
        for e in order.events.order_by("id")
        if e.code != EVENT_IMPORTED
    ]


def snapshot() -> list[tuple]:
    """Everything an import decides about each order, numbers and tokens aside."""
    rows = []
    for o in WorkOrder.objects.order_by("created_at"):
        rows.append(
            (
                o.status,
                o.result,
                o.category.code,
                o.place.code if o.place else "",
                o.channel,
                o.urgency,
                o.reporter_name,
                o.reporter_phone,
                o.assignee.username if o.assignee else "",
                o.registered_by.username if o.registered_by else "",
                o.rating,
                o.created_at,
                o.received_at,
                o.accepted_at,
                o.dispatched_at,
                o.arrived_at,
                o.completed_at,
                o.closed_at,
                o.updated_at,
                o.remarks,
                o.completion_note,
                tuple(
                    (e.code, e.from_status, e.to_status, e.created_at, e.actor_label, str(e.data))
                    for e in o.events.exclude(code=EVENT_IMPORTED).order_by("id")
                ),
            )
        )
    return rows


def test_example_loads_every_order_as_its_row_says(campus, tmp_path):
    with time_machine.travel(at("2025-09-06 12:00"), tick=False):
        out, err = run(EXAMPLES / "orders.csv", EXAMPLES / "mapping.toml")

    assert "共 5 行：导入 5，拒绝 0，已存在（未改动）0，空行 0。" in out
    assert "5 行" in err and "行/秒" in err  # the progress line
    run_row = ImportRun.objects.get()
    assert (run_row.status, run_row.rows_done, run_row.accepted, run_row.rejected) == (
        RunStatus.FINISHED,
        5,
        5,
        0,
    )
    assert run_row.source == SOURCE and run_row.file_name == "orders.csv"

    first = order_for_source(SOURCE, "HQ-2025-0001")
    assert first.status == "closed" and first.result == "success" and first.rating == 5
    assert first.category.code == "lamp" and first.place == campus.room
    assert first.channel == "web" and first.urgency == "normal"
    assert first.assignee == campus.technician
    assert (first.created_at, first.received_at) == (at("2025-09-01 08:12"),) * 2
    assert first.accepted_at == at("2025-09-01 08:30")
    assert first.dispatched_at == at("2025-09-01 09:00")
    assert first.acknowledged_at is None  # the old system kept no such time
    assert first.arrived_at == at("2025-09-01 10:05")
    assert first.completed_at == at("2025-09-01 10:40")
    assert first.closed_at == at("2025-09-02 12:00")
    assert first.updated_at == first.closed_at
    assert (first.completion_note, first.rating_comment) == ("更换灯管", "师傅很快")
    assert timeline(first) == [
        ("workorder.submitted", "", "submitted", "李同学"),
        ("workorder.accepted", "submitted", "accepted", SOURCE),
        ("workorder.dispatched", "accepted", "dispatched", SOURCE),
        ("workorder.arrived", "acknowledged", "in_progress", "technician"),
        ("workorder.completed", "in_progress", "completed", "technician"),
        ("workorder.confirmed", "completed", "closed", "李同学"),
    ]
    events = list(first.events.order_by("id"))
    assert [e.created_at for e in events[:-1]] == [
        at("2025-09-01 08:12"),
        at("2025-09-01 08:30"),
        at("2025-09-01 09:00"),
        at("2025-09-01 10:05"),
        at("2025-09-01 10:40"),
        at("2025-09-02 12:00"),
    ]
    assert events[2].data == {"technician": "technician", "technician_name": "technician"}
    assert events[4].actor == campus.technician and events[4].data["result"] == "success"
    assert events[5].data == {"rating": 5, "comment": "师傅很快"}
    mark = events[-1]
    assert mark.code == EVENT_IMPORTED and mark.channel == "import"
    assert mark.data == {
        "source": SOURCE,
        "number": "HQ-2025-0001",
        "file": "orders.csv",
        "row": 2,
        "run": run_row.pk,
        "note": "导入自“旧后勤报修系统”，原工单号 HQ-2025-0001（orders.csv 第 2 行）",
    }

    second = order_for_source(SOURCE, "HQ-2025-0002")
    # Closed without a closing time: closed when completed; a failed repair; a landline.
    assert (second.status, second.result, second.rating) == ("closed", "failed", None)
    assert second.closed_at == second.completed_at == at("2025-09-01 15:30")
    assert second.reporter_phone == "02787654321" and second.channel == "phone"
    assert second.urgency == "high" and second.category.code == "pipe"
    assert timeline(second)[-1] == ("workorder.closed", "completed", "closed", SOURCE)

    rejected = order_for_source(SOURCE, "HQ-2025-0003")
    assert rejected.status == "rejected" and rejected.place == campus.room  # the full path
    assert rejected.closed_at is None and rejected.assignee is None
    assert timeline(rejected) == [
        ("workorder.submitted", "", "submitted", "张同学"),
        ("workorder.rejected", "submitted", "rejected", SOURCE),
    ]
    ended = rejected.events.get(code="workorder.rejected")
    assert ended.created_at == at("2025-09-02 15:00")
    assert ended.data == {"reason": "属于物业维修范围"}

    cancelled = order_for_source(SOURCE, "HQ-2025-0004")
    assert cancelled.status == "cancelled" and cancelled.channel == "phone"  # the default
    assert timeline(cancelled)[-1] == ("workorder.cancelled", "accepted", "cancelled", SOURCE)

    waiting = order_for_source(SOURCE, "HQ-2025-0005")
    assert waiting.status == "completed" and waiting.closed_at is None  # within the 7 days
    assert waiting.channel == "walk_in"


def test_a_completion_older_than_the_confirmation_period_lands_closed_by_the_system(
    campus, settings
):
    settings.FEEDBACK_AUTO_CONFIRM_DAYS = 7
    with time_machine.travel(at("2025-10-01 12:00"), tick=False):
        out, _err = run(EXAMPLES / "orders.csv", EXAMPLES / "mapping.toml")
    order = order_for_source(SOURCE, "HQ-2025-0005")
    assert order.status == "closed" and order.rating is None
    assert order.closed_at == at("2025-09-11 17:50")  # completed + 7 days
    confirmed = order.events.get(code="workorder.confirmed")
    assert confirmed.data == {"rating": None, "comment": "", "auto": True}
    assert confirmed.actor_label == "系统"
    assert "其中 1 张已完成的工单超过自动确认期限" in out
    assert ImportRun.objects.get().auto_confirmed == 1


def test_phones_are_stored_as_intake_stores_them(campus):
    run(EXAMPLES / "orders.csv", EXAMPLES / "mapping.toml")
    order = order_for_source(SOURCE, "HQ-2025-0001")
    with connection.cursor() as cursor:
        cursor.execute("SELECT reporter_phone FROM workorders_workorder WHERE id = %s", [order.pk])
        (stored,) = cursor.fetchone()
    assert stored.startswith("v1:") and "13800005555" not in stored  # encrypted at rest
    assert order.reporter_phone == "13800005555"
    assert order.reporter_phone_index == blind_index("13800005555")
    assert order.masked_phone == "138****5555"
    # Found by phone like any other order (IN9's caller history uses the blind index).
    assert WorkOrder.objects.filter(reporter_phone_index=blind_index("13800005555")).count() == 1


def test_numbers_and_tokens_are_valid_and_unique(campus, world):
    with time_machine.travel(at("2025-09-01 07:00"), tick=False):
        intake = world.order()  # reported through intake that day: the import goes on after it
    with time_machine.travel(at("2025-09-06 12:00"), tick=False):
        run(EXAMPLES / "orders.csv", EXAMPLES / "mapping.toml")
    assert intake.number == "BX-20250901-0001"
    imported = WorkOrder.objects.filter(idempotency_key__startswith="import:")
    numbers = sorted(imported.values_list("number", flat=True))
    assert numbers == [
        "BX-20250901-0002",
        "BX-20250901-0003",
        "BX-20250902-0001",
        "BX-20250903-0001",
        "BX-20250904-0001",
    ]
    assert NumberSequence.objects.get(day="2025-09-01").last == 3
    tokens = list(WorkOrder.objects.values_list("tracking_token", flat=True))
    assert len(set(tokens)) == len(tokens) == 6
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{32}", t) for t in tokens)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_bom_and_gb18030_files_give_the_same_orders(campus, tmp_path, encoding):
    with time_machine.travel(at("2025-09-06 12:00"), tick=False):
        run(EXAMPLES / "orders.csv", EXAMPLES / "mapping.toml")
    want = snapshot()
    WorkOrder.objects.all().delete()

    text = (EXAMPLES / "orders.csv").read_text(encoding="utf-8")
    source = tmp_path / "orders.csv"
    source.write_bytes(text.encode(encoding))
    mapping = (EXAMPLES / "mapping.toml").read_text(encoding="utf-8")
    if encoding == "gb18030":
        mapping = mapping.replace('encoding = "utf-8"', 'encoding = "gbk"')
    mapping_file = tmp_path / "mapping.toml"
    mapping_file.write_text(mapping, encoding="utf-8")
    with time_machine.travel(at("2025-09-06 12:00"), tick=False):
        out, _err = run(source, mapping_file)
    assert "导入 5，拒绝 0" in out
    assert snapshot() == want


def test_a_gbk_file_read_as_utf8_stops_with_a_hint(campus, tmp_path):
    text = (EXAMPLES / "orders.csv").read_text(encoding="utf-8")
    source = tmp_path / "orders.csv"
    source.write_bytes(text.encode("gb18030"))
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match='encoding = "gb18030"'):
        run(source, EXAMPLES / "mapping.toml")
    assert not WorkOrder.objects.exists() and not ImportRun.objects.exists()


def test_xlsx_with_date_cells_and_numeric_phones(campus, tmp_path):
    from openpyxl import Workbook

    with time_machine.travel(at("2025-09-06 12:00"), tick=False):
        run(EXAMPLES / "orders.csv", EXAMPLES / "mapping.toml")
    want = snapshot()
    WorkOrder.objects.all().delete()

    rows = read_csv(EXAMPLES / "orders.csv")
    header, data = rows[0], rows[1:]
    time_columns = {i for i, h in enumerate(header) if h.endswith("时间")}
    book = Workbook(write_only=True)
    sheet = book.create_sheet("工单")
    sheet.append(header)
    for row in data:
        cells = []
        for i, value in enumerate(row):
            if i in time_columns and value:
                # Excel keeps a date cell as a date, not as text.
                value = datetime.fromisoformat(value.replace("/", "-"))
            elif header[i] == "联系电话" and value.isdigit():
                value = int(value)  # a phone typed into a number cell
            cells.append(value or None)
        sheet.append(cells)
    path = tmp_path / "orders.xlsx"
    book.save(path)
    mapping = (EXAMPLES / "mapping.toml").read_text(encoding="utf-8")
    mapping_file = tmp_path / "mapping.toml"
    mapping_file.write_text(mapping.replace('encoding = "utf-8"', 'sheet = "工单"'), "utf-8")

    with time_machine.travel(at("2025-09-06 12:00"), tick=False):
        out, _err = run(path, mapping_file)
    assert "导入 5，拒绝 0" in out
    assert snapshot() == want


def test_the_mapping_in_the_docs_is_the_shipped_example(campus):
    text = DOCS.read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", text, re.S)
    shipped = (EXAMPLES / "mapping.toml").read_text(encoding="utf-8")
    assert shipped in blocks
    parse_mapping(blocks[0])  # and it is a valid mapping
    assert Event.objects.count() == 0
