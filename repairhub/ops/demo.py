"""Demo data: a small university campus in Wuhan with people for every role and orders in every
state, all made through the real services (so every order has its events and receipts).

Loaded only into a database without work orders; see `repairhub demo --help`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from repairhub.accounts.models import Team, User
from repairhub.accounts.roles import Role
from repairhub.accounts.services import create_user
from repairhub.dispatch.models import DispatchMode, DispatchPolicy, Skill, TechnicianProfile
from repairhub.places.models import Asset, Place, PlaceKind
from repairhub.places.services import create_asset, create_place
from repairhub.sla.models import OrderClock
from repairhub.supervision.models import Reminder
from repairhub.workorders.actors import SYSTEM, LinkHolder
from repairhub.workorders.models import Category, Channel, Event, Result, Urgency, WorkOrder
from repairhub.workorders.services import create_order
from repairhub.workorders.states import Action, Status
from repairhub.workorders.walks import walk_to

DEMO_PASSWORD = "repairhub"

# username, display name, phone, roles, team code
USERS: list[tuple[str, str, str, tuple[str, ...], str | None]] = [
    ("reporter", "李明", "13800001111", (Role.REPORTER,), None),
    ("reporter2", "王芳", "13800002222", (Role.REPORTER,), None),
    ("agent", "赵敏", "13700000001", (Role.AGENT,), None),
    ("agent2", "孙丽", "13700000002", (Role.AGENT,), None),
    ("dispatcher", "周强", "13700000003", (Role.DISPATCHER,), None),
    ("technician", "陈建国", "13900003333", (Role.TECHNICIAN,), "power-a"),
    ("technician2", "刘洋", "13900004444", (Role.TECHNICIAN,), "power-a"),
    ("technician3", "黄海", "13900005555", (Role.TECHNICIAN,), "general"),
    ("team_lead", "张伟", "13900006666", (Role.TEAM_LEAD, Role.TECHNICIAN), "power-a"),
    ("expert", "吴志刚", "13900007777", (Role.EXPERT,), "general"),
    ("storekeeper", "郑霞", "13700000004", (Role.STOREKEEPER,), None),
    ("qc_inspector", "冯涛", "13700000005", (Role.QC_INSPECTOR,), None),
    ("manager", "何静", "13700000006", (Role.MANAGER,), None),
    ("admin", "系统管理员", "13700000007", (Role.ADMIN,), None),
    ("partner", "后勤服务平台", "", (Role.PARTNER,), None),
]

TEAMS = [("power-a", "水电一班", "team_lead"), ("general", "综合维修班", None)]

# code, name, latitude, longitude, buildings: (code, name, lat, lng, floors, rooms per floor)
CAMPUSES = [
    (
        "E",
        "东校区",
        "30.513500",
        "114.413500",
        [
            ("E01", "1号学生公寓", "30.514800", "114.411200", 4, 6),
            ("E03", "3号楼", "30.512900", "114.415000", 3, 5),
            ("E05", "图书馆", "30.512100", "114.412800", 3, 4),
        ],
    ),
    (
        "W",
        "西校区",
        "30.506000",
        "114.388000",
        [
            ("W02", "西区2号公寓", "30.507100", "114.386600", 4, 6),
            ("W06", "实验楼", "30.505200", "114.390200", 3, 5),
            ("W08", "西区食堂", "30.504600", "114.387400", 2, 4),
        ],
    ),
]

# (code, name, options, children: (code, name, options))
CATEGORIES: list[tuple[str, str, dict, list[tuple[str, str, dict]]]] = [
    (
        "power",
        "水电",
        {},
        [
            ("lamp", "灯具", {}),
            ("socket", "开关插座", {}),
            ("pipe-leak", "水管漏水", {"auto_accept": True, "default_urgency": Urgency.HIGH}),
            ("drain", "下水道堵塞", {}),
        ],
    ),
    ("door", "门窗", {}, [("lock", "门锁", {}), ("window", "窗户玻璃", {})]),
    (
        "furniture",
        "家具",
        {},
        [
            ("bed", "床铺", {"default_urgency": Urgency.LOW}),
            ("desk", "桌椅", {"default_urgency": Urgency.LOW}),
        ],
    ),
    ("hvac", "空调暖通", {}, [("ac", "空调", {}), ("heating", "暖气", {})]),
    ("network", "网络", {}, [("campus-net", "校园网", {})]),
    ("appliance", "家电维修", {"is_paid": True}, [("washer", "洗衣机", {"is_paid": True})]),
    (
        "inspection",
        "内部巡检",
        {"reporter_selectable": False},
        [("patrol", "设施巡检", {"reporter_selectable": False})],
    ),
]


# The asset register. Nameplates (model, installed on) shared by units bought together:
GREE_72 = ("格力 KFR-72LW", date(2019, 6, 3))
MIDEA_35 = ("美的 KFR-35GW", date(2021, 9, 5))
HAIER_100 = ("海尔 XQG100", date(2020, 3, 18))
SWAN_100 = ("小天鹅 TG100", date(2018, 11, 9))
# code, name, place, usual category, nameplate, serial
ASSETS: list[tuple[str, str, str, str, tuple[str, date], str]] = [
    ("W06-305-AC1", "1号空调", "W06-305", "ac", GREE_72, "GR72LW19060311"),
    ("W06-305-AC2", "2号空调", "W06-305", "ac", GREE_72, "GR72LW19060312"),
    ("W06-201-AC1", "1号空调", "W06-201", "ac", MIDEA_35, "MD35GW21090507"),
    ("W06-104-AC1", "1号空调", "W06-104", "ac", MIDEA_35, "MD35GW21090508"),
    ("E01-102-WM2", "2号洗衣机", "E01-102", "washer", HAIER_100, "HR100BD20031802"),
    ("W02-102-WM1", "1号洗衣机", "W02-102", "washer", SWAN_100, "LS100V18110920"),
]


@dataclass(frozen=True)
class DemoOrder:
    status: str
    channel: str
    category: str
    room: str
    description: str
    reporter: str | None = None  # demo username; None: someone without an account
    name: str = ""
    phone: str = ""
    technician: str = "technician"
    result: str = Result.SUCCESS
    rating: int | None = None
    comment: str = ""
    urgency: str | None = None
    texts: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Hours ago the order came in, so the SLA board has late and nearly late orders to show.
    # Only for urgencies on the 24x7 calendar, where moving a clock by hours is exact.
    age_hours: float = 0
    asset: str = ""  # code from ASSETS, at `room`


S, CH = Status, Channel
ORDERS: list[DemoOrder] = [
    DemoOrder(S.SUBMITTED, CH.WEB, "lamp", "E01-305", "宿舍顶灯闪烁，晚上无法看书。", "reporter"),
    DemoOrder(
        S.SUBMITTED,
        CH.QR,
        "drain",
        "W02-103",
        "卫生间地漏堵塞，积水漫到门口。",
        None,
        "周同学",
        "13612345678",
    ),
    DemoOrder(
        S.SUBMITTED,
        CH.PARTNER,
        "washer",
        "E01-102",
        "一楼洗衣房 2 号洗衣机不脱水，显示 E4。",
        None,
        "后勤服务平台转单",
        "13512340000",
        asset="E01-102-WM2",
    ),
    DemoOrder(
        S.ACCEPTED,
        CH.PHONE,
        "socket",
        "E03-204",
        "教室讲台插座没电，投影仪无法使用。",
        None,
        "郭老师",
        "02787541234",
    ),
    DemoOrder(
        S.ACCEPTED, CH.WEB, "campus-net", "E05-301", "三楼自习区无线网络经常掉线。", "reporter2"
    ),
    DemoOrder(
        S.ACCEPTED,
        CH.QR,
        "pipe-leak",
        "W06-202",
        "实验室水槽下方水管接口漏水。",
        None,
        "实验员 严工",
        "13787654321",
    ),
    DemoOrder(
        S.REJECTED,
        CH.WEB,
        "desk",
        "E01-401",
        "想把宿舍的书桌换成更大的。",
        "reporter",
        texts={Action.REJECT: {"reason": "更换家具规格不属于维修范围，请向宿管中心申请。"}},
    ),
    DemoOrder(
        S.REJECTED,
        CH.PARTNER,
        "ac",
        "W08-101",
        "食堂空调不够凉，希望加装一台。",
        None,
        "后勤服务平台转单",
        "13512340000",
        texts={Action.REJECT: {"reason": "加装设备需走基建审批流程。"}},
    ),
    DemoOrder(
        S.DISPATCHED,
        CH.WALK_IN,
        "lock",
        "W02-305",
        "宿舍门锁锁芯卡死，钥匙拧不动。",
        None,
        "吴同学",
        "13698765432",
        technician="technician2",
    ),
    DemoOrder(
        S.DISPATCHED,
        CH.WEB,
        "window",
        "E01-203",
        "阳台窗户玻璃裂了一道缝。",
        "reporter2",
        technician="technician3",
    ),
    DemoOrder(
        S.ACKNOWLEDGED,
        CH.PHONE,
        "heating",
        "E03-101",
        "一楼办公室暖气片不热。",
        None,
        "办公室 许老师",
        "02787540001",
        technician="technician",
    ),
    DemoOrder(
        S.ACKNOWLEDGED,
        CH.QR,
        "bed",
        "W02-204",
        "上铺床梯螺丝松动，踩上去晃。",
        None,
        "马同学",
        "13811112222",
        technician="technician3",
    ),
    DemoOrder(
        S.IN_PROGRESS,
        CH.WEB,
        "ac",
        "E05-201",
        "二楼阅览室空调滴水。",
        "reporter",
        technician="expert",
        urgency=Urgency.HIGH,
        age_hours=19,
    ),
    DemoOrder(
        S.IN_PROGRESS,
        CH.WALK_IN,
        "lamp",
        "W06-101",
        "走廊灯全部不亮。",
        None,
        "保安 刘师傅",
        "13822223333",
        technician="technician2",
    ),
    DemoOrder(
        S.IN_PROGRESS,
        CH.PHONE,
        "pipe-leak",
        "W08-201",
        "二楼后厨水管爆裂，地面大量积水。",
        None,
        "食堂 何经理",
        "13833334444",
        technician="team_lead",
        urgency=Urgency.CRITICAL,
        age_hours=10,
    ),
    DemoOrder(
        S.ON_HOLD,
        CH.WEB,
        "washer",
        "W02-101",
        "洗衣机进水阀坏了，一直进水。",
        "reporter2",
        technician="technician3",
        texts={Action.HOLD: {"reason": "进水阀需向厂家订货，预计 3 天到货"}},
    ),
    DemoOrder(
        S.ON_HOLD,
        CH.QR,
        "campus-net",
        "E01-206",
        "宿舍网口没有信号。",
        None,
        "林同学",
        "13844445555",
        technician="expert",
        texts={Action.HOLD: {"reason": "需网络中心配合检查交换机端口"}},
    ),
    DemoOrder(
        S.COMPLETED,
        CH.WEB,
        "socket",
        "E01-304",
        "宿舍插座冒火花，已经拉闸。",
        "reporter",
        # The panel was burnt by an overloaded power strip: the part is charged (收费).
        texts={Action.COMPLETE: {"note": "更换烧毁插座面板，线路绝缘检测正常。", "fee": "45"}},
    ),
    DemoOrder(
        S.COMPLETED,
        CH.PHONE,
        "drain",
        "E03-301",
        "三楼卫生间小便池堵塞。",
        None,
        "保洁 陈阿姨",
        "13855556666",
        technician="technician2",
        texts={Action.COMPLETE: {"note": "疏通管道，清出异物。"}},
    ),
    DemoOrder(
        S.COMPLETED,
        CH.WEB,
        "ac",
        "W06-305",
        "实验室空调不制冷，压缩机不启动。",
        "reporter2",
        technician="expert",
        result=Result.FAILED,
        asset="W06-305-AC2",
        texts={
            Action.COMPLETE: {
                "note": "压缩机烧毁，已断电。",
                "suggestion": "压缩机已报废，建议申请更换整机，临时可使用移动空调。",
            }
        },
    ),
    DemoOrder(
        S.COMPLETED,
        CH.PARTNER,
        "washer",
        "W02-102",
        "洗衣机滚筒异响。",
        None,
        "后勤服务平台转单",
        "13512340000",
        technician="technician3",
        result=Result.FAILED,
        asset="W02-102-WM1",
        texts={
            Action.COMPLETE: {
                "note": "轴承损坏，本机型配件已停产。",
                "suggestion": "建议联系洗衣机运营商更换新机。",
            }
        },
    ),
    DemoOrder(
        S.CLOSED,
        CH.WEB,
        "lamp",
        "E01-101",
        "宿舍台灯插座接触不良。",
        "reporter",
        rating=5,
        comment="师傅来得很快，态度很好！",
        texts={Action.COMPLETE: {"note": "更换插座，测试正常。"}},
    ),
    DemoOrder(
        S.CLOSED,
        CH.QR,
        "lock",
        "E05-102",
        "图书馆储物柜锁打不开。",
        None,
        "钱同学",
        "13866667777",
        technician="technician2",
        rating=4,
        comment="修好了，就是等得有点久。",
        texts={Action.COMPLETE: {"note": "更换锁芯。"}},
    ),
    DemoOrder(
        S.CLOSED,
        CH.WEB,
        "heating",
        "W02-402",
        "暖气片阀门漏水。",
        "reporter2",
        technician="team_lead",
        rating=3,
        comment="漏水修好了，地面没有清理。",
        texts={Action.COMPLETE: {"note": "更换阀门密封圈。"}},
    ),
    DemoOrder(
        S.CLOSED,
        CH.PHONE,
        "window",
        "W06-201",
        "实验楼二楼窗户关不上。",
        None,
        "实验员 严工",
        "13787654321",
        technician="technician3",
        texts={
            Action.COMPLETE: {"note": "调整合页并加润滑。"},
            Action.CLOSE: {"note": "电话回访，报修人确认已修好。"},
        },
    ),
    DemoOrder(
        S.CLOSED,
        CH.QR,
        "ac",
        "W06-305",
        "2号空调室内机漏水，滴到实验台上。",
        None,
        "实验员 严工",
        "13787654321",
        technician="technician2",
        asset="W06-305-AC2",
        texts={
            Action.COMPLETE: {"note": "疏通冷凝水管，更换排水管保温套。"},
            Action.CLOSE: {"note": "电话回访，实验员确认不再漏水。"},
        },
    ),
    DemoOrder(
        S.CLOSED,
        CH.WALK_IN,
        "desk",
        "E03-105",
        "教室椅子腿断了两把。",
        None,
        "教务 邓老师",
        "13877778888",
        technician="technician3",
        texts={Action.COMPLETE: {"note": "焊接椅腿，加固处理。"}},
    ),
    DemoOrder(
        S.CANCELLED,
        CH.WEB,
        "lamp",
        "E01-305",
        "宿舍顶灯不亮（重复提交）。",
        "reporter",
        texts={Action.CANCEL: {"reason": "与前一张报修单重复。"}},
    ),
    DemoOrder(
        S.CANCELLED,
        CH.QR,
        "bed",
        "W02-303",
        "床板有裂缝。",
        None,
        "宋同学",
        "13888889999",
        texts={Action.CANCEL: {"reason": "报修人来电说明已自行处理。"}},
    ),
]


@dataclass
class DemoResult:
    loaded: bool
    reason: str  # loaded | has_orders | not_empty | conflict
    message: str
    counts: dict[str, int] = field(default_factory=dict)


def database_is_empty() -> bool:
    return not (
        WorkOrder.objects.exists()
        or User.objects.exists()
        or Place.objects.exists()
        or Category.objects.exists()
    )


def demo_present() -> bool:
    """Whether this database holds the demo accounts (so their logins are worth printing)."""
    return User.objects.filter(username="admin", email="admin@demo.repairhub.local").exists()


def _conflicts() -> list[str]:
    found = [
        f"user {u}"
        for u in User.objects.filter(username__in=[u[0] for u in USERS]).values_list(
            "username", flat=True
        )
    ]
    codes = [c[0] for c in CAMPUSES] + [b[0] for c in CAMPUSES for b in c[4]]
    found += [
        f"place {c}" for c in Place.objects.filter(code__in=codes).values_list("code", flat=True)
    ]
    cats = [c[0] for c in CATEGORIES] + [k[0] for c in CATEGORIES for k in c[3]]
    found += [
        f"category {c}"
        for c in Category.objects.filter(code__in=cats).values_list("code", flat=True)
    ]
    found += [
        f"team {c}"
        for c in Team.objects.filter(code__in=[t[0] for t in TEAMS]).values_list("code", flat=True)
    ]
    found += [
        f"asset {c}"
        for c in Asset.objects.filter(code__in=[a[0] for a in ASSETS]).values_list(
            "code", flat=True
        )
    ]
    return found


def load_demo(*, force: bool = False) -> DemoResult:
    """Load the demo campus. Does nothing (and says why) when the database already has orders;
    without `force` also when it has any users, places or categories."""
    if WorkOrder.objects.exists():
        return DemoResult(False, "has_orders", _("数据库里已有工单，未加载演示数据。"))
    if not force and not database_is_empty():
        return DemoResult(
            False,
            "not_empty",
            _("数据库不是空的（已有用户、地点或类别），未加载演示数据；确需加载请加 --force。"),
        )
    conflicts = _conflicts()
    if conflicts:
        return DemoResult(
            False,
            "conflict",
            _("演示数据与现有数据重名，未加载：%(names)s") % {"names": "、".join(conflicts)},
        )
    with transaction.atomic():
        users = _people()
        _places()
        _categories()
        _assets()
        orders = _orders(users)
        _dispatch(users)
    # The clocks start after the commit above (subscribers), so the ageing comes after it.
    with transaction.atomic():
        for spec, order in zip(ORDERS, orders, strict=True):
            if spec.age_hours:
                _backdate(order, timedelta(hours=spec.age_hours))
    counts = {
        "users": len(users),
        "places": Place.objects.count(),
        "rooms": Place.objects.rooms().count(),
        "categories": Category.objects.count(),
        "assets": Asset.objects.count(),
        "orders": len(orders),
    }
    return DemoResult(True, "loaded", _("演示数据已加载。"), counts)


def _backdate(order: WorkOrder, age: timedelta) -> None:
    """Move an order's history, SLA clocks and reminder back by `age`, as if it had come in
    that long ago."""
    stamps = [
        "created_at",
        "received_at",
        "updated_at",
        "accepted_at",
        "dispatched_at",
        "acknowledged_at",
        "arrived_at",
    ]
    WorkOrder.objects.filter(pk=order.pk).update(**{name: F(name) - age for name in stamps})
    Event.objects.filter(order=order).update(created_at=F("created_at") - age)
    clocks = OrderClock.objects.filter(order=order)
    for name in ("started_at", "due_at", "at_risk_at", "paused_at", "stopped_at"):
        clocks.filter(**{f"{name}__isnull": False}).update(**{name: F(name) - age})
    Reminder.objects.filter(order=order).update(
        started_at=F("started_at") - age, next_at=F("next_at") - age
    )


def _people() -> dict[str, User]:
    teams = {code: Team.objects.create(code=code, name=name) for code, name, _lead in TEAMS}
    users = {}
    for username, display, phone, roles, team in USERS:
        users[username] = create_user(
            username,
            password=DEMO_PASSWORD,
            roles=roles,
            display_name=display,
            phone=phone,
            team=teams[team] if team else None,
            email=f"{username}@demo.repairhub.local",
        )
    for code, _name, lead in TEAMS:
        if lead:
            teams[code].lead = users[lead]
            teams[code].save(update_fields=["lead"])
    return users


# username: (skills as (category code, level), zones, base (lat, lng), working hours)
DISPATCH_PROFILES = {
    "technician": ([("power", 4)], ["E"], ("30.512900", "114.415000"), (0, 0)),
    "technician2": ([("power", 3), ("hvac", 3)], ["W"], ("30.505200", "114.390200"), (0, 0)),
    "technician3": (
        [("door", 4), ("furniture", 4), ("hvac", 2)],
        [],
        ("30.509000", "114.400000"),
        (8, 18),
    ),
    "team_lead": ([("power", 5)], [], ("30.510000", "114.402000"), (8, 18)),
    "expert": (
        [("power", 5), ("hvac", 5), ("appliance", 5)],
        [],
        ("30.509500", "114.401000"),
        (8, 18),
    ),
}
# category code: (mode, team code)
DISPATCH_POLICIES = {
    "power": (DispatchMode.AUTO, None),
    "door": (DispatchMode.ROUND_ROBIN, "general"),
    "furniture": (DispatchMode.POOL, None),
}


def _dispatch(users: dict[str, User]) -> None:
    """Skills, zones, bases and hours for the demo technicians; how categories dispatch."""
    import datetime as dt

    for username, (skills, zones, (lat, lng), (start, end)) in DISPATCH_PROFILES.items():
        profile = TechnicianProfile.objects.create(
            user=users[username],
            base_latitude=lat,
            base_longitude=lng,
            work_start=dt.time(start),
            work_end=dt.time(end),
        )
        profile.zones.set(Place.objects.filter(code__in=zones))
        for code, level in skills:
            Skill.objects.create(
                technician=profile, category=Category.objects.get(code=code), level=level
            )
    for code, (mode, team) in DISPATCH_POLICIES.items():
        DispatchPolicy.objects.create(
            category=Category.objects.get(code=code),
            mode=mode,
            team=Team.objects.get(code=team) if team else None,
        )


def _places() -> None:
    for c_code, c_name, c_lat, c_lng, buildings in CAMPUSES:
        campus = create_place(
            kind=PlaceKind.CAMPUS, code=c_code, name=c_name, latitude=c_lat, longitude=c_lng
        )
        for b_sort, (b_code, b_name, lat, lng, floors, per_floor) in enumerate(buildings):
            building = create_place(
                kind=PlaceKind.BUILDING,
                code=b_code,
                name=b_name,
                parent=campus,
                latitude=lat,
                longitude=lng,
                sort=b_sort,
            )
            for f in range(1, floors + 1):
                floor = create_place(
                    kind=PlaceKind.FLOOR,
                    code=f"{b_code}-{f}F",
                    name=f"{f}层",
                    parent=building,
                    sort=f,
                )
                for n in range(1, per_floor + 1):
                    create_place(
                        kind=PlaceKind.ROOM,
                        code=f"{b_code}-{f}{n:02d}",
                        name=f"{f}{n:02d}",
                        parent=floor,
                        sort=n,
                    )


def _categories() -> None:
    for sort, (code, name, options, children) in enumerate(CATEGORIES):
        top = Category.objects.create(code=code, name=name, sort=sort * 10, **options)
        for n, (c_code, c_name, c_options) in enumerate(children, start=1):
            Category.objects.create(
                code=c_code, name=c_name, parent=top, sort=sort * 10 + n, **c_options
            )


def _assets() -> None:
    for code, name, room, category, (model, installed), serial in ASSETS:
        create_asset(
            code=code,
            name=name,
            place=Place.objects.get(code=room),
            category=Category.objects.get(code=category),
            model=model,
            serial=serial,
            installed_on=installed,
        )


def _orders(users: dict[str, User]) -> list[WorkOrder]:
    actors = {"agent": users["agent"], "dispatcher": users["dispatcher"]}
    desk_for = {Channel.PHONE: users["agent"], Channel.WALK_IN: users["agent2"]}
    orders = []
    for spec in ORDERS:
        reporter = users[spec.reporter] if spec.reporter else None
        if reporter is not None:
            by = reporter
        elif spec.channel == Channel.PARTNER:
            by = users["partner"]
        elif spec.channel in desk_for:
            by = desk_for[spec.channel]
        elif spec.channel in (Channel.WEB, Channel.QR):
            by = LinkHolder("")  # an anonymous reporter on the web or QR form
        else:
            by = SYSTEM
        order, _created = create_order(
            category=Category.objects.get(code=spec.category),
            place=Place.objects.get(code=spec.room),
            asset=Asset.objects.get(code=spec.asset) if spec.asset else None,
            description=spec.description,
            reporter_name=reporter.display_name if reporter else spec.name,
            reporter_phone=reporter.phone if reporter else spec.phone,
            channel=spec.channel,
            urgency=spec.urgency,
            reporter=reporter,
            by=by,
            handling=_("值班员已登记，转维修班组处理。") if spec.channel in desk_for else "",
        )
        walk_to(
            order,
            spec.status,
            actors=actors,
            technician=users[spec.technician],
            result=spec.result,
            rating=spec.rating,
            comment=spec.comment,
            params=spec.texts,
        )
        orders.append(order)
    return orders


def logins_table() -> str:
    """The demo accounts as a plain-text table (for the terminal and docs/admin.md)."""
    rows = [(_("用户名"), _("姓名"), _("角色"), _("密码"))]
    for username, display, _phone, roles, _team in USERS:
        rows.append(
            (username, display, "、".join(str(Role(r).label) for r in roles), DEMO_PASSWORD)
        )

    def width(s: str) -> int:
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)

    cols = [max(width(r[i]) for r in rows) for i in range(4)]
    lines = []
    for i, row in enumerate(rows):
        lines.append(
            "  ".join(cell + " " * (cols[j] - width(cell)) for j, cell in enumerate(row)).rstrip()
        )
        if i == 0:
            lines.append("  ".join("-" * c for c in cols))
    return "\n".join(lines)
