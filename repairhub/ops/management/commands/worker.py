from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the background worker (the Huey consumer): outbox delivery and periodic jobs."

    def handle(self, *args, **options):
        call_command("run_huey")
