"""Who acts on an order: a user, someone holding the private tracking link, or the system."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from repairhub.accounts.roles import Role


class LinkHolder:
    """A reporter without an account, identified by the order's private tracking token."""

    is_authenticated = False
    pk = None
    roles = frozenset({Role.REPORTER})

    def __init__(self, token: str, *, follower: bool = False):
        self.token = token
        # A follower's link shows the order's progress but allows no action on it.
        self.follower = follower
        if follower:
            self.roles = frozenset()

    @property
    def name(self) -> str:
        return str(_("报修人（跟踪链接）"))

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


class SystemActor:
    """RepairHub itself: auto-acceptance, timers."""

    is_authenticated = False
    pk = None
    roles = frozenset()

    @property
    def name(self) -> str:
        return str(_("系统"))

    def has_role(self, *roles: str) -> bool:
        return False


SYSTEM = SystemActor()
