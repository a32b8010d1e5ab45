"""Reading another system's export row by row: CSV (UTF-8 with or without BOM, GB18030/GBK)
and Excel .xlsx (openpyxl in read-only mode). Nothing here holds the file or its rows in
memory: rows are yielded one at a time with their row number (the header is row 1, as a
spreadsheet shows it)."""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from repairhub.workorders.errors import InvalidInput

from .mapping import Mapping

CHUNK = 1 << 20
SNIFF = 1 << 16
XLSX = ".xlsx"
CSV_SUFFIXES = (".csv", ".txt", ".tsv")


@dataclass(frozen=True)
class FileFacts:
    name: str
    size: int
    digest: str  # SHA-256 of the bytes: the same file is recognised whatever its name


def file_facts(path: Path) -> FileFacts:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return FileFacts(path.name, size, digest.hexdigest())


@dataclass
class Rows:
    """The header, the data rows as (row number, cells), and how far the reading is."""

    header: list[str]
    rows: Iterator[tuple[int, list[Any]]]
    position: Callable[[], int]  # bytes (CSV) or rows (xlsx) read so far
    total: int | None  # the same unit for the whole file, when known


def kind_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == XLSX:
        return "xlsx"
    if suffix in CSV_SUFFIXES:
        return "csv"
    raise InvalidInput(
        _("不支持的文件类型“%(suffix)s”：请导入 CSV（.csv）或 Excel（.xlsx）文件。")
        % {"suffix": path.suffix or path.name},
        code="file",
    )


@contextmanager
def read_rows(path: Path, mapping: Mapping) -> Iterator[Rows]:
    if kind_of(path) == "xlsx":
        with _xlsx(path, mapping) as rows:
            yield rows
    else:
        with _csv(path, mapping) as rows:
            yield rows


def _check_encoding(path: Path, encoding: str, name: str) -> None:
    """Refuse a file that is plainly not in the mapping's encoding before reading a row; a
    stray bad byte later only rejects its own row."""
    with path.open("rb") as f:
        head = f.read(SNIFF)
    try:
        codecs.getincrementaldecoder(encoding)().decode(head, final=len(head) < SNIFF)
    except UnicodeDecodeError:
        hint = "gb18030" if encoding.startswith("utf") else "utf-8"
        raise InvalidInput(
            _(
                "文件开头不是 %(encoding)s 编码的文字。请在映射文件的 [source] 中设置 "
                'encoding（例如 encoding = "%(hint)s"）。'
            )
            % {"encoding": name, "hint": hint},
            code="encoding",
        ) from None


@contextmanager
def _csv(path: Path, mapping: Mapping) -> Iterator[Rows]:
    _check_encoding(path, mapping.encoding, mapping.encoding_name)
    size = path.stat().st_size
    # errors="replace": an undecodable byte becomes U+FFFD, and the row holding it is rejected.
    with path.open(encoding=mapping.encoding, errors="replace", newline="") as f:
        reader = csv.reader(f, delimiter=mapping.delimiter)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            header = []
        except csv.Error as exc:
            raise InvalidInput(
                _("无法读取文件表头：%(error)s") % {"error": exc}, code="file"
            ) from None

        def rows() -> Iterator[tuple[int, list[Any]]]:
            number = 1
            while True:
                number += 1
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    # A malformed record (a NUL byte, an unclosed quote at the end) is one
                    # rejected row, not the end of the import.
                    yield number, [CsvError(str(exc))]
                    continue
                yield number, row

        yield Rows(header, rows(), f.buffer.tell, size)


class CsvError(str):
    """A record the CSV reader could not parse (its message stands in for the cells)."""


@contextmanager
def _xlsx(path: Path, mapping: Mapping) -> Iterator[Rows]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise InvalidInput(
            _("无法打开 Excel 文件：%(error)s") % {"error": exc}, code="file"
        ) from None
    try:
        if mapping.sheet:
            if mapping.sheet not in book.sheetnames:
                raise InvalidInput(
                    _("工作簿中没有名为“%(sheet)s”的工作表，现有：%(sheets)s。")
                    % {"sheet": mapping.sheet, "sheets": _("、").join(book.sheetnames)},
                    code="mapping",
                )
            sheet = book[mapping.sheet]
        else:
            sheet = book.worksheets[0]
        total = sheet.max_row  # from the file's own dimension record, when it has one
        # Some exporters write a wrong dimension; without it every row is read.
        sheet.reset_dimensions()
        iterator = sheet.iter_rows(values_only=True)
        first = next(iterator, None) or ()
        header = [cell_text(c) for c in first]
        state = {"row": 1}

        def rows() -> Iterator[tuple[int, list[Any]]]:
            for number, row in enumerate(iterator, start=2):
                state["row"] = number
                yield number, list(row)

        yield Rows(header, rows(), lambda: state["row"], total)
    finally:
        book.close()


def cell_text(value: Any) -> str:
    """A cell as the text a person sees: 13800001111 not 13800001111.0, dates in ISO."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return str(value).strip()
