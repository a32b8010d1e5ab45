"""Staff pages for work orders: the manager's query, the order page with its action forms, the
dispatch board, the technician's list, the change-request queue and the expert's queue.
Glue only: parse → access → one service → render."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Q, Value, When
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from repairhub.accounts.roles import Role

from .access import access_work_order, can_see
from .errors import NotVisible, OrderError, StaleVersion
from .forms import (
    ActionForm,
    OrderFilterForm,
    action_form,
    category_choices,
    expert_choices,
    technician_choices,
)
from .lifecycle import allowed_actions
from .models import ChangeRequest, Result, WorkOrder
from .queries import (
    change_requests,
    expert_orders,
    latest_event_data,
    order_change_requests,
    queue,
    search_orders,
    technician_orders,
    timeline,
)
from .services import perform
from .states import EVENT_CODES, WITH_TECHNICIAN, Action, Status

PAGE_SIZE = 50
BOARD_ROLES = (Role.DISPATCHER, Role.ADMIN, Role.TEAM_LEAD)
TECHNICIAN_ROLES = (Role.TECHNICIAN, Role.EXPERT)
NEEDS_TECHNICIANS = {Action.DISPATCH, Action.REASSIGN}
CHANGE_DESK_ROLES = (Role.DISPATCHER, Role.ADMIN)
EVENT_GUIDED = EVENT_CODES[Action.GUIDE]
EVENT_ESCALATED = EVENT_CODES[Action.ESCALATE]


def _choices(user, actions) -> dict:
    """The option lists the forms of `actions` need, each fetched once per page."""
    actions = set(actions)
    return {
        "technicians": technician_choices(user) if NEEDS_TECHNICIANS & actions else None,
        "experts": expert_choices() if Action.ESCALATE in actions else None,
        "categories": category_choices() if Action.REQUEST_CHANGE in actions else None,
    }


def refuse(request, message: str, status: int):
    return render(request, "workorders/refused.html", {"message": message}, status=status)


def page_for(*roles: str):
    """Signed-in people holding one of `roles` (any staff role when none is given), else 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not (user.has_role(*roles) if roles else user.is_staff_member):
                return refuse(request, _("您无权访问此页面。"), 403)
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator


@page_for()
def order_list(request):
    form = OrderFilterForm(request.GET)
    orders = (
        search_orders(request.user, form.to_filter())
        if form.is_valid()
        else WorkOrder.objects.none()
    )
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "workorders/workorder_manager.html", {"form": form, "page": page})


@login_required
def order_detail(request, number):
    try:
        order = access_work_order(request.user, number)
    except NotVisible as exc:
        return refuse(request, exc.message, exc.status)
    return _detail(request, order)


@login_required
@require_POST
def order_action(request, number, action):
    try:
        order = access_work_order(request.user, number)
    except NotVisible as exc:
        return refuse(request, exc.message, exc.status)
    form = action_form(
        action,
        order=order,
        data=request.POST,
        files=request.FILES,
        **_choices(request.user, [action]),
    )
    if form is None:
        return refuse(request, _("未知操作：%(action)s。") % {"action": action}, 404)
    if not form.is_valid():
        messages.error(request, _("请按提示修改后再提交。"))
        return _detail(request, order, failed=form, status=422)
    try:
        perform(
            order,
            action,
            by=request.user,
            channel="web",
            version=form.cleaned_data["version"],
            attachments=form.uploads(),
            **form.params(),
        )
    except OrderError as exc:
        return _refused_action(request, number, form, exc)
    messages.success(
        request, _("工单 %(number)s：%(action)s成功。") % {"number": number, "action": form.label}
    )
    return redirect(_next_url(request, order))


@page_for(*BOARD_ROLES)
def dispatch_board(request):
    section = request.GET.get("section", "")
    if request.htmx and section in BOARD_SECTIONS:
        context = {section: BOARD_SECTIONS[section](request.user), "next": request.path}
        return render(request, f"workorders/workorder_dispatcher.html#{section}", context)
    context = {name: build(request.user) for name, build in BOARD_SECTIONS.items()}
    if request.user.has_role(*CHANGE_DESK_ROLES):
        context["pending_changes"] = change_requests(request.user).count()
    return render(
        request, "workorders/workorder_dispatcher.html", {**context, "next": request.path}
    )


@page_for(*TECHNICIAN_ROLES)
def tech_list(request):
    rows = _rows(
        request.user, technician_orders(request.user), (Action.REQUEST_CHANGE, Action.ESCALATE)
    )
    context = {"rows": rows, "is_expert": request.user.has_role(Role.EXPERT)}
    return render(request, "workorders/workorder_technician.html", context)


@page_for(*CHANGE_DESK_ROLES)
def change_queue(request):
    """Pending change requests, oldest first, each with its approve and reject forms."""
    page = Paginator(change_requests(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for change in page:
        order = change.order
        order.pending_change_id = change.pk  # the guard's answer, known here without a query
        allowed = allowed_actions(order, request.user)
        forms = [
            action_form(verb, order=order, change=change, prefix_id=order.number)
            for verb in (Action.APPROVE_CHANGE, Action.REJECT_CHANGE)
            if verb in allowed
        ]
        rows.append(ChangeRow(change, forms))
    context = {"page": page, "rows": rows, "next": request.get_full_path()}
    if request.htmx:
        return render(request, "workorders/changerequest_dispatcher.html#queue", context)
    return render(request, "workorders/changerequest_dispatcher.html", context)


@page_for(Role.EXPERT)
def expert_queue(request):
    """Open orders escalated to me, with why, and the guide and take-over forms."""
    rows = _rows(request.user, expert_orders(request.user), (Action.GUIDE, Action.TAKE_OVER))
    escalations = latest_event_data([r.order for r in rows], EVENT_ESCALATED)
    for row in rows:
        row.note = escalations.get(row.order.pk, {}).get("reason", "")
    return render(request, "workorders/workorder_expert.html", {"rows": rows})


# --- helpers --------------------------------------------------------------------------------


def _detail(request, order: WorkOrder, *, failed: ActionForm | None = None, status: int = 200):
    """The order page; `failed` is a submitted form shown again with its errors."""
    # Change requests are internal: staff see them, a reporter with an account does not.
    changes = order_change_requests(order) if request.user.is_staff_member else []
    pending = next((c for c in changes if c.is_pending), None)
    order.pending_change_id = pending.pk if pending else None
    actions = allowed_actions(order, request.user)
    choices = _choices(request.user, actions)
    forms = [
        failed
        if failed is not None and failed.action == action
        else action_form(action, order=order, change=pending, **choices)
        for action in actions
    ]
    if failed is not None:
        failed.change = pending
    events = list(timeline(order))
    context = {
        "order": order,
        "forms": forms,
        "events": events,
        "attachments": order.attachments.all(),
        "pending_change": pending,
        "past_changes": [c for c in changes if not c.is_pending],
        "guidance": [e for e in events if e.code == EVENT_GUIDED],
    }
    return render(request, "workorders/workorder_detail.html", context, status=status)


def _refused_action(request, number: str, form: ActionForm, exc: OrderError):
    messages.error(request, exc.message)
    try:
        order = access_work_order(request.user, number)
    except NotVisible as gone:
        return refuse(request, gone.message, gone.status)
    if isinstance(exc, StaleVersion):
        return _detail(request, order, status=exc.status)
    if exc.field and exc.field in form.fields:
        form.add_error(exc.field, exc.message)
    return _detail(request, order, failed=form, status=exc.status)


def _next_url(request, order: WorkOrder) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    if can_see(request.user, order):
        return reverse("workorders:order-detail", args=[order.number])
    return reverse("home")


# --- the dispatch board's sections ---------------------------------------------------------


@dataclass
class BoardRow:
    order: WorkOrder
    forms: list[ActionForm] = field(default_factory=list)
    note: str = ""


@dataclass
class ChangeRow:
    change: ChangeRequest
    forms: list[ActionForm] = field(default_factory=list)


def _rows(user, orders, verbs: tuple[str, ...]) -> list[BoardRow]:
    # The guards some verbs carry read the annotation instead of asking per row.
    orders = list(orders.select_related("assignee__team", "expert").with_pending_change())
    choices = _choices(user, verbs) if orders else {}
    rows = []
    for order in orders:
        allowed = allowed_actions(order, user)
        forms = [
            action_form(verb, order=order, prefix_id=order.number, **choices)
            for verb in verbs
            if verb in allowed
        ]
        rows.append(BoardRow(order, forms))
    return rows


def _waiting(user) -> list[BoardRow]:
    from repairhub.dispatch.services import EVENT_UNASSIGNED, describe_reasons

    rows = _rows(user, queue(user, Status.ACCEPTED), (Action.DISPATCH,))
    # Why the automatic dispatch left it here, if it tried.
    tried = latest_event_data([r.order for r in rows], EVENT_UNASSIGNED)
    for row in rows:
        if row.order.pk in tried:
            row.note = describe_reasons(tried[row.order.pk].get("reasons", {}))
    return rows


def _assigned(user) -> list[BoardRow]:
    return _rows(user, queue(user, *WITH_TECHNICIAN), (Action.REASSIGN,))


def _review(user) -> list[BoardRow]:
    needs_look = Q(result=Result.FAILED) | Q(reopen_count__gt=0)
    orders = (
        queue(user, Status.COMPLETED)
        .annotate(
            first=Case(
                When(needs_look, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("first", "completed_at", "id")
    )
    return _rows(user, orders, (Action.CLOSE, Action.REOPEN))


BOARD_SECTIONS = {"waiting": _waiting, "assigned": _assigned, "review": _review}
