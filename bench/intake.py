"""Intake throughput: POST /api/v1/orders under load, next to its floor, on SQLite and PostgreSQL.

    .venv/bin/python bench/intake.py            # full: 30 s per run
    .venv/bin/python bench/intake.py --quick    # 4 s per run, done within a minute

For each database a fresh one is made (a SQLite file in a temporary REPAIRHUB_VAR, or a
PostgreSQL database `repairhub_bench_<pid>` made and dropped through psycopg), migrated and
seeded with one place chain, one category and a partner account with an API token. Then one
gunicorn (2 sync workers, DEBUG=0, 127.0.0.1 only, REPAIRHUB_BENCH_FLOOR=1) serves both:

- orders: POST /api/v1/orders as the partner (Bearer token, channel "partner"), a unique
  Idempotency-Key per request — the real path, including the SMS work queued in SqliteHuey
  (no consumer runs, so the queued work is written, not executed);
- floor: POST /_bench/floor (bench/floor.py), a bare view inserting one row with a raw cursor.

Debian's `wrk` with bench/intake.lua drives each at 16 and 64 connections. After the server
has stopped, the database is counted: every 201 must have its order (none lost), no
Idempotency-Key may have two orders and no number may repeat (none duplicated); orders written
for requests still in flight when wrk stopped ("unanswered") must not exceed what was in flight.

Targets (each database): orders reach at least half the floor's 201/s at both concurrencies,
p99 under 250 ms at 64, no errors, none lost, none duplicated. The last line printed is one JSON
object whose "ok" is true only when every target held in this run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "bench" / "intake.lua"
HELPER = ROOT / "bench" / "setup_helper.py"
ORDERS_PATH = "/api/v1/orders"
FLOOR_PATH = "/_bench/floor"
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
RATIO_TARGET = 0.5
P99_TARGET_MS = 250.0
P99_AT = 64


class BenchError(RuntimeError):
    pass


_T0 = time.monotonic()


def log(message: str) -> None:
    print(f"[bench {time.monotonic() - _T0:5.1f}s] {message}", flush=True)


# --- tools -------------------------------------------------------------------------------


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise BenchError("wrk is missing: install Debian's wrk (sudo apt-get install -y wrk)")
    log("installing wrk (apt-get install -y wrk)")
    apt = ["apt-get", "-o", "DPkg::Lock::Timeout=120", "-y", "-qq"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    result = subprocess.run([*apt, "install", "wrk"], env=env, capture_output=True, timeout=600)
    if result.returncode != 0:
        subprocess.run([*apt, "update"], env=env, capture_output=True, timeout=600)
        subprocess.run([*apt, "install", "wrk"], env=env, capture_output=True, timeout=600)
    path = shutil.which("wrk")
    if not path:
        raise BenchError("could not install wrk with apt-get; install it by hand")
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_helper(env: dict, *args: str, timeout: float) -> dict:
    result = subprocess.run(
        [sys.executable, str(HELPER), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        raise BenchError(
            f"setup_helper {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
        )
    return json.loads(lines[-1])


# --- PostgreSQL ----------------------------------------------------------------------------


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


def pg_url(dbname: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{dbname}"


# --- the server ----------------------------------------------------------------------------


class Server:
    def __init__(self, env: dict, var: Path, workers: int = 2):
        self.env = env
        self.workers = workers
        self.port = free_port()
        self.log_path = var / "gunicorn.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "repairhub.wsgi:application",
            "--workers",
            str(self.workers),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--timeout",
            "60",
            "--graceful-timeout",
            "20",
            "--error-logfile",
            str(self.log_path),
        ]
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"gunicorn exited ({self.proc.returncode}):\n{self.tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/api/v1/openapi.json")
                conn.getresponse().read()
                conn.close()
                return
            except OSError:
                time.sleep(0.2)
        raise BenchError(f"gunicorn did not answer within 60 s:\n{self.tail()}")

    def stop(self) -> None:
        """Graceful stop (in-flight requests finish), then kill whatever is left."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass

    def post(self, path: str, body: dict, headers: dict) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(
                "POST",
                path,
                body=json.dumps(body),
                headers={"Content-Type": "application/json", **headers},
            )
            response = conn.getresponse()
            return response.status, response.read().decode("utf-8", "replace")
        finally:
            conn.close()

    def tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""


# --- one wrk run ---------------------------------------------------------------------------


def run_wrk(
    wrk: str,
    server: Server,
    *,
    path: str,
    tag: str,
    token: str,
    connections: int,
    seconds: int,
    numbers_file: Path,
) -> dict:
    env = {
        **os.environ,
        "BENCH_PATH": path,
        "BENCH_TAG": tag,
        "BENCH_TOKEN": token,
        "BENCH_OUT": str(numbers_file),
    }
    cmd = [
        wrk,
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        server.url,
    ]
    result = subprocess.run(
        cmd, env=env, capture_output=True, text=True, timeout=seconds + 60, cwd=ROOT
    )
    for line in reversed(result.stdout.splitlines()):
        if line.startswith("BENCH_JSON "):
            return json.loads(line[len("BENCH_JSON ") :])
    raise BenchError(
        f"wrk gave no figures ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    )


def figures(raw: dict) -> dict:
    seconds = raw["duration_us"] / 1e6
    e = raw["errors"]
    socket_errors = e["connect"] + e["read"] + e["write"] + e["timeout"]
    lat = raw["latency_us"]
    return {
        "seconds": round(seconds, 2),
        "responses": raw["responses"],
        "rps": round(raw["responses"] / seconds, 1),
        "created": raw["created"],
        "created_ps": round(raw["created"] / seconds, 1),
        "p50_ms": round(lat["p50"] / 1000, 1),
        "p95_ms": round(lat["p95"] / 1000, 1),
        "p99_ms": round(lat["p99"] / 1000, 1),
        "max_ms": round(lat["max"] / 1000, 1),
        "errors": socket_errors + raw["other"],
        "statuses": raw["statuses"],
        "socket_errors": e,
        # requests sent but not answered when wrk stopped. wrk 4.1 calls request() once at
        # start-up to check the script, and never sends that one: hence the - 1.
        "in_flight": max(raw["sent"] - 1 - raw["responses"], 0),
    }


# --- one database --------------------------------------------------------------------------


def bench_database(db: str, args, wrk: str, collectstatic: bool) -> dict:
    var = Path(tempfile.mkdtemp(prefix=f"repairhub-bench-{db}-"))
    pg_db = f"repairhub_bench_{os.getpid()}"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG"}}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "repairhub.settings",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "FIELD_ENCRYPTION_KEY": secrets.token_urlsafe(32),
            "ALLOWED_HOSTS": "127.0.0.1",
            "REPAIRHUB_VAR": str(var),
            "REPAIRHUB_BENCH_FLOOR": "1",
            "LOG_LEVEL": "WARNING",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.pop("REPAIRHUB_TESTING", None)
    created_pg = False
    server: Server | None = None
    result: dict = {"runs": {}}
    try:
        if db == "postgres":
            pg_admin(f'DROP DATABASE IF EXISTS "{pg_db}"')
            pg_admin(f'CREATE DATABASE "{pg_db}"')
            created_pg = True
            env["DATABASE_URL"] = pg_url(pg_db)
        log(f"{db}: migrate, seed, token")
        prepared = run_helper(
            env, "prepare", *(["--collectstatic"] if collectstatic else []), timeout=600
        )
        token = prepared["token"]
        server = Server(env, var, args.workers)
        server.start()
        log(f"{db}: gunicorn on {server.url}")

        orders_ok = bool(token)
        if not token:
            result["orders_unavailable"] = prepared.get("token_error", "no token")
        else:
            status, body = server.post(
                ORDERS_PATH,
                {
                    "description": "bench probe",
                    "category": "bench-lamp",
                    "place": "B01-101",
                    "reporter_name": "压测",
                    "reporter_phone": "13800138000",
                    "urgency": "normal",
                    "channel": "partner",
                },
                {"Authorization": f"Bearer {token}", "Idempotency-Key": "bench-probe"},
            )
            if status != 201:
                orders_ok = False
                result["orders_unavailable"] = f"probe answered {status}: {body[:300]}"
        if not orders_ok:
            log(f"{db}: orders endpoint unavailable — {result['orders_unavailable']}")

        endpoints = [("floor", FLOOR_PATH)] + ([("orders", ORDERS_PATH)] if orders_ok else [])
        out_dir = var / "numbers"
        out_dir.mkdir()
        # Warm-up (not counted): both workers import and connect before the clock starts.
        for kind, path in endpoints:
            run_wrk(
                wrk,
                server,
                path=path,
                tag=f"warm{kind}",
                token=token,
                connections=4,
                seconds=args.warmup,
                numbers_file=out_dir / f"warm-{kind}.txt",
            )
        verify_runs = []
        for connections in args.concurrency:
            for kind, path in endpoints:
                tag = f"{kind}{connections}x{secrets.token_hex(3)}"
                numbers_file = out_dir / f"{tag}.txt"
                log(f"{db}: {kind} at {connections} connections for {args.duration} s")
                raw = run_wrk(
                    wrk,
                    server,
                    path=path,
                    tag=tag,
                    token=token,
                    connections=connections,
                    seconds=args.duration,
                    numbers_file=numbers_file,
                )
                result["runs"][f"{kind}@{connections}"] = {"tag": tag, **figures(raw)}
                verify_runs.append({"tag": tag, "kind": kind, "numbers_file": str(numbers_file)})
        server.stop()  # graceful: requests in flight finish before the database is counted
        runs_file = var / "runs.json"
        runs_file.write_text(json.dumps(verify_runs))
        counted = run_helper(env, "verify", str(runs_file), timeout=300)
        for run in result["runs"].values():
            run.update({k: v for k, v in counted[run["tag"]].items() if k != "kind"})
        return result
    finally:
        if server is not None:
            if server.proc is not None and server.proc.poll() is None:
                server.stop()
            if args.verbose:
                print(server.tail())
        if created_pg:
            try:
                pg_admin(f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)')
            except Exception as exc:
                log(f"could not drop {pg_db}: {exc}")
        if not args.keep:
            shutil.rmtree(var, ignore_errors=True)
        else:
            log(f"kept {var}")


# --- targets and report --------------------------------------------------------------------


def judge(db: str, result: dict, concurrency: list[int]) -> tuple[dict, list[str]]:
    """Per-concurrency key figures and the list of missed targets for one database."""
    failures: list[str] = []
    summary: dict = {}
    if "error" in result:
        return {"error": result["error"]}, [f"{db}: {result['error']}"]
    if "orders_unavailable" in result:
        failures.append(f"{db}: orders endpoint unavailable ({result['orders_unavailable']})")
    for c in concurrency:
        floor = result["runs"].get(f"floor@{c}")
        orders = result["runs"].get(f"orders@{c}")
        row: dict = {}
        if floor:
            row.update(floor_ps=floor["created_ps"], floor_p99_ms=floor["p99_ms"])
            if floor["errors"] or floor["lost"] or floor["duplicated"]:
                failures.append(f"{db}@{c}: the floor itself had errors or miscounts")
        if orders:
            ratio = orders["created_ps"] / floor["created_ps"] if floor["created_ps"] else 0.0
            row.update(
                orders_ps=orders["created_ps"],
                ratio=round(ratio, 3),
                p50_ms=orders["p50_ms"],
                p95_ms=orders["p95_ms"],
                p99_ms=orders["p99_ms"],
                errors=orders["errors"],
                lost=orders["lost"],
                duplicated=orders["duplicated"],
                unanswered=orders["unanswered"],
            )
            if ratio < RATIO_TARGET:
                failures.append(f"{db}@{c}: {ratio:.2f} of the floor (target ≥ {RATIO_TARGET})")
            if c == P99_AT and orders["p99_ms"] >= P99_TARGET_MS:
                failures.append(f"{db}@{c}: p99 {orders['p99_ms']} ms (target < {P99_TARGET_MS})")
            if orders["errors"]:
                failures.append(f"{db}@{c}: {orders['errors']} errors {orders['statuses']}")
            if orders["lost"] or orders["duplicated"]:
                failures.append(
                    f"{db}@{c}: {orders['lost']} lost, {orders['duplicated']} duplicated"
                )
            if orders["unanswered"] > orders["in_flight"]:
                failures.append(
                    f"{db}@{c}: {orders['unanswered']} orders without a 201, more than the "
                    f"{orders['in_flight']} requests in flight at the stop"
                )
        summary[str(c)] = row
    return summary, failures


def print_table(results: dict) -> None:
    head = (
        f"{'db':<9}{'run':<11}{'req/s':>8}{'201/s':>8}{'p50':>8}{'p95':>8}{'p99':>8}"
        f"{'max':>8}{'err':>5}{'201s':>7}{'in db':>7}{'lost':>5}{'dup':>4}{'unans':>6}{'ratio':>7}"
    )
    print()
    print(head)
    print("-" * len(head))
    for db, result in results.items():
        if "error" in result:
            print(f"{db:<9}ERROR: {result['error']}")
            continue
        for name, run in result["runs"].items():
            ratio = ""
            if name.startswith("orders@"):
                floor = result["runs"].get("floor@" + name.split("@")[1])
                if floor and floor["created_ps"]:
                    ratio = f"{run['created_ps'] / floor['created_ps']:.2f}"
            print(
                f"{db:<9}{name:<11}{run['rps']:>8.0f}{run['created_ps']:>8.0f}"
                f"{run['p50_ms']:>8.1f}{run['p95_ms']:>8.1f}{run['p99_ms']:>8.1f}"
                f"{run['max_ms']:>8.1f}{run['errors']:>5}{run['answered_201']:>7}"
                f"{run['in_db']:>7}{run['lost']:>5}{run['duplicated']:>4}"
                f"{run['unanswered']:>6}{ratio:>7}"
            )
        if "orders_unavailable" in result:
            print(f"{db:<9}orders endpoint unavailable: {result['orders_unavailable']}")
    print("(latencies in ms; ratio = orders 201/s ÷ floor 201/s at the same concurrency;")
    print(" unans = orders written for requests still in flight when wrk stopped)")
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="4 s per run, done within a minute (default 30 s)"
    )
    parser.add_argument("--duration", type=int, help="seconds per run")
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite,postgres (default both)")
    parser.add_argument("--concurrency", default="16,64", help="connections (default 16,64)")
    parser.add_argument(
        "--workers", type=int, default=2, help="gunicorn workers (default 2, as repairhub serve)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary REPAIRHUB_VAR")
    parser.add_argument("--verbose", action="store_true", help="print the gunicorn log")
    args = parser.parse_args(argv)
    args.duration = args.duration or (4 if args.quick else 30)
    args.warmup = 1 if args.quick else 3
    args.concurrency = [int(c) for c in args.concurrency.split(",") if c]
    dbs = [d.strip() for d in args.db.split(",") if d.strip()]
    started = time.monotonic()
    load_before = os.getloadavg()
    log(f"load average before: {load_before[0]:.2f} (2 cores shared with whatever else runs)")

    try:
        wrk = ensure_wrk()
    except (BenchError, subprocess.TimeoutExpired) as exc:
        print(f"[bench] {exc}", file=sys.stderr)
        print(json.dumps({"ok": False, "error": str(exc)}))
        return 1

    results: dict = {}
    for index, db in enumerate(dbs):
        try:
            if db not in {"sqlite", "postgres"}:
                raise BenchError(f"unknown database {db!r}")
            results[db] = bench_database(db, args, wrk, collectstatic=index == 0)
        except Exception as exc:
            log(f"{db}: FAILED — {exc}")
            results[db] = {"error": f"{type(exc).__name__}: {str(exc)[:500]}"}

    print_table(results)
    summary: dict = {}
    failures: list[str] = []
    for db, result in results.items():
        summary[db], missed = judge(db, result, args.concurrency)
        failures += missed
    for failure in failures:
        print(f"MISSED {failure}")
    if not failures:
        print("All targets held.")
    line = {
        "bench": "intake",
        "ok": not failures,
        "seconds_per_run": args.duration,
        "elapsed_s": round(time.monotonic() - started, 1),
        "load_before": round(load_before[0], 2),
        "load_after": round(os.getloadavg()[0], 2),
        "results": summary,
        "missed": failures,
    }
    out_dir = ROOT / "bench" / "out"  # ignored by git: the full figures of the latest runs
    out_dir.mkdir(exist_ok=True)
    full = {
        **line,
        "runs": results,
        "command": " ".join(["bench/intake.py", *(argv or sys.argv[1:])]),
    }
    (out_dir / f"intake-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(
        json.dumps(full, ensure_ascii=False, indent=2)
    )
    print(json.dumps(line, ensure_ascii=False))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
