"""The one row of appraisal weights, with the defaults, for the admin to edit."""

from django.db import migrations

DEFAULTS = {
    "arrival": 15,
    "completion": 15,
    "success": 20,
    "satisfaction": 20,
    "on_time": 15,
    "rework": 5,
    "qc_failures": 5,
    "complaints": 5,
}


def create(apps, schema_editor):
    weights = apps.get_model("analytics", "AppraisalWeights")
    if not weights.objects.exists():
        weights.objects.create(**DEFAULTS)


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_appraisal")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
