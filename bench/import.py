"""History import: `repairhub import_orders` on a generated export — rows/s next to its floor,
and peak memory at two file sizes — on SQLite and PostgreSQL.

    .venv/bin/python bench/import.py            # full: 1,000,000 rows (memory also at 250,000)
    .venv/bin/python bench/import.py --quick    # 4,000 and 16,000 rows (mostly the two migrations)
    .venv/bin/python bench/import.py --db sqlite --rows 200000 --small 50000 --keep

For each database a fresh one is made — a SQLite file in a temporary REPAIRHUB_VAR, or the
PostgreSQL database `repairhub_bench_import` (made and dropped through psycopg) — migrated and
seeded with what a campus export names: 19 categories under 5 parents, 3 campuses × 8
buildings × 6 floors × 10 rooms, 30 technicians with phone numbers (`prepare`, a child with
Django). Both databases are prepared at the same time.

The export is generated here (seeded, deterministic): a CSV in the shape of
repairhub/imports/examples/orders.csv with Chinese headers and values — statuses from waiting
to closed with their times over three years, ratings, a few technicians the old system knew
and RepairHub does not, and about 0.5% bad rows (a bad date, an unknown category) that must be
rejected. Two files: SMALL and LARGE rows, with different order numbers.

- import: `manage.py import_orders FILE --mapping MAPPING.toml` (DEBUG=0, batch 1000) runs as
  a child, first on SMALL then on LARGE; its peak RSS comes from wait4(), its rows/s from the
  run's own record: rows ÷ seconds from reading the first row to the last commit (start-up,
  the file's hash and the look-ups excluded, as the floor has none of them).
- floor: the simplest program writing the same rows of LARGE into a twin of the freshly seeded
  database (a copy of the SQLite file; `CREATE DATABASE … TEMPLATE` on PostgreSQL): a bare loop
  over csv.reader that parses the times, encrypts the phone, computes its blind index, the
  number, token and key, and inserts each order and its events with executemany (SQLite) or
  COPY (PostgreSQL), one transaction per 1000 rows — no mapping, no validation, no ORM.

Memory is flat when LARGE's peak RSS is within 10% (or 16 MB, the larger) of SMALL's. The last
line printed is one JSON object of the key figures whose "ok" is true only when memory stayed
flat and every row was accounted for (imported + rejected = rows, rejected = the bad rows made)
on every database.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import hmac
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PG_DB = "repairhub_bench_import"
PG_FLOOR = "repairhub_bench_import_floor"
TZ = ZoneInfo("Asia/Shanghai")
BATCH = 1000
FLAT_RATIO = 1.10
FLAT_SLACK_KB = 16 * 1024
SOURCE = "旧后勤报修系统"

CATEGORIES = {
    "水电": ["灯具", "插座", "开关", "电路跳闸", "热水器"],
    "给排水": ["水管", "下水道", "水龙头", "马桶"],
    "门窗": ["门锁", "窗户", "玻璃"],
    "家具": ["床", "桌椅", "柜子"],
    "空调": ["不制冷", "空调漏水", "异响", "遥控器"],
}
CAMPUSES = ["东校区", "西校区", "南校区"]
BUILDINGS, FLOORS, ROOMS = 8, 6, 10
TECHNICIANS = 30
HEADER = [
    "单号",
    "报修时间",
    "报修人",
    "联系电话",
    "报修类别",
    "报修地点",
    "故障描述",
    "报修方式",
    "状态",
    "受理时间",
    "派工时间",
    "维修人员电话",
    "到场时间",
    "完工时间",
    "维修结果",
    "处理情况",
    "评价时间",
    "满意度",
    "评价内容",
    "紧急程度",
    "备注",
]
MAPPING = f"""
[source]
name = "{SOURCE}"
encoding = "utf-8"
time_zone = "Asia/Shanghai"
date_format = "%Y-%m-%d %H:%M:%S"

[fields]
number = "单号"
reported_at = "报修时间"
reporter_name = "报修人"
reporter_phone = "联系电话"
description = "故障描述"
accepted_at = "受理时间"
dispatched_at = "派工时间"
arrived_at = "到场时间"
completed_at = "完工时间"
closed_at = "评价时间"
completion_note = "处理情况"
rating_comment = "评价内容"
remarks = "备注"
reason = "备注"
category = {{ column = "报修类别", match = "name" }}
place = {{ column = "报修地点", match = "path" }}
technician = {{ column = "维修人员电话", match = "phone" }}

[fields.channel]
column = "报修方式"
default = "phone"
values = {{ "微信" = "web", "扫码" = "qr", "电话" = "phone", "窗口" = "walk_in" }}

[fields.status]
column = "状态"
values = {{ "待受理" = "submitted", "已受理" = "accepted", "已派单" = "dispatched", "维修中" = "in_progress", "已完工" = "completed", "已评价" = "closed", "不予受理" = "rejected", "已撤销" = "cancelled" }}

[fields.result]
column = "维修结果"
default = "success"
values = {{ "已修好" = "success", "未修好" = "failed" }}

[fields.rating]
column = "满意度"
values = {{ "非常满意" = 5, "满意" = 4, "一般" = 3, "不满意" = 2, "很不满意" = 1 }}

[fields.urgency]
column = "紧急程度"
values = {{ "普通" = "normal", "加急" = "high" }}
"""


class BenchError(RuntimeError):
    pass


_T0 = time.monotonic()


def log(message: str) -> None:
    print(f"[bench {time.monotonic() - _T0:6.1f}s] {message}", flush=True)


def tech_phone(i: int) -> str:
    return f"139{i:08d}"


# --- the export -------------------------------------------------------------------------------


def generate(path: Path, rows: int, *, prefix: str, seed: int, now: datetime) -> int:
    """Write the export; returns how many rows are bad on purpose (they must be rejected)."""
    rng = random.Random(seed)
    children = [c for kids in CATEGORIES.values() for c in kids]
    rooms = [
        f"{campus}/{b}号楼/{f}层/{f}{r:02d}"
        for campus in CAMPUSES
        for b in range(1, BUILDINGS + 1)
        for f in range(1, FLOORS + 1)
        for r in range(1, ROOMS + 1)
    ]
    surnames = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张"
    faults = ["灯管不亮", "水龙头漏水", "门锁坏了", "空调不制冷", "插座没电", "下水道堵塞"]
    channels = ["微信", "微信", "扫码", "电话", "窗口", ""]
    start = now - timedelta(days=3 * 365)
    span = int((now - timedelta(days=30) - start).total_seconds())
    fmt = "%Y-%m-%d %H:%M:%S"
    bad = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(HEADER)
        for i in range(rows):
            reported = (start + timedelta(seconds=rng.randrange(span))).astimezone(TZ)
            row = dict.fromkeys(HEADER, "")
            row["单号"] = f"{prefix}-{i:08d}"
            row["报修时间"] = reported.strftime(fmt)
            row["报修人"] = rng.choice(surnames) + rng.choice(["同学", "老师", "师傅"])
            row["联系电话"] = f"138{rng.randrange(10**8):08d}"
            row["报修类别"] = rng.choice(children)
            row["报修地点"] = rng.choice(rooms)
            row["故障描述"] = rng.choice(faults) + f"，第 {rng.randrange(1, 9)} 次报修"
            row["报修方式"] = rng.choice(channels)
            row["紧急程度"] = "加急" if rng.random() < 0.1 else "普通"
            fate = rng.random()
            t = reported
            if fate < 0.02:
                row["状态"] = "待受理"
            elif fate < 0.06:
                row["状态"] = "不予受理"
                row["评价时间"] = (t + timedelta(minutes=rng.randrange(5, 240))).strftime(fmt)
                row["备注"] = "不属于维修范围"
            elif fate < 0.09:
                row["状态"] = "已撤销"
                row["评价时间"] = (t + timedelta(minutes=rng.randrange(5, 240))).strftime(fmt)
                row["备注"] = "重复报修"
            else:
                t += timedelta(minutes=rng.randrange(2, 240))
                row["受理时间"] = t.strftime(fmt)
                row["状态"] = "已受理"
                if fate >= 0.11:
                    t += timedelta(minutes=rng.randrange(3, 600))
                    row["派工时间"] = t.strftime(fmt)
                    # 3% of the technicians the old system names are unknown to RepairHub:
                    # finished orders load without one (an open one would be refused).
                    known = rng.random() >= 0.03
                    tech = rng.randrange(TECHNICIANS)
                    row["维修人员电话"] = tech_phone(tech) if known else "13700000000"
                    if fate < 0.15 and known:
                        row["状态"] = "已派单"
                        if rng.random() < 0.5:
                            row["状态"] = "维修中"
                            t += timedelta(minutes=rng.randrange(10, 300))
                            row["到场时间"] = t.strftime(fmt)
                    else:
                        if rng.random() < 0.9:
                            t += timedelta(minutes=rng.randrange(10, 300))
                            row["到场时间"] = t.strftime(fmt)
                        t += timedelta(minutes=rng.randrange(15, 2 * 24 * 60))
                        row["完工时间"] = t.strftime(fmt)
                        ok = rng.random() < 0.88
                        row["维修结果"] = "已修好" if ok else "未修好"
                        row["处理情况"] = "已处理" if ok else "需更换配件"
                        row["状态"] = "已完工"
                        if rng.random() < 0.85:
                            t += timedelta(minutes=rng.randrange(30, 3 * 24 * 60))
                            row["状态"] = "已评价"
                            row["评价时间"] = t.strftime(fmt)
                            if rng.random() < 0.6:
                                row["满意度"] = rng.choice(
                                    ["非常满意", "非常满意", "满意", "满意", "一般", "不满意"]
                                )
                                row["评价内容"] = "谢谢师傅"
            if rng.random() < 0.005:
                bad += 1
                if rng.random() < 0.5:
                    row["报修时间"] = "2024-02-30 25:61:00"
                else:
                    row["报修类别"] = "不存在的类别"
            out.writerow([row[h] for h in HEADER])
    return bad


# --- children ---------------------------------------------------------------------------------


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "repairhub.settings")
    import django

    django.setup()


def child_prepare() -> dict:
    """Migrate and seed the fresh database the way an admin would set it up."""
    _django()
    from django.core.management import call_command

    from repairhub.accounts.roles import Role
    from repairhub.accounts.services import create_user
    from repairhub.places.models import Place, PlaceKind
    from repairhub.workorders.models import Category

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    n = 0
    for parent_name, kids in CATEGORIES.items():
        n += 1
        parent = Category.objects.create(code=f"c{n}", name=parent_name)
        for kid in kids:
            n += 1
            Category.objects.create(code=f"c{n}", name=kid, parent=parent)
    # The tree level by level in bulk (Place.save() would cost a query per room); path and
    # full name as Place.save() writes them.
    campuses = Place.objects.bulk_create(
        Place(kind=PlaceKind.CAMPUS, code=f"K{c}", name=name, path=f"K{c}", full_name=name)
        for c, name in enumerate(CAMPUSES, start=1)
    )
    buildings = Place.objects.bulk_create(
        _child(PlaceKind.BUILDING, campus, f"-B{b}", f"{b}号楼")
        for campus in campuses
        for b in range(1, BUILDINGS + 1)
    )
    floors = Place.objects.bulk_create(
        _child(PlaceKind.FLOOR, building, f"-{f}F", f"{f}层")
        for building in buildings
        for f in range(1, FLOORS + 1)
    )
    Place.objects.bulk_create(
        _child(PlaceKind.ROOM, floor, f"-{r:02d}", f"{floor.name[:-1]}{r:02d}")
        for floor in floors
        for r in range(1, ROOMS + 1)
    )
    for i in range(TECHNICIANS):
        create_user(f"tech{i:02d}", roles=[Role.TECHNICIAN], phone=tech_phone(i))
    return {"categories": n}


def _child(kind, parent, suffix: str, name: str):
    from repairhub.places.models import Place

    code = parent.code + suffix
    return Place(
        kind=kind,
        code=code,
        name=name,
        parent=parent,
        path=f"{parent.path}/{code}",
        full_name=f"{parent.full_name} / {name}",
    )


def run_child(env: dict, *args: str, timeout: float) -> dict:
    result = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        raise BenchError(
            f"child {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
        )
    return json.loads(lines[-1])


def run_import(env: dict, csv_path: Path, mapping: Path, log_path: Path) -> dict:
    """The real command, as an admin runs it; returns wall seconds and the child's peak RSS."""
    cmd = [
        sys.executable,
        "manage.py",
        "import_orders",
        str(csv_path),
        "--mapping",
        str(mapping),
        "--batch",
        str(BATCH),
    ]
    started = time.monotonic()
    with log_path.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise BenchError(
            f"import_orders failed ({proc.returncode}):\n{log_path.read_text()[-3000:]}"
        )
    return {"wall_s": round(wall, 2), "peak_rss_kb": usage.ru_maxrss}


# --- databases without Django (the parent and the floor) --------------------------------------


class Db:
    """A raw DB-API connection to the benchmark's database."""

    def __init__(self, kind: str, target: str) -> None:
        self.kind = kind
        if kind == "sqlite":
            import sqlite3

            self.conn = sqlite3.connect(target, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.mark = "?"
        else:
            import psycopg

            self.conn = psycopg.connect(target)
            self.mark = "%s"

    def all(self, sql: str, params=()) -> list[tuple]:
        cur = self.conn.cursor()
        cur.execute(sql.replace("%s", self.mark), params)
        return cur.fetchall()

    def close(self) -> None:
        self.conn.close()


def run_figures(db: Db) -> dict:
    (row,) = db.all(
        "SELECT rows_done, accepted, rejected, skipped, blank, unassigned, auto_confirmed, seconds "
        "FROM imports_importrun ORDER BY id DESC LIMIT 1"
    )
    names = ["rows", "accepted", "rejected", "skipped", "blank", "unassigned", "auto_confirmed"]
    out = dict(zip(names, row[:7], strict=True))
    out["seconds"] = round(row[7], 2)
    out["rows_per_s"] = round(row[0] / row[7], 1) if row[7] else 0.0
    return out


def counts(db: Db) -> tuple[int, int]:
    orders = db.all("SELECT COUNT(*) FROM workorders_workorder")[0][0]
    events = db.all("SELECT COUNT(*) FROM workorders_event")[0][0]
    return orders, events


# --- the floor ------------------------------------------------------------------------------

ORDER_COLUMNS = [
    "id", "number", "status", "version", "result", "address", "description", "urgency",
    "channel", "reporter_name", "reporter_phone", "reporter_phone_index", "tracking_token",
    "received_at", "handling", "remarks", "hold_reason", "completion_note", "suggestion",
    "rating", "rating_comment", "reopen_count", "idempotency_key", "created_at", "updated_at",
    "accepted_at", "dispatched_at", "arrived_at", "completed_at", "closed_at", "assignee_id",
    "category_id", "place_id", "measures", "urge_count",
]  # fmt: skip
EVENT_COLUMNS = [
    "order_id", "code", "actor_id", "actor_label", "channel", "from_status", "to_status",
    "data", "created_at",
]  # fmt: skip
STATUSES = {
    "待受理": "submitted",
    "已受理": "accepted",
    "已派单": "dispatched",
    "维修中": "in_progress",
    "已完工": "completed",
    "已评价": "closed",
    "不予受理": "rejected",
    "已撤销": "cancelled",
}
CHANNELS = {"微信": "web", "扫码": "qr", "电话": "phone", "窗口": "walk_in", "": "phone"}
RATINGS = {"非常满意": 5, "满意": 4, "一般": 3, "不满意": 2, "很不满意": 1}
STEPS = [
    ("受理时间", "workorder.accepted"),
    ("派工时间", "workorder.dispatched"),
    ("到场时间", "workorder.arrived"),
    ("完工时间", "workorder.completed"),
]


def floor(kind: str, target: str, csv_path: str) -> dict:
    """Insert the same orders and events as the import, in the plainest loop there is."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    master = hashlib.sha256(os.environ["FIELD_ENCRYPTION_KEY"].encode()).digest()
    aes = AESGCM(hmac.new(master, b"repairhub/field-encryption", hashlib.sha256).digest())
    idx_key = hmac.new(master, b"repairhub/blind-index", hashlib.sha256).digest()
    db = Db(kind, target)
    categories = dict(db.all("SELECT name, id FROM workorders_category"))
    places = {n.replace(" / ", "/"): i for i, n in db.all("SELECT id, full_name FROM places_place")}
    techs = dict(db.all("SELECT phone_index, id FROM accounts_user WHERE phone_index <> ''"))
    sqlite = kind == "sqlite"

    def when(text: str):
        moment = datetime.fromisoformat(text).replace(tzinfo=TZ)
        return str(moment.astimezone(UTC).replace(tzinfo=None)) if sqlite else moment

    def dumps(data: dict) -> str:
        return json.dumps(data)

    next_id = 1
    per_day: dict = {}
    started = time.monotonic()
    rows = 0
    cur = db.conn.cursor()
    order_sql = "INSERT INTO workorders_workorder ({}) VALUES ({})".format(
        ", ".join(ORDER_COLUMNS), ", ".join([db.mark] * len(ORDER_COLUMNS))
    )
    event_sql = "INSERT INTO workorders_event ({}) VALUES ({})".format(
        ", ".join(EVENT_COLUMNS), ", ".join([db.mark] * len(EVENT_COLUMNS))
    )
    now = when(datetime.now(TZ).replace(tzinfo=None).isoformat(sep=" "))

    def flush(orders: list, events: list) -> None:
        if sqlite:
            cur.execute("BEGIN")
            cur.executemany(order_sql, orders)
            cur.executemany(event_sql, events)
            cur.execute("COMMIT")
        else:
            with db.conn.transaction():
                with cur.copy(
                    f"COPY workorders_workorder ({', '.join(ORDER_COLUMNS)}) FROM STDIN"
                ) as copy:
                    for o in orders:
                        copy.write_row(o)
                with cur.copy(
                    f"COPY workorders_event ({', '.join(EVENT_COLUMNS)}) FROM STDIN"
                ) as copy:
                    for e in events:
                        copy.write_row(e)

    orders: list = []
    events: list = []
    with open(csv_path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        col = {h: i for i, h in enumerate(header)}
        for cells in reader:
            rows += 1
            try:
                reported = when(cells[col["报修时间"]])
                category = categories[cells[col["报修类别"]]]
            except (ValueError, KeyError):
                continue  # the bad rows
            status = STATUSES[cells[col["状态"]]]
            phone = cells[col["联系电话"]]
            nonce = os.urandom(12)
            cipher = (
                "v1:"
                + base64.urlsafe_b64encode(
                    nonce + aes.encrypt(nonce, phone.encode(), None)
                ).decode()
            )
            day = cells[col["报修时间"]][:10].replace("-", "")
            per_day[day] = per_day.get(day, 0) + 1
            tech_cell = cells[col["维修人员电话"]]
            tech = (
                techs.get(hmac.new(idx_key, tech_cell.encode(), hashlib.sha256).hexdigest()[:40])
                if tech_cell
                else None
            )
            times = {name: when(cells[col[name]]) for name, _ in STEPS if cells[col[name]]}
            closed = when(cells[col["评价时间"]]) if cells[col["评价时间"]] else None
            rating = RATINGS.get(cells[col["满意度"]])
            number = cells[col["单号"]]
            order_id = next_id
            next_id += 1
            orders.append(
                (
                    order_id,
                    f"BX-{day}-{per_day[day]:04d}",
                    status,
                    1,
                    "success" if status in ("completed", "closed") else "",
                    "",
                    cells[col["故障描述"]],
                    "normal",
                    CHANNELS[cells[col["报修方式"]]],
                    cells[col["报修人"]],
                    cipher,
                    hmac.new(idx_key, phone.encode(), hashlib.sha256).hexdigest()[:40],
                    secrets.token_urlsafe(24),
                    reported,
                    "",
                    cells[col["备注"]],
                    "",
                    cells[col["处理情况"]],
                    "",
                    rating,
                    cells[col["评价内容"]],
                    0,
                    "import:" + hashlib.sha256(f"{SOURCE}\x00{number}".encode()).hexdigest()[:57],
                    reported,
                    closed or reported,
                    times.get("受理时间"),
                    times.get("派工时间"),
                    times.get("到场时间"),
                    times.get("完工时间"),
                    closed if status == "closed" else None,
                    tech,
                    places[cells[col["报修地点"]]],
                    None,
                    "",
                    0,
                )
            )
            events.append(
                (order_id, "workorder.submitted", None, "", "import", "", "submitted",
                 dumps({"channel": "web", "category": category}), reported)
            )  # fmt: skip
            for name, code in STEPS:
                if name in times:
                    events.append(
                        (order_id, code, tech, "", "import", "", "", dumps({}), times[name])
                    )
            if closed is not None:
                code = "workorder.confirmed" if rating else "workorder.closed"
                events.append(
                    (order_id, code, None, "", "import", "", status,
                     dumps({"rating": rating}), closed)
                )  # fmt: skip
            events.append(
                (order_id, "workorder.imported", None, "", "import", status, status,
                 dumps({"source": SOURCE, "number": number, "row": rows}), now)
            )  # fmt: skip
            if len(orders) >= BATCH:
                flush(orders, events)
                orders, events = [], []
    if orders:
        flush(orders, events)
    seconds = time.monotonic() - started
    db.close()
    return {"rows": rows, "orders": next_id - 1, "seconds": round(seconds, 2),
            "rows_per_s": round(rows / seconds, 1)}  # fmt: skip


# --- one database ---------------------------------------------------------------------------


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


def pg_url(dbname: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{dbname}"


def base_env(var: Path, key: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG"}}
    env.pop("REPAIRHUB_TESTING", None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "repairhub.settings",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "FIELD_ENCRYPTION_KEY": key,
            "ALLOWED_HOSTS": "127.0.0.1",
            "REPAIRHUB_VAR": str(var),
            "LOG_LEVEL": "WARNING",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


class Setup:
    """One database's fresh, seeded state, prepared in a child started now."""

    def __init__(self, kind: str, work: Path, key: str) -> None:
        self.kind = kind
        self.var = work / kind
        self.var.mkdir()
        self.env = base_env(self.var, key)
        if kind == "postgres":
            for name in (PG_FLOOR, PG_DB):
                pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            pg_admin(f'CREATE DATABASE "{PG_DB}"')
            self.env["DATABASE_URL"] = pg_url(PG_DB)
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--child", "prepare"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait(self) -> None:
        out, err = self.proc.communicate(timeout=900)
        if self.proc.returncode != 0:
            raise BenchError(f"{self.kind}: prepare failed:\n{out[-2000:]}\n{err[-4000:]}")

    @property
    def target(self) -> str:
        return str(self.var / "repairhub.sqlite3") if self.kind == "sqlite" else pg_url(PG_DB)

    def make_floor_twin(self) -> str:
        """A copy of the seeded database for the floor to write into."""
        if self.kind == "sqlite":
            twin = self.var / "floor.sqlite3"
            shutil.copyfile(self.target, twin)
            return str(twin)
        pg_admin(f'CREATE DATABASE "{PG_FLOOR}" TEMPLATE "{PG_DB}"')
        return pg_url(PG_FLOOR)

    def drop(self) -> None:
        if self.kind == "postgres":
            for name in (PG_FLOOR, PG_DB):
                try:
                    pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                except Exception as exc:
                    log(f"could not drop {name}: {exc}")


def bench_database(setup: Setup, files: dict, mapping: Path, args) -> dict:
    kind = setup.kind
    floor_target = setup.make_floor_twin()
    result: dict = {}
    log(f"{kind}: floor on {files['large']['rows']:,} rows")
    result["floor"] = run_child(
        setup.env, "--child", "floor", kind, floor_target, str(files["large"]["path"]),
        timeout=args.timeout,
    )  # fmt: skip
    db = Db(kind, setup.target)
    try:
        for size in ("small", "large"):
            facts = files[size]
            log(f"{kind}: import_orders on {facts['rows']:,} rows ({size})")
            measured = run_import(
                setup.env, facts["path"], mapping, setup.var / f"import-{size}.log"
            )
            figures = run_figures(db)
            figures.update(measured)
            figures["bad_rows"] = facts["bad"]
            result[size] = figures
        result["orders"], result["events"] = counts(db)
    finally:
        db.close()
    large, small = result["large"], result["small"]
    result["ratio"] = (
        round(large["rows_per_s"] / result["floor"]["rows_per_s"], 3)
        if result["floor"]["rows_per_s"]
        else 0.0
    )
    limit = max(small["peak_rss_kb"] * FLAT_RATIO, small["peak_rss_kb"] + FLAT_SLACK_KB)
    result["memory_flat"] = large["peak_rss_kb"] <= limit
    result["accounted"] = all(
        r["accepted"] + r["rejected"] + r["skipped"] + r["blank"] == r["rows"]
        and r["rows"] == files[s]["rows"]
        and r["rejected"] == files[s]["bad"]
        for s, r in (("small", small), ("large", large))
    )
    return result


def print_table(results: dict, files: dict) -> None:
    print()
    head = (
        f"{'db':<9}{'run':<8}{'rows':>11}{'imported':>10}{'rejected':>9}{'seconds':>9}"
        f"{'rows/s':>9}{'peak RSS':>11}{'ratio':>7}"
    )
    print(head)
    print("-" * len(head))
    for db, r in results.items():
        if "error" in r:
            print(f"{db:<9}ERROR: {r['error']}")
            continue
        fl = r["floor"]
        print(
            f"{db:<9}{'floor':<8}{fl['rows']:>11,}{fl['orders']:>10,}{'':>9}"
            f"{fl['seconds']:>9.1f}{fl['rows_per_s']:>9,.0f}{'':>11}"
        )
        for size in ("small", "large"):
            x = r[size]
            ratio = f"{r['ratio']:.2f}" if size == "large" else ""
            print(
                f"{db:<9}{size:<8}{x['rows']:>11,}{x['accepted']:>10,}{x['rejected']:>9,}"
                f"{x['seconds']:>9.1f}{x['rows_per_s']:>9,.0f}"
                f"{x['peak_rss_kb'] / 1024:>9.1f}MB{ratio:>7}"
            )
    print(
        "(seconds and rows/s: first row to last commit, start-up excluded; ratio = import ÷ floor)"
    )
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="4,000 and 16,000 rows")
    parser.add_argument("--rows", type=int, help="rows of the large file (default 1,000,000)")
    parser.add_argument("--small", type=int, help="rows of the small file (default rows ÷ 4)")
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite,postgres (default both)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per child")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        if args.child[0] == "prepare":
            print(json.dumps(child_prepare()))
        elif args.child[0] == "floor":
            print(json.dumps(floor(*args.child[1:4])))
        return 0

    large = args.rows or (16_000 if args.quick else 1_000_000)
    small = args.small or (4_000 if args.quick else large // 4)
    dbs = [d.strip() for d in args.db.split(",") if d.strip()]
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    log(f"load average before: {load_before:.2f} (2 cores shared with whatever else runs)")
    work = Path(tempfile.mkdtemp(prefix="repairhub-bench-import-"))
    key = secrets.token_urlsafe(32)
    results: dict = {}
    setups: dict[str, Setup] = {}
    try:
        for db in dbs:
            if db not in {"sqlite", "postgres"}:
                results[db] = {"error": f"unknown database {db!r}"}
                continue
            try:
                setups[db] = Setup(db, work, key)  # both prepare at once
            except Exception as exc:
                results[db] = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
        now = datetime.now(TZ)
        files: dict = {}
        for size, rows, seed in (("small", small, 1), ("large", large, 2)):
            path = work / f"orders-{size}.csv"
            bad = generate(path, rows, prefix=size[0].upper(), seed=seed, now=now)
            files[size] = {"path": path, "rows": rows, "bad": bad, "bytes": path.stat().st_size}
            log(f"generated {path.name}: {rows:,} rows, {files[size]['bytes'] / 1e6:.1f} MB")
        mapping = work / "mapping.toml"
        mapping.write_text(MAPPING, encoding="utf-8")
        for db, setup in list(setups.items()):
            # Every database is ready before anything is measured: a migration running
            # beside a measurement would take its CPU.
            try:
                setup.wait()
                log(f"{db}: migrated and seeded")
            except Exception as exc:
                results[db] = {"error": f"{type(exc).__name__}: {str(exc)[:500]}"}
                setup.drop()
                del setups[db]
        for db, setup in setups.items():
            try:
                results[db] = bench_database(setup, files, mapping, args)
            except Exception as exc:
                log(f"{db}: FAILED — {exc}")
                results[db] = {"error": f"{type(exc).__name__}: {str(exc)[:500]}"}
            finally:
                setup.drop()
    finally:
        for setup in setups.values():
            if setup.proc.poll() is None:
                setup.proc.kill()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"kept {work}")

    print_table(results, files)
    failures = []
    summary: dict = {}
    for db, r in results.items():
        if "error" in r:
            failures.append(f"{db}: {r['error']}")
            summary[db] = {"error": r["error"]}
            continue
        summary[db] = {
            "rows_per_s": r["large"]["rows_per_s"],
            "floor_rows_per_s": r["floor"]["rows_per_s"],
            "ratio": r["ratio"],
            "peak_rss_mb_small": round(r["small"]["peak_rss_kb"] / 1024, 1),
            "peak_rss_mb_large": round(r["large"]["peak_rss_kb"] / 1024, 1),
            "memory_flat": r["memory_flat"],
            "accounted": r["accounted"],
            "rejected": r["large"]["rejected"],
            "unassigned": r["large"]["unassigned"],
            "events": r["events"],
        }
        if not r["memory_flat"]:
            failures.append(f"{db}: peak RSS grew with the file size")
        if not r["accounted"]:
            failures.append(f"{db}: rows not accounted for")
    for failure in failures:
        print(f"MISSED {failure}")
    line = {
        "bench": "import",
        "ok": not failures,
        "rows": {"small": small, "large": large},
        "elapsed_s": round(time.monotonic() - started, 1),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "results": summary,
    }
    print(json.dumps(line, ensure_ascii=False))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
