"""Default message texts of analytics, registered with notify at start-up (apps.py): a report
is ready to download, or could not be made."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from repairhub.notify.texts import register

REPORT_READY = "analytics.report_ready"
REPORT_FAILED = "analytics.report_failed"

# A download link needs a login: the notification centre and e-mail, not SMS or group robots.
CHANNELS = ("in_app", "email")


def register_all() -> None:
    register(
        REPORT_READY,
        gettext_noop("【报修云】%(title)s已生成，登录后下载：%(url)s"),
        subject=gettext_noop("%(title)s已生成"),
        channels=CHANNELS,
    )
    register(
        REPORT_FAILED,
        gettext_noop("【报修云】%(title)s生成失败：%(error)s 请联系管理员。"),
        subject=gettext_noop("%(title)s生成失败"),
        channels=CHANNELS,
    )
