from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "repairhub.notify"
    label = "notify"
    verbose_name = _("消息")

    def ready(self) -> None:
        from . import preferences, receipts, texts
        from .models import MessageTemplate, NotificationPreference

        receipts.register_all()
        # An administrator's edited wording takes effect at once in this process (and within
        # LOCAL_CACHE_SECONDS in the others).
        post_save.connect(texts.forget_wordings, sender=MessageTemplate, dispatch_uid="notify-tpl")
        post_delete.connect(
            texts.forget_wordings, sender=MessageTemplate, dispatch_uid="notify-tpl-d"
        )
        for signal in (post_save, post_delete):
            signal.connect(
                preferences.forget_choices,
                sender=NotificationPreference,
                dispatch_uid=f"notify-pref-{signal is post_save}",
            )
