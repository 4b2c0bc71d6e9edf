"""Bad files given to every reader of an uploaded spreadsheet: the department-list upload (the service, the page,
the background reading) and the admin's Excel imports (households, appraisals).

A zip bomb, a zip directory that lies about sizes, a huge file, a photo, a program and a GBK CSV named .xlsx, a
workbook cut off in the upload, 1,048,576 empty rows, a sheet claiming A1:XFD1048576, a shared-string table of two
million texts, an old .xls, a password-protected workbook, a cell far beyond column XFD, one row of 200,000
cells, entity expansion (billion laughs), a CSV of one endless line: each is refused with a clear message in
Chinese, or read, in bounded memory and time, and nothing is written to the database.

Every file is built here, small on disk (the bomb is 10 MB and unpacks to 3 GiB; the huge file is sparse).
Peak memory is measured with tracemalloc (Python's allocations) and, on Linux, as the growth of the process's peak
RSS (lxml's and zlib's memory too); time with a wall clock (slowed severalfold by tracemalloc). Both are printed
(`pytest -s`) and held to generous rails, which only catch a reader that loads or loops over the whole bomb.
"""

from __future__ import annotations

import csv
import datetime
import functools
import io
import re
import struct
import time
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from households.department_lists import preview_list
from households.models import DepartmentList, Household, ListRow
from households.resources import HouseholdResource
from housing_safety.access import Role
from inspections.models import Appraisal

from .factories import VillageFactory, png_bytes, valid_id_number

pytestmark = pytest.mark.usefixtures("chinese")

MiB = 1024 * 1024
GiB = 1024 * MiB
MEMORY_RAIL = 200 * MiB
TIME_RAIL = 30.0
LISTED_ON = datetime.date(2024, 5, 1)
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


# Measuring --------------------------------------------------------------------------------------------------------


def _rss(field: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            return int(re.search(rf"{field}:\s+(\d+) kB", status.read()).group(1)) * 1024
    except (OSError, AttributeError):
        return None


@contextmanager
def bounded(label: str):
    """Peak memory and time of the block, printed and held to the rails."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")  # resets the peak RSS (VmHWM) to the current RSS
        rss_before = _rss("VmRSS")
    except OSError:
        rss_before = None
    tracemalloc.start()
    started = time.perf_counter()
    yield
    elapsed = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_peak = _rss("VmHWM")
    rss = rss_peak - rss_before if rss_before is not None and rss_peak is not None else None
    shown = f"{rss / MiB:.1f} MiB" if rss is not None else "n/a"
    print(f"\n[bad file] {label}: peak {peak / MiB:.1f} MiB (tracemalloc), RSS +{shown}, {elapsed:.2f} s")
    assert peak < MEMORY_RAIL, f"{label}: {peak / MiB:.0f} MiB"
    assert rss is None or rss < MEMORY_RAIL, f"{label}: RSS grew {rss / MiB:.0f} MiB"
    assert elapsed < TIME_RAIL, f"{label}: {elapsed:.1f} s"


def chinese_text(message: str) -> bool:
    return re.search(r"[\u4e00-\u9fff]", message) is not None


# Building the files ------------------------------------------------------------------------------------------------


@dataclass
class Part:
    """A zip entry as the directory describes it: deflated bytes, their CRC and the size it declares unpacked."""

    name: str
    deflated: bytes
    crc: int
    size: int


def part(name: str, data: bytes) -> Part:
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return Part(name, packer.compress(data) + packer.flush(), zlib.crc32(data), len(data))


def repeated_part(name: str, head: bytes, body: bytes, times: int, tail: bytes, *, crc: bool = True) -> Part:
    """A part of `head`, `body` repeated `times` times, then `tail`, deflated without holding it: `body` is deflated
    once after a full flush (which forgets the history, so every copy deflates to the same bytes) and those bytes
    are repeated. `crc=False` leaves the CRC at 0 (a lying directory need not get it right)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = packer.compress(head) + packer.flush(zlib.Z_FULL_FLUSH)
    block = packer.compress(body) + packer.flush(zlib.Z_FULL_FLUSH)
    assert packer.compress(body) + packer.flush(zlib.Z_FULL_FLUSH) == block  # the copies are the same bytes
    last = packer.compress(tail) + packer.flush()
    checksum = 0
    if crc:
        checksum = zlib.crc32(head)
        for _copy in range(times):
            checksum = zlib.crc32(body, checksum)
        checksum = zlib.crc32(tail, checksum)
    return Part(name, first + block * times + last, checksum, len(head) + len(body) * times + len(tail))


def zip_of(parts: list[Part]) -> bytes:
    """A zip archive written by hand (deflated entries, no zip64), so a test can say what its directory declares."""
    out, central = io.BytesIO(), []
    for entry in parts:
        name, offset = entry.name.encode(), out.tell()
        sizes = (entry.crc, len(entry.deflated), entry.size, len(name))
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, *sizes, 0) + name + entry.deflated)
        central.append(
            struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, *sizes, 0, 0, 0, 0, 0, offset) + name
        )
    directory, start = b"".join(central), out.tell()
    out.write(directory + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(parts), len(parts), len(directory), start, 0))
    return out.getvalue()


CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    b'<Override PartName="/xl/sharedStrings.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)
ROOT_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Target="xl/workbook.xml" '
    b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/></Relationships>'
)
WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    b'<sheets><sheet name="\xe5\x90\x8d\xe5\x8d\x95" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Target="worksheets/sheet1.xml" '
    b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
    b'<Relationship Id="rId2" Target="sharedStrings.xml" '
    b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/></Relationships>'
)
SHEET_HEAD = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">'.encode()


def workbook(sheet: Part | bytes, shared_strings: Part | bytes = b"") -> bytes:
    """An .xlsx with one sheet (its XML, or a prepared part) and a shared-string table, as Excel lays one out."""
    sheet = sheet if isinstance(sheet, Part) else part("xl/worksheets/sheet1.xml", sheet)
    strings = shared_strings if isinstance(shared_strings, Part) else None
    if strings is None:
        strings = part(
            "xl/sharedStrings.xml", shared_strings or f'<sst xmlns="{MAIN}" count="0" uniqueCount="0"/>'.encode()
        )
    return zip_of(
        [
            part("[Content_Types].xml", CONTENT_TYPES),
            part("_rels/.rels", ROOT_RELS),
            part("xl/workbook.xml", WORKBOOK),
            part("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
            sheet,
            strings,
        ]
    )


def text_cell(reference: str, text: str) -> str:
    return f'<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>'


def row(number: int, *texts: str) -> str:
    cells = "".join(text_cell(f"{chr(65 + index)}{number}", text) for index, text in enumerate(texts))
    return f'<row r="{number}">{cells}</row>'


LIST_HEADER = ["姓名", "身份证号码", "乡镇", "村"]


def list_rows(count: int) -> list[list[str]]:
    """A department list's header and `count` households of 新桥镇东坑村 (new to our records)."""
    return [LIST_HEADER] + [[f"名单户{n}", valid_id_number(), "新桥镇", "东坑村"] for n in range(count)]


def rows_xml(rows: list[list]) -> str:
    return "".join(row(number, *cells) for number, cells in enumerate(rows, start=1))


def sheet_xml(rows_xml: str, *, dimension: str = "") -> bytes:
    dimension = f'<dimension ref="{dimension}"/>' if dimension else ""
    return SHEET_HEAD + f"{dimension}<sheetData>{rows_xml}</sheetData></worksheet>".encode()


@functools.cache
def zip_bomb() -> bytes:
    """A valid workbook whose sheet unpacks to 3 GiB of one repeated row of 64 cells (10 MB on disk: deflate
    cannot pack more than about 1,000 to 1, repeated rows about 300 to 1)."""
    body = b"<row>" + b'<c r="A1"><v>1</v></c>' * 64 + b"</row>"
    body *= 16 * MiB // len(body)
    head = SHEET_HEAD + b"<sheetData>" + row(1, *LIST_HEADER).encode()
    sheet = repeated_part("xl/worksheets/sheet1.xml", head, body, 3 * GiB // len(body), b"</sheetData></worksheet>")
    return workbook(sheet)


@functools.cache
def lying_zip_bomb() -> bytes:
    """The directory declares the sheet 1 KiB unpacked (an ordinary ratio); its stream inflates to 1 GiB."""
    body = ("<row>" + text_cell("A1", "炸弹" * 20) * 16 + "</row>").encode() * 10_000
    head = SHEET_HEAD + b"<sheetData>" + row(1, *LIST_HEADER).encode()
    sheet = repeated_part(
        "xl/worksheets/sheet1.xml", head, body, GiB // len(body), b"</sheetData></worksheet>", crc=False
    )
    sheet.size = 1024
    return workbook(sheet)


def openpyxl_workbook(rows) -> bytes:
    book = openpyxl.Workbook()
    for cells in rows:
        book.active.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def truncated_workbook() -> bytes:
    """A real workbook cut off halfway, as an interrupted upload leaves it."""
    whole = openpyxl_workbook(list_rows(200))
    return whole[: len(whole) // 2]


def gbk_csv(rows) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(rows)
    return text.getvalue().encode("gbk")


def exe_bytes() -> bytes:
    """The start of a Windows program: the MZ header with its NUL-padded fields, then the PE header."""
    return (
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
        + b"\x00" * 44
        + b"\x80\x00\x00\x00"
        + b"PE\x00\x00" * 64
    )


def compound_file(streams: list[str]) -> bytes:
    """An OLE2 compound file (the container of .xls and of password-protected workbooks): header, one FAT sector,
    one directory sector with a root entry and the named (empty) streams."""
    free, end, fat_sector = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 16
        + struct.pack("<HHHHH6sIIIIIIIII", 0x3E, 3, 0xFFFE, 9, 6, b"\x00" * 6, 0, 1, 1, 0, 4096, end, 0, end, 0)
    )
    header += struct.pack("<I", 0) + struct.pack("<I", free) * 108  # DIFAT: the FAT is sector 0
    fat = struct.pack("<II", fat_sector, end) + struct.pack("<I", free) * 126  # sector 1 is the directory

    def entry(name: str, kind: int, child: int = free, right: int = free) -> bytes:
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        return (
            encoded.ljust(64, b"\x00")
            + struct.pack("<HBBIII", len(encoded), kind, 1, free, right, child)
            + b"\x00" * 36
            + struct.pack("<IIII", end, 0, 0, 0)
        )

    entries = [entry("Root Entry", 5, child=1)]
    for index, name in enumerate(streams, start=1):
        entries.append(entry(name, 2, right=index + 1 if index < len(streams) else free))
    directory = b"".join(entries).ljust(512, b"\x00")
    return header + fat + directory


@functools.cache
def shared_strings_workbook(count: int, declared: int | None = None) -> bytes:
    """A sheet of one row whose shared-string table holds `count` different texts (Excel declares the count)."""
    declared = count if declared is None else declared
    strings = f'<sst xmlns="{MAIN}" count="{declared}" uniqueCount="{declared}">'.encode()
    strings += b"".join(b"<si><t>%d</t></si>" % n for n in range(count)) + b"</sst>"
    return workbook(sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'), strings)


def empty_rows_workbook(rows: list[list]) -> bytes:
    """The rows, then every row down to 1,048,576 present and empty (formatted, as Excel writes a sheet whose whole
    rows were formatted)."""
    empty = "".join(
        f'<row r="{number}" spans="1:7" s="1" customFormat="1"/>' for number in range(len(rows) + 1, 1_048_577)
    )
    return workbook(sheet_xml(rows_xml(rows) + empty, dimension="A1:G1048576"))


def full_dimension_workbook(rows: list[list]) -> bytes:
    """A sheet that claims A1:XFD1048576 (17 billion cells) and holds only these rows."""
    return workbook(sheet_xml(rows_xml(rows), dimension="A1:XFD1048576"))


def wide_row_workbook(rows: list[list]) -> bytes:
    """The rows, the last of them with 200,000 more cells in column Z (each its own number, so they do not
    compress like a bomb): one element of 400,000 descendants for a reader that builds each row as a tree."""
    xml = rows_xml(rows)
    cells = "".join(f'<c r="Z{len(rows)}"><v>{n}</v></c>' for n in range(200_000))
    return workbook(sheet_xml(xml[: -len("</row>")] + cells + "</row>"))


def billion_laughs() -> bytes:
    """Entity expansion: nine levels of ten, a billion "lol"s from a few hundred bytes."""
    entities = '<!ENTITY lol0 "lol">'
    for level in range(1, 10):
        entities += f'<!ENTITY lol{level} "' + f"&lol{level - 1};" * 10 + '">'
    xml = f'<?xml version="1.0"?><!DOCTYPE worksheet [{entities}]><worksheet xmlns="{MAIN}"><sheetData>'
    xml += row(1, *LIST_HEADER) + '<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
    return workbook((xml + "</sheetData></worksheet>").encode())


# The cases ---------------------------------------------------------------------------------------------------------


def unreadable() -> str:
    return _("The file is not a readable Excel workbook (.xlsx).")


def bomb_message(content: bytes) -> str:
    sheet = zipfile.ZipFile(io.BytesIO(content)).getinfo("xl/worksheets/sheet1.xml")
    return _(
        "The file is compressed %(ratio)s to 1, far beyond any real document or spreadsheet (at most %(limit)s to "
        "1): it is refused as a possible zip bomb."
    ) % {"ratio": f"{sheet.file_size / sheet.compress_size:,.0f}", "limit": 100}


def not_a_spreadsheet() -> str:
    return _(
        "The file's content is not an Excel workbook (.xlsx) or CSV text, whatever its name says: save the list "
        "from Excel as .xlsx or CSV and upload that."
    )


def too_many_strings(limit: int) -> str:
    return _("The workbook holds more than %(limit)s different texts: split it into smaller files.") % {
        "limit": f"{limit:,}"
    }


def too_wide(row_number: int, column: str) -> str:
    return _(
        "Row %(row)s has a value in column %(column)s, beyond the %(limit)s columns (A to %(last)s) a list may "
        "use: delete what is to the right of the table and upload it again."
    ) % {"row": row_number, "column": column, "limit": 256, "last": "IV"}


@dataclass
class Case:
    """A bad file, and what every reader must make of it: a refusal with `message` (a function of the file, called
    with the translation active), or reading its `rows` households."""

    content: Callable[[list[list]], bytes]  # the file, given the header and households a reader should find in it
    name: str = "名单.xlsx"
    message: Callable[[bytes], str] | None = None
    rows: int = 0
    settings: dict | None = None  # for cases whose limit is lowered to keep the test quick


CASES = {
    "zip-bomb-3GiB": Case(lambda rows: zip_bomb(), message=bomb_message),
    "zip-bomb-lying-directory": Case(lambda rows: lying_zip_bomb(), message=lambda content: unreadable()),
    "png-named-xlsx": Case(lambda rows: png_bytes(), message=lambda content: not_a_spreadsheet()),
    "exe-named-xlsx": Case(lambda rows: exe_bytes(), message=lambda content: not_a_spreadsheet()),
    "gbk-csv-named-xlsx": Case(gbk_csv, rows=2),
    "truncated-xlsx": Case(lambda rows: truncated_workbook(), message=lambda content: unreadable()),
    "old-xls": Case(
        lambda rows: compound_file(["Workbook", "\x05SummaryInformation"]),
        name="名单.xls",
        message=lambda content: _(
            "This is an old Excel 97-2003 workbook (.xls): open it in Excel, save it as an Excel workbook (.xlsx) "
            "and upload that."
        ),
    ),
    "password-protected-xlsx": Case(
        lambda rows: compound_file(["EncryptionInfo", "EncryptedPackage"]),
        message=lambda content: _(
            "The workbook is protected by a password: open it in Excel, remove the password (File > Info > "
            "Protect Workbook) and upload it again."
        ),
    ),
    "shared-strings-2-million": Case(
        lambda rows: shared_strings_workbook(2_000_000), message=lambda content: too_many_strings(1_000_000)
    ),
    "shared-strings-count-understated": Case(
        lambda rows: shared_strings_workbook(60_000, declared=10),
        message=lambda content: too_many_strings(50_000),
        settings={"SPREADSHEET_MAX_SHARED_STRINGS": 50_000},
    ),
    "empty-rows-to-1048576": Case(empty_rows_workbook, rows=2),
    "dimension-A1-XFD1048576": Case(full_dimension_workbook, rows=2),
    "one-row-of-200000-cells": Case(wide_row_workbook, rows=1),
    "row-beyond-1048576": Case(
        lambda rows: workbook(sheet_xml(row(1, *LIST_HEADER) + row(1_048_577, "甲"))),
        message=lambda content: _("The sheet has more rows than Excel allows."),
    ),
    "cell-far-beyond-XFD": Case(
        lambda rows: workbook(sheet_xml(row(1, *LIST_HEADER) + f'<row r="2">{text_cell("ZZZZZZZ2", "甲")}</row>')),
        message=lambda content: too_wide(2, "ZZZZZZZ"),
    ),
    "billion-laughs": Case(lambda rows: billion_laughs(), message=lambda content: unreadable()),
    "csv-one-endless-line": Case(
        lambda rows: ("姓名," * 2_000_000).encode(),
        name="名单.csv",
        message=lambda content: (
            _("A line of the CSV file is longer than %(limit)s characters: it is not a list.") % {"limit": "131,072"}
        ),
    ),
}


@pytest.fixture
def dongkeng(xinqiao):
    return VillageFactory(township=xinqiao, name="东坑村")


@pytest.fixture
def liaison(personas):
    return personas[Role.DEPARTMENT_LIAISON]


def nothing_written(households_before: int, settings) -> None:
    assert Household.objects.count() == households_before
    assert DepartmentList.objects.count() == 0
    assert ListRow.objects.count() == 0
    stored = settings.MEDIA_ROOT / "lists"
    assert not stored.exists() or not [path for path in stored.rglob("*") if path.is_file()]


# The department-list upload -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("case_id", CASES)
def test_department_list_upload(case_id, liaison, poverty_office, dongkeng, settings):
    case = CASES[case_id]
    for name, value in (case.settings or {}).items():
        setattr(settings, name, value)
    content = case.content(list_rows(case.rows))
    before = Household.objects.count()
    with bounded(f"department list, {case_id} ({filesizeformat(len(content))})"):
        try:
            department_list = preview_list(
                actor=liaison,
                unit=poverty_office,
                listed_on=LISTED_ON,
                uploaded_file=SimpleUploadedFile(case.name, content),
            )
            refusal = None
        except Exception as error:  # noqa: BLE001 - what the reader raised is the subject of the test
            refusal = error
    if case.message is None:
        assert refusal is None, refusal
        assert department_list.counts["rows"] == case.rows == department_list.counts["new"]
        assert Household.objects.count() == before  # a preview writes only the comparison
        return
    assert refusal is not None and hasattr(refusal, "message_dict"), repr(refusal)
    message = refusal.message_dict["file"][0]
    assert message == case.message(content)
    assert chinese_text(message), message
    nothing_written(before, settings)


def test_a_huge_department_list_is_refused_before_it_is_stored(liaison, poverty_office, settings, tmp_path):
    """3 GiB (sparse on disk) against the default 50 MB limit: refused by its size, nothing read, hashed or stored."""
    path = tmp_path / "名单.xlsx"
    with path.open("wb") as handle:
        handle.write(b"PK\x03\x04")
        handle.truncate(3 * GiB)
    before = Household.objects.count()
    with bounded("department list, huge file (3 GiB)"), path.open("rb") as handle:
        upload = UploadedFile(handle, name="名单.xlsx", size=3 * GiB)
        with pytest.raises(ValidationError) as caught:
            preview_list(actor=liaison, unit=poverty_office, listed_on=LISTED_ON, uploaded_file=upload)
    message = caught.value.message_dict["file"][0]
    limits = {"size": filesizeformat(3 * GiB), "limit": filesizeformat(50 * MiB)}
    assert message == _("The file is %(size)s; the limit is %(limit)s.") % limits
    assert chinese_text(message)
    nothing_written(before, settings)


@pytest.mark.parametrize("case_id", ["zip-bomb-3GiB", "png-named-xlsx", "old-xls"])
def test_the_upload_page_shows_why_a_bad_file_is_refused(case_id, client, liaison, poverty_office, settings):
    """On the page, inline or (the bomb is over LIST_INLINE_MAX_BYTES) on the background path: refused at upload."""
    case = CASES[case_id]
    content = case.content([])
    client.force_login(liaison)
    with bounded(f"upload page, {case_id}"):
        response = client.post(
            "/lists/",
            {"unit": poverty_office.pk, "listed_on": "2024-05-01", "file": SimpleUploadedFile(case.name, content)},
        )
    assert response.status_code == 200
    assert response.context["form"].errors == {"file": [case.message(content)]}
    assert case.message(content) in response.content.decode()
    nothing_written(0, settings)


def test_empty_rows_to_1048576_are_read_in_the_background_in_bounded_memory(
    client, liaison, poverty_office, dongkeng, django_capture_on_commit_callbacks
):
    content = empty_rows_workbook(list_rows(2))
    client.force_login(liaison)
    with bounded("background reading, empty rows to 1,048,576"), django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/lists/",
            {
                "unit": poverty_office.pk,
                "listed_on": "2024-05-01",
                "file": SimpleUploadedFile("名单.xlsx", content),
            },
        )
    assert response.status_code == 302
    department_list = DepartmentList.objects.get()
    assert (department_list.status, department_list.counts["new"]) == ("previewed", 2)
    assert department_list.rows_expected == 1_048_576


# The admin's imports ------------------------------------------------------------------------------------------------

HOUSEHOLD_IMPORT = "/admin/households/household/import/"


def household_rows(count: int) -> list[list]:
    """The household import's header (Chinese, as exported) and `count` households of 新桥镇东坑村."""
    columns = ("id_number", "head_name", "township", "village", "members_count", "categories", "registered_on")
    header = [str(HouseholdResource.fields[name].column_name) for name in columns]
    return [header] + [
        [valid_id_number(), f"导入户{n}", "新桥镇", "东坑村", "3", "低保户", "2024-05-01"] for n in range(count)
    ]


def admin_import(client, url: str, name: str, content: bytes):
    return client.post(url, {"import_file": SimpleUploadedFile(name, content), "format": "0", "resource": "0"})


@pytest.mark.parametrize("case_id", CASES)
def test_admin_household_import(case_id, client, staff, dongkeng, settings):
    case = CASES[case_id]
    for name, value in (case.settings or {}).items():
        setattr(settings, name, value)
    content = case.content(household_rows(case.rows))
    before = Household.objects.count()
    client.force_login(staff)
    with bounded(f"admin import, {case_id} ({filesizeformat(len(content))})"):
        response = admin_import(client, HOUSEHOLD_IMPORT, case.name, content)
    assert response.status_code == 200
    assert Household.objects.count() == before  # the preview is a dry run; a refused file writes nothing
    if case.message is None:
        result = response.context["result"]
        assert not result.has_errors() and not result.has_validation_errors()
        assert result.totals["new"] == case.rows
        return
    errors = response.context["form"].errors["import_file"]
    assert errors == [case.message(content)]
    assert chinese_text(errors[0]), errors


def test_admin_import_of_a_huge_file_is_refused_before_it_is_read(client, staff, settings):
    settings.SPREADSHEET_MAX_BYTES = MiB
    client.force_login(staff)
    content = b"PK\x03\x04" + b"\x00" * (2 * MiB)
    with bounded("admin import, huge file (2 MiB against a 1 MiB limit)"):
        response = admin_import(client, HOUSEHOLD_IMPORT, "农户.xlsx", content)
    limits = {"size": filesizeformat(len(content)), "limit": filesizeformat(MiB)}
    message = _("The file is %(size)s; the limit is %(limit)s.") % limits
    assert response.context["form"].errors["import_file"] == [message]
    assert chinese_text(message)


def test_admin_import_of_more_rows_than_the_limit_is_refused(client, staff, dongkeng, settings):
    settings.IMPORT_MAX_ROWS = 3
    client.force_login(staff)
    response = admin_import(client, HOUSEHOLD_IMPORT, "农户.xlsx", openpyxl_workbook(household_rows(4)))
    message = _("The file has more than %(limit)s rows; import at most %(limit)s rows at a time.") % {"limit": "3"}
    assert response.context["form"].errors["import_file"] == [message]
    assert chinese_text(message)
    assert Household.objects.count() == 0


@pytest.mark.parametrize("case_id", ["zip-bomb-3GiB", "dimension-A1-XFD1048576", "old-xls"])
def test_admin_appraisal_import(case_id, client, admin_user):
    """Appraisals are imported through the same admin base: the same checks and reader."""
    case = CASES[case_id]
    content = case.content(list_rows(case.rows))
    client.force_login(admin_user)
    with bounded(f"appraisal import, {case_id}"):
        response = admin_import(client, "/admin/inspections/appraisal/import/", case.name, content)
    assert response.status_code == 200
    assert Appraisal.objects.count() == 0
    if case.message is not None:
        assert response.context["form"].errors["import_file"] == [case.message(content)]
    else:  # read: its rows are not appraisals, each is a row error, and nothing is written
        assert response.context["result"].has_validation_errors() or response.context["result"].has_errors()
