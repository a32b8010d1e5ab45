"""The supervision board's filters."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from repairhub.accounts.models import Team
from repairhub.workorders.forms import category_choices
from repairhub.workorders.models import Category


class BoardFilterForm(forms.Form):
    team = forms.ChoiceField(label=gettext_lazy("班组"), required=False)
    category = forms.ChoiceField(label=gettext_lazy("类别"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        every = [("", _("全部"))]
        self.fields["team"].choices = every + [(t.code, t.name) for t in Team.objects.all()]
        self.fields["category"].choices = every + category_choices()
        self.fields["team"].error_messages["invalid_choice"] = _(
            "没有编码为“%(value)s”的班组，请从列表中选择。"
        )
        self.fields["category"].error_messages["invalid_choice"] = _(
            "没有编码为“%(value)s”的启用类别，请从列表中选择。"
        )

    def filters(self) -> dict:
        """The chosen team and category objects (call after is_valid())."""
        data = self.cleaned_data
        return {
            "team": Team.objects.get(code=data["team"]) if data.get("team") else None,
            "category": (
                Category.objects.get(code=data["category"]) if data.get("category") else None
            ),
        }
