"""Warranty and rework (FQ5): how long a repair is guaranteed, which closed order a new report
may be the rework of, and the links that let rework rates be measured."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from repairhub.workorders.actors import SystemActor
from repairhub.workorders.errors import IllegalState, InvalidInput
from repairhub.workorders.lifecycle import record_event
from repairhub.workorders.models import Category, Result, WorkOrder
from repairhub.workorders.states import Status

from ..models import Rework, Warranty
from ..states import EVENT_REWORK_LINKED, ReworkSource
from .common import DESK, require_role, user_of


def warranty_days(category: Category) -> int:
    """The category's own warranty, else its parent's, else FEEDBACK_WARRANTY_DAYS."""
    ids = [category.pk] + ([category.parent_id] if category.parent_id else [])
    found = dict(Warranty.objects.filter(category_id__in=ids).values_list("category_id", "days"))
    for pk in ids:
        if pk in found:
            return found[pk]
    return settings.FEEDBACK_WARRANTY_DAYS


def warranty_until(order: WorkOrder) -> datetime | None:
    """When the repair's warranty ends (from its completion); None for work not done well."""
    if order.completed_at is None or order.result != Result.SUCCESS:
        return None
    return order.completed_at + timedelta(days=warranty_days(order.category))


def rework_candidate(
    place, category: Category, now: datetime | None = None, *, asset=None
) -> WorkOrder | None:
    """The latest closed, successful order in this category whose warranty has not run out at
    `now`: a new report there is probably its rework. With an asset, only that asset's orders
    (another unit in the same room is another repair); without one, the orders at the place."""
    if (place is None and asset is None) or category is None:
        return None
    now = now or timezone.now()
    since = now - timedelta(days=warranty_days(category))
    where = {"asset": asset} if asset is not None else {"place": place}
    return (
        WorkOrder.objects.filter(
            **where,
            category=category,
            status=Status.CLOSED,
            result=Result.SUCCESS,
            completed_at__gte=since,
        )
        .select_related("assignee", "category")
        .order_by("-completed_at", "-id")
        .first()
    )


def link_rework(original: WorkOrder, rework: WorkOrder, *, by, channel: str = "web") -> Rework:
    """Record that `rework` is the rework of `original` under warranty: the desk decides, or
    the system when the reporter accepted the report form's proposal."""
    if not isinstance(by, SystemActor):
        require_role(by, *DESK, message=_("只有值班员、调度员或主管可以关联返修。"))
    if original.pk == rework.pk:
        raise InvalidInput(_("不能把工单关联为自己的返修。"), field="original")
    if original.status != Status.CLOSED:
        raise IllegalState(
            _("原工单 %(number)s 尚未关闭，不能作为返修的原工单。") % {"number": original.number},
            code="not_closed",
        )
    until = warranty_until(original)
    if until is None or rework.created_at > until:
        raise InvalidInput(
            _("原工单 %(number)s 不在保修期内（保修至 %(until)s）。")
            % {
                "number": original.number,
                "until": timezone.localtime(until).strftime("%Y-%m-%d") if until else "—",
            },
            field="original",
            code="out_of_warranty",
        )
    try:
        with transaction.atomic():
            link = Rework.objects.create(
                original=original,
                rework=rework,
                source=ReworkSource.WARRANTY,
                technician_id=original.assignee_id,
                category_id=original.category_id,
                created_by=user_of(by),
            )
            data = {"original": original.number, "rework": rework.number, "source": "warranty"}
            record_event(original, EVENT_REWORK_LINKED, data=data, by=by, channel=channel)
            record_event(rework, EVENT_REWORK_LINKED, data=data, by=by, channel=channel)
    except IntegrityError:
        raise IllegalState(
            _("工单 %(number)s 已关联过原工单。") % {"number": rework.number},
            code="already_linked",
        ) from None
    return link
