"""Forms for the staff pages: the manager's query (IN9) and one small form per lifecycle verb.

Action forms only parse what a verb needs; the lifecycle (services.perform) decides whether the
action is allowed and whether the values make sense. Each posts the order's `version` so a
stale page cannot overwrite someone else's change.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from repairhub.accounts.models import User
from repairhub.accounts.roles import Role
from repairhub.lib.uploads import clean_upload
from repairhub.places.models import Place, PlaceKind

from .models import Category, ChangeKind, Channel, Result
from .queries import OrderFilter, active_experts, technicians_with_load
from .states import Action, Status

TEXT_MAX = 2000


def technician_choices(user) -> list[tuple[str, str]]:
    """Choices for dispatch forms: technicians with their open-order counts."""
    return [
        (
            u.username,
            _("%(name)s（在办 %(count)d 单）") % {"name": u.name, "count": u.open_count},
        )
        for u in technicians_with_load(user)
    ]


def category_choices() -> list[tuple[str, str]]:
    """Active categories, parents followed by their children (the change request form)."""
    categories = Category.objects.active().select_related("parent")
    return [(c.code, str(c)) for c in sorted(categories, key=_category_key)]


def expert_choices() -> list[tuple[str, str]]:
    """Choices for the escalation form: active experts, with their open escalations."""
    return [
        (u.username, _("%(name)s（在办 %(count)d 单）") % {"name": u.name, "count": u.open_count})
        for u in active_experts()
    ]


# --- the manager's query ------------------------------------------------------------------


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self):
        super().__init__(format="%Y-%m-%d")


class OrderFilterForm(forms.Form):
    date_from = forms.DateField(
        label=gettext_lazy("报修日期从"), required=False, widget=DateInput()
    )
    date_to = forms.DateField(label=gettext_lazy("至"), required=False, widget=DateInput())
    category = forms.ChoiceField(label=gettext_lazy("类别"), required=False)
    status = forms.ChoiceField(label=gettext_lazy("状态"), required=False)
    place = forms.ChoiceField(label=gettext_lazy("地点"), required=False)
    technician = forms.ChoiceField(label=gettext_lazy("维修人员"), required=False)
    channel = forms.ChoiceField(label=gettext_lazy("渠道"), required=False)
    number = forms.CharField(label=gettext_lazy("工单号"), required=False, max_length=32)
    phone = forms.CharField(label=gettext_lazy("报修电话"), required=False, max_length=20)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        every = [("", _("全部"))]
        categories = Category.objects.select_related("parent").order_by(
            "parent__sort", "parent__code", "sort", "code"
        )
        self.fields["category"].choices = every + [
            (c.code, str(c)) for c in sorted(categories, key=_category_key)
        ]
        self.fields["status"].choices = every + list(Status.choices)
        places = Place.objects.exclude(kind=PlaceKind.ROOM).order_by("path")
        self.fields["place"].choices = every + [(p.code, p.full_name) for p in places]
        techs = (
            User.objects.filter(role_grants__role__in=[Role.TECHNICIAN, Role.EXPERT])
            .distinct()
            .order_by("display_name", "username")
        )
        self.fields["technician"].choices = every + [(u.username, u.name) for u in techs]
        self.fields["channel"].choices = every + list(Channel.choices)

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise ValidationError(_("开始日期不能晚于结束日期。"))
        return data

    def to_filter(self) -> OrderFilter:
        d = self.cleaned_data
        return OrderFilter(
            status=d["status"],
            category=d["category"],
            place=d["place"],
            assignee=d["technician"],
            channel=d["channel"],
            date_from=d["date_from"],
            date_to=d["date_to"],
            number=d["number"].strip(),
            phone=d["phone"].strip(),
        )


def _category_key(c: Category):
    # Parents followed by their children.
    parent = c.parent if c.parent_id else c
    return (parent.sort, parent.code, c.parent_id is not None, c.sort, c.code)


# --- one form per lifecycle verb ---------------------------------------------------------


class ActionForm(forms.Form):
    """The version every action form posts, and the parameters it hands to the service."""

    action: str = ""
    version = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={
            "required": gettext_lazy("页面已过期，请刷新后重试。"),
            "invalid": gettext_lazy("页面已过期，请刷新后重试。"),
            "min_value": gettext_lazy("页面已过期，请刷新后重试。"),
        },
    )

    def __init__(
        self,
        *args,
        order=None,
        technicians=None,
        experts=None,
        categories=None,
        change=None,
        **kwargs,
    ):
        kwargs.setdefault("auto_id", f"id_{self.action}_%s")
        super().__init__(*args, **kwargs)
        self.order = order
        # The pending change request the form decides (shown beside approve/reject buttons).
        self.change = change
        if order is not None and not self.is_bound:
            self.initial.setdefault("version", order.version)

    @property
    def label(self) -> str:
        return Action(self.action).label

    @property
    def transition_template(self) -> str:
        return f"workorders/transitions/{self.action}.html"

    def params(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k not in ("version", "photos")}

    def uploads(self) -> list:
        return []


def _reason_field(label, required=True):
    return forms.CharField(
        label=label,
        required=required,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AcceptForm(ActionForm):
    action = Action.ACCEPT


class AcknowledgeForm(ActionForm):
    action = Action.ACKNOWLEDGE


class ResumeForm(ActionForm):
    action = Action.RESUME


class RejectForm(ActionForm):
    action = Action.REJECT
    reason = _reason_field(gettext_lazy("驳回原因（将告知报修人）"))


class DeclineForm(ActionForm):
    action = Action.DECLINE
    reason = _reason_field(gettext_lazy("退单原因"))


class CancelForm(ActionForm):
    action = Action.CANCEL
    reason = _reason_field(gettext_lazy("取消原因"))


class ReopenForm(ActionForm):
    action = Action.REOPEN
    reason = _reason_field(gettext_lazy("重新打开的原因"))


class DispatchForm(ActionForm):
    action = Action.DISPATCH
    technician = forms.ChoiceField(label=gettext_lazy("维修人员"))

    def __init__(self, *args, technicians=None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = list(technicians or [])
        if self.order is not None and self.order.assignee_id:
            current = self.order.assignee.username
            choices = [c for c in choices if c[0] != current]
        self.fields["technician"].choices = [("", _("请选择维修人员")), *choices]


class ReassignForm(DispatchForm):
    action = Action.REASSIGN
    reason = forms.CharField(label=gettext_lazy("改派说明（可选）"), required=False, max_length=200)


class ArriveForm(ActionForm):
    action = Action.ARRIVE
    # Filled by the browser's geolocation when the technician agrees; the lifecycle checks them.
    lat = forms.CharField(required=False, max_length=32, widget=forms.HiddenInput)
    lng = forms.CharField(required=False, max_length=32, widget=forms.HiddenInput)

    def params(self) -> dict:
        d = self.cleaned_data
        return {"lat": d.get("lat"), "lng": d.get("lng")}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = [f for f in (data or []) if f]
        if not isinstance(data, list | tuple):
            files = [data] if data else []
        if len(files) > settings.UPLOAD_MAX_FILES:
            raise ValidationError(
                _("最多上传 %(max)d 个文件。") % {"max": settings.UPLOAD_MAX_FILES}
            )
        cleaned = []
        for f in files:
            cleaned.append(clean_upload(f.name, f.read()))
        return cleaned


class ProgressForm(ActionForm):
    action = Action.PROGRESS
    note = _reason_field(gettext_lazy("进展说明"))
    photos = PhotosField(
        label=gettext_lazy("现场照片（可选）"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": "image/*,video/*", "capture": "environment"}),
    )

    def uploads(self) -> list:
        return self.cleaned_data.get("photos") or []


class HoldKind:
    CHOICES = [
        ("parts", gettext_lazy("等配件")),
        ("quote", gettext_lazy("等报价")),
        ("customer", gettext_lazy("等用户")),
        ("other", gettext_lazy("其他")),
    ]


class HoldForm(ActionForm):
    action = Action.HOLD
    kind = forms.ChoiceField(
        label=gettext_lazy("挂起原因"), choices=HoldKind.CHOICES, widget=forms.RadioSelect
    )
    detail = forms.CharField(
        label=gettext_lazy("补充说明"),
        required=False,
        max_length=TEXT_MAX - 20,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self):
        data = super().clean()
        if data.get("kind") == "other" and not (data.get("detail") or "").strip():
            self.add_error("detail", _("选择“其他”时请说明挂起原因。"))
        return data

    def params(self) -> dict:
        kind = dict(HoldKind.CHOICES)[self.cleaned_data["kind"]]
        detail = self.cleaned_data["detail"].strip()
        return {
            "reason": _("%(kind)s：%(detail)s") % {"kind": kind, "detail": detail}
            if detail
            else str(kind)
        }


class CompleteForm(ActionForm):
    action = Action.COMPLETE
    result = forms.ChoiceField(
        label=gettext_lazy("维修结果"), choices=Result.choices, widget=forms.RadioSelect
    )
    note = _reason_field(gettext_lazy("完工说明"))
    # Required for a failed repair; the lifecycle says so, and the page explains it.
    suggestion = _reason_field(gettext_lazy("给报修人的解决建议（维修失败时必填）"), required=False)
    # Checked by the lifecycle (range, two decimals) with its own words; the field only keeps
    # the phone's decimal keypad.
    fee = forms.CharField(
        label=gettext_lazy("收费金额（元，未收费不填）"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


class ConfirmForm(ActionForm):
    action = Action.CONFIRM
    rating = forms.TypedChoiceField(
        label=gettext_lazy("评分"),
        choices=[(str(i), str(i)) for i in range(5, 0, -1)],
        coerce=int,
        required=False,
        empty_value=None,
        widget=forms.RadioSelect,
    )
    comment = _reason_field(gettext_lazy("评价（可选）"), required=False)


class CloseForm(ActionForm):
    action = Action.CLOSE
    note = _reason_field(gettext_lazy("审核说明（可选）"), required=False)


class RequestChangeForm(ActionForm):
    """One form for the four kinds; only the chosen kind's value is handed to the lifecycle."""

    action = Action.REQUEST_CHANGE
    kind = forms.ChoiceField(
        label=gettext_lazy("变更类型"), choices=ChangeKind.choices, widget=forms.RadioSelect
    )
    new_category = forms.ChoiceField(label=gettext_lazy("新类别"), required=False)
    measures = _reason_field(gettext_lazy("新的维修措施（替换原措施）"), required=False)
    new_due_at = forms.DateTimeField(
        label=gettext_lazy("新的完成时限"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    extra_work = _reason_field(gettext_lazy("增加的工作内容"), required=False)
    reason = _reason_field(gettext_lazy("变更原因"))

    VALUE_FIELDS = {
        ChangeKind.CATEGORY: "new_category",
        ChangeKind.MEASURES: "measures",
        ChangeKind.DEADLINE: "new_due_at",
        ChangeKind.EXTRA_WORK: "extra_work",
    }

    def __init__(self, *args, categories=None, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.order.category.code if self.order is not None else None
        if categories is None:
            categories = category_choices()
        self.fields["new_category"].choices = [("", _("请选择新类别"))] + [
            c for c in categories if c[0] != current
        ]

    def clean(self):
        data = super().clean()
        name = self.VALUE_FIELDS.get(data.get("kind"))
        if name and data.get(name) in (None, "") and name not in self.errors:
            self.add_error(name, _("请填写%(label)s。") % {"label": self.fields[name].label})
        return data

    def params(self) -> dict:
        d = self.cleaned_data
        name = self.VALUE_FIELDS[d["kind"]]
        return {"kind": d["kind"], "reason": d["reason"], name: d[name]}


class ApproveChangeForm(ActionForm):
    action = Action.APPROVE_CHANGE
    note = forms.CharField(label=gettext_lazy("审批说明（可选）"), required=False, max_length=200)


class RejectChangeForm(ActionForm):
    action = Action.REJECT_CHANGE
    reason = _reason_field(gettext_lazy("驳回原因（将告知申请人）"))


class EscalateForm(ActionForm):
    action = Action.ESCALATE
    expert = forms.ChoiceField(label=gettext_lazy("技术专家"))
    reason = _reason_field(gettext_lazy("需要专家支持的原因"))

    def __init__(self, *args, experts=None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = list(experts or [])
        if self.order is not None:
            # Neither the order's technician nor its current expert.
            taken = {u.username for u in (self.order.assignee, self.order.expert) if u}
            choices = [c for c in choices if c[0] not in taken]
        self.fields["expert"].choices = [("", _("请选择专家")), *choices]


class GuideForm(ActionForm):
    action = Action.GUIDE
    note = _reason_field(gettext_lazy("指导意见"))


class TakeOverForm(ActionForm):
    action = Action.TAKE_OVER


ACTION_FORMS: dict[str, type[ActionForm]] = {
    cls.action: cls
    for cls in (
        AcceptForm,
        RejectForm,
        DispatchForm,
        ReassignForm,
        AcknowledgeForm,
        DeclineForm,
        ArriveForm,
        ProgressForm,
        HoldForm,
        ResumeForm,
        CompleteForm,
        ConfirmForm,
        CloseForm,
        ReopenForm,
        CancelForm,
        RequestChangeForm,
        ApproveChangeForm,
        RejectChangeForm,
        EscalateForm,
        GuideForm,
        TakeOverForm,
    )
}


def action_form(
    action: str,
    *,
    order,
    technicians=None,
    experts=None,
    categories=None,
    change=None,
    data=None,
    files=None,
    prefix_id="",
):
    """The form for `action` on `order` (bound when data is given); None for unknown verbs."""
    cls = ACTION_FORMS.get(action)
    if cls is None:
        return None
    kwargs = {
        "order": order,
        "technicians": technicians,
        "experts": experts,
        "categories": categories,
        "change": change,
    }
    if prefix_id:
        kwargs["auto_id"] = f"id_{prefix_id}_{action}_%s"
    return cls(data, files, **kwargs) if data is not None else cls(**kwargs)
