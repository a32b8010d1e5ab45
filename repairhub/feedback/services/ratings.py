"""Satisfaction ratings (FQ1): the reporter rates and confirms in one step; he may change his
rating for a while; orders nobody confirms are confirmed automatically, without a rating."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from repairhub.workorders.actors import LinkHolder
from repairhub.workorders.errors import IllegalState, InvalidInput, NotAllowed, OrderError
from repairhub.workorders.lifecycle import apply_as_system, record_event
from repairhub.workorders.models import WorkOrder
from repairhub.workorders.services import confirm_order
from repairhub.workorders.states import EVENT_CODES, Action, Status

from ..models import Rating
from ..models.ratings import AGENT_SCORES, PRICE_SCORES, SCORE_LABELS, TECHNICIAN_SCORES
from ..states import EVENT_RATING_CHANGED
from .common import clean_text

EVENT_CONFIRMED = EVENT_CODES[Action.CONFIRM]


def dimensions(order: WorkOrder) -> list[str]:
    """The scores this order's reporter gives: the technician's four; the agent's three when an
    agent registered the report; price transparency when the category is paid or a fee was
    recorded at completion."""
    names = [name for name, _label in TECHNICIAN_SCORES]
    if order.registered_by_id is not None:
        names += [name for name, _label in AGENT_SCORES]
    if order.category.is_paid or (order.fee is not None and order.fee > 0):
        names += [name for name, _label in PRICE_SCORES]
    return names


def is_reporter(order: WorkOrder, by) -> bool:
    """The reporter himself: his account, or his tracking link (not a follower's)."""
    if isinstance(by, LinkHolder):
        return not by.follower and by.token == order.tracking_token
    pk = getattr(by, "pk", None)
    return pk is not None and getattr(by, "is_authenticated", False) and order.reporter_id == pk


def _score(value: Any, name: str) -> int:
    label = SCORE_LABELS[name]
    if value in (None, ""):
        raise InvalidInput(
            _("请为“%(label)s”打分（1 到 5 星）。") % {"label": label}, field=name, code="required"
        )
    if isinstance(value, bool):
        value = None
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not 1 <= value <= 5:
        raise InvalidInput(
            _("“%(label)s”的评分必须是 1 到 5 的整数。") % {"label": label}, field=name
        )
    return value


def _scores(order: WorkOrder, given: Mapping[str, Any]) -> dict[str, int | None]:
    wanted = dimensions(order)
    for name in SCORE_LABELS:
        if name not in wanted and given.get(name) not in (None, ""):
            why = (
                _("该报修不是值班员登记的，无需评价值班员。")
                if name in dict(AGENT_SCORES)
                else _("该报修不收费，无需评价收费透明。")
            )
            raise InvalidInput(why, field=name)
    return {
        name: (_score(given.get(name), name) if name in wanted else None) for name in SCORE_LABELS
    }


def overall(scores: Mapping[str, int | None]) -> int:
    """The order's one-figure rating: the mean of the technician's four scores, rounded half up."""
    values = [scores[name] for name, _label in TECHNICIAN_SCORES]
    mean = Decimal(sum(values)) / len(values)  # type: ignore[arg-type]
    return int(mean.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def rate_order(
    order: WorkOrder,
    *,
    by,
    scores: Mapping[str, Any],
    comment: str = "",
    channel: str = "web",
    version: int | None = None,
) -> Rating:
    """The reporter rates the completed order and confirms it, in one transaction: both happen
    or neither. Once per order."""
    if not is_reporter(order, by):
        raise NotAllowed(_("只有报修人本人可以评价该工单。"))
    if Rating.objects.filter(order_id=order.pk).exists():
        raise IllegalState(
            _("工单 %(number)s 已经评价过了，每张工单只能评价一次。") % {"number": order.number},
            code="already_rated",
        )
    if order.status != Status.COMPLETED:
        raise IllegalState(
            _("工单当前状态为“%(status)s”，只有已完工待确认的工单可以评价。")
            % {"status": Status(order.status).label},
            code="not_completed",
        )
    values = _scores(order, scores)
    text = clean_text(comment, field="comment", label=_("评价"))
    score = overall(values)
    with transaction.atomic():
        try:
            with transaction.atomic():
                rating = Rating.objects.create(
                    order=order,
                    technician_id=order.assignee_id,
                    agent_id=order.registered_by_id,
                    overall=score,
                    comment=text,
                    channel=channel,
                    **values,
                )
        except IntegrityError:
            raise IllegalState(
                _("工单 %(number)s 已经评价过了，每张工单只能评价一次。")
                % {"number": order.number},
                code="already_rated",
            ) from None
        confirm_order(order, by=by, rating=score, comment=text, channel=channel, version=version)
    return rating


def change_rating(
    rating: Rating,
    *,
    by,
    scores: Mapping[str, Any],
    comment: str = "",
    channel: str = "web",
) -> Rating:
    """The reporter changes his rating within FEEDBACK_RATING_EDIT_HOURS of giving it.

    The order's one-figure rating follows, with an event saying from what to what.
    """
    order = rating.order
    if not is_reporter(order, by):
        raise NotAllowed(_("只有报修人本人可以修改评价。"))
    if not rating.is_editable:
        raise IllegalState(
            _("评价提交已超过 %(hours)d 小时，不能再修改。")
            % {"hours": settings.FEEDBACK_RATING_EDIT_HOURS},
            code="rating_locked",
        )
    values = _scores(order, scores)
    text = clean_text(comment, field="comment", label=_("评价"))
    before = rating.overall
    now = timezone.now()
    with transaction.atomic():
        changed = Rating.objects.filter(pk=rating.pk, overall=before).update(
            overall=overall(values), comment=text, changed_at=now, **values
        )
        if changed != 1:
            raise IllegalState(_("评价已被修改，请刷新后重试。"), code="stale_version")
        rating.refresh_from_db()
        # The order keeps the figure the rankings read; the event keeps the earlier one.
        WorkOrder.objects.filter(pk=order.pk).update(
            rating=rating.overall,
            rating_comment=text,
            version=F("version") + 1,
            updated_at=now,
        )
        order.refresh_from_db(fields=["rating", "rating_comment", "version", "updated_at"])
        record_event(
            order,
            EVENT_RATING_CHANGED,
            data={"from": before, "to": rating.overall, "comment": text},
            by=by,
            channel=channel,
        )
    return rating


def auto_confirm_due(now: datetime | None = None, *, batch: int = 200) -> int:
    """Confirm orders completed more than FEEDBACK_AUTO_CONFIRM_DAYS ago that the reporter
    never answered. The confirmation event says `auto`; no rating is written. Returns how many."""
    now = now or timezone.now()
    days = settings.FEEDBACK_AUTO_CONFIRM_DAYS
    due = list(
        WorkOrder.objects.filter(
            status=Status.COMPLETED, completed_at__lte=now - timedelta(days=days)
        ).order_by("completed_at", "id")[:batch]
    )
    done = 0
    for order in due:
        try:
            # The confirm handler marks the event `auto` for the system actor.
            apply_as_system(order, Action.CONFIRM, params={"auto": True})
        except OrderError:
            continue  # the reporter (or a dispatcher) acted first
        done += 1
    return done


def is_auto_confirmed(order: WorkOrder) -> bool:
    event = order.events.filter(code=EVENT_CONFIRMED).order_by("-id").first()
    return bool(event and (event.data or {}).get("auto"))
