"""Scaled mode: two workers share a Redis queue, and a periodic job still runs once a period."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from repairhub.ops.models import WorkerHeartbeat

REDIS = "redis://127.0.0.1:6379/15"
TASK = "repairhub.ops.tasks.heartbeat"


def _database_url() -> str:
    """The test database, as the worker processes must reach it."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{db['USER']}@{host}:{port}/{db['NAME']}"


def _executions(logs: list[Path]) -> int:
    """How many runs of the heartbeat task the workers finished (Huey logs each one)."""
    done = re.compile(rf"{re.escape(TASK)}: [\w-]+ executed in")
    return sum(len(done.findall(log.read_text())) for log in logs)


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_redis_run_a_periodic_job_once_per_period(tmp_path):
    # Both workers enqueue the minute's periodic jobs as they start; start them well inside a
    # minute so both runs fall in the same period.
    while time.time() % 60 > 40:
        time.sleep(0.5)
    name = f"test-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if k != "REPAIRHUB_TESTING"}
    env.update(
        DJANGO_SETTINGS_MODULE="repairhub.settings",
        REPAIRHUB_VAR=str(tmp_path / "var"),
        DATABASE_URL=_database_url(),
        REDIS_URL=REDIS,
        HUEY_NAME=name,
        CACHE_KEY_PREFIX=name,
        SECRET_KEY=settings.SECRET_KEY,
        FIELD_ENCRYPTION_KEY=settings.FIELD_ENCRYPTION_KEY,
        LOG_LEVEL="INFO",
    )
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    workers = []
    try:
        for log in logs:
            with log.open("w") as out:
                workers.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "repairhub.cli", "run_huey"],
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and _executions(logs) < 2:
            assert all(w.poll() is None for w in workers), [log.read_text() for log in logs]
            time.sleep(0.2)
        output = "\n".join(log.read_text() for log in logs)
        # Both copies ran to the end; the second found the period taken.
        assert _executions(logs) >= 2, output
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            try:
                w.wait(timeout=30)
            except subprocess.TimeoutExpired:
                w.kill()
        client = redis.Redis.from_url(REDIS)
        for key in client.scan_iter(f"*{name}*"):
            client.delete(key)
    per_slot = Counter(WorkerHeartbeat.objects.values_list("slot", flat=True))
    assert len(per_slot) == 1, (per_slot, output)
    assert set(per_slot.values()) == {1}, (per_slot, output)
