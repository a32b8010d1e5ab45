"""Dispatch (DP1, DP2): who gets an order — automatically, in turn, from the pool, or by hand.

Every assignment goes through the lifecycle's DISPATCH/REASSIGN actions, so it is one guarded
transition with its event. The automatic paths take a lock on the chosen technician's profile
and count his open orders again under it, so two orders racing for his last free slot can
never both get it (SQLite serialises writers anyway; PostgreSQL needs the row lock).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from repairhub.accounts.models import RoleGrant, Team, User
from repairhub.accounts.roles import Role
from repairhub.lib.statements import Statement
from repairhub.places.models import Place
from repairhub.workorders.actors import SYSTEM
from repairhub.workorders.errors import (
    IllegalState,
    InvalidInput,
    NotAllowed,
    OrderError,
    StaleVersion,
)
from repairhub.workorders.lifecycle import actor_fields, apply, apply_as_system
from repairhub.workorders.models import Category, Event, WorkOrder
from repairhub.workorders.states import WITH_TECHNICIAN, Action, Status

from . import rules
from .models import DispatchMode, DispatchPolicy, RosterVersion, Skill, TechnicianProfile

log = logging.getLogger(__name__)

EVENT_UNASSIGNED = "dispatch.unassigned"
EVENT_DECLINED = "workorder.declined"
TOP_EXPLAINED = 3


# --- facts -------------------------------------------------------------------------------


def policies_for(categories) -> dict[int, DispatchPolicy]:
    """{category id: its policy}: its own, else its parent's, else dispatch by hand. One query."""
    cats = {c.pk: c for c in categories}
    ids = set(cats) | {c.parent_id for c in cats.values() if c.parent_id}
    found = {p.category_id: p for p in DispatchPolicy.objects.filter(category_id__in=ids)}
    return {
        pk: found.get(pk)
        or found.get(c.parent_id)
        or DispatchPolicy(category=c, mode=DispatchMode.MANUAL)
        for pk, c in cats.items()
    }


# Read on every assignment, so compiled once (lib/statements.py).
_POLICIES = Statement(lambda ids: DispatchPolicy.objects.filter(category_id__in=ids))


def policy_for(category: Category) -> DispatchPolicy:
    """The category's own policy, else its parent's, else dispatch by hand. One query."""
    ids = [category.pk] + ([category.parent_id] if category.parent_id else [])
    found = {p.category_id: p for p in _POLICIES.objects(ids=ids)}
    return (
        found.get(category.pk)
        or found.get(category.parent_id)
        or DispatchPolicy(category=category, mode=DispatchMode.MANUAL)
    )


def place_positions(places, *, kept: _Kept | None = None) -> dict[int, tuple[float, float]]:
    """{place id: coordinates} for many places at once: each place's own, or the nearest
    enclosing place's (rooms sit in buildings). The coordinates are kept per process with the
    roster (a place's save bumps its version, apps.py): at most one query for those not kept."""
    places = [p for p in places if p is not None]
    if not places:
        return {}
    kept = kept or _kept()
    codes = {code for p in places for code in p.path.split("/")}
    if missing := codes - kept.coordinates.keys():
        found = {
            code: (float(lat), float(lng))
            for code, lat, lng in Place.objects.filter(
                code__in=missing, latitude__isnull=False, longitude__isnull=False
            ).values_list("code", "latitude", "longitude")
        }
        kept.coordinates.update({code: found.get(code) for code in missing})
    known = {code: kept.coordinates[code] for code in codes}
    found = {}
    for p in places:
        for code in reversed(p.path.split("/")):
            if known[code] is not None:
                found[p.pk] = known[code]
                break
    return found


def decliners_of(orders) -> dict[int, frozenset[int]]:
    """{order id: the technicians who declined it}, in two queries for any number of orders."""
    names: dict[int, set[str]] = {}
    for order_id, data in Event.objects.filter(
        order__in=[o for o in orders if o.pk], code=EVENT_DECLINED
    ).values_list("order_id", "data"):
        if (data or {}).get("technician"):
            names.setdefault(order_id, set()).add(data["technician"])
    if not names:
        return {}
    everyone = set().union(*names.values())
    ids = dict(User.objects.filter(username__in=everyone).values_list("username", "pk"))
    return {oid: frozenset(ids[n] for n in ns if n in ids) for oid, ns in names.items()}


_DECLINED = Statement(
    lambda order: Event.objects.filter(order_id=order, code=EVENT_DECLINED).values_list("data")
)
_USER_IDS = Statement(
    lambda names: User.objects.filter(username__in=names).values_list("username", "pk")
)


def decliners(order: WorkOrder) -> frozenset[int]:
    """Who declined this order: decliners_of() for one order, its SQL compiled once."""
    names = {
        d["technician"] for (d,) in _DECLINED.rows(order=order.pk) if (d or {}).get("technician")
    }
    if not names:
        return frozenset()
    return frozenset(pk for _name, pk in _USER_IDS.rows(names=sorted(names)))


def orders_facts(orders, policies: dict[int, DispatchPolicy] | None = None) -> dict:
    """{order id: rules.OrderFacts} for many orders in a fixed number of queries (plans)."""
    orders = list(orders)
    policies = policies or policies_for({o.category for o in orders})
    where = place_positions([o.place for o in orders if o.place_id])
    declined = decliners_of(orders)
    return {
        o.pk: _facts(o, policies[o.category_id], where.get(o.place_id), declined.get(o.pk))
        for o in orders
    }


def order_facts(
    order: WorkOrder, policy: DispatchPolicy | None = None, *, kept: _Kept | None = None
) -> rules.OrderFacts:
    policy = policy or policy_for(order.category)
    position = place_positions([order.place], kept=kept).get(order.place_id)
    return _facts(order, policy, position, decliners(order) if order.pk else None)


def _facts(order, policy, position, excluded) -> rules.OrderFacts:
    return rules.OrderFacts(
        category_id=order.category_id,
        category_parent_id=order.category.parent_id,
        place_path=order.place.path if order.place_id else "",
        position=position,
        urgency=order.urgency,
        excluded=excluded or frozenset(),
        team_id=policy.team_id if policy.mode != DispatchMode.MANUAL else None,
    )


def _stale_after() -> dt.timedelta:
    return dt.timedelta(minutes=getattr(settings, "POSITION_STALE_MINUTES", 10))


@dataclass(frozen=True)
class _Standing:
    """What changes only when someone edits a technician: kept per process (ROSTER)."""

    user_id: int
    username: str
    name: str
    team_id: int | None
    on_duty: bool
    work_start: dt.time
    work_end: dt.time
    max_open: int
    base: tuple[float, float] | None
    skills: dict[int, int]
    zones: tuple[str, ...]
    roles: frozenset[str]  # all his roles, as User.roles has them


@dataclass
class _Kept:
    """What this process keeps of rarely edited rows, valid while RosterVersion is `version`:
    every dispatchable technician's standing facts, the coordinates of the places looked up so
    far (None: the place has none)."""

    version: int
    roster: dict[int, _Standing] | None = None
    coordinates: dict[str, tuple[float, float] | None] = field(default_factory=dict)


# Kept per process with the RosterVersion value it was read at. Each call reads that one
# number; an edit anywhere gives it a new value (apps.py), so the rows are read again only
# after an edit, never on a timer.
_ROSTER: dict[str, _Kept] = {}


def _kept() -> _Kept:
    version = roster_version()
    kept = _ROSTER.get("all")
    if kept is None or kept.version != version:
        kept = _ROSTER["all"] = _Kept(version)
    return kept


# Read on every assignment: compiled once (lib/statements.py), without first()'s ordering.
_VERSION = Statement(lambda: RosterVersion.objects.filter(pk=1).values_list("value"))


def roster_version() -> int:
    rows = _VERSION.rows()
    return rows[0][0] if rows else 0


def bump_roster(*args, **kwargs) -> None:
    """Signal receiver: someone's skills, zones, hours, duty, limit, account or roles changed,
    or a place (its coordinates, its path)."""
    if kwargs.get("update_fields") and set(kwargs["update_fields"]) <= {"last_login"}:
        return  # signing in changes nothing dispatch knows
    if str(kwargs.get("action", "post_")).startswith("pre_"):
        return  # zones: count the change once, after it
    # A fresh stamp, not the next number: were this transaction rolled back after this process
    # read the roster at the new value, another process could commit that same next number for
    # another edit, and this process would go on using what it read.
    stamp = secrets.randbits(62) + 1
    if not RosterVersion.objects.filter(pk=1).update(value=stamp):
        RosterVersion.objects.get_or_create(pk=1, defaults={"value": stamp})
    _ROSTER.clear()


def _roster(kept: _Kept) -> dict[int, _Standing]:
    if kept.roster is None:
        kept.roster = _load_roster()
    return kept.roster


def _load_roster() -> dict[int, _Standing]:
    rows = (
        TechnicianProfile.objects.filter(
            user__is_active=True, user__role_grants__role__in=[Role.TECHNICIAN, Role.EXPERT]
        )
        .distinct()
        .values_list(
            "pk",
            "user_id",
            "user__username",
            "user__display_name",
            "user__team_id",
            "on_duty",
            "work_start",
            "work_end",
            "max_open_orders",
            "base_latitude",
            "base_longitude",
        )
    )
    skills: dict[int, dict[int, int]] = {}
    for pid, cid, level in Skill.objects.values_list("technician_id", "category_id", "level"):
        skills.setdefault(pid, {})[cid] = level
    zones: dict[int, list[str]] = {}
    through = TechnicianProfile.zones.through
    for pid, path in through.objects.values_list("technicianprofile_id", "place__path"):
        zones.setdefault(pid, []).append(path)
    roles: dict[int, set[str]] = {}
    for uid, role in RoleGrant.objects.filter(user__dispatch_profile__isnull=False).values_list(
        "user_id", "role"
    ):
        roles.setdefault(uid, set()).add(role)
    roster = {}
    for pid, uid, username, display, team, duty, start, end, limit, lat, lng in rows:
        roster[uid] = _Standing(
            user_id=uid,
            username=username,
            name=display or username,
            team_id=team,
            on_duty=duty,
            work_start=start,
            work_end=end,
            max_open=limit,
            base=(float(lat), float(lng)) if lat is not None and lng is not None else None,
            skills=skills.get(pid, {}),
            zones=tuple(zones.get(pid, ())),
            roles=frozenset(roles.get(uid, ())),
        )
    return roster


def technician_facts(
    *,
    category: Category | None = None,
    user_ids=None,
    now: dt.datetime | None = None,
    kept: _Kept | None = None,
) -> list[rules.TechFacts]:
    """Facts for active technicians (and experts) with a dispatch profile: the standing ones
    from the per-process roster (checked against RosterVersion unless `kept` was), positions
    and workloads fresh, in two small queries. With `category`, only those holding a skill for
    it (or its parent)."""
    now = now or timezone.now()
    kept = kept or _kept()
    chosen = list(_roster(kept).values())
    if category is not None:
        ids = {category.pk, category.parent_id} - {None}
        chosen = [t for t in chosen if ids & t.skills.keys()]
    if user_ids is not None:
        wanted = set(user_ids)
        chosen = [t for t in chosen if t.user_id in wanted]
    if not chosen:
        return []
    day_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    if user_ids is not None:
        rows = _workloads(day_start, assignee_id__in=[t.user_id for t in chosen])
    elif category is not None:
        rows = _HOLDERS_WORKLOADS.rows(day_start=day_start, ids=[t.user_id for t in chosen])
    else:
        rows = _workloads(day_start)
    open_count: dict[int, int] = {}
    load: dict[int, float] = {}
    today: dict[int, int] = {}
    for uid, urgency, n_open, n_today in rows:
        open_count[uid] = open_count.get(uid, 0) + n_open
        load[uid] = load.get(uid, 0.0) + n_open * rules.URGENCY_WEIGHT.get(urgency, 2)
        today[uid] = today.get(uid, 0) + n_today
    fresh = {
        uid: (float(lat), float(lng))
        for uid, lat, lng in _FRESH_POSITIONS.rows(since=now - _stale_after())
    }
    return [
        rules.TechFacts(
            user_id=t.user_id,
            name=t.name,
            skills=t.skills,
            zone_paths=t.zones,
            position=fresh.get(t.user_id, t.base),
            on_duty=t.on_duty,
            work_start=t.work_start,
            work_end=t.work_end,
            open_orders=open_count.get(t.user_id, 0),
            max_open=t.max_open,
            load=load.get(t.user_id, 0.0),
            dispatched_today=today.get(t.user_id, 0),
            team_id=t.team_id,
            username=t.username,
        )
        for t in chosen
    ]


def _workloads(day_start: dt.datetime, **whose) -> QuerySet:
    """(assignee id, urgency, how many such orders he has open, how many were dispatched to
    him since `day_start`), in one pass over the orders; `whose` narrows the assignees."""
    is_open = Q(status__in=WITH_TECHNICIAN)
    is_today = Q(dispatched_at__gte=day_start)
    return (
        WorkOrder.objects.filter(is_open | is_today, assignee__isnull=False, **whose)
        .values_list("assignee_id", "urgency")
        .annotate(n_open=Count("id", filter=is_open), n_today=Count("id", filter=is_today))
        .order_by()
    )


# The hot reads of an automatic assignment, compiled once per process and shape (the number
# of a category's skill holders): compiling costs the ORM more than answering costs the
# database (lib/statements.py).
_HOLDERS_WORKLOADS = Statement(lambda day_start, ids: _workloads(day_start, assignee_id__in=ids))
_FRESH_POSITIONS = Statement(
    lambda since: TechnicianProfile.objects.filter(
        last_position_at__gte=since, last_latitude__isnull=False
    ).values_list("user_id", "last_latitude", "last_longitude")
)


def candidates(order: WorkOrder, *, now: dt.datetime | None = None) -> list[rules.Candidate]:
    """Every technician with a dispatch profile, ranked for this order: those who qualify
    first (cheapest first), then the others with the rules they break."""
    now = now or timezone.now()
    kept = _kept()
    facts = order_facts(order, kept=kept)
    techs = technician_facts(now=now, kept=kept)
    ranked = rules.rank(techs, facts, timezone.localtime(now).time())
    return [c for c in ranked if c.user_id != order.assignee_id]


# --- automatic assignment ----------------------------------------------------------------


@dataclass
class Outcome:
    """What an automatic dispatch did: the chosen candidate, or why nobody."""

    chosen: rules.Candidate | None
    ranked: list[rules.Candidate]
    reasons: dict[str, int]


_OPEN_ORDERS = Statement(
    lambda user: (
        WorkOrder.objects.filter(assignee_id=user, status__in=WITH_TECHNICIAN)
        .values_list("assignee_id")
        .annotate(n=Count("id"))
        .values_list("n")
        .order_by()
    )
)


def _open_orders(user_id: int) -> int:
    """How many orders he has in hand (counted under the lock on his profile)."""
    rows = _OPEN_ORDERS.rows(user=user_id)
    return rows[0][0] if rows else 0


def _explanation(mode: str, chosen: rules.Candidate, ranked: list[rules.Candidate]) -> dict:
    others = [c for c in ranked if c.user_id != chosen.user_id][: TOP_EXPLAINED - 1]
    others = [c.as_dict() for c in others]
    return {"mode": mode, "chosen": chosen.as_dict(), "others": others}


# His profile locked, with his account and team read in the same statement (the account is
# not locked): his duty and limit to check under the lock, and the technician the lifecycle
# needs.
_USER_COLUMNS = [f.attname for f in User._meta.concrete_fields]
_TEAM_COLUMNS = [f.attname for f in Team._meta.concrete_fields]
_LOCK_PROFILE = Statement(
    lambda user: (
        TechnicianProfile.objects.select_for_update(of=("self",))
        .filter(user_id=user)
        .values_list(
            "on_duty",
            "max_open_orders",
            *(f"user__{c}" for c in _USER_COLUMNS),
            *(f"user__team__{c}" for c in _TEAM_COLUMNS),
        )
    )
)


def _account(values: list) -> User:
    """The User (and his Team, if any) from _LOCK_PROFILE's columns, as select_related builds
    them."""
    n = len(_USER_COLUMNS)
    tech = User.from_db(DEFAULT_DB_ALIAS, _USER_COLUMNS, values[:n])
    team = None if values[n] is None else Team.from_db(DEFAULT_DB_ALIAS, _TEAM_COLUMNS, values[n:])
    User._meta.get_field("team").set_cached_value(tech, team)
    return tech


def _take(
    order: WorkOrder, cand: rules.Candidate, *, kept: _Kept, explanation: dict, note: str
) -> bool:
    """Dispatch to `cand` if, under the lock on his profile, he is still on duty with an active
    account and a free slot (the roster this transaction ranked by may be a moment old).

    Runs inside the caller's transaction, which any error here ends: the lifecycle needs no
    savepoint of its own. His account comes with the lock (only the profile is locked); the
    count is a statement of its own, so on PostgreSQL it sees what committed while waiting.
    """
    locked = _LOCK_PROFILE.rows(user=cand.user_id)
    if not locked:
        raise TechnicianProfile.DoesNotExist(cand.user_id)
    on_duty, max_open, *account = locked[0]
    tech = _account(account)
    if not on_duty or not tech.is_active or _open_orders(cand.user_id) >= max_open:
        return False
    # His roles as this transaction's roster read them (a change of roles bumps its version):
    # the lifecycle's check that he is a technician reads them from here.
    tech.__dict__["roles"] = _roster(kept)[cand.user_id].roles
    action = Action.REASSIGN if order.status in WITH_TECHNICIAN else Action.DISPATCH
    params = {"technician": tech, "reason": note, "explanation": explanation}
    apply(order, action, by=SYSTEM, channel="system", params=params, savepoint=False)
    return True


def auto_dispatch(
    order: WorkOrder, *, now: dt.datetime | None = None, quiet: bool = False
) -> Outcome:
    """Give an accepted order to the best qualifying technician at once (DP1).

    If nobody qualifies the order stays where it is, the reasons are written on its timeline
    and the dispatchers are told — unless `quiet`: an order of a category dispatched by hand
    simply waits in the dispatcher's queue, as it would have anyway.
    """
    now = now or timezone.now()
    with transaction.atomic():
        kept = _kept()
        policy = policy_for(order.category)
        facts = order_facts(order, policy, kept=kept)
        techs = technician_facts(category=order.category, now=now, kept=kept)
        ranked = rules.rank(techs, facts, timezone.localtime(now).time())
        for cand in (c for c in ranked if c.qualifies):
            explanation = _explanation(DispatchMode.AUTO, cand, ranked)
            if _take(order, cand, kept=kept, explanation=explanation, note=_("自动派工")):
                return Outcome(cand, ranked, {})
        reasons = rules.why_nobody(ranked) or {_("没有维修人员具备该类别的技能"): 0}
        if not quiet:
            _record_unassigned(order, reasons, mode=DispatchMode.AUTO)
        return Outcome(None, ranked, reasons)


def round_robin_dispatch(order: WorkOrder, *, now: dt.datetime | None = None) -> Outcome:
    """The next qualifying member of the category's team after the last one given an order."""
    now = now or timezone.now()
    with transaction.atomic():
        policy = policy_for(order.category)
        if policy.pk is None or policy.team_id is None:
            return auto_dispatch(order, now=now)
        policy = DispatchPolicy.objects.select_for_update().get(pk=policy.pk)
        kept = _kept()
        facts = order_facts(order, policy, kept=kept)
        members = technician_facts(
            user_ids=User.objects.filter(team_id=policy.team_id).values_list("pk", flat=True),
            now=now,
            kept=kept,
        )
        members.sort(key=lambda t: t.user_id)
        judged = {c.user_id: c for c in rules.rank(members, facts, timezone.localtime(now).time())}
        start = 0
        if policy.last_assignee_id is not None:
            after = [i for i, t in enumerate(members) if t.user_id > policy.last_assignee_id]
            start = after[0] if after else 0
        turn = members[start:] + members[:start]
        ranked = [judged[t.user_id] for t in turn]
        for cand in (c for c in ranked if c.qualifies):
            explanation = _explanation(DispatchMode.ROUND_ROBIN, cand, ranked)
            if _take(order, cand, kept=kept, explanation=explanation, note=_("班组轮派")):
                policy.last_assignee_id = cand.user_id
                policy.save(update_fields=["last_assignee"])
                return Outcome(cand, ranked, {})
        reasons = rules.why_nobody(ranked) or {_("班组中没有可派的维修人员"): 0}
        _record_unassigned(order, reasons, mode=DispatchMode.ROUND_ROBIN)
        return Outcome(None, sorted(ranked, key=lambda c: (not c.qualifies, c.cost)), reasons)


def dispatch_automatically(order: WorkOrder, *, by: User) -> Outcome:
    """The dispatcher asks for the automatic choice on an accepted order ("dispatch: auto")."""
    if not by.has_role(Role.DISPATCHER, Role.ADMIN):
        raise NotAllowed(_("只有调度员可以自动派工。"))
    order.refresh_from_db()
    if order.status != Status.ACCEPTED:
        raise IllegalState(
            _("工单当前状态为“%(status)s”，不能自动派工。") % {"status": Status(order.status).label}
        )
    if policy_for(order.category).mode == DispatchMode.ROUND_ROBIN:
        return round_robin_dispatch(order)
    return auto_dispatch(order)


def describe_reasons(reasons: dict[str, int]) -> str:
    """'不在岗（2人）；没有该类别的技能（5人）': how many technicians each rule turned away."""
    return "；".join(
        _("%(rule)s（%(n)d人）") % {"rule": rule, "n": n} if n else rule
        for rule, n in reasons.items()
    )


def _record_unassigned(order: WorkOrder, reasons: dict[str, int], *, mode: str) -> None:
    from repairhub.notify.outbox import post

    Event.objects.create(
        order=order,
        code=EVENT_UNASSIGNED,
        channel="system",
        from_status=order.status,
        to_status=order.status,
        data={"mode": mode, "reasons": reasons},
        **actor_fields(SYSTEM),
    )
    dispatchers = User.objects.filter(is_active=True, role_grants__role=Role.DISPATCHER).distinct()
    params = {"number": order.number, "why": describe_reasons(reasons)}
    post(dispatchers, EVENT_UNASSIGNED, params, order=order)


# --- subscriber: when an order becomes dispatchable --------------------------------------


def on_order_event(event) -> None:
    """Accepted, declined or reopened orders are dispatched by their category's policy.

    A declined order is dispatched again automatically, without the technician who declined
    it, whatever the policy — except pool orders, which go back to the pool.
    """
    if event.code == "workorder.arrived":
        _arrival_on_track(event)
        return
    if event.code not in ("workorder.accepted", "workorder.declined", "workorder.reopened"):
        return
    order = event.order
    if order.status != Status.ACCEPTED:
        return
    mode = policy_for(order.category).mode
    if mode == DispatchMode.POOL:
        return
    if mode == DispatchMode.MANUAL and event.code != EVENT_DECLINED:
        return
    try:
        with transaction.atomic():
            if mode == DispatchMode.ROUND_ROBIN:
                round_robin_dispatch(order)
            else:
                auto_dispatch(order, quiet=mode == DispatchMode.MANUAL)
    except (StaleVersion, IllegalState):
        # Someone acted on the order in between; it is theirs now.
        log.info("automatic dispatch of %s skipped: the order changed", order.number)


def _arrival_on_track(event) -> None:
    """Arrival with a position also goes on the technician's track and last position."""
    from .positions import record_position

    data = event.data or {}
    if not data.get("lat") or event.actor_id is None:
        return
    try:
        with transaction.atomic():
            record_position(event.actor, latitude=data["lat"], longitude=data["lng"])
    except OrderError as exc:  # off duty, say: the arrival itself stands
        log.info("arrival position of %s not tracked: %s", event.order.number, exc.message)


# --- pool (抢单) -------------------------------------------------------------------------


def pool_orders(tech: User):
    """Accepted orders in pool categories this technician has the skill for."""
    profile = TechnicianProfile.objects.filter(user=tech).first()
    if profile is None:
        return WorkOrder.objects.none()
    skilled = set(Skill.objects.filter(technician=profile).values_list("category_id", flat=True))
    pool_categories = set(
        DispatchPolicy.objects.filter(mode=DispatchMode.POOL).values_list("category_id", flat=True)
    )
    own_policy = set(DispatchPolicy.objects.values_list("category_id", flat=True))
    categories = [
        c
        for c in Category.objects.active().values("pk", "parent_id")
        if (c["pk"] in skilled or c["parent_id"] in skilled)
        and (
            c["pk"] in pool_categories
            or (c["pk"] not in own_policy and c["parent_id"] in pool_categories)
        )
    ]
    declined = Event.objects.filter(code=EVENT_DECLINED, data__technician=tech.username)
    return (
        WorkOrder.objects.filter(
            status=Status.ACCEPTED, category_id__in=[c["pk"] for c in categories]
        )
        .exclude(pk__in=declined.values("order_id"))
        .select_related("category", "place")
        .order_by("created_at")
    )


def claim(order: WorkOrder, *, by: User) -> WorkOrder:
    """A technician takes a pool order: first claim wins, under concurrency too."""
    if not by.has_role(Role.TECHNICIAN, Role.EXPERT):
        raise NotAllowed(_("只有维修人员可以抢单。"))
    if policy_for(order.category).mode != DispatchMode.POOL:
        raise NotAllowed(_("工单 %(number)s 不在抢单池中。") % {"number": order.number})
    now = timezone.now()
    try:
        with transaction.atomic():
            if not TechnicianProfile.objects.filter(user=by).exists():
                raise NotAllowed(_("您还没有派工资料，请联系班组长设置技能和区域。"))
            profile = TechnicianProfile.objects.select_for_update().get(user=by)
            facts = technician_facts(user_ids=[by.pk], now=now)
            judged = rules.judge(facts[0], order_facts(order), timezone.localtime(now).time())
            if _open_orders(by.pk) >= profile.max_open_orders or not judged.qualifies:
                raise NotAllowed(
                    _("您现在不能接这张单：%(why)s。")
                    % {"why": "、".join(judged.refusals) or _("在手工单已满")}
                )
            fresh = WorkOrder.objects.get(pk=order.pk)
            if fresh.status != Status.ACCEPTED:
                raise IllegalState(
                    _("手慢了，工单 %(number)s 已被他人接走。") % {"number": order.number}
                )
            apply_as_system(
                fresh,
                Action.DISPATCH,
                params={"technician": by, "reason": _("抢单")},
            )
            apply(fresh, Action.ACKNOWLEDGE, by=by)
    except StaleVersion:
        raise IllegalState(
            _("手慢了，工单 %(number)s 已被他人接走。") % {"number": order.number}
        ) from None
    order.refresh_from_db()
    return order


# --- team lead: rebalance ----------------------------------------------------------------


def rebalance_team(team, *, by: User, now: dt.datetime | None = None) -> list[tuple[str, str, str]]:
    """Even out a team's not-yet-acknowledged orders (DP2). Returns (number, from, to) moves.

    Repeatedly moves an order from the most loaded member to the least loaded member who
    qualifies for it, while that narrows the gap by at least two orders.
    """
    if not (by.has_role(Role.DISPATCHER, Role.ADMIN) or team.lead_id == by.pk):
        raise NotAllowed(_("只有本班组的班组长或调度员可以调整班组工单。"))
    now = now or timezone.now()
    moves: list[tuple[str, str, str]] = []
    with transaction.atomic():
        member_ids = list(
            User.objects.filter(team=team, is_active=True).values_list("pk", flat=True)
        )
        for _round in range(200):
            facts = {t.user_id: t for t in technician_facts(user_ids=member_ids, now=now)}
            if len(facts) < 2:
                break
            busiest = max(facts.values(), key=lambda t: (t.open_orders, t.user_id))
            movable = list(
                WorkOrder.objects.filter(assignee_id=busiest.user_id, status=Status.DISPATCHED)
                .select_related("category", "place")
                .order_by("-dispatched_at")
            )
            moved = False
            for order in movable:
                ofacts = order_facts(order)
                options = [
                    c
                    for c in rules.rank(
                        [t for uid, t in facts.items() if uid != busiest.user_id],
                        ofacts,
                        timezone.localtime(now).time(),
                    )
                    if c.qualifies and facts[c.user_id].open_orders + 2 <= busiest.open_orders
                ]
                if not options:
                    continue
                target = min(options, key=lambda c: (facts[c.user_id].open_orders, c.cost))
                tech = User.objects.select_related("team").get(pk=target.user_id)
                apply(
                    order,
                    Action.REASSIGN,
                    by=by,
                    params={"technician": tech, "reason": _("班组工单调整")},
                )
                moves.append((order.number, busiest.name, target.name))
                moved = True
                break
            if not moved:
                break
    return moves


def ensure_profile(user: User) -> TechnicianProfile:
    if not RoleGrant.objects.filter(user=user, role__in=[Role.TECHNICIAN, Role.EXPERT]).exists():
        raise InvalidInput(_("%(name)s 不是维修人员。") % {"name": user.name}, field="technician")
    profile, _created = TechnicianProfile.objects.get_or_create(user=user)
    return profile
