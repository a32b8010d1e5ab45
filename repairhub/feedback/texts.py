"""Message texts this app sends (registered with repairhub.notify at import, from apps.ready)."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from repairhub.notify.texts import register

REFERRAL = "feedback.referral"
QC_FAILED = "feedback.qc_failed"
COMPLAINT_NEW = "feedback.complaint_new"
COMPLAINT_DUE_SOON = "feedback.complaint_due_soon"
COMPLAINT_OVERDUE = "feedback.complaint_overdue"
COMPLAINT_REPEAT = "feedback.complaint_repeat"
RECTIFICATION = "feedback.rectification"

register(
    REFERRAL,
    gettext_noop("【报修云】回访发现工单 %(number)s 需要管理部门处理：%(reason)s"),
    subject=gettext_noop("回访上报 %(number)s"),
)
register(
    QC_FAILED,
    gettext_noop(
        "【报修云】工单 %(number)s 质检不合格，已安排返工（%(rework)s），扣 %(points)s 分。"
        "质检说明：%(note)s"
    ),
    subject=gettext_noop("质检不合格 %(number)s"),
)
register(
    COMPLAINT_NEW,
    gettext_noop(
        "【报修云】新投诉 %(complaint)s（%(category)s），请在 %(due)s 前联系投诉人。%(summary)s"
    ),
    subject=gettext_noop("新投诉 %(complaint)s"),
)
register(
    COMPLAINT_DUE_SOON,
    gettext_noop("【报修云】投诉 %(complaint)s 尚未联系投诉人，首次联系时限 %(due)s。"),
    subject=gettext_noop("投诉即将超时 %(complaint)s"),
)
register(
    COMPLAINT_OVERDUE,
    gettext_noop(
        "【报修云】投诉 %(complaint)s（%(department)s）已超过首次联系时限 %(due)s，仍未联系投诉人。"
    ),
    subject=gettext_noop("投诉超时升级 %(complaint)s"),
)
register(
    COMPLAINT_REPEAT,
    gettext_noop(
        "【报修云】重复投诉 %(complaint)s：与 %(earlier)s 为同一事项（%(department)s，"
        "原处理人 %(handler)s）。%(summary)s"
    ),
    subject=gettext_noop("重复投诉 %(complaint)s"),
)
register(
    RECTIFICATION,
    gettext_noop("【报修云】督查整改任务：%(task)s（%(subject)s），请于 %(due)s 前完成。"),
    subject=gettext_noop("督查整改 %(subject)s"),
)
