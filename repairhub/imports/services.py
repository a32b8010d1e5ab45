"""Loading another system's exported orders as RepairHub history (docs/import.md): the only
write path of this app.

Why this bypasses `workorders.services.create_order` and the lifecycle: they take one order
through each step *now* and publish every event to the subscribers (receipts, SLA clocks,
automatic dispatch, follow-up visits). History must start no clock and tell nobody, and a
million orders one call at a time would take hours. So each batch of rows is written with a
few bulk INSERTs in one transaction — the orders as the lifecycle would have left them, their
events at the historic times, the rejected rows, the run's progress — and nothing else. The
checks the services make are made row by row in convert.py.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connections, reset_queries, router, transaction
from django.db.models import F
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone
from django.utils.translation import gettext as _

from repairhub.lib.crypto import blind_index, encrypt
from repairhub.workorders.errors import InvalidInput, StaleVersion
from repairhub.workorders.models import Event, NumberSequence, WorkOrder
from repairhub.workorders.states import EVENT_CODES, EVENT_SUBMITTED, Action, Status

from .convert import DESK, STEPS, Converter, Planned
from .lookups import Lookups, RowError
from .mapping import Mapping, check_header, parse_mapping
from .models import EVENT_IMPORTED, ImportRejection, ImportRun, RunStatus
from .sources import FileFacts, cell_text, file_facts, read_rows

DEFAULT_BATCH = 1000
LOOKUP_CHUNK = 100  # keys (or days) per look-up query
MAX_BATCH = 10_000
CHANNEL = "import"  # the channel of every event an import writes
COUNTED = ("accepted", "rejected", "skipped", "blank", "unassigned", "auto_confirmed")
# Distinct unknown technician values remembered for the report (their count is exact).
MAX_UNKNOWN_NAMES = 200


@dataclass
class Counts:
    rows: int = 0  # data rows read (empty ones included)
    accepted: int = 0
    rejected: int = 0
    skipped: int = 0  # already present: imported before, or earlier in this file
    blank: int = 0
    unassigned: int = 0  # imported without a technician: the source's name matched nobody
    auto_confirmed: int = 0

    def add(self, other: Counts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Report:
    """What an import did (or, dry, would do), for the command's summary."""

    file: FileFacts
    mapping: Mapping
    dry_run: bool
    run: ImportRun | None = None
    counts: Counts = field(default_factory=Counts)
    resumed_from: int = 0  # rows an earlier, interrupted run had committed
    seconds: float = 0.0  # this invocation
    position: int = 0
    total: int | None = None
    header: list[str] = field(default_factory=list)
    unknown_technicians: Counter = field(default_factory=Counter)
    examples: list[tuple[int, str, str]] = field(default_factory=list)  # first rejections

    @property
    def rows_per_second(self) -> float:
        done = self.counts.rows - self.resumed_from
        return done / self.seconds if self.seconds > 0 else 0.0


Progress = Callable[[Report], None]


# --- bulk rows -------------------------------------------------------------------------------


class Table:
    """Bulk inserts for one model: executemany of one INSERT (SQLite), COPY (PostgreSQL), each
    statement built once. Callers give values already in database form (Writer.when,
    Writer.json, encrypt) and the same columns in every row of a call; the columns they leave
    out get the field's default, so a column added to the model later is filled as the ORM
    would fill it."""

    def __init__(self, model, connection) -> None:
        self.quote = connection.ops.quote_name
        self.table = self.quote(model._meta.db_table)
        fields = [f for f in model._meta.local_concrete_fields if not isinstance(f, AutoFieldMixin)]
        self.columns = {f.attname: f.column for f in fields}
        self.defaults = {f.attname: f.get_db_prep_save(f.get_default(), connection) for f in fields}
        self.statements: dict[tuple[str, ...], tuple[str, str, Callable, tuple]] = {}

    def _statement(self, keys: tuple[str, ...]):
        found = self.statements.get(keys)
        if found is None:
            missing = tuple(n for n in self.columns if n not in keys)
            names = keys + missing
            columns = ", ".join(self.quote(self.columns[n]) for n in names)
            sql = "INSERT INTO {} ({}) VALUES ({})".format(
                self.table, columns, ", ".join(["%s"] * len(names))
            )
            getter = itemgetter(*keys)
            if len(keys) == 1:
                getter = lambda row, _get=getter: (_get(row),)  # noqa: E731
            found = (sql, columns, getter, tuple(self.defaults[n] for n in missing))
            self.statements[keys] = found
        return found

    def insert(self, cursor, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        sql, columns, getter, tail = self._statement(tuple(rows[0]))
        if cursor.db.vendor == "postgresql":
            # COPY: an INSERT per row costs PostgreSQL (and psycopg's client-side binding)
            # several times more.
            with (
                cursor.db.wrap_database_errors,
                cursor.cursor.copy(f"COPY {self.table} ({columns}) FROM STDIN") as copy,
            ):
                for r in rows:
                    copy.write_row(getter(r) + tail)
        else:
            cursor.executemany(sql, [getter(r) + tail for r in rows])


def _datetime_adapter(connection) -> Callable[[datetime], Any]:
    """The value the ORM would send for an aware datetime: naive UTC text on SQLite (as
    `adapt_datetimefield_value` makes it, without its per-call checks), the object elsewhere."""
    if connection.vendor == "sqlite":
        return lambda moment: str(moment.astimezone(UTC).replace(tzinfo=None))
    return connection.ops.adapt_datetimefield_value


class Writer:
    """Turns planned orders into rows of WorkOrder, Event and ImportRejection and inserts them."""

    def __init__(self, mapping: Mapping, lookups: Lookups, file: FileFacts) -> None:
        self.alias = router.db_for_write(WorkOrder)
        self.connection = connections[self.alias]
        ops = self.connection.ops
        self.when = _datetime_adapter(self.connection)
        self.json = lambda data: ops.adapt_json_value(data, None)
        self.orders = Table(WorkOrder, self.connection)
        self.events = Table(Event, self.connection)
        self.rejections = Table(ImportRejection, self.connection)
        quote = ops.quote_name
        self.key_sql = "SELECT {key}, {id} FROM {table} WHERE {key} IN ({marks})".format(
            key=quote("idempotency_key"),
            id=quote("id"),
            table=quote(WorkOrder._meta.db_table),
            marks=", ".join(["%s"] * LOOKUP_CHUNK),
        )
        self.mapping = mapping
        self.lookups = lookups
        self.file = file
        self.source_label = mapping.source[:80]
        self.system_label = _("系统")
        self.import_label = _("历史数据导入")
        self.no_reason = _("原系统未记录原因")
        self.mark_note = _("导入自“%(source)s”，原工单号 %(number)s（%(file)s 第 %(row)s 行）")

    def ids_of(self, keys: list[str]) -> dict[str, int]:
        """{import key: order id} of the keys already there."""
        found: dict[str, int] = {}
        with self.connection.cursor() as cursor:
            for part in _padded(keys):
                cursor.execute(self.key_sql, part)
                found.update(cursor.fetchall())
        return found

    def existing(self, keys: list[str]) -> set[str]:
        return set(self.ids_of(keys))

    def numbers(self, plans: list[Planned]) -> list[str]:
        """Human numbers of the days the orders were reported, from the per-day sequence
        intake uses: one upsert takes each day's share for the whole batch."""
        days: Counter = Counter(timezone.localdate(p.reported_at) for p in plans)
        first = _reserve(self.connection, days)
        prefix = settings.ORDER_NUMBER_PREFIX
        out = []
        for p in plans:
            day = timezone.localdate(p.reported_at)
            out.append(f"{prefix}-{day:%Y%m%d}-{first[day]:04d}")
            first[day] += 1
        return out

    def order_row(self, p: Planned, number: str) -> dict[str, Any]:
        t, when = p.times, self.when
        desk_agent = p.agent.id if p.agent is not None and p.channel in DESK else None
        return {
            "number": number,
            "status": p.status,
            "version": 1,
            "result": p.result,
            "category_id": p.category.id,
            "place_id": p.place_id,
            "address": encrypt(p.address),
            "description": p.description,
            "urgency": p.urgency,
            "channel": p.channel,
            "reporter_name": p.reporter_name,
            "reporter_phone": encrypt(p.phone),
            "reporter_phone_index": blind_index(p.phone),
            "tracking_token": WorkOrder.new_tracking_token(),
            "registered_by_id": desk_agent,
            "received_at": when(p.reported_at),
            "remarks": p.remarks,
            "assignee_id": p.technician.id if p.technician is not None else None,
            "completion_note": p.completion_note,
            "rating": p.rating,
            "rating_comment": p.rating_comment if p.rating is not None else "",
            "due_at": when(p.due_at) if p.due_at is not None else None,
            "idempotency_key": p.key,
            "created_at": when(p.reported_at),
            "updated_at": when(p.last_at),
            **{name: when(t[name]) if name in t else None for name in STEPS},
        }

    def event_rows(self, p: Planned, order_id: int, run_id: int | None, now) -> list[dict]:
        """The timeline the lifecycle would have written, for the steps the source has a time
        for (a step without one has no event), then the import's own mark."""
        t, when, js = p.times, self.when, self.json
        tech = p.technician
        out: list[dict] = []

        def add(code, before, after, at, data, actor=None, label=None):
            out.append(
                {
                    "order_id": order_id,
                    "code": code,
                    "actor_id": actor.id if actor is not None else None,
                    "actor_label": (actor.name if actor is not None else label or "")[:80],
                    "channel": CHANNEL,
                    "from_status": before,
                    "to_status": after,
                    "data": js(data),
                    "created_at": when(at),
                }
            )

        source = self.source_label
        submitted = {
            "channel": p.channel,
            "urgency": p.urgency,
            "category": p.category.code,
            "place": self.lookups.place_code_of.get(p.place_id, "") if p.place_id else "",
        }
        add(
            EVENT_SUBMITTED,
            "",
            Status.SUBMITTED,
            p.reported_at,
            submitted,
            p.agent,
            p.reporter_name,
        )
        status = Status(p.status)
        if "accepted_at" in t:
            add(
                _code(Action.ACCEPT),
                Status.SUBMITTED,
                Status.ACCEPTED,
                t["accepted_at"],
                {},
                label=source,
            )
        if "dispatched_at" in t:
            data = {"technician": tech.username, "technician_name": tech.name} if tech else {}
            add(
                _code(Action.DISPATCH),
                Status.ACCEPTED,
                Status.DISPATCHED,
                t["dispatched_at"],
                data,
                p.dispatcher,
                source,
            )
        if "acknowledged_at" in t:
            add(
                _code(Action.ACKNOWLEDGE),
                Status.DISPATCHED,
                Status.ACKNOWLEDGED,
                t["acknowledged_at"],
                {},
                tech,
                source,
            )
        if "arrived_at" in t:
            add(
                _code(Action.ARRIVE),
                Status.ACKNOWLEDGED,
                Status.IN_PROGRESS,
                t["arrived_at"],
                {"at": timezone.localtime(t["arrived_at"]).isoformat()},
                tech,
                source,
            )
        if "completed_at" in t:
            data = {"result": p.result, "note": p.completion_note, "suggestion": ""}
            add(
                _code(Action.COMPLETE),
                Status.IN_PROGRESS,
                Status.COMPLETED,
                t["completed_at"],
                data,
                tech,
                source,
            )
        if status is Status.CLOSED:
            if p.auto_confirmed_at is not None:
                # As feedback's automatic confirmation writes it: by the system, no rating.
                data = {"rating": None, "comment": "", "auto": True}
                add(
                    _code(Action.CONFIRM),
                    Status.COMPLETED,
                    Status.CLOSED,
                    t["closed_at"],
                    data,
                    label=self.system_label,
                )
            elif p.rating is not None:
                data = {"rating": p.rating, "comment": p.rating_comment}
                add(
                    _code(Action.CONFIRM),
                    Status.COMPLETED,
                    Status.CLOSED,
                    t["closed_at"],
                    data,
                    label=p.reporter_name,
                )
            else:
                add(
                    _code(Action.CLOSE),
                    Status.COMPLETED,
                    Status.CLOSED,
                    t["closed_at"],
                    {},
                    label=source,
                )
        elif status in (Status.REJECTED, Status.CANCELLED):
            action = Action.REJECT if status is Status.REJECTED else Action.CANCEL
            before = _state_before_end(t)
            reason = p.reason or self.no_reason
            at = p.ended_at or p.last_at
            add(_code(action), before, status, at, {"reason": reason}, label=source)
        mark = {
            "source": self.mapping.source,
            "number": p.number,
            "file": self.file.name,
            "row": p.row,
            # What the timeline shows (workorders' event_details reads "note").
            "note": self.mark_note
            % {
                "source": self.mapping.source,
                "number": p.number,
                "file": self.file.name,
                "row": p.row,
            },
        }
        if run_id is not None:
            mark["run"] = run_id
        if p.unknown_technician:
            mark["technician"] = p.unknown_technician
        add(EVENT_IMPORTED, status, status, now, mark, label=self.import_label)
        return out

    def write(self, plans: list[Planned], rejected: list[dict], run_id: int | None) -> None:
        """Insert one batch's orders, their events and its rejected rows (inside the caller's
        transaction)."""
        now = timezone.now()
        with self.connection.cursor() as cursor:
            if plans:
                numbers = self.numbers(plans)
                self.orders.insert(
                    cursor, [self.order_row(p, n) for p, n in zip(plans, numbers, strict=True)]
                )
                ids = self.ids_of([p.key for p in plans])
                events: list[dict] = []
                for p in plans:
                    events += self.event_rows(p, ids[p.key], run_id, now)
                self.events.insert(cursor, events)
            self.rejections.insert(cursor, rejected)


def _code(action: Action) -> str:
    return EVENT_CODES[action]


def _state_before_end(times: dict) -> str:
    """The state a rejected or cancelled order left: the last step it reached."""
    for name, state in (
        ("arrived_at", Status.IN_PROGRESS),
        ("acknowledged_at", Status.ACKNOWLEDGED),
        ("dispatched_at", Status.DISPATCHED),
        ("accepted_at", Status.ACCEPTED),
    ):
        if name in times:
            return state
    return Status.SUBMITTED


def _reserve(connection, days: Counter) -> dict:
    """Take `count` numbers of each day's sequence (an upsert per day); returns {day: first
    number}. The rows stay locked until the batch commits, as with intake's numbers."""
    quote = connection.ops.quote_name
    table = quote(NumberSequence._meta.db_table)
    day_col, last_col = quote("day"), quote("last")
    items = sorted(days.items())  # a fixed order: two writers lock the rows alike
    adapt = connection.ops.adapt_datefield_value
    found: dict = {}
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({day_col}, {last_col}) VALUES (%s, %s) "
            f"ON CONFLICT ({day_col}) DO UPDATE SET {last_col} = {table}.{last_col} + excluded.{last_col}",
            [(adapt(day), count) for day, count in items],
        )
        select = "SELECT {}, {} FROM {} WHERE {} IN ({})".format(
            day_col, last_col, table, day_col, ", ".join(["%s"] * LOOKUP_CHUNK)
        )
        for part in _padded([adapt(day) for day, _count in items]):
            cursor.execute(select, part)
            for day, last in cursor.fetchall():
                found[date.fromisoformat(str(day))] = last
    return {day: found[day] - count + 1 for day, count in items}


def _padded(values: list) -> Iterator[list]:
    """`values` in lists of exactly LOOKUP_CHUNK (the last one padded with repeats): one SQL
    text for every look-up, so SQLite's statement cache keeps one statement, not one per list
    length (each a few hundred KB, which looked like memory growing with the file)."""
    for i in range(0, len(values), LOOKUP_CHUNK):
        part = values[i : i + LOOKUP_CHUNK]
        yield part + [part[-1]] * (LOOKUP_CHUNK - len(part))


# --- dry runs ------------------------------------------------------------------------------


class SeenKeys:
    """Keys a dry run would have imported, on disk (a temporary SQLite file), so a dry run of
    a huge file stays as flat in memory as a real one and still spots repeated numbers."""

    def __init__(self) -> None:
        fd, self.path = tempfile.mkstemp(prefix="repairhub-import-", suffix=".sqlite3")
        os.close(fd)
        self.db = sqlite3.connect(self.path)
        self.db.execute("CREATE TABLE seen (key TEXT PRIMARY KEY) WITHOUT ROWID")

    def seen(self, keys: list[str]) -> set[str]:
        found: set[str] = set()
        sql = f"SELECT key FROM seen WHERE key IN ({','.join('?' * LOOKUP_CHUNK)})"
        for part in _padded(keys):
            found |= {r[0] for r in self.db.execute(sql, part)}
        return found

    def add(self, keys: Iterable[str]) -> None:
        self.db.executemany("INSERT OR IGNORE INTO seen VALUES (?)", [(k,) for k in keys])
        self.db.commit()

    def close(self) -> None:
        self.db.close()
        Path(self.path).unlink(missing_ok=True)


# --- the import ------------------------------------------------------------------------------


def load_mapping(path: Path) -> Mapping:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidInput(
            _("无法读取映射文件 %(path)s：%(error)s") % {"path": path, "error": exc.strerror},
            code="mapping",
        ) from None
    except UnicodeDecodeError:
        raise InvalidInput(_("映射文件必须是 UTF-8 编码的文本。"), code="mapping") from None
    return parse_mapping(text)


def _start(facts: FileFacts, mapping: Mapping, batch: int, header: list[str]) -> ImportRun:
    """The unfinished run of this file with this mapping (to resume), or a new one."""
    found = ImportRun.objects.filter(
        file_hash=facts.digest, mapping_hash=mapping.digest, status=RunStatus.RUNNING
    ).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return ImportRun.objects.create(
                source=mapping.source,
                file_name=facts.name[:255],
                file_hash=facts.digest,
                file_size=facts.size,
                mapping=mapping.text,
                mapping_hash=mapping.digest,
                header=header,
                batch_size=batch,
            )
    except IntegrityError:  # another process started the same import a moment ago
        return ImportRun.objects.get(
            file_hash=facts.digest, mapping_hash=mapping.digest, status=RunStatus.RUNNING
        )


def _chunks(rows: Iterator, size: int) -> Iterator[list]:
    while chunk := list(islice(rows, size)):
        yield chunk


def import_orders(
    path: Path,
    mapping: Mapping,
    *,
    dry_run: bool = False,
    batch: int = DEFAULT_BATCH,
    progress: Progress | None = None,
    rejects: Callable[[Report, dict], None] | None = None,
) -> Report:
    """Load the orders of an export file as history; returns what was done.

    Validated row by row: a bad row is rejected with its reason (kept on the run, and given
    to `rejects` in a dry run) and the good ones still load. An order already present (same
    source and source number) is skipped, never changed. Each batch commits alone, with the
    run's progress; running the same file with the same mapping again after an interruption
    continues after the last committed batch. `progress` is called after every batch.
    """
    if not 1 <= batch <= MAX_BATCH:
        raise InvalidInput(
            _("每批行数必须在 1 到 %(max)d 之间。") % {"max": MAX_BATCH}, field="batch"
        )
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(_("找不到要导入的文件：%(path)s") % {"path": path}, code="file")
    lookups = Lookups()
    lookups.check(mapping)
    facts = file_facts(path)
    report = Report(file=facts, mapping=mapping, dry_run=dry_run)
    with read_rows(path, mapping) as source:
        positions = check_header(mapping, source.header)
        convert = Converter(mapping, lookups, positions)
        writer = Writer(mapping, lookups, facts)
        report.total = source.total
        report.header = source.header
        run = None if dry_run else _start(facts, mapping, batch, source.header)
        report.run = run
        if run is not None and run.rows_done:
            report.resumed_from = run.rows_done
            _copy_counts(run, report.counts)
            # Rows an earlier run committed are read past, not looked at again.
            for _row in islice(source.rows, run.rows_done):
                pass
        seen = SeenKeys() if dry_run else None
        started = mark = time.monotonic()
        try:
            for chunk in _chunks(source.rows, batch):
                counts, plans, rejected = _prepare(chunk, convert, report)
                if dry_run:
                    fresh = _drop_present(plans, counts, writer.existing, seen.seen)
                    seen.add(p.key for p in fresh)
                    _tally(report, fresh, counts)
                    for r in rejected:
                        if rejects is not None:
                            rejects(report, r)
                else:
                    try:
                        with transaction.atomic(using=writer.alias):
                            fresh = _drop_present(plans, counts, writer.existing)
                            _tally(report, fresh, counts)
                            writer.write(fresh, [_rejection(run, r) for r in rejected], run.pk)
                            # The time since the last batch's update: reading, checking and
                            # writing this batch, and committing the one before.
                            now = time.monotonic()
                            _advance(run, counts, now - mark)
                            mark = now
                    except IntegrityError:
                        # Another import wrote one of these orders between the look-up and
                        # the insert; this batch is rolled back whole, the run can go on.
                        raise StaleVersion(
                            _(
                                "另一个导入同时写入了相同的工单，这一批没有写入。请再次运行同一命令继续。"
                            )
                        ) from None
                    reset_queries()  # DEBUG keeps every statement otherwise
                report.counts.add(counts)
                report.seconds = time.monotonic() - started
                report.position = source.position()
                if progress is not None:
                    progress(report)
        finally:
            if seen is not None:
                seen.close()
        report.seconds = time.monotonic() - started
        if run is not None:
            ImportRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
                status=RunStatus.FINISHED,
                finished_at=timezone.now(),
                updated_at=timezone.now(),
                seconds=F("seconds") + (time.monotonic() - mark),  # the last commit
            )
            run.refresh_from_db()
    return report


def _prepare(chunk, convert: Converter, report: Report):
    """Convert a batch of rows (outside any transaction: the database waits for nobody)."""
    counts = Counts(rows=len(chunk))
    plans: list[Planned] = []
    rejected: list[dict] = []
    for number, cells in chunk:
        try:
            plan = convert.convert(number, cells)
        except RowError as exc:
            counts.rejected += 1
            texts = [cell_text(c) for c in cells]
            rejected.append(
                {
                    "row": number,
                    "number": convert.number_of(cells),
                    "reason": str(exc),
                    "cells": texts,
                }
            )
            if len(report.examples) < 10:
                report.examples.append((number, convert.number_of(cells), str(exc)))
            continue
        if plan is None:
            counts.blank += 1
        else:
            plans.append(plan)
    return counts, plans, rejected


def _drop_present(plans: list[Planned], counts: Counts, *lookups) -> list[Planned]:
    """The plans whose order is not there yet; repeated source numbers count as present (the
    first row wins), wherever in the file the first one was."""
    keys = [p.key for p in plans]
    present: set[str] = set()
    for look in lookups:
        present |= look(keys)
    fresh, taken = [], set()
    for p in plans:
        if p.key in present or p.key in taken:
            counts.skipped += 1
            continue
        taken.add(p.key)
        fresh.append(p)
    return fresh


def _tally(report: Report, fresh: list[Planned], counts: Counts) -> None:
    for p in fresh:
        counts.accepted += 1
        if p.unknown_technician:
            counts.unassigned += 1
            names = report.unknown_technicians
            if p.unknown_technician in names or len(names) < MAX_UNKNOWN_NAMES:
                names[p.unknown_technician] += 1
        if p.auto_confirmed_at is not None:
            counts.auto_confirmed += 1


def _rejection(run: ImportRun, r: dict) -> dict:
    return {
        "run_id": run.pk,
        "row": r["row"],
        "number": r["number"],
        "reason": r["reason"],
        "values": encrypt(json.dumps(r["cells"], ensure_ascii=False)),
    }


def _advance(run: ImportRun, counts: Counts, seconds: float) -> None:
    """Move the run on by one batch, in the batch's transaction. The condition on rows_done
    makes a second process working on the same run fail instead of counting twice."""
    moved = ImportRun.objects.filter(pk=run.pk, rows_done=run.rows_done).update(
        rows_done=run.rows_done + counts.rows,
        seconds=F("seconds") + seconds,
        updated_at=timezone.now(),
        **{name: F(name) + getattr(counts, name) for name in COUNTED},
    )
    if moved != 1:
        raise StaleVersion(
            _("另一个进程正在导入同一个文件（导入记录 #%(id)s），请等它结束后再运行。")
            % {"id": run.pk}
        )
    run.rows_done += counts.rows


def _copy_counts(run: ImportRun, counts: Counts) -> None:
    counts.rows = run.rows_done
    for name in COUNTED:
        setattr(counts, name, getattr(run, name))
