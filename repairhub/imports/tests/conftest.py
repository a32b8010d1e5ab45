"""Fixtures for import tests: the personas' campus plus a water category, files written to a
temporary folder, and the command run the way an admin runs it."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import call_command

from repairhub.testing.personas import make_category

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture
def campus(world):
    """World (灯具 under 水电, room 东校区/3号楼/2层/201, technician 13900003333) and 水管."""
    from repairhub.workorders.models import Category

    water, _ = Category.objects.get_or_create(code="water", defaults={"name": "给排水"})
    make_category("pipe", parent=water, name="水管")
    return world


def write_csv(path: Path, header: list[str], rows: list[list], *, encoding="utf-8") -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def run(file: Path, mapping: Path, *args: str) -> tuple[str, str]:
    """`repairhub import_orders FILE --mapping MAPPING ARGS`; returns (stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_orders", str(file), "--mapping", str(mapping), *args, stdout=out, stderr=err
    )
    return out.getvalue(), err.getvalue()


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


# A mapping that names every field by code (the example mapping uses names and value maps).
MAPPING = """
[source]
name = "测试系统"
date_format = "%Y-%m-%d %H:%M"

[fields]
number = "编号"
reported_at = "报修时间"
accepted_at = "受理时间"
dispatched_at = "派工时间"
acknowledged_at = "接单时间"
arrived_at = "到场时间"
completed_at = "完成时间"
closed_at = "关闭时间"
due_at = "时限"
reporter_name = "报修人"
reporter_phone = "电话"
description = "描述"
address = "地址"
rating = "评分"
result = "结果"
urgency = "紧急"
channel = "渠道"
status = "状态"
category = { column = "类别", match = "code" }
place = { column = "地点", match = "code" }
technician = { column = "维修工", match = "username" }
dispatcher = { column = "派工人", match = "username" }
agent = { column = "值班员", match = "username" }
"""
HEADER = [
    "编号",
    "报修时间",
    "受理时间",
    "派工时间",
    "接单时间",
    "到场时间",
    "完成时间",
    "关闭时间",
    "时限",
    "报修人",
    "电话",
    "描述",
    "地址",
    "评分",
    "结果",
    "紧急",
    "渠道",
    "状态",
    "类别",
    "地点",
    "维修工",
    "派工人",
    "值班员",
]


def closed_row(number: str = "T-1", **changes: str) -> dict[str, str]:
    """A closed, rated order of 2026-03-02 (local time) at E03-201 repaired by `technician`."""
    row = {
        "编号": number,
        "报修时间": "2026-03-02 08:00",
        "受理时间": "2026-03-02 08:10",
        "派工时间": "2026-03-02 08:30",
        "接单时间": "2026-03-02 08:40",
        "到场时间": "2026-03-02 09:00",
        "完成时间": "2026-03-02 10:00",
        "关闭时间": "2026-03-03 09:00",
        "时限": "",
        "报修人": "张三",
        "电话": "13800001234",
        "描述": "灯管不亮",
        "地址": "",
        "评分": "5",
        "结果": "success",
        "紧急": "",
        "渠道": "web",
        "状态": "closed",
        "类别": "lamp",
        "地点": "E03-201",
        "维修工": "technician",
        "派工人": "dispatcher",
        "值班员": "",
    }
    row.update(changes)
    return row


def write_orders(path: Path, rows: list[dict[str, str]], *, encoding="utf-8") -> Path:
    return write_csv(
        path, HEADER, [[r.get(h, "") for h in HEADER] for r in rows], encoding=encoding
    )


@pytest.fixture
def mapping_file(tmp_path) -> Path:
    path = tmp_path / "mapping.toml"
    path.write_text(MAPPING, encoding="utf-8")
    return path
