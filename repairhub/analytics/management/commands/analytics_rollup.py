"""`repairhub analytics_rollup [--rebuild | --recent]`: the daily summaries analytics reads
(docs/analytics.md, "Daily summaries"). Without an option: build them if they never were, else
catch up with the orders' events, as the worker does every minute."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from repairhub.analytics import rollup


class Command(BaseCommand):
    help = "Build or update the daily summaries the dashboard, rankings and reports read."

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group()
        which.add_argument(
            "--rebuild",
            action="store_true",
            help="Recompute every day from the orders (after moving places between campuses, "
            "changing TIME_ZONE or restoring a backup).",
        )
        which.add_argument(
            "--recent",
            action="store_true",
            help="Recompute the last ANALYTICS_ROLLUP_RECENT_DAYS days (the nightly job).",
        )

    def handle(self, *args, rebuild: bool, recent: bool, **opts):
        started = time.monotonic()
        if rebuild:
            days = rollup.rebuild()
        elif recent:
            days = rollup.recompute_recent()
        else:
            days = rollup.keep_up()
        seconds = time.monotonic() - started
        self.stdout.write(
            _("每日汇总：重算 %(days)d 天，用时 %(seconds).1f 秒。")
            % {"days": days, "seconds": seconds}
        )
