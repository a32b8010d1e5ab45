from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "repairhub.sla"
    verbose_name = _("服务时限")
