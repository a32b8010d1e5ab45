"""The complaint categories seed 001 names (维修服务, 餐厅饮食, 公寓设施, 其他); the admin may
rename, add or retire them."""

from django.db import migrations

CATEGORIES = [
    ("repair", "维修服务", 10),
    ("canteen", "餐厅饮食服务", 20),
    ("dormitory", "公寓设施服务", 30),
    ("other", "其他", 90),
]


def add_categories(apps, schema_editor):
    ComplaintCategory = apps.get_model("feedback", "ComplaintCategory")
    for code, name, sort in CATEGORIES:
        ComplaintCategory.objects.get_or_create(code=code, defaults={"name": name, "sort": sort})


class Migration(migrations.Migration):
    dependencies = [("feedback", "0001_initial")]

    operations = [migrations.RunPython(add_categories, migrations.RunPython.noop)]
