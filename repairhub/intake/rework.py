"""The warranty rework proposal at intake (FQ5).

When the place (or the asset, when the report names one) and category of a new report match a
closed order still under warranty (`feedback.services.rework_candidate`), the report form and
the desk offer to register the new order as its rework. The form posts the number it showed (`rework_of`) and the box (`rework`);
at submit the candidate is looked up again and the link is made only if the ticked number is
still the one found — a posted number is never trusted on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from repairhub.feedback.services import link_rework, rework_candidate
from repairhub.feedback.services.warranty import warranty_until
from repairhub.places.models import Asset, Place
from repairhub.workorders.errors import OrderError
from repairhub.workorders.models import Category, WorkOrder

logger = logging.getLogger(__name__)

TICKED = frozenset({"1", "on", "true", "yes"})


@dataclass(frozen=True)
class ReworkOffer:
    original: WorkOrder
    until: datetime
    checked: bool


def ticked(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in TICKED


def offer(
    place: Place | None, category: Category | None, data: Mapping, *, asset: Asset | None = None
) -> ReworkOffer | None:
    """What to show for this place (or asset) and category. The box is ticked by default; a
    page shown again (an error, the next place level, an htmx refresh) keeps the reporter's
    choice as long as the candidate is still the one he saw."""
    original = rework_candidate(place, category, asset=asset)
    until = warranty_until(original) if original is not None else None
    if original is None or until is None:
        return None
    shown = str(data.get("rework_of") or "").strip()
    checked = ticked(data.get("rework")) if shown == original.number else True
    return ReworkOffer(original, until, checked)


def confirmed_original(
    place: Place | None,
    category: Category | None,
    *,
    shown: str,
    accepted: bool,
    asset: Asset | None = None,
) -> WorkOrder | None:
    """At submit: the candidate found now, if the box was ticked for exactly that order."""
    shown = (shown or "").strip()
    if not accepted or not shown:
        return None
    original = rework_candidate(place, category, asset=asset)
    if original is None or original.number != shown:
        return None  # forged, or no longer the candidate: report without the link
    return original


def link_new_order(original: WorkOrder, order: WorkOrder, *, by) -> bool:
    """Link `order` as the rework of `original`. The report itself matters more than the link:
    a refusal (nothing is written then) is logged and the report goes ahead."""
    try:
        link_rework(original, order, by=by, channel=order.channel)
    except OrderError as err:
        logger.warning(
            "rework link %s -> %s refused: %s", original.number, order.number, err.message
        )
        return False
    return True
