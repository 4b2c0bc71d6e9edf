"""Upload checks by content, not by file name: a renamed .exe is not a photo. Photos are re-encoded, which drops
their metadata: a phone photo of a household's home carries the GPS position of the home."""

from __future__ import annotations

import datetime
import io
import uuid
import warnings
import zipfile

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from housing_safety.dates import date_error
from housing_safety.spreadsheets import ArchiveError, check_archive

# (mime type, test on the first bytes)
_SIGNATURES: tuple[tuple[str, callable], ...] = (
    ("image/jpeg", lambda b: b.startswith(b"\xff\xd8\xff")),
    ("image/png", lambda b: b.startswith(b"\x89PNG\r\n\x1a\n")),
    ("image/webp", lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP"),
    ("image/heic", lambda b: b[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypmsf1")),
    ("application/pdf", lambda b: b.startswith(b"%PDF-")),
)
_OOXML = "application/vnd.openxmlformats-officedocument"


def detect_mime_type(uploaded) -> str | None:
    """The file's type from its content, or None when it is not one we accept."""
    uploaded.seek(0)
    head = uploaded.read(16)
    uploaded.seek(0)
    for mime, matches in _SIGNATURES:
        if matches(head):
            return mime
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(uploaded) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError):
            return None
        finally:
            uploaded.seek(0)
        if "[Content_Types].xml" in names:
            if any(n.startswith("word/") for n in names):
                return f"{_OOXML}.wordprocessingml.document"
            if any(n.startswith("xl/") for n in names):
                return f"{_OOXML}.spreadsheetml.sheet"
    return None


def check_uploads(files, field: str) -> list:
    """The files a form field received (empty ones left out), each through validate_attachment_file; every refusal
    names its file, all of them raised together on `field`."""
    files = [f for f in files if f]
    errors = []
    for uploaded in files:
        try:
            validate_attachment_file(uploaded)
        except ValidationError as error:
            errors.extend(f"{uploaded.name}: {message}" for message in error.messages)
    if errors:
        raise ValidationError({field: errors})
    return files


def validate_attachment_file(uploaded) -> str:
    """Reject files that are too large or of an unknown type; return the detected type."""
    limit = settings.ATTACHMENT_MAX_BYTES
    if uploaded.size > limit:
        raise ValidationError(
            _("The file is %(size)s; the limit is %(limit)s.")
            % {"size": filesizeformat(uploaded.size), "limit": filesizeformat(limit)},
            code="too_large",
        )
    mime = detect_mime_type(uploaded)
    if mime is None:
        raise ValidationError(
            _("Only photos (JPEG, PNG, WebP, HEIC), PDF, Word and Excel files can be attached."),
            code="bad_type",
        )
    if mime.startswith(_OOXML):
        # A Word or Excel file is a zip: held to an uploaded list's bounds before it is stored (or, later, put into a
        # case's archive ZIP), so a document that unpacks to gigabytes never gets in.
        try:
            check_archive(uploaded)
        except ArchiveError as error:
            raise ValidationError(str(error), code=error.code) from None
    return mime


def check_attachment_file(uploaded) -> str:
    """Everything `households.services.add_attachment` refuses, checked while a form is validated: size, type by
    content, and for a picture that it decodes within ATTACHMENT_MAX_PIXELS. A form that saves its record before its
    files (the admin saves the record, then its inlines) must refuse a bad picture here, as a form error, not from
    the service halfway through the save. The re-encoded picture is kept on the upload, so it is decoded once."""
    mime = validate_attachment_file(uploaded)
    uploaded.scrubbed = scrub_image(uploaded, mime)
    return mime


def attachment_upload_to(instance, filename: str) -> str:
    # The stored name is random: the original name is kept in the database, never in a path.
    return f"attachments/{timezone.localdate():%Y/%m}/{uuid.uuid4().hex}"


# Re-encoding: the format each image type is written back in (HEIC, which browsers cannot show, becomes JPEG).
_REENCODE = {
    "image/jpeg": ("JPEG", "image/jpeg", ".jpg"),
    "image/heic": ("JPEG", "image/jpeg", ".jpg"),
    "image/png": ("PNG", "image/png", ".png"),
    "image/webp": ("WEBP", "image/webp", ".webp"),
}
_EXIF_DATETIME_ORIGINAL, _EXIF_IFD = 0x9003, 0x8769


def scrub_image(uploaded, mime: str):
    """An image re-encoded without metadata (EXIF with GPS position, XMP, comments), turned upright as the camera
    meant, plus the day it was taken if the camera recorded one. Returns (file, mime type, taken on or None); other
    types come back unchanged. A picture too large to decode safely (ATTACHMENT_MAX_PIXELS) or that does not
    decode is refused."""
    if mime not in _REENCODE:
        return uploaded, mime, None
    from PIL import Image, ImageOps
    from pillow_heif import register_heif_opener

    register_heif_opener()
    fmt, new_mime, suffix = _REENCODE[mime]
    uploaded.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = settings.ATTACHMENT_MAX_PIXELS
            with Image.open(uploaded) as image:
                taken_on = _taken_on(image)
                upright = ImageOps.exif_transpose(image)  # a copy
                if fmt == "JPEG" and upright.mode not in ("RGB", "L"):
                    upright = upright.convert("RGB")
                # Pillow writes back a comment or XMP it finds in `info`; nothing but the colour profile is kept.
                upright.info = {}
                buffer = io.BytesIO()
                upright.save(buffer, fmt, quality=90, icc_profile=image.info.get("icc_profile"))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(
            _("The picture has more pixels than the limit of %(limit)s.")
            % {"limit": f"{settings.ATTACHMENT_MAX_PIXELS:,}"},
            code="too_many_pixels",
        ) from None
    except (OSError, ValueError, SyntaxError):
        raise ValidationError(_("The picture is damaged and cannot be opened."), code="bad_image") from None
    finally:
        uploaded.seek(0)
    stem = (getattr(uploaded, "name", "") or "photo").rsplit(".", 1)[0]
    return ContentFile(buffer.getvalue(), name=f"{stem}{suffix}"), new_mime, taken_on


def _taken_on(image) -> datetime.date | None:
    try:
        raw = image.getexif().get_ifd(_EXIF_IFD).get(_EXIF_DATETIME_ORIGINAL)
        day = datetime.datetime.strptime(str(raw).strip(), "%Y:%m:%d %H:%M:%S").date() if raw else None
    except (ValueError, TypeError, KeyError):
        return None
    # A camera whose clock was never set says 1980 or 2080: no day rather than a refused photo.
    return day if day is None or date_error(day) is None else None
