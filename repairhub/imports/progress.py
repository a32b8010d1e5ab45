"""The progress line on stderr: a bar when the size is known, rows, rows/s, rejected.

On a terminal it redraws one line several times a second; into a file or a pipe it writes a
line every few seconds, so a log of a long import stays readable.
"""

from __future__ import annotations

import time
from typing import TextIO

from django.utils.translation import gettext as _

from .services import Report

WIDTH = 24


class ProgressBar:
    def __init__(self, stream: TextIO, *, interval: float | None = None) -> None:
        self.stream = stream
        isatty = getattr(stream, "isatty", None)
        self.tty = bool(isatty and isatty())
        self.interval = interval if interval is not None else (0.2 if self.tty else 5.0)
        self.last = 0.0
        self.drawn: str | None = None

    def __call__(self, report: Report) -> None:
        now = time.monotonic()
        if now - self.last >= self.interval:
            self.last = now
            self.draw(report)

    def line(self, report: Report) -> str:
        c = report.counts
        parts = []
        if report.total:
            share = min(report.position / report.total, 1.0)
            filled = int(share * WIDTH)
            parts.append("[" + "#" * filled + "-" * (WIDTH - filled) + f"] {share:6.1%}")
        parts.append(
            _(
                "%(rows)s 行  %(rate)s 行/秒  导入 %(accepted)s  拒绝 %(rejected)s  已存在 %(skipped)s"
            )
            % {
                "rows": f"{c.rows:,}",
                "rate": f"{report.rows_per_second:,.0f}",
                "accepted": f"{c.accepted:,}",
                "rejected": f"{c.rejected:,}",
                "skipped": f"{c.skipped:,}",
            }
        )
        return "  ".join(parts)

    def draw(self, report: Report) -> None:
        text = self.line(report)
        if text == self.drawn:
            return
        if self.tty:
            self.stream.write("\r" + text + "\x1b[K")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self.drawn = text

    def close(self, report: Report | None = None) -> None:
        """Draw the last state (whatever the interval) and end the line."""
        if report is not None:
            self.draw(report)
        if self.tty and self.drawn:
            self.stream.write("\n")
            self.stream.flush()
