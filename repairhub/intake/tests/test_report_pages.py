"""The reporter's H5 form: QR entry, place menu, photos, idempotency, duplicates, follow."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from repairhub.workorders.models import Attachment, Channel, Follower, WorkOrder
from repairhub.workorders.states import Status

from .conftest import png_with_gps

pytestmark = pytest.mark.django_db

QR_URL = "/r/E03-201"


def test_qr_page_shows_the_place_locked_and_a_grouped_menu(client, world):
    response = client.get(QR_URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert "东校区 / 3号楼 / 2层 / 201" in html
    assert '<input type="hidden" name="place" value="E03-201">' in html
    assert '<optgroup label="水电">' in html
    assert '<option value="lamp">灯具</option>' in html
    assert 'name="token" value="' in html
    assert 'accept="image/*,video/*"' in html


def test_qr_with_unknown_code_is_404(client, world):
    assert client.get("/r/NOPE-1").status_code == 404


def test_qr_report_creates_one_order_with_a_clean_photo(client, world, report_data):
    response = client.post(QR_URL, {**report_data, "files": [png_with_gps()]})
    order = WorkOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/t/{order.tracking_token}?new=1"
    assert (order.channel, order.place, order.status) == (Channel.QR, world.room, Status.SUBMITTED)
    assert (order.reporter_name, order.reporter_phone, order.reporter) == (
        "李四",
        "13812345678",
        None,
    )
    assert order.urgency == world.category.default_urgency
    attachment = Attachment.objects.get(order=order)
    assert (attachment.kind, attachment.content_type) == ("image", "image/jpeg")
    with attachment.file.open("rb") as f, Image.open(io.BytesIO(f.read())) as stored:
        assert stored.format == "JPEG"
        assert dict(stored.getexif()) == {}


def test_bad_file_shows_an_error_keeps_the_form_and_creates_nothing(client, world, report_data):
    bad = SimpleUploadedFile("photo.jpg", b"this is not a picture", content_type="image/jpeg")
    response = client.post(QR_URL, {**report_data, "files": [png_with_gps(), bad]})
    html = response.content.decode()
    assert response.status_code == 422
    assert "文件“photo.jpg”不是支持的照片或视频" in html
    assert "其他内容已保留，请重新选择文件。" in html
    assert "宿舍灯管不亮</textarea>" in html
    assert 'value="李四"' in html and 'value="13812345678"' in html
    assert '<option value="lamp" selected>灯具</option>' in html
    assert 'name="token" value="tok-1"' in html
    assert WorkOrder.objects.count() == 0
    assert Attachment.objects.count() == 0


def test_the_same_token_posted_twice_gives_one_order(client, world, report_data):
    first = client.post(QR_URL, report_data)
    second = client.post(QR_URL, report_data)
    order = WorkOrder.objects.get()
    assert first["Location"] == second["Location"] == f"/t/{order.tracking_token}?new=1"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"description": ""}, "请描述故障情况。"),
        ({"category": "nope"}, "请从列表中选择报修类别。"),
        ({"reporter_phone": "1381234567"}, "电话号码格式不正确"),
        ({"reporter_name": ""}, "请填写报修人姓名。"),
    ],
)
def test_invalid_input_gets_a_chinese_error_and_no_order(
    client, world, report_data, change, message
):
    response = client.post(QR_URL, {**report_data, **change})
    assert response.status_code == 422
    assert message in response.content.decode()
    assert WorkOrder.objects.count() == 0


def test_web_report_needs_a_place_or_an_address(client, world, report_data):
    response = client.post("/report/", report_data)
    assert response.status_code == 422
    assert "请选择报修地点或填写详细地址。" in response.content.decode()
    assert WorkOrder.objects.count() == 0


def test_web_report_takes_the_deepest_place_chosen(client, world, report_data):
    data = {**report_data, "place": ["E", "E03", "E03-2F", "E03-201"]}
    response = client.post("/report/", data)
    order = WorkOrder.objects.get()
    assert response.status_code == 302
    assert (order.channel, order.place) == (Channel.WEB, world.room)


def test_web_report_with_a_free_text_address(client, world, report_data):
    client.post("/report/", {**report_data, "place": "", "address": "图书馆东门"})
    order = WorkOrder.objects.get()
    assert (order.place, order.address) == (None, "图书馆东门")


def test_signed_in_reporter_gets_his_contact_filled_and_owns_the_order(client, world, report_data):
    client.force_login(world.reporter)
    html = client.get("/report/").content.decode()
    assert 'value="reporter"' in html and 'value="13800001111"' in html
    client.post(QR_URL, report_data)
    assert WorkOrder.objects.get().reporter == world.reporter


def test_anonymous_reports_are_rate_limited_per_address(client, world, report_data, settings):
    settings.ANON_INTAKE_RATE = "1/h"
    client.post(QR_URL, report_data)
    response = client.post(QR_URL, {**report_data, "token": "tok-2"})
    assert response.status_code == 429
    assert "提交过于频繁，请稍后再试" in response.content.decode()
    assert WorkOrder.objects.count() == 1


def test_places_fragment_cascades_to_the_children(client, world):
    response = client.get("/report/places/", {"place": "E"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith('<div id="place-chain"')
    assert '<option value="E" selected>东校区</option>' in html
    assert '<option value="E">请选择楼宇</option>' in html
    assert '<option value="E03">3号楼</option>' in html
    assert "请选择楼层" not in html


def test_duplicates_fragment_lists_open_orders_at_the_place(client, world):
    order = world.order(Status.ACCEPTED)
    world.order(Status.CLOSED)
    response = client.get("/report/duplicates/", {"place": "E03-201", "category": "lamp"})
    html = response.content.decode()
    assert "这里已有 1 个相同的报修正在处理" in html
    assert order.number in html and "已受理" in html
    assert f'formaction="/report/follow/{order.number}/"' in html


def test_qr_form_shows_the_hint_once_the_category_is_known(client, world, report_data):
    order = world.order()
    html = client.post(QR_URL, {**report_data, "description": ""}).content.decode()
    assert "这里已有 1 个相同的报修正在处理" in html and order.number in html


def test_follow_creates_a_follower_with_his_own_link(client, world, report_data):
    order = world.order()
    data = {**report_data, "place": "E03-201", "from_qr": "1"}
    response = client.post(f"/report/follow/{order.number}/", data)
    follower = Follower.objects.get()
    assert response["Location"] == f"/t/{follower.tracking_token}?followed=1"
    assert (follower.order, follower.name, follower.phone) == (order, "李四", "13812345678")
    assert WorkOrder.objects.count() == 1


def test_follow_without_a_phone_is_refused_and_the_form_kept(client, world, report_data):
    order = world.order()
    data = {**report_data, "place": "E03-201", "from_qr": "1", "reporter_phone": ""}
    response = client.post(f"/report/follow/{order.number}/", data)
    html = response.content.decode()
    assert response.status_code == 422
    assert "关注工单需要填写联系电话。" in html
    assert "东校区 / 3号楼 / 2层 / 201" in html and "宿舍灯管不亮</textarea>" in html
    assert 'action="/r/E03-201"' in html
    assert Follower.objects.count() == 0


def test_follow_of_an_order_elsewhere_is_refused(client, world, report_data):
    order = world.order()
    data = {**report_data, "place": "E03"}
    response = client.post(f"/report/follow/{order.number}/", data)
    assert response.status_code == 422
    assert "该工单已处理完毕或不在此地点，请直接报修。" in response.content.decode()
    assert Follower.objects.count() == 0


def test_without_javascript_the_next_place_level_comes_from_a_button(client, world, report_data):
    response = client.post("/report/", {**report_data, "place": "E", "step": "place"})
    html = response.content.decode()
    assert response.status_code == 200
    assert '<option value="E03">3号楼</option>' in html
    assert "宿舍灯管不亮</textarea>" in html
    assert 'class="errorlist"' not in html
    assert WorkOrder.objects.count() == 0
