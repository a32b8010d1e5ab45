from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from repairhub.ops.demo import load_demo, logins_table


class Command(BaseCommand):
    help = (
        "Load a demo campus, people for every role (password 'repairhub') and orders in every "
        "state. Does nothing when the database already has work orders."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load even if users, places or categories exist (never when orders exist).",
        )

    def handle(self, *args, force: bool = False, **options):
        result = load_demo(force=force)
        if result.reason == "conflict":
            raise CommandError(result.message)
        if not result.loaded:
            self.stdout.write(self.style.WARNING(result.message))
            return
        self.stdout.write(self.style.SUCCESS(result.message))
        self.stdout.write(
            _(
                "用户 %(users)d，地点 %(places)d（房间 %(rooms)d），设备 %(assets)d，"
                "类别 %(categories)d，工单 %(orders)d"
            )
            % result.counts
        )
        self.stdout.write("")
        self.stdout.write(logins_table())
