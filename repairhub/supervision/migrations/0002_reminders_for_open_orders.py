"""Orders already with a technician when reminders arrive get their schedule now: the first
reminder one interval from the migration (not a burst for all the time already past)."""

from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone

WORKING = ("dispatched", "acknowledged", "in_progress")


def schedule(apps, schema_editor):
    WorkOrder = apps.get_model("workorders", "WorkOrder")
    Reminder = apps.get_model("supervision", "Reminder")
    now = timezone.now()
    hours = getattr(settings, "SUPERVISION_REMIND_HOURS", 12)
    orders = WorkOrder.objects.filter(status__in=WORKING, assignee__isnull=False).exclude(
        reminder__isnull=False
    )
    Reminder.objects.bulk_create(
        [
            Reminder(
                order_id=o.pk,
                technician_id=o.assignee_id,
                started_at=o.dispatched_at or now,
                next_at=now + timedelta(hours=hours),
            )
            for o in orders.only("pk", "assignee_id", "dispatched_at").iterator()
        ],
        batch_size=500,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("supervision", "0001_reminders_and_escalations"),
        ("workorders", "0003_urges"),
    ]

    operations = [migrations.RunPython(schedule, migrations.RunPython.noop)]
