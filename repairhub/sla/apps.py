from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "repairhub.sla"
    label = "sla"
    verbose_name = _("服务时限")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from repairhub.workorders.states import EVENT_LABELS

        from .models import CalendarDay, SlaCalendar, SlaPolicy
        from .services import BOOK, EVENT_BREACHED

        EVENT_LABELS[EVENT_BREACHED] = _("超出服务时限")
        # An edit of a policy or a calendar drops this process's cached copy of them.
        for model in (SlaPolicy, SlaCalendar, CalendarDay):
            uid = f"sla-book-{model.__name__}"
            post_save.connect(BOOK.clear, sender=model, dispatch_uid=uid)
            post_delete.connect(BOOK.clear, sender=model, dispatch_uid=f"{uid}-d")
