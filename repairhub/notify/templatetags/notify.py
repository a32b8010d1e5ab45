"""{% unread_badge %}: the page header's link to the notification centre, with the count of
unread in-app messages (one indexed count per page)."""

from __future__ import annotations

from django import template

from ..services import unread_for

register = template.Library()


@register.inclusion_tag("notify/_unread_badge.html", takes_context=True)
def unread_badge(context) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    return {"show": True, "unread": unread_for(user)}
