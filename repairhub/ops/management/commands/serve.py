from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from repairhub.ops.demo import DEMO_PASSWORD, demo_present, logins_table
from repairhub.ops.serving import prepare, supervise, web_command, worker_command


class Command(BaseCommand):
    help = (
        "Run RepairHub on this machine: migrate, then gunicorn and the Huey worker together "
        "(Ctrl-C stops both)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--demo", action="store_true", help="Load demo data into an empty DB.")
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))

    def handle(self, *args, demo: bool, host: str, port: int, **options):
        if not 0 < port < 65536:
            raise CommandError(_("端口必须在 1–65535 之间：%(port)s") % {"port": port})

        def out(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()

        prepared = prepare(demo=demo, out=out)
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "") else host
        out("")
        out(
            _("报修云已启动：%(url)s（管理后台：%(url)sadmin/）")
            % {"url": f"http://{shown_host}:{port}/"}
        )
        if demo and not prepared.demo_loaded:
            out(prepared.demo_message)
        if demo_present():
            out("")
            out(logins_table())
            out(_("（所有演示账号的密码：%(password)s）") % {"password": DEMO_PASSWORD})
        out("")
        code = supervise({"worker": worker_command(), "web": web_command(host, port)}, out=out)
        if code:
            raise CommandError(_("已停止：子进程退出，状态 %(code)s") % {"code": code})
