"""Small checks the feedback services share: texts, scores, who someone is."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from repairhub.accounts.roles import Role
from repairhub.workorders.actors import LinkHolder, SystemActor
from repairhub.workorders.errors import InvalidInput, NotAllowed

MAX_TEXT = 2000
DESK = (Role.AGENT, Role.DISPATCHER, Role.MANAGER, Role.ADMIN)
MANAGEMENT = (Role.MANAGER, Role.ADMIN)


def clean_text(value: Any, *, field: str, label: str, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(_("%(label)s必须是文字。") % {"label": label}, field=field)
    value = value.strip()
    if "\x00" in value:
        raise InvalidInput(_("%(label)s含有无效字符。") % {"label": label}, field=field)
    if required and not value:
        raise InvalidInput(_("请填写%(label)s。") % {"label": label}, field=field, code="required")
    if len(value) > MAX_TEXT:
        raise InvalidInput(
            _("%(label)s过长：最多 %(max)d 个字。") % {"label": label, "max": MAX_TEXT},
            field=field,
        )
    return value


def clean_bool(value: Any, *, field: str, question: str, required: bool = True) -> bool | None:
    """A yes/no answer: True/False, or the strings a form sends ("yes"/"no", "1"/"0")."""
    if value in (None, ""):
        if required:
            raise InvalidInput(
                _("请选择：%(question)s") % {"question": question}, field=field, code="required"
            )
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"yes", "true", "1", "on"}:
        return True
    if isinstance(value, str) and value.lower() in {"no", "false", "0", "off"}:
        return False
    raise InvalidInput(_("“%(question)s”只能回答是或否。") % {"question": question}, field=field)


def user_of(by):
    """The account behind an actor, or None (a tracking link, the system, a visitor)."""
    if isinstance(by, LinkHolder | SystemActor) or by is None:
        return None
    return by if getattr(by, "is_authenticated", False) else None


def require_role(by, *roles: str, message: str) -> None:
    user = user_of(by)
    if user is None or not user.is_active or not user.has_role(*roles):
        raise NotAllowed(message)
