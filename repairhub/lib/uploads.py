"""Checking what people upload: by content, not by name; bounded; photos re-encoded.

Photos are decoded and written anew as JPEG, which drops EXIF (and with it the GPS position a
phone camera records) after applying its orientation. Videos are kept as sent, bounded in size.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp", "image/gif", "image/bmp"}
VIDEO_TYPES = {
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
    "video/3gpp": "3gp",
}
MAX_IMAGE_EDGE = 2560
Image.MAX_IMAGE_PIXELS = 40_000_000


@dataclass
class CleanUpload:
    kind: str  # "image" | "video"
    content_type: str
    extension: str
    data: bytes
    original_name: str


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB"


def clean_upload(name: str, data: bytes) -> CleanUpload:
    """Return a safe version of an upload, or raise ValidationError saying what is wrong."""
    if not data:
        raise ValidationError(_("文件“%(name)s”是空的。") % {"name": name}, code="empty_file")
    kind = filetype.guess(data[:8192])
    mime = kind.mime if kind else ""
    if mime in IMAGE_TYPES:
        if len(data) > settings.UPLOAD_MAX_IMAGE_BYTES:
            raise ValidationError(
                _("照片“%(name)s”太大：最大 %(max)s。")
                % {"name": name, "max": _mb(settings.UPLOAD_MAX_IMAGE_BYTES)},
                code="too_large",
            )
        return CleanUpload("image", "image/jpeg", "jpg", _reencode(name, data), name[:200])
    if mime in VIDEO_TYPES:
        if len(data) > settings.UPLOAD_MAX_VIDEO_BYTES:
            raise ValidationError(
                _("视频“%(name)s”太大：最大 %(max)s，请拍摄短视频。")
                % {"name": name, "max": _mb(settings.UPLOAD_MAX_VIDEO_BYTES)},
                code="too_large",
            )
        return CleanUpload("video", mime, VIDEO_TYPES[mime], data, name[:200])
    raise ValidationError(
        _("文件“%(name)s”不是支持的照片或视频（支持 JPG、PNG、WebP、GIF、MP4、MOV、WebM）。")
        % {"name": name},
        code="unsupported_type",
    )


def _reencode(name: str, data: bytes) -> bytes:
    try:
        with Image.open(io.BytesIO(data)) as img:
            img = ImageOps.exif_transpose(img)
            img.thumbnail((MAX_IMAGE_EDGE, MAX_IMAGE_EDGE))
            if img.mode not in ("RGB", "L"):
                img = img.convert("RGB")
            out = io.BytesIO()
            img.save(out, format="JPEG", quality=85, optimize=True)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError):
        raise ValidationError(
            _("照片“%(name)s”已损坏或无法识别。") % {"name": name}, code="bad_image"
        ) from None
    return out.getvalue()
