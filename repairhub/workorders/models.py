from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from repairhub.lib.crypto import EncryptedTextField
from repairhub.lib.phones import mask_phone

from .states import (
    EVENT_CODES,
    OPEN,
    REPORTER_LABELS,
    WITH_TECHNICIAN,
    Action,
    ReporterLabel,
    Status,
)

DISPATCHED = EVENT_CODES[Action.DISPATCH]


class Urgency(models.TextChoices):
    LOW = "low", _("一般")
    NORMAL = "normal", _("普通")
    HIGH = "high", _("紧急")
    CRITICAL = "critical", _("特急")


class Channel(models.TextChoices):
    WEB = "web", _("网上报修")
    QR = "qr", _("扫码报修")
    PHONE = "phone", _("电话报修")
    WALK_IN = "walk_in", _("现场报修")
    PARTNER = "partner", _("合作平台")


ANONYMOUS_CHANNELS = frozenset({Channel.WEB, Channel.QR})


class Result(models.TextChoices):
    SUCCESS = "success", _("维修成功")
    FAILED = "failed", _("维修失败")


class CategoryQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def for_reporters(self):
        return self.active().filter(reporter_selectable=True)


class Category(models.Model):
    """A kind of fault, two levels deep (水电 → 灯具)."""

    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级类别"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        limit_choices_to={"parent__isnull": True},
    )
    code = models.SlugField(_("编码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    default_urgency = models.CharField(
        _("默认紧急程度"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL
    )
    auto_accept = models.BooleanField(_("自动受理"), default=False)
    is_paid = models.BooleanField(_("收费"), default=False)
    reporter_selectable = models.BooleanField(_("报修人可选"), default=True)
    sort = models.IntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    objects = CategoryQuerySet.as_manager()

    class Meta:
        verbose_name = _("报修类别")
        verbose_name_plural = _("报修类别")
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return f"{self.parent.name} → {self.name}" if self.parent_id else self.name

    @property
    def full_name(self) -> str:
        return str(self)


class WorkOrderQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN)

    def with_technician(self):
        return self.filter(status__in=WITH_TECHNICIAN)

    def in_place(self, place):
        """Orders at the place or anywhere under it (E03 must not match E030)."""
        return self.filter(Q(place__path=place.path) | Q(place__path__startswith=place.path + "/"))

    def for_listing(self):
        return self.select_related("category", "category__parent", "place", "assignee")

    def with_pending_change(self):
        """Annotate `pending_change_id` (or None): lists ask the lifecycle's guards without a
        query per row."""
        pending = ChangeRequest.objects.filter(
            order=models.OuterRef("pk"), status=ChangeStatus.PENDING
        ).values("pk")[:1]
        return self.annotate(pending_change_id=models.Subquery(pending))


class WorkOrder(models.Model):
    """One repair request from report to closure. Changed only through workorders.lifecycle."""

    number = models.CharField(_("工单号"), max_length=32, unique=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.SUBMITTED
    )
    version = models.PositiveIntegerField(default=1)
    result = models.CharField(_("维修结果"), max_length=10, choices=Result.choices, blank=True)

    category = models.ForeignKey(Category, verbose_name=_("类别"), on_delete=models.PROTECT)
    place = models.ForeignKey(
        "places.Place",
        verbose_name=_("地点"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    # The unit the fault is on, when the report names one (its QR code, the API, the desk);
    # the order's place is then the asset's place.
    asset = models.ForeignKey(
        "places.Asset",
        verbose_name=_("设备"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    address = EncryptedTextField(_("详细地址"), blank=True, default="")
    description = models.TextField(_("故障描述"))
    urgency = models.CharField(
        _("紧急程度"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL
    )
    channel = models.CharField(_("报修渠道"), max_length=10, choices=Channel.choices)
    preferred_time = models.DateTimeField(_("期望上门时间"), null=True, blank=True)

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报修人账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_orders",
    )
    reporter_name = models.CharField(_("报修人"), max_length=60)
    reporter_phone = EncryptedTextField(_("联系电话"))
    reporter_phone_index = models.CharField(max_length=40, db_index=True, editable=False)
    tracking_token = models.CharField(max_length=43, unique=True, editable=False)

    # Desk registration (IN3, IN4): who took the call, when it came in, what was done.
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记值班员"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="registered_orders",
    )
    received_at = models.DateTimeField(_("接报时间"), default=timezone.now)
    handling = models.TextField(_("处理情况"), blank=True)
    remarks = models.TextField(_("备注"), blank=True)

    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("维修人员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_orders",
    )
    hold_reason = models.CharField(_("挂起原因"), max_length=200, blank=True)
    completion_note = models.TextField(_("完工说明"), blank=True)
    suggestion = models.TextField(_("处理建议"), blank=True)
    # What the reporter was charged for the repair, recorded by the technician when completing
    # it (元). Empty: nothing recorded. Quality checks target high fees; a fee asks the reporter
    # to rate price transparency.
    fee = models.DecimalField(
        _("收费金额（元）"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    arrival_latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    arrival_longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    rating = models.PositiveSmallIntegerField(_("评分"), null=True, blank=True)
    rating_comment = models.TextField(_("评价"), blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("重开次数"), default=0)
    # Changed by approved change requests (工单变更) only; the events keep every earlier value.
    measures = models.TextField(_("维修措施"), blank=True)
    due_at = models.DateTimeField(_("完成时限"), null=True, blank=True)
    # DP4: the expert the order is escalated to, who may guide or take it over.
    expert = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("技术专家"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="expert_orders",
    )
    escalated_at = models.DateTimeField(_("转专家时间"), null=True, blank=True)
    # TM3: the reporter's urges (催单), set by the URGE action only; counted in statistics.
    urge_count = models.PositiveSmallIntegerField(_("催单次数"), default=0)
    last_urged_at = models.DateTimeField(_("最近催单时间"), null=True, blank=True)

    idempotency_key = models.CharField(
        max_length=64, null=True, blank=True, unique=True, editable=False
    )
    created_at = models.DateTimeField(_("报修时间"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = WorkOrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("工单")
        verbose_name_plural = _("工单")
        ordering = ["-created_at"]
        indexes = [
            # Desk and dispatcher queues: orders by state, newest first.
            models.Index(fields=["status", "-created_at"], name="wo_status_created"),
            # A technician's own list.
            models.Index(fields=["assignee", "status"], name="wo_assignee_status"),
            # Duplicate hint on the report form: open orders at a place in a category.
            models.Index(fields=["place", "category", "status"], name="wo_place_category"),
            # An expert's queue: orders escalated to him, by state.
            models.Index(fields=["expert", "status"], name="wo_expert_status"),
            # Analytics (repairhub/analytics, docs/benchmarks.md "Analytics at scale"): each
            # figure reads only the index of its set of orders, never the table.
            # Reported in a period: volume by day, category, channel or place; fault types.
            models.Index(fields=["created_at", "category", "channel", "place"], name="wo_reported"),
            # Completed in a period: fault types and repair times, on-time rate, technicians'
            # ranking and workload. Partial: a new order is not in it.
            models.Index(
                fields=[
                    "completed_at",
                    "category",
                    "assignee",
                    "result",
                    "received_at",
                    "due_at",
                    "arrived_at",
                ],
                name="wo_completed",
                condition=Q(completed_at__isnull=False),
            ),
            # Closed with a rating in a period: satisfaction and its ranking.
            models.Index(
                fields=["closed_at", "rating", "assignee"],
                name="wo_rated",
                condition=Q(rating__isnull=False),
            ),
            # Backlog: open orders by state and how many are past their deadline, in one pass.
            models.Index(fields=["status", "due_at"], name="wo_status_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="wo_rating_1_5",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @staticmethod
    def new_tracking_token() -> str:
        return secrets.token_urlsafe(24)

    @property
    def reporter_label(self) -> ReporterLabel:
        return REPORTER_LABELS[Status(self.status)]

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.reporter_phone)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @property
    def tracking_path(self) -> str:
        return f"/t/{self.tracking_token}"

    @property
    def tracking_url(self) -> str:
        return settings.SITE_URL + self.tracking_path


class Event(models.Model):
    """One thing that happened to an order. The order's timeline is its events, oldest first."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="events")
    code = models.CharField(max_length=60)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=80, blank=True)
    channel = models.CharField(max_length=20, blank=True)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("工单事件")
        verbose_name_plural = _("工单事件")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["order", "id"], name="event_order_id"),
            # Dispatchers' ranking (analytics): the first dispatches of a period, and for each
            # the check that the order had no earlier one. Partial: other events skip them.
            models.Index(
                fields=["created_at", "order", "actor", "id"],
                name="event_dispatched_at",
                condition=Q(code=DISPATCHED),
            ),
            models.Index(
                fields=["order", "id"], name="event_dispatched_order", condition=Q(code=DISPATCHED)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.code}"


class ChangeKind(models.TextChoices):
    CATEGORY = "category", _("变更类别")
    MEASURES = "measures", _("变更措施")
    DEADLINE = "deadline", _("延长时限")
    EXTRA_WORK = "extra_work", _("增加工作内容")


class ChangeStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")


class ChangeRequest(models.Model):
    """A technician's request to change an order (工单变更), decided by a dispatcher.

    Written and decided only through workorders.lifecycle (request_change, approve_change,
    reject_change); approval applies the change to the order in the same transaction.
    """

    order = models.ForeignKey(
        WorkOrder, verbose_name=_("工单"), on_delete=models.CASCADE, related_name="change_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.PROTECT,
        related_name="change_requests",
    )
    kind = models.CharField(_("变更类型"), max_length=20, choices=ChangeKind.choices)
    reason = models.TextField(_("申请原因"))
    new_category = models.ForeignKey(
        Category,
        verbose_name=_("新类别"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    measures = models.TextField(_("新的维修措施"), blank=True)
    new_due_at = models.DateTimeField(_("新的完成时限"), null=True, blank=True)
    extra_work = models.TextField(_("增加的工作内容"), blank=True)
    status = models.CharField(
        _("审批状态"), max_length=10, choices=ChangeStatus.choices, default=ChangeStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.TextField(_("审批说明"), blank=True)
    created_at = models.DateTimeField(_("申请时间"), default=timezone.now)

    class Meta:
        verbose_name = _("变更申请")
        verbose_name_plural = _("变更申请")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The dispatcher's queue: pending requests, oldest first.
            models.Index(fields=["status", "created_at"], name="change_status_created"),
        ]
        constraints = [
            # At most one request per order awaits a decision, even under a race.
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status="pending"),
                name="uniq_pending_change_per_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind} {self.status}"

    @property
    def is_pending(self) -> bool:
        return self.status == ChangeStatus.PENDING

    @property
    def summary(self) -> str:
        """What would change, in words (queue rows, the order page, messages)."""
        if self.kind == ChangeKind.CATEGORY:
            return str(self.new_category) if self.new_category_id else ""
        if self.kind == ChangeKind.DEADLINE:
            if self.new_due_at is None:
                return ""
            return timezone.localtime(self.new_due_at).strftime("%Y-%m-%d %H:%M")
        if self.kind == ChangeKind.MEASURES:
            return self.measures
        return self.extra_work


class AttachmentKind(models.TextChoices):
    IMAGE = "image", _("照片")
    VIDEO = "video", _("视频")


class Attachment(models.Model):
    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    kind = models.CharField(max_length=10, choices=AttachmentKind.choices)
    file = models.FileField(upload_to="orders/%Y/%m/")
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    original_name = models.CharField(max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name or self.file.name


class NumberSequence(models.Model):
    """Per-day counter behind human order numbers (BX-20261121-0042)."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class Follower(models.Model):
    """Someone with the same fault who follows an open order instead of filing a duplicate.

    He gets his own private tracking link and the reporter's receipts, but cannot act on the order.
    """

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="followers")
    name = models.CharField(_("姓名"), max_length=60)
    phone = EncryptedTextField(_("联系电话"))
    phone_index = models.CharField(max_length=40, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tracking_token = models.CharField(max_length=43, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("关注人")
        verbose_name_plural = _("关注人")
        constraints = [
            models.UniqueConstraint(fields=["order", "phone_index"], name="uniq_follower_phone"),
        ]

    def __str__(self) -> str:
        return f"{self.name} → {self.order_id}"

    @property
    def tracking_path(self) -> str:
        return f"/t/{self.tracking_token}"

    @property
    def tracking_url(self) -> str:
        return settings.SITE_URL + self.tracking_path
