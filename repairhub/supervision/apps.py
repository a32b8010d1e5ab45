from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "repairhub.supervision"
    verbose_name = _("督办")
