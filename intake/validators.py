"""Checks of what citizens and staff send with an appeal: uploads, and the received time that
every door (the appeals API, platform pushes) validates with the same function."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

IMAGE_EXTENSIONS = {"jpg", "jpeg", "png", "webp"}
AUDIO_EXTENSIONS = {"mp3", "m4a", "amr", "wav"}

# The first bytes of each allowed format: the extension alone is the sender's word, not a fact.
_MAGIC = {
    "jpg": [b"\xff\xd8\xff"],
    "jpeg": [b"\xff\xd8\xff"],
    "png": [b"\x89PNG\r\n\x1a\n"],
    "webp": [b"RIFF"],
    "mp3": [b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"],
    "m4a": [],  # an ISO box: "ftyp" at offset 4, checked below
    "amr": [b"#!AMR"],
    "wav": [b"RIFF"],
}


def validate_attachment(upload) -> str:
    """The attachment type ("image"/"audio") of an upload, or a ValidationError in Chinese."""
    name = (getattr(upload, "name", "") or "").lower()
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    if ext in IMAGE_EXTENSIONS:
        kind, limit = "image", settings.INTAKE_IMAGE_MAX_BYTES
    elif ext in AUDIO_EXTENSIONS:
        kind, limit = "audio", settings.INTAKE_AUDIO_MAX_BYTES
    else:
        raise ValidationError(
            _("不支持的文件类型，只能上传图片（jpg、png、webp）或录音（mp3、m4a、amr、wav）。"), code="type"
        )
    if (upload.size or 0) > limit:
        raise ValidationError(
            _("文件过大：%(kind)s不能超过 %(limit)s。")
            % {"kind": _("图片") if kind == "image" else _("录音"), "limit": filesizeformat(limit)},
            code="size",
        )
    if not upload.size:
        raise ValidationError(_("文件是空的。"), code="empty")
    head = upload.read(16)
    upload.seek(0)
    magics = _MAGIC[ext]
    ok = head[4:8] == b"ftyp" if ext == "m4a" else any(head.startswith(m) for m in magics)
    if not ok:
        raise ValidationError(_("文件内容与扩展名不符，请上传真实的图片或录音。"), code="content")
    return kind


# Nothing this platform receives was written before 2000; a year like 812 is a typing or
# conversion error that would sink the appeal to the bottom of every list and skew the figures.
EARLIEST_RECEIVED_AT = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
# Clocks of the sending platforms drift a little; more than this ahead is an error.
RECEIVED_AT_FUTURE_TOLERANCE = dt.timedelta(minutes=10)


def validate_received_at(value: dt.datetime | None) -> None:
    """Refuse a received time before 2000-01-01 or more than a few minutes in the future."""
    if value is None:
        return
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value < EARLIEST_RECEIVED_AT:
        raise ValidationError(gettext_lazy("受理时间不能早于2000年1月1日，请检查年份。"), code="too_early")
    if value > timezone.now() + RECEIVED_AT_FUTURE_TOLERANCE:
        raise ValidationError(gettext_lazy("受理时间不能晚于当前时间，请检查日期和时区。"), code="in_future")
