"""Writes for people: users, roles, teams, API tokens."""

from __future__ import annotations

import copy
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from repairhub.lib.localcache import LocalCache
from repairhub.lib.phones import normalize_phone

from .models import ApiToken, RoleGrant, Team, User
from .roles import Role


@transaction.atomic
def create_user(
    username: str,
    *,
    password: str | None = None,
    roles: Iterable[str] = (),
    display_name: str = "",
    phone: str = "",
    team: Team | None = None,
    email: str = "",
) -> User:
    """Create a person with the given roles. Unknown roles are refused."""
    role_codes = set(roles)
    unknown = role_codes - set(Role.values)
    if unknown:
        raise ValueError(f"unknown roles: {', '.join(sorted(unknown))}")
    user = User(
        username=username,
        display_name=display_name,
        phone=normalize_phone(phone) if phone else "",
        team=team,
        email=email,
        is_staff=Role.ADMIN in role_codes,
        is_superuser=Role.ADMIN in role_codes,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    RoleGrant.objects.bulk_create([RoleGrant(user=user, role=r) for r in sorted(role_codes)])
    return user


def grant_roles(user: User, *, roles: Iterable[str]) -> None:
    for role in roles:
        RoleGrant.objects.get_or_create(user=user, role=Role(role))
    user.__dict__.pop("roles", None)


def issue_token(user: User, *, name: str = "") -> str:
    """Create an API token and return its secret; only the digest is kept."""
    secret = ApiToken.new_secret()
    ApiToken.objects.create(
        user=user, name=name, digest=ApiToken.digest_of(secret), prefix=secret[3:11]
    )
    return secret


# Bearer tokens this process has checked (repairhub/lib/localcache.py): digest → (token pk,
# user with roles loaded). Saving a token, a user or a role grant clears it (apps.py).
TOKENS: LocalCache[tuple[int, User]] = LocalCache("api-tokens")


def _load_token(digest: str) -> tuple[int, User] | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=digest, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Touch at most once a minute: a write on every API call would cost throughput.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    user = token.user
    user.roles  # noqa: B018 - loaded once here, carried by every copy handed out
    return token.pk, user


def user_for_token(secret: str) -> User | None:
    """The active user a bearer token belongs to, or None.

    Each request gets its own copy of the user, so nothing one request sets leaks into another.
    """
    if not secret or not secret.startswith("rh_"):
        return None
    digest = ApiToken.digest_of(secret)
    found = TOKENS.get(digest, lambda: _load_token(digest))
    return copy.copy(found[1]) if found is not None else None


def revoke_token(token: ApiToken) -> None:
    """Stop a token working: at once in this process, within LOCAL_CACHE_SECONDS in others."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
