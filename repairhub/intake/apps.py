from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "repairhub.intake"
    label = "intake"
    verbose_name = _("报修受理")
