"""Read models for lists, queues and search (IN9). Every function starts from what the viewer
may see (access.visible_orders)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from repairhub.lib.crypto import blind_index
from repairhub.lib.phones import normalize_phone

from .access import visible_orders
from .models import ChangeRequest, ChangeStatus, Event, WorkOrder
from .states import Status


@dataclass
class OrderFilter:
    status: str = ""
    category: str = ""  # category code; a parent code includes its children
    place: str = ""  # place code; includes everything under it
    assignee: str = ""  # username
    channel: str = ""
    date_from: date | None = None
    date_to: date | None = None
    number: str = ""
    phone: str = ""


def _day_start(d: date) -> datetime:
    return timezone.make_aware(datetime.combine(d, time.min))


def search_orders(user, f: OrderFilter) -> QuerySet[WorkOrder]:
    """Staff query by date range, category, status, place, technician and channel."""
    qs = visible_orders(user).for_listing()
    if f.status:
        qs = qs.filter(status__in=f.status.split(","))
    if f.category:
        from django.db.models import Q

        qs = qs.filter(Q(category__code=f.category) | Q(category__parent__code=f.category))
    if f.place:
        from repairhub.places.models import Place

        place = Place.objects.filter(code=f.place).first()
        qs = qs.in_place(place) if place else qs.none()
    if f.assignee:
        qs = qs.filter(assignee__username=f.assignee)
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.date_from:
        qs = qs.filter(created_at__gte=_day_start(f.date_from))
    if f.date_to:
        qs = qs.filter(created_at__lt=_day_start(f.date_to + timedelta(days=1)))
    if f.number:
        qs = qs.filter(number__icontains=f.number.strip())
    if f.phone:
        try:
            qs = qs.filter(reporter_phone_index=blind_index(normalize_phone(f.phone)))
        except Exception:
            qs = qs.none()
    return qs.order_by("-created_at")


def open_duplicates(place, category, *, asset=None, limit: int = 5) -> list[WorkOrder]:
    """Open orders at this place in this category: shown on the report form to avoid repeats.

    With an asset (its QR code) the orders about that unit come first, then those that name no
    unit (they may be about it); orders about another unit in the same room are not repeats.
    Public (no viewer): callers show only number, plain label, age and a follow link.
    """
    if place is None or category is None:
        return []
    orders = (
        WorkOrder.objects.open()
        .filter(place=place, category=category)
        .exclude(status=Status.COMPLETED)
    )
    if asset is None:
        return list(orders.order_by("-created_at")[:limit])
    same_unit = Case(
        When(asset=asset, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return list(
        orders.filter(Q(asset=asset) | Q(asset__isnull=True)).order_by(same_unit, "-created_at")[
            :limit
        ]
    )


def orders_for_phone(user, phone: str, *, limit: int = 10) -> list[WorkOrder]:
    """A caller's earlier orders, for the agent desk."""
    try:
        digits = normalize_phone(phone)
    except Exception:
        return []
    return list(
        visible_orders(user)
        .for_listing()
        .filter(reporter_phone_index=blind_index(digits))
        .order_by("-created_at")[:limit]
    )


def open_orders_at(user, place, *, limit: int = 10) -> list[WorkOrder]:
    if place is None:
        return []
    return list(
        visible_orders(user).for_listing().open().in_place(place).order_by("-created_at")[:limit]
    )


def queue(user, *statuses: str) -> QuerySet[WorkOrder]:
    return visible_orders(user).for_listing().filter(status__in=statuses).order_by("created_at")


def technician_orders(user) -> QuerySet[WorkOrder]:
    return (
        WorkOrder.objects.for_listing()
        .filter(
            assignee=user,
            status__in=[
                Status.DISPATCHED,
                Status.ACKNOWLEDGED,
                Status.IN_PROGRESS,
                Status.ON_HOLD,
            ],
        )
        .order_by("created_at")
    )


def timeline(order: WorkOrder) -> QuerySet[Event]:
    return order.events.select_related("actor").prefetch_related("attachments").order_by("id")


def technicians_with_load(user):
    """Active technicians and experts a user may dispatch to, least loaded first, in one query.

    A team lead who is not also a dispatcher only sees his own team (the service refuses others).
    """
    from django.db.models import Count, Q

    from repairhub.accounts.models import User
    from repairhub.accounts.roles import Role

    from .states import WITH_TECHNICIAN

    qs = (
        User.objects.filter(is_active=True, role_grants__role__in=[Role.TECHNICIAN, Role.EXPERT])
        .distinct()
        .annotate(
            open_count=Count(
                "assigned_orders",
                filter=Q(assigned_orders__status__in=WITH_TECHNICIAN),
                distinct=True,
            )
        )
        .order_by("open_count", "display_name", "username")
    )
    if not user.has_role(Role.DISPATCHER, Role.ADMIN) and user.has_role(Role.TEAM_LEAD):
        qs = qs.filter(team__lead=user)
    return qs


# --- change requests and experts -------------------------------------------------------------


def change_requests(user, status: str = ChangeStatus.PENDING) -> QuerySet[ChangeRequest]:
    """Change requests on the orders this user may see, oldest first: the dispatcher's queue
    when `status` is pending."""
    return (
        ChangeRequest.objects.filter(status=status, order__in=visible_orders(user))
        .select_related(
            "order",
            "order__category",
            "order__category__parent",
            "order__place",
            "order__assignee",
            "order__expert",
            "requested_by",
            "decided_by",
            "new_category",
            "new_category__parent",
        )
        .order_by("created_at", "id")
    )


def order_change_requests(order: WorkOrder) -> list[ChangeRequest]:
    """An order's change requests, newest first (its page)."""
    return list(
        order.change_requests.select_related(
            "requested_by", "decided_by", "new_category", "new_category__parent"
        ).order_by("-created_at", "-id")
    )


def expert_orders(user) -> QuerySet[WorkOrder]:
    """Open orders escalated to this expert (also those he took over), oldest escalation
    first: his queue."""
    return (
        visible_orders(user)
        .for_listing()
        .select_related("expert")
        .open()
        .filter(expert=user)
        .order_by("escalated_at", "id")
    )


def active_experts():
    """Active experts, with the number of open orders escalated to each, fewest first."""
    from django.db.models import Count, Q

    from repairhub.accounts.models import User
    from repairhub.accounts.roles import Role

    from .states import OPEN

    return (
        User.objects.filter(is_active=True, role_grants__role=Role.EXPERT)
        .distinct()
        .annotate(
            open_count=Count(
                "expert_orders", filter=Q(expert_orders__status__in=OPEN), distinct=True
            )
        )
        .order_by("open_count", "display_name", "username")
    )


def latest_event_data(orders, code: str) -> dict[int, dict]:
    """For each of these orders, the data of its latest event with `code` (one query)."""
    found: dict[int, dict] = {}
    for order_id, data in (
        Event.objects.filter(order__in=list(orders), code=code)
        .order_by("order_id", "id")
        .values_list("order_id", "data")
    ):
        found[order_id] = data or {}  # later rows overwrite: the latest wins
    return found
