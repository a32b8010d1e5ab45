"""A realistic order history for bench/analytics.py, loaded with raw bulk SQL.

Runs inside the benchmark's Django environment (DATABASE_URL / REPAIRHUB_VAR already set).
`build(size)` migrates the empty database, creates the organisation through the ORM (teams,
technicians, dispatchers, agents, a partner, categories two levels deep, three campuses of
buildings, floors and rooms) and then writes `size` orders with their events straight into
the tables: `executemany` on SQLite, `COPY` on PostgreSQL (psycopg 3). Secondary indexes of
the two tables are dropped for the load and built again afterwards, as a bulk import would.

The history covers five years up to NOW (local midnight, 2026-11-01), with:

- volume growing about 8 % a year, weekdays busier than weekends, a campus year (term-start
  peaks in late February and September, a summer trough, the winter break, National Day)
  and a day profile (mornings and afternoons, dormitory evenings, quiet nights);
- a category mix (水电, 给排水, 门窗, 家具, 空调暖通 with summer and winter seasons, …),
  places with hot spots, five channels (desk calls registered by agents);
- each order's story told by its events: submitted, accepted (or rejected), dispatched by a
  dispatcher or automatically, sometimes declined and dispatched again, acknowledged,
  arrived, progress notes, waits on hold, completed (success or failure), sometimes reopened
  and repaired again, confirmed with a rating or closed on review; waiting times drawn from
  log-normal distributions, night reports waiting for the morning;
- about 10 % of the orders open at NOW: the last days' orders still under way, and older ones
  stuck awaiting confirmation, on hold or undispatched.

Everything is drawn from one seeded generator: the same size gives the same rows.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

# Bump when the generated rows change: cached databases of another version are rebuilt.
GENERATOR_VERSION = 4

TZ = ZoneInfo("Asia/Shanghai")
OFFSET = 8 * 3600  # Asia/Shanghai has no daylight saving time
FIRST_DAY = date(2021, 11, 1)
NOW_DAY = date(2026, 11, 1)  # the history stops at this local midnight
NOW = datetime(2026, 11, 1, tzinfo=TZ)
NOW_TS = int(NOW.timestamp())
CHUNK_ORDERS = 200_000
MINUTE, HOUR, DAY = 60, 3600, 86400
dumps = json.dumps

# (code, name, teams that repair it, leaves: (code, name, weight, season))
# season: "" all year, "summer" air conditioning, "winter" heating.
CATEGORIES = [
    (
        "power",
        "水电",
        ["elec1", "elec2"],
        [
            ("lamp", "灯具", 12, ""),
            ("socket", "插座", 6, ""),
            ("switch", "开关", 5, ""),
            ("wiring", "线路", 4, ""),
            ("breaker", "跳闸断电", 3, ""),
        ],
    ),
    (
        "water",
        "给排水",
        ["plumb1", "plumb2"],
        [
            ("tap", "水龙头", 7, ""),
            ("pipe", "水管", 5, ""),
            ("toilet", "马桶", 6, ""),
            ("drain", "下水道", 6, ""),
        ],
    ),
    (
        "doors",
        "门窗",
        ["carp"],
        [
            ("lock", "门锁", 7, ""),
            ("door", "门", 3, ""),
            ("window", "窗户", 4, ""),
        ],
    ),
    (
        "furniture",
        "家具",
        ["carp"],
        [
            ("desk", "桌椅", 4, ""),
            ("bed", "床铺", 3, ""),
            ("cabinet", "柜子", 3, ""),
        ],
    ),
    (
        "hvac",
        "空调暖通",
        ["hvac"],
        [
            ("aircon", "空调", 6, "summer"),
            ("heating", "暖气", 3, "winter"),
        ],
    ),
    ("network", "网络通信", ["net"], [("lan", "校园网", 5, ""), ("phoneline", "电话", 2, "")]),
    ("lift", "电梯", ["lift"], [("elevator", "电梯", 2, "")]),
    ("general", "其他", ["misc1", "misc2"], [("misc", "其他", 4, "")]),
]
TEAMS = [
    ("elec1", "电工一班", 16),
    ("elec2", "电工二班", 14),
    ("plumb1", "水暖一班", 14),
    ("plumb2", "水暖二班", 12),
    ("carp", "木工班", 14),
    ("hvac", "空调班", 10),
    ("net", "网络班", 8),
    ("lift", "电梯维保班", 6),
    ("misc1", "综合一班", 12),
    ("misc2", "综合二班", 10),
]
CAMPUSES = [("E", "东校区", 30), ("W", "西校区", 22), ("S", "南校区", 14)]
FLOORS, ROOMS = 6, 12
DISPATCHERS, AGENTS = 8, 12

CHANNELS = ["web", "qr", "phone", "walk_in", "partner"]
CHANNEL_P = [0.30, 0.30, 0.22, 0.06, 0.12]
DESK = (2, 3)  # phone and walk-in: an agent registers the call
URGENCIES = ["low", "normal", "high", "critical"]
URGENCY_P = [0.20, 0.60, 0.17, 0.03]
SLA_HOURS = np.array([72, 48, 24, 8])

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国晨浩宇欣怡子轩梓涵一诺思远"

PROBLEMS = {
    "lamp": ["灯管不亮", "灯一直闪烁", "吸顶灯掉落", "走廊灯不亮", "台灯插座处灯不亮"],
    "socket": ["插座没电", "插座松动", "插座冒火花", "插座面板破损"],
    "switch": ["开关失灵", "开关面板脱落", "按开关没反应"],
    "wiring": ["线路老化有焦味", "电线裸露", "网线和电线缠在一起"],
    "breaker": ["宿舍经常跳闸", "整层断电", "空开跳了推不上去"],
    "tap": ["水龙头漏水", "水龙头关不紧", "水龙头没有水"],
    "pipe": ["水管漏水", "暖气管渗水", "水管爆裂", "水压很小"],
    "toilet": ["马桶堵塞", "马桶一直流水", "冲水按钮坏了", "马桶盖破损"],
    "drain": ["下水道堵塞", "地漏反味", "洗手池下水慢"],
    "lock": ["门锁打不开", "钥匙断在锁里", "门锁松动", "锁芯坏了"],
    "door": ["门关不上", "门合页坏了", "门把手脱落"],
    "window": ["窗户关不严", "窗户玻璃破裂", "纱窗破了", "窗户把手坏了"],
    "desk": ["椅子腿断了", "桌子抽屉坏了", "桌面开裂"],
    "bed": ["床板断裂", "床梯松动", "床护栏脱落"],
    "cabinet": ["柜门脱落", "衣柜锁坏了", "柜子层板断了"],
    "aircon": ["空调不制冷", "空调漏水", "空调遥控无反应", "空调有异响"],
    "heating": ["暖气不热", "暖气片漏水", "暖气阀门拧不动"],
    "lan": ["网口没有信号", "网速很慢", "无线网络连不上"],
    "phoneline": ["座机没有拨号音", "电话线断了"],
    "elevator": ["电梯按钮失灵", "电梯停运", "电梯门关不上"],
    "misc": ["墙皮脱落", "天花板渗水", "窗帘杆掉了", "镜子松动"],
}
NOTES = ["已更换配件，恢复正常", "已维修完毕，试用正常", "已疏通", "已紧固", "已更换新件"]
FAILED_NOTES = ["需要整体更换，已报采购", "属于厂家保修范围，已联系厂家"]
SUGGESTIONS = ["请联系宿管登记更换", "请等待厂家上门"]
HOLD_REASONS = ["等待配件", "等待报修人在宿舍", "需要厂家配合"]
PROGRESS_NOTES = ["已到现场检查", "配件已领取", "正在更换", "需要再来一次"]
REJECT_REASONS = ["不属于后勤维修范围", "重复报修", "请联系物业"]
CANCEL_REASONS = ["问题已自行解决", "报错了地方"]
REOPEN_REASONS = ["问题又出现了", "没有修好"]
DECLINE_REASONS = ["不在负责区域", "手头工单太多", "需要专业工具"]
ADDRESSES = [f"校外家属区 {b} 栋 {u} 单元" for b in range(1, 21) for u in range(1, 6)]

# Steps of an order's story in the order they happen. Each is (code, from, to, actor kind).
STEPS = [
    ("workorder.submitted", "", "submitted", "reporter"),  # 0
    ("workorder.accepted", "submitted", "accepted", "desk"),  # 1
    ("workorder.rejected", "submitted", "rejected", "desk"),  # 2
    ("workorder.cancelled", "accepted", "cancelled", "reporter"),  # 3
    ("workorder.dispatched", "accepted", "dispatched", "dispatcher"),  # 4 first dispatch
    ("workorder.declined", "dispatched", "accepted", "tech1"),  # 5
    ("workorder.dispatched", "accepted", "dispatched", "dispatcher2"),  # 6
    ("workorder.acknowledged", "dispatched", "acknowledged", "tech"),  # 7
    ("workorder.arrived", "acknowledged", "in_progress", "tech"),  # 8
    ("workorder.progress", "in_progress", "in_progress", "tech"),  # 9
    ("workorder.held", "in_progress", "on_hold", "tech"),  # 10
    ("workorder.resumed", "on_hold", "in_progress", "tech"),  # 11
    ("workorder.completed", "in_progress", "completed", "tech"),  # 12
    ("workorder.reopened", "completed", "accepted", "dispatcher2"),  # 13
    ("workorder.dispatched", "accepted", "dispatched", "dispatcher2"),  # 14
    ("workorder.acknowledged", "dispatched", "acknowledged", "tech3"),  # 15
    ("workorder.arrived", "acknowledged", "in_progress", "tech3"),  # 16
    ("workorder.completed", "in_progress", "completed", "tech3"),  # 17
    ("workorder.confirmed", "completed", "closed", "reporter"),  # 18
    ("workorder.closed", "completed", "closed", "dispatcher2"),  # 19
]


def log(message: str) -> None:
    print(f"[data] {message}", flush=True)


# --- the organisation, through the ORM -------------------------------------------------------


@dataclass
class Org:
    categories: list[dict] = field(default_factory=list)  # leaves: id, code, weight, season, teams
    rooms: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    room_weights: np.ndarray = field(default_factory=lambda: np.zeros(0))
    buildings: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    place_codes: dict[int, str] = field(default_factory=dict)
    team_techs: dict[str, list[int]] = field(default_factory=dict)
    tech_weight: dict[int, float] = field(default_factory=dict)
    users: dict[int, tuple[str, str]] = field(default_factory=dict)  # id: (username, name)
    dispatchers: list[int] = field(default_factory=list)
    agents: list[int] = field(default_factory=list)
    partner: int = 0


def _name(rng: np.random.Generator) -> str:
    surname = SURNAMES[rng.integers(len(SURNAMES))]
    given = "".join(GIVEN[i] for i in rng.integers(len(GIVEN), size=rng.integers(1, 3)))
    return surname + given


def create_org(rng: np.random.Generator) -> Org:
    from repairhub.accounts.models import Team
    from repairhub.accounts.roles import Role
    from repairhub.accounts.services import create_user
    from repairhub.places.models import Place, PlaceKind
    from repairhub.workorders.models import Category

    org = Org()

    def person(username: str, roles, team=None) -> int:
        user = create_user(username, roles=roles, display_name=_name(rng), team=team)
        org.users[user.pk] = (user.username, user.display_name)
        return user.pk

    teams = {}
    for code, name, size in TEAMS:
        team = Team.objects.create(code=code, name=name)
        teams[code] = team
        members = []
        for i in range(size):
            roles = [Role.TECHNICIAN] + ([Role.TEAM_LEAD] if i == 0 else [])
            pk = person(f"{code}-{i + 1:02d}", roles, team)
            members.append(pk)
            # Some technicians take far more orders than others.
            org.tech_weight[pk] = float(rng.gamma(4.0, 0.25))
        team.lead_id = members[0]
        team.save(update_fields=["lead"])
        org.team_techs[code] = members
    org.dispatchers = [person(f"dispatcher{i + 1}", [Role.DISPATCHER]) for i in range(DISPATCHERS)]
    org.agents = [person(f"agent{i + 1}", [Role.AGENT]) for i in range(AGENTS)]
    person("manager1", [Role.MANAGER])
    org.partner = person("partner-app", [Role.PARTNER])

    for sort, (code, name, team_codes, leaves) in enumerate(CATEGORIES):
        parent = Category.objects.create(code=code, name=name, sort=sort)
        for leaf_sort, (leaf, leaf_name, weight, season) in enumerate(leaves):
            cat = Category.objects.create(code=leaf, name=leaf_name, parent=parent, sort=leaf_sort)
            org.categories.append(
                {
                    "id": cat.pk,
                    "code": leaf,
                    "weight": weight,
                    "season": season,
                    "teams": team_codes,
                }
            )

    # Places: campus → building → floor → room, paths and names as Place.save() makes them.
    def node(kind, code, name, parent=None, sort=0):
        path = f"{parent.path}/{code}" if parent else code
        full = f"{parent.full_name} / {name}" if parent else name
        return Place(
            kind=kind, code=code, name=name, parent=parent, path=path, full_name=full, sort=sort
        )

    campuses = Place.objects.bulk_create(
        [node(PlaceKind.CAMPUS, c, n, sort=i) for i, (c, n, _) in enumerate(CAMPUSES)]
    )
    buildings = Place.objects.bulk_create(
        [
            node(PlaceKind.BUILDING, f"{c.code}{b:02d}", f"{b}号楼", c, b)
            for c, (_, _, count) in zip(campuses, CAMPUSES, strict=True)
            for b in range(1, count + 1)
        ]
    )
    floors = Place.objects.bulk_create(
        [
            node(PlaceKind.FLOOR, f"{b.code}-{f}F", f"{f}层", b, f)
            for b in buildings
            for f in range(1, FLOORS + 1)
        ]
    )
    rooms = Place.objects.bulk_create(
        [
            node(PlaceKind.ROOM, f"{fl.parent.code}-{fl.sort}{r:02d}", f"{fl.sort}{r:02d}", fl, r)
            for fl in floors
            for r in range(1, ROOMS + 1)
        ]
    )
    org.rooms = np.array([r.pk for r in rooms], dtype=np.int64)
    # Hot spots: a few rooms keep failing (old dormitories, a leaking bathroom).
    org.room_weights = rng.pareto(1.5, size=len(rooms)) + 0.2
    org.room_weights /= org.room_weights.sum()
    org.buildings = np.array([b.pk for b in buildings], dtype=np.int64)
    org.place_codes = {p.pk: p.code for p in [*campuses, *buildings, *floors, *rooms]}
    return org


# --- when orders come in ---------------------------------------------------------------------


def day_weights(days: list[date]) -> np.ndarray:
    weekday = np.array([1.2, 1.1, 1.05, 1.0, 0.95, 0.6, 0.55])
    w = np.empty(len(days))
    for i, d in enumerate(days):
        md = (d.month, d.day)
        if (1, 15) <= md <= (2, 19):
            season = 0.4  # winter break and the Spring Festival
        elif (2, 20) <= md <= (3, 15):
            season = 1.5  # spring term starts
        elif md[0] == 6:
            season = 1.2  # air conditioners
        elif (7, 5) <= md <= (8, 24):
            season = 0.35  # summer trough
        elif (8, 25) <= md <= (9, 25):
            season = 1.6  # new students arrive
        elif (10, 1) <= md <= (10, 7):
            season = 0.5  # National Day week
        else:
            season = 1.0
        growth = 1.0 + 0.08 * (d - FIRST_DAY).days / 365.0
        w[i] = weekday[d.weekday()] * season * growth
    return w


# Share of the day's reports per local hour.
HOURLY = np.array(
    [
        0.3,
        0.2,
        0.1,
        0.1,
        0.1,
        0.2,
        0.6,
        2.0,
        5.0,
        7.5,
        8.0,
        7.0,
        4.0,
        4.5,
        6.5,
        7.0,
        6.5,
        5.0,
        3.5,
        4.5,
        5.0,
        4.0,
        2.0,
        0.8,
    ]
)
HOURLY = HOURLY / HOURLY.sum()


def lognormal(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    return np.round(median * np.exp(sigma * rng.standard_normal(n))).astype(np.int64) + 1


def after_hours_wait(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Seconds until the morning shift (07:30–08:30 local) for times in the night, else 0."""
    sec = (t + OFFSET) % DAY
    start = int(7.5 * HOUR)
    wait = np.where(sec < start, start - sec, 0)
    wait = np.where(sec >= 22 * HOUR, DAY - sec + start, wait)
    return wait + np.where(wait > 0, rng.integers(0, HOUR, size=len(t)), 0)


# --- rows --------------------------------------------------------------------------------------


def ts_strings(t: np.ndarray) -> np.ndarray:
    """UTC 'YYYY-MM-DD HH:MM:SS' for each epoch second (Django's SQLite format; PostgreSQL
    reads it in the session's UTC)."""
    s = np.datetime_as_string(t.astype("datetime64[s]"), unit="s")
    codes = s.view(np.uint32).reshape(len(s), -1)
    codes[:, 10] = ord(" ")
    return s


def nullable(strings: np.ndarray, mask: np.ndarray) -> list:
    out = strings.astype(object)
    out[~mask] = None
    return out.tolist()


@dataclass
class Story:
    """The columns of one chunk of orders, and its events."""

    orders: dict[str, list]
    events: list[tuple]


def _pick(rng, choices: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    return choices[rng.choice(len(choices), size=n, p=weights / weights.sum())]


def tell_chunk(
    rng: np.random.Generator, org: Org, created: np.ndarray, first_id: int, ctx: dict
) -> Story:
    """Orders with these report times (sorted epoch seconds), ids from first_id."""
    n = len(created)
    ids = np.arange(first_id, first_id + n, dtype=np.int64)

    # What, where, how.
    cats = org.categories
    month = (
        (created + OFFSET).astype("datetime64[s]").astype("datetime64[M]").astype(int) % 12
    ) + 1
    cat_idx = np.empty(n, dtype=np.int64)
    base = np.array([c["weight"] for c in cats], dtype=float)
    for m in range(1, 13):
        sel = month == m
        if not sel.any():
            continue
        w = base.copy()
        for i, c in enumerate(cats):
            if c["season"] == "summer":
                w[i] *= {6: 3.0, 7: 2.0, 8: 2.0, 9: 2.5}.get(m, 0.6 if m in (12, 1, 2) else 1.0)
            elif c["season"] == "winter":
                w[i] *= {11: 3.0, 12: 4.0, 1: 4.0, 2: 3.0, 3: 1.5}.get(m, 0.1)
        cat_idx[sel] = rng.choice(len(cats), size=int(sel.sum()), p=w / w.sum())
    category_id = np.array([c["id"] for c in cats], dtype=np.int64)[cat_idx]
    channel = rng.choice(len(CHANNELS), size=n, p=CHANNEL_P)
    urgency = rng.choice(len(URGENCIES), size=n, p=URGENCY_P)
    where = rng.random(n)
    place_id = np.where(
        where < 0.90,
        org.rooms[rng.choice(len(org.rooms), size=n, p=org.room_weights)],
        np.where(where < 0.95, org.buildings[rng.integers(len(org.buildings), size=n)], 0),
    )
    desk = np.isin(channel, DESK)
    agents = np.array(org.agents)
    registered_by = np.where(desk, agents[rng.integers(len(agents), size=n)], 0)
    received = created - np.where(desk, rng.integers(0, 600, size=n), 0)
    has_due = rng.random(n) < 0.75
    due = received + SLA_HOURS[urgency] * HOUR

    # Fate of each order.
    fate = rng.random(n)
    rejected = fate < 0.03
    cancelled = (fate >= 0.03) & (fate < 0.05)
    stuck_submitted = (fate >= 0.05) & (fate < 0.053)
    # 0.053–0.058: accepted and never dispatched
    goes_on = fate >= 0.058
    urgent = urgency >= 2

    t = np.full((len(STEPS), n), -1, dtype=np.int64)
    t[0] = created
    t_acc = created + after_hours_wait(created, rng) * ~urgent + lognormal(rng, 360, 1.0, n)
    t[1] = np.where(~rejected & ~stuck_submitted, t_acc, -1)
    t[2] = np.where(rejected, t_acc, -1)
    t[3] = np.where(cancelled, t_acc + lognormal(rng, 1800, 1.0, n), -1)
    dispatched = goes_on
    auto = rng.random(n) < 0.25
    t_d1 = t_acc + np.where(auto, rng.integers(1, 60, size=n), lognormal(rng, 900, 1.1, n))
    t_d1 += after_hours_wait(t_d1, rng) * ~urgent
    t[4] = np.where(dispatched, t_d1, -1)
    declined = dispatched & (rng.random(n) < 0.03)
    t_dec = t_d1 + lognormal(rng, 600, 0.8, n)
    t_d2 = t_dec + lognormal(rng, 900, 1.0, n)
    t[5] = np.where(declined, t_dec, -1)
    t[6] = np.where(declined, t_d2, -1)
    last_d = np.where(declined, t_d2, t_d1)
    t_ack = last_d + lognormal(rng, 480, 0.9, n)
    t[7] = np.where(dispatched, t_ack, -1)
    t_arr = t_ack + np.where(urgent, lognormal(rng, 900, 0.6, n), lognormal(rng, 2400, 0.8, n))
    t[8] = np.where(dispatched, t_arr, -1)
    progress = dispatched & (rng.random(n) < 0.12)
    t[9] = np.where(progress, t_arr + lognormal(rng, 600, 0.7, n), -1)
    after = np.where(progress, t[9], t_arr)
    held = dispatched & (rng.random(n) < 0.08)
    stuck_hold = held & (rng.random(n) < 0.12)
    t_hold = after + lognormal(rng, 1200, 0.7, n)
    t_res = t_hold + lognormal(rng, 30 * HOUR, 0.8, n)
    t_res += after_hours_wait(t_res, rng)
    t[10] = np.where(held, t_hold, -1)
    t[11] = np.where(held & ~stuck_hold, t_res, -1)
    completes = dispatched & ~stuck_hold
    t_c1 = np.where(held, t_res, after) + lognormal(rng, 3000, 0.9, n)
    t[12] = np.where(completes, t_c1, -1)
    ok1 = rng.random(n) < 0.94
    reopened = completes & (rng.random(n) < 0.012)
    t_reo = t_c1 + lognormal(rng, 1.5 * DAY, 0.8, n)
    t_d3 = t_reo + lognormal(rng, 1800, 1.0, n)
    t_d3 += after_hours_wait(t_d3, rng)
    t_ack3 = t_d3 + lognormal(rng, 600, 0.8, n)
    t_arr3 = t_ack3 + lognormal(rng, 2400, 0.8, n)
    t_c2 = t_arr3 + lognormal(rng, 3600, 0.9, n)
    for k, v in zip((13, 14, 15, 16, 17), (t_reo, t_d3, t_ack3, t_arr3, t_c2), strict=True):
        t[k] = np.where(reopened, v, -1)
    ok2 = rng.random(n) < 0.9
    t_done = np.where(reopened, t_c2, t_c1)
    closes = completes & (rng.random(n) >= 0.09)  # 9 % wait for a confirmation forever
    confirms = closes & (rng.random(n) < 0.80)
    t_conf = t_done + lognormal(rng, 8 * HOUR, 1.2, n)
    t_rev = t_done + rng.integers(2 * DAY, 4 * DAY, size=n)
    t[18] = np.where(confirms, t_conf, -1)
    t[19] = np.where(closes & ~confirms, t_rev, -1)

    # The history stops at NOW. Every step comes after the one before it, so cutting at NOW
    # leaves each order a prefix of its story.
    t[t > NOW_TS] = -1
    present = t >= 0

    # The technicians.
    top_teams = [c["teams"] for c in cats]
    tech1 = np.zeros(n, dtype=np.int64)
    tech2 = np.zeros(n, dtype=np.int64)
    tech3 = np.zeros(n, dtype=np.int64)
    for ci, teams in enumerate(top_teams):
        sel = np.flatnonzero(cat_idx == ci)
        if not len(sel):
            continue
        pool = np.array([p for code in teams for p in org.team_techs[code]])
        w = np.array([org.tech_weight[p] for p in pool])
        for target in (tech1, tech2, tech3):
            target[sel] = _pick(rng, pool, w, len(sel))
        same = sel[tech2[sel] == tech1[sel]]
        tech2[same] = pool[(np.searchsorted(pool, tech1[same]) + 1) % len(pool)]
    dispatchers = np.array(org.dispatchers)
    disp1 = np.where(auto, 0, dispatchers[rng.integers(len(dispatchers), size=n)])
    disp2 = dispatchers[rng.integers(len(dispatchers), size=n)]
    desk_staff = np.array(org.agents + org.dispatchers)
    desk_actor = desk_staff[rng.integers(len(desk_staff), size=n)]

    # Fields of the order at NOW: replay the steps that happened.
    status = np.full(n, "submitted", dtype=object)
    assignee = np.zeros(n, dtype=np.int64)
    ack = np.full(n, -1, dtype=np.int64)
    arrived = np.full(n, -1, dtype=np.int64)
    completed = np.full(n, -1, dtype=np.int64)
    dispatched_at = np.full(n, -1, dtype=np.int64)
    result = np.full(n, "", dtype=object)
    hold_reason = np.full(n, "", dtype=object)
    updated = created.copy()
    version = np.ones(n, dtype=np.int64)
    hold_i = rng.integers(len(HOLD_REASONS), size=n)
    hold_text = np.array(HOLD_REASONS, dtype=object)[hold_i]
    for k, (_, _, to, _) in enumerate(STEPS):
        p = present[k]
        status[p] = to
        updated = np.where(p, t[k], updated)
        if k:
            version += p
        if k in (4, 6, 14):
            who = {4: tech1, 6: tech2, 14: tech3}[k]
            assignee = np.where(p, who, assignee)
            dispatched_at = np.where(p, t[k], dispatched_at)
            ack = np.where(p, -1, ack)
        elif k in (5, 13):
            assignee = np.where(p, 0, assignee)
            ack = np.where(p, -1, ack)
            if k == 13:
                completed = np.where(p, -1, completed)
                result[p] = ""
        elif k in (7, 15):
            ack = np.where(p, t[k], ack)
        elif k in (8, 16):
            arrived = np.where(p, t[k], arrived)
        elif k == 10:
            hold_reason[p] = hold_text[p]
        elif k == 11:
            hold_reason[p] = ""
        elif k in (12, 17):
            completed = np.where(p, t[k], completed)
            ok = ok1 if k == 12 else ok2
            result[p & ok] = "success"
            result[p & ~ok] = "failed"
    closed_at = np.where(present[18] | present[19], np.maximum(t[18], t[19]), -1)
    rated = present[18] & (rng.random(n) < 0.72)
    # Ratings lean on how long the repair took: quick repairs get fives.
    took = np.where(completed >= 0, completed - received, 0)
    slow = took > 2 * DAY
    r = rng.random(n)
    rating = np.where(
        r < 0.55, 5, np.where(r < 0.80, 4, np.where(r < 0.90, 3, np.where(r < 0.95, 2, 1)))
    )
    rating = np.where(slow & (rng.random(n) < 0.5), np.maximum(rating - 2, 1), rating)
    rating_col = np.where(rated, rating, 0)
    reopen_count = present[13].astype(np.int64)

    # Texts.
    pick = rng.integers(0, 1 << 30, size=n)
    problems = [PROBLEMS[c["code"]] for c in cats]
    description = [
        problems[ci][k % len(problems[ci])]
        for ci, k in zip(cat_idx.tolist(), pick.tolist(), strict=True)
    ]
    phones, names, addresses = ctx["phones"], ctx["names"], ctx["addresses"]
    phone_pick = rng.integers(len(phones), size=n).tolist()
    name_pick = rng.integers(len(names), size=n).tolist()
    addr_pick = rng.integers(len(addresses), size=n).tolist()
    # Numbers count per local day; a chunk holds whole local days.
    local_day = (created + OFFSET) // DAY
    _, first_index, counts = np.unique(local_day, return_index=True, return_counts=True)
    seq = np.arange(n) - np.repeat(first_index, counts) + 1
    day_text = np.datetime_as_string((local_day * DAY).astype("datetime64[s]"), unit="D")
    prefix = ctx["prefix"]
    numbers = [
        f"{prefix}-{d[:4]}{d[5:7]}{d[8:]}-{q:04d}"
        for d, q in zip(day_text.tolist(), seq.tolist(), strict=True)
    ]
    tokens = base64.urlsafe_b64encode(rng.bytes(24 * n)).decode()
    partner = channel == CHANNELS.index("partner")
    keys = rng.bytes(32 * n).hex()
    idem = [keys[i * 64 : (i + 1) * 64] if p else None for i, p in enumerate(partner.tolist())]
    note_pool = np.array(NOTES, dtype=object)[pick % len(NOTES)]
    failed_pool = np.array(FAILED_NOTES, dtype=object)[pick % len(FAILED_NOTES)]
    notes = np.where(result == "success", note_pool, np.where(result == "failed", failed_pool, ""))
    suggestion = np.where(
        result == "failed", np.array(SUGGESTIONS, dtype=object)[pick % len(SUGGESTIONS)], ""
    )
    blank = [""] * n
    orders = {
        "id": ids.tolist(),
        "number": numbers,
        "status": status.tolist(),
        "version": version.tolist(),
        "result": result.tolist(),
        "category_id": category_id.tolist(),
        "place_id": [p or None for p in place_id.tolist()],
        "address": [
            "" if p else addresses[a] for a, p in zip(addr_pick, place_id.tolist(), strict=True)
        ],
        "description": description,
        "urgency": np.array(URGENCIES, dtype=object)[urgency].tolist(),
        "channel": np.array(CHANNELS, dtype=object)[channel].tolist(),
        "reporter_name": [names[i] for i in name_pick],
        "reporter_phone": [phones[i][0] for i in phone_pick],
        "reporter_phone_index": [phones[i][1] for i in phone_pick],
        "tracking_token": [tokens[i * 32 : (i + 1) * 32] for i in range(n)],
        "registered_by_id": [a or None for a in registered_by.tolist()],
        "received_at": ts_strings(received).tolist(),
        "handling": blank,
        "remarks": blank,
        "assignee_id": [a or None for a in assignee.tolist()],
        "hold_reason": hold_reason.tolist(),
        "completion_note": notes.tolist(),
        "suggestion": suggestion.tolist(),
        "rating": [r or None for r in rating_col.tolist()],
        "rating_comment": blank,
        "reopen_count": reopen_count.tolist(),
        "measures": blank,
        "due_at": nullable(ts_strings(due), has_due),
        "urge_count": [0] * n,
        "idempotency_key": idem,
        "created_at": ts_strings(created).tolist(),
        "updated_at": ts_strings(updated).tolist(),
        "accepted_at": nullable(ts_strings(np.maximum(t[1], 0)), present[1]),
        "dispatched_at": nullable(ts_strings(np.maximum(dispatched_at, 0)), dispatched_at >= 0),
        "acknowledged_at": nullable(ts_strings(np.maximum(ack, 0)), ack >= 0),
        "arrived_at": nullable(ts_strings(np.maximum(arrived, 0)), arrived >= 0),
        "completed_at": nullable(ts_strings(np.maximum(completed, 0)), completed >= 0),
        "closed_at": nullable(ts_strings(np.maximum(closed_at, 0)), closed_at >= 0),
    }

    # Events: one row per step that happened, in time order.
    k_idx, o_idx = np.nonzero(present)
    when = t[k_idx, o_idx]
    by_time = np.lexsort((k_idx, o_idx, when))
    k_idx, o_idx, when = k_idx[by_time], o_idx[by_time], when[by_time]
    m = len(k_idx)
    worker = np.where(declined, tech2, tech1)  # who holds the order after the dispatches
    actors = {
        "desk": desk_actor,
        "dispatcher": disp1,
        "dispatcher2": disp2,
        "tech1": tech1,
        "tech": worker,
        "tech3": tech3,
        "reporter": np.zeros(n, dtype=np.int64),
    }
    submitter = np.where(partner, org.partner, registered_by)
    usernames = {pk: u for pk, (u, _) in org.users.items()}
    texts = ctx["texts"]
    codes = [c["code"] for c in cats]
    places = org.place_codes
    fullnames = {pk: name for pk, (_, name) in org.users.items()}
    actor = np.zeros(m, dtype=np.int64)
    data = np.empty(m, dtype=object)
    channel_col = np.full(m, "web", dtype=object)
    when_s = ts_strings(when)
    for k, (_, _, _, kind) in enumerate(STEPS):
        sel = np.flatnonzero(k_idx == k)
        if not len(sel):
            continue
        oi = o_idx[sel]
        actor[sel] = submitter[oi] if k == 0 else actors[kind][oi]
        if k == 0:
            channel_col[sel] = np.where(partner[oi], "api", "web")
            # Codes are ASCII slugs: the same text json.dumps would write, much faster.
            data[sel] = [
                f'{{"channel": "{CHANNELS[c]}", "urgency": "{URGENCIES[u]}", '
                f'"category": "{codes[ci]}", "place": "{places.get(p, "")}"}}'
                for c, u, ci, p in zip(
                    channel[oi].tolist(),
                    urgency[oi].tolist(),
                    cat_idx[oi].tolist(),
                    place_id[oi].tolist(),
                    strict=True,
                )
            ]
        elif k in (4, 6, 14):
            tech = {4: tech1, 6: tech2, 14: tech3}[k][oi]
            data[sel] = [texts["dispatch"][p] for p in tech.tolist()]
            if k == 4:
                channel_col[sel] = np.where(auto[oi], "system", "web")
        elif k in (8, 16):
            data[sel] = [f'{{"at": "{w[:10]}T{w[11:]}+00:00"}}' for w in when_s[sel].tolist()]
        elif k in (12, 17):
            ok = (ok1 if k == 12 else ok2)[oi]
            data[sel] = [
                texts["success"][i % len(NOTES)] if good else texts["failed"][i % 2]
                for good, i in zip(ok.tolist(), oi.tolist(), strict=True)
            ]
        elif k == 18:
            data[sel] = [texts["rating"][r] for r in rating_col[oi].tolist()]
        elif k in (2, 3, 9, 10):
            pool = texts[STEPS[k][0]]
            data[sel] = [
                pool[i % len(pool)] for i in (pick[oi] if k != 10 else hold_i[oi]).tolist()
            ]
        elif k in (5, 13):
            reasons = DECLINE_REASONS if k == 5 else REOPEN_REASONS
            who = (tech1 if k == 5 else worker)[oi]
            data[sel] = [
                dumps({"reason": reasons[i % len(reasons)], "technician": usernames[w]})
                for i, w in zip(pick[oi].tolist(), who.tolist(), strict=True)
            ]
        else:
            data[sel] = "{}"
    label = [
        fullnames[a] if a else ("系统" if k == 4 else "报修人（跟踪链接）")
        for a, k in zip(actor.tolist(), k_idx.tolist(), strict=True)
    ]
    first = ctx["next_event_id"]
    ctx["next_event_id"] = first + m
    events = list(
        zip(
            range(first, first + m),
            ids[o_idx].tolist(),
            [STEPS[k][0] for k in k_idx.tolist()],
            [a or None for a in actor.tolist()],
            label,
            channel_col.tolist(),
            [STEPS[k][1] for k in k_idx.tolist()],
            [STEPS[k][2] for k in k_idx.tolist()],
            data.tolist(),
            when_s.tolist(),
            strict=True,
        )
    )
    return Story(orders=orders, events=events)


def event_texts(org: Org) -> dict[str, object]:
    """The JSON of events whose data comes from a few values, written once (as Django's
    JSONField writes it: json.dumps)."""
    return {
        "dispatch": {
            pk: dumps({"technician": u, "technician_name": name})
            for pk, (u, name) in org.users.items()
        },
        "success": [dumps({"result": "success", "note": t, "suggestion": ""}) for t in NOTES],
        "failed": [
            dumps({"result": "failed", "note": t, "suggestion": s})
            for t, s in zip(FAILED_NOTES, SUGGESTIONS, strict=True)
        ],
        "rating": {r: dumps({"rating": r or None, "comment": ""}) for r in range(6)},
        "workorder.rejected": [dumps({"reason": r}) for r in REJECT_REASONS],
        "workorder.cancelled": [dumps({"reason": r}) for r in CANCEL_REASONS],
        "workorder.progress": [dumps({"note": t}) for t in PROGRESS_NOTES],
        "workorder.held": [dumps({"reason": r}) for r in HOLD_REASONS],
    }


EVENT_COLUMNS = [
    "id",
    "order_id",
    "code",
    "actor_id",
    "actor_label",
    "channel",
    "from_status",
    "to_status",
    "data",
    "created_at",
]


# --- loading -----------------------------------------------------------------------------------


def order_columns(names: list[str]) -> tuple[list[str], list]:
    """Every column of the order table: those generated, and a constant for the rest
    (NULL or the field's default). A new NOT NULL column without a default stops the bench."""
    from repairhub.workorders.models import WorkOrder

    columns, constants = [], []
    for f in WorkOrder._meta.concrete_fields:
        if f.column in names:
            continue
        if f.null:
            continue
        if f.has_default() and not callable(f.default):
            columns.append(f.column)
            constants.append(f.default)
            continue
        raise RuntimeError(f"bench/analytics_data.py does not fill WorkOrder.{f.name}")
    return columns, constants


def _indexes(conn, vendor: str, table: str) -> list[tuple[str, str]]:
    cur = conn.cursor()
    if vendor == "sqlite":
        cur.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL",
            (table,),
        )
    else:
        cur.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            (table,),
        )
    return list(cur.fetchall())


def build(size: int, *, seed: int = 20261101) -> dict:
    """Migrate, create the organisation and load `size` orders with their events."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from repairhub.lib.crypto import blind_index, encrypt

    started = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    log(f"migrated in {time.monotonic() - started:.1f} s")
    rng = np.random.default_rng(seed)
    org = create_org(rng)

    phones = []
    for _ in range(5000):
        phone = "1" + "".join(str(d) for d in rng.integers(0, 10, size=10))
        phones.append((encrypt(phone), blind_index(phone)))
    ctx = {
        "phones": phones,
        "names": [_name(rng) for _ in range(3000)],
        "addresses": [encrypt(a) for a in ADDRESSES],
        "prefix": settings.ORDER_NUMBER_PREFIX,
        "next_event_id": 1,
        "texts": event_texts(org),
    }

    # How many orders each day, and when during the day.
    days = [FIRST_DAY + timedelta(days=i) for i in range((NOW_DAY - FIRST_DAY).days)]
    weights = day_weights(days)
    per_day = rng.multinomial(size, weights / weights.sum())
    midnight = np.array(
        [int(datetime(d.year, d.month, d.day, tzinfo=TZ).timestamp()) for d in days],
        dtype=np.int64,
    )

    vendor = connection.vendor
    table_o, table_e = "workorders_workorder", "workorders_event"
    connection.close()
    conn = _raw_connection(vendor)
    saved = _indexes(conn, vendor, table_o) + _indexes(conn, vendor, table_e)
    cur = conn.cursor()
    for name, _ in saved:
        cur.execute(f'DROP INDEX "{name}"')
    names = ["id", *ORDER_FIELDS]
    extra_cols, extra_vals = order_columns(names)
    all_cols = names + extra_cols
    loaded_orders = loaded_events = 0
    next_id = 1
    day_i = 0
    while day_i < len(days):
        # A chunk of whole days holding about CHUNK_ORDERS orders.
        end = day_i
        total = 0
        while end < len(days) and (total == 0 or total + per_day[end] <= CHUNK_ORDERS):
            total += per_day[end]
            end += 1
        counts = per_day[day_i:end]
        if total:
            hours = rng.choice(24, size=total, p=HOURLY)
            offsets = hours * HOUR + rng.integers(0, HOUR, size=total)
            created = np.repeat(midnight[day_i:end], counts) + offsets
            created.sort()
            story = tell_chunk(rng, org, created, next_id, ctx)
            cols = [story.orders[c] for c in names]
            rows = [(*r, *extra_vals) for r in zip(*cols, strict=True)]
            _write(conn, vendor, table_o, all_cols, rows)
            _write(conn, vendor, table_e, EVENT_COLUMNS, story.events)
            loaded_orders += int(total)
            loaded_events += len(story.events)
            next_id += total
            log(
                f"{loaded_orders:,} orders, {loaded_events:,} events "
                f"({time.monotonic() - started:.0f} s)"
            )
        day_i = end
    log(f"rebuilding {len(saved)} indexes")
    for _, sql in saved:
        cur.execute(sql)
    if vendor == "postgresql":
        for table in (table_o, table_e):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
    conn.commit()
    _finish(conn, vendor)
    return {
        "orders": loaded_orders,
        "events": loaded_events,
        "seconds": round(time.monotonic() - started, 1),
    }


ORDER_FIELDS = [
    "number",
    "status",
    "version",
    "result",
    "category_id",
    "place_id",
    "address",
    "description",
    "urgency",
    "channel",
    "reporter_name",
    "reporter_phone",
    "reporter_phone_index",
    "tracking_token",
    "registered_by_id",
    "received_at",
    "handling",
    "remarks",
    "assignee_id",
    "hold_reason",
    "completion_note",
    "suggestion",
    "rating",
    "rating_comment",
    "reopen_count",
    "measures",
    "due_at",
    "urge_count",
    "idempotency_key",
    "created_at",
    "updated_at",
    "accepted_at",
    "dispatched_at",
    "acknowledged_at",
    "arrived_at",
    "completed_at",
    "closed_at",
]


def _raw_connection(vendor: str):
    from django.conf import settings

    db = settings.DATABASES["default"]
    if vendor == "sqlite":
        import sqlite3

        conn = sqlite3.connect(db["NAME"], isolation_level=None)
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("PRAGMA cache_size=-512000")
        conn.execute("BEGIN")
        return conn
    import psycopg

    conn = psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
        host=db["HOST"] or None,
        port=db["PORT"] or None,
    )
    conn.execute("SET TIME ZONE 'UTC'")
    # Rows are consistent by construction: no foreign-key triggers during the load.
    conn.execute("SET session_replication_role = replica")
    conn.execute("SET maintenance_work_mem = '512MB'")
    return conn


def _write(conn, vendor: str, table: str, columns: list[str], rows: list[tuple]) -> None:
    cols = ", ".join(f'"{c}"' for c in columns)
    if vendor == "sqlite":
        marks = ", ".join("?" for _ in columns)
        conn.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', rows)
        return
    with conn.cursor() as cur, cur.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)


def _finish(conn, vendor: str) -> None:
    if vendor == "sqlite":
        conn.execute("PRAGMA journal_mode=WAL")
    conn.close()


def digest(paths) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(str(p.name).encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:10]
