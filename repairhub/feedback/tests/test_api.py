"""/api/v1 feedback endpoints through HTTP: the permission matrix and clear refusals that
change nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from repairhub.accounts.services import issue_token
from repairhub.api.tests.conftest import Api
from repairhub.feedback.models import (
    ChecklistItem,
    Complaint,
    Penalty,
    QcCheck,
    Rating,
    Referral,
    SamplingRule,
    Visit,
)
from repairhub.testing.personas import make_ac_category, make_asset, make_order
from repairhub.workorders.services import close_order
from repairhub.workorders.states import Status

from .conftest import GOOD, png_bytes

pytestmark = pytest.mark.django_db
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
FRIDAY = dt.datetime(2026, 5, 15, 16, 0, tzinfo=SHANGHAI)
LATER = dt.datetime(2026, 5, 19, 17, 0, tzinfo=SHANGHAI)


@pytest.fixture
def api_as(world):
    def make(who: str) -> Api:
        return Api(Client(), issue_token(getattr(world, who), name="test"))

    return make


# --- ratings --------------------------------------------------------------------------------------


def test_reporter_rates_once_through_the_api(world, api_as):
    order = world.order(Status.COMPLETED)
    api = api_as("reporter")

    r = api.post(f"/orders/{order.number}/rating", {**GOOD, "comment": "不错"})

    assert r.status_code == 201, r.json()
    body = r.json()
    assert (body["overall"], body["scores"]["timeliness"], body["editable"]) == (4, 5, True)
    assert body["dimensions"] == ["timeliness", "quality", "attitude", "result"]
    again = api.post(f"/orders/{order.number}/rating", GOOD)
    assert again.status_code == 409
    assert again.json() == {
        "code": "already_rated",
        "message": f"工单 {order.number} 已经评价过了，每张工单只能评价一次。",
    }
    seen = api_as("dispatcher").get(f"/orders/{order.number}/rating")
    assert (seen.status_code, seen.json()["comment"]) == (200, "不错")


def test_rating_out_of_range_is_422_and_changes_nothing(world, api_as):
    order = world.order(Status.COMPLETED)

    r = api_as("reporter").post(f"/orders/{order.number}/rating", {**GOOD, "quality": 6})

    assert r.status_code == 422
    assert r.json() == {
        "code": "invalid",
        "message": "“维修质量”的评分必须是 1 到 5 的整数。",
        "field": "quality",
    }
    order.refresh_from_db()
    assert (order.status, Rating.objects.count()) == (Status.COMPLETED, 0)


@pytest.mark.parametrize(
    ("who", "status"),
    [("reporter2", 404), ("technician", 403), ("dispatcher", 403), ("agent", 403)],
)
def test_only_the_reporter_rates_his_order(world, api_as, who, status):
    order = world.order(Status.COMPLETED)

    r = api_as(who).post(f"/orders/{order.number}/rating", GOOD)

    assert r.status_code == status
    order.refresh_from_db()
    assert (order.status, Rating.objects.count()) == (Status.COMPLETED, 0)


def test_tracking_link_rates_without_an_account(world, anon_api):
    order = make_order(world, Status.COMPLETED)

    r = anon_api.post(f"/tracking/{order.tracking_token}/rating", GOOD)

    assert r.status_code == 201
    assert anon_api.post("/tracking/nope/rating", GOOD).status_code == 404


@pytest.fixture
def anon_api(db, client) -> Api:
    return Api(client)


def test_changing_a_rating(world, api_as):
    order = world.order(Status.COMPLETED)
    api = api_as("reporter")
    api.post(f"/orders/{order.number}/rating", GOOD)

    r = api.put(f"/orders/{order.number}/rating", {**GOOD, "quality": 1, "result": 1})

    assert (r.status_code, r.json()["overall"]) == (200, 3)
    assert api_as("reporter2").put(f"/orders/{order.number}/rating", GOOD).status_code == 404


# --- follow-ups -----------------------------------------------------------------------------------


def test_follow_up_queue_and_visit(world, api_as):
    with time_machine.travel(FRIDAY, tick=False):
        order = world.order(Status.COMPLETED)
    agent = api_as("agent")

    with time_machine.travel(LATER, tick=False):
        queue = agent.get("/followups")
        r = agent.post(
            f"/orders/{order.number}/visits",
            {"reached": True, "fixed": False, "satisfied": False, "notes": "还是坏的"},
        )

    assert queue.json()["count"] == 1
    item = queue.json()["items"][0]
    assert (item["number"], item["kind"], item["reporter_phone"]) == (
        order.number,
        "completed",
        "13800001111",
    )
    assert r.status_code == 201
    body = r.json()
    assert (body["follow_up_status"], body["fixed"]) == ("done", False)
    referral = Referral.objects.get()
    assert body["referral"] == referral.pk
    manager = api_as("manager")
    assert [i["id"] for i in manager.get("/referrals").json()["items"]] == [referral.pk]
    closed = manager.post(f"/referrals/{referral.pk}/close", {"action": "返工"})
    assert (closed.status_code, closed.json()["status"]) == (200, "closed")


def test_visit_on_an_order_not_due_is_409(world, api_as):
    with time_machine.travel(FRIDAY, tick=False):
        order = world.order(Status.COMPLETED)
        r = api_as("agent").post(
            f"/orders/{order.number}/visits", {"reached": True, "fixed": True, "satisfied": True}
        )

    assert r.status_code == 409
    assert r.json() == {
        "code": "not_due",
        "message": f"工单 {order.number} 还没到回访时间：2026-05-19 16:00 起才能回访。",
    }
    assert not Visit.objects.exists()


@pytest.mark.parametrize("who", ["technician", "reporter"])
def test_follow_up_queue_is_for_the_desk(world, api_as, who):
    assert api_as(who).get("/followups").status_code == 403
    assert api_as(who).get("/referrals").status_code == 403


# --- quality checks -------------------------------------------------------------------------------


def test_draw_photo_and_failed_check(world, api_as):
    SamplingRule.objects.create(target_percent=Decimal("100"))
    item = ChecklistItem.objects.create(text="现场已清理")
    with time_machine.travel(FRIDAY, tick=False):
        order = world.order(Status.COMPLETED)
    inspector = api_as("qc_inspector")

    with time_machine.travel(LATER, tick=False):
        drawn = inspector.post(
            "/qc/draws", {"start": "2026-05-01", "end": "2026-05-19", "seed": "s"}
        )
    assert drawn.status_code == 201
    assert drawn.json()["picked"] == [order.number]
    check = QcCheck.objects.get()
    listed = inspector.get("/qc/checks").json()["items"][0]
    assert listed["checklist"] == [{"id": item.pk, "text": "现场已清理"}]

    no_photo = inspector.post(
        f"/qc/checks/{check.pk}/result",
        {"passed": False, "answers": {str(item.pk): False}, "note": "垃圾未清"},
    )
    assert (no_photo.status_code, no_photo.json()["field"]) == (422, "photos")
    photos = inspector.upload(
        f"/qc/checks/{check.pk}/photos", [SimpleUploadedFile("a.png", png_bytes(), "image/png")]
    )
    assert (photos.status_code, photos.json()["photos"]) == (201, 1)
    r = inspector.post(
        f"/qc/checks/{check.pk}/result",
        {
            "passed": False,
            "answers": {str(item.pk): False},
            "note": "垃圾未清",
            "technician": "technician2",
        },
    )

    assert r.status_code == 200, r.json()
    assert (r.json()["status"], r.json()["rework_order"]) == ("failed", order.number)
    order.refresh_from_db()
    assert (order.status, order.assignee) == (Status.DISPATCHED, world.technician2)
    assert Penalty.objects.get().technician == world.technician
    summary = inspector.get("/qc/summary", {"start": "2026-05-01", "end": "2026-06-01"}).json()
    assert (summary["checked"], summary["completed"], summary["meets_target"]) == (1, 1, True)


def test_checks_are_for_inspectors(world, api_as):
    assert api_as("technician").get("/qc/checks").status_code == 403
    r = api_as("technician").post("/qc/draws", {"start": "2026-05-01", "end": "2026-05-02"})
    assert r.status_code == 403


# --- warranty -------------------------------------------------------------------------------------


def test_candidate_link_and_rates(world, api_as):
    with time_machine.travel(FRIDAY, tick=False):
        original = world.order(Status.COMPLETED)
        close_order(original, by=world.dispatcher)
    with time_machine.travel(LATER, tick=False):
        again = world.order(Status.SUBMITTED)
        agent = api_as("agent")
        found = agent.get("/rework-candidate", {"place": world.room.code, "category": "lamp"})
        linked = agent.post(f"/orders/{again.number}/rework", {"original": original.number})

    assert found.json()["original"] == original.number
    assert linked.status_code == 201
    assert (linked.json()["source"], linked.json()["technician"]) == ("warranty", "technician")
    rates = api_as("manager").get("/rework-rates", {"start": "2026-05-01", "end": "2026-06-01"})
    assert rates.json() == [
        {"key": "technician", "name": "technician", "completed": 1, "reworked": 1, "rate": "100.0"}
    ]
    assert (
        api_as("technician")
        .get("/rework-rates", {"start": "2026-05-01", "end": "2026-06-01"})
        .status_code
        == 403
    )


# --- complaints -----------------------------------------------------------------------------------


COMPLAINT = {
    "channel": "phone",
    "category": "repair",
    "description": "维修工态度差",
    "complainant_name": "赵六",
    "complainant_phone": "13800007777",
    "person": "technician2",
}


def test_candidate_for_an_asset_is_its_own_repair(world, api_as):
    ac = make_ac_category()
    unit = make_asset("E03-201-AC2", name="2号空调", place=world.room, category=ac)
    other = make_asset("E03-201-AC1", name="1号空调", place=world.room, category=ac)
    with time_machine.travel(FRIDAY, tick=False):
        neighbours = world.order(Status.COMPLETED, category=ac, asset=other)
        close_order(neighbours, by=world.dispatcher)
    agent = api_as("agent")
    with time_machine.travel(LATER, tick=False):
        mine = agent.get("/rework-candidate", {"asset": unit.code, "category": "ac"})
        theirs = agent.get("/rework-candidate", {"asset": other.code, "category": "ac"})
        unknown = agent.get("/rework-candidate", {"asset": "E03-201-AC9", "category": "ac"})

    assert (mine.status_code, mine.json()["original"]) == (200, None)
    assert theirs.json()["original"] == neighbours.number
    assert unknown.status_code == 422
    assert unknown.json() == {
        "code": "invalid",
        "message": "未知的设备编码“E03-201-AC9”，请核对设备上的标签。",
        "field": "asset",
    }


def test_complaint_without_a_channel_is_422_and_changes_nothing(world, departments, api_as):
    r = api_as("agent").post("/complaints", {**COMPLAINT, "channel": None})

    assert r.status_code == 422
    assert r.json() == {
        "code": "required",
        "message": "请选择投诉渠道：电话、网上、来访或信件。",
        "field": "channel",
    }
    assert not Complaint.objects.exists()


def test_complaint_visibility_matrix(world, departments, api_as):
    _repairs, _canteen, canteen_agent = departments
    created = api_as("agent").post("/complaints", COMPLAINT)
    assert created.status_code == 201, created.json()
    number = created.json()["number"]
    other = Api(Client(), issue_token(canteen_agent, name="t"))

    assert other.get(f"/complaints/{number}").status_code == 404
    assert other.get("/complaints").json()["count"] == 0
    assert (
        other.post(f"/complaints/{number}/entries", {"kind": "contact", "text": "x"}).status_code
        == 404
    )
    for who in ("agent", "manager", "team_lead"):
        body = api_as(who).get(f"/complaints/{number}").json()
        assert (body["complainant_name"], body["complainant_phone"]) == ("赵六", "13800007777")
    subject = api_as("technician2").get(f"/complaints/{number}")
    assert subject.status_code == 200
    assert (subject.json()["complainant_name"], subject.json()["complainant_phone"]) == (None, None)
    assert "赵六" not in subject.content.decode()
    assert "13800007777" not in subject.content.decode()
    assert api_as("technician").get(f"/complaints/{number}").status_code == 404
    assert (
        api_as("technician2")
        .post(f"/complaints/{number}/entries", {"kind": "contact", "text": "我来"})
        .status_code
        == 403
    )


def test_handling_through_the_api(world, departments, api_as):
    number = api_as("agent").post("/complaints", COMPLAINT).json()["number"]
    agent = api_as("agent")

    early = agent.post(f"/complaints/{number}/entries", {"kind": "resolution", "text": "已处理"})
    assert early.status_code == 409
    contact = agent.post(f"/complaints/{number}/entries", {"kind": "contact", "text": "已致电"})
    assert contact.status_code == 201
    assert contact.json()["status"] == "in_progress"
    assert contact.json()["first_contact_at"] is not None
    assert [e["kind"] for e in contact.json()["entries"]] == ["contact"]


def test_a_reporter_complains_on_the_web_but_not_by_phone(world, departments, api_as):
    reporter = api_as("reporter")
    web = reporter.post(
        "/complaints", {"channel": "web", "category": "canteen", "description": "饭菜太咸"}
    )
    assert web.status_code == 201
    assert reporter.get("/complaints").json()["count"] == 1
    assert reporter.post("/complaints", COMPLAINT).status_code == 403


def test_a_letter_with_its_scan(world, departments, api_as):
    api = api_as("agent")
    fields = {k: v for k, v in COMPLAINT.items() if k not in ("channel", "complainant_phone")}

    r = api.client.post(
        "/api/v1/complaints/letters",
        {**fields, "scan": SimpleUploadedFile("letter.pdf", b"%PDF-1.4 x", "application/pdf")},
        headers={"Authorization": f"Bearer {api.token}"},
    )

    assert r.status_code == 201, r.json()
    assert Complaint.objects.get().scan.name.endswith(".pdf")
    no_scan = api.post("/complaints", {**COMPLAINT, "channel": "letter"})
    assert (no_scan.status_code, no_scan.json()["field"]) == (422, "scan")


# --- inspections ----------------------------------------------------------------------------------


def test_inspection_to_closure_through_the_api(world, api_as):
    inspector = api_as("qc_inspector")
    planned = inspector.post(
        "/inspections", {"kind": "planned", "team": "power-a", "scheduled_for": "2026-06-01"}
    )
    assert planned.status_code == 201
    pk = planned.json()["id"]
    recorded = inspector.post(
        f"/inspections/{pk}/record",
        {
            "summary": "工具间杂乱",
            "findings": [
                {
                    "text": "工具未归位",
                    "task": "整理",
                    "assignee": "technician",
                    "due_date": "2026-06-05",
                }
            ],
        },
    )
    assert recorded.json()["status"] == "open"
    rect = recorded.json()["findings"][0]["rectifications"][0]["id"]

    technician = api_as("technician")
    assert technician.get(f"/inspections/{pk}").status_code == 200
    assert api_as("technician2").get(f"/inspections/{pk}").status_code == 404
    assert technician.post(f"/rectifications/{rect}/done", {"note": "已整理"}).status_code == 200
    done = inspector.post(f"/rectifications/{rect}/verify", {"accepted": True})
    assert done.json()["status"] == "closed"
    assert (
        api_as("agent").post("/inspections", {"kind": "unplanned", "team": "power-a"}).status_code
        == 403
    )
