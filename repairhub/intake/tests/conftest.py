"""Shared helpers for the intake page tests."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image


def png_with_gps(name: str = "broken-lamp.png") -> SimpleUploadedFile:
    """A real PNG carrying a GPS position in its EXIF, as a phone camera would write it."""
    img = Image.new("RGB", (64, 48), (200, 40, 40))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Phone"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (30.0, 30.0, 0.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (114.0, 24.0, 0.0),
    }
    buf = io.BytesIO()
    img.save(buf, format="PNG", exif=exif.tobytes())
    data = buf.getvalue()
    with Image.open(io.BytesIO(data)) as check:
        check.load()  # PNG keeps EXIF in a chunk read with the pixels
        assert check.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the fixture really has GPS
    return SimpleUploadedFile(name, data, content_type="image/png")


@pytest.fixture
def report_data(world):
    """A complete QR report as the phone form posts it."""
    return {
        "token": "tok-1",
        "category": world.category.code,
        "description": "宿舍灯管不亮",
        "reporter_name": "李四",
        "reporter_phone": "13812345678",
        "urgency": "",
        "preferred_time": "",
    }
