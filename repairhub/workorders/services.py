"""The write path for work orders: creating them, every lifecycle action, attachments.

Views, API endpoints, commands, tasks and tests call these; nothing else saves an order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, connections, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from repairhub.lib.crypto import blind_index
from repairhub.lib.phones import normalize_phone
from repairhub.lib.rows import insert_row
from repairhub.lib.uploads import CleanUpload

from . import subscribers
from .actors import LinkHolder
from .errors import InvalidInput
from .lifecycle import actor_fields, apply, apply_as_system
from .models import (
    Attachment,
    Category,
    Channel,
    Event,
    Follower,
    NumberSequence,
    Urgency,
    WorkOrder,
)
from .states import EVENT_ATTACHMENT, EVENT_FOLLOWED, EVENT_SUBMITTED, Action, Status

MAX_DESCRIPTION = 2000


def _allocate_number(now: datetime) -> str:
    """Next human number for the local day; unique under concurrent intake on both databases.

    One `UPDATE … RETURNING` takes the next value (the row stays locked until the order
    commits); the day's first order creates the row.
    """
    from django.conf import settings

    day = timezone.localdate(now)
    last = _next_in_sequence(day)
    if last is None:
        try:
            with transaction.atomic():
                NumberSequence.objects.create(day=day, last=1)
            last = 1
        except IntegrityError:  # another order created today's row first
            last = _next_in_sequence(day)
    return f"{settings.ORDER_NUMBER_PREFIX}-{day:%Y%m%d}-{last:04d}"


def _next_in_sequence(day) -> int | None:
    connection = connections[NumberSequence.objects.db]
    if not connection.features.can_return_columns_from_insert:  # SQLite before 3.35
        if not NumberSequence.objects.filter(day=day).update(last=F("last") + 1):
            return None
        return NumberSequence.objects.values_list("last", flat=True).get(day=day)
    table = connection.ops.quote_name(NumberSequence._meta.db_table)
    last, key = (connection.ops.quote_name(c) for c in ("last", "day"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {last} = {last} + 1 WHERE {key} = %s RETURNING {last}",
            [connection.ops.adapt_datefield_value(day)],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _refuse_nul(**texts: str | None) -> None:
    """PostgreSQL cannot store NUL in text: refuse it as input instead of failing on save."""
    for name, value in texts.items():
        if value and "\x00" in value:
            raise InvalidInput(_("输入内容含有无效字符，请重新填写。"), field=name)


def idempotency_digest(scope: str, key: str) -> str:
    return hashlib.sha256(f"{scope}\x00{key}".encode()).hexdigest()


def create_order(
    *,
    category: Category,
    description: str,
    reporter_name: str,
    reporter_phone: str,
    channel: str,
    by,
    place=None,
    asset=None,
    address: str = "",
    urgency: str | None = None,
    preferred_time: datetime | None = None,
    reporter=None,
    received_at: datetime | None = None,
    handling: str = "",
    remarks: str = "",
    idempotency_key: str | None = None,
    attachments: Iterable[CleanUpload] = (),
) -> tuple[WorkOrder, bool]:
    """Register a repair request from any channel. Returns (order, created).

    With an idempotency key (already scoped to the caller), a repeat returns the first order.
    Categories set to auto-accept are accepted at once by the system. With an asset the order
    is at the asset's place; a place given as well must be that place or one above it.
    """
    description = (description or "").strip()
    reporter_name = (reporter_name or "").strip()
    _refuse_nul(
        description=description,
        reporter_name=reporter_name,
        address=address,
        handling=handling,
        remarks=remarks,
    )
    if not description:
        raise InvalidInput(_("请描述故障情况。"), field="description", code="required")
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(
            _("故障描述最多 %(max)d 个字。") % {"max": MAX_DESCRIPTION}, field="description"
        )
    if not reporter_name:
        raise InvalidInput(_("请填写报修人姓名。"), field="reporter_name", code="required")
    if len(reporter_name) > 60:
        raise InvalidInput(_("报修人姓名最多 60 个字。"), field="reporter_name")
    try:
        phone = normalize_phone(reporter_phone)
    except ValidationError as exc:
        raise InvalidInput(exc.messages[0], field="reporter_phone", code="invalid_phone") from None
    if channel not in Channel.values:
        raise InvalidInput(
            _("未知的报修渠道：%(channel)s。") % {"channel": channel}, field="channel"
        )
    if not category.is_active:
        raise InvalidInput(
            _("报修类别“%(name)s”已停用，请选择其他类别。") % {"name": category}, field="category"
        )
    if asset is not None:
        if not asset.is_active:
            raise InvalidInput(
                _("设备 %(asset)s 已停用，请直接选择地点报修。") % {"asset": asset}, field="asset"
            )
        here = asset.place
        if place is not None and not (
            place.pk == here.pk or here.path.startswith(place.path + "/")
        ):
            raise InvalidInput(
                _("设备 %(asset)s 不在所选地点“%(place)s”。") % {"asset": asset, "place": place},
                field="asset",
            )
        place = here
    if place is None and not (address or "").strip():
        raise InvalidInput(_("请选择报修地点或填写详细地址。"), field="place", code="required")
    if place is not None and not place.is_active:
        raise InvalidInput(_("地点“%(name)s”已停用。") % {"name": place}, field="place")
    urgency = urgency or category.default_urgency
    if urgency not in Urgency.values:
        raise InvalidInput(_("紧急程度只能是：一般、普通、紧急、特急。"), field="urgency")

    # A repeated key loses on the unique index below and returns the first order; callers that
    # fear many replays (anonymous reporters, intake.submit_report) look the key up first.
    uploads = list(attachments)
    now = timezone.now()
    # Built, and prepared by the subscribers, before the transaction: on SQLite everything
    # inside it holds the database's only write lock (docs/benchmarks.md).
    order = WorkOrder(
        status=Status.SUBMITTED,
        category=category,
        place=place,
        asset=asset,
        address=(address or "").strip(),
        description=description,
        urgency=urgency,
        channel=channel,
        preferred_time=preferred_time,
        reporter=reporter if reporter is not None and reporter.is_authenticated else None,
        reporter_name=reporter_name,
        reporter_phone=phone,
        reporter_phone_index=blind_index(phone),
        tracking_token=WorkOrder.new_tracking_token(),
        registered_by=by
        if getattr(by, "pk", None) and channel in (Channel.PHONE, Channel.WALK_IN)
        else None,
        received_at=received_at or now,
        handling=(handling or "").strip(),
        remarks=(remarks or "").strip(),
        idempotency_key=idempotency_key or None,
        created_at=now,
        updated_at=now,
    )
    subscribers.prepare(order)
    try:
        with transaction.atomic():
            order.number = _allocate_number(now)
            # insert_row: the same row as .create(), without compiling the INSERT each time.
            insert_row(order)
            event = insert_row(
                Event(
                    order=order,
                    code=EVENT_SUBMITTED,
                    channel=channel,
                    to_status=Status.SUBMITTED,
                    created_at=now,
                    data={
                        "channel": channel,
                        "urgency": urgency,
                        "category": category.code,
                        "place": place.code if place else "",
                        **({"asset": asset.code} if asset is not None else {}),
                    },
                    **actor_fields(by),
                )
            )
            _store_attachments(order, uploads, event=event, by=by)
            subscribers.publish(event)
            if category.auto_accept:
                apply_as_system(order, Action.ACCEPT)
    except IntegrityError:
        if idempotency_key:
            existing = WorkOrder.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing, False
        raise
    return order, True


def _store_attachments(
    order: WorkOrder, uploads: list[CleanUpload], *, event: Event, by
) -> list[Attachment]:
    uploader = by if getattr(by, "is_authenticated", False) else None
    stored = []
    for up in uploads:
        att = Attachment(
            order=order,
            event=event,
            kind=up.kind,
            content_type=up.content_type,
            size=len(up.data),
            original_name=up.original_name,
            uploaded_by=uploader,
        )
        att.file.save(f"{order.number}.{up.extension}", ContentFile(up.data), save=False)
        att.save()
        stored.append(att)
    if stored:
        event.data = {**event.data, "attachments": [a.pk for a in stored]}
        event.save(update_fields=["data"])
    return stored


def add_attachments(
    order: WorkOrder, uploads: Iterable[CleanUpload], *, by, channel: str = "web"
) -> Event:
    """Attach photos or videos to an order as their own timeline entry (e.g. progress photos)."""
    from .access import can_see
    from .errors import NotAllowed, NotVisible

    uploads = list(uploads)
    if not uploads:
        raise InvalidInput(_("请选择要上传的照片或视频。"), field="files", code="required")
    if not can_see(by, order):
        raise NotVisible(_("找不到工单 %(number)s，或您无权查看。") % {"number": order.number})
    may = (
        (order.assignee_id is not None and order.assignee_id == by.pk)
        or (getattr(by, "pk", None) is not None and order.reporter_id == by.pk)
        # The reporter's link may add photos; a follower's link only watches (actors.py).
        or (isinstance(by, LinkHolder) and not by.follower)
        or getattr(by, "sees_all_orders", False)
    )
    if not may:
        raise NotAllowed(_("您无权为该工单上传附件。"))
    if not order.is_open:
        raise InvalidInput(_("工单已结束，不能再上传附件。"), code="closed")
    with transaction.atomic():
        event = Event.objects.create(
            order=order,
            code=EVENT_ATTACHMENT,
            channel=channel,
            from_status=order.status,
            to_status=order.status,
            **actor_fields(by),
        )
        _store_attachments(order, uploads, event=event, by=by)
    return event


def follow_order(
    order: WorkOrder, *, name: str, phone: str, by, channel: str = "web"
) -> tuple[Follower, bool]:
    """Join an open order as a follower instead of reporting the same fault again (IN1, IN8).

    Returns (follower, created); the same phone following twice gets its first link back.
    """
    name = (name or "").strip()
    _refuse_nul(reporter_name=name)
    if not name:
        raise InvalidInput(_("请填写您的姓名。"), field="reporter_name", code="required")
    if len(name) > 60:
        raise InvalidInput(_("姓名最多 60 个字。"), field="reporter_name")
    try:
        digits = normalize_phone(phone)
    except ValidationError as exc:
        raise InvalidInput(exc.messages[0], field="reporter_phone", code="invalid_phone") from None
    if not order.is_open or order.status == Status.COMPLETED:
        raise InvalidInput(
            _("工单 %(number)s 已处理完毕，请重新报修。") % {"number": order.number}, code="closed"
        )
    index = blind_index(digits)
    existing = Follower.objects.filter(order=order, phone_index=index).first()
    if existing is not None:
        return existing, False
    user = by if getattr(by, "is_authenticated", False) else None
    try:
        with transaction.atomic():
            follower = Follower.objects.create(
                order=order,
                name=name,
                phone=digits,
                phone_index=index,
                user=user,
                tracking_token=WorkOrder.new_tracking_token(),
            )
            Event.objects.create(
                order=order,
                code=EVENT_FOLLOWED,
                channel=channel,
                from_status=order.status,
                to_status=order.status,
                data={"name": name},
                **actor_fields(by),
            )
    except IntegrityError:
        return Follower.objects.get(order=order, phone_index=index), False
    return follower, True


_DEADLINE_SQL: dict[str, str] = {}


def set_deadline(order, due: datetime) -> None:
    """Record the order's completion deadline (完成时限, `due_at`) as its SLA completion clock
    computes it. Not a transition and no event: the clock's start, pause and breach are the
    events. One prepared UPDATE, because it sits on the intake path (docs/benchmarks.md)."""
    alias = "default"
    connection = connections[alias]
    sql = _DEADLINE_SQL.get(alias)
    if sql is None:
        quote = connection.ops.quote_name
        sql = _DEADLINE_SQL[alias] = "UPDATE {} SET {} = %s WHERE {} = %s".format(
            quote(WorkOrder._meta.db_table),
            quote(WorkOrder._meta.get_field("due_at").column),
            quote(WorkOrder._meta.pk.column),
        )
    pk = order if isinstance(order, int) else order.pk
    with connection.cursor() as cursor:
        cursor.execute(sql, [connection.ops.adapt_datetimefield_value(due), pk])
    if not isinstance(order, int):
        order.due_at = due


def perform(
    order: WorkOrder,
    action: str,
    *,
    by,
    channel: str = "web",
    version: int | None = None,
    attachments: Iterable[CleanUpload] = (),
    **params,
) -> Event:
    """Take any lifecycle action by name (the API and the generic buttons use this).

    Photos sent with the action (a progress note, a completion) belong to its event.
    """
    uploads = list(attachments)
    with transaction.atomic():
        event = apply(
            order, action, by=by, channel=channel, version=version, params=params, savepoint=False
        )
        if uploads:
            _store_attachments(order, uploads, event=event, by=by)
    return event


# Named verbs for readers and callers that know what they do.


def accept_order(order, *, by, **kw):
    return perform(order, Action.ACCEPT, by=by, **kw)


def reject_order(order, *, reason, by, **kw):
    return perform(order, Action.REJECT, by=by, reason=reason, **kw)


def dispatch_order(order, *, technician, by, **kw):
    return perform(order, Action.DISPATCH, by=by, technician=technician, **kw)


def reassign_order(order, *, technician, by, reason="", **kw):
    return perform(order, Action.REASSIGN, by=by, technician=technician, reason=reason, **kw)


def acknowledge_order(order, *, by, **kw):
    return perform(order, Action.ACKNOWLEDGE, by=by, **kw)


def decline_order(order, *, reason, by, **kw):
    return perform(order, Action.DECLINE, by=by, reason=reason, **kw)


def record_arrival(order, *, by, lat=None, lng=None, **kw):
    return perform(order, Action.ARRIVE, by=by, lat=lat, lng=lng, **kw)


def record_progress(order, *, note, by, **kw):
    return perform(order, Action.PROGRESS, by=by, note=note, **kw)


def hold_order(order, *, reason, by, **kw):
    return perform(order, Action.HOLD, by=by, reason=reason, **kw)


def resume_order(order, *, by, **kw):
    return perform(order, Action.RESUME, by=by, **kw)


def complete_order(order, *, result, note, by, suggestion="", **kw):
    return perform(
        order, Action.COMPLETE, by=by, result=result, note=note, suggestion=suggestion, **kw
    )


def confirm_order(order, *, by, rating=None, comment="", **kw):
    return perform(order, Action.CONFIRM, by=by, rating=rating, comment=comment, **kw)


def close_order(order, *, by, note="", **kw):
    return perform(order, Action.CLOSE, by=by, note=note, **kw)


def reopen_order(order, *, reason, by, **kw):
    return perform(order, Action.REOPEN, by=by, reason=reason, **kw)


def cancel_order(order, *, reason, by, **kw):
    return perform(order, Action.CANCEL, by=by, reason=reason, **kw)


def request_change(order, *, kind, reason, by, **kw):
    """The assigned technician asks to change the category or measures, extend the deadline
    or add work (工单变更); `kw` carries the kind's value (new_category, measures, new_due_at,
    extra_work)."""
    return perform(order, Action.REQUEST_CHANGE, by=by, kind=kind, reason=reason, **kw)


def approve_change(order, *, by, note="", **kw):
    """Approve the order's pending change request and apply it to the order."""
    return perform(order, Action.APPROVE_CHANGE, by=by, note=note, **kw)


def reject_change(order, *, reason, by, **kw):
    return perform(order, Action.REJECT_CHANGE, by=by, reason=reason, **kw)


def escalate_order(order, *, expert, reason, by, **kw):
    """Hand a complex order to an expert (DP4), who is told and may guide or take it over."""
    return perform(order, Action.ESCALATE, by=by, expert=expert, reason=reason, **kw)


def guide_order(order, *, note, by, **kw):
    return perform(order, Action.GUIDE, by=by, note=note, **kw)


def take_over_order(order, *, by, **kw):
    """The expert becomes the order's technician (it is acknowledged in his name)."""
    return perform(order, Action.TAKE_OVER, by=by, **kw)
