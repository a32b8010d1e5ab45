"""Reading what imports left: the rejected rows of a run as a CSV to fix and load again, and
the order a source number became."""

from __future__ import annotations

import csv
import json
from typing import TextIO

from django.utils.translation import gettext as _

from repairhub.workorders.models import WorkOrder

from .convert import import_key
from .models import ImportRejection, ImportRun


def rejects_header(header: list[str]) -> list[str]:
    """Row number and reason first, then the file's own columns: with the same mapping the
    rejects file, once fixed, imports like the original (extra columns are ignored)."""
    return [_("导入行号"), _("拒绝原因"), *header]


def reject_line(row: int, reason: str, cells: list[str]) -> list[str]:
    return [str(row), reason, *cells]


def write_rejects(run: ImportRun, out: TextIO) -> int:
    """Every rejected row of the run, in file order, as CSV; returns how many."""
    writer = csv.writer(out)
    writer.writerow(rejects_header(run.header))
    count = 0
    rows = ImportRejection.objects.filter(run=run).order_by("row").iterator(chunk_size=2000)
    for rejection in rows:
        writer.writerow(reject_line(rejection.row, rejection.reason, json.loads(rejection.values)))
        count += 1
    return count


def order_for_source(source: str, number: str) -> WorkOrder | None:
    """The order imported for a source system's order number, if any."""
    return WorkOrder.objects.filter(idempotency_key=import_key(source, number)).first()
