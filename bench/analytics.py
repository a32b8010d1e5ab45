"""Analytics at scale: the dashboard, rankings, workload and reports over millions of orders,
each next to its floor, on SQLite and PostgreSQL.

    .venv/bin/python bench/analytics.py --quick          # 100k orders, both databases, < 1 min
    .venv/bin/python bench/analytics.py                  # 1M and 5M orders (a long run)
    .venv/bin/python bench/analytics.py --sizes 1000000 --db postgres --runs 7

Data (bench/analytics_data.py): five years of a campus's orders with their events, generated
from a fixed seed and loaded with raw bulk SQL into a database of the bench's own — a SQLite
file in the cache directory (BENCH_CACHE, default ~/.cache/repairhub-bench) or a PostgreSQL
database `repairhub_bench_analytics_<size>` on 127.0.0.1:5432 (BENCH_PG_URL). A generated
database is kept for the next run and reused when its generator version is the same and the
migrations it was made with are unchanged (newer ones are applied to it with `migrate`, as on a
real installation); anything else is rebuilt. `--prepare` only makes the data, `--drop-data`
removes it after the run, `--clean` removes every one and exits. Before timing, the tables are
analysed again (SQLite `ANALYZE`, PostgreSQL `VACUUM ANALYZE`) and the daily summaries the
application reads (repairhub/analytics/rollup.py) are built from the orders, as the worker's
minute job does on a real installation, and the time this takes is printed; they are kept with
the data and reused while current (`--rebuild-summaries` builds them again). `--no-summaries`
times the application reading the orders instead (the summaries set aside).

Timed warm (one untimed call first), the median of up to `--runs` calls within `--budget`
seconds per item and side, calling the functions the API and the report worker call:

| item | what | period |
|---|---|---|
| dashboard_month | `queries.dashboard` — every figure of /api/v1/analytics/dashboard | 2026-10, by day |
| dashboard_year | the same | 2025-11 … 2026-10, by month |
| ranking_* | `rankings.technician_efficiency`, `dispatch_speed`, `technician_satisfaction` | 2026-10 |
| workload_* | `workload.agents`, `workload.technicians` | 2026-10 |
| report_month | `reports.build("monthly", …)` + `exports.to_xlsx` | 2026-10 |
| report_year | `reports.build("annual", …)` + `exports.to_xlsx` (a year by month) | 2025 |

Floor of each item: the same numbers computed by hand-written SQL on the same connection in
the same run — one statement per dashboard, ranking and workload figure (UNION ALL of its
parts); a report's floor is the statements of all the figures it holds. The bench checks that
each floor's numbers equal the application's before it trusts either.

Targets (issue 6): a month's dashboard under 300 ms and a year's report with its Excel export
under 5 s, on both databases, at the largest size run. The last line printed is one JSON
object; "ok" is true only when every target held in this run. Where the floor itself misses a
target the line says so (the target is then impossible on this machine, not missed by the
code).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
CACHE = Path(os.environ.get("BENCH_CACHE", Path.home() / ".cache" / "repairhub-bench"))
PG_PREFIX = "repairhub_bench_analytics_"
QUICK_SIZE = 100_000
FULL_SIZES = (1_000_000, 5_000_000)
MONTH_TARGET_MS = 300.0
REPORT_TARGET_MS = 5000.0
# Disk taken per order with its ~7 events, measured on the generated data (indexes included).
BYTES_PER_ORDER = {"sqlite": 2300, "postgres": 2800}
# A fixed key: the generated phone numbers are encrypted with it (cached data stays readable).
ENCRYPTION_KEY = "repairhub-bench-analytics-not-a-secret"

MONTH = (date(2026, 10, 1), date(2026, 10, 31))
YEAR = (date(2025, 11, 1), date(2026, 10, 31))
REPORT_YEAR = date(2025, 1, 1)


_T0 = time.monotonic()


def log(message: str) -> None:
    print(f"[bench {time.monotonic() - _T0:6.1f}s] {message}", flush=True)


class BenchError(RuntimeError):
    pass


# === the parent: datasets, workers, table, verdict ============================================


def schema_record() -> dict:
    """What a dataset was made with: the generator's version and every migration's digest."""
    from bench.analytics_data import GENERATOR_VERSION, digest

    files = sorted(ROOT.glob("repairhub/*/migrations/0*.py"))
    return {
        "generator": GENERATOR_VERSION,
        "migrations": {str(p.relative_to(ROOT)): digest([p]) for p in files},
    }


def reusable(recorded: dict | None, current: dict) -> bool:
    """A dataset can be reused when the generator is the same and every migration it was made
    with is unchanged; newer migrations are applied to it (as on a real installation)."""
    if not recorded or recorded.get("generator") != current["generator"]:
        return False
    now = current["migrations"]
    return all(now.get(name) == sha for name, sha in recorded["migrations"].items())


def pg_url(dbname: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{dbname}"


def pg_admin(sql: str, params=None, *, fetch: bool = False):
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if fetch else None


def pg_exists(dbname: str) -> bool:
    try:
        return bool(pg_admin("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,), fetch=True))
    except Exception:  # not reachable: the worker will say so
        return False


def sqlite_path(size: int) -> Path:
    return CACHE / f"analytics-{size}.sqlite3"


def worker_env(db: str, size: int, var: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "repairhub.settings",
            "DEBUG": "0",
            "SECRET_KEY": "bench-analytics-" + os.urandom(16).hex(),
            "FIELD_ENCRYPTION_KEY": ENCRYPTION_KEY,
            "ALLOWED_HOSTS": "127.0.0.1",
            "REPAIRHUB_VAR": str(var),
            "LOG_LEVEL": "WARNING",
            "TIME_ZONE": "Asia/Shanghai",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.pop("REPAIRHUB_TESTING", None)
    if db == "postgres":
        env["DATABASE_URL"] = pg_url(f"{PG_PREFIX}{size}")
    else:
        env["DATABASE_URL"] = f"sqlite:///{sqlite_path(size)}"
    return env


def run_worker(db: str, size: int, phase: str, args, *, wait: bool = True):
    var = Path(tempfile.mkdtemp(prefix=f"repairhub-bench-analytics-{db}-"))
    result_file = var / "result.json"
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        phase,
        "--db",
        db,
        "--sizes",
        str(size),
        "--runs",
        str(args.runs),
        "--budget",
        str(args.budget),
        "--result-file",
        str(result_file),
    ]
    if args.fresh:
        cmd.append("--fresh")
    if args.no_summaries:
        cmd.append("--no-summaries")
    if args.rebuild_summaries:
        cmd.append("--rebuild-summaries")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=worker_env(db, size, var))
    job = (proc, var, result_file, db)
    return finish_worker(job, args.timeout) if wait else job


def finish_worker(job, timeout: float) -> dict:
    proc, var, result_file, db = job
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        shutil.rmtree(var, ignore_errors=True)
        return {"error": f"{db}: no answer within {timeout:.0f} s"}
    try:
        if proc.returncode != 0 or not result_file.exists():
            return {"error": f"{db}: worker exited with {proc.returncode}"}
        return json.loads(result_file.read_text())
    finally:
        shutil.rmtree(var, ignore_errors=True)


def check_disk(dbs: list[str], sizes: list[int]) -> None:
    need = 0
    for db in dbs:
        for size in sizes:
            if db == "sqlite" and sqlite_path(size).exists():
                continue
            if db == "postgres" and pg_exists(f"{PG_PREFIX}{size}"):
                continue
            need += BYTES_PER_ORDER[db] * size
    CACHE.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(CACHE).free
    log(f"disk: {free / 1e9:.1f} GB free, up to {need / 1e9:.1f} GB needed for new data")
    if need and free - need < 5e9:
        raise BenchError(
            f"not enough disk: {free / 1e9:.1f} GB free, {need / 1e9:.1f} GB needed "
            "(and 5 GB to spare); free some space or run fewer sizes"
        )


def drop_data(db: str, size: int) -> None:
    if db == "postgres":
        pg_admin(f'DROP DATABASE IF EXISTS "{PG_PREFIX}{size}" WITH (FORCE)')
    else:
        for path in CACHE.glob(f"analytics-{size}.*"):
            path.unlink()
    log(f"{db}: dropped the {size:,}-order data")


def clean() -> None:
    for path in [*CACHE.glob("analytics-*.sqlite3*"), *CACHE.glob("analytics-*.json")]:
        log(f"removing {path}")
        path.unlink()
    try:
        rows = pg_admin(
            "SELECT datname FROM pg_database WHERE datname LIKE %s",
            (PG_PREFIX + "%",),
            fetch=True,
        )
    except Exception as exc:  # PostgreSQL not running: nothing of ours there either
        log(f"PostgreSQL not reached ({exc}); SQLite data removed")
        return
    for (name,) in rows:
        log(f"dropping database {name}")
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


ITEMS = [
    "dashboard_month",
    "dashboard_year",
    "ranking_technicians",
    "ranking_dispatchers",
    "ranking_satisfaction",
    "workload_agents",
    "workload_technicians",
    "report_month",
    "report_year",
]


def print_table(results: dict) -> None:
    head = (
        f"{'size':>10} {'db':<9}{'item':<22}{'app ms':>10}{'floor ms':>10}{'× floor':>9}"
        f"{'target':>9}  same numbers"
    )
    print()
    print(head)
    print("-" * len(head))
    for (size, db), result in results.items():
        if "error" in result:
            print(f"{size:>10,} {db:<9}ERROR: {result['error']}")
            continue
        for name in ITEMS:
            item = result["items"].get(name)
            if item is None:
                continue
            target = {"dashboard_month": MONTH_TARGET_MS, "report_year": REPORT_TARGET_MS}.get(name)
            print(
                f"{size:>10,} {db:<9}{name:<22}{item['app_ms']:>10.1f}{item['floor_ms']:>10.1f}"
                f"{item['ratio']:>9.2f}{'' if target is None else f'{target:.0f}':>9}  "
                f"{'yes' if item['same'] else 'NO: ' + item['difference']}"
            )
            if "export_ms" in item:
                print(
                    f"{'':>10} {'':<9}{'  of which export':<22}{item['export_ms']:>10.1f}"
                    f"{'':>10}{'':>9}{'':>9}  ({item['xlsx_bytes']:,} bytes of xlsx)"
                )
        facts = result.get("facts", {})
        print(
            f"{'':>10} {db:<9}{facts.get('orders', 0):,} orders, {facts.get('events', 0):,} "
            f"events; analyse {facts.get('analyze_s', 0)} s; {facts.get('engine', '')}"
        )
        if "summary_rows" in facts:
            built = facts["summaries_s"]
            how = "reused (current)" if built is None else f"built in {built} s"
            print(f"{'':>10} {db:<9}daily summaries {how} ({facts['summary_rows']:,} rows)")
        else:
            print(f"{'':>10} {db:<9}daily summaries not used (--no-summaries)")
    print("(median of warm runs; × floor = app ÷ floor; targets in ms)")
    print()


def judge(results: dict, largest: int) -> tuple[dict, list[str], list[str]]:
    summary: dict = {}
    missed: list[str] = []
    impossible: list[str] = []
    for (size, db), result in results.items():
        tag = f"{db}@{size}"
        if "error" in result:
            missed.append(f"{tag}: {result['error']}")
            continue
        row = {}
        for name, item in result["items"].items():
            row[name] = {
                "app_ms": item["app_ms"],
                "floor_ms": item["floor_ms"],
                "ratio": item["ratio"],
            }
            if not item["same"]:
                missed.append(f"{tag} {name}: the floor's numbers differ ({item['difference']})")
        if result.get("facts", {}).get("summaries_s") is not None:
            row["summaries_built_s"] = result["facts"]["summaries_s"]
        summary[tag] = row
        if size != largest:
            continue
        for name, target in (
            ("dashboard_month", MONTH_TARGET_MS),
            ("report_year", REPORT_TARGET_MS),
        ):
            item = result["items"].get(name)
            if item is None:
                missed.append(f"{tag} {name}: not measured")
            elif item["app_ms"] >= target:
                missed.append(f"{tag} {name}: {item['app_ms']:.0f} ms (target < {target:.0f})")
                if item["floor_ms"] >= target:
                    impossible.append(
                        f"{tag} {name}: the floor itself takes {item['floor_ms']:.0f} ms"
                    )
    return summary, missed, impossible


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SIZE:,} orders, < 1 min")
    parser.add_argument("--sizes", help="orders per dataset, comma-separated (default 1M,5M)")
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite,postgres (default both)")
    parser.add_argument("--runs", type=int, help="timed runs per item (default 5, quick 3)")
    parser.add_argument("--fresh", action="store_true", help="generate the data again")
    parser.add_argument("--prepare", action="store_true", help="only make the data")
    parser.add_argument("--drop-data", action="store_true", help="remove the data afterwards")
    parser.add_argument("--clean", action="store_true", help="remove all cached data and exit")
    parser.add_argument("--timeout", type=float, default=4 * 3600, help="seconds per worker")
    parser.add_argument("--budget", type=float, help="seconds per item and side (quick 1, else 60)")
    parser.add_argument(
        "--no-summaries", action="store_true", help="time the app without its daily summaries"
    )
    parser.add_argument(
        "--rebuild-summaries", action="store_true", help="build the daily summaries again"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--result-file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.sizes:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s]
    else:
        sizes = [QUICK_SIZE] if args.quick else list(FULL_SIZES)
    args.runs = args.runs or (3 if args.quick else 5)
    args.budget = args.budget or (1.0 if args.quick else 60.0)
    dbs = [d.strip() for d in args.db.split(",") if d.strip()]

    if args.worker:
        result = worker(args.worker, dbs[0], sizes[0], args)
        Path(args.result_file).write_text(json.dumps(result, ensure_ascii=False))
        return 0
    if args.clean:
        clean()
        return 0

    started = time.monotonic()
    load_before = os.getloadavg()[0]
    log(f"load average before: {load_before:.2f} (2 cores shared with whatever else runs)")
    for db in dbs:
        if db not in {"sqlite", "postgres"}:
            print(json.dumps({"bench": "analytics", "ok": False, "error": f"unknown db {db}"}))
            return 2
    results: dict = {}
    try:
        check_disk(dbs, sizes)
        for size in sizes:
            # Data for both databases at once (two cores), then timing one database at a time.
            jobs = [run_worker(db, size, "prepare", args, wait=False) for db in dbs]
            prepared = {job[3]: finish_worker(job, args.timeout) for job in jobs}
            if args.prepare:
                for db, outcome in prepared.items():
                    log(f"{db}: {size:,} orders: {outcome.get('how') or outcome.get('error')}")
                continue
            for db in dbs:
                if "error" in prepared[db]:
                    results[(size, db)] = prepared[db]
                    continue
                log(f"{db}: {size:,} orders ready ({prepared[db].get('how', '')})")
                results[(size, db)] = run_worker(db, size, "time", args)
                if args.drop_data:
                    drop_data(db, size)
    except BenchError as exc:
        print(json.dumps({"bench": "analytics", "ok": False, "error": str(exc)}))
        return 1
    if args.prepare:
        return 0

    print_table(results)
    summary, missed, impossible = judge(results, max(sizes))
    for line in missed:
        print(f"MISSED {line}")
    for line in impossible:
        print(f"IMPOSSIBLE HERE {line}")
    if not missed:
        print("All targets held.")
    line = {
        "bench": "analytics",
        "ok": not missed,
        "sizes": sizes,
        "runs": args.runs,
        "elapsed_s": round(time.monotonic() - started, 1),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "targets_ms": {"dashboard_month": MONTH_TARGET_MS, "report_year": REPORT_TARGET_MS},
        "summaries": not args.no_summaries,
        "results": summary,
        "missed": missed,
        "impossible_here": impossible,
    }
    out_dir = ROOT / "bench" / "out"  # ignored by git: the full figures of the latest runs
    out_dir.mkdir(exist_ok=True)
    full = {
        **line,
        "details": {f"{db}@{size}": r for (size, db), r in results.items()},
        "command": " ".join(["bench/analytics.py", *(argv if argv is not None else sys.argv[1:])]),
    }
    (out_dir / f"analytics-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(
        json.dumps(full, ensure_ascii=False, indent=2)
    )
    print(json.dumps(line, ensure_ascii=False))
    return 0 if not missed else 1


# === the worker: one database, inside its Django environment ==================================


def worker(phase: str, db: str, size: int, args) -> dict:
    import django

    django.setup()
    if phase == "prepare":
        return prepare(db, size, fresh=args.fresh)
    return measure(db, size, args.runs, args.budget, args)


def prepare(db: str, size: int, *, fresh: bool) -> dict:
    """Make sure the database holds the dataset of this size for this schema: reuse it (after
    applying newer migrations) or build it."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from bench.analytics_data import build

    current = schema_record()
    name = settings.DATABASES["default"]["NAME"]
    if db == "postgres":

        def recorded() -> dict | None:
            rows = pg_admin(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                (name,),
                fetch=True,
            )
            return json.loads(rows[0][0]) if rows and rows[0][0] else None

        def record(value: dict) -> None:
            text = json.dumps(value).replace("'", "''")
            pg_admin(f"COMMENT ON DATABASE \"{name}\" IS '{text}'")

    else:
        path = Path(name)
        sidecar = path.with_suffix(".json")

        def recorded() -> dict | None:
            if not (path.exists() and sidecar.exists()):
                return None
            return json.loads(sidecar.read_text())

        def record(value: dict) -> None:
            sidecar.write_text(json.dumps(value, indent=1))

    before = recorded()
    if not fresh and reusable(before, current):
        new = sorted(set(current["migrations"]) - set(before["migrations"]))
        if not new:
            return {"how": "cached"}
        started = time.monotonic()
        call_command("migrate", verbosity=0, interactive=False)
        record(current)
        return {
            "how": f"cached; {len(new)} newer migrations applied in "
            f"{time.monotonic() - started:.0f} s ({', '.join(Path(n).stem for n in new)})"
        }
    connection.close()
    if db == "postgres":
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        pg_admin(f'CREATE DATABASE "{name}"')
        built = build(size)
        record(current)
        return {"how": f"generated in {built['seconds']} s", **built}
    for old in CACHE.glob(f"analytics-{size}.*"):
        old.unlink()
    # Built under a temporary name: an interrupted build is never taken for a dataset.
    partial = path.with_name(path.name + ".partial")
    settings.DATABASES["default"]["NAME"] = str(partial)
    connection.settings_dict["NAME"] = str(partial)
    built = build(size)
    connection.close()
    partial.rename(path)
    record(current)
    return {"how": f"generated in {built['seconds']} s", **built}


def analyze(connection) -> float:
    started = time.monotonic()
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("ANALYZE")
        else:
            cur.execute("VACUUM ANALYZE workorders_workorder")
            cur.execute("VACUUM ANALYZE workorders_event")
            cur.execute("ANALYZE")
    return round(time.monotonic() - started, 1)


def timed(fn, runs: int, budget_s: float) -> tuple[float, object]:
    """Median wall time in ms of up to `runs` warm calls (after one untimed call), stopping
    early once `budget_s` seconds are spent (at least one timed call); and the result."""
    result = fn()
    times: list[float] = []
    deadline = time.perf_counter() + budget_s
    while len(times) < max(runs, 1):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
        if time.perf_counter() > deadline:
            break
    return statistics.median(times), result


def build_summaries(connection, facts: dict, *, rebuild: bool) -> None:
    """The daily summaries from the orders, timed, then analysed like the rest; kept with the
    data and reused while they are current (the bench's "same numbers" check would show stale
    ones). `--rebuild-summaries` builds them again."""
    from repairhub.analytics import rollup
    from repairhub.analytics.models import DayFigures, DayPerson

    if not rebuild and rollup.refresh():
        facts["summaries_s"] = None  # reused
    else:
        started = time.monotonic()
        rollup.rebuild()
        facts["summaries_s"] = round(time.monotonic() - started, 1)
    facts["summary_rows"] = DayFigures.objects.count() + DayPerson.objects.count()
    with connection.cursor() as cur:
        cur.execute("ANALYZE analytics_dayfigures")
        cur.execute("ANALYZE analytics_dayperson")


def unbuild_summaries() -> None:
    """Summaries left from an earlier run are set aside: the app reads the orders."""
    from repairhub.analytics.models import RollupState

    RollupState.objects.update(built_at=None)


def measure(db: str, size: int, runs: int, budget_s: float, args) -> dict:
    from django.db import connection
    from django.utils import timezone

    from repairhub.analytics import queries, rankings, workload
    from repairhub.analytics.periods import Filters, Grain, Period
    from repairhub.workorders.models import Event, WorkOrder

    facts = {
        "orders": WorkOrder.objects.count(),
        "events": Event.objects.count(),
        "analyze_s": analyze(connection),
    }
    with connection.cursor() as cur:
        if db == "sqlite":
            cur.execute("SELECT sqlite_version()")
            facts["engine"] = f"SQLite {cur.fetchone()[0]}"
        else:
            cur.execute("SHOW server_version")
            facts["engine"] = f"PostgreSQL {cur.fetchone()[0]}"
    log(f"{db}: {facts['orders']:,} orders, {facts['events']:,} events, analysed")
    if not args.no_summaries:
        build_summaries(connection, facts, rebuild=args.rebuild_summaries)
        built = facts["summaries_s"]
        log(f"{db}: daily summaries " + ("reused" if built is None else f"built in {built} s"))
    else:
        unbuild_summaries()

    sql = Floors(connection.vendor)
    now = timezone.now()
    f = Filters()
    month = Period(*MONTH, Grain.DAY)
    year = Period(*YEAR, Grain.MONTH)
    items: dict[str, dict] = {}

    def item(name, app, floor, compare) -> None:
        app_ms, got = timed(app, runs, budget_s)
        floor_ms, want = timed(floor, runs, budget_s)
        difference = compare(got, want)
        items[name] = {
            "app_ms": round(app_ms, 1),
            "floor_ms": round(floor_ms, 1),
            "ratio": round(app_ms / floor_ms, 2) if floor_ms else None,
            "same": not difference,
            "difference": difference,
        }
        log(f"{db}: {name}: {app_ms:.1f} ms, floor {floor_ms:.1f} ms")

    item(
        "dashboard_month",
        lambda: queries.dashboard(month, f, now=now),
        lambda: sql.dashboard(month, now),
        compare_dashboard,
    )
    item(
        "dashboard_year",
        lambda: queries.dashboard(year, f, now=now),
        lambda: sql.dashboard(year, now),
        compare_dashboard,
    )
    item(
        "ranking_technicians",
        lambda: rankings.technician_efficiency(month, f).as_dict(),
        lambda: sql.technicians(month),
        lambda got, want: compare_ranking(got, want, "mean_hours"),
    )
    item(
        "ranking_dispatchers",
        lambda: rankings.dispatch_speed(month, f).as_dict(),
        lambda: sql.dispatchers(month),
        lambda got, want: compare_ranking(got, want, "mean_minutes"),
    )
    item(
        "ranking_satisfaction",
        lambda: rankings.technician_satisfaction(month, f).as_dict(),
        lambda: sql.satisfaction(month),
        lambda got, want: compare_ranking(got, want, "mean_rating"),
    )
    item(
        "workload_agents",
        lambda: workload.agents(month, f),
        lambda: sql.agents(month),
        lambda got, want: compare_workload(got, want, "calls"),
    )
    item(
        "workload_technicians",
        lambda: workload.technicians(month, f),
        lambda: sql.workload_technicians(month),
        lambda got, want: compare_workload(got, want, "orders"),
    )
    report_items(items, db, sql, now, runs, budget_s)
    return {"facts": facts, "items": items}


def report_items(items: dict, db: str, sql, now, runs: int, budget_s: float) -> None:
    """The monthly and the annual report with their Excel export (AN7)."""
    from repairhub.analytics import exports, reports
    from repairhub.analytics.periods import Filters

    for name, kind, day in (
        ("report_month", "monthly", MONTH[0]),
        ("report_year", "annual", REPORT_YEAR),
    ):
        export_ms: list[float] = []
        size: list[int] = []

        def app(kind=kind, day=day, export_ms=export_ms, size=size):
            report = reports.build(kind, day, Filters(), now=now)
            stream = io.BytesIO()
            started = time.perf_counter()
            exports.to_xlsx(report, stream)
            export_ms.append((time.perf_counter() - started) * 1000)
            size.append(stream.tell())
            return report

        app_ms, report = timed(app, runs, budget_s)
        floor_ms, want = timed(
            lambda p=report.period, q=report.previous: sql.report(p, q, now), runs, budget_s
        )
        difference = compare_report(report.figures, want)
        items[name] = {
            "app_ms": round(app_ms, 1),
            "floor_ms": round(floor_ms, 1),
            "ratio": round(app_ms / floor_ms, 2) if floor_ms else None,
            "same": not difference,
            "difference": difference,
            "export_ms": round(statistics.median(export_ms[1:] or export_ms), 1),
            "xlsx_bytes": size[-1],
        }
        log(
            f"{db}: {name}: {app_ms:.1f} ms (export {items[name]['export_ms']} ms), "
            f"floor {floor_ms:.1f} ms"
        )


# --- floors: hand-written SQL ------------------------------------------------------------------

OPEN = (
    "submitted",
    "accepted",
    "dispatched",
    "acknowledged",
    "in_progress",
    "on_hold",
    "completed",
)
SETTLED = ("completed", "closed", "rejected", "cancelled")
WO = "workorders_workorder"


class Floors:
    """The figures computed by plain SQL, one statement each, same connection as the app."""

    def __init__(self, vendor: str):
        self.vendor = vendor

    # dialect
    def secs(self, end: str, start: str) -> str:
        if self.vendor == "sqlite":
            return f"((julianday({end}) - julianday({start})) * 86400.0)"
        return f"EXTRACT(EPOCH FROM ({end} - {start}))::float8"

    def bucket(self, col: str, grain: str) -> str:
        if self.vendor == "sqlite":
            if grain == "month":
                return f"strftime('%%Y-%%m-01', {col}, '+28800 seconds')"
            return f"date({col}, '+28800 seconds')"
        return f"(date_trunc('{grain}', {col} AT TIME ZONE 'Asia/Shanghai'))::date::text"

    def text(self, expr: str) -> str:
        return f"CAST({expr} AS TEXT)"

    def param(self, dt: datetime):
        from django.db import connection

        return connection.ops.adapt_datetimefield_value(dt)

    def run(self, statement: str, params: dict) -> list[tuple]:
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall()

    def _range(self, period) -> dict:
        return {"s": self.param(period.start_at), "e": self.param(period.end_at)}

    def _median(self, source: str, key: str) -> str:
        if self.vendor == "postgresql":
            return (
                f"SELECT 'median', NULL, {self.text(key)}, COUNT(s), NULL, "
                f"percentile_cont(0.5) WITHIN GROUP (ORDER BY s), NULL, NULL, NULL "
                f"FROM {source} WHERE s IS NOT NULL GROUP BY {key}"
            )
        return (
            f"SELECT 'median', NULL, {self.text('k')}, MAX(cnt), NULL, AVG(s), NULL, NULL, NULL "
            f"FROM (SELECT {key} AS k, s, ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY s) AS rn,"
            f" COUNT(*) OVER (PARTITION BY {key}) AS cnt FROM {source} WHERE s IS NOT NULL) "
            "WHERE rn IN ((cnt + 1) / 2, (cnt + 2) / 2) GROUP BY k"
        )

    def _figures(self, period, *, extra_splits=(), medians=True, backlog=True) -> str:
        """One statement: reported by bucket and category (volume, fault types), completed by
        bucket and category (summary, on-time, fault types), ratings by bucket, medians,
        backlog; optionally volume by channel / place."""
        g = period.grain
        done = (
            f"SELECT {self.bucket('completed_at', g)} AS b, category_id AS k, result, due_at, "
            f"completed_at, {self.secs('completed_at', 'received_at')} AS s FROM {WO} "
            "WHERE completed_at >= %(s)s AND completed_at < %(e)s"
        )
        parts = [
            f"SELECT 'reported', {self.bucket('created_at', g)}, {self.text('category_id')}, "
            f"COUNT(*), NULL, NULL, NULL, NULL, NULL FROM {WO} "
            "WHERE created_at >= %(s)s AND created_at < %(e)s GROUP BY 2, 3",
            "SELECT 'done', b, " + self.text("k") + ", COUNT(*), "
            "COUNT(*) FILTER (WHERE result = 'success'), SUM(s), MAX(s), COUNT(due_at), "
            "COUNT(*) FILTER (WHERE completed_at > due_at) FROM done GROUP BY b, k",
            f"SELECT 'rated', {self.bucket('closed_at', g)}, {self.text('rating')}, COUNT(*), "
            f"NULL, NULL, NULL, NULL, NULL FROM {WO} WHERE closed_at >= %(s)s "
            "AND closed_at < %(e)s AND rating IS NOT NULL GROUP BY 2, 3",
        ]
        for split in extra_splits:
            parts.append(
                f"SELECT 'volume:{split}', {self.bucket('created_at', g)}, {self.text(split)}, "
                f"COUNT(*), NULL, NULL, NULL, NULL, NULL FROM {WO} "
                "WHERE created_at >= %(s)s AND created_at < %(e)s GROUP BY 2, 3"
            )
        if medians:
            parts.append(self._median("done", "k"))
            parts.append(self._median("done", "1"))
        if backlog:
            states = ", ".join(f"'{s}'" for s in OPEN)
            parts.append(
                f"SELECT 'backlog', status, NULL, COUNT(*), "
                f"COUNT(*) FILTER (WHERE due_at < %(now)s), NULL, NULL, NULL, NULL "
                f"FROM {WO} WHERE status IN ({states}) GROUP BY status"
            )
        cte = "MATERIALIZED " if medians else ""
        return f"WITH done AS {cte}({done}) " + " UNION ALL ".join(parts)

    def dashboard(self, period, now) -> list[tuple]:
        return self.run(self._figures(period), {**self._range(period), "now": self.param(now)})

    def _people(self, select: str, where: str, group: str) -> str:
        return (
            f"SELECT {select} FROM {WO} o JOIN accounts_user u ON u.id = o.assignee_id "
            f"WHERE {where} GROUP BY {group}"
        )

    def technicians(self, period) -> list[tuple]:
        secs = self.secs("o.completed_at", "o.received_at")
        return self.run(
            self._people(
                f"o.assignee_id, u.username, COUNT(*), AVG({secs}), "
                "COUNT(*) FILTER (WHERE o.completed_at > o.due_at)",
                "o.completed_at >= %(s)s AND o.completed_at < %(e)s",
                "o.assignee_id, u.username",
            ),
            self._range(period),
        )

    def satisfaction(self, period) -> list[tuple]:
        return self.run(
            self._people(
                "o.assignee_id, u.username, COUNT(*), AVG(o.rating)",
                "o.closed_at >= %(s)s AND o.closed_at < %(e)s AND o.rating IS NOT NULL",
                "o.assignee_id, u.username",
            ),
            self._range(period),
        )

    def dispatchers(self, period) -> list[tuple]:
        secs = self.secs("e.created_at", "o.accepted_at")
        return self.run(
            f"SELECT e.actor_id, u.username, COUNT(*), AVG({secs}) "
            f"FROM workorders_event e JOIN {WO} o ON o.id = e.order_id "
            "LEFT JOIN accounts_user u ON u.id = e.actor_id "
            "WHERE e.code = 'workorder.dispatched' AND e.created_at >= %(s)s "
            "AND e.created_at < %(e)s AND o.accepted_at IS NOT NULL AND NOT EXISTS ("
            "SELECT 1 FROM workorders_event p WHERE p.order_id = e.order_id "
            "AND p.code = 'workorder.dispatched' AND p.id < e.id) "
            "GROUP BY e.actor_id, u.username",
            self._range(period),
        )

    def agents(self, period) -> list[tuple]:
        settled = ", ".join(f"'{s}'" for s in SETTLED)
        return self.run(
            f"SELECT o.registered_by_id, u.username, {self.bucket('o.created_at', 'day')}, "
            f"COUNT(*), COUNT(*) FILTER (WHERE o.status IN ({settled})), "
            "COUNT(*) FILTER (WHERE o.status IN ('completed', 'closed') AND o.reopen_count = 0 "
            "AND (o.result = 'success' OR o.dispatched_at IS NULL)) "
            f"FROM {WO} o JOIN accounts_user u ON u.id = o.registered_by_id "
            "WHERE o.created_at >= %(s)s AND o.created_at < %(e)s "
            "GROUP BY o.registered_by_id, u.username, 3",
            self._range(period),
        )

    def workload_technicians(self, period) -> list[tuple]:
        return self.run(
            f"SELECT o.assignee_id, u.username, {self.bucket('o.completed_at', period.grain)}, "
            "COUNT(*), COUNT(*) FILTER (WHERE o.result = 'success'), "
            f"SUM({self.secs('o.completed_at', 'o.arrived_at')}) "
            f"FROM {WO} o JOIN accounts_user u ON u.id = o.assignee_id "
            "WHERE o.completed_at >= %(s)s AND o.completed_at < %(e)s "
            "GROUP BY o.assignee_id, u.username, 3",
            self._range(period),
        )

    def report(self, period, previous, now) -> dict:
        """Every figure of the overview report: this period's dashboard with volume by channel
        and place, the previous period's summary and volumes, the rankings and the workload."""
        return {
            "current": self.run(
                self._figures(period, extra_splits=("channel", "place_id")),
                {**self._range(period), "now": self.param(now)},
            ),
            "previous": self.run(
                self._figures(
                    previous, extra_splits=("channel", "place_id"), medians=False, backlog=False
                ),
                self._range(previous),
            ),
            "technicians": self.technicians(period),
            "dispatchers": self.dispatchers(period),
            "satisfaction": self.satisfaction(period),
            "agents": self.agents(period),
            "workload": self.workload_technicians(period),
        }


# --- do the floors say the same? -----------------------------------------------------------------


def _hours(seconds) -> float | None:
    return None if seconds is None else round(float(seconds) / 3600, 2)


def _close(a, b, tol: float = 0.011) -> bool:
    if a is None or b is None:
        return a is b
    return abs(float(a) - float(b)) <= tol


def compare_dashboard(got: dict, rows: list[tuple]) -> str:
    reported = sum(r[3] for r in rows if r[0] == "reported")
    done = [r for r in rows if r[0] == "done"]
    completed = sum(r[3] for r in done)
    ok = sum(r[4] for r in done)
    with_deadline = sum(r[7] for r in done)
    late = sum(r[8] for r in done)
    rated = {int(r[2]): 0 for r in rows if r[0] == "rated"}
    for r in rows:
        if r[0] == "rated":
            rated[int(r[2])] += r[3]
    backlog = {r[1]: (r[3], r[4]) for r in rows if r[0] == "backlog"}
    medians = {r[2]: r[5] for r in rows if r[0] == "median"}
    checks = [
        ("reported", got["summary"]["reported"], reported),
        ("volume", got["volume"]["total"], reported),
        ("completed", got["summary"]["completed"], completed),
        (
            "success rate",
            got["summary"]["success_rate"],
            round(ok / completed, 4) if completed else None,
        ),
        ("with deadline", got["on_time"]["with_deadline"], with_deadline),
        ("late", got["on_time"]["late"], late),
        ("rated", got["satisfaction"]["rated"], sum(rated.values())),
        ("backlog", got["backlog"]["total"], sum(v[0] for v in backlog.values())),
        ("overdue", got["backlog"]["overdue"], sum(v[1] for v in backlog.values())),
    ]
    for d in got["satisfaction"]["distribution"]:
        checks.append((f"rating {d['rating']}", d["count"], rated.get(d["rating"], 0)))
    for s in got["backlog"]["states"]:
        checks.append((s["status"], s["count"], backlog.get(s["status"], (0, 0))[0]))
    for label, a, b in checks:
        if a != b:
            return f"{label}: app {a}, floor {b}"
    if not _close(got["fault_types"]["total"]["median_hours"], _hours(medians.get("1"))):
        return "median repair time"
    longest = max((r[6] for r in done if r[6] is not None), default=None)
    if not _close(got["fault_types"]["total"]["longest_hours"], _hours(longest)):
        return "longest repair time"
    for row in got["fault_types"]["rows"]:
        if not _close(row["median_hours"], _hours(medians.get(row["key"]))):
            return f"median of category {row['code']}"
        n = sum(r[3] for r in done if r[2] == row["key"])
        if row["completed"] != n:
            return f"completed in category {row['code']}: app {row['completed']}, floor {n}"
    return ""


def compare_ranking(got: dict, rows: list[tuple], figure: str) -> str:
    app = {
        r["username"]: (r["orders"], r[figure])
        for r in got["ranked"] + got["insufficient"] + got["apart"]
    }
    floor = {}
    for r in rows:
        mean = r[3]
        if figure == "mean_hours":
            mean = _hours(mean)
        elif figure == "mean_minutes":
            mean = None if mean is None else round(float(mean) / 60, 1)
        else:
            mean = round(float(mean), 2)
        floor[r[1] or "none"] = (r[2], mean)
    if set(app) != set(floor):
        return f"people: {len(app)} in the app, {len(floor)} in the floor"
    for name, (n, mean) in app.items():
        if n != floor[name][0] or not _close(mean, floor[name][1], 0.051):
            return f"{name}: app {n} / {mean}, floor {floor[name][0]} / {floor[name][1]}"
    return ""


def compare_workload(got: dict, rows: list[tuple], figure: str) -> str:
    app = {r["username"]: r[figure] for r in got["rows"]}
    floor: dict[str, int] = {}
    for r in rows:
        floor[r[1]] = floor.get(r[1], 0) + r[3]
    if app != floor:
        return f"{figure} per person differ ({sum(app.values())} vs {sum(floor.values())})"
    return ""


def compare_report(figures: dict, want: dict) -> str:
    if not figures:
        return "the report has no figures"
    difference = compare_dashboard(figures["dashboard"], want["current"])
    if difference:
        return "dashboard: " + difference
    previous = sum(r[3] for r in want["previous"] if r[0] == "reported")
    if figures["previous"]["reported"] != previous:
        return f"previous period: app {figures['previous']['reported']}, floor {previous}"
    for kind, rows, figure in (
        ("technicians", want["technicians"], "mean_hours"),
        ("dispatchers", want["dispatchers"], "mean_minutes"),
        ("satisfaction", want["satisfaction"], "mean_rating"),
    ):
        difference = compare_ranking(figures["rankings"][kind], rows, figure)
        if difference:
            return f"{kind}: {difference}"
    for kind, rows, figure in (
        ("agents", want["agents"], "calls"),
        ("technicians", want["workload"], "orders"),
    ):
        difference = compare_workload(figures["workload"][kind], rows, figure)
        if difference:
            return f"workload {kind}: {difference}"
    return ""


if __name__ == "__main__":
    sys.exit(main())
