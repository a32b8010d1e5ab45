"""Delivering outbox messages. SMS goes to the log in the embedded mode (the real providers,
retries with backoff and the dead-letter list are the notification issue's work)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .models import Message, MessageChannel, MessageStatus

log = logging.getLogger("repairhub.notify")
MAX_ATTEMPTS = 5


def deliver(message_id: int) -> bool:
    """Deliver one message if it is still pending; safe to call twice."""
    with transaction.atomic():
        msg = Message.objects.filter(pk=message_id, status=MessageStatus.PENDING).first()
        if msg is None:
            return False
        try:
            if msg.channel == MessageChannel.SMS:
                log.info("SMS to %s: %s", msg.address[-4:].rjust(len(msg.address), "*"), msg.body)
            # in-app messages are delivered by being stored
        except Exception as exc:  # pragma: no cover - console transport does not fail
            msg.attempts += 1
            msg.last_error = str(exc)[:1000]
            msg.next_attempt_at = timezone.now() + timedelta(minutes=2**msg.attempts)
            if msg.attempts >= MAX_ATTEMPTS:
                msg.status = MessageStatus.DEAD
            msg.save(update_fields=["attempts", "last_error", "next_attempt_at", "status"])
            return False
        Message.objects.filter(pk=msg.pk, status=MessageStatus.PENDING).update(
            status=MessageStatus.SENT, attempts=msg.attempts + 1, sent_at=timezone.now()
        )
    return True


def unread_for(user) -> int:
    return Message.objects.filter(
        user=user, channel=MessageChannel.IN_APP, read_at__isnull=True
    ).count()
