"""/api/v1/me/notifications: the caller's in-app messages (the notification centre, TM5).

Reading lists them newest first with the unread count; marking read calls
notify.services.mark_read, which never touches anyone else's messages.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict

from repairhub.notify import services
from repairhub.notify.models import Message
from repairhub.workorders.errors import InvalidInput

from .schemas import ErrorOut

router = Router(tags=["notifications"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 422: ErrorOut}
MAX_IDS = 500


class NotificationQuery(Schema):
    unread: bool = Field(False, description="true：只列未读消息")
    limit: int = Field(50, ge=1, le=200, description="最多返回多少条")
    before: int | None = Field(None, ge=1, description="翻页：只列 id 小于此值的消息")


class NotificationOut(Schema):
    id: int
    cause: str = Field(..., description="消息模板编码，例如 workorder.dispatched")
    order_number: str
    subject: str
    body: str
    created_at: datetime
    read_at: datetime | None


class NotificationListOut(Schema):
    unread: int = Field(..., description="未读消息总数")
    items: list[NotificationOut]


class ReadIn(Schema):
    model_config = ConfigDict(extra="forbid")

    ids: list[int] | None = Field(None, description="要标为已读的消息 id")
    all: bool = Field(False, description="true：把全部消息标为已读")


class ReadOut(Schema):
    marked: int = Field(..., description="这次标为已读的条数")
    unread: int


def _out(m: Message) -> dict:
    return {
        "id": m.pk,
        "cause": m.cause,
        "order_number": m.order_number,
        "subject": m.subject,
        "body": m.body,
        "created_at": m.created_at,
        "read_at": m.read_at,
    }


@router.get(
    "/me/notifications",
    response={200: NotificationListOut, **ERRORS},
    summary="我的站内消息",
)
def list_notifications(request: HttpRequest, filters: Query[NotificationQuery]):
    """The caller's in-app messages, newest first; `before` pages back by id."""
    rows = Message.objects.inbox(request.auth)
    if filters.unread:
        rows = rows.unread()
    if filters.before:
        rows = rows.filter(pk__lt=filters.before)
    items = [_out(m) for m in rows.order_by("-pk")[: filters.limit]]
    return {"unread": services.unread_for(request.auth), "items": items}


@router.post(
    "/me/notifications/read",
    response={200: ReadOut, **ERRORS},
    summary="标记站内消息为已读",
)
def read_notifications(request: HttpRequest, payload: ReadIn):
    """Mark some (`ids`) or all (`all: true`) of the caller's messages read."""
    if payload.all == (payload.ids is not None):
        raise InvalidInput(_("请提供 ids（消息 id 列表）或 all: true，二者选一。"), field="ids")
    if payload.ids is not None and not payload.ids:
        raise InvalidInput(_("ids 不能为空。"), field="ids")
    if payload.ids is not None and len(payload.ids) > MAX_IDS:
        raise InvalidInput(_("ids 一次最多 %(max)d 个。") % {"max": MAX_IDS}, field="ids")
    if payload.ids is not None:
        mine = set(
            Message.objects.inbox(request.auth)
            .filter(pk__in=payload.ids)
            .values_list("pk", flat=True)
        )
        missing = sorted(set(payload.ids) - mine)
        if missing:
            raise InvalidInput(
                _("没有这些消息：%(ids)s。") % {"ids": ", ".join(map(str, missing[:20]))},
                field="ids",
            )
    marked = services.mark_read(request.auth, None if payload.all else payload.ids)
    return {"marked": marked, "unread": services.unread_for(request.auth)}
