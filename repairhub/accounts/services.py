"""Writes for people: users, roles, teams, API tokens."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

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


def user_for_token(secret: str) -> User | None:
    """The active user a bearer token belongs to, or None."""
    if not secret or not secret.startswith("rh_"):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=ApiToken.digest_of(secret), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    # Touch at most once a minute: a write on every API call would cost throughput.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
