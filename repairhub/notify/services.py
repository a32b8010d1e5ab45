"""Delivering outbox messages, at least once, through the channels (channels/).

One attempt at a message:

1. claim it with one conditional UPDATE (pending and due, or sending with an expired lease)
   — a transaction of one statement, so two workers never both hold it;
2. send it outside any transaction, the channel bounding the wait (timeouts);
3. record the attempt and the outcome in one short transaction, only while the claim is ours:
   sent; dead when the channel says retrying cannot help or after the last attempt; else
   pending again after an exponential backoff. A robot over its rate limit is rescheduled
   without using up an attempt.

A worker killed between 1 and 3 leaves the row `sending`; once its lease runs out the sweep
claims it again and the channel sends it again, under the same idempotency key (`Message.key`),
by which providers and partners recognise the repeat.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router, transaction
from django.utils import timezone

from repairhub.lib.rows import insert_row

from . import texts
from .channels import Outcome, Outgoing, channel_for
from .models import Attempt, Message, MessageChannel, MessageStatus

log = logging.getLogger("repairhub.notify")

# The channel's answer when a robot's budget of 20 a minute is spent (channels/robots.py).
RATE_LIMITED = "rate_limited"
# Failures that say the far end is unreachable or hanging: the rest of a batch for the same
# destination waits for the sweep instead of waiting on it too.
STALLED = ("timeout", "network")


def channel_name(channel: str) -> str:
    """The NOTIFY_CHANNELS entry that delivers messages of `channel`."""
    if channel == MessageChannel.WEBHOOK:
        return settings.NOTIFY_WEBHOOK_CHANNEL
    return channel


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: base × 2^(n-1), capped."""
    base = settings.NOTIFY_RETRY_BASE_SECONDS
    return timedelta(
        seconds=min(base * 2 ** max(attempts - 1, 0), settings.NOTIFY_RETRY_CAP_SECONDS)
    )


def _outgoing(message: Message) -> Outgoing:
    mentions: tuple[str, ...] = ()
    if message.channel in (MessageChannel.WECOM, MessageChannel.DINGTALK) and message.user_id:
        phone = message.user.phone
        mentions = (f"mobile:{phone}",) if phone else ()
    return Outgoing(
        key=message.key,
        to=message.address,
        body=message.body,
        subject=message.subject,
        template=message.cause,
        params={k: str(v) for k, v in (message.params or {}).items()},
        mentions=mentions,
        urgent=message.urgent,
        provider_template=(
            texts.provider_template(message.cause, message.language)
            if message.channel == MessageChannel.SMS
            else ""
        ),
    )


def _send(message: Message) -> Outcome:
    try:
        channel = channel_for(channel_name(message.channel))
    except ImproperlyConfigured as exc:
        return Outcome.failed(f"channel_not_configured: {exc}", retry=False)
    try:
        return channel.send(_outgoing(message))
    except Exception as exc:  # channels never raise; if one does, the message is not lost
        log.exception("notify: sending %s failed", message.key)
        return Outcome.failed(f"internal_error: {type(exc).__name__}", retry=True)


def _settle_sql(connection) -> str:
    quote = connection.ops.quote_name
    c = {
        n: quote(n)
        for n in (
            "status",
            "lease_until",
            "last_error",
            "attempts",
            "next_attempt_at",
            "sent_at",
            "id",
        )
    }
    return (
        f"UPDATE {quote(Message._meta.db_table)} SET {c['status']} = %s, {c['lease_until']} = NULL, "
        f"{c['last_error']} = %s, {c['attempts']} = {c['attempts']} + %s, "
        f"{c['next_attempt_at']} = COALESCE(%s, {c['next_attempt_at']}), "
        f"{c['sent_at']} = COALESCE(%s, {c['sent_at']}) "
        f"WHERE {c['id']} = %s AND {c['status']} = %s AND {c['lease_until']} = %s"
    )


def settle(message: Message, lease: datetime, outcome: Outcome, started: datetime) -> None:
    """Record the attempt and settle the message, in one short transaction, only while the
    claim (`lease`) is still ours."""
    finished = timezone.now()
    attempts = message.attempts + 1
    counted, next_at, sent_at = 1, None, None
    if outcome.ok:
        status, sent_at = MessageStatus.SENT, finished
    elif outcome.detail == RATE_LIMITED:
        status, counted = MessageStatus.PENDING, 0
        next_at = finished + timedelta(seconds=settings.NOTIFY_RATE_LIMIT_RETRY_SECONDS)
    elif not outcome.retry or attempts >= settings.NOTIFY_MAX_ATTEMPTS:
        status = MessageStatus.DEAD
    else:
        status, next_at = MessageStatus.PENDING, finished + backoff(attempts)
    connection = connections[router.db_for_write(Message)]
    adapt = connection.ops.adapt_datetimefield_value
    with transaction.atomic(using=connection.alias):
        insert_row(
            Attempt(
                message_id=message.pk,
                started_at=started,
                finished_at=finished,
                ok=outcome.ok,
                detail=outcome.detail[:500],
                provider_id=outcome.provider_id[:200],
            )
        )
        # One prepared statement rather than an ORM update: compiling the query costs more
        # than running it (docs/benchmarks.md, notify).
        with connection.cursor() as cursor:
            cursor.execute(
                _settle_sql(connection),
                [
                    status.value,
                    "" if outcome.ok else outcome.detail,
                    counted,
                    adapt(next_at),
                    adapt(sent_at),
                    message.pk,
                    MessageStatus.SENDING.value,
                    adapt(lease),
                ],
            )
            settled = cursor.rowcount
        if not settled:
            # The lease ran out and another worker took the message over: it decides.
            log.warning(
                "notify: %s finished after its lease; left to the other worker", message.key
            )


def _returning(connection) -> bool:
    """Whether UPDATE … RETURNING works here (PostgreSQL; SQLite from 3.35)."""
    if connection.vendor == "postgresql":
        return True
    if connection.vendor == "sqlite":
        return connection.Database.sqlite_version_info >= (3, 35)
    return False


def _claim_sql(connection) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in Message._meta.concrete_fields)
    status, due, lease = (quote(n) for n in ("status", "next_attempt_at", "lease_until"))
    return (
        f"UPDATE {quote(Message._meta.db_table)} SET {status} = %s, {lease} = %s "
        f"WHERE {quote('id')} = %s AND (({status} = %s AND {due} <= %s) "
        f"OR ({status} = %s AND {lease} <= %s)) RETURNING {columns}"
    )


def claim(message_id: int, now: datetime, lease: datetime) -> Message | None:
    """Take the message for one attempt until `lease`, if it is claimable at `now`.

    One statement (UPDATE … RETURNING the row) where the database allows it: the claim and the
    read cost one round trip and no query compilation, which is most of a delivery's own cost
    (docs/benchmarks.md); elsewhere an ORM update and a read.
    """
    connection = connections[router.db_for_write(Message)]
    if not _returning(connection):
        claimed = (
            Message.objects.filter(pk=message_id)
            .claimable(now)
            .update(status=MessageStatus.SENDING, lease_until=lease)
        )
        return Message.objects.get(pk=message_id) if claimed else None
    at = connection.ops.adapt_datetimefield_value(now)
    params = [
        MessageStatus.SENDING.value,
        connection.ops.adapt_datetimefield_value(lease),
        message_id,
        MessageStatus.PENDING.value,
        at,
        MessageStatus.SENDING.value,
        at,
    ]
    # Executed once, fully read (RawQuerySet), so the UPDATE completes before we go on.
    rows = list(Message.objects.using(connection.alias).raw(_claim_sql(connection), params))
    return rows[0] if rows else None


def deliver(message_id: int) -> Outcome | None:
    """Make one attempt at a message if it is claimable now; None when it is not (sent,
    dead, held for later, or another worker has it). Safe to call any number of times."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.NOTIFY_LEASE_SECONDS)
    message = claim(message_id, now, lease)
    if message is None:
        return None
    started = timezone.now()
    in_app = message.channel == MessageChannel.IN_APP  # delivered by being stored
    outcome = Outcome.sent("stored") if in_app else _send(message)
    settle(message, lease, outcome, started)
    return outcome


def _destination(channel: str, address: str) -> tuple[str, str]:
    # SMS and e-mail go through one provider whatever the address; robots and partners are
    # each their own server.
    if channel in (MessageChannel.SMS, MessageChannel.EMAIL):
        return channel, ""
    return channel, address


def deliver_many(ids: Iterable[int], *, deadline: float | None = None) -> int:
    """Deliver these messages one by one; returns how many were sent.

    Nothing stops the batch: an error on one message is logged and the next one goes. When a
    destination times out or cannot be reached, its other messages in this batch are left for
    the sweep, so one hanging provider costs one bounded wait per batch, not one per message.
    """
    ids = list(ids)
    if len(ids) == 1:  # a task for one message: nothing to group
        where = {ids[0]: ("", "")}
    else:
        rows = Message.objects.filter(pk__in=ids).values_list("pk", "channel", "address")
        where = {pk: _destination(channel, address) for pk, channel, address in rows}
    stalled: set[tuple[str, str]] = set()
    sent = 0
    for message_id in ids:
        if deadline is not None and time.monotonic() > deadline:
            break
        destination = where.get(message_id)
        if destination is None or destination in stalled:
            continue
        try:
            outcome = deliver(message_id)
        except Exception:
            log.exception("notify: delivering message %s failed", message_id)
            continue
        if outcome is None:
            continue
        if outcome.ok:
            sent += 1
        elif outcome.detail.startswith(STALLED):
            stalled.add(destination)
    return sent


def sweep(*, limit: int | None = None, seconds: float | None = None) -> int:
    """Deliver what is due: pending rows (held, retried, or never queued) and rows whose
    worker's lease ran out. Returns how many were sent."""
    limit = limit or settings.NOTIFY_SWEEP_BATCH
    seconds = settings.NOTIFY_SWEEP_SECONDS if seconds is None else seconds
    ids = list(
        Message.objects.claimable()
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return deliver_many(ids, deadline=time.monotonic() + seconds)


def resend(ids: Iterable[int]) -> int:
    """Put dead messages back in the queue with a full set of attempts; their attempt history
    is kept. Returns how many were requeued."""
    from .outbox import enqueue

    ids = list(ids)
    with transaction.atomic():
        requeued = list(
            Message.objects.filter(pk__in=ids, status=MessageStatus.DEAD).values_list(
                "pk", flat=True
            )
        )
        Message.objects.filter(pk__in=requeued, status=MessageStatus.DEAD).update(
            status=MessageStatus.PENDING,
            attempts=0,
            next_attempt_at=timezone.now(),
            lease_until=None,
            last_error="",
        )
        enqueue(requeued)
    return len(requeued)


# --- the notification centre ----------------------------------------------------------------


def unread_for(user) -> int:
    return Message.objects.inbox(user).unread().count()


def mark_read(user, ids: Iterable[int] | None = None) -> int:
    """Mark `user`'s in-app messages read (all of them when `ids` is None); returns how many
    changed. Messages of other people are never touched."""
    rows = Message.objects.inbox(user).unread()
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())
