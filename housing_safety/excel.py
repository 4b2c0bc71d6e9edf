"""The one writer of the workbooks the system produces, and their download.

Every Excel file is built in its app's `documents` module on `WorkbookWriter`: XlsxWriter in its constant-memory
mode (each row goes to disk when the next begins, so memory does not grow with the rows), whose sheets pass every
value through `safe_cell`, write text as text, style their header alike and count the rows written. A sheet's last
rows, when there are hundreds of thousands of plain ones (the consolidated report's overdue sheet), go in at once
with `Sheet.extend`, written as the sheet's XML by XlsxWriter's rules, six times as fast. `xlsx_response` serves the
result.

Why XlsxWriter: measured on the consolidated report's overdue sheet (100,000 late items, 500,000 cells, this
machine), openpyxl's write-only mode wrote 158,000 cells a second bare and 123,000 through this kit, XlsxWriter's
constant-memory mode 244,000 bare (its default mode, shared strings held in memory, 161,000 and 127 MB). openpyxl
stays for reading workbooks and as the vocabulary of styles (`Font`, `PatternFill`, `Alignment`, `Border`), which
the kit translates into XlsxWriter formats, one per combination.
"""

from __future__ import annotations

import datetime
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from decimal import Decimal

import xlsxwriter
from django.http import FileResponse, HttpResponse
from django.utils.http import content_disposition_header
from openpyxl.styles import Alignment, Border, Font, PatternFill
from xlsxwriter.utility import xl_cell_to_rowcol, xl_col_to_name, xl_rowcol_to_cell

# Text starting with one of these is a formula to Excel or LibreOffice (OWASP, "CSV injection"): = + - @, and tab
# and carriage return, which some programs skip before looking at the next character. Also their full-width forms:
# Excel with a Chinese or Japanese input method converts a full-width ＝ (＋, －, ＠) typed at the start of a cell
# to the ASCII one, so such text would turn into a formula as soon as a clerk re-enters the cell; the apostrophe
# costs nothing but its sight on the rare real text that starts so.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def safe_cell(value):
    """Text typed by users never becomes a formula in Excel (CSV/formula injection): it is written as text, behind an
    apostrophe. Everything else (numbers, negative ones too; dates; None) is returned unchanged. Every workbook and
    CSV the system writes passes user text through here."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The header style of the consolidated monthly report, which every workbook now shares.
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


# openpyxl's default number formats, which the workbooks have always shown: dates as dates, not serial numbers.
DATE_FORMATS = {datetime.datetime: "yyyy-mm-dd h:mm:ss", datetime.date: "yyyy-mm-dd", datetime.time: "h:mm:ss"}
BORDER_STYLES = {
    "thin": 1, "medium": 2, "dashed": 3, "dotted": 4, "thick": 5, "double": 6, "hair": 7, "mediumDashed": 8,
    "dashDot": 9, "mediumDashDot": 10, "dashDotDot": 11, "mediumDashDotDot": 12, "slantDashDot": 13,
}  # fmt: skip
VALIGN = {"center": "vcenter", "centerContinuous": "vcenter"}
# What a value is written as, checked in this order for a subclass (bool before int, datetime before date).
WRITTEN_AS = (bool, str, int, float, Decimal, datetime.datetime, datetime.date, datetime.time)
SHEET_NAME_LIMIT = 31  # Excel's; openpyxl only warned, Excel then repaired the file

# `Sheet.extend` writes a sheet's rows as its XML, by XlsxWriter's rules for an inline string: the XML specials
# escaped, a control character as _xHHHH_ (Excel's escape; CR too, which XML would turn into LF), a literal _xHHHH_
# with its underscore escaped (_x005F_), white space at either end kept (xml:space="preserve"). Text needs none of
# it unless it has one of these characters or starts or ends with white space.
NEEDS_ESCAPING = re.compile(r"[&<>_\x00-\x08\x0b-\x1f]")
ESCAPED_LITERALLY = re.compile(r"(_x[0-9a-fA-F]{4}_)")
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b-\x1f]")
DIMENSION = re.compile(r'<dimension ref="([^"]*)"/>')
EXCEL_EPOCH = datetime.date(1899, 12, 30).toordinal()  # day 0, for the dates after Excel's phantom 29 February 1900
EXCEL_FIRST_DAY = datetime.date(1900, 3, 1)
STRING_LIMIT = 32767  # Excel's characters in a cell (UTF-16 units), XlsxWriter's too
BULK_COMPRESSION = 1  # zlib's level for rows written by `extend`: 4 times as fast as the default 6, the file 23% larger


def _date_format(value) -> str | None:
    """openpyxl's format for a date, a date and time or a time; None for any other value."""
    number_format = DATE_FORMATS.get(value.__class__)
    if number_format is None and isinstance(value, datetime.date | datetime.time):  # a subclass
        return next(DATE_FORMATS[kind] for kind in DATE_FORMATS if isinstance(value, kind))
    return number_format


def _text_cell(reference: str, text: str | None) -> str:
    """A text cell's XML, made safe (`safe_cell`) and written as XlsxWriter writes it; nothing for empty text (as
    `append` writes it) or None."""
    if not text:
        return ""
    if text.startswith(FORMULA_STARTS):
        text = "'" + text
    if len(text) > STRING_LIMIT // 2:  # a character is one or two UTF-16 units: only such text can be too long
        text = text.encode("utf-16-le")[: 2 * STRING_LIMIT].decode("utf-16-le", "ignore")
    if NEEDS_ESCAPING.search(text) is None and not text[0].isspace() and not text[-1].isspace():
        return f'<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>'
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = ESCAPED_LITERALLY.sub(r"_x005F\1", escaped)
    escaped = CONTROL_CHARACTER.sub(lambda match: f"_x{ord(match.group()):04X}_", escaped)
    space = ' xml:space="preserve"' if text[0].isspace() or text[-1].isspace() else ""
    return f'<c r="{reference}" t="inlineStr"><is><t{space}>{escaped}</t></is></c>'


def _number_cell(reference: str, value: int | None) -> str:
    return "" if value is None else f'<c r="{reference}"><v>{value:d}</v></c>'


class Cell:
    """A value with its style, from `Sheet.cell()`: written as it is (its value made safe when it was built). Its
    style may still change before the row is appended (a date column's `number_format`, say)."""

    __slots__ = ("alignment", "border", "fill", "font", "number_format", "value")

    def __init__(self, value, font=None, fill=None, number_format=None, alignment=None, border=None):
        self.value = value
        self.font, self.fill, self.number_format = font, fill, number_format
        self.alignment, self.border = alignment, border


def _rgb(color) -> str | None:
    """An openpyxl colour as XlsxWriter's #RRGGBB (the alpha byte dropped: Excel ignores it)."""
    rgb = getattr(color, "rgb", None)
    return f"#{rgb[-6:]}" if isinstance(rgb, str) and color.type == "rgb" else None


def _properties(font, fill, number_format, alignment, border) -> dict:
    """The XlsxWriter format properties for openpyxl's style objects."""
    properties: dict = {}
    if font is not None:
        for attribute, name in (("b", "bold"), ("i", "italic"), ("strike", "font_strikeout")):
            if getattr(font, attribute):
                properties[name] = True
        if font.sz:
            properties["font_size"] = font.sz
        if font.name:
            properties["font_name"] = font.name
        if font.u:
            properties["underline"] = {"double": 2, "singleAccounting": 33, "doubleAccounting": 34}.get(font.u, 1)
        if color := _rgb(font.color):
            properties["font_color"] = color
    if fill is not None and fill.fill_type == "solid" and (color := _rgb(fill.fgColor)):
        properties.update(pattern=1, bg_color=color)  # XlsxWriter writes a solid fill's colour as its fgColor
    if number_format is not None:
        properties["num_format"] = number_format
    if alignment is not None:
        if alignment.horizontal:
            properties["align"] = alignment.horizontal
        if alignment.vertical:
            properties["valign"] = VALIGN.get(alignment.vertical, alignment.vertical)
        if alignment.wrap_text:
            properties["text_wrap"] = True
    if border is not None:
        for side in ("left", "right", "top", "bottom"):
            edge = getattr(border, side)
            if edge is not None and edge.style:
                properties[side] = BORDER_STYLES[edge.style]
                if color := _rgb(edge.color):
                    properties[f"{side}_color"] = color
    return properties


class Sheet:
    """One worksheet of a `WorkbookWriter`, written top to bottom.

    Every value goes through `safe_cell`, and text is always written as text (XlsxWriter's `write()` would take a
    string starting with = for a formula, and one like a URL for a link). Numbers stay numbers and dates stay dates
    (yyyy-mm-dd). A value that is already a cell (`cell()`) is written as it is, its value made safe when it was
    built. `rows` counts the rows `append` wrote: the header and title rows are not data.
    """

    def __init__(self, book: WorkbookWriter, worksheet):
        self.book = book
        self.worksheet = worksheet
        self.rows = 0
        self._next_row = 0  # constant-memory mode: rows are written in order, each once
        self._bulk = None  # the rows `extend` wrote, as the sheet's XML (a temporary file), and their last cell
        self._bulk_end = ""
        write = worksheet
        self._writers = {
            str: self._write_text,
            int: write.write_number,
            float: write.write_number,
            Decimal: lambda row, column, value, style: write.write_number(row, column, float(value), style),
            bool: write.write_boolean,
            datetime.datetime: write.write_datetime,
            datetime.date: write.write_datetime,
            datetime.time: write.write_datetime,
        }

    def cell(
        self,
        value,
        *,
        font: Font | None = None,
        fill: PatternFill | None = None,
        number_format: str | None = None,
        alignment: Alignment | None = None,
        border: Border | None = None,
    ) -> Cell:
        """A styled cell holding `value` made safe."""
        return Cell(safe_cell(value), font, fill, number_format, alignment, border)

    def _write_text(self, row: int, column: int, text: str, style) -> None:
        if not text:  # openpyxl wrote an empty text as an empty cell; so do we (styled if it has a style)
            self.worksheet.write_blank(row, column, None, style)
        elif text.startswith("<r>") and text.endswith("</r>"):
            # XlsxWriter copies text shaped like its own rich-text XML into the sheet unescaped: a user's
            # "<r>…</r>" would break (or write into) the file. As rich text (three runs, its least, each in the
            # cell's font) it is escaped like any text and reads back the same.
            runs = (text[:1], text[1:2], text[2:])
            if style is None:
                self.worksheet.write_rich_string(row, column, *runs)
            else:
                self.worksheet.write_rich_string(row, column, *(part for run in runs for part in (style, run)), style)
        else:
            self.worksheet.write_string(row, column, text, style)

    def _write_row(self, values: Iterable, font: Font | None = None, fill: PatternFill | None = None) -> None:
        if self._bulk is not None:
            raise ValueError("extend() writes a sheet's last rows: nothing can be written below them")
        row, writers, style = self._next_row, self._writers, self.book.style
        for column, value in enumerate(values):
            if isinstance(value, Cell):
                cell, value = value, value.value  # made safe in cell()
                number_format = cell.number_format or _date_format(value)
                cell_style = style(cell.font, cell.fill, number_format, cell.alignment, cell.border)
            else:
                value = safe_cell(value)
                number_format = DATE_FORMATS.get(value.__class__)
                styled = font is not None or fill is not None or number_format is not None
                cell_style = style(font, fill, number_format) if styled else None
            if value is None:
                if cell_style is not None:
                    self.worksheet.write_blank(row, column, None, cell_style)
                continue
            writer = writers.get(value.__class__)
            if writer is None:  # a subclass (an IntEnum, a SafeString, a date's), or what no workbook holds
                kind = next((kind for kind in WRITTEN_AS if isinstance(value, kind)), None)
                if kind is None:
                    raise TypeError(f"cannot write {value!r} ({type(value).__name__}) to a workbook")
                writer = writers[kind]
                if kind in DATE_FORMATS and number_format is None:  # a plain value's (a cell's has its format)
                    cell_style = style(font, fill, DATE_FORMATS[kind])
            writer(row, column, value, cell_style)
        self._next_row += 1

    def heading(self, values: Iterable) -> None:
        """A row that is not data (a title, a row of column groups), written as given and not counted."""
        self._write_row(values)

    def title(self, text: str, *, size: int | None = 14) -> None:
        """A title row above the header: bold at `size`, plain text when `size` is None."""
        font = Font(bold=True, size=size) if size else None
        self.heading([self.cell(text, font=font)])

    def header(self, values: Iterable) -> None:
        """The column headings, in the header style (bold on the header fill, centred)."""
        self.heading(
            value if isinstance(value, Cell) else self.cell(value, font=HEADER_FONT, fill=HEADER_FILL, alignment=CENTER)
            for value in values
        )

    def append(self, values: Iterable, *, font: Font | None = None, fill: PatternFill | None = None) -> None:
        """One data row; `font` and `fill` style each of its cells (a late item in red, say)."""
        if font is None and fill is None:
            self._write_row(values)
        else:
            self._write_row(values, font, fill)
        self.rows += 1

    def extend(self, rows: Iterable[Sequence], kinds: Sequence[type]) -> None:
        """Many plain data rows, the sheet's last: each value of its column's kind (str, int or datetime.date; None
        or empty text leaves the cell empty), without a style but the date's yyyy-mm-dd, text made safe as
        `append` makes it and read back the same.

        The rows are written as the sheet's XML, bypassing XlsxWriter's cell by cell work: the consolidated report's
        overdue sheet, 3 million cells at 500,000 households, took some 18 s through `append` and takes 3.4 s here
        (compressing them included). The workbook puts them in its file when it is finished."""
        if self._bulk is not None:
            raise ValueError("extend() is called once per sheet")
        # the number XlsxWriter gives the date format in the file's styles (given when a format is first used: its
        # one private method here, its version pinned and the read-back tests in test_excel.py)
        date_style = self.book.style(number_format=DATE_FORMATS[datetime.date])._get_xf_index()

        def date_cell(reference: str, value: datetime.date | None) -> str:
            if value is None:
                return ""
            if value < EXCEL_FIRST_DAY:  # Excel counts a 29 February 1900 that never was; no date here is so old
                raise ValueError(f"{value} is before 1900-03-01")
            return f'<c r="{reference}" s="{date_style}"><v>{value.toordinal() - EXCEL_EPOCH}</v></c>'

        written = {str: _text_cell, int: _number_cell, datetime.date: date_cell}
        for kind in kinds:
            if kind not in written:
                raise TypeError(f"extend() writes text, whole numbers and dates, not {kind.__name__}")
        cells = [written[kind] for kind in kinds]
        columns = [xl_col_to_name(column) for column in range(len(kinds))]
        self._bulk = tempfile.TemporaryFile()  # noqa: SIM115 - closed when the workbook is finished
        number, chunk = self._next_row, []
        for number, values in enumerate(rows, self._next_row + 1):  # XML counts rows from 1
            row = str(number)
            written_row = "".join(
                [cell(column + row, value) for cell, column, value in zip(cells, columns, values, strict=True)]
            )
            chunk.append(f'<row r="{row}">{written_row}</row>')
            if len(chunk) == 10_000:
                self._bulk.write("".join(chunk).encode())
                chunk.clear()
        self._bulk.write("".join(chunk).encode())
        self.rows += number - self._next_row
        self._bulk_end = xl_rowcol_to_cell(number - 1, len(kinds) - 1) if number > self._next_row else ""


class WorkbookWriter:
    """A workbook written by XlsxWriter in constant-memory mode into a temporary file: add its sheets in order with
    `sheet()`, then `to_bytes()` (a download or an e-mail attachment) or `to_file()` (a large export, streamed from
    the temporary file)."""

    def __init__(self):
        self._file = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - closed by to_bytes or by to_file's reader
        self.workbook = xlsxwriter.Workbook(
            self._file,
            # No value is ever read as a formula, a number or a link: the sheets write each type explicitly, and
            # these say so again for any other caller of XlsxWriter's write().
            {"constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
             "strings_to_urls": False},
        )  # fmt: skip
        self._styles: dict = {}
        self._sheets: list[Sheet] = []

    def style(self, font=None, fill=None, number_format=None, alignment=None, border=None):
        """The one XlsxWriter format for a combination of openpyxl styles (None for none)."""
        key = (font, fill, number_format, alignment, border)
        if key not in self._styles:
            properties = _properties(font, fill, number_format, alignment, border)
            self._styles[key] = self.workbook.add_format(properties) if properties else None
        return self._styles[key]

    def style_of_cell(self, cell: Cell):
        return self.style(cell.font, cell.fill, cell.number_format, cell.alignment, cell.border)

    def sheet(
        self,
        title: str,
        header: Iterable | None = None,
        *,
        freeze: str | None = None,
        widths: Sequence[float | None] = (),
    ) -> Sheet:
        """A new sheet named `title`, with frozen panes and column widths (from column A; None leaves one as it
        is), and its header when given."""
        worksheet = self.workbook.add_worksheet(str(title)[:SHEET_NAME_LIMIT])
        if freeze:
            worksheet.freeze_panes(freeze)
        for index, width in enumerate(widths):
            if width is not None:
                # XlsxWriter's width is the one Excel shows, stored 5 pixels (of 7 a character) wider; openpyxl
                # stored the number given. Less those pixels, the file holds the widths it always held.
                worksheet.set_column(index, index, width - 5 / 7)
        sheet = Sheet(self, worksheet)
        self._sheets.append(sheet)
        if header is not None:
            sheet.header(header)
        return sheet

    def _finish(self):
        self.workbook.close()
        bulk = {f"xl/worksheets/sheet{sheet.worksheet.index + 1}.xml": sheet for sheet in self._sheets if sheet._bulk}
        if bulk:
            self._file = _with_rows(self._file, bulk)
        self._file.seek(0)
        return self._file

    def to_bytes(self) -> bytes:
        with self._finish() as handle:
            return handle.read()

    def to_file(self):
        """The workbook in a temporary file, rewound; whoever reads it closes it (a FileResponse does)."""
        return self._finish()


def _with_rows(source, sheets: dict):
    """XlsxWriter's file again, with the rows `Sheet.extend` wrote put at the end of their sheets' data and the
    sheets' dimensions stretched over them: a new file, every other part copied as it was."""
    target = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - closed by to_bytes or by to_file's reader
    source.seek(0)
    with (
        source,
        zipfile.ZipFile(source) as old,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=BULK_COMPRESSION) as new,
    ):
        for info in old.infolist():
            sheet = sheets.get(info.filename)
            if sheet is None:
                new.writestr(info, old.read(info))
                continue
            xml = old.read(info).decode().replace("<sheetData/>", "<sheetData></sheetData>")
            head, tail = xml.split("</sheetData>")
            head = _stretched(head, sheet._bulk_end)
            size = sheet._bulk.tell()
            sheet._bulk.seek(0)
            with sheet._bulk, new.open(info.filename, "w", force_zip64=size > zipfile.ZIP64_LIMIT) as out:
                out.write(head.encode())
                shutil.copyfileobj(sheet._bulk, out, 1 << 20)
                out.write(b"</sheetData>" + tail.encode())
    return target


def _stretched(head: str, last: str) -> str:
    """A sheet's XML up to its data, its <dimension> (A1, or A1:E3) stretched down to the cell `last` (if any)."""
    match = DIMENSION.search(head)
    if not last or match is None:
        return head
    first, _colon, end = match[1].partition(":")
    end_row, end_column = xl_cell_to_rowcol(end or first)
    last_row, last_column = xl_cell_to_rowcol(last)
    stretched = xl_rowcol_to_cell(max(end_row, last_row), max(end_column, last_column))
    return f'{head[: match.start()]}<dimension ref="{first}:{stretched}"/>{head[match.end() :]}'


def xlsx_response(content, filename: str):
    """A workbook as a download: bytes, or an open file that is streamed and closed. A Chinese file name is sent as
    RFC 5987 asks (filename*=utf-8''…), as Django's FileResponse does."""
    if isinstance(content, bytes | bytearray):
        response = HttpResponse(content, content_type=XLSX_TYPE)
        response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
        return response
    return FileResponse(content, as_attachment=True, filename=filename, content_type=XLSX_TYPE)
