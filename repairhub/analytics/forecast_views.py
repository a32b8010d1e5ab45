"""Forecast and hotspot pages (AN8): the forecast page draws /api/v1/analytics/forecast with
ECharts; the hotspot page shows analytics.hotspots in a table with a chart, and the orders
behind each row. Glue only: parse → scope (access) → read → render."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from repairhub.workorders.errors import InvalidInput
from repairhub.workorders.views import page_for

from . import hotspots as hot
from .access import VIEWER_ROLES, scoped
from .forecast import SHOWN_WEEKS, Options, parse_horizon
from .forms import DateInput, ScopeForm
from .periods import Filters, parse_filters
from .views import PAGE_SIZE, refusing

LEVELS = (50, 80, 90, 95)


class _FilterForm(ScopeForm):
    """The category, place and team selectors of the shared form, without its period."""

    dropped = ("start", "end", "grain", "channel")

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, user=user, **kwargs)
        for name in self.dropped:
            self.fields.pop(name, None)

    def clean(self):
        data = forms.Form.clean(self)
        try:
            data["filters"] = parse_filters(
                data.get("category"), "", data.get("place"), data.get("team")
            )
            self.clean_more(data)
        except InvalidInput as exc:
            raise ValidationError(exc.message) from None
        return data

    def clean_more(self, data) -> None:
        pass


class ForecastForm(_FilterForm):
    weeks = forms.CharField(label=gettext_lazy("预测周数"), required=False, widget=forms.Select())
    level = forms.CharField(label=gettext_lazy("区间水平"), required=False, widget=forms.Select())

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, user=user, **kwargs)
        opts = Options.from_settings()
        self.fields["weeks"].widget.choices = [
            (str(n), _("%(n)d 周") % {"n": n}) for n in range(1, opts.max_weeks + 1)
        ]
        levels = sorted({*LEVELS, opts.level})
        self.fields["level"].widget.choices = [(str(p), f"{p}%") for p in levels]
        self.order_fields(["weeks", "level", "category", "place", "team"])

    def clean_more(self, data) -> None:
        data["weeks"], data["level"] = parse_horizon(data.get("weeks"), data.get("level"))


class HotspotForm(_FilterForm):
    dropped = ("start", "grain", "channel")
    days = forms.CharField(
        label=gettext_lazy("统计窗口（天）"),
        required=False,
        widget=forms.NumberInput(attrs={"min": hot.MIN_DAYS, "max": hot.MAX_DAYS}),
    )
    min_count = forms.CharField(
        label=gettext_lazy("至少几次"),
        required=False,
        widget=forms.NumberInput(attrs={"min": hot.MIN_COUNT, "max": hot.MAX_COUNT}),
    )

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, user=user, **kwargs)
        self.fields["end"] = forms.CharField(
            label=gettext_lazy("截至"), required=False, widget=DateInput()
        )
        self.order_fields(["days", "min_count", "end", "category", "place", "team"])

    def clean_more(self, data) -> None:
        data["window"] = hot.parse_window(data.get("days"), data.get("min_count"), data.get("end"))


def _bind(request, form_class, defaults: dict):
    """The form over the query string with the defaults filled in, so the page shows them; the
    filters the viewer may use when it is valid."""
    data = request.GET.copy()
    for name, value in defaults.items():
        if not data.get(name):
            data[name] = value
    form = form_class(data, user=request.user)
    if not form.is_valid():
        return form, None
    return form, scoped(request.user, form.cleaned_data["filters"])


def chart_labels() -> dict[str, str]:
    """The words forecast.js writes, in the page language."""
    return {
        "loading": _("正在计算预测……"),
        "loaded": _("%(today)s 起的预测，区间水平 %(level)s。点击历史周的数字可查看对应工单。"),
        "failed": _("数据加载失败：%(message)s"),
        "actual": _("实际报修"),
        "expected": _("预测"),
        "band": _("预测区间"),
        "lastYear": _("去年同周"),
        "week": _("周（周一）"),
        "count": _("报修数"),
        "lower": _("下限"),
        "upper": _("上限"),
        "observed": _("本周已报修"),
        "weekday": _("星期效应"),
        "months": _("月份效应"),
        "factor": _("倍数"),
        "days": [_("周一"), _("周二"), _("周三"), _("周四"), _("周五"), _("周六"), _("周日")],
        "monthNames": [_("%(m)d月") % {"m": m} for m in range(1, 13)],
        "holiday": _("法定节假日 ×%(f)s，调休上班 ×%(g)s，趋势每年 %(t)s"),
        "dispersion": _("离散系数 φ = %(phi)s（日方差 = φ × 日均值）"),
        "history": _("历史 %(days)s 天，共 %(orders)s 张报修单。"),
        "insufficient": _("不预测"),
        "hotspots": _("故障次数"),
        "numbers": _("查看数字"),
    }


@page_for(*VIEWER_ROLES)
@refusing
def forecast_page(request):
    opts = Options.from_settings()
    form, filters = _bind(request, ForecastForm, {"weeks": opts.weeks, "level": opts.level})
    config = None
    if filters is not None:
        data = form.cleaned_data
        today = timezone.localdate()
        week0 = today - timedelta(days=today.weekday())
        params = filters.as_params()
        drill = {
            **params,
            "start": (week0 - timedelta(weeks=SHOWN_WEEKS)).isoformat(),
            "end": (week0 - timedelta(days=1)).isoformat(),
            "grain": "week",
            "figure": "reported",
        }
        config = {
            "api": reverse("api-v1:analytics-forecast")
            + "?"
            + urlencode({**params, "weeks": data["weeks"], "level": data["level"]}),
            "drill": reverse("analytics:orders") + "?" + urlencode(drill),
            "dim": "category",
        }
    context = {"form": form, "config": config, "labels": chart_labels()}
    return render(
        request, "analytics/forecast.html", context, status=200 if config is not None else 422
    )


def _orders_link(window: hot.Window, filters: Filters, row: dict) -> str:
    params = {
        **filters.as_params(),
        **window.as_params(),
        "level": row["level"],
        "spot_place": row["place"]["code"],
        "spot_category": row["category"]["code"],
    }
    if row.get("asset"):
        params["spot_asset"] = row["asset"]["code"]
    return reverse("analytics:hotspot-orders") + "?" + urlencode(params)


@page_for(*VIEWER_ROLES)
@refusing
def hotspots_page(request):
    days, count = hot.defaults()
    form, filters = _bind(
        request,
        HotspotForm,
        {"days": days, "min_count": count, "end": timezone.localdate().isoformat()},
    )
    context: dict = {"form": form, "labels": chart_labels()}
    if filters is not None:
        window = form.cleaned_data["window"]
        found = hot.hotspots(window, filters)
        for row in (*found["assets"], *found["places"], *found["buildings"]):
            row["url"] = _orders_link(window, filters, row)
        chart = [
            {
                "label": f"{r['place']['name']} · {r['category']['name']}",
                "count": r["count"],
                "url": r["url"],
            }
            for r in found["places"][:10]
        ]
        context |= {"found": found, "window": window, "chart": chart}
    return render(
        request, "analytics/hotspots.html", context, status=200 if filters is not None else 422
    )


@page_for(*VIEWER_ROLES)
@refusing
def hotspot_orders_page(request):
    """The orders behind one hotspot row, listed like every other drill-down."""
    g = request.GET
    window = hot.parse_window(g.get("days"), g.get("min_count"), g.get("end"))
    filters = scoped(
        request.user, parse_filters(g.get("category"), "", g.get("place"), g.get("team"))
    )
    qs, where, category = hot.hotspot_orders(
        window,
        filters,
        level=g.get("level", "place"),
        place=g.get("spot_place", ""),
        category=g.get("spot_category", ""),
        asset=g.get("spot_asset", ""),
    )
    # A place reads as its full name, an asset as "2号空调（W06-305-AC1）".
    label = _("“%(place)s”的“%(category)s”故障（不含已驳回、已取消）") % {
        "place": where,
        "category": category,
    }
    context = {
        "page": Paginator(qs, PAGE_SIZE).get_page(g.get("page")),
        "figure_label": label,
        "period": window.period,
        "query_link": "",
    }
    return render(request, "analytics/orders.html", context)
