"""`repairhub deliver_outbox [--follow]`: deliver what is due in the outbox now.

Without a queue (or to drain one by hand) this does what the worker's sweep does; `--follow`
keeps polling, which is how the crash test runs a worker it can kill.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from repairhub.notify import services


class Command(BaseCommand):
    help = "Deliver due outbox messages (pending, or claimed by a worker whose lease ran out)."

    def add_arguments(self, parser):
        parser.add_argument("--follow", action="store_true", help="keep polling until stopped")
        parser.add_argument(
            "--interval", type=float, default=1.0, help="seconds between polls (--follow)"
        )

    def handle(self, *args, follow: bool = False, interval: float = 1.0, **options):
        if interval <= 0:
            raise CommandError("--interval must be positive.")
        while True:
            sent = services.sweep()
            if not follow:
                self.stdout.write(f"sent {sent}")
                return
            close_old_connections()
            time.sleep(interval)
