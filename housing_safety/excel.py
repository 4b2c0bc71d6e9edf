"""The one writer of the workbooks the system produces, and their download.

Every Excel file is built in its app's `documents` module on `WorkbookWriter`: a write-only workbook (memory does
not grow with the rows), whose sheets pass every value through `safe_cell`, style their header alike and count
the rows written. `xlsx_response` serves the result.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable, Sequence

from django.http import FileResponse, HttpResponse
from django.utils.http import content_disposition_header
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill
from openpyxl.utils import get_column_letter

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


class Sheet:
    """One worksheet of a `WorkbookWriter`, written top to bottom.

    Every value goes through `safe_cell`; numbers stay numbers and dates stay dates (openpyxl formats a date
    yyyy-mm-dd). A value that is already a cell (`cell()`) is written as it is, its value made safe when it was
    built. `rows` counts the rows `append` wrote: the header and title rows are not data.
    """

    def __init__(self, worksheet):
        self.worksheet = worksheet
        self.rows = 0

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
        cell = WriteOnlyCell(self.worksheet, value=safe_cell(value))
        if font is not None:
            cell.font = font
        if fill is not None:
            cell.fill = fill
        if number_format is not None:
            cell.number_format = number_format
        if alignment is not None:
            cell.alignment = alignment
        if border is not None:
            cell.border = border
        return cell

    def _cells(self, values: Iterable) -> list:
        return [value if isinstance(value, Cell) else safe_cell(value) for value in values]

    def heading(self, values: Iterable) -> None:
        """A row that is not data (a title, a row of column groups), written as given and not counted."""
        self.worksheet.append(self._cells(values))

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
            self.worksheet.append(self._cells(values))
        else:
            self.worksheet.append([self.cell(value, font=font, fill=fill) for value in values])
        self.rows += 1


class WorkbookWriter:
    """A workbook in openpyxl's write-only mode: add its sheets in order with `sheet()`, then `to_bytes()` (a
    download or an e-mail attachment) or `to_file()` (a large export, streamed from a temporary file)."""

    def __init__(self):
        self.workbook = Workbook(write_only=True)

    def sheet(
        self,
        title: str,
        header: Iterable | None = None,
        *,
        freeze: str | None = None,
        widths: Sequence[float | None] = (),
    ) -> Sheet:
        """A new sheet named `title`. Frozen panes and column widths (from column A; None leaves one as it is)
        must come before the first row in write-only mode, hence here; so does the header when given."""
        worksheet = self.workbook.create_sheet(str(title))
        if freeze:
            worksheet.freeze_panes = freeze
        for index, width in enumerate(widths, start=1):
            if width is not None:
                worksheet.column_dimensions[get_column_letter(index)].width = width
        sheet = Sheet(worksheet)
        if header is not None:
            sheet.header(header)
        return sheet

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        self.workbook.save(buffer)
        return buffer.getvalue()

    def to_file(self):
        """The workbook in a temporary file, rewound; whoever reads it closes it (a FileResponse does)."""
        handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - returned open, the caller closes it
        self.workbook.save(handle)
        handle.seek(0)
        return handle


def xlsx_response(content, filename: str):
    """A workbook as a download: bytes, or an open file that is streamed and closed. A Chinese file name is sent as
    RFC 5987 asks (filename*=utf-8''…), as Django's FileResponse does."""
    if isinstance(content, bytes | bytearray):
        response = HttpResponse(content, content_type=XLSX_TYPE)
        response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
        return response
    return FileResponse(content, as_attachment=True, filename=filename, content_type=XLSX_TYPE)
