"""Who may see which orders. Every read of an order goes through here (PF1)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from repairhub.accounts.roles import Role

from .actors import LinkHolder
from .errors import NotVisible
from .models import WorkOrder
from .states import Status

QC_VISIBLE = (Status.COMPLETED, Status.CLOSED)


def visible_orders(user) -> QuerySet[WorkOrder]:
    """The orders this user may see (and, with a role that allows it, act on)."""
    qs = WorkOrder.objects.all()
    if isinstance(user, LinkHolder):
        if user.follower:
            return qs.filter(followers__tracking_token=user.token)
        return qs.filter(tracking_token=user.token)
    if user is None or not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.sees_all_orders:
        return qs
    cond = Q(reporter=user)
    if user.has_role(Role.TECHNICIAN, Role.EXPERT):
        cond |= Q(assignee=user)
    if user.has_role(Role.EXPERT):
        cond |= Q(expert=user)  # escalated to him (DP4)
    if user.has_role(Role.TEAM_LEAD):
        cond |= Q(assignee__team__lead=user)
    if user.has_role(Role.QC_INSPECTOR):
        cond |= Q(status__in=QC_VISIBLE)
    return qs.filter(cond)


def can_see(user, order: WorkOrder) -> bool:
    if isinstance(user, LinkHolder):
        if user.follower:
            return order.followers.filter(tracking_token=user.token).exists()
        return order.tracking_token == user.token
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.sees_all_orders or order.reporter_id == user.pk:
        return True
    if user.has_role(Role.TECHNICIAN, Role.EXPERT) and order.assignee_id == user.pk:
        return True
    if user.has_role(Role.EXPERT) and order.expert_id == user.pk:
        return True
    if user.has_role(Role.TEAM_LEAD) and order.assignee_id and order.assignee.team_id:
        if order.assignee.team.lead_id == user.pk:
            return True
    return bool(user.has_role(Role.QC_INSPECTOR) and order.status in QC_VISIBLE)


def access_work_order(user, number: str) -> WorkOrder:
    """The order with this number if the user may see it; NotVisible (404) otherwise."""
    from django.utils.translation import gettext as _

    order = (
        visible_orders(user)
        .select_related(
            "category",
            "category__parent",
            "place",
            "asset",
            "assignee",
            "assignee__team",
            "expert",
        )
        .filter(number=number)
        .first()
    )
    if order is None:
        raise NotVisible(_("找不到工单 %(number)s，或您无权查看。") % {"number": number})
    return order


def order_for_token(token: str) -> tuple[WorkOrder, LinkHolder]:
    """The order behind a private tracking link, and who holds it (reporter or follower)."""
    from django.utils.translation import gettext as _

    from .models import Follower

    qs = WorkOrder.objects.select_related(
        "category", "category__parent", "place", "asset", "assignee"
    )
    order = qs.filter(tracking_token=token).first() if token else None
    if order is not None:
        return order, LinkHolder(token)
    follower = Follower.objects.filter(tracking_token=token).first() if token else None
    if follower is not None:
        return qs.get(pk=follower.order_id), LinkHolder(token, follower=True)
    raise NotVisible(_("跟踪链接无效，请核对短信或回执中的链接。"))
