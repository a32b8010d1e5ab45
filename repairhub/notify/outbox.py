"""The one way to tell people something: `post()` writes outbox rows in the caller's
transaction and queues their delivery after commit (architecture rule 4).

    post([technician], "sla.reminder", {"number": order.number, ...}, order=order)
    post([Recipient(phone=order.reporter_phone)], "workorder.accepted", {...}, order=order)

Which channels a recipient gets is decided here (preferences.py), not by the caller: in-app
for everyone with an account, plus what each person chose; quiet hours hold the rest unless
the message is urgent. In-app messages are delivered by being stored; every other row waits for
the worker (services.deliver).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from repairhub.lib.rows import insert_rows

from . import preferences, texts
from .models import Message, MessageChannel, MessageStatus

log = logging.getLogger("repairhub.notify")
EMAIL_SUBJECT_CHARS = 60


@dataclass(frozen=True)
class Recipient:
    """Someone to tell: a user, or just a phone number / e-mail (a reporter without account).

    With both, the user's choices apply and the phone or e-mail given here is the address
    (a reporter's order may name another number than his account's)."""

    user: Any = None
    phone: str = ""
    email: str = ""
    language: str = ""


def _recipient(who) -> Recipient:
    return who if isinstance(who, Recipient) else Recipient(user=who)


def _plain(params: Mapping[str, object]) -> dict[str, str]:
    return {k: "" if v is None else str(v) for k, v in params.items()}


def compose(
    route: preferences.Route, template: str, params: Mapping[str, object], language: str
) -> tuple[str, str, dict[str, str]]:
    """(subject, body, params) of one message through `route`'s channel."""
    values = _plain(params)
    if route.channel == MessageChannel.SMS:
        body, fitted = texts.render_sms(template, values, language)
        return "", body, _plain(fitted)
    subject, body = texts.render(template, values, language, channel=route.channel)
    if route.channel == MessageChannel.EMAIL and not subject:
        subject = texts.shorten(body.splitlines()[0] if body else "", EMAIL_SUBJECT_CHARS)
    return subject, body, values


def post(
    recipients: Iterable[Any],
    template: str,
    params: Mapping[str, object],
    *,
    order=None,
    urgent: bool = False,
) -> list[int]:
    """Write one message per recipient and channel; returns the message ids."""
    text = texts.TEXTS[template]
    now = timezone.now()
    number = getattr(order, "number", "") or str(params.get("number", ""))
    messages: list[Message] = []
    seen: set[tuple[str, object]] = set()
    for who in map(_recipient, recipients):
        user = who.user
        key = ("user", user.pk) if user is not None else ("address", who.phone or who.email)
        if key in seen:
            continue
        seen.add(key)
        routes, language = preferences.routes(who, allowed=text.channels, urgent=urgent, now=now)
        language = texts.language_code(language)
        for route in routes:
            subject, body, values = compose(route, template, params, language)
            stored = route.channel == MessageChannel.IN_APP
            messages.append(
                Message(
                    channel=route.channel,
                    user=user,
                    address=route.address,
                    cause=template,
                    order_number=number,
                    subject=subject[:200],
                    body=body,
                    params=values,
                    urgent=urgent,
                    language=language,
                    status=MessageStatus.SENT if stored else MessageStatus.PENDING,
                    sent_at=now if stored else None,
                    next_attempt_at=route.hold_until or now,
                    created_at=now,
                )
            )
    ids = [m.pk for m in insert_rows(messages)]
    due = [m.pk for m in messages if m.status == MessageStatus.PENDING and m.next_attempt_at <= now]
    if due:
        # robust: a queue that is down must not fail the request that already committed; the
        # sweep delivers what was not queued.
        transaction.on_commit(lambda: _enqueue(due), robust=True)
    return ids


def enqueue(ids: list[int]) -> None:
    """Queue delivery of these messages now (after commit when called inside a transaction)."""
    if ids:
        transaction.on_commit(lambda: _enqueue(list(ids)), robust=True)


def _enqueue(ids: list[int]) -> None:
    from .tasks import deliver_messages

    deliver_messages(ids)
