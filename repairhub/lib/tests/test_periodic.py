from __future__ import annotations

import pytest

from repairhub.lib import periodic


@pytest.fixture
def clock(monkeypatch):
    now = [1_800_000_000.0]  # a whole minute
    monkeypatch.setattr(periodic.Clock, "now", staticmethod(lambda: now[0]))
    return now


@pytest.mark.django_db
def test_a_period_is_claimed_once_and_the_next_period_again(clock):
    ran = []

    @periodic.once_per_period("test-job", seconds=60)
    def job(n):
        ran.append(n)
        return n

    assert job(1) == 1
    clock[0] += 59
    assert job(2) is None  # same minute: another worker already ran it
    clock[0] += 1
    assert job(3) == 3
    assert ran == [1, 3]


@pytest.mark.django_db
def test_jobs_claim_their_own_periods(clock):
    assert periodic.claim("a", 60)
    assert periodic.claim("b", 60)
    assert not periodic.claim("a", 60)
    assert periodic.claim("a", 3600) is True  # another period length is another claim
