"""One source row → the order it describes (`Planned`), or a `RowError` saying in Chinese why
it cannot be imported. Pure Python over the loaded lookups: no query per row.

The order must be one the lifecycle table (workorders/states.py) could have produced: its
state decides which steps may have happened (an accepted order has no completion), times follow
the steps' order, a technician holds every order between dispatch and completion, only a
closed order carries a rating.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from repairhub.lib.phones import normalize_phone
from repairhub.workorders.models import Channel, Result
from repairhub.workorders.states import WITH_TECHNICIAN, Status

from .lookups import CategoryFacts, Lookups, Person, RowError
from .mapping import CHOICE, ISO, SPECS, TIME, FieldMap, Mapping
from .sources import CsvError, cell_text

MAX_DESCRIPTION = 2000  # as workorders.services.create_order
MAX_NAME = 60
MAX_NUMBER = 100
MAX_TEXT = 2000
KEY_PREFIX = "import:"

# The steps of the lifecycle in the order they happen, by the time field that records each.
STEPS = (
    "accepted_at",
    "dispatched_at",
    "acknowledged_at",
    "arrived_at",
    "completed_at",
    "closed_at",
)
# How far along STEPS an order in each state may have come. Rejected and cancelled orders
# may also give `closed_at`: the time they ended (kept on their event, not on the order).
REACHED = {
    Status.SUBMITTED: 0,
    Status.ACCEPTED: 1,
    Status.REJECTED: 0,
    Status.DISPATCHED: 2,
    Status.ACKNOWLEDGED: 3,
    Status.IN_PROGRESS: 4,
    Status.ON_HOLD: 4,
    Status.COMPLETED: 5,
    Status.CLOSED: 6,
    Status.CANCELLED: 4,
}
ENDED = (Status.REJECTED, Status.CANCELLED)
DESK = (Channel.PHONE, Channel.WALK_IN)


def import_key(source: str, number: str) -> str:
    """The order's idempotency key: the same source number from the same system is one order,
    whichever file (or how many times) it comes in."""
    digest = hashlib.sha256(f"{source}\x00{number}".encode()).hexdigest()
    return KEY_PREFIX + digest[: 64 - len(KEY_PREFIX)]


@dataclass
class Planned:
    row: int
    number: str
    key: str
    category: CategoryFacts
    place_id: int | None
    address: str
    description: str
    urgency: str
    channel: str
    status: str
    result: str
    reporter_name: str
    phone: str
    technician: Person | None
    unknown_technician: str
    dispatcher: Person | None
    agent: Person | None
    times: dict[str, datetime]  # reported_at and every step time the source gives
    due_at: datetime | None
    rating: int | None
    rating_comment: str
    completion_note: str
    reason: str
    remarks: str
    ended_at: datetime | None = None  # rejected or cancelled: when
    auto_confirmed_at: datetime | None = None

    @property
    def reported_at(self) -> datetime:
        return self.times["reported_at"]

    @property
    def last_at(self) -> datetime:
        """The last thing that happened to it: its `updated_at`."""
        moments = [*self.times.values(), self.ended_at, self.auto_confirmed_at]
        return max(m for m in moments if m is not None)


def _iso_shape(fmt: str):
    """A parser for formats datetime.fromisoformat reads exactly (much faster than strptime),
    or None. The length check keeps it as strict as strptime with the same format."""
    shapes = {
        "%Y-%m-%d %H:%M:%S": 19,
        "%Y-%m-%dT%H:%M:%S": 19,
        "%Y-%m-%d %H:%M": 16,
        "%Y-%m-%dT%H:%M": 16,
        "%Y-%m-%d": 10,
    }
    length = shapes.get(fmt)
    if length is None:
        return None

    def parse(text: str) -> datetime:
        if len(text) != length:
            raise ValueError(text)
        return datetime.fromisoformat(text)

    return parse


class Converter:
    def __init__(self, mapping: Mapping, lookups: Lookups, positions: dict[str, int], *, now=None):
        self.mapping = mapping
        self.lookups = lookups
        self.positions = positions
        self.zone = mapping.zone
        self.now = now or timezone.now()
        days = getattr(settings, "FEEDBACK_AUTO_CONFIRM_DAYS", None)
        self.auto_confirm = timedelta(days=days) if days else None
        self.fields = mapping.fields
        # Per field: (cell index or None, value map, default) — looked up once, not per row.
        self.cols: dict[str, tuple[int | None, dict[str, str], str]] = {
            name: (positions[fm.column] if fm.column else None, fm.values, fm.default or "")
            for name, fm in mapping.fields.items()
        }
        self.codes: dict[str, dict[str, str]] = {
            name: {
                text: code
                for code, label in SPECS[name].choices.choices
                for text in (code, str(label))
            }
            for name, fm in mapping.fields.items()
            if fm.spec.kind == CHOICE
        }
        self.parsers: dict[str, list] = {}
        for name, fm in mapping.fields.items():
            if fm.spec.kind == TIME:
                self.parsers[name] = [(fmt, _iso_shape(fmt)) for fmt in fm.formats]

    # --- cells ------------------------------------------------------------------------------

    def raw(self, cells: list[Any], name: str) -> Any:
        col = self.cols.get(name)
        if col is None or col[0] is None:
            return None
        i = col[0]
        return cells[i] if i < len(cells) else None

    def text(self, cells: list[Any], name: str) -> str:
        """The cell as text, through the value map, or the default when it is empty."""
        col = self.cols.get(name)
        if col is None:
            return ""
        i, values, default = col
        value = cells[i] if i is not None and i < len(cells) else None
        value = value.strip() if type(value) is str else cell_text(value)
        if values:
            value = values.get(value, value)
        return value or default

    def number_of(self, cells: list[Any]) -> str:
        try:
            return self.text(cells, "number")[:MAX_NUMBER]
        except Exception:  # the number is only a label on a rejected row
            return ""

    def _choice(self, cells, name: str) -> str:
        value = self.text(cells, name)
        if not value:
            return ""
        code = self.codes[name].get(value)
        if code is None:
            raise RowError(
                _("未知的%(label)s“%(value)s”，请在映射文件中为它写值映射。")
                % {"label": SPECS[name].label, "value": value}
            )
        return code

    def _time(self, cells, name: str) -> datetime | None:
        fm = self.fields.get(name)
        if fm is None:
            return None
        raw = self.raw(cells, name)
        if isinstance(raw, datetime):  # an Excel date cell
            value = raw
        else:
            text = self.text(cells, name)
            if not text:
                return None
            value = self._parse_time(text, name, fm)
        if timezone.is_naive(value):
            value = value.replace(tzinfo=self.zone)
        return value

    def _parse_time(self, text: str, name: str, fm: FieldMap) -> datetime:
        for fmt, fast in self.parsers[name]:
            try:
                if fmt == ISO:
                    return datetime.fromisoformat(text)
                if fast is not None:
                    try:
                        return fast(text)
                    except ValueError:
                        pass
                return datetime.strptime(text, fmt)
            except ValueError:
                continue
        raise RowError(
            _("%(label)s“%(value)s”不是有效的时间（应为 %(formats)s）。")
            % {"label": fm.label, "value": text, "formats": _(" 或 ").join(fm.formats)}
        )

    def _plain(self, cells, name: str, *, limit: int = MAX_TEXT, required: bool = False) -> str:
        value = self.text(cells, name)
        label = SPECS[name].label
        if required and not value:
            raise RowError(_("缺少%(label)s。") % {"label": label})
        if len(value) > limit:
            raise RowError(_("%(label)s过长：最多 %(max)d 个字。") % {"label": label, "max": limit})
        return value

    # --- one row ----------------------------------------------------------------------------

    def convert(self, row: int, cells: list[Any]) -> Planned | None:
        """The order a row describes; None for an empty row; RowError when it cannot be."""
        if cells and isinstance(cells[0], CsvError):
            raise RowError(_("这一行不是有效的 CSV 记录：%(error)s") % {"error": cells[0]})
        texts = "".join(c for c in cells if type(c) is str)
        if not texts.strip() and not any(cell_text(c) for c in cells):
            return None
        if "\ufffd" in texts or "\x00" in texts:
            raise RowError(
                _("这一行含有无法按 %(encoding)s 读取的字符，请检查文件编码。")
                % {"encoding": self.mapping.encoding_name}
            )
        number = self._plain(cells, "number", limit=MAX_NUMBER, required=True)
        fm = self.fields
        category = self.lookups.category(
            self._plain(cells, "category", required=True), fm["category"]
        )
        place_id = None
        place_text = self._plain(cells, "place") if "place" in fm else ""
        if place_text:
            place_id = self.lookups.place(place_text, fm["place"])
        address = self._plain(cells, "address")
        if place_id is None and not address:
            raise RowError(_("缺少报修地点或详细地址。"))
        description = self._plain(cells, "description", limit=MAX_DESCRIPTION, required=True)
        reporter_name = self._plain(cells, "reporter_name", limit=MAX_NAME, required=True)
        raw_phone = self._plain(cells, "reporter_phone", required=True)
        try:
            phone = normalize_phone(raw_phone)
        except ValidationError as exc:
            raise RowError(
                _("联系电话“%(value)s”：%(problem)s")
                % {"value": raw_phone, "problem": exc.messages[0]}
            ) from None
        channel = self._choice(cells, "channel")
        if not channel:
            raise RowError(_("缺少报修渠道。"))
        status = self._choice(cells, "status")
        if not status:
            raise RowError(_("缺少工单状态。"))
        urgency = self._choice(cells, "urgency") or category.default_urgency

        times: dict[str, datetime] = {}
        reported = self._time(cells, "reported_at")
        if reported is None:
            raise RowError(_("缺少报修时间。"))
        times["reported_at"] = reported
        for name in STEPS:
            value = self._time(cells, name)
            if value is not None:
                times[name] = value
        due_at = self._time(cells, "due_at")

        technician, unknown = None, ""
        tech_text = self._plain(cells, "technician") if "technician" in fm else ""
        if tech_text:
            technician = self.lookups.person(tech_text, fm["technician"])
            if technician is None:
                unknown = tech_text
        dispatcher = self._person(cells, "dispatcher")
        agent = self._person(cells, "agent") if channel in DESK else None

        plan = Planned(
            row=row,
            number=number,
            key=import_key(self.mapping.source, number),
            category=category,
            place_id=place_id,
            address=address,
            description=description,
            urgency=urgency,
            channel=channel,
            status=status,
            result="",
            reporter_name=reporter_name,
            phone=phone,
            technician=technician,
            unknown_technician=unknown,
            dispatcher=dispatcher,
            agent=agent,
            times=times,
            due_at=due_at,
            rating=None,
            rating_comment=self._plain(cells, "rating_comment"),
            completion_note=self._plain(cells, "completion_note"),
            reason=self._plain(cells, "reason"),
            remarks=self._plain(cells, "remarks"),
        )
        self._lifecycle(plan, cells)
        return plan

    def _person(self, cells, name: str) -> Person | None:
        if name not in self.fields:
            return None
        value = self._plain(cells, name)
        return self.lookups.person(value, self.fields[name]) if value else None

    def _lifecycle(self, plan: Planned, cells) -> None:
        """The state decides which steps happened; refuse what the lifecycle cannot produce."""
        status = Status(plan.status)
        times = plan.times
        label = status.label
        if status in ENDED and "closed_at" in times:
            plan.ended_at = times.pop("closed_at")
        reached = REACHED[status]
        for name in STEPS[reached:]:
            if name in times:
                raise RowError(
                    _("状态为“%(status)s”的工单不应有%(field)s。")
                    % {"status": label, "field": SPECS[name].label}
                )
        if status in WITH_TECHNICIAN and plan.technician is None:
            raise RowError(
                _("状态为“%(status)s”的工单必须有维修人员，但没有找到“%(value)s”。")
                % {"status": label, "value": plan.unknown_technician}
                if plan.unknown_technician
                else _("状态为“%(status)s”的工单必须有维修人员。") % {"status": label}
            )
        if status in (Status.COMPLETED, Status.CLOSED):
            if "completed_at" not in times:
                raise RowError(_("状态为“%(status)s”的工单缺少完成时间。") % {"status": label})
            plan.result = self._choice(cells, "result") or Result.SUCCESS
            if status is Status.CLOSED and "closed_at" not in times:
                # The source kept no closing time: closed when completed (docs/import.md).
                times["closed_at"] = times["completed_at"]
        rating_text = self.text(cells, "rating") if "rating" in self.fields else ""
        if rating_text:
            if rating_text not in {"1", "2", "3", "4", "5"}:
                raise RowError(
                    _("评分必须是 1 到 5 的整数，而不是“%(value)s”。") % {"value": rating_text}
                )
            if status is not Status.CLOSED:
                raise RowError(
                    _("只有已关闭的工单才有评分，这张工单的状态是“%(status)s”。")
                    % {"status": label}
                )
            plan.rating = int(rating_text)
        # The steps' times must follow each other (a missing step is skipped).
        order = [("reported_at", times["reported_at"])]
        order += [(name, times[name]) for name in STEPS if name in times]
        if plan.ended_at is not None:
            order.append(("closed_at", plan.ended_at))
        for (a, at), (b, bt) in pairwise(order):
            if bt < at:
                raise RowError(
                    _("%(later)s（%(b)s）早于%(earlier)s（%(a)s）。")
                    % {
                        "later": SPECS[b].label,
                        "b": _local(bt),
                        "earlier": SPECS[a].label,
                        "a": _local(at),
                    }
                )
        last_name, last = order[-1]
        if last > self.now:
            raise RowError(
                _("%(field)s（%(time)s）在将来：只能导入已经发生的事。")
                % {"field": SPECS[last_name].label, "time": _local(last)}
            )
        if plan.due_at is not None and plan.due_at < times["reported_at"]:
            raise RowError(_("完成时限早于报修时间。"))
        # What the lifecycle would have done meanwhile: an unanswered completion is confirmed
        # automatically after FEEDBACK_AUTO_CONFIRM_DAYS (feedback/services/ratings.py).
        if status is Status.COMPLETED and self.auto_confirm is not None:
            due = times["completed_at"] + self.auto_confirm
            if due <= self.now:
                plan.status = Status.CLOSED
                plan.auto_confirmed_at = due
                times["closed_at"] = due


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
