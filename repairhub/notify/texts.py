"""Message texts by template code ("workorder.dispatched", "sla.reminder" …).

Each app registers its default texts (marked with gettext_noop, written in Chinese, translated
when a message is rendered in the recipient's language). `render()` fills in the parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Text:
    body: str
    subject: str = ""


TEXTS: dict[str, Text] = {}


def register(code: str, body: str, *, subject: str = "") -> None:
    TEXTS[code] = Text(body=body, subject=subject)


class _Missing(dict):
    def __missing__(self, key):  # a template naming an unknown parameter shows it empty
        return ""


def render(code: str, params: Mapping[str, object], language: str = "") -> tuple[str, str]:
    """(subject, body) of template `code` in `language` (default: the active language)."""
    text = TEXTS[code]
    values = _Missing({k: "" if v is None else v for k, v in params.items()})
    with translation.override(language or translation.get_language()):
        body = _(text.body) % values
        subject = _(text.subject) % values if text.subject else ""
    return subject, body
