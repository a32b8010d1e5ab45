from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from repairhub.workorders.models import Attachment, WorkOrder


def png_with_exif() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0131] = "CameraApp 1.0"  # Software
    out = io.BytesIO()
    image.save(out, format="PNG", exif=exif)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif()[0x010F] == "PhoneMaker"
    return data


def png(name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_with_exif(), content_type="image/png")


def events_of(order: WorkOrder) -> int:
    return order.events.count()


def test_png_is_stored_as_jpeg_without_exif(world, api_as):
    order = world.order("in_progress")

    r = api_as("technician").upload(f"/orders/{order.number}/attachments", [png()])

    assert r.status_code == 201, r.json()
    att = Attachment.objects.get()
    assert att.order == order
    assert att.kind == "image"
    assert att.content_type == "image/jpeg"
    assert att.original_name == "photo.png"
    assert att.file.name.endswith(".jpg")
    stored = att.file.read()
    assert stored[:3] == b"\xff\xd8\xff"
    with Image.open(io.BytesIO(stored)) as img:
        assert img.format == "JPEG"
        assert dict(img.getexif()) == {}
        assert img.size == (64, 48)
    body = r.json()
    assert body["attachments"] == [
        {
            "url": att.file.url,
            "kind": "image",
            "content_type": "image/jpeg",
            "size": len(stored),
            "original_name": "photo.png",
            "created_at": body["attachments"][0]["created_at"],
        }
    ]
    assert body["events"][-1]["code"] == "workorder.attachment_added"
    assert body["events"][-1]["channel"] == "api"


def test_several_files_at_once(world, api_as):
    order = world.order()

    r = api_as("reporter").upload(
        f"/orders/{order.number}/attachments", [png("a.png"), png("b.png")]
    )

    assert r.status_code == 201
    assert [a["original_name"] for a in r.json()["attachments"]] == ["a.png", "b.png"]


def test_text_file_named_jpg_is_refused_and_nothing_stored(world, api_as):
    order = world.order("in_progress")
    events = events_of(order)
    fake = SimpleUploadedFile("photo.jpg", b"just some text, not a photo\n" * 10, "image/jpeg")

    r = api_as("technician").upload(f"/orders/{order.number}/attachments", [png(), fake])

    assert r.status_code == 422
    assert r.json() == {
        "code": "unsupported_type",
        "field": "files",
        "message": "文件“photo.jpg”不是支持的照片或视频（支持 JPG、PNG、WebP、GIF、MP4、MOV、WebM）。",
    }
    assert Attachment.objects.count() == 0
    assert events_of(order) == events


def test_oversize_photo_is_refused(world, api_as, settings):
    settings.UPLOAD_MAX_IMAGE_BYTES = 100
    order = world.order("in_progress")

    r = api_as("technician").upload(f"/orders/{order.number}/attachments", [png()])

    assert r.status_code == 422
    assert r.json()["code"] == "too_large"
    assert r.json()["message"] == "照片“photo.png”太大：最大 0 MB。"
    assert Attachment.objects.count() == 0


def test_file_over_every_limit_is_refused_before_reading(world, api_as, settings):
    settings.UPLOAD_MAX_IMAGE_BYTES = 1024 * 1024
    settings.UPLOAD_MAX_VIDEO_BYTES = 2 * 1024 * 1024
    order = world.order("in_progress")
    huge = SimpleUploadedFile("big.mp4", b"\0" * (2 * 1024 * 1024 + 1), "video/mp4")

    r = api_as("technician").upload(f"/orders/{order.number}/attachments", [huge])

    assert r.status_code == 422
    assert r.json() == {
        "code": "too_large",
        "field": "files",
        "message": "文件“big.mp4”太大：最大 2 MB。",
    }
    assert Attachment.objects.count() == 0


def test_too_many_files_are_refused(world, api_as, settings):
    settings.UPLOAD_MAX_FILES = 1
    order = world.order()

    r = api_as("reporter").upload(
        f"/orders/{order.number}/attachments", [png("a.png"), png("b.png")]
    )

    assert r.status_code == 422
    assert r.json()["code"] == "too_many_files"
    assert Attachment.objects.count() == 0


def test_no_files_is_422(world, api_as):
    order = world.order()

    r = api_as("reporter").upload(f"/orders/{order.number}/attachments", [])

    assert r.status_code == 422
    assert r.json() == {"code": "invalid", "field": "files", "message": "字段 files：必须填写。"}


def test_someone_who_cannot_see_the_order_gets_404(world, api_as):
    order = world.order("in_progress")

    r = api_as("technician2").upload(f"/orders/{order.number}/attachments", [png()])

    assert r.status_code == 404
    assert Attachment.objects.count() == 0


def test_viewer_without_upload_right_gets_403(world, api_as):
    order = world.order("dispatched")

    r = api_as("team_lead").upload(f"/orders/{order.number}/attachments", [png()])

    assert r.status_code == 403
    assert r.json() == {"code": "forbidden", "message": "您无权为该工单上传附件。"}
    assert Attachment.objects.count() == 0


def test_finished_order_takes_no_attachments(world, api_as):
    order = world.order("closed")

    r = api_as("dispatcher").upload(f"/orders/{order.number}/attachments", [png()])

    assert r.status_code == 422
    assert r.json() == {"code": "closed", "message": "工单已结束，不能再上传附件。"}
    assert Attachment.objects.count() == 0
