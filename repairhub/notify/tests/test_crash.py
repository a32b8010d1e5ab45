"""At-least-once delivery when the worker is killed mid-delivery (SIGKILL) and restarted.

A real worker process (`manage.py deliver_outbox --follow`, the sweep in a loop) runs against
this test's database; a webhook partner on 127.0.0.1 verifies each delivery's signature,
records its idempotency key, and holds one request open until the test has killed the worker.
A second worker started afterwards takes the orphaned message over once its lease has run out.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from repairhub.accounts.roles import Role
from repairhub.notify import outbox
from repairhub.notify.channels import verify_signature
from repairhub.notify.models import Attempt, Message, MessageChannel, MessageStatus
from repairhub.testing.personas import make_user

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "whsec-crash-test"
MESSAGES = 8
HOLD_AT = 3  # the third delivery is the one in flight when the worker dies


class Partner:
    """A webhook receiver that records the delivery key of every verified request and holds
    request number HOLD_AT open until `release` is set."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.refused = 0
        self.holding = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        partner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                ok = verify_signature(
                    SECRET,
                    self.headers.get("X-RepairHub-Timestamp", ""),
                    body,
                    self.headers.get("X-RepairHub-Signature", ""),
                    now=time.time(),
                )
                with partner.lock:
                    if ok:
                        partner.keys.append(self.headers["X-RepairHub-Delivery"])
                        hold = len(partner.keys) == HOLD_AT
                    else:
                        partner.refused += 1
                        hold = False
                if hold:
                    partner.holding.set()
                    partner.release.wait(30)
                self.send_response(204 if ok else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def database_url() -> str:
    """This test's database, for a process of its own."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(partner: Partner, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "WEBHOOK_ENDPOINTS": f"partner1={partner.url}",
        "WEBHOOK_SECRETS": f"partner1={SECRET}",
        # A dead worker's messages are taken over 2 s after it claimed them; the partner's
        # held request must not time out on its own first.
        "NOTIFY_LEASE_SECONDS": "2",
        "NOTIFY_READ_TIMEOUT": "30",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "deliver_outbox", "--follow", "--interval", "0.1"],
        cwd=settings.BASE_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def wait_for(condition: Callable[[], bool], *, seconds: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}; worker log:\n{log.read_text()[-3000:]}")


def webhook_rows():
    return Message.objects.filter(channel=MessageChannel.WEBHOOK).order_by("pk")


def test_a_message_in_flight_when_the_worker_is_killed_is_delivered_again_and_never_lost(
    settings, monkeypatch, tmp_path
):
    partner = Partner()
    partner.start()
    log = tmp_path / "worker.log"
    settings.NOTIFY_CHANNELS = {
        **settings.NOTIFY_CHANNELS,
        "partners": {
            "backend": "webhook",
            "endpoints": {"partner1": {"url": partner.url, "secret": SECRET}},
        },
    }
    # The queue is down: nothing is delivered in this process; the workers' sweep finds all.
    monkeypatch.setattr(outbox, "_enqueue", lambda ids: None)
    account = make_user("partner1", Role.PARTNER)
    for n in range(MESSAGES):
        outbox.post([account], "workorder.accepted", {"number": f"BX-CRASH-{n:02d}"})
    rows = list(webhook_rows())
    assert len(rows) == MESSAGES
    keys = {m.key for m in rows}

    first = start_worker(partner, log)
    try:
        if not partner.holding.wait(30):
            pytest.fail(f"the partner never got {HOLD_AT} deliveries:\n{log.read_text()}")
        os.kill(first.pid, signal.SIGKILL)
        assert first.wait(10) == -signal.SIGKILL
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(10)
    partner.release.set()  # the held request now answers a closed connection

    # The partner has the third message, but the dead worker never recorded it: it is still
    # claimed, the ones after it untouched.
    in_flight = partner.keys[HOLD_AT - 1]
    statuses = dict(webhook_rows().values_list("key", "status"))
    assert statuses[in_flight] == MessageStatus.SENDING
    assert Counter(statuses.values()) == {
        MessageStatus.SENT: HOLD_AT - 1,
        MessageStatus.SENDING: 1,
        MessageStatus.PENDING: MESSAGES - HOLD_AT,
    }

    second = start_worker(partner, log)
    try:
        wait_for(
            lambda: not webhook_rows().exclude(status=MessageStatus.SENT).exists(),
            seconds=60,
            what="every message to be sent",
            log=log,
        )
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(10)
        except subprocess.TimeoutExpired:
            second.kill()
            second.wait(10)
        partner.stop()

    received = Counter(partner.keys)
    assert partner.refused == 0
    # At least once: every message reached the partner …
    assert set(received) == keys
    # … and only the one in flight at the kill twice; by its key the partner keeps one of each.
    assert received[in_flight] == 2
    assert all(count == 1 for key, count in received.items() if key != in_flight)
    assert len(set(partner.keys)) == MESSAGES
    assert set(webhook_rows().values_list("status", flat=True)) == {MessageStatus.SENT}
    redelivered = Message.objects.get(key=in_flight)
    assert redelivered.attempts == 1  # the killed attempt left no record; the second did
    assert list(Attempt.objects.filter(message=redelivered).values_list("ok", flat=True)) == [True]
