from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from repairhub.ops import serving
from repairhub.ops.demo import ORDERS
from repairhub.testing.personas import make_user
from repairhub.workorders.models import WorkOrder


@pytest.mark.django_db
def test_prepare_loads_the_demo_into_an_empty_database_only(settings):
    settings.DEBUG = True
    lines: list[str] = []
    prepared = serving.prepare(demo=True, out=lines.append)
    assert prepared.demo_loaded
    assert "数据库已迁移。" in lines
    assert "静态文件已收集。" not in lines  # DEBUG serves them through WhiteNoise
    assert WorkOrder.objects.count() == len(ORDERS)

    again = serving.prepare(demo=True, out=lines.append)
    assert not again.demo_loaded
    assert WorkOrder.objects.count() == len(ORDERS)


@pytest.mark.django_db
def test_prepare_collects_static_files_when_not_debug(settings, tmp_path):
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path / "static"
    make_user("someone")
    lines: list[str] = []
    prepared = serving.prepare(demo=True, out=lines.append)
    assert "静态文件已收集。" in lines
    assert (tmp_path / "static" / "repairhub" / "app.css").exists()
    assert not prepared.demo_loaded and WorkOrder.objects.count() == 0


def test_children_are_gunicorn_and_the_huey_consumer():
    assert serving.web_command("0.0.0.0", 9000)[1:] == [
        "-m",
        "gunicorn",
        "repairhub.wsgi:application",
        "-b",
        "0.0.0.0:9000",
        "--workers",
        "2",
        "--access-logfile",
        "-",
        "--no-control-socket",
    ]
    assert serving.worker_command()[1:] == ["-m", "repairhub.cli", "run_huey"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _processes_with(marker: str) -> list[int]:
    """PIDs whose environment carries the marker: every descendant of the server inherits it."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_serve_answers_http_and_stops_both_children_on_sigterm(tmp_path):
    port = _free_port()
    var = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if k != "REPAIRHUB_TESTING"}
    env.update(
        REPAIRHUB_VAR=str(var),
        DATABASE_URL=f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        DJANGO_SETTINGS_MODULE="repairhub.settings",
    )
    marker = f"REPAIRHUB_VAR={var}"
    script = Path(sys.executable).with_name("repairhub")
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [str(script), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        status = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
                    status = response.status
                    break
            except OSError:  # refused while starting, or the first request's slow answer
                time.sleep(0.2)
        output = (tmp_path / "serve.log").read_text()
        assert status == 200, output
        pids = {m[0]: int(m[1]) for m in re.findall(r"^(\w+) 已启动（pid (\d+)）$", output, re.M)}
        assert set(pids) == {"worker", "web"}
        assert all(_alive(pid) for pid in pids.values())
        assert f"http://127.0.0.1:{port}/" in output
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(timeout=60)
        finally:
            if server.poll() is None:
                server.kill()
            log.close()
    output = (tmp_path / "serve.log").read_text()
    assert code == 0, output
    assert "web 已停止" in output and "worker 已停止" in output
    assert not any(_alive(pid) for pid in pids.values())
    assert _processes_with(marker) == []
