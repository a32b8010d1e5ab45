from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from repairhub.lib.crypto import EncryptedTextField


class MessageChannel(models.TextChoices):
    IN_APP = "in_app", _("站内消息")
    SMS = "sms", _("短信")
    EMAIL = "email", _("电子邮件")
    WECOM = "wecom", _("企业微信群机器人")
    DINGTALK = "dingtalk", _("钉钉群机器人")
    WEBHOOK = "webhook", _("合作平台回调")


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("待发送")  # waiting for its next attempt (next_attempt_at)
    SENDING = "sending", _("发送中")  # claimed by a worker until lease_until
    SENT = "sent", _("已发送")  # the channel took it (in-app: stored)
    DEAD = "dead", _("发送失败")  # refused for good, or out of attempts: the dead-letter list


def new_key() -> str:
    """The idempotency key of a message: the same on every attempt, passed to the provider."""
    return f"msg-{uuid.uuid4().hex}"


class MessageQuerySet(models.QuerySet):
    def claimable(self, now=None):
        """Rows a worker may take now: due pending ones, and ones whose worker's lease ran out
        (it died or hung mid-delivery)."""
        now = now or timezone.now()
        return self.filter(
            Q(status=MessageStatus.PENDING, next_attempt_at__lte=now)
            | Q(status=MessageStatus.SENDING, lease_until__lte=now)
        )

    def due(self, now=None):
        return self.filter(status=MessageStatus.PENDING, next_attempt_at__lte=now or timezone.now())

    def inbox(self, user):
        return self.filter(user=user, channel=MessageChannel.IN_APP)

    def unread(self):
        return self.filter(read_at__isnull=True)


class Message(models.Model):
    """An outbox row: written in the transaction that caused it, delivered by the worker."""

    channel = models.CharField(_("渠道"), max_length=20, choices=MessageChannel.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="messages",
    )
    # Phone (SMS), e-mail address, robot name (WeCom/DingTalk) or partner endpoint (webhook).
    address = EncryptedTextField(blank=True, default="")
    cause = models.CharField(_("模板"), max_length=60)  # template code, e.g. workorder.dispatched
    order_number = models.CharField(_("工单号"), max_length=32, blank=True, db_index=True)
    subject = models.CharField(_("标题"), max_length=200, blank=True, default="")
    body = models.TextField(_("内容"))
    # The template's variables, as sent to SMS providers that fill in approved templates.
    params = models.JSONField(default=dict, blank=True)
    key = models.CharField(_("幂等键"), max_length=64, unique=True, default=new_key)
    urgent = models.BooleanField(_("紧急"), default=False)
    language = models.CharField(_("语言"), max_length=10, blank=True, default="")
    status = models.CharField(
        _("状态"), max_length=10, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("已尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), default=timezone.now)
    lease_until = models.DateTimeField(_("占用至"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("消息")
        verbose_name_plural = _("消息")
        indexes = [
            # The worker's sweep: pending messages whose next attempt is due.
            models.Index(
                fields=["next_attempt_at"],
                name="msg_pending_due",
                condition=Q(status="pending"),
            ),
            # The sweep again: claimed messages whose worker's lease ran out.
            models.Index(
                fields=["lease_until"],
                name="msg_sending_lease",
                condition=Q(status="sending"),
            ),
            # The notification centre: a person's in-app messages, newest first.
            models.Index(
                fields=["user", "-created_at"],
                name="msg_inbox",
                condition=Q(channel="in_app"),
            ),
            # The dead-letter list in the admin.
            models.Index(fields=["-created_at"], name="msg_dead", condition=Q(status="dead")),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.order_number} {self.cause}"


class Attempt(models.Model):
    """One try at handing a message to its channel, whatever came of it."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField(_("开始时间"))
    finished_at = models.DateTimeField(_("结束时间"))
    ok = models.BooleanField(_("成功"))
    detail = models.CharField(_("结果"), max_length=500, blank=True)
    provider_id = models.CharField(_("服务商消息编号"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("发送记录")
        verbose_name_plural = _("发送记录")
        ordering = ["started_at", "pk"]

    def __str__(self) -> str:
        return f"{self.message_id} {self.started_at:%Y-%m-%d %H:%M:%S} {self.detail}"


class Language(models.TextChoices):
    ZH_HANS = "zh-hans", _("简体中文")
    EN = "en", _("English")


class MessageTemplate(models.Model):
    """An administrator's wording of one message (template code) for one channel and language;
    without one, the text registered by the app is used, translated (texts.py)."""

    code = models.CharField(_("模板"), max_length=60)
    channel = models.CharField(
        _("渠道"),
        max_length=20,
        choices=MessageChannel.choices,
        blank=True,
        help_text=_("留空表示所有渠道。"),
    )
    language = models.CharField(_("语言"), max_length=10, choices=Language.choices)
    subject = models.CharField(_("标题"), max_length=200, blank=True, help_text=_("用于邮件。"))
    body = models.TextField(_("内容"))
    sms_template = models.CharField(
        _("短信服务商模板"),
        max_length=200,
        blank=True,
        help_text=_(
            "阿里云或腾讯云审核通过的模板编号，可在冒号后按模板顺序列出变量名，"
            "例如 SMS_460105:number,technician。留空时使用设置 SMS_TEMPLATES。"
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("消息模板")
        verbose_name_plural = _("消息模板")
        ordering = ["code", "channel", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["code", "channel", "language"], name="uniq_message_template"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.channel or '*'} {self.language}"


class NotificationPreference(models.Model):
    """How one person wants to be told: channels besides in-app (always on), quiet hours, and
    the language of his messages. Without a row, the defaults of preferences.py apply."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preference",
    )
    sms = models.BooleanField(_("短信"), default=True)
    email = models.BooleanField(_("电子邮件"), default=False)
    wecom = models.BooleanField(_("企业微信"), default=False)
    dingtalk = models.BooleanField(_("钉钉"), default=False)
    quiet_start = models.TimeField(_("免打扰开始"), null=True, blank=True)
    quiet_end = models.TimeField(_("免打扰结束"), null=True, blank=True)
    language = models.CharField(_("消息语言"), max_length=10, choices=Language.choices, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("通知偏好")
        verbose_name_plural = _("通知偏好")

    def __str__(self) -> str:
        return str(self.user)
