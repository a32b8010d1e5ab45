"""Intake forms: the reporter's H5 form, following an open order, the tracking buttons and the
agent desk. They check shape at the edge; intake.services and workorders.services enforce."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from repairhub.lib.phones import normalize_phone
from repairhub.lib.uploads import CleanUpload, clean_upload
from repairhub.places.models import Asset, Place, PlaceKind
from repairhub.workorders.errors import OrderError
from repairhub.workorders.models import Category, Channel, Urgency, WorkOrder
from repairhub.workorders.queries import open_duplicates

from .rework import confirmed_original
from .services import Report

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
PLACEHOLDERS = {
    PlaceKind.CAMPUS: _("请选择校区"),
    PlaceKind.BUILDING: _("请选择楼宇"),
    PlaceKind.FLOOR: _("请选择楼层"),
    PlaceKind.ROOM: _("请选择房间"),
}


def new_token() -> str:
    return uuid.uuid4().hex


def lookup_place(code: str | None) -> Place | None:
    code = (code or "").strip()
    return Place.objects.active().filter(code=code).first() if code else None


def lookup_asset(code: str | None) -> Asset | None:
    """An asset the report form may name: active, at an active place."""
    code = (code or "").strip()
    if not code:
        return None
    return (
        Asset.objects.active()
        .filter(code=code, place__is_active=True)
        .select_related("place", "category")
        .first()
    )


def lookup_category(code: str | None) -> Category | None:
    code = (code or "").strip()
    return Category.objects.for_reporters().filter(code=code).first() if code else None


def active_category(code: str | None) -> Category | None:
    code = (code or "").strip()
    return Category.objects.active().filter(code=code).first() if code else None


def category_choices(*, staff: bool) -> list:
    """Two levels for a grouped menu: one optgroup per parent, its active children inside."""
    qs = Category.objects.active() if staff else Category.objects.for_reporters()
    cats = list(qs.select_related("parent").order_by("sort", "code"))
    groups: dict[int, list] = {}
    for c in cats:
        if c.parent_id:
            groups.setdefault(c.parent_id, []).append((c.code, c.name))
    choices: list = [("", _("请选择报修类别"))]
    for c in cats:
        if c.parent_id is None:
            choices.append((c.name, groups[c.pk]) if c.pk in groups else (c.code, c.name))
    return choices


@dataclass
class PlaceLevel:
    options: list[Place]
    selected: str
    placeholder: str
    placeholder_value: str  # the parent's code, so "not chosen yet" keeps the level above


def place_levels(selected: Place | None) -> list[PlaceLevel]:
    """The cascading selects campus → building → floor → room down to the chosen place."""
    chain: list[Place] = []
    node = selected
    while node is not None:
        chain.insert(0, node)
        node = node.parent
    roots = list(Place.objects.active().filter(parent__isnull=True).order_by("sort", "path"))
    levels = [
        PlaceLevel(roots, chain[0].code if chain else "", str(PLACEHOLDERS[PlaceKind.CAMPUS]), "")
    ]
    for depth, parent in enumerate(chain):
        children = list(parent.children.active().order_by("sort", "path"))
        if not children:
            break
        chosen = chain[depth + 1].code if depth + 1 < len(chain) else ""
        label = str(PLACEHOLDERS[PlaceKind(children[0].kind)])
        levels.append(PlaceLevel(children, chosen, label, parent.code))
    return levels


def desk_place_choices() -> list:
    """Buildings and their rooms, one optgroup per building, for the agent desk."""
    places = Place.objects.active().filter(kind__in=[PlaceKind.BUILDING, PlaceKind.ROOM])
    choices: list = [("", _("请选择地点"))]
    building: Place | None = None
    rooms: list = []
    for p in places.order_by("path"):
        if p.kind == PlaceKind.BUILDING:
            building, rooms = p, [(p.code, _("%(name)s（整栋）") % {"name": p.name})]
            choices.append((p.full_name, rooms))
        elif building is not None and p.path.startswith(building.path + "/"):
            rooms.append((p.code, building.name + p.full_name[len(building.full_name) :]))
    return choices


class ServiceErrorsMixin:
    def add_service_error(self, err: OrderError) -> None:
        field = err.field if err.field in self.fields else None  # type: ignore[attr-defined]
        self.add_error(field, err.message)  # type: ignore[attr-defined]


def rework_fields() -> tuple[forms.CharField, forms.BooleanField]:
    """The warranty rework proposal (intake/rework.py): the number shown, and the box."""
    return (
        forms.CharField(required=False, max_length=40, widget=forms.HiddenInput),
        forms.BooleanField(required=False, label=_("这是同一问题的返修")),
    )


class ReworkMixin:
    def rework_original(self) -> WorkOrder | None:
        """After is_valid(): the closed order to link the new one to, looked up again from
        the posted place (or asset) and category; None unless the box was ticked for that very
        order."""
        d = self.cleaned_data  # type: ignore[attr-defined]
        return confirmed_original(
            lookup_place(d.get("place")),
            active_category(d.get("category")),
            shown=d.get("rework_of", ""),
            accepted=bool(d.get("rework")),
            asset=lookup_asset(d.get("asset")),
        )


def _phone(value: str) -> str:
    return normalize_phone(value)


class ReportForm(ServiceErrorsMixin, ReworkMixin, forms.Form):
    """The reporter's form (IN1, IN2). `locked_place` comes from the QR code and is not editable;
    an asset's QR code also sets `locked_asset` (its place is then the locked place)."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)
    rework_of, rework = rework_fields()
    place = forms.CharField(required=False, max_length=40)
    asset = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    address = forms.CharField(
        label=_("详细地址"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("找不到地点时填写，如：图书馆东门")}),
    )
    category = forms.ChoiceField(
        label=_("报修类别"), error_messages={"invalid_choice": _("请从列表中选择报修类别。")}
    )
    description = forms.CharField(
        label=_("故障描述"),
        max_length=2000,
        error_messages={"required": _("请描述故障情况。")},
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": _("哪里坏了、什么现象")}),
    )
    reporter_name = forms.CharField(
        label=_("姓名"),
        max_length=60,
        error_messages={"required": _("请填写报修人姓名。")},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    reporter_phone = forms.CharField(
        label=_("联系电话"),
        max_length=20,
        error_messages={"required": _("请填写联系电话。")},
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    urgency = forms.ChoiceField(
        label=_("紧急程度"), required=False, choices=[("", _("按类别默认")), *Urgency.choices]
    )
    preferred_time = forms.DateTimeField(
        label=_("期望上门时间"),
        required=False,
        input_formats=[DATETIME_LOCAL],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )

    def __init__(
        self,
        *args,
        locked_place: Place | None = None,
        locked_asset: Asset | None = None,
        staff: bool = False,
        **kw,
    ):
        super().__init__(*args, **kw)
        self.locked_place = locked_asset.place if locked_asset else locked_place
        self.locked_asset = locked_asset
        self.fields["category"].choices = category_choices(staff=staff)
        self.uploads: list[CleanUpload] = []
        self.file_errors: list[str] = []
        if not self.is_bound and not self.initial.get("token"):
            self.initial["token"] = new_token()

    def clean_reporter_phone(self) -> str:
        return _phone(self.cleaned_data["reporter_phone"])

    def clean_place(self) -> str:
        return self.locked_place.code if self.locked_place else self.cleaned_data["place"]

    def clean_asset(self) -> str:
        return self.locked_asset.code if self.locked_asset else self.cleaned_data["asset"]

    def clean(self):
        data = super().clean()
        if not data.get("place") and not data.get("address", "").strip():
            self.add_error("address", _("请选择报修地点或填写详细地址。"))
        self.uploads = self._clean_files()
        return data

    def _clean_files(self) -> list[CleanUpload]:
        """Every photo or video through lib.uploads; errors go next to the file field."""
        files = self.files.getlist("files") if self.files else []
        if len(files) > settings.UPLOAD_MAX_FILES:
            self.file_errors.append(_("最多上传 %(n)d 个文件。") % {"n": settings.UPLOAD_MAX_FILES})
            return []
        uploads, limit = [], max(settings.UPLOAD_MAX_IMAGE_BYTES, settings.UPLOAD_MAX_VIDEO_BYTES)
        for f in files:
            try:
                if f.size > limit:
                    raise ValidationError(_("文件“%(name)s”太大。") % {"name": f.name})
                uploads.append(clean_upload(f.name, f.read()))
            except ValidationError as err:
                self.file_errors.extend(err.messages)
        return uploads

    def is_valid(self) -> bool:
        return super().is_valid() and not self.file_errors

    @property
    def selected_place(self) -> Place | None:
        if self.locked_place:
            return self.locked_place
        return lookup_place(self["place"].value())

    def to_report(self, channel: str) -> Report:
        d = self.cleaned_data
        return Report(
            description=d["description"],
            category=d["category"],
            reporter_name=d["reporter_name"],
            reporter_phone=d["reporter_phone"],
            channel=channel,
            place=d["place"],
            asset=d["asset"],
            address=d["address"],
            urgency=d["urgency"],
            preferred_time=d["preferred_time"],
            attachments=self.uploads,
        )


class FollowForm(ServiceErrorsMixin, forms.Form):
    """Follow an open order shown in the duplicate hint, instead of reporting it again."""

    reporter_name = forms.CharField(
        max_length=60, error_messages={"required": _("关注工单需要填写您的姓名。")}
    )
    reporter_phone = forms.CharField(
        max_length=20, error_messages={"required": _("关注工单需要填写联系电话。")}
    )
    place = forms.CharField(max_length=40)
    category = forms.CharField(max_length=30)

    def __init__(self, *args, number: str, **kw):
        super().__init__(*args, **kw)
        self.number = number
        self.order: WorkOrder | None = None

    def clean_reporter_phone(self) -> str:
        return _phone(self.cleaned_data["reporter_phone"])

    def clean(self):
        data = super().clean()
        place, category = lookup_place(data.get("place")), lookup_category(data.get("category"))
        # Only orders the hint shows publicly (same place, same category) may be followed.
        candidates = open_duplicates(place, category, limit=50)
        self.order = next((o for o in candidates if o.number == self.number), None)
        if self.order is None:
            raise ValidationError(_("该工单已处理完毕或不在此地点，请直接报修。"))
        return data


class TrackActionForm(forms.Form):
    """Cancel, confirm (rating, comment), reopen or urge (note) from the tracking page; the
    service checks."""

    ACTIONS = ("cancel", "confirm", "reopen", "urge")

    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(required=False, max_length=2000)
    rating = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        choices=[(str(n), str(n)) for n in range(1, 6)],
        error_messages={"invalid_choice": _("评分必须是 1 到 5 的整数。")},
    )
    comment = forms.CharField(required=False, max_length=2000)
    note = forms.CharField(
        required=False, max_length=200, error_messages={"max_length": _("催单留言最多 200 个字。")}
    )

    def params(self, action: str) -> dict:
        d = self.cleaned_data
        if action == "confirm":
            return {"rating": d["rating"], "comment": d["comment"]}
        if action == "urge":
            return {"note": d["note"]}
        return {"reason": d["reason"]}


class DeskActionForm(forms.Form):
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(required=False, max_length=2000)


class DeskForm(ServiceErrorsMixin, ReworkMixin, forms.Form):
    """Phone and walk-in registration by the agent (IN3, IN4)."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)
    rework_of, rework = rework_fields()
    channel = forms.ChoiceField(
        label=_("渠道"),
        choices=[(Channel.PHONE, Channel.PHONE.label), (Channel.WALK_IN, Channel.WALK_IN.label)],
        initial=Channel.PHONE,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("渠道只能是电话报修或现场报修。")},
    )
    reporter_phone = forms.CharField(
        label=_("联系电话"),
        max_length=20,
        error_messages={"required": _("请填写联系电话。")},
        widget=forms.TextInput(attrs={"type": "tel", "autofocus": True, "autocomplete": "off"}),
    )
    reporter_name = forms.CharField(
        label=_("报修人姓名"),
        max_length=60,
        error_messages={"required": _("请填写报修人姓名。")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    description = forms.CharField(
        label=_("报修内容"),
        max_length=2000,
        error_messages={"required": _("请填写报修内容。")},
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    category = forms.ChoiceField(
        label=_("报修类别"), error_messages={"invalid_choice": _("请从列表中选择报修类别。")}
    )
    place = forms.ChoiceField(
        label=_("报修地点"),
        required=False,
        error_messages={"invalid_choice": _("请从列表中选择报修地点。")},
    )
    asset = forms.CharField(
        label=_("设备编码"),
        required=False,
        max_length=40,
        help_text=_("设备标签上的编码，如 W06-305-AC1；填写后地点取设备所在地点"),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    address = forms.CharField(label=_("详细地址"), required=False, max_length=200)
    urgency = forms.ChoiceField(
        label=_("紧急程度"), required=False, choices=[("", _("按类别默认")), *Urgency.choices]
    )
    received_at = forms.DateTimeField(
        label=_("接报时间"),
        input_formats=[DATETIME_LOCAL],
        error_messages={"required": _("请填写接报时间。"), "invalid": _("接报时间格式不正确。")},
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    handling = forms.CharField(label=_("处理情况"), required=False, max_length=2000)
    remarks = forms.CharField(
        label=_("备注"),
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"data-submit-on-enter": "1"}),
    )

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.fields["category"].choices = category_choices(staff=True)
        self.fields["place"].choices = desk_place_choices()
        if not self.is_bound:
            self.initial.setdefault("token", new_token())
            self.initial.setdefault("received_at", timezone.now())

    def clean_reporter_phone(self) -> str:
        return _phone(self.cleaned_data["reporter_phone"])

    def clean_received_at(self):
        value = self.cleaned_data["received_at"]
        if value > timezone.now() + timedelta(minutes=5):
            raise ValidationError(_("接报时间不能晚于现在。"))
        return value

    def clean(self):
        data = super().clean()
        if not (data.get("place") or data.get("asset") or data.get("address", "").strip()):
            self.add_error("place", _("请选择报修地点或填写详细地址。"))
        return data

    def to_report(self) -> Report:
        d = self.cleaned_data
        return Report(
            description=d["description"],
            category=d["category"],
            reporter_name=d["reporter_name"],
            reporter_phone=d["reporter_phone"],
            channel=d["channel"],
            place=d["place"],
            asset=d["asset"],
            address=d["address"],
            urgency=d["urgency"],
            received_at=d["received_at"],
            handling=d["handling"],
            remarks=d["remarks"],
        )
