"""Reports written out: Excel (openpyxl) and PDF (ReportLab), from a `reports.Report`.

    exports.to_xlsx(report, stream)   # one sheet per section
    exports.to_pdf(report, stream)    # one titled table per section, A4 landscape

Both take any writable binary stream (a file, BytesIO, an HTTP response) and write the report's
sections as they are: the figures were computed by the database (reports.build), nothing here
queries or loops over orders.

Excel: the workbook is written in openpyxl's write-only mode (rows stream to the file; memory
stays flat however long a sheet); each sheet has a bold header row that stays frozen, column
widths fitted to Chinese text, numbers as numbers — counts as integers, durations in hours with
two decimals, rates as fractions shown as percentages, days as dates — and the section's note
below the table.

PDF: the built-in CJK CID font STSong-Light (Adobe's Asian font pack, which every PDF reader
has), so Chinese needs no font file; tables split over pages and repeat their header row.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import BinaryIO
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .reports import Report, Section

# --- Excel ---------------------------------------------------------------------------------------

NUMBER_FORMATS = {
    "float": "0.00",
    "hours": "0.00",
    "rate": "0.0%",
    "date": "yyyy-mm-dd",
    "month": "yyyy-mm",
}
HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")
HEADER_FONT = Font(bold=True)
NOTE_FONT = Font(italic=True, color="666666")
MAX_WIDTH = 60
SHEET_NAME_CHARS = 31
FORBIDDEN = str.maketrans({c: "" for c in "[]:*?/\\"})


def text_width(text: str) -> int:
    """Characters as Excel counts them: a Chinese character takes two."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def display(value, kind: str) -> str:
    """A value as the PDF shows it (and as wide as Excel shows it)."""
    if value is None or value == "":
        return "—"
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind in ("float", "hours"):
        return f"{value:.2f}"
    if kind == "month" and isinstance(value, date):
        return value.strftime("%Y-%m")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _widths(section: Section) -> list[int]:
    widths = []
    for i, col in enumerate(section.columns):
        if col.width:
            widths.append(col.width)
            continue
        longest = text_width(col.label)
        for r, row in enumerate(section.rows):
            longest = max(longest, text_width(display(row[i], section.kind_of(col, r))))
        widths.append(min(longest + 2, MAX_WIDTH))
    return widths


def _sheet_name(title: str, taken: set[str]) -> str:
    base = title.translate(FORBIDDEN)[:SHEET_NAME_CHARS] or "Sheet"
    name, n = base, 2
    while name in taken:
        suffix = f" {n}"
        name, n = base[: SHEET_NAME_CHARS - len(suffix)] + suffix, n + 1
    taken.add(name)
    return name


def _cell(ws, value, kind: str):
    if value is None or value == "":
        return None
    fmt = NUMBER_FORMATS.get(kind)
    if fmt is None:
        return value
    cell = WriteOnlyCell(ws, value=value)
    cell.number_format = fmt
    return cell


def _write_sheet(wb: Workbook, section: Section, taken: set[str]) -> None:
    ws = wb.create_sheet(title=_sheet_name(section.title, taken))
    # Write-only sheets take their layout before the first row.
    for i, width in enumerate(_widths(section), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    header = []
    for col in section.columns:
        cell = WriteOnlyCell(ws, value=col.label)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        header.append(cell)
    ws.append(header)
    for r, row in enumerate(section.rows):
        ws.append(
            [
                _cell(ws, v, section.kind_of(col, r))
                for col, v in zip(section.columns, row, strict=True)
            ]
        )
    if section.note:
        ws.append([])
        note = WriteOnlyCell(ws, value=section.note)
        note.font = NOTE_FONT
        ws.append([note])


def to_xlsx(report: Report, stream: BinaryIO) -> None:
    """Write the report as an .xlsx workbook, one sheet per section."""
    wb = Workbook(write_only=True)
    wb.properties.title = report.title
    wb.properties.creator = _("报修云")
    taken: set[str] = set()
    for section in report.sections:
        _write_sheet(wb, section, taken)
    wb.save(stream)


# --- PDF -----------------------------------------------------------------------------------------

CJK_FONT = "STSong-Light"
PAGE = landscape(A4)
MARGIN = 12 * mm
BODY_SIZE = 8
PADDING = 14  # points of cell padding (6 + 6 by default) and a little air
HEADER_MAX = 72  # a header wider than this wraps instead of widening its column


@cache
def register_font() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    return CJK_FONT


@cache
def _styles() -> dict[str, ParagraphStyle]:
    font = register_font()
    base = ParagraphStyle("body", fontName=font, fontSize=BODY_SIZE, leading=BODY_SIZE + 2)
    return {
        "title": ParagraphStyle("title", base, fontSize=16, leading=22, spaceAfter=4),
        "h2": ParagraphStyle("h2", base, fontSize=11, leading=15, spaceBefore=8, spaceAfter=4),
        "note": ParagraphStyle("note", base, fontSize=7, leading=9, textColor=colors.grey),
        "cell": ParagraphStyle("cell", base, wordWrap="CJK"),
        "num": ParagraphStyle("num", base, alignment=TA_RIGHT),
        "head": ParagraphStyle("head", base, wordWrap="CJK", textColor=colors.white),
    }


def _numeric(kind: str) -> bool:
    return kind in ("int", "float", "hours", "rate")


def _table(section: Section, width: float) -> Table:
    font, styles = register_font(), _styles()
    texts = [
        [display(v, section.kind_of(col, r)) for col, v in zip(section.columns, row, strict=True)]
        for r, row in enumerate(section.rows)
    ]
    natural = []
    for i, col in enumerate(section.columns):
        head = min(pdfmetrics.stringWidth(col.label, font, BODY_SIZE), HEADER_MAX)
        body = max((pdfmetrics.stringWidth(t[i], font, BODY_SIZE) for t in texts), default=0)
        natural.append(max(head, body, 24) + PADDING)
    scale = min(1.0, width / sum(natural))
    widths = [w * scale for w in natural]
    data = [[Paragraph(escape(c.label), styles["head"]) for c in section.columns]]
    for r, row in enumerate(texts):
        cells = []
        for i, col in enumerate(section.columns):
            kind = section.kind_of(col, r)
            # Text wraps (long place names); numbers stay on one line, right-aligned.
            cells.append(row[i] if _numeric(kind) else Paragraph(escape(row[i]), styles["cell"]))
        data.append(cells)
    table = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    style = [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("FONTSIZE", (0, 0), (-1, -1), BODY_SIZE),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#3B5B7F")),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#B0B8C4")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#F3F6F9")]),
    ]
    for i, col in enumerate(section.columns):
        if col.kind != "text":
            style.append(("ALIGN", (i, 1), (i, -1), "RIGHT"))
    table.setStyle(TableStyle(style))
    return table


def _footer(title: str):
    def draw(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(register_font(), 7)
        canvas.setFillColor(colors.grey)
        canvas.drawString(MARGIN, MARGIN / 2, title)
        canvas.drawRightString(
            PAGE[0] - MARGIN, MARGIN / 2, _("第 %(page)d 页") % {"page": doc.page}
        )
        canvas.restoreState()

    return draw


def to_pdf(report: Report, stream: BinaryIO) -> None:
    """Write the report as an A4 landscape PDF: the title, then each section's table."""
    styles = _styles()
    doc = SimpleDocTemplate(
        stream,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=report.title,
        author=_("报修云"),
        creator="RepairHub",
    )
    story: list = [Paragraph(escape(report.title), styles["title"])]
    for section in report.sections:
        story.append(Paragraph(escape(section.title), styles["h2"]))
        if section.rows:
            story.append(_table(section, doc.width))
        else:
            story.append(Paragraph(escape(_("本期没有数据。")), styles["cell"]))
        if section.note:
            story += [Spacer(1, 2), Paragraph(escape(section.note), styles["note"])]
    footer = _footer(report.title)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
