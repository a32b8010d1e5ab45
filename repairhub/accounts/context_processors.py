"""Template context for every page: the viewer's roles and his role-based navigation."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from .roles import Role

# (roles that get the link, URL name, label), in the order the links appear.
NAV_LINKS: tuple[tuple[frozenset[str], str, str], ...] = (
    (frozenset({Role.REPORTER}), "intake:report", _("我要报修")),
    (frozenset({Role.REPORTER}), "intake:my-orders", _("我的报修")),
    (frozenset({Role.AGENT}), "intake:desk", _("值班台")),
    (frozenset({Role.DISPATCHER, Role.TEAM_LEAD}), "workorders:dispatch-board", _("调度台")),
    (frozenset({Role.TECHNICIAN, Role.EXPERT}), "workorders:tech-list", _("我的工单")),
    (frozenset({Role.TECHNICIAN}), "dispatch:pool", _("抢单池")),
    (frozenset({Role.EXPERT}), "workorders:expert-queue", _("专家工单")),
    (frozenset({Role.DISPATCHER}), "workorders:change-queue", _("变更审批")),
    (
        frozenset({Role.DISPATCHER, Role.TEAM_LEAD, Role.MANAGER}),
        "dispatch:map",
        _("实时地图"),
    ),
    (frozenset({Role.DISPATCHER}), "dispatch:plans", _("派工计划")),
    (
        frozenset({Role.DISPATCHER, Role.TEAM_LEAD, Role.MANAGER, Role.ADMIN}),
        "sla:board",
        _("督办看板"),
    ),
    (
        frozenset({Role.MANAGER, Role.DISPATCHER, Role.TEAM_LEAD, Role.ADMIN}),
        "analytics:dashboard",
        _("统计分析"),
    ),
    (frozenset({Role.AGENT, Role.MANAGER}), "feedback:visit-queue", _("回访")),
    (frozenset({Role.AGENT, Role.MANAGER, Role.ADMIN}), "feedback:complaint-list", _("投诉")),
    (frozenset({Role.QC_INSPECTOR, Role.MANAGER}), "feedback:qc-queue", _("质检")),
    (
        frozenset({Role.QC_INSPECTOR, Role.MANAGER, Role.TEAM_LEAD}),
        "feedback:inspection-list",
        _("督查"),
    ),
    (frozenset({Role.MANAGER}), "feedback:referrals", _("上报事项")),
    (
        frozenset(
            {
                Role.AGENT,
                Role.DISPATCHER,
                Role.TEAM_LEAD,
                Role.MANAGER,
                Role.QC_INSPECTOR,
                Role.ADMIN,
            }
        ),
        "workorders:order-list",
        _("工单查询"),
    ),
)


def nav_items(user_roles: frozenset[str], path: str = "") -> list[dict]:
    """Links for these roles; a page that does not exist (yet) is left out.

    The link whose address is the longest prefix of the current path is marked active.
    """
    items = []
    for roles, url_name, label in NAV_LINKS:
        if not roles & user_roles:
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        items.append({"url": url, "label": label, "active": False})
    matches = [item for item in items if path.startswith(item["url"])]
    if matches:
        max(matches, key=lambda item: len(item["url"]))["active"] = True
    return items


def roles(request):
    user = getattr(request, "user", None)
    user_roles = user.roles if user is not None and user.is_authenticated else frozenset()
    return {
        "user_roles": user_roles,
        "nav_items": nav_items(user_roles, getattr(request, "path", "")) if user_roles else [],
    }
