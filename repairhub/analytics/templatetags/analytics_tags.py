"""Small formatting filters for the analytics pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def pct(rate) -> str:
    """0.8571 → '85.7%'; None → '—'."""
    if rate is None or rate == "":
        return "—"
    return f"{float(rate) * 100:.1f}%"


@register.filter
def dash(value) -> str:
    return "—" if value is None or value == "" else str(value)


@register.filter
def item(container, key):
    """container[key] for dicts and lists; None when absent."""
    try:
        return container[key]
    except (KeyError, IndexError, TypeError):
        return None
