"""Feedback test fixtures: the app's subscriber on, personas for departments and complaints."""

from __future__ import annotations

import pytest

SUBSCRIBER = "repairhub.feedback.services.on_order_event"


@pytest.fixture(autouse=True)
def _subscribed(monkeypatch):
    """Schedule follow-ups from work-order events, as workorders/subscribers.py will once the
    lead adds the line (until then the catch-up job does it)."""
    from repairhub.workorders import subscribers

    if SUBSCRIBER not in subscribers.SUBSCRIBERS:
        monkeypatch.setattr(subscribers, "SUBSCRIBERS", [*subscribers.SUBSCRIBERS, SUBSCRIBER])


def desk_order(world, status: str, *, channel: str = "phone", result: str = "success", **kw):
    """An order an agent registered on the phone (so its reporter also rates the agent),
    brought to `status` through the real lifecycle."""
    from repairhub.workorders.services import create_order
    from repairhub.workorders.walks import walk_to

    order, _created = create_order(
        category=kw.pop("category", world.category),
        place=kw.pop("place", world.room),
        description=kw.pop("description", "走廊灯不亮"),
        reporter_name="李四",
        reporter_phone="13800005555",
        channel=channel,
        by=world.agent,
        **kw,
    )
    return walk_to(
        order,
        status,
        actors={"agent": world.agent, "dispatcher": world.dispatcher},
        technician=world.technician,
        result=result,
    )


def link(order):
    from repairhub.workorders.actors import LinkHolder

    return LinkHolder(order.tracking_token)


GOOD = {"timeliness": 5, "quality": 4, "attitude": 4, "result": 4}


def png_bytes() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 24), (30, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def photo():
    from repairhub.lib.uploads import clean_upload

    return clean_upload("现场.png", png_bytes())


@pytest.fixture
def departments(world):
    """Two departments: repairs (agent and technician2 are members, the manager... no: the
    team lead heads it) and the canteen (its own agent); categories routed to them."""
    from repairhub.accounts.roles import Role
    from repairhub.feedback.models import ComplaintCategory, Department
    from repairhub.testing.personas import make_user

    repairs = Department.objects.create(code="repairs", name="维修中心", head=world.team_lead)
    repairs.members.add(world.agent, world.technician2)
    canteen = Department.objects.create(code="canteen", name="饮食中心")
    canteen_agent = make_user("canteen_agent", Role.AGENT)
    canteen.members.add(canteen_agent)
    ComplaintCategory.objects.filter(code="repair").update(department=repairs)
    ComplaintCategory.objects.filter(code="canteen").update(department=canteen)
    return repairs, canteen, canteen_agent
