"""The progress line: a bar and figures redrawn in place on a terminal, plain lines into a
log, and the last state always shown."""

from __future__ import annotations

import io

from repairhub.imports.mapping import parse_mapping
from repairhub.imports.progress import ProgressBar
from repairhub.imports.services import Counts, Report
from repairhub.imports.sources import FileFacts

from .conftest import MAPPING


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def report(rows: int, position: int, total: int | None) -> Report:
    r = Report(FileFacts("o.csv", 1000, "0" * 64), parse_mapping(MAPPING), dry_run=False)
    r.counts = Counts(rows=rows, accepted=rows - 3, rejected=2, skipped=1)
    r.position, r.total, r.seconds = position, total, 2.0
    return r


def test_on_a_terminal_the_bar_is_redrawn_in_place():
    out = Terminal()
    bar = ProgressBar(out, interval=0)
    bar(report(1000, 250, 1000))
    bar(report(2000, 500, 1000))
    bar.close(report(4000, 1000, 1000))
    frames = out.getvalue().split("\r")[1:]
    assert frames[0] == (
        "[######------------------]  25.0%  1,000 行  500 行/秒  导入 997  拒绝 2  已存在 1\x1b[K"
    )
    assert frames[1].startswith("[############------------]  50.0%  2,000 行  1,000 行/秒")
    assert frames[2].startswith("[########################] 100.0%  4,000 行  2,000 行/秒")
    assert out.getvalue().endswith("\n")


def test_into_a_log_it_writes_a_line_now_and_then():
    out = io.StringIO()
    bar = ProgressBar(out)  # every 5 seconds when not a terminal
    bar(report(1000, 100, None))
    bar(report(2000, 200, None))  # too soon: not written
    bar.close(report(3000, 300, None))
    assert out.getvalue().splitlines() == [
        "1,000 行  500 行/秒  导入 997  拒绝 2  已存在 1",
        "3,000 行  1,500 行/秒  导入 2,997  拒绝 2  已存在 1",
    ]
