"""Notifications: event-to-delivery latency with the worker running, and delivery throughput
against a floor, with the embedded queue (SqliteHuey) and with Redis.

    .venv/bin/python bench/notify.py            # full: 200 events, 2,000 messages per queue
    .venv/bin/python bench/notify.py --quick    # 40 events, 300 messages: within a minute
    .venv/bin/python bench/notify.py --queue sqlite --events 100 --messages 1000 --keep

One fresh SQLite database is migrated and seeded (a place, a category, a partner account
`bench-partner`), then copied for each queue. For each queue (`sqlite`: SqliteHuey in the run's
REPAIRHUB_VAR; `redis`: REDIS_URL=redis://127.0.0.1:6379/<BENCH_REDIS_DB, default 13> with a
HUEY_NAME of this run only), with DEBUG=0 and LOG_LEVEL=WARNING:

- a partner's webhook receiver runs in this process on 127.0.0.1 (HTTP/1.1 keep-alive): it
  notes the arrival time of each delivery key and answers 204;
- the real worker runs: `manage.py worker` (the Huey consumer, 2 threads), with the receiver as
  the partner's endpoint (WEBHOOK_ENDPOINTS=bench-partner=…);
- latency: a producer process submits orders as the partner (`create_order`, channel partner),
  one every 0.1 s, after 5 uncounted warm-up orders it waits to see sent; each order's `workorder.submitted` event writes its receipts (the partner's
  webhook, the reporter's SMS on the console channel, the partner's in-app message) through
  outbox.post() and queues them at commit. Latency = arrival at the receiver − the commit of the
  event's transaction (a callback registered first, so it runs before the enqueue);
- throughput: the producer posts N webhook messages in one transaction (queued at commit, one
  task each); throughput = N ÷ (last arrival − commit). Every row must end `sent`.
- floor: this process posts the same N bodies, signed the same way, to the same receiver in a
  bare loop (one httpx client, one connection), once just before the engine's run (bodies of a
  rolled-back burst) and once just after (the burst's own); the floor is 2N ÷ both times.

Targets (each queue): event-to-delivery p95 < 2 s ("at once" for a technician waiting for his
task, TM2); throughput ≥ 0.25 × the floor — a delivery is the floor's HTTP request plus two
short transactions on the outbox row (claim; attempt + outcome) and a task from the queue,
which on SQLite costs about as much again as the request, twice; every message delivered
(none lost), every row `sent`. The last line printed is one JSON object whose "ok" is true only
when every target held in this run.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PARTNER = "bench-partner"
SECRET = "whsec-bench-notify"
P95_TARGET_S = 2.0
RATIO_TARGET = 0.25
EVENT_INTERVAL_S = 0.1
WARM_UP = 5  # events before the measured ones, not counted

_T0 = time.monotonic()


def log(message: str) -> None:
    print(f"[bench {time.monotonic() - _T0:5.1f}s] {message}", flush=True)


class BenchError(RuntimeError):
    pass


# --- the partner's receiver ---------------------------------------------------------------


class Receiver:
    """Webhook endpoint on 127.0.0.1: arrival time of every delivery key (first and repeats)."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.repeats = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                now = time.time()
                key = self.headers.get("X-RepairHub-Delivery", "")
                with receiver.lock:
                    if key in receiver.arrivals:
                        receiver.repeats += 1
                    else:
                        receiver.arrivals[key] = now
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def wait_for(self, keys: set[str], seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                if keys <= self.arrivals.keys():
                    return True
            time.sleep(0.01)
        return False

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- children: prepare and produce, inside the run's Django environment --------------------


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "repairhub.settings")
    import django

    django.setup()


def child_prepare() -> dict:
    _django()
    from django.core.management import call_command
    from django.db import connection

    from repairhub.accounts.roles import Role
    from repairhub.accounts.services import create_user
    from repairhub.places.models import Place, PlaceKind
    from repairhub.workorders.models import Category

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    campus = Place.objects.create(kind=PlaceKind.CAMPUS, code="BENCH", name="压测校区")
    building = Place.objects.create(
        kind=PlaceKind.BUILDING, code="B01", name="1号楼", parent=campus
    )
    floor = Place.objects.create(kind=PlaceKind.FLOOR, code="B01-1F", name="1层", parent=building)
    Place.objects.create(kind=PlaceKind.ROOM, code="B01-101", name="101", parent=floor)
    power = Category.objects.create(code="bench-power", name="水电")
    Category.objects.create(code="bench-lamp", name="灯具", parent=power)
    create_user(PARTNER, roles=[Role.PARTNER], display_name="压测合作平台")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {"ok": True}


def _stamp_commit(stamps: list[float]) -> None:
    from django.db import transaction

    transaction.on_commit(lambda: stamps.append(time.time()))


def child_latency(events: int, tag: str) -> dict:
    """Submit `events` orders as the partner, one every EVENT_INTERVAL_S; key → commit time."""
    _django()
    from django.db import transaction

    from repairhub.accounts.models import User
    from repairhub.notify.models import Message, MessageChannel, MessageStatus
    from repairhub.places.models import Place
    from repairhub.workorders.models import Category, Channel
    from repairhub.workorders.services import create_order

    partner = User.objects.get(username=PARTNER)
    category = Category.objects.get(code="bench-lamp")
    place = Place.objects.get(code="B01-101")
    committed: dict[str, float] = {}
    warm_up: list[str] = []
    next_at = time.monotonic()
    for n in range(WARM_UP + events):
        stamps: list[float] = []
        with transaction.atomic():
            _stamp_commit(stamps)  # first callback: runs before the receipts are queued
            order, _ = create_order(
                category=category,
                place=place,
                description=f"bench {tag} {n}",
                reporter_name="压测",
                reporter_phone="13800138000",
                channel=Channel.PARTNER,
                reporter=partner,
                by=partner,
            )
        key = Message.objects.get(order_number=order.number, channel=MessageChannel.WEBHOOK).key
        if n < WARM_UP:
            # Not counted: the worker imports, connects and takes its first tasks.
            warm_up.append(key)
            if n == WARM_UP - 1:
                deadline = time.monotonic() + 60
                rows = Message.objects.filter(key__in=warm_up, status=MessageStatus.SENT)
                while rows.count() < WARM_UP and time.monotonic() < deadline:
                    time.sleep(0.05)
                next_at = time.monotonic()
            continue
        committed[key] = stamps[0]
        next_at += EVENT_INTERVAL_S
        time.sleep(max(next_at - time.monotonic(), 0))
    return {"committed": committed}


def child_burst(messages: int, tag: str) -> dict:
    """Post `messages` webhook messages in one transaction; their keys and bodies, and the
    commit time."""
    _django()
    from django.db import transaction

    from repairhub.accounts.models import User
    from repairhub.notify.models import Message, MessageChannel
    from repairhub.notify.outbox import post

    partner = User.objects.get(username=PARTNER)
    stamps: list[float] = []
    with transaction.atomic():
        _stamp_commit(stamps)
        for n in range(messages):
            post([partner], "workorder.accepted", {"number": f"{tag}-{n:05d}"})
    rows = Message.objects.filter(channel=MessageChannel.WEBHOOK, order_number__startswith=tag)
    return {
        "committed": stamps[0],
        "messages": [
            {"key": m.key, "event": m.cause, "subject": m.subject, "text": m.body, "data": m.params}
            for m in rows
        ],
    }


def child_bodies(messages: int, tag: str) -> dict:
    """The documents `messages` webhook messages would carry, written and rolled back (nothing
    is queued): the floor's first run, before the engine's."""
    _django()
    from django.db import transaction

    from repairhub.accounts.models import User
    from repairhub.notify.models import Message, MessageChannel
    from repairhub.notify.outbox import post

    partner = User.objects.get(username=PARTNER)
    with transaction.atomic():
        for n in range(messages):
            post([partner], "workorder.accepted", {"number": f"{tag}-{n:05d}"})
        rows = Message.objects.filter(channel=MessageChannel.WEBHOOK, order_number__startswith=tag)
        documents = [
            {"key": m.key, "event": m.cause, "subject": m.subject, "text": m.body, "data": m.params}
            for m in rows
        ]
        transaction.set_rollback(True)
    return {"messages": documents}


def child_count(tag: str) -> dict:
    _django()
    from django.db.models import Count

    from repairhub.notify.models import Message, MessageChannel

    rows = Message.objects.filter(channel=MessageChannel.WEBHOOK, order_number__startswith=tag)
    return {"statuses": dict(rows.values_list("status").annotate(n=Count("pk")))}


# --- the run ----------------------------------------------------------------------------------


def run_child(env: dict, *args: str, timeout: float) -> dict:
    result = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        raise BenchError(
            f"child {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}"
        )
    return json.loads(lines[-1])


def base_env(var: Path) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "REPAIRHUB_TESTING", "HUEY_NAME"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "repairhub.settings",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "FIELD_ENCRYPTION_KEY": secrets.token_urlsafe(32),
            "ALLOWED_HOSTS": "127.0.0.1",
            "REPAIRHUB_VAR": str(var),
            "LOG_LEVEL": "WARNING",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(round(q * (len(ordered) - 1)), len(ordered) - 1)
    return ordered[index]


def floor_run(url: str, bodies: list[dict]) -> float:
    """The bare loop: the same signed POSTs to the same receiver; seconds taken."""
    import httpx

    prepared = []
    for doc in bodies:
        document = {
            "id": doc["key"],
            "event": doc["event"],
            "subject": doc["subject"],
            "text": doc["text"],
            "data": doc["data"],
            "urgent": False,
        }
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        prepared.append((doc["key"], body))
    with httpx.Client(timeout=10) as client:
        started = time.monotonic()
        for key, body in prepared:
            stamp = str(int(time.time()))
            mac = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256)
            reply = client.post(
                url,
                content=body,
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "X-RepairHub-Delivery": "floor-" + key,
                    "X-RepairHub-Timestamp": stamp,
                    "X-RepairHub-Signature": "sha256=" + mac.hexdigest(),
                },
            )
            if reply.status_code != 204:
                raise BenchError(f"floor: receiver answered {reply.status_code}")
        return time.monotonic() - started


def bench_queue(queue: str, template: Path, args) -> dict:
    var = Path(tempfile.mkdtemp(prefix=f"repairhub-bench-notify-{queue}-"))
    for name in ("repairhub.sqlite3", "repairhub.sqlite3-wal"):
        if (template / name).exists():
            shutil.copy(template / name, var / name)
    for name in ("secret.key", "field.key"):
        if (template / name).exists():
            shutil.copy(template / name, var / name)
    receiver = Receiver()
    env = base_env(var)
    env.update(
        {
            "SECRET_KEY": args.secret_key,
            "FIELD_ENCRYPTION_KEY": args.field_key,
            "WEBHOOK_ENDPOINTS": f"{PARTNER}={receiver.url}",
            "WEBHOOK_SECRETS": f"{PARTNER}={SECRET}",
        }
    )
    if queue == "redis":
        env["REDIS_URL"] = f"redis://127.0.0.1:6379/{os.environ.get('BENCH_REDIS_DB', '13')}"
        env["HUEY_NAME"] = f"bench-notify-{os.getpid()}"
    worker_log = var / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "worker"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=worker_log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    result: dict = {"queue": queue}
    try:
        log(f"{queue}: latency, {args.events} events at {1 / EVENT_INTERVAL_S:.0f}/s")
        out = run_child(env, "latency", str(args.events), f"L{queue}", timeout=600)
        committed: dict[str, float] = out["committed"]
        delivered = receiver.wait_for(set(committed), 60)
        if not receiver.arrivals:
            raise BenchError(
                f"{queue}: the worker delivered nothing:\n{worker_log.read_text()[-3000:]}"
            )
        latencies = [
            receiver.arrivals[k] - t for k, t in committed.items() if k in receiver.arrivals
        ]
        result["latency"] = {
            "events": len(committed),
            "delivered": len(latencies),
            "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
            "p95_ms": round(percentile(latencies, 0.95) * 1000, 1) if latencies else None,
            "max_ms": round(max(latencies) * 1000, 1) if latencies else None,
            "all_delivered": delivered,
        }

        log(f"{queue}: floor, {args.messages} posts in a bare loop (before)")
        tag = f"T{queue}{secrets.token_hex(2)}"
        before = run_child(env, "bodies", str(args.messages), tag, timeout=600)["messages"]
        floor_before = floor_run(receiver.url, before)

        log(f"{queue}: throughput, {args.messages} messages in one transaction")
        burst = run_child(env, "burst", str(args.messages), tag, timeout=600)
        keys = {m["key"] for m in burst["messages"]}
        delivered = receiver.wait_for(keys, 300)
        last = max(receiver.arrivals[k] for k in keys if k in receiver.arrivals)
        seconds = last - burst["committed"]
        statuses = run_child(env, "count", tag, timeout=120)["statuses"]
        result["throughput"] = {
            "messages": len(keys),
            "delivered": sum(k in receiver.arrivals for k in keys),
            "seconds": round(seconds, 2),
            "per_s": round(len(keys) / seconds, 1),
            "rows": statuses,
            "all_delivered": delivered,
        }

        log(f"{queue}: floor, the same {len(keys)} posts in a bare loop (after)")
        floor_after = floor_run(receiver.url, burst["messages"])
        # Before and after the engine's run, so a load that comes and goes on a shared machine
        # weighs on both sides alike.
        result["floor"] = {
            "seconds_before": round(floor_before, 2),
            "seconds_after": round(floor_after, 2),
            "per_s": round((len(before) + len(keys)) / (floor_before + floor_after), 1),
        }
        result["ratio"] = round(result["throughput"]["per_s"] / result["floor"]["per_s"], 3)
        result["repeats"] = receiver.repeats
        return result
    finally:
        try:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
        except ProcessLookupError:
            pass
        receiver.close()
        if args.verbose:
            print(worker_log.read_text()[-5000:])
        if not args.keep:
            shutil.rmtree(var, ignore_errors=True)
        else:
            log(f"kept {var}")


def judge(queue: str, r: dict) -> list[str]:
    if "error" in r:
        return [f"{queue}: {r['error']}"]
    missed = []
    lat, thr = r["latency"], r["throughput"]
    if not lat["all_delivered"] or lat["delivered"] != lat["events"]:
        missed.append(f"{queue}: {lat['events'] - lat['delivered']} events never delivered")
    elif lat["p95_ms"] >= P95_TARGET_S * 1000:
        missed.append(
            f"{queue}: latency p95 {lat['p95_ms']} ms (target < {P95_TARGET_S * 1000:.0f})"
        )
    if not thr["all_delivered"] or thr["delivered"] != thr["messages"]:
        missed.append(f"{queue}: {thr['messages'] - thr['delivered']} messages never delivered")
    if thr["rows"] != {"sent": thr["messages"]}:
        missed.append(f"{queue}: rows {thr['rows']} (every row must be sent)")
    if r["ratio"] < RATIO_TARGET:
        missed.append(f"{queue}: {r['ratio']:.2f} of the floor (target ≥ {RATIO_TARGET})")
    return missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts, within a minute")
    parser.add_argument("--queue", default="sqlite,redis", help="sqlite,redis (default both)")
    parser.add_argument("--events", type=int, help="latency: events (default 200, quick 40)")
    parser.add_argument("--messages", type=int, help="throughput: messages (2000, quick 300)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary REPAIRHUB_VAR")
    parser.add_argument("--verbose", action="store_true", help="print the worker's log")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        kind, *rest = args.child
        if kind == "prepare":
            out = child_prepare()
        elif kind == "latency":
            out = child_latency(int(rest[0]), rest[1])
        elif kind == "burst":
            out = child_burst(int(rest[0]), rest[1])
        elif kind == "bodies":
            out = child_bodies(int(rest[0]), rest[1])
        else:
            out = child_count(rest[0])
        print(json.dumps(out))
        return 0

    args.events = args.events or (40 if args.quick else 200)
    args.messages = args.messages or (300 if args.quick else 2000)
    args.secret_key = secrets.token_urlsafe(48)
    args.field_key = secrets.token_urlsafe(32)
    queues = [q.strip() for q in args.queue.split(",") if q.strip()]
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    log(f"load average before: {load_before:.2f} (2 cores shared with whatever else runs)")

    template = Path(tempfile.mkdtemp(prefix="repairhub-bench-notify-db-"))
    results: dict = {}
    try:
        env = base_env(template)
        env.update({"SECRET_KEY": args.secret_key, "FIELD_ENCRYPTION_KEY": args.field_key})
        log("migrate and seed one database (copied for each queue)")
        run_child(env, "prepare", timeout=600)
        for queue in queues:
            try:
                if queue not in {"sqlite", "redis"}:
                    raise BenchError(f"unknown queue {queue!r}")
                results[queue] = bench_queue(queue, template, args)
            except Exception as exc:
                log(f"{queue}: FAILED — {exc}")
                results[queue] = {"error": f"{type(exc).__name__}: {str(exc)[:500]}"}
    finally:
        shutil.rmtree(template, ignore_errors=True)

    print()
    print(
        f"{'queue':<8}{'events':>7}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
        f"{'msgs':>7}{'msg/s':>8}{'floor/s':>9}{'ratio':>7}"
    )
    failures: list[str] = []
    summary: dict = {}
    for queue, r in results.items():
        failures += judge(queue, r)
        if "error" in r:
            print(f"{queue:<8}ERROR: {r['error']}")
            summary[queue] = {"error": r["error"]}
            continue
        lat, thr, flo = r["latency"], r["throughput"], r["floor"]
        print(
            f"{queue:<8}{lat['events']:>7}{lat['p50_ms']:>9.1f}{lat['p95_ms']:>9.1f}"
            f"{lat['max_ms']:>9.1f}{thr['messages']:>7}{thr['per_s']:>8.1f}{flo['per_s']:>9.1f}"
            f"{r['ratio']:>7.2f}"
        )
        summary[queue] = {
            "p50_ms": lat["p50_ms"],
            "p95_ms": lat["p95_ms"],
            "msgs_per_s": thr["per_s"],
            "floor_per_s": flo["per_s"],
            "ratio": r["ratio"],
            "repeats": r["repeats"],
        }
    print()
    for failure in failures:
        print(f"MISSED {failure}")
    if not failures:
        print("All targets held.")
    line = {
        "bench": "notify",
        "ok": not failures,
        "events": args.events,
        "messages": args.messages,
        "elapsed_s": round(time.monotonic() - started, 1),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "results": summary,
        "missed": failures,
    }
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(exist_ok=True)
    (out_dir / f"notify-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(
        json.dumps(
            {
                **line,
                "runs": results,
                "command": " ".join(["bench/notify.py", *(argv or sys.argv[1:])]),
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    print(json.dumps(line, ensure_ascii=False))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
