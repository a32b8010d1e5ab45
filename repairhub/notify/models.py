from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from repairhub.lib.crypto import EncryptedTextField


class MessageChannel(models.TextChoices):
    IN_APP = "in_app", _("站内消息")
    SMS = "sms", _("短信")


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENT = "sent", _("已发送")
    DEAD = "dead", _("发送失败")


class MessageQuerySet(models.QuerySet):
    def due(self, now=None):
        return self.filter(status=MessageStatus.PENDING, next_attempt_at__lte=now or timezone.now())


class Message(models.Model):
    """An outbox row: written in the transaction that caused it, delivered by the worker."""

    channel = models.CharField(max_length=20, choices=MessageChannel.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="messages",
    )
    address = EncryptedTextField(blank=True, default="")  # phone number for SMS
    cause = models.CharField(max_length=60)  # event code, e.g. workorder.dispatched
    order_number = models.CharField(max_length=32, blank=True, db_index=True)
    body = models.TextField()
    status = models.CharField(
        max_length=10, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("消息")
        verbose_name_plural = _("消息")
        indexes = [
            # The worker's sweep: pending messages whose next attempt is due.
            models.Index(
                fields=["next_attempt_at"],
                name="msg_pending_due",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.order_number} {self.cause}"
