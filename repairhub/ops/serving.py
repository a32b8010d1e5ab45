"""`repairhub serve`: the embedded mode in one command.

Set-up (migrate, cache table, static files, demo data) runs in-process and is testable on its
own (`prepare`); then the Huey consumer and gunicorn run as child processes that are stopped
together: Ctrl-C, SIGTERM, or either child dying stops the other, and on Linux the children
also get SIGTERM if this process is killed outright, so nothing is left orphaned.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.management import call_command
from django.utils.translation import gettext as _

from .demo import database_is_empty, load_demo

STOP_GRACE_SECONDS = 15
POLL_SECONDS = 0.3


@dataclass
class Prepared:
    demo_loaded: bool
    demo_message: str


def prepare(*, demo: bool, out: Callable[[str], None] = print) -> Prepared:
    """Everything before the servers start; safe to repeat on every start."""
    call_command("migrate", interactive=False, verbosity=0)
    out(_("数据库已迁移。"))
    call_command("createcachetable", verbosity=0)
    if not settings.DEBUG:
        call_command("collectstatic", interactive=False, verbosity=0)
        out(_("静态文件已收集。"))
    loaded, message = False, ""
    if demo:
        if database_is_empty():
            result = load_demo()
            loaded, message = result.loaded, result.message
        else:
            message = _("数据库不是空的，未加载演示数据。")
        out(message)
    return Prepared(loaded, message)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def worker_command() -> list[str]:
    return [sys.executable, "-m", "repairhub.cli", "run_huey"]


def web_command(host: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "repairhub.wsgi:application",
        "-b",
        f"{host}:{port}",
        "--workers",
        "2",
        "--access-logfile",
        "-",
        # gunicorn 27 opens a control socket under ~/.gunicorn by default, shared by every
        # instance of the user; the embedded mode does not use it.
        "--no-control-socket",
    ]


def _spawn(cmd: list[str]) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "repairhub.settings"}
    return subprocess.Popen(cmd, env=env, preexec_fn=_die_with_parent)


def supervise(commands: dict[str, list[str]], *, out: Callable[[str], None] = print) -> int:
    """Run the commands as children until one exits or we are told to stop; stop them all.

    Returns the exit status for this process: 0 after a requested stop, else the failing
    child's code."""
    children: dict[str, subprocess.Popen] = {}
    stop: list[int] = []

    def on_signal(signum, frame):
        stop.append(signum)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    code = 0
    try:
        for name, cmd in commands.items():
            children[name] = _spawn(cmd)
            out(_("%(name)s 已启动（pid %(pid)d）") % {"name": name, "pid": children[name].pid})
        while not stop:
            failed = next(((n, c) for n, c in children.items() if c.poll() is not None), None)
            if failed is not None:
                name, child = failed
                out(
                    _("%(name)s 已退出（状态 %(code)s），正在停止其他进程")
                    % {"name": name, "code": child.returncode}
                )
                code = child.returncode or 1
                break
            time.sleep(POLL_SECONDS)
    finally:
        _stop_all(children, out)
        for s, handler in previous.items():
            signal.signal(s, handler)
    return code


def _stop_all(children: dict[str, subprocess.Popen], out: Callable[[str], None]) -> None:
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for name, child in children.items():
        try:
            child.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            out(
                _("%(name)s 未能在 %(s)d 秒内停止，强制结束")
                % {"name": name, "s": STOP_GRACE_SECONDS}
            )
            child.kill()
            child.wait()
        out(_("%(name)s 已停止") % {"name": name})
