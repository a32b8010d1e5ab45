"""Uploads are judged by content, not name: photos come back as fresh JPEGs without EXIF (no GPS
position leaks), videos are kept as sent, and anything else is refused with a clear message."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from PIL import ExifTags, Image

from repairhub.lib.uploads import MAX_IMAGE_EDGE, clean_upload

MP4_HEADER = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00isommp42" + b"\x00\x00\x00\x08free"


def png_with_gps(size=(40, 30), mode="RGBA") -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneCam"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (30.0, 30.0, 0.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (114.0, 24.0, 0.0),
    }
    out = io.BytesIO()
    Image.new(mode, size, (200, 10, 10, 255)).save(out, format="PNG", exif=exif)
    return out.getvalue()


def jpeg(size=(40, 20), orientation: int | None = None, noise: bool = False) -> bytes:
    img = Image.effect_noise(size, 80).convert("RGB") if noise else Image.new("RGB", size, "blue")
    exif = Image.Exif()
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_photo_with_gps_comes_back_as_jpeg_without_exif():
    data = png_with_gps()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # it was there

    clean = clean_upload("IMG_0001.png", data)

    assert (clean.kind, clean.content_type, clean.extension) == ("image", "image/jpeg", "jpg")
    assert clean.original_name == "IMG_0001.png"
    with Image.open(io.BytesIO(clean.data)) as img:
        assert img.format == "JPEG"
        assert img.mode == "RGB"
        assert img.size == (40, 30)
        assert dict(img.getexif()) == {}
    assert b"Exif" not in clean.data and b"PhoneCam" not in clean.data


def test_photo_orientation_is_applied_before_exif_is_dropped():
    clean = clean_upload("sideways.jpg", jpeg(size=(40, 20), orientation=6))
    with Image.open(io.BytesIO(clean.data)) as img:
        assert img.size == (20, 40)
        assert dict(img.getexif()) == {}


def test_large_photo_is_scaled_down_to_the_longest_edge_limit():
    clean = clean_upload("wide.jpg", jpeg(size=(MAX_IMAGE_EDGE * 2, 100)))
    with Image.open(io.BytesIO(clean.data)) as img:
        assert img.size == (MAX_IMAGE_EDGE, 50)


def test_text_file_named_like_a_photo_is_refused():
    with pytest.raises(ValidationError) as exc:
        clean_upload("photo.jpg", "这不是照片\n".encode() * 50)
    assert exc.value.code == "unsupported_type"
    assert exc.value.messages == [
        "文件“photo.jpg”不是支持的照片或视频（支持 JPG、PNG、WebP、GIF、MP4、MOV、WebM）。"
    ]


def test_empty_file_is_refused():
    with pytest.raises(ValidationError) as exc:
        clean_upload("empty.jpg", b"")
    assert exc.value.code == "empty_file"


def test_oversize_photo_is_refused(settings):
    data = jpeg(size=(64, 64), noise=True)
    settings.UPLOAD_MAX_IMAGE_BYTES = len(data) - 1
    with pytest.raises(ValidationError) as exc:
        clean_upload("big.jpg", data)
    assert exc.value.code == "too_large"
    assert "big.jpg" in exc.value.messages[0]


def test_photo_at_the_size_limit_is_accepted(settings):
    data = jpeg(size=(64, 64), noise=True)
    settings.UPLOAD_MAX_IMAGE_BYTES = len(data)
    assert clean_upload("ok.jpg", data).kind == "image"


def test_truncated_photo_is_refused():
    data = jpeg(size=(400, 300), noise=True)
    with pytest.raises(ValidationError) as exc:
        clean_upload("cut.jpg", data[: len(data) // 2])
    assert exc.value.code == "bad_image"
    assert exc.value.messages == ["照片“cut.jpg”已损坏或无法识别。"]


def test_truncated_png_is_refused():
    out = io.BytesIO()
    Image.effect_noise((300, 200), 80).save(out, format="PNG")
    data = out.getvalue()
    with pytest.raises(ValidationError) as exc:
        clean_upload("cut.png", data[: len(data) // 2])
    assert exc.value.code == "bad_image"


def test_decompression_bomb_is_refused():
    # 81 million pixels in a few kilobytes: decoding it would take gigabytes.
    out = io.BytesIO()
    Image.new("1", (9000, 9000)).save(out, format="PNG")
    with pytest.raises(ValidationError) as exc:
        clean_upload("bomb.png", out.getvalue())
    assert exc.value.code == "bad_image"


def test_mp4_is_accepted_as_video_and_kept_as_sent():
    data = MP4_HEADER + b"\x00" * 512
    clean = clean_upload("漏水.mp4", data)
    assert (clean.kind, clean.content_type, clean.extension) == ("video", "video/mp4", "mp4")
    assert clean.data == data
    assert clean.original_name == "漏水.mp4"


def test_oversize_video_is_refused(settings):
    data = MP4_HEADER + b"\x00" * 512
    settings.UPLOAD_MAX_VIDEO_BYTES = 256
    with pytest.raises(ValidationError) as exc:
        clean_upload("long.mp4", data)
    assert exc.value.code == "too_large"
    assert "long.mp4" in exc.value.messages[0]
