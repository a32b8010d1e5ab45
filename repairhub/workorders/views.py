"""Staff pages for work orders: the manager's query, the order page with its action forms, the
dispatch board and the technician's list. Glue only: parse → access → one service → render."""

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
from .forms import ActionForm, OrderFilterForm, action_form, technician_choices
from .lifecycle import allowed_actions
from .models import Result, WorkOrder
from .queries import queue, search_orders, technician_orders, timeline
from .services import perform
from .states import WITH_TECHNICIAN, Action, Status

PAGE_SIZE = 50
BOARD_ROLES = (Role.DISPATCHER, Role.ADMIN, Role.TEAM_LEAD)
TECHNICIAN_ROLES = (Role.TECHNICIAN, Role.EXPERT)
NEEDS_TECHNICIANS = {Action.DISPATCH, Action.REASSIGN}


def _refuse(request, message: str, status: int):
    return render(request, "workorders/refused.html", {"message": message}, status=status)


def _page_for(*roles: str):
    """Signed-in people holding one of `roles` (any staff role when none is given), else 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not (user.has_role(*roles) if roles else user.is_staff_member):
                return _refuse(request, _("您无权访问此页面。"), 403)
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator


@_page_for()
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
        return _refuse(request, exc.message, exc.status)
    return _detail(request, order)


@login_required
@require_POST
def order_action(request, number, action):
    try:
        order = access_work_order(request.user, number)
    except NotVisible as exc:
        return _refuse(request, exc.message, exc.status)
    techs = technician_choices(request.user) if action in NEEDS_TECHNICIANS else None
    form = action_form(
        action, order=order, technicians=techs, data=request.POST, files=request.FILES
    )
    if form is None:
        return _refuse(request, _("未知操作：%(action)s。") % {"action": action}, 404)
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


@_page_for(*BOARD_ROLES)
def dispatch_board(request):
    section = request.GET.get("section", "")
    if request.htmx and section in BOARD_SECTIONS:
        context = {section: BOARD_SECTIONS[section](request.user), "next": request.path}
        return render(request, f"workorders/workorder_dispatcher.html#{section}", context)
    context = {name: build(request.user) for name, build in BOARD_SECTIONS.items()}
    return render(
        request, "workorders/workorder_dispatcher.html", {**context, "next": request.path}
    )


@_page_for(*TECHNICIAN_ROLES)
def tech_list(request):
    orders = technician_orders(request.user)
    return render(request, "workorders/workorder_technician.html", {"orders": orders})


# --- helpers --------------------------------------------------------------------------------


def _detail(request, order: WorkOrder, *, failed: ActionForm | None = None, status: int = 200):
    """The order page; `failed` is a submitted form shown again with its errors."""
    actions = allowed_actions(order, request.user)
    techs = technician_choices(request.user) if NEEDS_TECHNICIANS & set(actions) else None
    forms = [
        failed
        if failed is not None and failed.action == action
        else action_form(action, order=order, technicians=techs)
        for action in actions
    ]
    context = {
        "order": order,
        "forms": forms,
        "events": timeline(order),
        "attachments": order.attachments.all(),
    }
    return render(request, "workorders/workorder_detail.html", context, status=status)


def _refused_action(request, number: str, form: ActionForm, exc: OrderError):
    messages.error(request, exc.message)
    try:
        order = access_work_order(request.user, number)
    except NotVisible as gone:
        return _refuse(request, gone.message, gone.status)
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


def _rows(user, orders, verbs: tuple[str, ...]) -> list[BoardRow]:
    orders = list(orders.select_related("assignee__team"))
    techs = technician_choices(user) if orders and NEEDS_TECHNICIANS & set(verbs) else None
    rows = []
    for order in orders:
        allowed = allowed_actions(order, user)
        forms = [
            action_form(verb, order=order, technicians=techs, prefix_id=order.number)
            for verb in verbs
            if verb in allowed
        ]
        rows.append(BoardRow(order, forms))
    return rows


def _waiting(user) -> list[BoardRow]:
    return _rows(user, queue(user, Status.ACCEPTED), (Action.DISPATCH,))


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
