"""Phone numbers: normalising what people type, validating, and masking in lists (PF4)."""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_STRIP = re.compile(r"[\s\-()（）]")
# Mainland mobiles (1[3-9]x, 11 digits), fixed lines with area code (0xx-xxxxxxx[x]), and
# short campus extensions (4–8 digits), optionally with +86.
# re.ASCII: \d must not match other scripts' digits (stored numbers are plain 0-9).
_MOBILE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
_LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}$", re.ASCII)
_EXTENSION = re.compile(r"^\d{4,8}$", re.ASCII)


def normalize_phone(raw: str) -> str:
    """Return the digits a person meant, or raise ValidationError saying what is wrong."""
    # NFKC turns full-width input (１３８…, ＋８６, （０２７）), common with Chinese IMEs, into ASCII.
    value = _STRIP.sub("", unicodedata.normalize("NFKC", raw or "").strip())
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    if not value:
        raise ValidationError(_("请填写联系电话。"), code="phone_required")
    if not value.isdigit() or not (
        _MOBILE.match(value) or _LANDLINE.match(value) or _EXTENSION.match(value)
    ):
        raise ValidationError(
            _("电话号码格式不正确：请填写 11 位手机号、带区号的座机号或 4–8 位校内分机号。"),
            code="phone_invalid",
        )
    return value


def mask_phone(value: str) -> str:
    """138****1234 for mobiles; keep only the last digits of anything else."""
    if not value:
        return ""
    if len(value) == 11:
        return f"{value[:3]}****{value[-4:]}"
    if len(value) > 4:
        return "*" * (len(value) - 4) + value[-4:]
    return "*" * len(value)
