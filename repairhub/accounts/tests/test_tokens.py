"""API tokens: a random secret shown once, stored only as its SHA-256 digest, looked up fast."""

from __future__ import annotations

import hashlib

import pytest
from django.utils import timezone

from repairhub.accounts.models import ApiToken
from repairhub.accounts.services import issue_token, revoke_token, user_for_token
from repairhub.lib.localcache import LocalCache

pytestmark = pytest.mark.django_db


def test_issue_token_returns_a_secret_and_stores_only_its_digest(world):
    secret = issue_token(world.partner, name="校园 App")

    assert secret.startswith("rh_") and len(secret) >= 40
    token = ApiToken.objects.get()
    assert token.user == world.partner
    assert token.name == "校园 App"
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert token.prefix == secret[3:11]
    stored = [str(getattr(token, f.attname)) for f in ApiToken._meta.concrete_fields]
    assert not any(secret in value or secret[3:] in value for value in stored)


def test_each_token_is_a_new_secret(world):
    assert issue_token(world.partner) != issue_token(world.partner)
    assert ApiToken.objects.filter(user=world.partner).count() == 2


def test_user_for_token_finds_the_owner_and_notes_the_use(world):
    secret = issue_token(world.partner)
    assert ApiToken.objects.get().last_used_at is None

    assert user_for_token(secret) == world.partner
    assert ApiToken.objects.get().last_used_at is not None


@pytest.mark.parametrize("secret", ["", "rh_", "rh_not-a-token", "Bearer rh_x", "xx_abc"])
def test_unknown_secrets_do_not_authenticate(world, secret):
    issue_token(world.partner)
    assert user_for_token(secret) is None


def test_a_near_miss_of_a_real_secret_does_not_authenticate(world):
    secret = issue_token(world.partner)
    assert user_for_token(secret[:-1]) is None
    assert user_for_token(secret + "x") is None


def test_revoked_token_stops_working_at_once_in_this_process(world):
    secret = issue_token(world.partner)
    assert user_for_token(secret) == world.partner  # now remembered by this process

    revoke_token(ApiToken.objects.get())

    assert user_for_token(secret) is None
    assert ApiToken.objects.get().revoked_at is not None


def test_inactive_users_token_stops_working_at_once(world):
    secret = issue_token(world.partner)
    assert user_for_token(secret) == world.partner
    world.partner.is_active = False
    world.partner.save(update_fields=["is_active"])  # as the admin's "active" box does
    assert user_for_token(secret) is None


def test_a_revocation_made_by_another_process_takes_effect_within_the_cache_time(
    world, settings, monkeypatch
):
    settings.LOCAL_CACHE_SECONDS = 15
    now = [1000.0]
    monkeypatch.setattr(LocalCache, "clock", staticmethod(lambda: now[0]))
    secret = issue_token(world.partner)
    assert user_for_token(secret) == world.partner
    # Another server process revokes it: a plain UPDATE, no signal reaches this process.
    ApiToken.objects.update(revoked_at=timezone.now())

    now[0] += 14
    assert user_for_token(secret) == world.partner  # still remembered, as documented
    now[0] += 2
    assert user_for_token(secret) is None


def test_with_no_cache_time_every_call_asks_the_database(world, settings):
    settings.LOCAL_CACHE_SECONDS = 0
    secret = issue_token(world.partner)
    assert user_for_token(secret) == world.partner
    ApiToken.objects.update(revoked_at=timezone.now())
    assert user_for_token(secret) is None


def test_each_caller_gets_its_own_copy_of_the_user(world):
    secret = issue_token(world.partner)
    first = user_for_token(secret)
    first.display_name = "changed by one request"
    second = user_for_token(secret)
    assert second.display_name != "changed by one request"
    assert second.roles == world.partner.roles


def test_a_new_role_is_seen_at_once(world):
    from repairhub.accounts.roles import Role
    from repairhub.accounts.services import grant_roles

    secret = issue_token(world.partner)
    assert Role.AGENT not in user_for_token(secret).roles
    grant_roles(world.partner, roles=[Role.AGENT])
    assert Role.AGENT in user_for_token(secret).roles
