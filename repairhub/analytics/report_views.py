"""The reports page (AN7): past runs with their downloads, a form to generate one now (the
worker makes it; the list refreshes itself until it is done), and the viewer's own
subscriptions. Glue only: parse → reports.* (access and writes) → render."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from repairhub.accounts.models import Team
from repairhub.places.models import Place
from repairhub.workorders.errors import OrderError
from repairhub.workorders.models import Category, Channel
from repairhub.workorders.views import page_for, refuse

from . import reports
from .access import VIEWER_ROLES
from .forms import ScopeForm
from .models import ReportFormat, ReportKind, ReportTopic, RunStatus
from .views import refusing

PAGE = "analytics/report_list.html"
RUNS_SHOWN = 50
REFRESH_SECONDS = 3
CONTENT_TYPES = {
    ReportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ReportFormat.PDF: "application/pdf",
}


class _ReportFields(forms.Form):
    """Kind, topic and filters; the filters' choices are the analytics pages' (ScopeForm)."""

    kind = forms.ChoiceField(label=gettext_lazy("周期"), choices=ReportKind.choices)
    topic = forms.ChoiceField(label=gettext_lazy("报表"), choices=ReportTopic.choices)
    category = forms.CharField(label=gettext_lazy("类别"), required=False, widget=forms.Select())
    channel = forms.CharField(label=gettext_lazy("渠道"), required=False, widget=forms.Select())
    place = forms.CharField(label=gettext_lazy("地点"), required=False, widget=forms.Select())
    team = forms.CharField(label=gettext_lazy("班组"), required=False, widget=forms.Select())
    format = forms.ChoiceField(label=gettext_lazy("格式"), choices=ReportFormat.choices)

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        scope = ScopeForm(user=user)
        for name in reports.FILTER_KEYS:
            self.fields[name].widget.choices = scope.fields[name].widget.choices

    def add_refusal(self, exc: OrderError) -> None:
        self.add_error(exc.field if exc.field in self.fields else None, exc.message)


class ReportForm(_ReportFields):
    period = forms.CharField(
        label=gettext_lazy("时段"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "2026-05"}),
        help_text=gettext_lazy(
            "时段中的任一日期，或 2026-05（月）、2026-Q2（季）、2026-W19（周）、2026（年）；"
            "留空为最近一个已结束的时段。"
        ),
    )
    field_order = ["kind", "topic", "period"]


class SubscriptionForm(_ReportFields):
    prefix = "sub"


def _describe(items: list[tuple[int, dict, str]]) -> dict[int, str]:
    """The filters of each run or subscription (id, filter codes, team limit) in words, the
    names looked up in bulk."""
    codes: dict[str, set[str]] = {k: set() for k in reports.FILTER_KEYS}
    for _pk, filters, _teams in items:
        for key, code in filters.items():
            if key in codes:
                codes[key].add(code)
    names = {
        "category": {c.code: str(c) for c in Category.objects.filter(code__in=codes["category"])},
        "channel": {k: str(v) for k, v in Channel.choices},
        "place": dict(
            Place.objects.filter(code__in=codes["place"]).values_list("code", "full_name")
        ),
        "team": dict(Team.objects.filter(code__in=codes["team"]).values_list("code", "name")),
    }
    labels = {"category": _("类别"), "channel": _("渠道"), "place": _("地点"), "team": _("班组")}
    out = {}
    for pk, filters, teams in items:
        parts = [
            _("%(label)s：%(value)s") % {"label": labels[key], "value": names[key].get(code, code)}
            for key, code in filters.items()
            if key in labels
        ]
        if teams:
            parts.append(_("限于所带班组"))
        out[pk] = " · ".join(parts) or _("全部工单")
    return out


def _context(request, *, form=None, sub_form=None) -> dict:
    user = request.user
    runs = list(reports.visible_runs(user)[:RUNS_SHOWN])
    described = _describe([(r.pk, r.filters, r.teams) for r in runs])
    rows = [
        {
            "run": run,
            "title": reports.run_title(run),
            "filters": described[run.pk],
            "files": [fmt for fmt in ReportFormat.values if run.file_for(fmt)],
        }
        for run in runs
    ]
    subscriptions = list(user.report_subscriptions.order_by("kind", "topic", "pk"))
    return {
        "form": form or ReportForm(user=user, initial={"kind": ReportKind.MONTHLY}),
        "sub_form": sub_form or SubscriptionForm(user=user, initial={"kind": ReportKind.MONTHLY}),
        "rows": rows,
        "waiting": any(not r["run"].is_finished for r in rows),
        "refresh": REFRESH_SECONDS,
        "subscriptions": subscriptions,
        "sub_labels": _describe([(s.pk, s.filters, "") for s in subscriptions]),
    }


@page_for(*VIEWER_ROLES)
@refusing
def report_list(request):
    context = _context(request)
    if request.htmx:
        return render(request, PAGE + "#runs", context)
    return render(request, PAGE, context)


@page_for(*VIEWER_ROLES)
@require_POST
@refusing
def report_generate(request):
    form = ReportForm(request.POST, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            run = reports.request_report(
                kind=data["kind"],
                topic=data["topic"],
                period=data["period"],
                filters={k: data[k] for k in reports.FILTER_KEYS},
                formats=[data["format"]],
                by=request.user,
            )
        except OrderError as exc:
            if exc.status == 403:
                raise
            form.add_refusal(exc)
        else:
            messages.success(
                request,
                _("已提交：%(title)s。生成完成后可在下方下载。")
                % {"title": reports.run_title(run)},
            )
            return redirect("analytics:report-list")
    return render(request, PAGE, _context(request, form=form), status=422)


@page_for(*VIEWER_ROLES)
@refusing
def report_download(request, pk: int, fmt: str):
    run = reports.get_run(request.user, pk)
    if fmt not in ReportFormat.values or run.status != RunStatus.DONE or not run.file_for(fmt):
        return refuse(request, _("这份报表没有该格式的文件。"), 404)
    return FileResponse(
        run.file_for(fmt).open("rb"),
        as_attachment=True,
        filename=reports.download_name(run, fmt),
        content_type=CONTENT_TYPES[fmt],
    )


@page_for(*VIEWER_ROLES)
@require_POST
@refusing
def subscription_create(request):
    form = SubscriptionForm(request.POST, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            reports.subscribe(
                kind=data["kind"],
                topic=data["topic"],
                format=data["format"],
                filters={k: data[k] for k in reports.FILTER_KEYS},
                by=request.user,
            )
        except OrderError as exc:
            if exc.status == 403:
                raise
            form.add_refusal(exc)
        else:
            messages.success(request, _("已订阅。每期报表生成后会发送到您的消息中心。"))
            return redirect("analytics:report-list")
    return render(request, PAGE, _context(request, sub_form=form), status=422)


@page_for(*VIEWER_ROLES)
@require_POST
@refusing
def subscription_toggle(request, pk: int):
    sub = reports.my_subscription(request.user, pk)
    reports.set_subscription_active(sub, active=not sub.active, by=request.user)
    messages.success(request, _("已恢复订阅。") if sub.active else _("已暂停订阅。"))
    return redirect("analytics:report-list")


@page_for(*VIEWER_ROLES)
@require_POST
@refusing
def subscription_delete(request, pk: int):
    reports.unsubscribe(reports.my_subscription(request.user, pk), by=request.user)
    messages.success(request, _("已取消订阅。"))
    return redirect("analytics:report-list")
