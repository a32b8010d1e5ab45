"""Template tags other apps' pages use to show feedback data."""

from __future__ import annotations

from django import template
from django.db.models import F, Q

from ..models import Rework

register = template.Library()


@register.simple_tag
def rework_links(order) -> dict:
    """The order's rework links, for its page, in one query with the linked orders joined:
    `original` (the orders it is the rework of) and `reworks` (orders doing it again). A QC
    failure that reopened the order itself links it to itself; that is no link to show."""
    rows = (
        Rework.objects.filter(Q(rework=order) | Q(original=order))
        .exclude(original_id=F("rework_id"))
        .select_related("original", "rework")
        .order_by("created_at", "id")
    )
    links: dict[str, list] = {"original": [], "reworks": []}
    for row in rows:
        if row.rework_id == order.pk:
            links["original"].append(row.original)
        else:
            links["reworks"].append(row.rework)
    return links
