"""Categories, places and staff as the rows name them, loaded once per import (a few thousand
rows at most), so no row costs a query.

Retired categories, places and people are found too: history refers to what existed then.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from repairhub.accounts.models import RoleGrant, User
from repairhub.accounts.roles import Role
from repairhub.lib.crypto import blind_index
from repairhub.lib.phones import normalize_phone
from repairhub.places.models import Place
from repairhub.workorders.errors import InvalidInput
from repairhub.workorders.models import Category

from .mapping import CATEGORY, PERSON, PLACE, FieldMap, Mapping

# Who may stand in each person field: the roles that do that work in RepairHub.
PERSON_ROLES = {
    "technician": (Role.TECHNICIAN, Role.EXPERT),
    "dispatcher": (Role.DISPATCHER, Role.TEAM_LEAD, Role.MANAGER, Role.ADMIN),
    "agent": (Role.AGENT, Role.DISPATCHER, Role.ADMIN),
}


class RowError(Exception):
    """Why one row cannot be imported (a Chinese sentence for the rejects file)."""


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    name: str
    roles: frozenset[str]


@dataclass(frozen=True)
class CategoryFacts:
    id: int
    code: str
    default_urgency: str


def _parts(value: str, separator: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in value.split(separator) if p.strip())


class Lookups:
    def __init__(self) -> None:
        self.categories: dict[str, CategoryFacts] = {}
        self.category_names: dict[str, list[CategoryFacts]] = defaultdict(list)
        for cat in Category.objects.select_related("parent"):
            facts = CategoryFacts(cat.pk, cat.code, cat.default_urgency)
            self.categories[cat.code] = facts
            self.category_names[cat.name.strip()].append(facts)
            if cat.parent_id:
                # "水电/灯具" and "水电 → 灯具" (how RepairHub shows it) name the child alone.
                for sep in ("/", "→"):
                    key = sep.join((cat.parent.name.strip(), cat.name.strip()))
                    self.category_names[key].append(facts)
        self.place_codes: dict[str, int] = {}
        self.place_code_of: dict[int, str] = {}
        # Names from the campus down, each skipped level allowed ("东校区/3号楼/201" for a room
        # on a floor): a key that fits several places is ambiguous and refused.
        self.place_paths: dict[tuple[str, ...], list[int]] = defaultdict(list)
        names: dict[str, str] = {}
        places = list(Place.objects.values_list("pk", "code", "path", "name"))
        for _pk, code, _path, name in places:
            names[code] = name.strip()
        for pk, code, path, _name in places:
            self.place_codes[code] = pk
            self.place_code_of[pk] = code
            chain = [names.get(c, c) for c in path.split("/")]
            middle = chain[1:-1]
            for n in range(len(middle) + 1):
                for kept in combinations(middle, n):
                    key = (chain[0], *kept, chain[-1]) if len(chain) > 1 else (chain[0],)
                    self.place_paths[key].append(pk)
        self.people: dict[str, Person] = {}
        self.phones: dict[str, list[Person]] = defaultdict(list)
        roles: dict[int, set[str]] = defaultdict(set)
        staff = {r for rs in PERSON_ROLES.values() for r in rs}
        for user_id, role in RoleGrant.objects.filter(role__in=staff).values_list("user", "role"):
            roles[user_id].add(role)
        for user in User.objects.filter(pk__in=list(roles)).only(
            "pk", "username", "display_name", "phone_index"
        ):
            person = Person(
                user.pk,
                user.username,
                user.display_name or user.username,
                frozenset(roles[user.pk]),
            )
            self.people[user.username] = person
            if user.phone_index:
                self.phones[user.phone_index].append(person)

    # --- one value each ---------------------------------------------------------------------

    def category(self, value: str, fm: FieldMap) -> CategoryFacts:
        if fm.match == "code":
            facts = self.categories.get(value)
            if facts is None:
                raise RowError(_("未知的报修类别编码“%(value)s”。") % {"value": value})
            return facts
        found = self.category_names.get(value.replace(" ", "")) or self.category_names.get(value)
        if not found:
            raise RowError(_("未知的报修类别“%(value)s”。") % {"value": value})
        if len(found) > 1:
            raise RowError(
                _("报修类别名称“%(value)s”对应多个类别，请写成“上级/类别”或在映射中改用编码。")
                % {"value": value}
            )
        return found[0]

    def place(self, value: str, fm: FieldMap) -> int:
        if fm.match == "code":
            pk = self.place_codes.get(value)
            if pk is None:
                raise RowError(_("未知的地点编码“%(value)s”。") % {"value": value})
            return pk
        found = self.place_paths.get(_parts(value, fm.separator))
        if not found:
            raise RowError(_("未知的地点“%(value)s”。") % {"value": value})
        if len(set(found)) > 1:
            raise RowError(
                _("地点“%(value)s”对应多个地点，请写出完整路径（校区/楼宇/楼层/房间）。")
                % {"value": value}
            )
        return found[0]

    def person(self, value: str, fm: FieldMap) -> Person | None:
        """The staff member a cell names, or None when nobody with the role matches."""
        wanted = PERSON_ROLES[fm.name]
        if fm.match == "phone":
            try:
                index = blind_index(normalize_phone(value))
            except ValidationError:
                return None
            people = [p for p in self.phones.get(index, ()) if p.roles.intersection(wanted)]
            return people[0] if len(people) == 1 else None
        person = self.people.get(value)
        if person is None or not person.roles.intersection(wanted):
            return None
        return person

    # --- the mapping's own targets ----------------------------------------------------------

    def check(self, mapping: Mapping) -> None:
        """Every category and place a value map or default points at exists: a typo there
        would reject every row that uses it, so it stops the import before any row is read."""
        for fm in mapping.fields.values():
            kind = fm.spec.kind
            if kind not in (CATEGORY, PLACE, PERSON):
                continue
            targets = [*fm.values.values(), *([fm.default] if fm.default else [])]
            for target in targets:
                try:
                    if kind == CATEGORY:
                        self.category(target, fm)
                    elif kind == PLACE:
                        self.place(target, fm)
                    elif self.person(target, fm) is None:
                        raise RowError(
                            _("没有找到%(label)s“%(value)s”。")
                            % {"label": fm.label, "value": target}
                        )
                except RowError as exc:
                    raise InvalidInput(
                        _("映射文件有误：[fields.%(name)s] 的值映射或默认值：%(problem)s")
                        % {"name": fm.name, "problem": exc},
                        code="mapping",
                    ) from None
