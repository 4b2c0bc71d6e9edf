"""Read the rows of an uploaded list, streaming: .xlsx (the first worksheet) and .csv (UTF-8 or GBK/GB18030).

Rows come out one at a time with their row number as the clerk sees it in Excel, so memory does not grow with
the file (an .xlsx's shared-string table, one entry per distinct text, is the only part kept whole). The .xlsx
reader parses the worksheet XML through lxml's target interface (callbacks, no tree): lxml's iterparse took 2.6 s
per 100,000 rows of ten columns here and the target interface takes about half that, against about 20 s for
openpyxl's read-only mode; python-calamine is faster still but loads the whole sheet into memory.

Before a byte is read, housing_safety.spreadsheets checks the upload (size, what it really is, a zip bomb); while
reading, the shared strings are counted, a row may use SPREADSHEET_MAX_COLUMNS columns and a CSV line CSV_MAX_LINE
characters, so a hostile file is refused with the reason in bounded memory and time, never a server error. The
content decides how a file is read: a CSV saved with an .xlsx name is read as CSV.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from collections.abc import Iterator

from django.conf import settings
from django.utils.translation import gettext as _
from lxml import etree

from housing_safety.spreadsheets import CSV, SpreadsheetError, check_spreadsheet, unreadable

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PACKAGE_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
MAX_ROWS = 1_048_576  # Excel's own limit
CSV_MAX_LINE = 131_072  # characters; also the csv module's own limit for one field
ACCEPTED_NAMES = (".xlsx", ".xlsm", ".xls", ".csv")  # .xls: an .xlsx saved under the old name is read, a real one told
# No entity expansion (billion laughs), no network, no text node over 10 MB.
SAFE_XML = {"resolve_entities": False, "no_network": True, "huge_tree": False}

SheetError = SpreadsheetError  # the name the department lists know it by


def check_upload(handle, filename: str | None = None) -> str:
    """How to read the upload (housing_safety.spreadsheets.XLSX or CSV), or SheetError. With a file name (a
    department list), the name must at least claim to be a spreadsheet."""
    if filename is not None and not filename.lower().endswith(ACCEPTED_NAMES):
        raise SheetError(_("Upload the list as an Excel workbook (.xlsx) or a CSV file."))
    return check_spreadsheet(handle)


def read_rows(handle, filename: str | None = None) -> Iterator[tuple[int, list]]:
    """(row number, cells) for every non-empty row of the list's first sheet."""
    if check_upload(handle, filename) == CSV:
        yield from _csv_rows(handle)
    else:
        yield from _xlsx_rows(handle)


def expected_rows(handle, filename: str | None = None) -> int | None:
    """How many rows the sheet says it has (the .xlsx <dimension>, or a CSV's line count), for a progress bar."""
    try:
        if check_upload(handle, filename) == CSV:
            count = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
            return count or None
        with zipfile.ZipFile(handle) as archive, archive.open(_first_sheet_path(archive)) as sheet:
            head = sheet.read(4096).decode("utf-8", "ignore")
        match = re.search(r'<dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"', head)
        return min(int(match.group(1)), MAX_ROWS) if match else None
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError, etree.XMLSyntaxError):
        return None  # SheetError too: read_rows says why
    finally:
        handle.seek(0)


def column_letters(index: int) -> str:
    """A 0-based column index as Excel names it (0 -> A, 255 -> IV, 16383 -> XFD)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _too_wide(row: int, column: str) -> SheetError:
    limit = settings.SPREADSHEET_MAX_COLUMNS
    return SheetError(
        _(
            "Row %(row)s has a value in column %(column)s, beyond the %(limit)s columns (A to %(last)s) a list may "
            "use: delete what is to the right of the table and upload it again."
        )
        % {"row": row, "column": column, "limit": limit, "last": column_letters(limit - 1)}
    )


# CSV -----------------------------------------------------------------------------------------------------------


def _lines(text) -> Iterator[str]:
    """The text's lines, refusing one longer than CSV_MAX_LINE (a file of one endless line is not a list)."""
    while line := text.readline(CSV_MAX_LINE + 1):
        if len(line) > CSV_MAX_LINE:
            raise SheetError(
                _("A line of the CSV file is longer than %(limit)s characters: it is not a list.")
                % {"limit": f"{CSV_MAX_LINE:,}"}
            )
        yield line


def _csv_rows(handle) -> Iterator[tuple[int, list]]:
    head = handle.read(64 * 1024)
    handle.seek(0)
    encoding = "utf-8-sig"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not just a character cut at the end of the sample
            encoding = "gb18030"  # GBK and GB2312 are subsets
    text = io.TextIOWrapper(handle, encoding=encoding, errors="strict", newline="")
    max_columns = settings.SPREADSHEET_MAX_COLUMNS
    try:
        for number, cells in enumerate(csv.reader(_lines(text)), start=1):
            if len(cells) > max_columns:
                beyond = next((i for i, cell in enumerate(cells[max_columns:], max_columns) if cell.strip()), None)
                if beyond is not None:
                    raise _too_wide(number, column_letters(beyond))
                del cells[max_columns:]  # trailing empty cells, as some exports write them
            if any(cell.strip() for cell in cells):
                yield number, cells
    except UnicodeDecodeError as error:
        raise SheetError(_("The CSV file is neither UTF-8 nor GBK text.")) from error
    except csv.Error as error:
        raise SheetError(_("The CSV file is damaged: %(error)s") % {"error": error}) from error
    finally:
        text.detach()


# XLSX ----------------------------------------------------------------------------------------------------------
# The parts are parsed with lxml's target interface, which calls back per tag and builds no tree: memory stays flat
# whatever shape the XML has (one row of a million cells, a shared string of a million runs), and it is about twice
# as fast as iterparse. A cell holds at most 32,767 characters in Excel; a longer one is not from a spreadsheet.

ROW, CELL, VALUE, TEXT, PHONETIC = (f"{MAIN}{tag}" for tag in ("row", "c", "v", "t", "rPh"))
MAX_CELL_TEXT = 32_767
CHUNK = 64 * 1024


# Self-closing rows (with their number) and cells hold no value: Excel writes one for every formatted empty row or
# cell, up to a million of them. Dropping them from each chunk before parsing costs a regular-expression pass
# instead of two callbacks each (a tag cut by a chunk boundary is simply parsed).
EMPTY_ROWS_AND_CELLS = re.compile(rb'<row\b[^<>]*?\br="[0-9]+"[^<>]*/>|<c\b[^<>]*/>')


def _parse(handle, target, drop: re.Pattern | None = None) -> Iterator[None]:
    """Feed a part to `target` chunk by chunk, pausing after each so the caller can take what it collected."""
    parser = etree.XMLParser(target=target, **SAFE_XML)
    while chunk := handle.read(CHUNK):
        parser.feed(drop.sub(b"", chunk) if drop else chunk)
        yield
    parser.close()
    yield


class _Text:
    """Collects the text of <v>, or of the <t> runs of a string (not its phonetic guide, <rPh>), up to Excel's
    limit for a cell."""

    def __init__(self):
        self.parts: list[str] | None = None  # collecting while not None
        self.value: str | None = None
        self.length = 0
        self.phonetic = 0

    def reset(self) -> None:
        self.parts, self.value, self.length, self.phonetic = None, None, 0, 0

    def start(self, tag) -> None:
        if tag == PHONETIC:
            self.phonetic += 1
        elif tag == VALUE or (tag == TEXT and not self.phonetic):
            self.parts = []

    def data(self, text: str) -> None:
        if self.parts is not None:
            self.length += len(text)
            if self.length > MAX_CELL_TEXT:
                raise unreadable()
            self.parts.append(text)

    def end(self, tag) -> None:
        if tag == PHONETIC:
            self.phonetic -= 1
        elif self.parts is not None and tag in (VALUE, TEXT):
            self.value = (self.value or "") + "".join(self.parts)
            self.parts = None


class _FirstSheet:
    """The r:id of the workbook's first <sheet>, then the target of that relationship."""

    def __init__(self, tag: str, attribute: str, wanted: str | None = None):
        self.tag, self.attribute, self.wanted, self.found = tag, attribute, wanted, None

    def start(self, tag, attrib) -> None:
        if self.found is None and tag == self.tag and (self.wanted is None or attrib.get("Id") == self.wanted):
            self.found = attrib.get(self.attribute) or ""

    def end(self, tag) -> None:
        pass

    def data(self, text) -> None:
        pass

    def close(self) -> None:
        pass


def _find(archive: zipfile.ZipFile, name: str, target: _FirstSheet) -> str | None:
    with archive.open(name) as handle:
        for _pause in _parse(handle, target):
            if target.found is not None:
                return target.found
    return None


def _first_sheet_path(archive: zipfile.ZipFile) -> str:
    relation = _find(archive, "xl/workbook.xml", _FirstSheet(f"{MAIN}sheet", f"{RELS}id"))
    if relation is None:
        raise SheetError(_("The workbook has no worksheet."))
    target = _find(
        archive, "xl/_rels/workbook.xml.rels", _FirstSheet(f"{PACKAGE_RELS}Relationship", "Target", relation)
    )
    if target is None:
        raise SheetError(_("The workbook's first worksheet is missing."))
    target = target.lstrip("/")
    return target if target.startswith("xl/") else f"xl/{target}"


def _too_many_strings() -> SheetError:
    return SheetError(
        _("The workbook holds more than %(limit)s different texts: split it into smaller files.")
        % {"limit": f"{settings.SPREADSHEET_MAX_SHARED_STRINGS:,}"}
    )


class _SharedStrings(_Text):
    def __init__(self, limit: int):
        super().__init__()
        self.strings: list[str] = []
        self.limit = limit

    def start(self, tag, attrib) -> None:
        super().start(tag)

    def end(self, tag) -> None:
        super().end(tag)
        if tag == f"{MAIN}si":
            if len(self.strings) == self.limit:
                raise _too_many_strings()
            self.strings.append(self.value or "")
            self.reset()

    def close(self) -> None:
        pass


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in archive.namelist():
        return []
    limit = settings.SPREADSHEET_MAX_SHARED_STRINGS
    with archive.open("xl/sharedStrings.xml") as handle:
        declared = re.search(rb'uniqueCount="(\d+)"', handle.read(1024))
    if declared and int(declared.group(1)) > limit:  # Excel writes the count: refused before reading
        raise _too_many_strings()
    target = _SharedStrings(limit)
    with archive.open("xl/sharedStrings.xml") as handle:
        for _pause in _parse(handle, target):
            pass
    return target.strings


class _Rows(_Text):
    """Rows of the sheet as (row number, cells), collected while the parser is fed."""

    def __init__(self, strings: list[str]):
        super().__init__()
        self.strings = strings
        self.max_columns = settings.SPREADSHEET_MAX_COLUMNS
        self.rows: list[tuple[int, list]] = []
        self.number = 0
        self.cells: list = []
        self.reference = self.kind = None

    def start(self, tag, attrib) -> None:
        if tag == CELL:
            self.reset()
            self.reference, self.kind = attrib.get("r"), attrib.get("t")
        elif tag == ROW:
            self.number = int(attrib.get("r") or self.number + 1)
            if self.number > MAX_ROWS:
                raise SheetError(_("The sheet has more rows than Excel allows."))
            self.cells = []
        else:
            super().start(tag)

    def end(self, tag) -> None:
        if tag == CELL:
            value = self._value()
            if value is None or value == "":
                return
            index = _column(self.reference) if self.reference else len(self.cells)
            if index >= self.max_columns:
                raise _too_wide(self.number, column_letters(index))
            if index >= len(self.cells):
                self.cells.extend([None] * (index + 1 - len(self.cells)))
            self.cells[index] = value
        elif tag == ROW:
            if self.cells:
                self.rows.append((self.number, self.cells))
            self.cells = []
        else:
            super().end(tag)

    def _value(self):
        value, kind = self.value, self.kind
        if kind == "inlineStr":
            return value
        if not value:  # no value, or a formula whose cached result is empty
            return None
        if kind == "s":
            return self.strings[int(value)]
        if kind == "b":
            return value == "1"
        if kind in ("str", "e"):
            return value
        number = float(value)
        return int(number) if number.is_integer() and abs(number) < 2**53 else number

    def close(self) -> None:
        pass


def _column(reference: str) -> int:
    index = 0
    for char in reference:
        if "A" <= char <= "Z":
            index = index * 26 + ord(char) - 64
        else:
            break
    return index - 1


def _xlsx_rows(handle) -> Iterator[tuple[int, list]]:
    try:
        with zipfile.ZipFile(handle) as archive:
            sheet_path = _first_sheet_path(archive)
            target = _Rows(_shared_strings(archive))
            with archive.open(sheet_path) as sheet:
                for _pause in _parse(sheet, target, EMPTY_ROWS_AND_CELLS):
                    yield from target.rows
                    target.rows.clear()
    except SheetError:
        raise
    # A damaged or hostile file fails in many ways (a cut-off zip, a bad CRC, a broken deflate stream, XML that
    # does not parse, a shared-string index or a number that is not one): each is the same answer to the clerk.
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        KeyError,
        IndexError,
        ValueError,
        NotImplementedError,
        RuntimeError,
        OSError,
        etree.XMLSyntaxError,
    ) as error:
        raise unreadable() from error
