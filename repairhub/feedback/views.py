"""Feedback pages: the reporter's rating page (from his tracking link), the agents' follow-up
queue, management's referrals, the inspectors' quality checks, complaints and supervision
inspections. Glue only: parse → access → one service → render."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from repairhub.lib.uploads import clean_upload
from repairhub.workorders.access import access_work_order, order_for_token, visible_orders
from repairhub.workorders.errors import NotVisible, OrderError
from repairhub.workorders.states import Status
from repairhub.workorders.views import page_for, refuse

from . import queries, services
from .models import QcCheck, Rating, Referral
from .models.ratings import SCORE_LABELS
from .services.common import DESK, MANAGEMENT
from .services.complaints import (
    access_complaint,
    clean_scan,
    handles,
    shows_identity,
    visible_complaints,
)
from .services.inspections import INSPECTORS as INSPECTION_ROLES
from .services.quality import INSPECTORS, checklist_for, sampling_summary
from .services.ratings import dimensions
from .states import (
    ComplaintChannel,
    ComplaintStatus,
    EntryKind,
    InspectionKind,
    Satisfaction,
    Severity,
)

PAGE_SIZE = 30
HANDLER_KINDS_ORDER = (
    EntryKind.CONTACT,
    EntryKind.FINDING,
    EntryKind.RESOLUTION,
    EntryKind.SATISFACTION,
    EntryKind.NOTE,
)
RATING_PAGE = "feedback/rating_form.html"


# --- the reporter's rating page (FQ1) -----------------------------------------------------------


def _link_order(token: str):
    try:
        return order_for_token(token)
    except NotVisible as err:
        raise Http404(err.message) from None


def _rating_page(request, order, holder, rating, *, error: OrderError | None = None, status=200):
    given = request.POST if request.method == "POST" else {}
    names = dimensions(order)
    stars = []
    for name in names:
        value = given.get(name) or (getattr(rating, name) if rating else None)
        stars.append(
            {
                "name": name,
                "label": SCORE_LABELS[name],
                "value": str(value or ""),
                "error": error is not None and error.field == name,
            }
        )
    context = {
        "order": order,
        "holder": holder,
        "rating": rating,
        "stars": stars,
        "agent_from": len([n for n in names if not n.startswith(("agent_", "price_"))]),
        "comment": given.get("comment", rating.comment if rating else ""),
        "error": error.message if error else "",
        "done": request.GET.get("done") == "1",
        "may_rate": rating is None and order.status == Status.COMPLETED and not holder.follower,
        "may_change": rating is not None and rating.is_editable and not holder.follower,
    }
    return render(request, RATING_PAGE, context, status=status)


@require_http_methods(["GET", "POST"])
def rate(request, token: str):
    """Rate and confirm a completed order, or change the rating within the window."""
    order, holder = _link_order(token)
    rating = Rating.objects.filter(order=order).first()
    if holder.follower:
        return refuse(request, _("关注人不能评价，只有报修人本人可以评价。"), 403)
    if request.method == "GET":
        return _rating_page(request, order, holder, rating)
    scores = {name: request.POST.get(name) for name in SCORE_LABELS}
    comment = request.POST.get("comment", "")
    try:
        if rating is None:
            version = request.POST.get("version") or None
            services.rate_order(order, by=holder, scores=scores, comment=comment, version=version)
        else:
            services.change_rating(rating, by=holder, scores=scores, comment=comment)
    except OrderError as exc:
        order.refresh_from_db()
        return _rating_page(request, order, holder, rating, error=exc, status=exc.status)
    return redirect(f"{reverse('feedback:rate', args=[token])}?done=1")


# --- follow-up visits (FQ2) ---------------------------------------------------------------------


def _visit_queue(request, *, failed: dict | None = None, status: int = 200):
    page = Paginator(queries.follow_up_queue(), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = queries.visit_rows(page)
    for row in rows:
        if failed and row.follow_up.order.number == failed["number"]:
            row.failed = failed
    context = {"page": page, "rows": rows, "failed": failed}
    template = "feedback/followup_agent.html"
    if request.htmx:
        template += "#queue"
    return render(request, template, context, status=status)


@page_for(*DESK)
def visit_queue(request):
    return _visit_queue(request)


@page_for(*DESK)
@require_POST
def visit(request, number: str):
    try:
        order = access_work_order(request.user, number)
        services.record_visit(
            order,
            by=request.user,
            reached=request.POST.get("reached"),
            fixed=request.POST.get("fixed"),
            satisfied=request.POST.get("satisfied"),
            disputes=request.POST.get("disputes"),
            notes=request.POST.get("notes", ""),
        )
    except OrderError as exc:
        failed = {"number": number, "message": exc.message, "values": request.POST}
        return _visit_queue(request, failed=failed, status=exc.status)
    messages.success(request, _("工单 %(number)s 的回访已记录。") % {"number": number})
    return redirect("feedback:visit-queue")


@page_for(*MANAGEMENT)
def referrals(request):
    rows = queries.open_referrals()
    return render(request, "feedback/referral_manager.html", {"referrals": rows})


@page_for(*MANAGEMENT)
@require_POST
def close_referral(request, pk: int):
    referral = get_object_or_404(Referral, pk=pk)
    try:
        services.close_referral(referral, by=request.user, action=request.POST.get("action", ""))
    except OrderError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("上报事项已处理。"))
    return redirect("feedback:referrals")


# --- quality checks (FQ4) -----------------------------------------------------------------------


def _month(today: date) -> tuple[date, date]:
    start = today.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


@page_for(*INSPECTORS, *MANAGEMENT)
def qc_queue(request):
    # By default the last full month: a draw covers a period that is over.
    last_month = timezone.localdate().replace(day=1) - timedelta(days=1)
    start = _day(request.GET.get("start")) or _month(last_month)[0]
    end = _day(request.GET.get("end")) or _month(start)[1]
    if request.method == "POST":
        try:
            draw = services.draw_sample(
                start=_day(request.POST.get("start")) or start,
                end=_day(request.POST.get("end")) or end,
                seed=request.POST.get("seed") or None,
                by=request.user,
            )
        except OrderError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("已抽取 %(n)d 张工单（总体 %(total)d 张，随机种子 %(seed)s）。")
                % {"n": len(draw.picked), "total": len(draw.population), "seed": draw.seed},
            )
            return redirect(
                f"{reverse('feedback:qc-queue')}?start={draw.period_start}&end={draw.period_end}"
            )
    context = {
        "checks": list(queries.check_queue()[:100]),
        "summary": sampling_summary(start, end),
        "start": start,
        "end": end,
    }
    return render(request, "feedback/qccheck_inspector.html", context)


@page_for(*INSPECTORS)
@require_http_methods(["GET", "POST"])
def qc_check(request, pk: int):
    check = get_object_or_404(
        QcCheck.objects.select_related("order__category__parent", "order__place", "technician"),
        pk=pk,
    )
    items = checklist_for(check.order.category)
    error = ""
    status = 200
    if request.method == "POST":
        answers = {str(i.pk): request.POST.get(f"item-{i.pk}") for i in items}
        try:
            photos = [clean_upload(f.name, f.read()) for f in request.FILES.getlist("photos")]
            outcome = services.record_check(
                check,
                by=request.user,
                passed=request.POST.get("passed"),
                answers=answers,
                note=request.POST.get("note", ""),
                photos=photos,
                technician=request.POST.get("technician") or None,
            )
        except ValidationError as exc:
            error, status = exc.messages[0], 422
        except OrderError as exc:
            error, status = exc.message, exc.status
        else:
            if outcome.rework_order is not None:
                messages.warning(
                    request,
                    _("工单 %(number)s 质检不合格，已安排返工：%(rework)s。")
                    % {"number": check.order.number, "rework": outcome.rework_order.number},
                )
            else:
                messages.success(
                    request, _("工单 %(number)s 质检合格。") % {"number": check.order.number}
                )
            return redirect("feedback:qc-queue")
    from repairhub.workorders.forms import technician_choices

    context = {
        "check": check,
        "order": check.order,
        "items": items,
        "error": error,
        "values": request.POST,
        "technicians": technician_choices(request.user),
    }
    return render(request, "feedback/qccheck_detail.html", context, status=status)


def _day(value: str | None) -> date | None:
    try:
        return parse_date(value or "")
    except ValueError:
        return None


# --- complaints (FQ3) ---------------------------------------------------------------------------


def _complaint_form(request, *, error: str = "", status: int = 200):
    from .models import ComplaintCategory, Department

    desk = request.user.has_role(*DESK)
    context = {
        "desk": desk,
        "channels": ComplaintChannel.choices if desk else [],
        "categories": ComplaintCategory.objects.filter(is_active=True),
        "departments": Department.objects.filter(is_active=True),
        "orders": [] if desk else visible_orders(request.user).filter(reporter=request.user)[:20],
        "error": error,
        "values": request.POST,
    }
    return render(request, "feedback/complaint_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def complaint_new(request):
    """The desk registers phone, walk-in and letter complaints; anyone signed in complains on
    the web."""
    if request.method == "GET":
        return _complaint_form(request)
    post = request.POST
    desk = request.user.has_role(*DESK)
    try:
        scan = request.FILES.get("scan")
        upload = clean_scan(scan.name, scan.read()) if scan else None
        complaint = services.register_complaint(
            channel=post.get("channel") if desk else ComplaintChannel.WEB,
            category=post.get("category", ""),
            department=post.get("department") or None,
            description=post.get("description", ""),
            complainant_name=post.get("complainant_name", ""),
            complainant_phone=post.get("complainant_phone", ""),
            order=post.get("order") or None,
            person=post.get("person") or None,
            scan=upload,
            by=request.user,
        )
    except OrderError as exc:
        return _complaint_form(request, error=exc.message, status=exc.status)
    messages.success(request, _("投诉 %(number)s 已登记。") % {"number": complaint.number})
    return redirect("feedback:complaint-detail", number=complaint.number)


@login_required
def complaint_list(request):
    qs = visible_complaints(request.user).select_related("category", "department", "handler")
    status = request.GET.get("status", "")
    if status in ComplaintStatus.values:
        qs = qs.filter(status=status)
    page = Paginator(qs.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(c, shows_identity(request.user, c)) for c in page]
    context = {"page": page, "rows": rows, "status": status, "statuses": ComplaintStatus.choices}
    return render(request, "feedback/complaint_list.html", context)


def _complaint_page(request, complaint, *, error: str = "", status: int = 200):
    context = {
        "c": complaint,
        "identity": shows_identity(request.user, complaint),
        "may_handle": handles(request.user, complaint),
        "entries": complaint.entries.select_related("by"),
        "kinds": [(k, EntryKind(k).label) for k in HANDLER_KINDS_ORDER],
        "satisfactions": Satisfaction.choices,
        "members": complaint.department.members.filter(is_active=True),
        "error": error,
    }
    return render(request, "feedback/complaint_detail.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def complaint_detail(request, number: str):
    try:
        complaint = access_complaint(request.user, number)
    except NotVisible as exc:
        return refuse(request, exc.message, exc.status)
    if request.method == "GET":
        return _complaint_page(request, complaint)
    try:
        if request.POST.get("handler"):
            services.assign_handler(complaint, handler=request.POST["handler"], by=request.user)
        else:
            services.add_entry(
                complaint,
                kind=request.POST.get("kind"),
                text=request.POST.get("text", ""),
                satisfaction=request.POST.get("satisfaction") or None,
                by=request.user,
            )
    except OrderError as exc:
        return _complaint_page(request, complaint, error=exc.message, status=exc.status)
    messages.success(request, _("已记录。"))
    return redirect("feedback:complaint-detail", number=number)


# --- supervision inspections (FQ6) --------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def inspection_list(request):
    from repairhub.accounts.models import Team

    error, status = "", 200
    if request.method == "POST":
        try:
            inspection = services.plan_inspection(
                kind=request.POST.get("kind"),
                team=request.POST.get("team", ""),
                place=request.POST.get("place", ""),
                scheduled_for=request.POST.get("scheduled_for", ""),
                by=request.user,
            )
        except OrderError as exc:
            error, status = exc.message, exc.status
        else:
            return redirect("feedback:inspection-detail", pk=inspection.pk)
    context = {
        "inspections": queries.visible_inspections(request.user).order_by("-id")[:100],
        "may_plan": request.user.has_role(*INSPECTION_ROLES),
        "teams": Team.objects.all(),
        "kinds": InspectionKind.choices,
        "error": error,
    }
    return render(request, "feedback/inspection_list.html", context, status=status)


FINDING_ROWS = 3


@login_required
@require_http_methods(["GET", "POST"])
def inspection_detail(request, pk: int):
    from repairhub.accounts.models import User

    from .models import Rectification

    inspection = queries.visible_inspections(request.user).filter(pk=pk).first()
    if inspection is None:
        return refuse(request, _("找不到该督查，或您无权查看。"), 404)
    error, status = "", 200
    if request.method == "POST":
        post = request.POST
        try:
            verb = post.get("verb")
            if verb == "record":
                findings = [
                    {
                        "text": post.get(f"text-{i}", ""),
                        "severity": post.get(f"severity-{i}") or None,
                        "task": post.get(f"task-{i}", ""),
                        "assignee": post.get(f"assignee-{i}", ""),
                        "due_date": post.get(f"due-{i}", ""),
                    }
                    for i in range(FINDING_ROWS)
                    if post.get(f"text-{i}", "").strip()
                ]
                services.record_inspection(
                    inspection, by=request.user, summary=post.get("summary", ""), findings=findings
                )
            else:
                rect = get_object_or_404(
                    Rectification.objects.select_related("assignee__team", "finding__inspection"),
                    pk=post.get("rectification"),
                    finding__inspection=inspection,
                )
                if verb == "done":
                    services.complete_rectification(
                        rect, by=request.user, note=post.get("note", "")
                    )
                elif verb == "verify":
                    services.verify_rectification(
                        rect,
                        by=request.user,
                        accepted=post.get("accepted"),
                        note=post.get("note", ""),
                    )
                else:
                    return refuse(request, _("未知操作。"), 404)
        except OrderError as exc:
            error, status = exc.message, exc.status
        else:
            messages.success(request, _("已记录。"))
            return redirect("feedback:inspection-detail", pk=pk)
        inspection.refresh_from_db()
    findings = inspection.findings.prefetch_related("rectifications__assignee")
    context = {
        "i": inspection,
        "findings": findings,
        "may_record": request.user.pk == inspection.inspector_id
        or request.user.has_role(*MANAGEMENT),
        "rows": range(FINDING_ROWS),
        "people": User.objects.filter(is_active=True).order_by("username")[:300],
        "severities": Severity.choices,
        "error": error,
    }
    return render(request, "feedback/inspection_detail.html", context, status=status)
