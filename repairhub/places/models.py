from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PlaceKind(models.TextChoices):
    CAMPUS = "campus", _("校区")
    BUILDING = "building", _("楼宇")
    FLOOR = "floor", _("楼层")
    ROOM = "room", _("房间")


# Which kind may sit under which: campus → building → floor → room.
ALLOWED_PARENT = {
    PlaceKind.CAMPUS: None,
    PlaceKind.BUILDING: PlaceKind.CAMPUS,
    PlaceKind.FLOOR: PlaceKind.BUILDING,
    PlaceKind.ROOM: PlaceKind.FLOOR,
}

code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_-]*$", _("编码只能包含字母、数字、下划线和连字符。")
)


class PlaceQuerySet(models.QuerySet):
    def rooms(self):
        return self.filter(kind=PlaceKind.ROOM)

    def active(self):
        return self.filter(is_active=True)

    def within(self, place: Place):
        """The place and everything under it."""
        return self.filter(models.Q(pk=place.pk) | models.Q(path__startswith=place.path + "/"))


class Place(models.Model):
    """A node of the place tree. The QR code on a room's door carries its code."""

    kind = models.CharField(_("类型"), max_length=10, choices=PlaceKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    code = models.CharField(_("编码"), max_length=40, unique=True, validators=[code_validator])
    name = models.CharField(_("名称"), max_length=60)
    # Materialised path of codes ("E/E03/E03-2F/E03-201") for subtree queries; kept by save().
    path = models.CharField(max_length=400, editable=False, db_index=True)
    full_name = models.CharField(_("完整名称"), max_length=300, editable=False)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(
        _("经度"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    sort = models.IntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    objects = PlaceQuerySet.as_manager()

    class Meta:
        verbose_name = _("地点")
        verbose_name_plural = _("地点")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.full_name or self.name

    def clean(self):
        if self.kind not in PlaceKind.values:
            return  # the field's own "invalid choice" error says what to fix
        expected = ALLOWED_PARENT[PlaceKind(self.kind)]
        actual = self.parent.kind if self.parent_id else None
        if expected != actual:
            if expected is None:
                raise ValidationError({"parent": _("校区不能有上级地点。")})
            raise ValidationError(
                {
                    "parent": _("%(kind)s 的上级必须是 %(parent)s。")
                    % {"kind": PlaceKind(self.kind).label, "parent": PlaceKind(expected).label}
                }
            )

    def save(self, *args, **kwargs):
        if self.parent_id:
            parent = self.parent
            self.path = f"{parent.path}/{self.code}"
            self.full_name = f"{parent.full_name} / {self.name}"
        else:
            self.path = self.code
            self.full_name = self.name
        loaded = getattr(self, "_loaded_names", None)
        super().save(*args, **kwargs)
        # Children carry this node's path and name: rewrite them only when those changed
        # (a new node has no children; an unchanged one needs no cascade).
        if loaded is not None and loaded != (self.path, self.full_name):
            for child in self.children.all():
                child.save()
        self._loaded_names = (self.path, self.full_name)

    @classmethod
    def from_db(cls, db, field_names, values):
        obj = super().from_db(db, field_names, values)
        obj._loaded_names = (obj.__dict__.get("path"), obj.__dict__.get("full_name"))
        return obj

    @property
    def building(self) -> Place | None:
        node: Place | None = self
        while node is not None and node.kind != PlaceKind.BUILDING:
            node = node.parent
        return node

    @property
    def coordinates(self) -> tuple[float, float] | None:
        node: Place | None = self
        while node is not None:
            if node.latitude is not None and node.longitude is not None:
                return float(node.latitude), float(node.longitude)
            node = node.parent
        return None


class AssetQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def within(self, place: Place):
        """Assets at the place or anywhere under it."""
        return self.filter(
            models.Q(place_id=place.pk) | models.Q(place__path__startswith=place.path + "/")
        )


class Asset(models.Model):
    """A unit at a place that gets repaired on its own (an air conditioner, a washing machine).

    The QR code on it carries its code and opens the report form with its place, itself and its
    usual category filled in; orders, warranty and hotspots then count per asset.
    """

    code = models.CharField(
        _("编码"),
        max_length=40,
        unique=True,
        validators=[code_validator],
        help_text=_("印在设备二维码上，如 W06-305-AC1。"),
    )
    name = models.CharField(_("名称"), max_length=60, help_text=_("如：2号空调"))
    place = models.ForeignKey(
        Place, verbose_name=_("所在地点"), on_delete=models.PROTECT, related_name="assets"
    )
    # The kind of fault it usually gets: pre-selected on the report form its QR code opens.
    category = models.ForeignKey(
        "workorders.Category",
        verbose_name=_("常见故障类别"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assets",
    )
    model = models.CharField(_("型号"), max_length=100, blank=True)
    serial = models.CharField(_("序列号"), max_length=100, blank=True)
    installed_on = models.DateField(_("安装日期"), null=True, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    objects = AssetQuerySet.as_manager()

    class Meta:
        verbose_name = _("设备")
        verbose_name_plural = _("设备台账")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def clean(self):
        errors: dict[str, str] = {}
        place = self.place if self.place_id else None
        if place is not None:
            if place.kind == PlaceKind.CAMPUS:
                errors["place"] = _("设备要登记在楼宇、楼层或房间里，不能直接登记在校区。")
            elif self.is_active and not place.is_active:
                errors["place"] = _("地点“%(place)s”已停用：请选择启用的地点，或停用该设备。") % {
                    "place": place
                }
        category = self.category if self.category_id else None
        if category is not None:
            if not category.is_active:
                errors["category"] = _("报修类别“%(name)s”已停用，请选择其他类别。") % {
                    "name": category
                }
            elif category.children.active().exists():
                errors["category"] = _("“%(name)s”下还有小类，请选择具体的小类。") % {
                    "name": category
                }
        if self.installed_on is not None and self.installed_on > timezone.localdate():
            errors["installed_on"] = _("安装日期不能晚于今天。")
        if errors:
            raise ValidationError(errors)
