"""Personas and make_* factories shared by all tests. Set-up goes through services."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count

from repairhub.accounts.models import Team, User
from repairhub.accounts.roles import Role
from repairhub.accounts.services import create_user
from repairhub.places.models import Asset, Place, PlaceKind
from repairhub.places.services import create_asset
from repairhub.workorders.actors import SYSTEM
from repairhub.workorders.models import Category, Channel, WorkOrder
from repairhub.workorders.services import create_order
from repairhub.workorders.states import Status
from repairhub.workorders.walks import walk_to

_seq = count(1)


def make_user(
    username: str | None = None, *roles: str, team: Team | None = None, phone: str = ""
) -> User:
    username = username or f"user{next(_seq)}"
    return create_user(
        username,
        password="pass-" + username,
        roles=roles or (Role.REPORTER,),
        display_name=username,
        team=team,
        phone=phone,
    )


def make_category(code: str = "lamp", *, parent: Category | None = None, **kw) -> Category:
    if parent is None and code != "power":
        parent, _ = Category.objects.get_or_create(code="power", defaults={"name": "水电"})
    defaults = {"name": kw.pop("name", code), "parent": parent, **kw}
    cat, _ = Category.objects.update_or_create(code=code, defaults=defaults)
    return cat


def make_room(code: str = "E03-201") -> Place:
    campus, _ = Place.objects.get_or_create(
        code="E", defaults={"kind": PlaceKind.CAMPUS, "name": "东校区"}
    )
    building, _ = Place.objects.get_or_create(
        code="E03",
        defaults={
            "kind": PlaceKind.BUILDING,
            "name": "3号楼",
            "parent": campus,
            "latitude": "30.500000",
            "longitude": "114.400000",
        },
    )
    floor, _ = Place.objects.get_or_create(
        code="E03-2F", defaults={"kind": PlaceKind.FLOOR, "name": "2层", "parent": building}
    )
    room, _ = Place.objects.get_or_create(
        code=code, defaults={"kind": PlaceKind.ROOM, "name": code.split("-")[-1], "parent": floor}
    )
    return room


def make_asset(
    code: str = "E03-201-AC2",
    *,
    name: str = "2号空调",
    place: Place | None = None,
    category: Category | None = None,
    **kw,
) -> Asset:
    """An asset registered through the service; by default 2号空调 in room E03-201."""
    return create_asset(code=code, name=name, place=place or make_room(), category=category, **kw)


def make_ac_category() -> Category:
    """空调暖通 → 空调, the category air conditioners usually get."""
    hvac, _ = Category.objects.get_or_create(code="hvac", defaults={"name": "空调暖通"})
    return make_category("ac", parent=hvac, name="空调")


@dataclass
class World:
    reporter: User
    reporter2: User
    agent: User
    dispatcher: User
    technician: User
    technician2: User
    team_lead: User
    expert: User
    qc_inspector: User
    storekeeper: User
    manager: User
    admin: User
    partner: User
    team: Team
    category: Category
    room: Place

    def order(
        self,
        status: str = Status.SUBMITTED,
        *,
        reporter: User | None = None,
        technician: User | None = None,
        **kw,
    ) -> WorkOrder:
        return make_order(
            self,
            status,
            reporter=reporter or self.reporter,
            technician=technician or self.technician,
            **kw,
        )


def make_world() -> World:
    team = Team.objects.create(code="power-a", name="水电一班")
    lead = make_user("team_lead", Role.TEAM_LEAD, Role.TECHNICIAN, team=team)
    team.lead = lead
    team.save()
    return World(
        reporter=make_user("reporter", Role.REPORTER, phone="13800001111"),
        reporter2=make_user("reporter2", Role.REPORTER, phone="13800002222"),
        agent=make_user("agent", Role.AGENT),
        dispatcher=make_user("dispatcher", Role.DISPATCHER),
        technician=make_user("technician", Role.TECHNICIAN, team=team, phone="13900003333"),
        technician2=make_user("technician2", Role.TECHNICIAN),
        team_lead=lead,
        expert=make_user("expert", Role.EXPERT),
        qc_inspector=make_user("qc_inspector", Role.QC_INSPECTOR),
        storekeeper=make_user("storekeeper", Role.STOREKEEPER),
        manager=make_user("manager", Role.MANAGER),
        admin=make_user("admin", Role.ADMIN),
        partner=make_user("partner", Role.PARTNER),
        team=team,
        category=make_category("lamp", name="灯具"),
        room=make_room(),
    )


def make_order(
    world: World,
    status: str = Status.SUBMITTED,
    *,
    reporter: User | None = None,
    technician: User | None = None,
    channel: str = Channel.WEB,
    **kw,
) -> WorkOrder:
    """An order in the given state, brought there through the real services."""
    technician = technician or world.technician
    order, _ = create_order(
        category=kw.pop("category", world.category),
        place=kw.pop("place", world.room),
        description=kw.pop("description", "宿舍灯管不亮"),
        reporter_name=kw.pop("reporter_name", reporter.username if reporter else "张三"),
        reporter_phone=kw.pop("reporter_phone", "13800001111"),
        channel=channel,
        reporter=reporter,
        by=reporter or SYSTEM,
        **kw,
    )
    walk_to(
        order,
        status,
        actors={"agent": world.agent, "dispatcher": world.dispatcher},
        technician=technician,
    )
    assert order.status == status, (order.status, status)
    return order
