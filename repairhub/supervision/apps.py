from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "repairhub.supervision"
    verbose_name = _("督办")

    def ready(self) -> None:
        from repairhub.workorders.states import EVENT_LABELS

        from . import texts
        from .services import EVENT_REMINDED, EVENT_SUPERVISED

        texts.register_all()
        EVENT_LABELS[EVENT_REMINDED] = _("提醒维修人员")
        EVENT_LABELS[EVENT_SUPERVISED] = _("督办")
