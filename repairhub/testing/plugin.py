"""pytest plugin loaded for every test run (pyproject addopts): test settings and fixtures."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("REPAIRHUB_TESTING", "1")
os.environ.setdefault("REPAIRHUB_VAR", tempfile.mkdtemp(prefix="repairhub-test-"))

import contextlib

import pytest


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _default_language(settings):
    """Each test starts in the site language: a page asked for in English must not leave
    English active for the next test in the same thread."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    from repairhub.lib.localcache import LocalCache

    # Rows from an earlier test's rolled-back transaction must not be served from memory.
    LocalCache.clear_all()
    _forget_roster()
    yield
    LocalCache.clear_all()
    _forget_roster()
    with contextlib.suppress(Exception):
        cache.clear()


def _forget_roster() -> None:
    from repairhub.dispatch.services import _ROSTER

    _ROSTER.clear()


@pytest.fixture
def world(db):
    """A small campus with people for every role: see repairhub.testing.personas."""
    from .personas import make_world

    return make_world()


# Browser fixtures are registered here, once: a session-scoped Playwright imported into two
# test modules would start twice and the second start fails inside the first one's loop.
from .browser import browser, page, phone_page  # noqa: E402, F401
