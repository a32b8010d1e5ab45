"""Excel and PDF: the workbook read back with openpyxl holds the queries' figures cell by cell,
as numbers; the PDF's text (pdftotext) is the report's Chinese."""

from __future__ import annotations

import io
import subprocess
from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from repairhub.analytics import exports, queries, rankings, reports
from repairhub.analytics.periods import Filters, Grain, Period

MARCH = Period(date(2026, 3, 1), date(2026, 3, 31), Grain.DAY)


@pytest.fixture
def march(at_now):
    return reports.build("monthly", "2026-03", Filters())


def workbook(report):
    buf = io.BytesIO()
    exports.to_xlsx(report, buf)
    buf.seek(0)
    return load_workbook(buf)


def values(ws) -> list[list]:
    return [list(row) for row in ws.iter_rows(values_only=True)]


def test_one_sheet_per_section_with_a_frozen_chinese_header(march):
    wb = workbook(march)

    assert wb.sheetnames == [
        "报表信息",
        "概要",
        "按日",
        "报修量对比",
        "积压",
        "故障类型",
        "维修效率排行",
        "派工效率排行",
        "满意度排行",
        "值班员工作量",
        "维修人员工作量",
    ]
    for section in march.sections:
        ws = wb[section.title]
        assert ws.freeze_panes == "A2", section.title
        header = [c.value for c in ws[1]]
        assert header == [c.label for c in section.columns]
        assert all(c.font.bold for c in ws[1])
        for i in range(len(section.columns)):
            letter = chr(ord("A") + i)
            assert ws.column_dimensions[letter].width >= 6, (section.title, letter)
    assert wb.properties.title == "报修月报（2026年3月）"


def test_fault_types_sheet_is_the_queries_figures_cell_by_cell(march):
    ws = workbook(march)["故障类型"]

    faults = queries.fault_types(MARCH, Filters())
    want = [
        [
            r["name"],
            r["reported"],
            r["completed"],
            r["success_rate"],
            r["mean_hours"],
            r["median_hours"],
            r["longest_hours"],
        ]
        for r in faults["rows"]
    ]
    t = faults["total"]
    want.append(
        [
            "合计",
            t["reported"],
            t["completed"],
            None,
            t["mean_hours"],
            t["median_hours"],
            t["longest_hours"],
        ]
    )
    rows = values(ws)
    assert rows[1 : 1 + len(want)] == want
    assert rows[len(want) + 2] == [march.section("faults").note, None, None, None, None, None, None]
    first = ws[2]
    assert isinstance(first[1].value, int) and first[1].number_format == "General"
    assert isinstance(first[4].value, float) and first[4].number_format == "0.00"
    assert first[3].number_format == "0.0%"


def test_ranking_and_summary_sheets_hold_numbers_not_text(march):
    wb = workbook(march)

    eff = rankings.technician_efficiency(MARCH, Filters())
    ranked = values(wb["维修效率排行"])[1 : 1 + len(eff.ranked)]
    assert ranked == [
        [
            r["rank"],
            r["name"],
            r["username"],
            r["orders"],
            r["mean_hours"],
            r["with_deadline"],
            r["delays"],
            None,
        ]
        for r in eff.ranked
    ]
    summary = wb["概要"]
    dash = queries.dashboard(MARCH, Filters())
    cells = {row[0].value: row for row in summary.iter_rows(min_row=2, max_row=12)}
    assert cells["报修量"][1].value == dash["summary"]["reported"]
    assert cells["按时率"][1].value == dash["on_time"]["rate"]
    assert cells["按时率"][1].number_format == "0.0%"
    assert cells["平均维修时长（小时）"][1].number_format == "0.00"
    assert cells["当前积压（未完结）"][2].value is None
    days = wb["按日"]
    assert days["A2"].value == datetime(2026, 3, 1)
    assert days["A2"].number_format == "yyyy-mm-dd"
    assert days.max_row == 1 + 31


def test_annual_workbook_has_a_row_per_month(at_now):
    ws = workbook(reports.build("annual", "2026", Filters()))["按月"]

    months = [row[0] for row in values(ws)[1:13]]
    assert months == [datetime(2026, m, 1) for m in range(1, 13)]
    assert ws["A2"].number_format == "yyyy-mm"


def pdf_text(tmp_path, report) -> str:
    path = tmp_path / "report.pdf"
    with path.open("wb") as out:
        exports.to_pdf(report, out)
    assert path.read_bytes().startswith(b"%PDF-")
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    assert "STSong-Light" in fonts.stdout
    return done.stdout


def test_pdf_shows_the_chinese_title_sections_and_figures(tmp_path, march):
    text = pdf_text(tmp_path, march)

    flat = text.replace(" ", "")
    assert "报修月报（2026年3月）" in flat
    for title in ("概要", "故障类型", "维修效率排行", "值班员工作量"):
        assert title in flat
    top = queries.fault_types(MARCH, Filters())["rows"][0]
    line = next(ln for ln in text.splitlines() if ln.strip().startswith(top["name"]))
    assert str(top["reported"]) in line.split()
    assert "第1页" in flat


def test_special_reports_export_too(tmp_path, at_now):
    faults = reports.build("quarterly", "2026-Q1", Filters(), topic="faults")
    liked = reports.build("monthly", "2026-04", Filters(), topic="satisfaction")

    assert workbook(faults).sheetnames == ["报表信息", "按类别", "按地点", "按地点和类别"]
    assert workbook(liked).sheetnames == [
        "报表信息",
        "评分分布",
        "按日",
        "分项评分",
        "维修人员满意度",
        "值班员满意度",
    ]
    assert "故障原因专题季报（2026年第1季度）" in pdf_text(tmp_path, faults).replace(" ", "")
    assert "满意度专题月报（2026年4月）" in pdf_text(tmp_path, liked).replace(" ", "")
