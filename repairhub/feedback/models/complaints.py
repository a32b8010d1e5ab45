"""Complaints (投诉, FQ3): categories, responsible departments, complaints and their records."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from repairhub.lib.crypto import EncryptedTextField
from repairhub.lib.phones import mask_phone

from ..states import ComplaintChannel, ComplaintStatus, EntryKind, Satisfaction


class Department(models.Model):
    """A responsible department (后勤维修中心, 饮食中心 …): its members handle the complaints
    routed to it; its head is told when one is escalated."""

    code = models.SlugField(_("编码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    head = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="headed_departments",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("成员"),
        blank=True,
        related_name="feedback_departments",
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("责任部门")
        verbose_name_plural = _("责任部门")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ComplaintCategory(models.Model):
    """What a complaint is about (维修服务, 餐厅饮食, 公寓设施, 其他 …); configurable, each with
    the department it goes to by default."""

    code = models.SlugField(_("编码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    department = models.ForeignKey(
        Department,
        verbose_name=_("默认责任部门"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    sort = models.IntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("投诉类别")
        verbose_name_plural = _("投诉类别")
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return self.name


class Complaint(models.Model):
    """One complaint from registration to the complainant's satisfaction. Changed only
    through feedback.services.complaints."""

    number = models.CharField(_("投诉编号"), max_length=32, unique=True)
    channel = models.CharField(_("投诉渠道"), max_length=10, choices=ComplaintChannel.choices)
    category = models.ForeignKey(
        ComplaintCategory, verbose_name=_("投诉类别"), on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("责任部门"),
        on_delete=models.PROTECT,
        related_name="complaints",
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=ComplaintStatus.choices, default=ComplaintStatus.OPEN
    )
    description = models.TextField(_("投诉内容"))
    complainant_name = models.CharField(_("投诉人"), max_length=60)
    complainant_phone = EncryptedTextField(_("联系电话"), blank=True, default="")
    complainant_phone_index = models.CharField(max_length=40, blank=True, db_index=True)
    complainant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("投诉人账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="complaints_made",
    )
    order = models.ForeignKey(
        "workorders.WorkOrder",
        verbose_name=_("相关工单"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="complaints",
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("被投诉人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="complaints_about",
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="complaints_handled",
    )
    scan = models.FileField(_("信件扫描件"), upload_to="complaints/%Y/%m/", blank=True)
    repeat_of = models.ForeignKey(
        "self",
        verbose_name=_("重复投诉自"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="repeats",
    )
    # The handler of the earlier complaint: a second complaint about the same matter counts
    # against him (seed 003: 因投诉处理不当导致客户二次投诉的，要对相关责任人进行严肃处理).
    counted_against = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("计入责任人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="repeat_complaints_counted",
    )
    resolution = models.TextField(_("处理结果"), blank=True)
    satisfaction = models.CharField(
        _("投诉人满意度"), max_length=12, choices=Satisfaction.choices, blank=True
    )
    first_contact_due = models.DateTimeField(_("首次联系时限"))
    first_contact_at = models.DateTimeField(_("首次联系时间"), null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(_("升级时间"), null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("投诉时间"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("投诉")
        verbose_name_plural = _("投诉")
        ordering = ["-created_at", "-id"]
        permissions = [("view_all_complaints", _("可查看所有部门的投诉"))]
        indexes = [
            # The deadline job: complaints nobody has contacted yet, by their deadline.
            models.Index(
                fields=["first_contact_due"],
                name="complaint_contact_due",
                condition=Q(first_contact_at__isnull=True),
            ),
            # A department's list.
            models.Index(fields=["department", "status"], name="complaint_dept_status"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.complainant_phone) if self.complainant_phone else ""

    @property
    def is_first_contact_overdue(self) -> bool:
        return self.first_contact_at is None and self.first_contact_due < timezone.now()


class ComplaintEntry(models.Model):
    """One record on a complaint: a contact, a finding, the resolution, the complainant's
    satisfaction, a note, or what the system did (reminder, escalation)."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(_("类型"), max_length=12, choices=EntryKind.choices)
    text = models.TextField(_("内容"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("投诉处理记录")
        verbose_name_plural = _("投诉处理记录")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.kind}"
