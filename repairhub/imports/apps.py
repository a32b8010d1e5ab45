from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "repairhub.imports"
    label = "imports"
    verbose_name = _("历史工单导入")

    def ready(self) -> None:
        from repairhub.workorders.states import EVENT_LABELS

        from .models import EVENT_IMPORTED

        EVENT_LABELS[EVENT_IMPORTED] = _("历史数据导入")
