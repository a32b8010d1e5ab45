"""The period and filter form every analytics page shares (GET), and the drill-down's extra
fields. Validation is periods.parse_* so pages and API refuse the same input the same way."""

from __future__ import annotations

from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from repairhub.accounts.models import Team
from repairhub.places.models import Place, PlaceKind
from repairhub.workorders.errors import InvalidInput
from repairhub.workorders.models import Category, Channel

from .access import WHOLE_ROLES
from .periods import Filters, Grain, Period, parse_filters, parse_period
from .queries import Drill

SPLIT_CHOICES = [
    ("", gettext_lazy("不分组")),
    ("category", gettext_lazy("按类别")),
    ("channel", gettext_lazy("按渠道")),
    ("place", gettext_lazy("按地点")),
    ("team", gettext_lazy("按班组")),
]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def _select(label, **kw):
    return forms.CharField(label=label, required=False, widget=forms.Select(), **kw)


class ScopeForm(forms.Form):
    start = forms.CharField(label=gettext_lazy("从"), required=False, widget=DateInput())
    end = forms.CharField(label=gettext_lazy("至"), required=False, widget=DateInput())
    grain = _select(gettext_lazy("粒度"))
    category = _select(gettext_lazy("类别"))
    channel = _select(gettext_lazy("渠道"))
    place = _select(gettext_lazy("地点"))
    team = _select(gettext_lazy("班组"))

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.user = user
        every = [("", _("全部"))]
        self.fields["grain"].widget.choices = list(Grain.choices)
        categories = Category.objects.select_related("parent").order_by(
            "parent__sort", "parent__code", "sort", "code"
        )
        self.fields["category"].widget.choices = every + [
            (c.code, str(c))
            for c in sorted(
                categories, key=lambda c: (c.parent_id or c.pk, c.parent_id is not None)
            )
        ]
        self.fields["channel"].widget.choices = every + list(Channel.choices)
        places = Place.objects.exclude(kind=PlaceKind.ROOM).order_by("path")
        self.fields["place"].widget.choices = every + [(p.code, p.full_name) for p in places]
        teams = Team.objects.order_by("code")
        if not user.has_role(*WHOLE_ROLES):
            teams = teams.filter(lead=user)
        self.fields["team"].widget.choices = every + [(t.code, t.name) for t in teams]

    def clean(self):
        data = super().clean()
        try:
            data["period"] = parse_period(data.get("start"), data.get("end"), data.get("grain"))
            data["filters"] = parse_filters(
                data.get("category"), data.get("channel"), data.get("place"), data.get("team")
            )
        except InvalidInput as exc:
            raise ValidationError(exc.message) from None
        return data

    @property
    def period(self) -> Period:
        return self.cleaned_data["period"]

    @property
    def filters(self) -> Filters:
        return self.cleaned_data["filters"]


class DashboardForm(ScopeForm):
    split = forms.ChoiceField(
        label=gettext_lazy("报修量分组"), required=False, choices=SPLIT_CHOICES
    )


class DrillForm(ScopeForm):
    figure = forms.CharField(required=False, widget=forms.HiddenInput())
    bucket = forms.CharField(required=False, widget=forms.HiddenInput())
    dim = forms.CharField(required=False, widget=forms.HiddenInput())
    key = forms.CharField(required=False, widget=forms.HiddenInput())
    flag = forms.CharField(required=False, widget=forms.HiddenInput())

    def clean(self):
        data = super().clean()
        bucket = None
        if data.get("bucket"):
            try:
                bucket = date.fromisoformat(data["bucket"])
            except ValueError:
                raise ValidationError(
                    _("下钻参数 %(field)s 不正确。") % {"field": "bucket"}
                ) from None
        data["drill"] = Drill(
            data.get("figure") or "reported",
            bucket,
            data.get("dim") or "",
            data.get("key") or "",
            data.get("flag") or "",
        )
        return data


class MonthForm(forms.Form):
    month = forms.CharField(
        label=gettext_lazy("月份"), widget=forms.DateInput(attrs={"type": "month"})
    )
