"""The consolidated workbook written by the kit's XlsxWriter (housing_safety.excel) reads back, cell for cell and
style for style, as the openpyxl write-only writer it replaced wrote it; and no text in it becomes a formula.

`OpenpyxlWorkbookWriter` below is that previous writer (the kit as it was, openpyxl's write-only mode), kept here as
the reference: the report is built once with each and both files are read back with openpyxl.
"""

from __future__ import annotations

import datetime
import io
import zipfile

import openpyxl
import pytest
from django.utils import timezone
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell as OpenpyxlCell
from openpyxl.utils import get_column_letter

from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory
from housing_safety.excel import CENTER, HEADER_FILL, HEADER_FONT, safe_cell
from reporting import documents
from reporting.models import MonthlyReport
from reporting.tests.test_consolidated_smtp import DAY, world  # noqa: F401 - the report's world, as a fixture

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://evil.example/x","点这里")'
RICH = "<r>&amp; <t>=1</t></r>"  # shaped like XlsxWriter's own rich-text markup, which it copies unescaped
PAYLOADS = (HYPERLINK, "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "＝1+1", RICH)
NOW = timezone.make_aware(datetime.datetime(2026, 11, 23, 18, 0))


class OpenpyxlSheet:
    def __init__(self, worksheet):
        self.worksheet, self.rows = worksheet, 0

    def cell(self, value, *, font=None, fill=None, number_format=None, alignment=None, border=None):
        cell = WriteOnlyCell(self.worksheet, value=safe_cell(value))
        for name, style in (("font", font), ("fill", fill), ("number_format", number_format)):
            if style is not None:
                setattr(cell, name, style)
        for name, style in (("alignment", alignment), ("border", border)):
            if style is not None:
                setattr(cell, name, style)
        return cell

    def _cells(self, values):
        return [value if isinstance(value, OpenpyxlCell) else safe_cell(value) for value in values]

    def heading(self, values):
        self.worksheet.append(self._cells(values))

    def header(self, values):
        self.heading(
            v if isinstance(v, OpenpyxlCell) else self.cell(v, font=HEADER_FONT, fill=HEADER_FILL, alignment=CENTER)
            for v in values
        )

    def append(self, values, *, font=None, fill=None):
        if font is None and fill is None:
            self.worksheet.append(self._cells(values))
        else:
            self.worksheet.append([self.cell(value, font=font, fill=fill) for value in values])
        self.rows += 1

    def extend(self, rows, kinds):
        for row in rows:
            self.append(row)


class OpenpyxlWorkbookWriter:
    """The kit before XlsxWriter: openpyxl's write-only mode."""

    def __init__(self):
        self.workbook = openpyxl.Workbook(write_only=True)

    def sheet(self, title, header=None, *, freeze=None, widths=()):
        worksheet = self.workbook.create_sheet(str(title))
        if freeze:
            worksheet.freeze_panes = freeze
        for index, width in enumerate(widths, start=1):
            if width is not None:
                worksheet.column_dimensions[get_column_letter(index)].width = width
        sheet = OpenpyxlSheet(worksheet)
        if header is not None:
            sheet.header(header)
        return sheet

    def to_bytes(self):
        buffer = io.BytesIO()
        self.workbook.save(buffer)
        return buffer.getvalue()


def _rgb(color) -> str | None:
    # openpyxl wrote an alpha byte of 00, XlsxWriter (as Excel) FF: Excel ignores it
    return color.rgb[-6:] if color is not None and isinstance(color.rgb, str) else None


def snapshot(content: bytes) -> list:
    """What a reader sees: each sheet's name, frozen panes and column widths, and every cell that holds a value or a
    style with its value, type, number format, font, fill, alignment and border. A font without a size or a name
    is Excel's default (Calibri 11), which XlsxWriter writes out."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheets = []
    for sheet in book.worksheets:
        widths = {key: dimension.width for key, dimension in sheet.column_dimensions.items() if dimension.customWidth}
        cells = [
            (
                (cell.coordinate, cell.value, cell.data_type, cell.number_format),
                (bool(cell.font.b), cell.font.sz or 11, cell.font.name or "Calibri", _rgb(cell.font.color)),
                (cell.fill.fill_type, _rgb(cell.fill.fgColor) if cell.fill.fill_type else None),
                (cell.alignment.horizontal, cell.alignment.vertical, bool(cell.alignment.wrap_text)),
                tuple(
                    (side.style, _rgb(side.color)) for side in (border.left, border.right, border.top, border.bottom)
                ),
            )
            for row in sheet.iter_rows()
            for cell in row
            if (border := cell.border) and (cell.value is not None or cell.has_style)
        ]
        sheets.append((sheet.title, sheet.freeze_panes, widths, cells))
    return sheets


@pytest.fixture
def hostile(world, xinqiao, shuangyang):  # noqa: F811 - the imported fixture
    """The world, with an overdue household and a unit's draft report written to turn into formulas."""
    village = VillageFactory(township=xinqiao, name="+东坑村")
    for payload in PAYLOADS:
        household = HouseholdFactory(village=village, head_name=payload, registered_on=datetime.date(2026, 1, 5))
        DwellingFactory(household=household)
    # a draft as its unit left it (the service's own refusals are not the point here)
    MonthlyReport.objects.filter(unit__township=shuangyang, period=DAY.replace(day=1)).update(
        progress="\n".join(PAYLOADS), problems_handled=RICH
    )
    return world


def _build(monkeypatch, writer=None) -> bytes:
    if writer is not None:
        monkeypatch.setattr(documents, "WorkbookWriter", writer)
    real = timezone.localtime
    monkeypatch.setattr(timezone, "localtime", lambda value=None, tz=None: real(value or NOW, tz))  # the subtitle
    return documents.consolidated_workbook(DAY)


def test_the_report_reads_back_as_the_openpyxl_writer_wrote_it(hostile, monkeypatch):
    before = snapshot(_build(monkeypatch, OpenpyxlWorkbookWriter))
    after = snapshot(_build(monkeypatch))

    assert [sheet[0] for sheet in after] == ["乡镇汇总", "单位报送情况", "逾期清单"]
    assert after == before
    overdue = [cell[0] for cell in after[2][3]]
    assert {value for _coordinate, value, *_ in overdue} >= {safe_cell(p) + " · +东坑村" for p in PAYLOADS}
    assert any(form == "yyyy-mm-dd" and isinstance(value, datetime.datetime) for _c, value, _t, form in overdue)
    summary = after[0][3]
    assert any(font[0] and fill == ("solid", "DDEBF7") for _value, font, fill, *_ in summary)  # the header
    assert any(border[0] == ("thin", "9BAFC4") for *_, border in summary)  # the boxed figures


def test_no_text_in_the_report_is_a_formula(hostile, monkeypatch):
    content = _build(monkeypatch)
    cells = [cell[0] for sheet in snapshot(content) for cell in sheet[3]]
    texts = [value for _coordinate, value, *_ in cells if isinstance(value, str)]
    assert not [cell for cell in cells if cell[2] == "f"]
    assert not [text for text in texts if text[:1] in tuple("=+-@\t＝＋－＠")]
    assert f"'{HYPERLINK} · +东坑村" in texts  # still there to read, behind an apostrophe
    assert RICH in texts and f"{RICH} · +东坑村" in texts  # as the text it is
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheets = [archive.read(name) for name in archive.namelist() if name.startswith("xl/worksheets/sheet")]
    assert sheets and not any(b"<f>" in xml or b"<f " in xml or b"hyperlink" in xml for xml in sheets)
