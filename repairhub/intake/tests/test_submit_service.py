"""submit_report: who may report through which channel, with what, how often; the one door
every channel (form, QR, agent desk, partner API) comes through."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from repairhub.intake.services import RateLimited, Report, submit_report
from repairhub.notify.models import Message
from repairhub.places.models import Asset
from repairhub.testing.personas import make_asset, make_category, make_room
from repairhub.workorders.errors import InvalidInput, NotAllowed
from repairhub.workorders.models import Channel, Event, WorkOrder
from repairhub.workorders.states import Status

pytestmark = pytest.mark.django_db

ANONYMOUS = AnonymousUser()


def report(**kw) -> Report:
    values = {
        "description": "宿舍灯管不亮",
        "category": "lamp",
        "place": "E03-201",
        "reporter_name": "张三",
        "reporter_phone": "138 0000 1111",
        "channel": Channel.WEB,
        **kw,
    }
    return Report(**values)


def counts():
    return WorkOrder.objects.count(), Event.objects.count(), Message.objects.count()


@pytest.fixture
def nothing_created(world):
    """Asserts at the end of the test that no order, event or message was written."""
    before = counts()
    yield
    assert counts() == before


# --- channels ------------------------------------------------------------------------------
@pytest.mark.parametrize("channel", [Channel.WEB, Channel.QR])
def test_anonymous_may_report_on_the_web_and_by_qr(world, channel):
    order, created = submit_report(report(channel=channel), by=ANONYMOUS, client="10.0.0.1")
    assert created
    assert (order.status, order.channel, order.reporter, order.registered_by) == (
        Status.SUBMITTED,
        channel,
        None,
        None,
    )
    assert order.reporter_phone == "13800001111"
    event = order.events.get()
    assert (event.code, event.actor, event.actor_label) == ("workorder.submitted", None, "访客")


@pytest.mark.parametrize("channel", [Channel.PHONE, Channel.WALK_IN, Channel.PARTNER])
def test_anonymous_may_not_use_desk_or_partner_channels(world, nothing_created, channel):
    with pytest.raises(NotAllowed) as exc:
        submit_report(report(channel=channel), by=ANONYMOUS, client="10.0.0.1")
    assert exc.value.status == 403


def test_reporter_may_not_register_a_phone_call(world, nothing_created):
    with pytest.raises(NotAllowed) as exc:
        submit_report(report(channel=Channel.PHONE), by=world.reporter)
    assert exc.value.message == "电话和现场报修只能由值班员登记。"


def test_agent_registers_a_phone_call_for_a_caller(world):
    order, created = submit_report(
        report(channel=Channel.PHONE, handling="已告知先关闭电闸"), by=world.agent
    )
    assert created
    assert (order.channel, order.reporter, order.registered_by) == (
        Channel.PHONE,
        None,
        world.agent,
    )
    assert order.handling == "已告知先关闭电闸"
    assert order.events.get().actor == world.agent


def test_only_partner_accounts_use_the_partner_channel(world, nothing_created):
    with pytest.raises(NotAllowed):
        submit_report(report(channel=Channel.PARTNER), by=world.reporter)


def test_partner_submits_through_the_partner_channel(world):
    order, created = submit_report(report(channel=Channel.PARTNER), by=world.partner)
    assert created and order.channel == Channel.PARTNER and order.reporter == world.partner


def test_unknown_channel_is_refused(world, nothing_created):
    with pytest.raises(InvalidInput) as exc:
        submit_report(report(channel="fax"), by=world.agent)
    assert exc.value.field == "channel"


# --- what is reported ----------------------------------------------------------------------
def test_unknown_category_is_refused_with_its_field(world, nothing_created):
    with pytest.raises(InvalidInput) as exc:
        submit_report(report(category="spaceship"), by=world.reporter)
    assert (exc.value.field, exc.value.code) == ("category", "unknown_category")
    assert "spaceship" in exc.value.message


def test_unknown_place_is_refused_with_its_field(world, nothing_created):
    with pytest.raises(InvalidInput) as exc:
        submit_report(report(place="Z99-999"), by=world.reporter)
    assert (exc.value.field, exc.value.code) == ("place", "unknown_place")


def test_category_reserved_for_staff_is_refused_to_reporters(world, nothing_created):
    make_category("boiler", name="锅炉", reporter_selectable=False)
    for by in (world.reporter, ANONYMOUS):
        with pytest.raises(InvalidInput) as exc:
            submit_report(report(category="boiler"), by=by, client="10.0.0.1")
        assert exc.value.field == "category"


def test_category_reserved_for_staff_is_allowed_to_agents(world):
    make_category("boiler", name="锅炉", reporter_selectable=False)
    order, created = submit_report(report(category="boiler", channel=Channel.PHONE), by=world.agent)
    assert created and order.category.code == "boiler"


def test_inactive_category_is_refused_to_everyone(world, nothing_created):
    make_category("old", name="旧类别", is_active=False)
    with pytest.raises(InvalidInput) as exc:
        submit_report(report(category="old", channel=Channel.PHONE), by=world.agent)
    assert exc.value.field == "category"


def test_report_without_place_needs_an_address(world, nothing_created):
    with pytest.raises(InvalidInput) as exc:
        submit_report(report(place="", address="  "), by=world.reporter)
    assert exc.value.field == "place"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("description", ""),
        ("description", "坏" * 2001),
        ("description", "灯不亮\x00"),
        ("reporter_name", ""),
        ("reporter_phone", "138-0000-111"),  # 10 digits
        ("urgency", "whenever"),
    ],
)
def test_bad_input_is_refused_with_the_field_to_fix(world, nothing_created, field, value):
    with pytest.raises(InvalidInput) as exc:
        submit_report(report(**{field: value}), by=world.reporter)
    assert exc.value.field == field
    assert exc.value.message


# --- auto-accept ---------------------------------------------------------------------------
def test_auto_accept_category_lands_accepted_by_the_system(world):
    make_category("leak", name="漏水", auto_accept=True)
    order, _ = submit_report(report(category="leak"), by=world.reporter)
    assert order.status == Status.ACCEPTED
    assert order.version == 2
    submitted, accepted = order.events.order_by("id")
    assert (submitted.code, submitted.actor) == ("workorder.submitted", world.reporter)
    assert (accepted.code, accepted.from_status, accepted.to_status) == (
        "workorder.accepted",
        Status.SUBMITTED,
        Status.ACCEPTED,
    )
    assert (accepted.actor, accepted.actor_label, accepted.channel) == (None, "系统", "system")


# --- idempotency ---------------------------------------------------------------------------
def test_retried_submission_returns_the_first_order(world):
    first, created = submit_report(report(), by=world.partner, idempotency_key="k-1")
    again, created_again = submit_report(report(), by=world.partner, idempotency_key="k-1")
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert WorkOrder.objects.count() == 1


def test_idempotency_keys_are_scoped_to_the_caller(world):
    a, _ = submit_report(report(), by=world.partner, idempotency_key="k-1")
    b, _ = submit_report(report(), by=world.reporter, idempotency_key="k-1")
    c, _ = submit_report(report(), by=ANONYMOUS, client="10.0.0.1", idempotency_key="k-1")
    d, _ = submit_report(report(), by=ANONYMOUS, client="10.0.0.2", idempotency_key="k-1")
    assert len({a.pk, b.pk, c.pk, d.pk}) == 4


# --- rate limit ----------------------------------------------------------------------------
def test_anonymous_reports_are_rate_limited_per_client(world, settings):
    settings.ANON_INTAKE_RATE = "2/h"
    for _ in range(2):
        submit_report(report(), by=ANONYMOUS, client="10.0.0.1")
    before = counts()
    with pytest.raises(RateLimited) as exc:
        submit_report(report(), by=ANONYMOUS, client="10.0.0.1")
    assert (exc.value.status, exc.value.code) == (429, "rate_limited")
    assert counts() == before
    # Another client is not held back by the first one.
    assert submit_report(report(), by=ANONYMOUS, client="10.0.0.2")[1]


def test_retry_of_an_accepted_anonymous_report_is_not_rate_limited(world, settings):
    settings.ANON_INTAKE_RATE = "1/h"
    first, _ = submit_report(report(), by=ANONYMOUS, client="10.0.0.1", idempotency_key="form-1")
    again, created = submit_report(
        report(), by=ANONYMOUS, client="10.0.0.1", idempotency_key="form-1"
    )
    assert (again.pk, created) == (first.pk, False)


def test_signed_in_reporters_are_not_rate_limited(world, settings):
    settings.ANON_INTAKE_RATE = "1/h"
    for _ in range(3):
        assert submit_report(report(), by=world.reporter, client="10.0.0.1")[1]


# --- assets --------------------------------------------------------------------------------
@pytest.fixture
def unit(world):
    """2号空调 in room E03-201."""
    return make_asset("E03-201-AC2", name="2号空调", place=world.room)


@pytest.mark.parametrize("place", ["", "E03-201", "E03-2F", "E03", "E"])
def test_an_asset_puts_the_order_at_its_place(world, unit, place):
    order, created = submit_report(
        report(place=place, asset="E03-201-AC2"), by=ANONYMOUS, client="10.0.0.1"
    )
    assert created
    order.refresh_from_db()
    assert (order.asset, order.place) == (unit, world.room)
    assert order.events.get().data["asset"] == "E03-201-AC2"


def test_without_an_asset_nothing_is_named(world):
    order, _created = submit_report(report(), by=ANONYMOUS, client="10.0.0.1")
    assert order.asset is None
    assert "asset" not in order.events.get().data


@pytest.mark.parametrize(
    ("asset", "place", "code", "message"),
    [
        ("E03-201-AC9", "", "unknown_asset", "未知的设备编码“E03-201-AC9”，请核对设备上的标签。"),
        (
            "E03-201-AC2",
            "E03-305",
            "invalid",
            "设备 2号空调（E03-201-AC2） 不在所选地点“东校区 / 3号楼 / 2层 / 305”。",
        ),
    ],
)
def test_an_unknown_asset_or_one_elsewhere_is_refused(
    world, unit, nothing_created, asset, place, code, message
):
    make_room("E03-305")
    with pytest.raises(InvalidInput) as exc:
        submit_report(report(asset=asset, place=place), by=world.agent)
    assert (exc.value.code, exc.value.field, exc.value.message) == (code, "asset", message)


def test_an_asset_out_of_service_is_refused(world, unit, nothing_created):
    Asset.objects.filter(pk=unit.pk).update(is_active=False)
    with pytest.raises(InvalidInput) as exc:
        submit_report(report(asset="E03-201-AC2"), by=world.agent)
    assert (exc.value.field, exc.value.message) == (
        "asset",
        "设备 2号空调（E03-201-AC2） 已停用，请直接选择地点报修。",
    )
