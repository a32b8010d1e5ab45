from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "repairhub.ops"
    label = "ops"
    verbose_name = "Operations"
