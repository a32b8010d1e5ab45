"""Categories and places are remembered per process, and never beyond a change made here."""

from __future__ import annotations

import pytest

from repairhub.intake.services import CATEGORIES, PLACES, resolve_category, resolve_place
from repairhub.lib.localcache import LocalCache
from repairhub.workorders.errors import InvalidInput
from repairhub.workorders.models import Category

pytestmark = pytest.mark.django_db


def test_a_category_retired_in_the_admin_is_refused_at_once(world):
    lamp = world.category
    assert resolve_category(lamp.code, by=world.reporter) == lamp
    assert len(CATEGORIES) == 1

    lamp.is_active = False
    lamp.save()

    with pytest.raises(InvalidInput) as refused:
        resolve_category(lamp.code, by=world.reporter)
    assert refused.value.field == "category"


def test_a_place_retired_here_is_refused_at_once(world):
    room = world.room
    assert resolve_place(room.code) == room
    room.is_active = False
    room.save()
    with pytest.raises(InvalidInput):
        resolve_place(room.code)


def test_a_change_made_by_another_process_is_seen_when_the_entry_expires(
    world, settings, monkeypatch
):
    settings.LOCAL_CACHE_SECONDS = 15
    now = [50.0]
    monkeypatch.setattr(LocalCache, "clock", staticmethod(lambda: now[0]))
    lamp = world.category
    resolve_category(lamp.code, by=world.reporter)
    Category.objects.filter(pk=lamp.pk).update(is_active=False)  # no signal here

    now[0] += 10
    assert resolve_category(lamp.code, by=world.reporter) == lamp
    now[0] += 6
    with pytest.raises(InvalidInput):
        resolve_category(lamp.code, by=world.reporter)


def test_unknown_codes_are_not_remembered(world):
    with pytest.raises(InvalidInput):
        resolve_place("NO-SUCH-ROOM")
    assert len(PLACES) == 0
    lamp = world.category
    Category.objects.create(code="new-kind", name="新类别", parent=lamp.parent)
    assert resolve_category("new-kind", by=world.reporter).code == "new-kind"


def test_staff_only_categories_stay_staff_only_when_remembered(world):
    hidden = world.category
    hidden.reporter_selectable = False
    hidden.save()
    assert resolve_category(hidden.code, by=world.agent) == hidden  # remembered now
    with pytest.raises(InvalidInput):
        resolve_category(hidden.code, by=world.reporter)
