"""Intake pages: the reporter's H5 form (web and QR), following an open order, the private
tracking page, "my orders", and the agent desk. Glue only: parse → access → one service."""

from __future__ import annotations

from collections.abc import Mapping
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from repairhub.accounts.roles import Role
from repairhub.places.models import Asset, Place
from repairhub.workorders import queries
from repairhub.workorders.access import access_work_order, order_for_token, visible_orders
from repairhub.workorders.actors import SYSTEM
from repairhub.workorders.errors import NotVisible, OrderError
from repairhub.workorders.lifecycle import allowed_actions, urge_refusal
from repairhub.workorders.models import Channel, Result
from repairhub.workorders.services import follow_order, perform
from repairhub.workorders.states import URGEABLE, Action, Status

from .forms import (
    DeskActionForm,
    DeskForm,
    FollowForm,
    ReportForm,
    TrackActionForm,
    active_category,
    lookup_asset,
    lookup_category,
    lookup_place,
    place_levels,
)
from .rework import link_new_order, offer
from .services import submit_report

DESK_ROLES = frozenset({Role.AGENT, Role.DISPATCHER, Role.ADMIN})
REPORT_PAGE = "intake/report_form.html"
REWORK_PARTIAL = "intake/_rework.html"
TRACK_PAGE = "intake/order_tracking.html"
DESK_PAGE = "intake/desk_agent.html"
QUEUE_SIZE = 50


def _client(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _actor(request):
    """The signed-in user, or None for a visitor (services record visitors as "访客")."""
    return request.user if request.user.is_authenticated else None


def _staff(request) -> bool:
    return bool(request.user.is_authenticated and request.user.is_staff_member)


# --- reporter: the H5 form ----------------------------------------------------------------


def _report_page(request, form: ReportForm, *, follow_error: str = "", status: int = 200):
    place = form.selected_place
    category = lookup_category(form["category"].value())
    locked, asset = form.locked_place, form.locked_asset
    if asset:
        action = reverse("intake:qr-asset", args=[asset.code])
    else:
        action = reverse("intake:qr", args=[locked.code]) if locked else reverse("intake:report")
    context = {
        "form": form,
        "locked": locked,
        "asset": asset,
        "action": action,
        "levels": [] if form.locked_place else place_levels(place),
        "duplicates": queries.open_duplicates(place, category, asset=asset),
        "follow_error": follow_error,
        **_rework_context(
            reverse("intake:rework"),
            "#report-form",
            place,
            category,
            _form_data(form),
            asset=asset,
        ),
    }
    return render(request, REPORT_PAGE, context, status=status)


def _form_data(form) -> Mapping:
    """What the page shows again: the posted data, or the initial values."""
    return form.data if form.is_bound else form.initial


def _rework_context(
    url: str, form_selector: str, place, category, data: Mapping, *, asset=None
) -> dict:
    """The warranty rework proposal (intake/rework.py) and where its fragment refreshes from."""
    return {
        "rework": offer(place, category, data, asset=asset),
        "rework_url": url,
        "rework_form": form_selector,
    }


def _report(request, locked: Place | None, asset: Asset | None = None):
    if request.method != "POST" or request.POST.get("step"):
        initial = _initial(request)
        if asset is not None and asset.category_id and not initial.get("category"):
            initial["category"] = asset.category.code  # the fault it usually gets
        form = ReportForm(initial=initial, locked_place=locked, locked_asset=asset)
        return _report_page(request, form)
    form = ReportForm(
        request.POST, request.FILES, locked_place=locked, locked_asset=asset, staff=_staff(request)
    )
    if form.is_valid():
        channel = Channel.QR if locked else Channel.WEB
        original = form.rework_original()
        try:
            with transaction.atomic():
                order, created = submit_report(
                    form.to_report(channel),
                    by=_actor(request),
                    client=_client(request),
                    idempotency_key=form.cleaned_data["token"],
                )
                if created and original is not None:
                    # The reporter accepted the proposal; the system records it.
                    link_new_order(original, order, by=SYSTEM)
        except OrderError as err:
            form.add_service_error(err)
            return _report_page(request, form, status=err.status)
        return redirect(f"{order.tracking_path}?new=1")
    return _report_page(request, form, status=422)


def _initial(request) -> dict:
    """Redisplay what was typed (the no-JS "next level" button), or the account's contact."""
    if request.method == "POST":
        return request.POST.dict()
    user = request.user
    if user.is_authenticated:
        return {"reporter_name": user.name, "reporter_phone": getattr(user, "phone", "")}
    return {}


def report(request):
    return _report(request, None)


def qr(request, code: str):
    place = lookup_place(code)
    if place is None:
        raise Http404(_("二维码对应的地点不存在或已停用，请选择地点报修。"))
    return _report(request, place)


def qr_asset(request, code: str):
    """An asset's QR code: the form with its place, itself and its usual category filled in."""
    asset = lookup_asset(code)
    if asset is None:
        raise Http404(_("二维码对应的设备不存在或已停用，请扫描房间的二维码或选择地点报修。"))
    return _report(request, asset.place, asset)


@require_GET
def duplicates(request):
    place, category = (
        lookup_place(request.GET.get("place")),
        lookup_category(request.GET.get("category")),
    )
    asset = lookup_asset(request.GET.get("asset"))
    if asset is not None and place is not None and asset.place_id != place.pk:
        asset = None  # an asset elsewhere says nothing about this place
    context = {"duplicates": queries.open_duplicates(place, category, asset=asset)}
    return render(request, f"{REPORT_PAGE}#duplicates", context)


@require_GET
def rework(request):
    """The rework proposal fragment, refreshed when place or category change."""
    place = lookup_place(request.GET.get("place"))
    category = lookup_category(request.GET.get("category"))
    asset = lookup_asset(request.GET.get("asset"))
    context = _rework_context(
        request.path, "#report-form", place, category, request.GET, asset=asset
    )
    return render(request, REWORK_PARTIAL, context)


@require_GET
def places(request):
    levels = place_levels(lookup_place(request.GET.get("place")))
    return render(request, f"{REPORT_PAGE}#place_chain", {"levels": levels})


@require_POST
def follow(request, number: str):
    form = FollowForm(request.POST, number=number)
    if form.is_valid():
        try:
            follower, _created = follow_order(
                form.order,
                name=form.cleaned_data["reporter_name"],
                phone=form.cleaned_data["reporter_phone"],
                by=_actor(request),
            )
        except OrderError as err:
            form.add_service_error(err)
        else:
            return redirect(f"{follower.tracking_path}?followed=1")
    from_qr = bool(request.POST.get("from_qr"))
    locked = lookup_place(request.POST.get("place")) if from_qr else None
    asset = lookup_asset(request.POST.get("asset")) if from_qr else None
    report_form = ReportForm(initial=request.POST.dict(), locked_place=locked, locked_asset=asset)
    error = " ".join(e for errs in form.errors.values() for e in errs)
    return _report_page(request, report_form, follow_error=error, status=422)


# --- reporter: tracking page and my orders --------------------------------------------------

PUBLIC_EVENTS = {
    "workorder.submitted": gettext_lazy("已提交报修"),
    "workorder.accepted": gettext_lazy("已受理"),
    "workorder.rejected": gettext_lazy("已驳回"),
    "workorder.dispatched": gettext_lazy("已派维修人员"),
    "workorder.reassigned": gettext_lazy("已改派维修人员"),
    "workorder.arrived": gettext_lazy("维修人员已到场"),
    "workorder.completed": gettext_lazy("维修完成"),
    "workorder.confirmed": gettext_lazy("报修人已确认完成"),
    "workorder.closed": gettext_lazy("工单已关闭"),
    "workorder.reopened": gettext_lazy("反馈没修好，重新处理"),
    "workorder.cancelled": gettext_lazy("已取消"),
    "workorder.urged": gettext_lazy("报修人催单"),
}


def public_timeline(order) -> list[dict]:
    """What a reporter may read of the timeline: no internal notes, no staff phone numbers."""
    entries = []
    for event in queries.timeline(order):
        title = PUBLIC_EVENTS.get(event.code)
        if title is None:
            continue
        data = event.data or {}
        detail = data.get("reason") or data.get("technician_name") or data.get("comment") or ""
        if event.code == "workorder.urged":
            detail = data.get("note", "")
        if event.code == "workorder.completed":
            failed = data.get("result") == Result.FAILED
            title = _("维修未成功") if failed else title
            detail = data.get("suggestion", "") if failed else ""
        entries.append({"at": event.created_at, "title": title, "detail": detail})
    return entries


def _urge_wait(order, holder, actions) -> str:
    """Why the reporter cannot urge yet (shown instead of the button), or ""."""
    if holder.follower or Action.URGE in actions or order.status not in URGEABLE:
        return ""
    refusal = urge_refusal(order)
    return refusal.message if refusal else ""


def _track_page(request, order, holder, *, error: str = "", status: int = 200):
    actions = [] if holder.follower else allowed_actions(order, holder)
    context = {
        "order": order,
        "holder": holder,
        "actions": actions,
        "urge_wait": _urge_wait(order, holder, actions),
        "timeline": public_timeline(order),
        "attachments": order.attachments.all(),
        "error": error,
        "new": request.GET.get("new") == "1",
        "followed": request.GET.get("followed") == "1",
        "link": request.build_absolute_uri(request.path),
    }
    return render(request, TRACK_PAGE, context, status=status)


def _holder_order(token: str):
    try:
        return order_for_token(token)
    except NotVisible as err:
        raise Http404(err.message) from None


@require_GET
def track(request, token: str):
    order, holder = _holder_order(token)
    return _track_page(request, order, holder)


def _own_reporter(request, order) -> bool:
    return bool(request.user.is_authenticated and order.reporter_id == request.user.pk)


@require_POST
def track_action(request, token: str, action: str):
    order, holder = _holder_order(token)
    form = TrackActionForm(request.POST)
    # An urge sent from "my orders" answers there.
    mine = (
        action == Action.URGE and form.data.get("back") == "mine" and _own_reporter(request, order)
    )
    if action not in TrackActionForm.ACTIONS or not form.is_valid():
        error = " ".join(e for errs in form.errors.values() for e in errs) or _("未知操作。")
        if mine:
            return _mine_page(request, error=error, status=422)
        return _track_page(request, order, holder, error=error, status=422)
    # A signed-in reporter urges in his own name; the link holder otherwise.
    by = request.user if action == Action.URGE and _own_reporter(request, order) else holder
    try:
        version = form.cleaned_data["version"]
        perform(order, action, by=by, version=version, **form.params(action))
    except OrderError as err:
        if mine:
            return _mine_page(request, error=err.message, status=err.status)
        return _track_page(request, order, holder, error=err.message, status=err.status)
    if action == Action.URGE:
        messages.success(
            request, _("工单 %(number)s 已催单，我们会尽快处理。") % {"number": order.number}
        )
    if mine:
        return redirect("intake:my-orders")
    return redirect("intake:track", token=token)


def _mine_page(request, *, error: str = "", status: int = 200):
    orders = list(
        visible_orders(request.user)
        .for_listing()
        .filter(reporter=request.user)
        .order_by("-created_at")
    )
    for order in orders:
        # The urge button shows when the guard lets him urge now (lifecycle.urge_refusal).
        order.may_urge = order.status in URGEABLE and urge_refusal(order) is None
    context = {"orders": orders, "error": error}
    return render(request, "intake/order_mine.html", context, status=status)


@login_required
def my_orders(request):
    return _mine_page(request)


# --- agent desk ------------------------------------------------------------------------------


def desk_only(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.user.roles & DESK_ROLES:
            raise PermissionDenied(_("只有值班员、调度员和管理员可以使用值班台。"))
        return view(request, *args, **kwargs)

    return wrapper


def order_url(number: str) -> str:
    try:
        return reverse("workorders:order-detail", args=[number])
    except NoReverseMatch:
        return f"/orders/{number}/"


def _desk_page(request, form: DeskForm, *, status: int = 200):
    created = request.GET.get("new", "")
    context = {
        "form": form,
        "queue": queries.queue(request.user, Status.SUBMITTED)[:QUEUE_SIZE],
        "created": created,
        "created_url": order_url(created) if created else "",
        **_desk_rework(
            form["place"].value(), form["category"].value(), _form_data(form), form["asset"].value()
        ),
    }
    return render(request, DESK_PAGE, context, status=status)


@desk_only
def desk(request):
    if request.method != "POST":
        return _desk_page(request, DeskForm())
    form = DeskForm(request.POST)
    if form.is_valid():
        original = form.rework_original()
        try:
            with transaction.atomic():
                order, created = submit_report(
                    form.to_report(), by=request.user, idempotency_key=form.cleaned_data["token"]
                )
                if created and original is not None:
                    link_new_order(original, order, by=request.user)
        except OrderError as err:
            form.add_service_error(err)
            return _desk_page(request, form, status=err.status)
        return redirect(f"{reverse('intake:desk')}?new={order.number}")
    return _desk_page(request, form, status=422)


@desk_only
@require_GET
def desk_caller(request):
    phone = request.GET.get("reporter_phone", "").strip()
    orders = queries.orders_for_phone(request.user, phone)
    return render(request, f"{DESK_PAGE}#caller", {"caller_orders": orders, "phone": phone})


@desk_only
@require_GET
def desk_place(request):
    place = lookup_place(request.GET.get("place"))
    orders = queries.open_orders_at(request.user, place)
    return render(request, f"{DESK_PAGE}#place_orders", {"place_orders": orders, "place": place})


def _desk_rework(
    place: str | None, category: str | None, data: Mapping, asset: str | None = None
) -> dict:
    return _rework_context(
        reverse("intake:desk-rework"),
        "#desk-form",
        lookup_place(place),
        active_category(category),
        data,
        asset=lookup_asset(asset),
    )


@desk_only
@require_GET
def desk_rework(request):
    g = request.GET
    context = _desk_rework(g.get("place"), g.get("category"), g, g.get("asset"))
    return render(request, REWORK_PARTIAL, context)


def _queue(request, *, notice: str = "", error: bool = False):
    context = {
        "queue": queries.queue(request.user, Status.SUBMITTED)[:QUEUE_SIZE],
        "notice": notice,
        "notice_error": error,
    }
    return render(request, f"{DESK_PAGE}#queue", context)


@desk_only
@require_GET
def desk_queue(request):
    return _queue(request)


@desk_only
@require_POST
def desk_action(request, number: str, action: str):
    form = DeskActionForm(request.POST)
    try:
        if action not in (Action.ACCEPT, Action.REJECT) or not form.is_valid():
            raise NotVisible(_("未知操作。"))
        order = access_work_order(request.user, number)
        d = form.cleaned_data
        params = {"reason": d["reason"]} if action == Action.REJECT else {}
        perform(order, action, by=request.user, version=d["version"], **params)
    except OrderError as err:
        notice, error = err.message, True
    else:
        notice, error = (
            _("工单 %(number)s 已%(action)s。")
            % {
                "number": number,
                "action": Action(action).label,
            },
            False,
        )
    if request.htmx:
        return _queue(request, notice=notice, error=error)
    (messages.error if error else messages.success)(request, notice)
    return redirect("intake:desk")
