"""The mapping file (TOML) an admin writes for another system's export: which source column
feeds which order field and how its values translate (docs/import.md).

The whole file is read and checked before any row is: a wrong mapping stops the import with a
Chinese message and nothing written. Checks that need the database (a value map pointing at a
category that does not exist) run in `lookups.Lookups.check`; the header check in
`check_header`.
"""

from __future__ import annotations

import codecs
import hashlib
import tomllib
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from repairhub.workorders.errors import InvalidInput
from repairhub.workorders.models import Channel, Result, Urgency
from repairhub.workorders.states import Status

# What a field's values are, which decides how a cell becomes an order value.
TEXT, CATEGORY, PLACE, CHOICE, PERSON, TIME, RATING = (
    "text",
    "category",
    "place",
    "choice",
    "person",
    "time",
    "rating",
)
# Options a field may carry besides column, default and values, by kind.
OPTIONS = {
    TEXT: set(),
    CATEGORY: {"match"},
    PLACE: {"match", "separator"},
    CHOICE: set(),
    PERSON: {"match"},
    TIME: {"format"},
    RATING: set(),
}
MATCHES = {
    CATEGORY: ("code", "name"),
    PLACE: ("code", "path"),
    PERSON: ("username", "phone"),
}


@dataclass(frozen=True)
class Spec:
    label: Any  # lazy Chinese label, used in every message about the field
    kind: str
    required: bool = False
    choices: Any = None  # the TextChoices of a CHOICE field


SPECS: dict[str, Spec] = {
    "number": Spec(gettext_lazy("原工单号"), TEXT, required=True),
    "category": Spec(gettext_lazy("报修类别"), CATEGORY, required=True),
    "place": Spec(gettext_lazy("报修地点"), PLACE),
    "address": Spec(gettext_lazy("详细地址"), TEXT),
    "description": Spec(gettext_lazy("故障描述"), TEXT, required=True),
    "reporter_name": Spec(gettext_lazy("报修人"), TEXT, required=True),
    "reporter_phone": Spec(gettext_lazy("联系电话"), TEXT, required=True),
    "channel": Spec(gettext_lazy("报修渠道"), CHOICE, required=True, choices=Channel),
    "status": Spec(gettext_lazy("工单状态"), CHOICE, required=True, choices=Status),
    "result": Spec(gettext_lazy("维修结果"), CHOICE, choices=Result),
    "urgency": Spec(gettext_lazy("紧急程度"), CHOICE, choices=Urgency),
    "technician": Spec(gettext_lazy("维修人员"), PERSON),
    "dispatcher": Spec(gettext_lazy("派工人"), PERSON),
    "agent": Spec(gettext_lazy("登记值班员"), PERSON),
    "reported_at": Spec(gettext_lazy("报修时间"), TIME, required=True),
    "accepted_at": Spec(gettext_lazy("受理时间"), TIME),
    "dispatched_at": Spec(gettext_lazy("派工时间"), TIME),
    "acknowledged_at": Spec(gettext_lazy("接单时间"), TIME),
    "arrived_at": Spec(gettext_lazy("到场时间"), TIME),
    "completed_at": Spec(gettext_lazy("完成时间"), TIME),
    "closed_at": Spec(gettext_lazy("关闭时间"), TIME),
    "due_at": Spec(gettext_lazy("完成时限"), TIME),
    "rating": Spec(gettext_lazy("评分"), RATING),
    "rating_comment": Spec(gettext_lazy("评价"), TEXT),
    "completion_note": Spec(gettext_lazy("完工说明"), TEXT),
    "reason": Spec(gettext_lazy("驳回或取消原因"), TEXT),
    "remarks": Spec(gettext_lazy("备注"), TEXT),
}
SOURCE_KEYS = ("name", "encoding", "delimiter", "sheet", "time_zone", "date_format")
FIELD_KEYS = {"column", "default", "values"}
ISO = "iso"
DEFAULT_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")
# Chinese exports are often GBK; GB18030 decodes all of GBK and GB2312 and more.
ENCODING_ALIASES = {"gbk": "gb18030", "gb2312": "gb18030", "cp936": "gb18030"}


@dataclass(frozen=True)
class FieldMap:
    """One order field as the mapping configures it."""

    name: str
    column: str | None = None
    default: str | None = None
    values: dict[str, str] = field(default_factory=dict)
    match: str = ""
    separator: str = "/"
    formats: tuple[str, ...] = ()

    @property
    def spec(self) -> Spec:
        return SPECS[self.name]

    @property
    def label(self) -> str:
        return str(self.spec.label)


@dataclass(frozen=True)
class Mapping:
    source: str
    fields: dict[str, FieldMap]
    encoding: str = "utf-8-sig"
    delimiter: str = ","
    sheet: str = ""
    time_zone: str = ""
    text: str = ""

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    @property
    def encoding_name(self) -> str:
        """The encoding as the admin wrote it (UTF-8 is read as utf-8-sig)."""
        return "utf-8" if self.encoding == "utf-8-sig" else self.encoding

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone or settings.TIME_ZONE)

    def columns(self) -> list[str]:
        """The source columns the mapping reads, in field order."""
        seen: list[str] = []
        for fm in self.fields.values():
            if fm.column and fm.column not in seen:
                seen.append(fm.column)
        return seen


def _bad(message: str) -> InvalidInput:
    return InvalidInput(_("映射文件有误：%(problem)s") % {"problem": message}, code="mapping")


def _text_value(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _bad(_("%(where)s 必须是文字或整数。") % {"where": where})
    return str(value).strip()


def choice_code(spec: Spec, value: str) -> str | None:
    """A TextChoices code from its code or its Chinese label (`closed` or `已关闭`)."""
    for code, label in spec.choices.choices:
        if value in (code, str(label)):
            return code
    return None


def _formats(value: Any, where: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) for v in items):
        raise _bad(
            _('%(where)s 必须是日期格式文字或其列表，例如 "%%Y-%%m-%%d %%H:%%M"。')
            % {"where": where}
        )
    out = tuple(v.strip() for v in items)
    for fmt in out:
        if fmt != ISO and "%" not in fmt:
            raise _bad(
                _(
                    "%(where)s 中的“%(format)s”不是日期格式（用 %%Y、%%m、%%d、%%H、%%M 等，或 iso）。"
                )
                % {"where": where, "format": fmt}
            )
    return out


def _field(name: str, raw: Any, default_formats: tuple[str, ...]) -> FieldMap:
    spec = SPECS[name]
    where = f"[fields.{name}]"
    if isinstance(raw, str):
        raw = {"column": raw}
    if not isinstance(raw, dict):
        raise _bad(_("%(where)s 必须是列名或表。") % {"where": where})
    allowed = FIELD_KEYS | OPTIONS[spec.kind]
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise _bad(
            _("%(where)s 中有未知的设置“%(key)s”，可用的有：%(allowed)s。")
            % {"where": where, "key": unknown[0], "allowed": _("、").join(sorted(allowed))}
        )
    column = raw.get("column")
    if column is not None:
        column = _text_value(column, f"{where} column")
        if not column:
            raise _bad(_("%(where)s 的 column 不能为空。") % {"where": where})
    default = raw.get("default")
    if default is not None:
        default = _text_value(default, f"{where} default")
    values_raw = raw.get("values", {})
    if not isinstance(values_raw, dict):
        raise _bad(_("%(where)s 的 values 必须是表（原值 = 新值）。") % {"where": where})
    values = {str(k).strip(): _text_value(v, f"{where} values.{k}") for k, v in values_raw.items()}
    match = ""
    if spec.kind in MATCHES:
        match = raw.get("match", MATCHES[spec.kind][0])
        if match not in MATCHES[spec.kind]:
            raise _bad(
                _("%(where)s 的 match 只能是：%(allowed)s。")
                % {"where": where, "allowed": _("、").join(MATCHES[spec.kind])}
            )
    separator = raw.get("separator", "/")
    if not isinstance(separator, str) or not separator.strip():
        raise _bad(_("%(where)s 的 separator 必须是非空文字。") % {"where": where})
    formats = default_formats
    if "format" in raw:
        formats = _formats(raw["format"], f"{where} format")
    fm = FieldMap(
        name=name,
        column=column,
        default=default,
        values=values,
        match=match,
        separator=separator.strip(),
        formats=formats if spec.kind == TIME else (),
    )
    if spec.kind == CHOICE:
        for target in [*values.values(), *([default] if default else [])]:
            if choice_code(spec, target) is None:
                allowed_codes = _("、").join(
                    _("%(code)s（%(label)s）") % {"code": c, "label": label}
                    for c, label in spec.choices.choices
                )
                raise _bad(
                    _("%(where)s 中的“%(value)s”不是有效的%(label)s，可用：%(allowed)s。")
                    % {
                        "where": where,
                        "value": target,
                        "label": spec.label,
                        "allowed": allowed_codes,
                    }
                )
    if spec.kind == RATING:
        for target in [*values.values(), *([default] if default else [])]:
            if target not in {"1", "2", "3", "4", "5"}:
                raise _bad(
                    _("%(where)s 中的评分“%(value)s”必须是 1 到 5 的整数。")
                    % {"where": where, "value": target}
                )
    return fm


def parse_mapping(text: str) -> Mapping:
    """A Mapping from the TOML text, or InvalidInput saying what to fix."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _bad(_("不是有效的 TOML（%(error)s）。") % {"error": exc}) from None
    unknown = sorted(set(data) - {"source", "fields"})
    if unknown:
        raise _bad(_("未知的部分“%(key)s”，只能有 [source] 和 [fields]。") % {"key": unknown[0]})
    source = data.get("source")
    if not isinstance(source, dict):
        raise _bad(_("缺少 [source] 部分（至少要写来源系统名 name）。"))
    unknown = sorted(set(source) - set(SOURCE_KEYS))
    if unknown:
        raise _bad(
            _("[source] 中有未知的设置“%(key)s”，可用的有：%(allowed)s。")
            % {"key": unknown[0], "allowed": _("、").join(SOURCE_KEYS)}
        )
    source_name = source.get("name")
    if not isinstance(source_name, str) or not source_name.strip():
        raise _bad(_("[source] 的 name（来源系统名）必须填写：它和原工单号一起识别一张工单。"))
    if len(source_name.strip()) > 60:
        raise _bad(_("[source] 的 name 最多 60 个字。"))
    encoding = str(source.get("encoding", "utf-8")).strip().lower()
    encoding = ENCODING_ALIASES.get(encoding, encoding)
    try:
        encoding = codecs.lookup(encoding).name
    except LookupError:
        raise _bad(
            _("未知的文件编码“%(encoding)s”，常用的有 utf-8、gb18030。")
            % {"encoding": source.get("encoding")}
        ) from None
    if encoding == "utf-8":
        encoding = "utf-8-sig"  # a byte-order mark, when there is one, is not part of the header
    delimiter = source.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise _bad(_('[source] 的 delimiter 必须是一个字符，例如 "," 或 "\\t"。'))
    sheet = source.get("sheet", "")
    if not isinstance(sheet, str):
        raise _bad(_("[source] 的 sheet 必须是工作表名称。"))
    zone = source.get("time_zone", "")
    if not isinstance(zone, str):
        raise _bad(_('[source] 的 time_zone 必须是时区名称，例如 "Asia/Shanghai"。'))
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise _bad(_('未知的时区“%(zone)s”，例如 "Asia/Shanghai"。') % {"zone": zone}) from None
    formats = DEFAULT_FORMATS
    if "date_format" in source:
        formats = _formats(source["date_format"], "[source] date_format")

    raw_fields = data.get("fields")
    if not isinstance(raw_fields, dict) or not raw_fields:
        raise _bad(_("缺少 [fields] 部分：写明每个工单字段取自哪一列。"))
    unknown = sorted(set(raw_fields) - set(SPECS))
    if unknown:
        raise _bad(
            _("[fields] 中有未知的字段“%(key)s”，可用的字段有：%(allowed)s。")
            % {"key": unknown[0], "allowed": _("、").join(SPECS)}
        )
    fields = {name: _field(name, raw_fields[name], formats) for name in SPECS if name in raw_fields}
    for name, spec in SPECS.items():
        fm = fields.get(name)
        if spec.required and (fm is None or (fm.column is None and fm.default is None)):
            raise _bad(
                _("必须映射字段 %(name)s（%(label)s）：写明列名 column 或默认值 default。")
                % {"name": name, "label": spec.label}
            )
    if fields["number"].column is None:
        raise _bad(_("原工单号 number 必须取自一列：它是识别重复导入的依据。"))
    return Mapping(
        source=source_name.strip(),
        fields=fields,
        encoding=encoding,
        delimiter=delimiter,
        sheet=sheet.strip(),
        time_zone=zone,
        text=text,
    )


def check_header(mapping: Mapping, header: list[str]) -> dict[str, int]:
    """{column name: index} for every column the mapping reads, or InvalidInput naming the
    columns the file lacks."""
    positions: dict[str, int] = {}
    duplicated: set[str] = set()
    for i, name in enumerate(header):
        if name in positions:
            duplicated.add(name)
        positions.setdefault(name, i)
    wanted = mapping.columns()
    missing = [c for c in wanted if c not in positions]
    if missing:
        raise InvalidInput(
            _("文件表头缺少映射文件要求的列：%(columns)s。表头现有：%(header)s。")
            % {
                "columns": _("、").join(f"“{c}”" for c in missing),
                "header": _("、").join(f"“{c}”" for c in header if c) or _("（空）"),
            },
            code="mapping",
        )
    twice = [c for c in wanted if c in duplicated]
    if twice:
        raise InvalidInput(
            _("文件表头中的列“%(column)s”出现了不止一次，无法确定取哪一列。")
            % {"column": twice[0]},
            code="mapping",
        )
    return {c: positions[c] for c in wanted}
