"""Message texts by template code ("workorder.dispatched", "sla.reminder" …).

Each app registers its default texts (marked with gettext_noop, written in Chinese, translated
when a message is rendered in the recipient's language). An administrator may reword any of
them per channel and language (`MessageTemplate` in the admin); `render()` uses his wording when
there is one and the registered text otherwise, and fills in the parameters.

SMS must stay within the provider's length: `render_sms()` shortens the longest free-text
parameters (a description, a place) until the text fits, never the order number or a link.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from repairhub.lib.localcache import LocalCache

log = logging.getLogger("repairhub.notify")


@dataclass(frozen=True)
class Text:
    body: str
    subject: str = ""
    # Channels this text may go through; empty: whichever each recipient chose. Internal
    # notices (a change request's decision) stay in the notification centre: ("in_app",).
    channels: tuple[str, ...] = ()
    # Parameters callers pass besides those the default text names (usable in admin wording).
    params: tuple[str, ...] = ()


TEXTS: dict[str, Text] = {}

# `%(name)s` and friends; the conversion must be s (every value is shown as text).
PLACEHOLDER = re.compile(r"%\((?P<name>[^)]*)\)(?P<spec>[#0\- +]*\d*(?:\.\d+)?)(?P<conv>.?)")
# Values never shortened to make an SMS fit: the order number, and links.
KEEP_WHOLE = frozenset({"number", "url"})
ELLIPSIS = "…"


def register(
    code: str,
    body: str,
    *,
    subject: str = "",
    channels: Iterable[str] = (),
    params: Iterable[str] = (),
) -> None:
    TEXTS[code] = Text(body=body, subject=subject, channels=tuple(channels), params=tuple(params))


def placeholders(text: str) -> set[str]:
    return {m.group("name") for m in PLACEHOLDER.finditer(text)}


def allowed_params(code: str) -> set[str]:
    """The names an administrator's wording of `code` may use."""
    text = TEXTS[code]
    return placeholders(text.body) | placeholders(text.subject) | set(text.params)


class _Missing(dict):
    def __missing__(self, key):  # a template naming an unknown parameter shows it empty
        return ""


def language_code(language: str = "") -> str:
    """A language of settings.LANGUAGES for `language` ("en-us" → "en"), else the site's."""
    try:
        return translation.get_supported_language_variant(language or settings.LANGUAGE_CODE)
    except LookupError:
        return settings.LANGUAGE_CODE


# --- administrators' wording ----------------------------------------------------------------


@dataclass(frozen=True)
class Wording:
    subject: str
    body: str
    sms_template: str


_wordings: LocalCache[dict[tuple[str, str, str], Wording]] = LocalCache("notify-templates")


def _all_wordings() -> dict[tuple[str, str, str], Wording]:
    from .models import MessageTemplate

    def load() -> dict[tuple[str, str, str], Wording]:
        rows = MessageTemplate.objects.values_list(
            "code", "channel", "language", "subject", "body", "sms_template"
        )
        return {(c, ch, lang): Wording(s, b, t) for c, ch, lang, s, b, t in rows}

    return _wordings.get("all", load) or {}


def forget_wordings(*args, **kwargs) -> None:
    """Signal receiver: an edited template takes effect at once in this process."""
    _wordings.clear()


def wording(code: str, channel: str, language: str) -> Wording | None:
    """The administrator's wording for this channel, else for all channels, else None."""
    rows = _all_wordings()
    lang = language_code(language)
    return rows.get((code, channel, lang)) or rows.get((code, "", lang))


def provider_template(code: str, language: str = "") -> str:
    """The SMS provider template an administrator set for `code` (empty: the settings')."""
    found = wording(code, "sms", language)
    return found.sms_template if found else ""


# --- rendering ------------------------------------------------------------------------------


def _values(params: Mapping[str, object]) -> _Missing:
    return _Missing({k: "" if v is None else v for k, v in params.items()})


def render(
    code: str, params: Mapping[str, object], language: str = "", *, channel: str = ""
) -> tuple[str, str]:
    """(subject, body) of template `code` in `language` (default: the active language)."""
    text = TEXTS[code]
    values = _values(params)
    lang = language_code(language or translation.get_language() or "")
    custom = wording(code, channel, lang)
    if custom is not None:
        try:
            body = custom.body % values
            subject = custom.subject % values if custom.subject else ""
            return subject, body
        except (TypeError, ValueError, KeyError):  # validated in the admin; never lose a message
            log.exception("message template %s/%s/%s does not render", code, channel, lang)
    with translation.override(lang):
        body = _(text.body) % values
        subject = _(text.subject) % values if text.subject else ""
    return subject, body


def shorten(value: str, length: int) -> str:
    """`value` cut to `length` characters, the last one an ellipsis."""
    if len(value) <= length:
        return value
    return value[: max(length - 1, 0)] + ELLIPSIS


def _shortenable(name: str, value: object) -> bool:
    return (
        isinstance(value, str)
        and name not in KEEP_WHOLE
        and not value.startswith(("http://", "https://"))
    )


def render_sms(
    code: str, params: Mapping[str, object], language: str = "", *, limit: int | None = None
) -> tuple[str, dict[str, object]]:
    """(body, params) of an SMS within `limit` characters (default NOTIFY_SMS_MAX_CHARS).

    The longest free-text parameter is cut first, each to no less than two characters; the
    order number and links stay whole. The shortened parameters are returned too, since the
    providers fill them into their own approved template.
    """
    limit = limit or settings.NOTIFY_SMS_MAX_CHARS
    values = {k: "" if v is None else v for k, v in params.items()}
    _subject, body = render(code, values, language, channel="sms")
    while len(body) > limit:
        candidates = [
            (len(v), k) for k, v in values.items() if _shortenable(k, v) and len(str(v)) > 2
        ]
        if not candidates:
            log.warning("SMS %s stays %d characters over %d", code, len(body), limit)
            break
        length, name = max(candidates)
        values[name] = shorten(str(values[name]), max(length - (len(body) - limit), 2))
        _subject, body = render(code, values, language, channel="sms")
    return body, values


# --- checking an administrator's wording ----------------------------------------------------


def wording_errors(code: str, text: str) -> list[str]:
    """What is wrong with `text` as a wording of `code`, in words (empty: nothing)."""
    if code not in TEXTS:
        return [_("未知的消息模板：%(code)s。") % {"code": code}]
    errors: list[str] = []
    allowed = allowed_params(code)
    found = list(PLACEHOLDER.finditer(text))
    unknown = sorted({m.group("name") for m in found} - allowed)
    if unknown:
        errors.append(
            _("未知的占位符：%(names)s。此模板可用：%(allowed)s。")
            % {
                "names": "、".join(f"%({n})s" for n in unknown),
                "allowed": "、".join(f"%({n})s" for n in sorted(allowed)) or _("（无）"),
            }
        )
    if any(m.group("conv") != "s" or m.group("spec") for m in found):
        errors.append(
            _("占位符只能写成 %(form)s 的形式，例如 %(example)s。")
            % {"form": "%(…)s", "example": "%(number)s"}
        )
    try:
        text % _Missing({name: "x" for name in allowed})
    except (TypeError, ValueError, KeyError):
        errors.append(
            _("格式有误：百分号请写成 %(percent)s，占位符写成 %(example)s 的形式。")
            % {"percent": "%%", "example": "%(number)s"}
        )
    return errors
