"""Hard rules are never broken: random populations, independent checks (hypothesis)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repairhub.dispatch import plans, rules, services
from repairhub.dispatch.models import DispatchMode, DispatchPolicy, Skill, TechnicianProfile
from repairhub.places.models import Place, PlaceKind
from repairhub.testing.personas import make_user
from repairhub.workorders.lifecycle import apply
from repairhub.workorders.models import Category, WorkOrder
from repairhub.workorders.states import WITH_TECHNICIAN, Action, Status

hours = st.sampled_from([(0, 0), (8, 18), (18, 8), (12, 13)])
tech_strategy = st.fixed_dictionaries(
    {
        "skills": st.dictionaries(st.sampled_from([1, 2, 3, 10]), st.integers(1, 5), max_size=3),
        "on_duty": st.booleans(),
        "hours": hours,
        "open": st.integers(0, 4),
        "max_open": st.integers(1, 4),
        "pos": st.none() | st.tuples(st.floats(30.4, 30.6), st.floats(114.3, 114.5)),
    }
)


@given(
    techs=st.lists(tech_strategy, min_size=0, max_size=12),
    category=st.sampled_from([1, 2, 3]),
    excluded=st.sets(st.integers(0, 11), max_size=3),
    now_hour=st.integers(0, 23),
)
def test_the_ranking_puts_only_qualified_people_first(techs, category, excluded, now_hour):
    facts = [
        rules.TechFacts(
            user_id=i,
            name=str(i),
            skills=t["skills"],
            zone_paths=(),
            position=t["pos"],
            on_duty=t["on_duty"],
            work_start=dt.time(t["hours"][0]),
            work_end=dt.time(t["hours"][1]),
            open_orders=t["open"],
            max_open=t["max_open"],
            load=float(t["open"]),
        )
        for i, t in enumerate(techs)
    ]
    order = rules.OrderFacts(
        category_id=category,
        category_parent_id=10,
        place_path="E/E03",
        position=(30.5, 114.4),
        excluded=frozenset(excluded),
    )
    now = dt.time(now_hour, 30)
    ranked = rules.rank(facts, order, now)
    for c in ranked:
        t = techs[c.user_id]
        start, end = t["hours"]
        in_hours = (
            start == end
            or (start < end and start <= now_hour < end)
            or (start > end and (now_hour >= start or now_hour < end))
        )
        ok = (
            (category in t["skills"] or 10 in t["skills"])
            and t["on_duty"]
            and in_hours
            and t["open"] < t["max_open"]
            and c.user_id not in excluded
        )
        assert c.qualifies == ok, (c, t)
    flags = [c.qualifies for c in ranked]
    assert flags == sorted(flags, reverse=True)  # every qualified one before any other


# --- through the database: automatic dispatch and plans --------------------------------------

db_tech = st.fixed_dictionaries(
    {
        "skill": st.sampled_from(["lamp", "door", "power", None]),
        "on_duty": st.booleans(),
        "max_open": st.integers(1, 3),
        "lat": st.floats(30.49, 30.52),
    }
)


def _independently_ok(order: WorkOrder, user, *, limit_counts: dict) -> bool:
    profile = TechnicianProfile.objects.get(user=user)
    codes = set(Skill.objects.filter(technician=profile).values_list("category__code", flat=True))
    has_skill = order.category.code in codes or order.category.parent.code in codes
    within_limit = limit_counts[user.pk] <= profile.max_open_orders
    return has_skill and profile.on_duty and within_limit


@pytest.mark.django_db
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(techs=st.lists(db_tech, min_size=1, max_size=5), n_orders=st.integers(1, 6))
def test_no_assignment_or_plan_breaks_a_hard_rule(world, techs, n_orders):
    WorkOrder.objects.all().delete()
    TechnicianProfile.objects.all().delete()
    DispatchPolicy.objects.all().delete()
    door = Category.objects.get_or_create(
        code="door", defaults={"name": "门窗", "parent": world.category.parent}
    )[0]
    room = Place.objects.get(code="E03-201")
    people = []
    for t in techs:
        user = make_user(None, "technician")
        p = TechnicianProfile.objects.create(
            user=user,
            on_duty=t["on_duty"],
            max_open_orders=t["max_open"],
            work_start=dt.time(0),
            work_end=dt.time(0),
            base_latitude=f"{t['lat']:.6f}",
            base_longitude="114.400000",
        )
        if t["skill"]:
            Skill.objects.create(
                technician=p, category=Category.objects.get(code=t["skill"]), level=3
            )
        people.append(user)
    assert Place.objects.filter(kind=PlaceKind.BUILDING, latitude__isnull=False).exists()

    # Half the orders are dispatched automatically as they are accepted, half by a plan.
    half = (n_orders + 1) // 2
    DispatchPolicy.objects.create(category=world.category, mode=DispatchMode.AUTO)
    for i in range(half):
        order = world.order(Status.SUBMITTED, category=world.category if i % 2 == 0 else door)
        apply(order, Action.ACCEPT, by=world.agent)
    DispatchPolicy.objects.all().delete()
    for i in range(n_orders - half):
        world.order(Status.ACCEPTED, category=door if i % 2 == 0 else world.category, place=room)

    waiting = WorkOrder.objects.filter(status=Status.ACCEPTED)
    if waiting.exists():
        plan = plans.create_plan(by=world.dispatcher, seconds=0.5)
        plans.apply_plan(plan, by=world.dispatcher)

    counts = {u.pk: u.assigned_orders.filter(status__in=WITH_TECHNICIAN).count() for u in people}
    for order in WorkOrder.objects.filter(assignee__isnull=False).select_related(
        "category__parent", "assignee"
    ):
        assert order.assignee in people
        assert _independently_ok(order, order.assignee, limit_counts=counts), order
    assert services.technician_facts() is not None
