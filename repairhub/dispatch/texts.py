"""Default message texts of dispatch, registered with notify at start-up (apps.py)."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from repairhub.notify.models import MessageChannel
from repairhub.notify.texts import register

UNASSIGNED = "dispatch.unassigned"


def register_all() -> None:
    register(
        UNASSIGNED,
        gettext_noop("【报修云】工单 %(number)s 无人可派：%(why)s。请人工派工。"),
        params=("number", "why"),
        # The dispatcher's queue already lists the order with its reason; in a storm an SMS per
        # order would drown the duty phone. In-app, e-mail and the group robots only.
        channels=(
            MessageChannel.IN_APP,
            MessageChannel.EMAIL,
            MessageChannel.WECOM,
            MessageChannel.DINGTALK,
        ),
    )
