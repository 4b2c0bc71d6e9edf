"""Upload checks by content, not by file name: a renamed .exe is not a photo."""

from __future__ import annotations

import uuid
import zipfile

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

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
        except zipfile.BadZipFile:
            return None
        finally:
            uploaded.seek(0)
        if "[Content_Types].xml" in names:
            if any(n.startswith("word/") for n in names):
                return f"{_OOXML}.wordprocessingml.document"
            if any(n.startswith("xl/") for n in names):
                return f"{_OOXML}.spreadsheetml.sheet"
    return None


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
    return mime


def attachment_upload_to(instance, filename: str) -> str:
    # The stored name is random: the original name is kept in the database, never in a path.
    return f"attachments/{timezone.localdate():%Y/%m}/{uuid.uuid4().hex}"
