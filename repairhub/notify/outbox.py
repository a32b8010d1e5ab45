"""The one way to tell people something: `post()` writes outbox rows in the caller's
transaction and queues their delivery after commit (architecture rule 4).

    post([technician], "sla.reminder", {"number": order.number, ...}, order=order)
    post([Recipient(phone=order.reporter_phone)], "workorder.accepted", {...}, order=order)

Which channels a recipient gets is decided here, not by the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from repairhub.lib.rows import insert_row

from . import texts
from .models import Message, MessageChannel


@dataclass(frozen=True)
class Recipient:
    """Someone to tell: a user, or just a phone number / e-mail (a reporter without account)."""

    user: Any = None
    phone: str = ""
    email: str = ""
    language: str = ""


def _recipient(who) -> Recipient:
    return who if isinstance(who, Recipient) else Recipient(user=who)


def post(
    recipients: Iterable[Any],
    template: str,
    params: Mapping[str, object],
    *,
    order=None,
    urgent: bool = False,
) -> list[int]:
    """Write one message per recipient and channel; returns the message ids."""
    messages: list[Message] = []
    number = getattr(order, "number", "") or str(params.get("number", ""))
    seen: set[tuple[str, object]] = set()
    for who in map(_recipient, recipients):
        user = who.user
        key = ("user", user.pk) if user is not None else ("phone", who.phone)
        if key in seen:
            continue
        seen.add(key)
        _subject, body = texts.render(template, params, who.language)
        if user is not None:
            messages.append(
                Message(
                    channel=MessageChannel.IN_APP,
                    user=user,
                    cause=template,
                    order_number=number,
                    body=body,
                )
            )
        phone = who.phone or (getattr(user, "phone", "") if urgent else "")
        if phone:
            messages.append(
                Message(
                    channel=MessageChannel.SMS,
                    user=user,
                    address=phone,
                    cause=template,
                    order_number=number,
                    body=body,
                )
            )
    ids = [insert_row(m).pk for m in messages]
    if ids:
        transaction.on_commit(lambda: _enqueue(ids))
    return ids


def _enqueue(ids: list[int]) -> None:
    from .tasks import deliver_messages

    deliver_messages(ids)
