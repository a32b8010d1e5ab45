"""/api/v1/orders: submit, search, read, act on and attach to work orders.

Each endpoint parses (schema) → checks visibility (workorders.access) → calls one service →
serialises (schemas.py). Refusals are raised by the services and shaped by errors.py.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Header, Path, Query, Router
from ninja.files import UploadedFile
from ninja.responses import Status as Reply

from repairhub.intake.services import Report, submit_report
from repairhub.lib.uploads import clean_upload
from repairhub.sla.queries import load_clocks
from repairhub.workorders.access import access_work_order
from repairhub.workorders.errors import InvalidInput
from repairhub.workorders.models import Channel
from repairhub.workorders.queries import OrderFilter, search_orders
from repairhub.workorders.services import add_attachments, perform
from repairhub.workorders.states import Action, Status

from .auth import OPTIONAL
from .schemas import (
    API_ROOT,
    ActionIn,
    ErrorOut,
    OrderDetailOut,
    OrderIn,
    OrderListOut,
    OrderOut,
    OrderQuery,
    created_order,
    order_detail,
    order_summary,
)

router = Router(tags=["orders"])

MAX_IDEMPOTENCY_KEY = 200
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _client_address(request: HttpRequest) -> str:
    # The address the connection came from; a reverse proxy must pass the real one through
    # (docs/api.md, Rate limits). Forwarded headers are not trusted: anyone can write them.
    return request.META.get("REMOTE_ADDR", "") or "unknown"


@router.post(
    "/orders",
    auth=OPTIONAL,
    response={201: OrderOut, 200: OrderOut, 429: ErrorOut, **ERRORS},
    summary="提交报修",
)
def submit_order(
    request: HttpRequest,
    response: HttpResponse,
    payload: OrderIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
):
    """Submit a repair request. A repeat with the same `Idempotency-Key` returns the first
    order with status 200 instead of creating another."""
    key = (idempotency_key or "").strip()
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise InvalidInput(
            _("Idempotency-Key 最长 %(max)d 个字符。") % {"max": MAX_IDEMPOTENCY_KEY},
            field="Idempotency-Key",
        )
    preferred = payload.preferred_time
    if preferred is not None and timezone.is_naive(preferred):
        preferred = timezone.make_aware(preferred)
    report = Report(
        description=payload.description,
        category=payload.category,
        place=payload.place,
        asset=payload.asset,
        address=payload.address,
        reporter_name=payload.reporter_name,
        reporter_phone=payload.reporter_phone,
        urgency=payload.urgency or "",
        channel=payload.channel,
        preferred_time=preferred,
    )
    order, created = submit_report(
        report, by=request.auth, client=_client_address(request), idempotency_key=key
    )
    response["Location"] = f"{API_ROOT}/orders/{order.number}"
    if not created:
        response["Idempotent-Replayed"] = "true"
    return Reply(201 if created else 200, created_order(order, viewer=request.auth))


@router.get("/orders", response={200: OrderListOut, **ERRORS}, summary="查询工单")
def list_orders(request: HttpRequest, filters: Query[OrderQuery]):
    """The orders the caller may see, newest first. Reporter phones are masked."""
    for value in filter(None, filters.status.split(",")):
        if value not in Status.values:
            raise InvalidInput(
                _("未知的工单状态：%(status)s。") % {"status": value}, field="status"
            )
    if filters.channel and filters.channel not in Channel.values:
        raise InvalidInput(
            _("未知的报修渠道：%(channel)s。") % {"channel": filters.channel}, field="channel"
        )
    f = OrderFilter(
        status=filters.status,
        category=filters.category.strip(),
        place=filters.place.strip(),
        assignee=filters.assignee.strip(),
        channel=filters.channel,
        date_from=filters.date_from,
        date_to=filters.date_to,
        number=filters.number,
        phone=filters.phone,
    )
    qs = search_orders(request.auth, f)
    page = list(qs[filters.offset : filters.offset + filters.limit])
    staff = getattr(request.auth, "is_staff_member", False)
    if staff:
        load_clocks(page)  # every listed order's SLA clocks in one query
    return {"items": [order_summary(o, deadlines=staff) for o in page], "count": qs.count()}


@router.get("/orders/{number}", response={200: OrderDetailOut, **ERRORS}, summary="工单详情")
def get_order(request: HttpRequest, number: str):
    order = access_work_order(request.auth, number)
    return order_detail(order, viewer=request.auth)


@router.post(
    "/orders/{number}/actions/{action}",
    response={200: OrderDetailOut, **ERRORS},
    summary="执行工单操作",
)
def act_on_order(
    request: HttpRequest,
    number: str,
    action: Path[Action],
    payload: ActionIn | None = None,
):
    """accept, reject, dispatch, reassign, acknowledge, decline, arrive, progress, hold,
    resume, complete, confirm, close, reopen, cancel — see docs/api.md for each one's body."""
    order = access_work_order(request.auth, number)
    params = payload.model_dump(exclude_unset=True) if payload is not None else {}
    version = params.pop("version", None)
    perform(order, action, by=request.auth, channel="api", version=version, **params)
    return order_detail(order, viewer=request.auth)


@router.post(
    "/orders/{number}/attachments",
    response={201: OrderDetailOut, 413: ErrorOut, **ERRORS},
    summary="上传照片或视频",
)
def upload_attachments(request: HttpRequest, number: str, files: File[list[UploadedFile]]):
    """Photos are re-encoded as JPEG (EXIF removed); videos are kept as sent. One bad file
    refuses the whole upload and nothing is stored."""
    order = access_work_order(request.auth, number)
    if len(files) > settings.UPLOAD_MAX_FILES:
        raise InvalidInput(
            _("一次最多上传 %(max)d 个文件。") % {"max": settings.UPLOAD_MAX_FILES},
            field="files",
            code="too_many_files",
        )
    limit = max(settings.UPLOAD_MAX_IMAGE_BYTES, settings.UPLOAD_MAX_VIDEO_BYTES)
    uploads = []
    for upload in files:
        name = upload.name or "upload"
        if upload.size is not None and upload.size > limit:
            # Refused before reading it into memory; clean_upload has the per-kind limits.
            raise InvalidInput(
                _("文件“%(name)s”太大：最大 %(max)d MB。")
                % {"name": name, "max": limit // 1024 // 1024},
                field="files",
                code="too_large",
            )
        try:
            uploads.append(clean_upload(name, upload.read()))
        except DjangoValidationError as exc:
            raise InvalidInput(exc.messages[0], field="files", code=exc.code or "invalid") from None
    add_attachments(order, uploads, by=request.auth, channel="api")
    return Reply(201, order_detail(order, viewer=request.auth))
