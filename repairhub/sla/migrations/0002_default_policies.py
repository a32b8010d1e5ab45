"""Seed the default calendars and policies (docs/sla.md, "Defaults and why").

A snapshot of repairhub/sla/defaults.py as it was when this migration was written: later
changes to that module do not rewrite installed systems, where the admin owns the figures.
"""

from django.db import migrations

WORKING_DAY = 8 * 60  # minutes counted in one 08:00–12:00 + 14:00–18:00 day

CALENDARS = {
    "24x7": {"name": "全天候（24×7）", "round_the_clock": True, "periods": ""},
    "working_hours": {
        "name": "工作时间（08:00–12:00, 14:00–18:00，含节假日调休）",
        "round_the_clock": False,
        "periods": "08:00-12:00, 14:00-18:00",
    },
}

# urgency: (calendar, accept, arrive, complete) in minutes of the calendar's counted time.
POLICIES = {
    "critical": ("24x7", 5, 15, 8 * 60),
    "high": ("24x7", 10, 30, 24 * 60),
    "normal": ("working_hours", 30, WORKING_DAY // 2, 3 * WORKING_DAY),
    "low": ("working_hours", 2 * 60, 2 * WORKING_DAY, 5 * WORKING_DAY),
}


def seed(apps, schema_editor):
    SlaCalendar = apps.get_model("sla", "SlaCalendar")
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    calendars = {}
    for key, fields in CALENDARS.items():
        calendars[key], _ = SlaCalendar.objects.get_or_create(
            name=fields["name"],
            defaults={
                "round_the_clock": fields["round_the_clock"],
                "periods": fields["periods"],
                "use_public_holidays": True,
            },
        )
    for urgency, (calendar, accept, arrive, complete) in POLICIES.items():
        SlaPolicy.objects.get_or_create(
            category=None,
            urgency=urgency,
            defaults={
                "calendar": calendars[calendar],
                "accept_minutes": accept,
                "arrive_minutes": arrive,
                "complete_minutes": complete,
                "pause_on_hold": True,
            },
        )


def unseed(apps, schema_editor):
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    SlaCalendar = apps.get_model("sla", "SlaCalendar")
    SlaPolicy.objects.filter(category=None, urgency__in=list(POLICIES)).delete()
    SlaCalendar.objects.filter(
        name__in=[c["name"] for c in CALENDARS.values()], policies__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
