"""API tokens: a random secret shown once, stored only as its SHA-256 digest, looked up fast."""

from __future__ import annotations

import hashlib

import pytest
from django.utils import timezone

from repairhub.accounts.models import ApiToken
from repairhub.accounts.services import issue_token, user_for_token

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


def test_revoked_token_does_not_authenticate(world):
    secret = issue_token(world.partner)
    # No revoke service yet (the admin deletes tokens); mark it as an admin would.
    ApiToken.objects.update(revoked_at=timezone.now())
    assert user_for_token(secret) is None


def test_inactive_users_token_does_not_authenticate(world):
    secret = issue_token(world.partner)
    world.partner.is_active = False
    world.partner.save(update_fields=["is_active"])  # as the admin's "active" box does
    assert user_for_token(secret) is None
