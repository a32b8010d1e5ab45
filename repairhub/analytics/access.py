"""Who may see which figures (PF1). Figures are about orders, so they follow order visibility:
managers, dispatchers and admins see everything; a team lead sees his own team's orders only."""

from __future__ import annotations

from dataclasses import replace

from django.utils.translation import gettext as _

from repairhub.accounts.roles import Role
from repairhub.workorders.errors import NotAllowed

from .periods import Filters

# Everyone who may open the dashboard, rankings and workload.
VIEWER_ROLES = (Role.MANAGER, Role.DISPATCHER, Role.TEAM_LEAD, Role.ADMIN)
WHOLE_ROLES = (Role.MANAGER, Role.DISPATCHER, Role.ADMIN)
# Appraisal: managers and admins compute and read; only a manager signs a month off.
APPRAISAL_ROLES = (Role.MANAGER, Role.ADMIN)
SIGN_ROLES = (Role.MANAGER,)


def can_view(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_role(*VIEWER_ROLES))


def can_appraise(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_role(*APPRAISAL_ROLES))


def require_viewer(user) -> None:
    if not can_view(user):
        raise NotAllowed(_("只有主管、调度员、班组长和管理员可以查看统计分析。"))


def require_appraiser(user) -> None:
    if not can_appraise(user):
        raise NotAllowed(_("只有主管和管理员可以查看和计算绩效考核。"))


def scoped(user, filters: Filters) -> Filters:
    """The filters this user may use: a team lead's figures are limited to the teams he leads."""
    require_viewer(user)
    if user.has_role(*WHOLE_ROLES):
        return filters
    led = tuple(user.led_teams.order_by("pk").values_list("pk", flat=True))
    if filters.team is not None and filters.team.pk not in led:
        raise NotAllowed(_("班组长只能查看本班组的统计。"))
    return replace(filters, teams=led)
