"""The back office as a whole: people, categories, orders (look only) and the outbox."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from repairhub.accounts.models import ApiToken, RoleGrant, User
from repairhub.accounts.roles import Role
from repairhub.accounts.services import issue_token
from repairhub.notify.models import Message
from repairhub.testing.personas import make_category, make_user
from repairhub.workorders.admin import CategoryForm
from repairhub.workorders.models import Category, WorkOrder
from repairhub.workorders.states import Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, world):
    client.force_login(world.admin)
    return client


def test_site_header_is_chinese(staff):
    assert "报修云管理后台" in staff.get(reverse("admin:index")).content.decode()


def test_only_the_admin_role_gets_in(client, world):
    client.force_login(world.manager)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_user_list_masks_phones_and_the_form_shows_them_decrypted(staff, world):
    listing = staff.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "138****1111" in listing
    assert "13800001111" not in listing
    page = staff.get(reverse("admin:accounts_user_change", args=[world.reporter.pk]))
    assert 'value="13800001111"' in page.content.decode()


def _user_post(user: User, **changes) -> dict:
    data = {
        "username": user.username,
        "display_name": user.display_name,
        "phone": user.phone,
        "email": user.email,
        "team": user.team_id or "",
        "is_active": "on",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "08:00:00",
        "role_grants-TOTAL_FORMS": "0",
        "role_grants-INITIAL_FORMS": "0",
        "role_grants-MIN_NUM_FORMS": "0",
        "role_grants-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def test_phone_is_normalised_and_indexed_or_refused_in_chinese(staff, world):
    url = reverse("admin:accounts_user_change", args=[world.reporter2.pk])
    bad = staff.post(url, _user_post(world.reporter2, phone="12-ab"))
    assert bad.status_code == 200
    assert "电话号码格式不正确" in bad.content.decode()
    world.reporter2.refresh_from_db()
    assert world.reporter2.phone == "13800002222"

    good = staff.post(url, _user_post(world.reporter2, phone="+86 139-0000-1234"))
    assert good.status_code == 302
    user = User.objects.get(pk=world.reporter2.pk)
    assert user.phone == "13900001234"
    assert User.objects.filter(phone_index=user.phone_index).get() == user


def test_granting_the_admin_role_opens_the_back_office(staff, world):
    user = world.manager
    data = _user_post(user)
    data.update(
        {
            "role_grants-TOTAL_FORMS": "2",
            "role_grants-INITIAL_FORMS": "1",
            "role_grants-0-id": str(user.role_grants.get().pk),
            "role_grants-0-user": str(user.pk),
            "role_grants-0-role": Role.MANAGER,
            "role_grants-1-user": str(user.pk),
            "role_grants-1-role": Role.ADMIN,
        }
    )
    response = staff.post(reverse("admin:accounts_user_change", args=[user.pk]), data)
    assert response.status_code == 302
    user = User.objects.get(pk=user.pk)
    assert set(RoleGrant.objects.filter(user=user).values_list("role", flat=True)) == {
        Role.MANAGER,
        Role.ADMIN,
    }
    assert user.is_staff and user.is_superuser


def test_api_tokens_are_look_only(staff, world):
    issue_token(world.partner, name="后勤平台")
    token = ApiToken.objects.get()
    assert staff.get(reverse("admin:accounts_apitoken_add")).status_code == 403
    page = staff.get(reverse("admin:accounts_apitoken_change", args=[token.pk])).content.decode()
    assert token.digest in page
    assert 'name="digest"' not in page and 'name="name"' not in page


def test_category_list_is_editable_with_the_two_level_check(staff, world):
    page = staff.get(reverse("admin:workorders_category_changelist")).content.decode()
    assert 'name="form-0-default_urgency"' in page and 'name="form-0-is_paid"' in page
    model_admin = admin.site._registry[Category]
    request = RequestFactory().get("/")
    request.user = world.admin
    assert issubclass(model_admin.get_changelist_form(request), CategoryForm)


def test_category_form_refuses_a_third_level_and_a_parent_for_a_parent(world):
    lamp = Category.objects.get(code="lamp")
    power = Category.objects.get(code="power")
    third = CategoryForm(
        data={"code": "bulb", "name": "灯泡", "parent": lamp.pk, "default_urgency": "normal"}
    )
    assert not third.is_valid()
    assert "parent" in third.errors  # only top-level categories are offered as parents
    door = make_category("door", name="门窗")  # top-level under "power" by default: move it up
    door.parent = None
    door.save()
    moved = CategoryForm(
        instance=power,
        data={"code": "power", "name": "水电", "parent": door.pk, "default_urgency": "normal"},
    )
    assert not moved.is_valid()
    assert "已有小类" in moved.errors["parent"][0]


def test_orders_are_shown_with_their_timeline_but_never_changed(staff, world):
    order = world.order(Status.IN_PROGRESS)
    url = reverse("admin:workorders_workorder_change", args=[order.pk])
    page = staff.get(url).content.decode()
    assert order.number in page
    assert "workorder.dispatched" in page and "workorder.arrived" in page
    assert "138****1111" in page and "13800001111" not in page
    assert staff.post(url, {"status": Status.CLOSED}).status_code == 403
    assert staff.get(reverse("admin:workorders_workorder_add")).status_code == 403
    delete = reverse("admin:workorders_workorder_delete", args=[order.pk])
    assert staff.post(delete, {"post": "yes"}).status_code == 403
    order.refresh_from_db()
    assert order.status == Status.IN_PROGRESS and WorkOrder.objects.count() == 1
    listing = staff.get(reverse("admin:workorders_workorder_changelist")).content.decode()
    assert order.number in listing


def test_outbox_is_listed_with_masked_numbers_and_read_only(staff, world):
    world.order()
    message = Message.objects.filter(channel="sms").first()
    assert message is not None
    listing = staff.get(reverse("admin:notify_message_changelist")).content.decode()
    assert message.order_number in listing and "138****1111" in listing
    assert staff.get(reverse("admin:notify_message_add")).status_code == 403
    url = reverse("admin:notify_message_change", args=[message.pk])
    assert staff.post(url, {"body": "x"}).status_code == 403


def test_team_list_counts_members(staff, world):
    make_user("newbie", Role.TECHNICIAN, team=world.team)
    page = staff.get(reverse("admin:accounts_team_changelist")).content.decode()
    assert "水电一班" in page
