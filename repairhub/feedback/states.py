"""Feedback states and the small transition tables (pure Python: no models here).

Complaints move through one table (`COMPLAINT_STEPS`: which entry may be recorded in which
state and where it leads); follow-up visits, quality checks and rectifications have a few
states each. Events this app writes on work orders are listed with their timeline labels.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

# --- events on work orders (no state change; lifecycle.record_event) ----------------------------

EVENT_RATING_CHANGED = "feedback.rating_changed"
EVENT_VISITED = "feedback.visited"
EVENT_REFERRED = "feedback.referred"
EVENT_REFERRAL_CLOSED = "feedback.referral_closed"
EVENT_QC_PASSED = "feedback.qc_passed"
EVENT_QC_FAILED = "feedback.qc_failed"
EVENT_REWORK_LINKED = "feedback.rework_linked"
EVENT_COMPLAINT = "feedback.complaint"

EVENT_LABELS: dict[str, str] = {
    EVENT_RATING_CHANGED: _("报修人修改评价"),
    EVENT_VISITED: _("回访"),
    EVENT_REFERRED: _("上报管理部门"),
    EVENT_REFERRAL_CLOSED: _("上报事项已处理"),
    EVENT_QC_PASSED: _("质检合格"),
    EVENT_QC_FAILED: _("质检不合格"),
    EVENT_REWORK_LINKED: _("关联返修"),
    EVENT_COMPLAINT: _("收到投诉"),
}


# --- follow-up visits (FQ2) ---------------------------------------------------------------------


class FollowUpKind(models.TextChoices):
    COMPLETED = "completed", _("完工回访")  # the repair was done (successfully or not)
    REJECTED = "rejected", _("驳回回访")  # the report was turned down


class FollowUpStatus(models.TextChoices):
    PENDING = "pending", _("待回访")  # waiting in the agents' queue (from `due_at`)
    DONE = "done", _("已回访")  # the reporter was reached and the result recorded
    UNREACHED = "unreached", _("未能联系")  # given up after the allowed attempts


class ReferralStatus(models.TextChoices):
    OPEN = "open", _("待处理")  # reported to management, no action recorded yet
    CLOSED = "closed", _("已处理")  # closed with the action management took


# --- quality checks (FQ4) -----------------------------------------------------------------------


class SampleReason(models.TextChoices):
    RANDOM = "random", _("随机抽取")
    REWORK = "rework", _("返修工单")
    LOW_RATING = "low_rating", _("低评分")
    NEW_TECHNICIAN = "new_technician", _("新入职维修工")
    HIGH_COST = "high_cost", _("高收费")


class CheckStatus(models.TextChoices):
    PENDING = "pending", _("待质检")  # drawn, waiting for an inspector
    PASSED = "passed", _("合格")
    FAILED = "failed", _("不合格")  # sent back as rework, penalty recorded


# --- warranty and rework (FQ5) ------------------------------------------------------------------


class ReworkSource(models.TextChoices):
    WARRANTY = "warranty", _("保修期内再次报修")
    QC = "qc", _("质检不合格")


# --- complaints (FQ3) ---------------------------------------------------------------------------


class ComplaintChannel(models.TextChoices):
    PHONE = "phone", _("电话投诉")
    WEB = "web", _("网上投诉")
    WALK_IN = "walk_in", _("来访投诉")
    LETTER = "letter", _("信件投诉")


class ComplaintStatus(models.TextChoices):
    OPEN = "open", _("待联系")  # registered; the complainant has not been contacted yet
    IN_PROGRESS = "in_progress", _("处理中")  # contacted; findings being gathered
    RESOLVED = "resolved", _("已办结")  # a resolution was given; waiting for satisfaction
    CLOSED = "closed", _("已关闭")  # the complainant's satisfaction recorded


class EntryKind(models.TextChoices):
    CONTACT = "contact", _("联系投诉人")
    FINDING = "finding", _("调查情况")
    RESOLUTION = "resolution", _("处理结果")
    SATISFACTION = "satisfaction", _("投诉人满意度")
    NOTE = "note", _("备注")
    ASSIGNED = "assigned", _("指派处理人")
    REMINDER = "reminder", _("首次联系提醒")
    ESCALATION = "escalation", _("升级")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    NEUTRAL = "neutral", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")


@dataclass(frozen=True)
class Step:
    kind: EntryKind
    sources: frozenset[str]
    target: str | None  # None: the state stays


_ACTIVE = frozenset({ComplaintStatus.OPEN, ComplaintStatus.IN_PROGRESS})

# Which record a handler may add in which state, and where it leads.
COMPLAINT_STEPS: tuple[Step, ...] = (
    Step(EntryKind.CONTACT, _ACTIVE, ComplaintStatus.IN_PROGRESS),
    Step(EntryKind.FINDING, frozenset({ComplaintStatus.IN_PROGRESS}), None),
    Step(EntryKind.RESOLUTION, frozenset({ComplaintStatus.IN_PROGRESS}), ComplaintStatus.RESOLVED),
    Step(EntryKind.SATISFACTION, frozenset({ComplaintStatus.RESOLVED}), ComplaintStatus.CLOSED),
    Step(EntryKind.NOTE, _ACTIVE | {ComplaintStatus.RESOLVED}, None),
)
HANDLER_KINDS = frozenset(step.kind for step in COMPLAINT_STEPS)


def complaint_step(kind: str, status: str) -> Step | None:
    return next((s for s in COMPLAINT_STEPS if s.kind == kind and status in s.sources), None)


# --- supervision inspections (FQ6) --------------------------------------------------------------


class InspectionKind(models.TextChoices):
    PLANNED = "planned", _("计划检查")
    UNPLANNED = "unplanned", _("不定期检查")


class InspectionStatus(models.TextChoices):
    PLANNED = "planned", _("待检查")  # scheduled, not carried out yet
    OPEN = "open", _("整改中")  # carried out; rectifications not all verified
    CLOSED = "closed", _("已闭环")  # carried out and every rectification verified


class Severity(models.TextChoices):
    MINOR = "minor", _("一般")
    MAJOR = "major", _("严重")


class RectificationStatus(models.TextChoices):
    OPEN = "open", _("待整改")  # assigned, not reported done
    DONE = "done", _("待验收")  # the responsible person reports it done
    VERIFIED = "verified", _("已验收")  # the inspector confirmed it: closed
