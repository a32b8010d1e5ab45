"""Deadline chips for staff pages.

{% load sla %}
{% sla_prefetch rows %}      once per list: every listed order's clocks in one query
{% sla_chips order %}        an open order's running clocks, green/amber/red/paused
{% sla_deadlines order %}    every current clock of an order, with its deadline (order page)
"""

from __future__ import annotations

from django import template

from repairhub.sla.queries import chips_for, deadlines_for, load_clocks

register = template.Library()


@register.simple_tag
def sla_prefetch(items) -> str:
    load_clocks(items)
    return ""


@register.inclusion_tag("sla/_chips.html")
def sla_chips(order, compact: bool = False) -> dict:
    return {"chips": chips_for(order), "compact": compact}


@register.inclusion_tag("sla/_deadlines.html")
def sla_deadlines(order) -> dict:
    return {"chips": deadlines_for(order), "order": order}
