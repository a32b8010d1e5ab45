from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "repairhub.feedback"
    label = "feedback"
    verbose_name = _("回访与质检")

    def ready(self) -> None:
        from repairhub.workorders.states import EVENT_LABELS

        from . import texts  # noqa: F401  (registers the message texts at import)
        from .states import EVENT_LABELS as FEEDBACK_EVENT_LABELS

        EVENT_LABELS.update(FEEDBACK_EVENT_LABELS)
