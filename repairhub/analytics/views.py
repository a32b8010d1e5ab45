"""Analytics pages: the dashboard (charts drawn from /api/v1/analytics/dashboard), rankings,
workload, the orders behind a figure, and the monthly appraisal. Glue only: parse → scope
(access) → read or service → render."""

from __future__ import annotations

from contextlib import suppress
from datetime import date, timedelta
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from repairhub.places.models import Place
from repairhub.workorders.errors import OrderError
from repairhub.workorders.models import Category
from repairhub.workorders.views import page_for, refuse

from . import rankings, services, workload
from .access import APPRAISAL_ROLES, SIGN_ROLES, VIEWER_ROLES, scoped
from .forms import DashboardForm, DrillForm, MonthForm, ScopeForm
from .models import AppraisalMonth, AppraisalWeights
from .periods import DEFAULT_DAYS, Filters, Grain, Period, parse_month
from .queries import NONE, Drill, orders_behind

PAGE_SIZE = 50

FIGURE_LABELS = {
    "reported": gettext_lazy("本期报修的工单"),
    "completed": gettext_lazy("本期完成的工单"),
    "deadline": gettext_lazy("本期完成且有完成时限的工单"),
    "rated": gettext_lazy("本期评价的工单"),
    "backlog": gettext_lazy("当前未完结的工单"),
    "registered": gettext_lazy("本期值班员登记的工单"),
    "dispatched": gettext_lazy("本期首次派工的工单"),
}
CRITERIA_LABELS = {
    "arrival": gettext_lazy("到场"),
    "completion": gettext_lazy("完成"),
    "success": gettext_lazy("成功率"),
    "satisfaction": gettext_lazy("满意度"),
    "on_time": gettext_lazy("按时"),
    "rework": gettext_lazy("返修"),
    "qc_failures": gettext_lazy("质检"),
    "complaints": gettext_lazy("投诉"),
}


def refusing(view):
    """Service and access refusals become the refusal page with their status."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except OrderError as exc:
            return refuse(request, exc.message, exc.status)

    return wrapped


def _bind(request, form_class):
    """The form over the query string, the default period filled in so the page shows it;
    with the period and the filters the viewer may use when it is valid."""
    data = request.GET.copy()
    if not data.get("end"):
        data["end"] = timezone.localdate().isoformat()
    if not data.get("start"):
        with suppress(ValueError):
            end = date.fromisoformat(data["end"])
            data["start"] = (end - timedelta(days=DEFAULT_DAYS - 1)).isoformat()
    if not data.get("grain"):
        data["grain"] = Grain.DAY
    form = form_class(data, user=request.user)
    if not form.is_valid():
        return form, None, None
    return form, form.period, scoped(request.user, form.filters)


def _query(period: Period, filters: Filters, **more) -> str:
    return urlencode({**period.as_params(), **filters.as_params(), **more})


def presets(request) -> list[dict]:
    """Common periods, keeping the filters chosen on the page."""
    today = timezone.localdate()
    keep = {k: v for k, v in request.GET.items() if k in KEPT and v}
    choices = [
        (_("近 7 天"), today - timedelta(days=6), Grain.DAY),
        (_("近 30 天"), today - timedelta(days=29), Grain.DAY),
        (_("本月"), today.replace(day=1), Grain.DAY),
        (_("近 12 周"), today - timedelta(days=7 * 12 - 1), Grain.WEEK),
        (_("近 12 个月"), (today.replace(day=1) - timedelta(days=335)).replace(day=1), Grain.MONTH),
        (_("今年"), today.replace(month=1, day=1), Grain.MONTH),
    ]
    return [
        {
            "label": label,
            "query": urlencode(
                {**keep, "start": start.isoformat(), "end": today.isoformat(), "grain": grain}
            ),
        }
        for label, start, grain in choices
    ]


KEPT = ("category", "channel", "place", "team", "split")


def chart_labels() -> dict[str, str]:
    """The words dashboard.js writes, in the page language."""
    return {
        "loading": _("正在加载……"),
        "loaded": _("%(start)s 至 %(end)s。点击图中的点或表中的数字可查看对应工单。"),
        "failed": _("数据加载失败：%(message)s"),
        "reported": _("报修"),
        "completed": _("完成"),
        "successRate": _("维修成功率"),
        "meanRepairHours": _("平均维修时长（小时）"),
        "backlog": _("积压"),
        "overdue": _("其中已超时"),
        "onTimeRate": _("按时率"),
        "onTime": _("按时"),
        "late": _("超时完成"),
        "withDeadline": _("有时限"),
        "rated": _("评价数"),
        "meanRating": _("平均评分"),
        "stars": _("%(n)s 分"),
        "bucket": _("时段"),
        "state": _("状态"),
        "count": _("工单数"),
        "category": _("类别"),
        "hours": _("小时"),
        "mean": _("平均"),
        "median": _("中位数"),
        "longest": _("最长"),
        "meanHours": _("平均（小时）"),
        "medianHours": _("中位数（小时）"),
        "longestHours": _("最长（小时）"),
        "total": _("合计"),
    }


@page_for(*VIEWER_ROLES)
@refusing
def dashboard(request):
    form, period, filters = _bind(request, DashboardForm)
    config = None
    if period is not None:
        split = form.cleaned_data.get("split") or ""
        config = {
            "api": reverse("api-v1:dashboard") + "?" + _query(period, filters, split=split),
            "drill": reverse("analytics:orders") + "?" + _query(period, filters),
            "split": split,
        }
    context = {
        "form": form,
        "config": config,
        "labels": chart_labels(),
        "presets": presets(request),
    }
    return render(request, "analytics/dashboard.html", context)


@page_for(*VIEWER_ROLES)
@refusing
def rankings_page(request):
    form, period, filters = _bind(request, ScopeForm)
    context: dict = {"form": form, "presets": presets(request)}
    if period is not None:
        context |= {
            "efficiency": rankings.technician_efficiency(period, filters),
            "dispatch": rankings.dispatch_speed(period, filters),
            "satisfaction": rankings.technician_satisfaction(period, filters),
            "drill": reverse("analytics:orders") + "?" + _query(period, filters),
        }
    return render(request, "analytics/rankings.html", context)


@page_for(*VIEWER_ROLES)
@refusing
def workload_page(request):
    form, period, filters = _bind(request, ScopeForm)
    context: dict = {"form": form, "presets": presets(request)}
    if period is not None:
        context |= {
            "agents": workload.agents(period, filters),
            "technicians": workload.technicians(period, filters),
            "drill": reverse("analytics:orders") + "?" + _query(period, filters),
        }
    return render(request, "analytics/workload.html", context)


@page_for(*VIEWER_ROLES)
@refusing
def orders_page(request):
    """The orders behind a figure: the same set and filters the figure was computed from."""
    form, period, filters = _bind(request, DrillForm)
    context: dict = {"form": form, "page": None}
    if period is not None:
        drill: Drill = form.cleaned_data["drill"]
        qs = orders_behind(period, filters, drill)
        context |= {
            "page": Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page")),
            "figure_label": FIGURE_LABELS.get(drill.figure, ""),
            "period": period,
            "query_link": _order_query_link(period, filters, drill),
            "back": request.GET.urlencode(),
        }
    return render(request, "analytics/orders.html", context, status=200 if period else 422)


def _order_query_link(period: Period, filters: Filters, drill: Drill) -> str:
    """The same list on the order query page (workorders:order-list) when its filters can say
    it: reported orders by dates, category, channel, place, state and technician; no team."""
    if filters.team or filters.teams is not None or drill.flag:
        return ""
    params = dict(filters.as_params())
    if drill.figure == "reported":
        first, last = (
            period.bucket_days(drill.bucket) if drill.bucket else (period.start, period.end)
        )
        params |= {"date_from": first.isoformat(), "date_to": last.isoformat()}
    elif not (drill.figure == "backlog" and drill.dim == "status"):
        return ""
    if drill.dim in ("status", "channel"):
        params[drill.dim] = drill.key
    elif drill.dim == "category":
        cat = Category.objects.filter(pk=drill.key).first() if drill.key.isdigit() else None
        if cat is None:
            return ""
        params["category"] = cat.code
    elif drill.dim == "place":
        place = Place.objects.filter(pk=drill.key).first() if drill.key.isdigit() else None
        if place is None or drill.key == NONE:
            return ""
        params["place"] = place.code
    elif drill.dim:
        return ""
    return reverse("workorders:order-list") + "?" + urlencode(params)


# --- appraisal ----------------------------------------------------------------------------------


@page_for(*APPRAISAL_ROLES)
def appraisal_list(request):
    months = AppraisalMonth.objects.select_related("computed_by", "signed_by").order_by("-month")
    last_month = (timezone.localdate().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    return render(
        request,
        "analytics/appraisal_list.html",
        {
            "months": months[:36],
            "form": MonthForm(initial={"month": last_month}),
            "weights": AppraisalWeights.current(),
            "criteria": CRITERIA_LABELS,
        },
    )


@page_for(*APPRAISAL_ROLES)
@refusing
def appraisal_detail(request, month):
    first = parse_month(month)
    appraisal = (
        AppraisalMonth.objects.select_related("computed_by", "signed_by")
        .filter(month=first)
        .first()
    )
    rows = []
    if appraisal is not None:
        rows = sorted(
            appraisal.rows.select_related("technician"),
            key=lambda r: (r.rank is None, r.rank or 0, -r.score, r.name),
        )
    context = {
        "month": first,
        "appraisal": appraisal,
        "rows": rows,
        "criteria": CRITERIA_LABELS,
        "month_over": Period.month(first).end < timezone.localdate(),
        "can_sign": request.user.has_role(*SIGN_ROLES),
    }
    return render(request, "analytics/appraisal_detail.html", context)


@page_for(*APPRAISAL_ROLES)
@require_POST
def appraisal_compute(request):
    try:
        appraisal = services.compute_appraisal(
            parse_month(request.POST.get("month", "")), by=request.user
        )
    except OrderError as exc:
        messages.error(request, exc.message)
        target = request.POST.get("next_month", "")
        return (
            redirect("analytics:appraisal", month=target)
            if target
            else redirect("analytics:appraisals")
        )
    messages.success(
        request,
        _("已计算 %(month)s 的考核（第 %(v)d 版）。")
        % {"month": appraisal.label, "v": appraisal.version},
    )
    return redirect("analytics:appraisal", month=appraisal.label)


@page_for(*APPRAISAL_ROLES)
@require_POST
@refusing
def appraisal_sign(request, month):
    appraisal = AppraisalMonth.objects.filter(month=parse_month(month)).first()
    if appraisal is None:
        return refuse(request, _("该月考核还没有计算。"), 404)
    version = request.POST.get("version", "")
    try:
        services.sign_appraisal(
            appraisal, by=request.user, version=int(version) if version.isdigit() else None
        )
    except OrderError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已签字确认 %(month)s 的考核。") % {"month": appraisal.label})
    return redirect("analytics:appraisal", month=appraisal.label)
