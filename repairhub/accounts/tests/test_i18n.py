"""English is complete (PF7): the committed catalogue, runtime labels and messages, real pages.

Source strings are Simplified Chinese; repairhub/locale/en/LC_MESSAGES/django.po (and the
compiled django.mo next to it) carry the English. Refresh both with `make messages`.
"""

from __future__ import annotations

import gettext as gnu_gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

pytestmark = pytest.mark.django_db

CATALOGUE = Path(settings.BASE_DIR) / "repairhub" / "locale" / "en" / "LC_MESSAGES"
# CJK ideographs and punctuation, fullwidth forms (，：（）), Hangul/Kana ranges are not used.
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
PLACEHOLDER = re.compile(r"%\((\w+)\)[-+ #0]*\d*(?:\.\d+)?[sdif]")
TAG = re.compile(r"</?[a-zA-Z][^>]*>")


# --- a tiny PO reader (polib is not a dependency) ------------------------------------------


def _unquote(text: str) -> str:
    text = text.strip()
    assert text.startswith('"') and text.endswith('"'), text
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}
    return re.sub(r"\\(.)", lambda m: escapes[m.group(1)], text[1:-1])


def read_po(path: Path) -> list[dict]:
    """Entries as dicts: msgid, msgid_plural, msgstr (list: one item, or one per plural form)."""
    entries = []
    for block in re.split(r"\n[ \t]*\n", path.read_text(encoding="utf-8").strip()):
        entry: dict = {"flags": set(), "msgid": None, "msgid_plural": None, "msgstr": {}}
        entry["obsolete"] = any(line.startswith("#~") for line in block.splitlines())
        key: tuple | None = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] |= {f.strip() for f in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                if key[0] == "msgstr":
                    entry["msgstr"][key[1]] += _unquote(line)
                else:
                    entry[key[0]] += _unquote(line)
            else:
                word, _space, rest = line.partition(" ")
                if word.startswith("msgstr"):
                    index = int(word[7:-1]) if word.startswith("msgstr[") else 0
                    entry["msgstr"][index] = _unquote(rest)
                    key = ("msgstr", index)
                else:
                    assert word in {"msgid", "msgid_plural", "msgctxt"}, line
                    entry[word] = _unquote(rest)
                    key = (word,)
        entry["msgstr"] = [entry["msgstr"][i] for i in sorted(entry["msgstr"])]
        entries.append(entry)
    return entries


@pytest.fixture(scope="module")
def catalogue() -> list[dict]:
    return read_po(CATALOGUE / "django.po")


def _messages(catalogue):
    return [e for e in catalogue if e["msgid"]]


# --- (a) the committed catalogue is complete -----------------------------------------------


def test_header_declares_english_and_two_plural_forms(catalogue):
    header = catalogue[0]
    assert header["msgid"] == ""
    assert "fuzzy" not in header["flags"]
    assert "Language: en\n" in header["msgstr"][0]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header["msgstr"][0]
    assert "charset=UTF-8" in header["msgstr"][0]


def test_every_entry_is_translated_and_none_is_fuzzy(catalogue):
    entries = _messages(catalogue)
    assert len(entries) > 300  # the whole product, not a stub
    untranslated = [e["msgid"] for e in entries if not e["msgstr"] or not all(e["msgstr"])]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    obsolete = [e["msgid"] for e in entries if e["obsolete"]]
    assert untranslated == []
    assert fuzzy == []
    assert obsolete == []


def test_plural_entries_have_both_english_forms(catalogue):
    plurals = [e for e in _messages(catalogue) if e["msgid_plural"] is not None]
    assert plurals
    for entry in plurals:
        assert len(entry["msgstr"]) == 2, entry["msgid"]


def test_translations_are_english_and_keep_placeholders_and_markup(catalogue):
    for entry in _messages(catalogue):
        sources = [entry["msgid"]] + ([entry["msgid_plural"]] if entry["msgid_plural"] else [])
        wanted = {name for s in sources for name in PLACEHOLDER.findall(s)}
        tags = sorted(TAG.findall(entry["msgid"]))
        for text in entry["msgstr"]:
            assert not CJK.search(text), (entry["msgid"], text)
            # A msgid that is only punctuation (the list separator "、") translates to punctuation.
            if re.search(r"\w", entry["msgid"]):
                assert re.search(r"[A-Za-z]", text), (entry["msgid"], text)
            else:
                assert text, entry["msgid"]
            assert set(PLACEHOLDER.findall(text)) == wanted, (entry["msgid"], text)
            assert sorted(TAG.findall(text)) == tags, (entry["msgid"], text)
            if "python-format" in entry["flags"]:
                # A lone % would break "%" formatting at runtime.
                lone = re.search(r"%(?!\(\w+\)[-+ #0]*\d*(?:\.\d+)?[sdif])", text.replace("%%", ""))
                assert not lone, (entry["msgid"], text)


def test_committed_mo_matches_the_po(catalogue):
    """The .mo is committed (no compile step on a fresh machine): it must not be stale."""
    with (CATALOGUE / "django.mo").open("rb") as fh:
        compiled = gnu_gettext.GNUTranslations(fh)
    for entry in _messages(catalogue):
        if entry["msgid_plural"] is None:
            assert compiled.gettext(entry["msgid"]) == entry["msgstr"][0], entry["msgid"]
        else:
            one = compiled.ngettext(entry["msgid"], entry["msgid_plural"], 1)
            many = compiled.ngettext(entry["msgid"], entry["msgid_plural"], 5)
            assert [one, many] == entry["msgstr"], entry["msgid"]


# --- (b) strings used at runtime come out in English ---------------------------------------


def _is_english(text) -> bool:
    text = str(text)
    return bool(re.search(r"[A-Za-z]", text)) and not CJK.search(text)


def _choice_labels():
    from repairhub.accounts.roles import Role
    from repairhub.notify.models import MessageChannel, MessageStatus
    from repairhub.places.models import PlaceKind
    from repairhub.workorders.models import Channel, Result, Urgency
    from repairhub.workorders.states import Action, ReporterLabel, Status

    choices = (
        Status,
        Action,
        ReporterLabel,
        Role,
        Urgency,
        Channel,
        Result,
        PlaceKind,
        MessageChannel,
        MessageStatus,
    )
    return [label for enum in choices for _value, label in enum.choices]


def test_lifecycle_and_choice_labels_are_english():
    labels = _choice_labels()
    assert len(labels) > 40
    with translation.override("en"):
        not_english = [str(label) for label in labels if not _is_english(label)]
        from repairhub.workorders.states import Action, Status

        assert str(Status.ON_HOLD.label) == "On hold"
        assert str(Action.DISPATCH.label) == "Dispatch"
    assert not_english == []
    with translation.override("zh-hans"):
        assert str(Status.ON_HOLD.label) == "挂起"


def test_navigation_and_language_names_are_english():
    from repairhub.accounts.context_processors import NAV_LINKS

    with translation.override("en"):
        for _roles, _url, label in NAV_LINKS:
            assert _is_english(label), str(label)
        for _code, name in settings.LANGUAGES:
            assert _is_english(name), str(name)


def _error(call) -> str:
    from repairhub.workorders.errors import OrderError

    with pytest.raises(OrderError) as caught:
        call()
    return caught.value.message


def test_lifecycle_errors_are_english(world):
    from repairhub.workorders import lifecycle
    from repairhub.workorders.states import Status

    order = world.order(Status.SUBMITTED)
    with translation.override("en"):
        unknown = _error(lambda: lifecycle.apply(order, "fly", by=world.agent))
        state = _error(lambda: lifecycle.apply(order, "complete", by=world.dispatcher))
        allowed = _error(lambda: lifecycle.apply(order, "dispatch", by=world.reporter2))
        stale = _error(lambda: lifecycle.apply(order, "accept", by=world.agent, version=999))
        reason = _error(lambda: lifecycle.apply(order, "reject", by=world.agent, params={}))
    assert unknown == "Unknown action: fly."
    for message in (state, allowed, stale, reason):
        assert _is_english(message), message
    assert order.number in stale
    assert reason == "Reason is required."
    with translation.override("zh-hans"):
        assert "请填写原因" in _error(
            lambda: lifecycle.apply(order, "reject", by=world.agent, params={})
        )


# --- (c) pages --------------------------------------------------------------------------------


def _english_page(html: str) -> None:
    # The language switch offers Chinese by its own name.
    leftover = CJK.findall(html.replace(">中文<", "><"))
    assert leftover == [], "".join(leftover)
    assert '<html lang="en">' in html


@pytest.mark.parametrize("url", ["/", "/accounts/login/"])
def test_pages_render_english_for_english_browsers(url):
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(url)
    assert response.status_code == 200
    html = response.content.decode()
    _english_page(html)
    assert "RepairHub" in html
    assert "Log in" in html


@pytest.mark.parametrize("url", ["/", "/accounts/login/"])
def test_pages_render_chinese_by_default(url):
    response = Client().get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "报修云" in html
    assert "登录" in html
    assert ">EN<" in html  # the switch offers English


def test_language_switch_turns_pages_english():
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/accounts/login/").content.decode()
    _english_page(html)
    assert "Username" in html and "Password" in html


def test_failed_login_message_is_english(world):
    response = Client(HTTP_ACCEPT_LANGUAGE="en").post(
        "/accounts/login/", {"username": "agent", "password": "wrong"}
    )
    _english_page(response.content.decode())


def test_signed_in_start_page_is_english(world):
    """A manager lands on the order search: navigation, filters and labels all in English."""
    from repairhub.places.models import Place
    from repairhub.workorders.models import Category

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.manager)
    response = client.get("/", follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    # Data (category and place names) stays as entered; everything else must be English.
    data = [c.name for c in Category.objects.all()]
    data += [n for p in Place.objects.all() for n in (p.name, p.full_name)]
    for value in sorted(set(data), key=len, reverse=True):
        html = html.replace(value, "")
    _english_page(html)
    assert "Order search" in html
    assert "Log out" in html
