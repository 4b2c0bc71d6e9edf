"""Uploaded spreadsheets are checked before anything reads them, by what they contain, not what they are called.

One check for every reader of an upload (the department lists in households.sheets, the admin's Excel and CSV
imports in households.resources; check_archive also for every zip-based attachment, households.uploads):
- the file's size (SPREADSHEET_MAX_BYTES);
- its kind by its first bytes: an .xlsx is a zip; an old .xls (or a password-protected workbook, which Excel also
  saves in the old container) is refused with what to do; text is read as CSV, whatever the name says; anything
  else (a photo, a program renamed .xlsx) is refused;
- for an .xlsx, its zip directory: the parts a workbook needs, what the parts say they unpack to in total
  (SPREADSHEET_MAX_UNPACKED_BYTES) and the shared strings alone (SPREADSHEET_MAX_SHARED_STRINGS_BYTES, read into
  memory whole), and how hard any large part is compressed (SPREADSHEET_MAX_RATIO: an ordinary sheet is 5 to 20
  to 1, a zip bomb up to 1,000 to 1). Nothing is inflated to decide.

The directory cannot lie its way past this: Python's zipfile never inflates more of a part than the directory
declares for it (it stops there and fails the part's CRC check), so the declared sizes bound what any reader of a
file that passed can be made to read.
"""

from __future__ import annotations

import os
import zipfile

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

XLSX, CSV = "xlsx", "csv"
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound-file container of .xls, .doc and encrypted workbooks
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")  # the stream a password-protected .xlsx is inside
# First bytes of files people attach by mistake that may hold no NUL byte early on (the others are caught by it).
BINARY_STARTS = (b"%PDF", b"GIF8", b"\x89PNG", b"\xff\xd8\xff", b"MZ", b"\x7fELF", b"Rar!", b"7z\xbc\xaf", b"\x1f\x8b")
TEXT_SAMPLE = 64 * 1024
WORKBOOK_PARTS = ("[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels")
SHARED_STRINGS = "xl/sharedStrings.xml"
MAX_PARTS = 10_000  # a workbook has tens; a directory of millions of entries is itself the attack
RATIO_FLOOR = 1024 * 1024  # parts smaller than this unpacked may compress as hard as they like: they are harmless


class SpreadsheetError(ValueError):
    """The upload cannot be read as a spreadsheet; the message says why and what to do, in the user's language."""


def unreadable() -> SpreadsheetError:
    return SpreadsheetError(_("The file is not a readable Excel workbook (.xlsx)."))


def check_spreadsheet(handle) -> str:
    """XLSX or CSV: how to read the upload (a binary file object, left at its start), or SpreadsheetError."""
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    if size > settings.SPREADSHEET_MAX_BYTES:
        raise SpreadsheetError(
            _("The file is %(size)s; the limit is %(limit)s.")
            % {"size": filesizeformat(size), "limit": filesizeformat(settings.SPREADSHEET_MAX_BYTES)}
        )
    handle.seek(0)
    head = handle.read(TEXT_SAMPLE)
    handle.seek(0)
    if head.startswith(b"PK\x03\x04"):
        check_xlsx(handle)
        return XLSX
    if head.startswith(OLE2):
        if _contains(handle, ENCRYPTED_PACKAGE):
            raise SpreadsheetError(
                _(
                    "The workbook is protected by a password: open it in Excel, remove the password (File > Info > "
                    "Protect Workbook) and upload it again."
                )
            )
        raise SpreadsheetError(
            _(
                "This is an old Excel 97-2003 workbook (.xls): open it in Excel, save it as an Excel workbook (.xlsx) "
                "and upload that."
            )
        )
    if b"\x00" not in head and not head.startswith(BINARY_STARTS):
        return CSV
    raise SpreadsheetError(
        _(
            "The file's content is not an Excel workbook (.xlsx) or CSV text, whatever its name says: save the list "
            "from Excel as .xlsx or CSV and upload that."
        )
    )


class ArchiveError(ValueError):
    """A zip-based upload refused by check_archive: the message says why in the user's language, `code` names the
    reason (damaged, entries, zip_bomb, too_large)."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


def check_archive(handle) -> list[zipfile.ZipInfo]:
    """The zip directory of any zip-based upload (an .xlsx list or import, a .docx or .xlsx attachment): readable,
    at most MAX_PARTS entries, each stored or deflated and not encrypted (Office writes nothing else), no large entry
    compressed harder than SPREADSHEET_MAX_RATIO, and all of them together at most SPREADSHEET_MAX_UNPACKED_BYTES
    unpacked. Nothing is inflated to decide. Returns the entries; the handle is left at its start."""
    try:
        with zipfile.ZipFile(handle) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as error:
        raise ArchiveError(_("The file is damaged and cannot be opened."), "damaged") from error
    finally:
        handle.seek(0)
    if len(parts) > MAX_PARTS:
        raise ArchiveError(
            _("The file holds %(count)s packed entries, far more than any real document (at most %(limit)s).")
            % {"count": f"{len(parts):,}", "limit": f"{MAX_PARTS:,}"},
            "entries",
        )
    for part in parts:
        if part.flag_bits & 0x1 or part.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ArchiveError(_("The file is damaged and cannot be opened."), "damaged")
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > RATIO_FLOOR and ratio > settings.SPREADSHEET_MAX_RATIO:
            raise ArchiveError(
                _(
                    "The file is compressed %(ratio)s to 1, far beyond any real document or spreadsheet (at most "
                    "%(limit)s to 1): it is refused as a possible zip bomb."
                )
                % {"ratio": f"{ratio:,.0f}", "limit": settings.SPREADSHEET_MAX_RATIO},
                "zip_bomb",
            )
    unpacked = sum(part.file_size for part in parts)
    if unpacked > settings.SPREADSHEET_MAX_UNPACKED_BYTES:
        raise ArchiveError(
            _(
                "The file is too large to read: unpacked it comes to %(size)s, the limit is %(limit)s. Split it into "
                "smaller files."
            )
            % {"size": filesizeformat(unpacked), "limit": filesizeformat(settings.SPREADSHEET_MAX_UNPACKED_BYTES)},
            "too_large",
        )
    return parts


def check_xlsx(handle) -> None:
    """The zip directory of an .xlsx: within check_archive's bounds, the workbook's parts are there, and the shared
    strings (held in memory while the sheet is read) are within their own limit."""
    try:
        parts = check_archive(handle)
    except ArchiveError as error:
        raise (unreadable() if error.code == "damaged" else SpreadsheetError(str(error))) from error
    names = {part.filename for part in parts}
    if any(name not in names for name in WORKBOOK_PARTS):
        raise unreadable()
    strings = sum(part.file_size for part in parts if part.filename == SHARED_STRINGS)
    if strings > settings.SPREADSHEET_MAX_SHARED_STRINGS_BYTES:
        raise SpreadsheetError(
            _(
                "The workbook is too large to read: unpacked it comes to %(size)s, the limit is %(limit)s. Split it "
                "into smaller files."
            )
            % {"size": filesizeformat(strings), "limit": filesizeformat(settings.SPREADSHEET_MAX_SHARED_STRINGS_BYTES)}
        )


def _contains(handle, needle: bytes) -> bool:
    """Whether the file holds these bytes (read in chunks: the file is within SPREADSHEET_MAX_BYTES)."""
    handle.seek(0)
    tail = b""
    try:
        while chunk := handle.read(1024 * 1024):
            if needle in tail + chunk:
                return True
            tail = chunk[-len(needle) :]
        return False
    finally:
        handle.seek(0)
