"""The one sheet writer (housing_safety.excel): what every workbook the system writes gets from it."""

from __future__ import annotations

import datetime
import io
import itertools
import zipfile
from decimal import Decimal
from xml.etree import ElementTree

import openpyxl
import pytest
from openpyxl.styles import Font, PatternFill
from openpyxl.utils.escape import unescape

from housing_safety.excel import FORMULA_STARTS, HEADER_FILL, XLSX_TYPE, WorkbookWriter, safe_cell, xlsx_response

DAY = datetime.date(2026, 3, 23)


def rgb(color) -> str:
    """A colour's RGB: openpyxl wrote an alpha byte of 00, XlsxWriter (and Excel) FF; Excel ignores it."""
    return color.rgb[-6:]


def written() -> tuple[bytes, int]:
    book = WorkbookWriter()
    sheet = book.sheet("清单", ["=户主", "日期", "金额"], freeze="A2", widths=[30, None, 12])
    sheet.append(["+1+1", DAY, -3])
    sheet.append(["张三", None, Decimal("1.50")], fill=PatternFill("solid", fgColor="FDE8E8"), font=Font(bold=True))
    return book.to_bytes(), sheet.rows


def test_the_header_is_styled_and_made_safe():
    sheet = openpyxl.load_workbook(io.BytesIO(written()[0])).active
    header = sheet[1]
    assert [cell.value for cell in header] == ["'=户主", "日期", "金额"]
    assert all(cell.font.bold and rgb(cell.fill.fgColor) == rgb(HEADER_FILL.fgColor) for cell in header)
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width == 30


def test_rows_are_made_safe_and_keep_their_types():
    sheet = openpyxl.load_workbook(io.BytesIO(written()[0])).active
    text, day, number = sheet[2]
    assert (text.value, text.data_type) == ("'+1+1", "s")
    assert day.value.date() == DAY and day.is_date and day.number_format == "yyyy-mm-dd"
    assert (number.value, number.data_type) == (-3, "n")
    assert not any(cell.data_type == "f" for row in sheet.iter_rows() for cell in row)


def test_a_row_styled_as_a_whole():
    sheet = openpyxl.load_workbook(io.BytesIO(written()[0])).active
    name, _empty, amount = sheet[3]
    assert (name.value, amount.value) == ("张三", 1.5)
    assert {(rgb(cell.fill.fgColor), cell.font.bold) for cell in sheet[3]} == {("FDE8E8", True)}


def test_rows_are_counted_without_the_header():
    assert written()[1] == 2
    book = WorkbookWriter()
    sheet = book.sheet("空", ["序号"])
    assert sheet.rows == 0
    assert [list(row) for row in openpyxl.load_workbook(io.BytesIO(book.to_bytes())).active.values] == [["序号"]]


def test_a_file_for_large_exports_is_rewound():
    book = WorkbookWriter()
    book.sheet("表", ["a"]).append([1])
    with book.to_file() as handle:
        assert openpyxl.load_workbook(handle).active["A2"].value == 1


def test_the_download_carries_a_chinese_name_as_rfc_5987_asks():
    response = xlsx_response(b"xlsx", "汇总-2026-03.xlsx")
    assert response["Content-Type"] == XLSX_TYPE
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''%E6%B1%87%E6%80%BB-2026-03.xlsx"
    assert xlsx_response(b"xlsx", "problems.xlsx")["Content-Disposition"] == 'attachment; filename="problems.xlsx"'


def test_no_text_becomes_a_formula_a_link_or_markup():
    """Every way text is written (header, heading, plain and styled rows, a styled cell) keeps it text: formula
    starts behind an apostrophe; a URL, digits and XlsxWriter's own rich-text markup exactly as typed."""
    texts = [f"{start}1+1" for start in FORMULA_STARTS] + ["http://evil.example/x", "00123", "<r><t>=1</t>&</r>"]
    book = WorkbookWriter()
    sheet = book.sheet("注入", texts, freeze="A2")
    sheet.heading(texts)
    sheet.append(texts)
    sheet.append(texts, fill=PatternFill("solid", fgColor="FDE8E8"))
    sheet.append([sheet.cell(text, font=Font(bold=True)) for text in texts])
    content = book.to_bytes()

    expected = [safe_cell(text) for text in texts]
    assert expected[0] == "'=1+1" and expected[-3:] == texts[-3:]
    rows = list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows())
    assert len(rows) == 5
    for row in rows:
        # read as Excel reads it: XlsxWriter writes a carriage return as _x000D_
        assert [unescape(cell.value) for cell in row] == expected
        assert {cell.data_type for cell in row} == {"s"} and not any(cell.hyperlink for cell in row)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in xml and b"<f " not in xml and b"hyperlink" not in xml


def test_values_keep_their_types_and_the_unknown_is_refused():
    moment = datetime.datetime(2026, 3, 23, 18, 30)
    book = WorkbookWriter()
    sheet = book.sheet("类型")
    sheet.append([True, 7, 2.5, Decimal("-0.25"), moment, datetime.time(9, 30), "", None, "末"])
    with pytest.raises(TypeError, match="cannot write"):
        sheet.append([object()])
    row = openpyxl.load_workbook(io.BytesIO(book.to_bytes())).active[1]
    assert [cell.value for cell in row] == [True, 7, 2.5, -0.25, moment, datetime.time(9, 30), None, None, "末"]
    assert [row[4].number_format, row[5].number_format] == ["yyyy-mm-dd h:mm:ss", "h:mm:ss"]


# Many rows at once (Sheet.extend): the sheet's XML written directly -------------------------------------------

TRICKY = [
    *(f"{start}1+1" for start in FORMULA_STARTS),
    "http://evil.example/x", "00123", "<r><t>=1</t>&</r>", "a_x0041_b", "ctl\x01\x1f", "line\r\nbreak\tend",
    " leading", "trailing ", "& < > \" '", "张三 · 南坪村", "长" * 40_000, "😀" * 20_000,
]  # fmt: skip


def extended_and_appended(rows, kinds) -> tuple[list, list]:
    """The same rows written by extend() and by append(), below the same title and header, read back."""
    books = []
    for write in ("extend", "append"):
        book = WorkbookWriter()
        book.sheet("汇总", ["乡镇"]).append(["新桥镇"])
        sheet = book.sheet("逾期清单", ["类别", "事项", "到期", "天数"], freeze="A3", widths=[18, 60, 12, 10])
        sheet.title("标题")
        if write == "extend":
            sheet.extend(rows, kinds)
        else:
            for row in rows:
                sheet.append(row)
        assert sheet.rows == len(rows)
        books.append(openpyxl.load_workbook(io.BytesIO(book.to_bytes())))
    return books


def test_extended_rows_read_back_as_appended_rows():
    """Every text as append() writes it (made safe, escaped as Excel escapes, cut at Excel's 32,767 characters),
    dates as dates in yyyy-mm-dd, whole numbers as numbers, None and empty text as empty cells."""
    rows = [(text, text, DAY, index) for index, text in enumerate(TRICKY)] + [
        (None, "", None, None),
        ("末", "", DAY, -1),
    ]
    extended, appended = extended_and_appended(rows, (str, str, datetime.date, int))
    ours, theirs = extended["逾期清单"], appended["逾期清单"]
    read = [[(cell.value, cell.data_type, cell.number_format) for cell in row] for row in ours.iter_rows()]
    assert read == [[(cell.value, cell.data_type, cell.number_format) for cell in row] for row in theirs.iter_rows()]
    assert ours.max_row == len(rows) + 2 and ours.max_column == 4
    assert ours["A3"].value == "'=1+1" and ours["C3"].is_date and ours["C3"].value.date() == DAY
    assert len(ours[f"A{2 + len(TRICKY)}"].value) == 16_383  # the emoji: two UTF-16 units each, cut whole
    assert not any(cell.data_type == "f" or cell.hyperlink for row in ours.iter_rows() for cell in row)
    # the sheet keeps its panes, widths and header, the other sheet is untouched
    assert (ours.freeze_panes, ours.column_dimensions["B"].width) == ("A3", theirs.column_dimensions["B"].width)
    assert extended["汇总"]["A2"].value == "新桥镇" and extended.sheetnames == ["汇总", "逾期清单"]


def test_extended_rows_are_valid_xml_with_the_dimension_stretched():
    book = WorkbookWriter()
    sheet = book.sheet("清单", ["类别", "天数"])
    rows = ([f"第{n}项 & <{n}>", n] for n in range(1, 25_000))
    sheet.extend(itertools.chain([[" 空格在前", 0]], rows), (str, int))
    with zipfile.ZipFile(io.BytesIO(book.to_bytes())) as archive:
        assert archive.testzip() is None
        xml = archive.read("xl/worksheets/sheet1.xml")
    root = ElementTree.fromstring(xml)  # well-formed
    namespace = {"x": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    assert root.find("x:dimension", namespace).get("ref") == "A1:B25001"
    rows = root.findall("x:sheetData/x:row", namespace)
    assert len(rows) == 25_001 and rows[-1].get("r") == "25001"
    assert [cell.get("r") for cell in rows[-1]] == ["A25001", "B25001"]
    assert '<t xml:space="preserve"> 空格在前</t>'.encode() in xml  # Excel would drop the space without it


def test_extend_writes_a_sheets_last_rows_once_and_refuses_what_it_cannot_write():
    book = WorkbookWriter()
    sheet = book.sheet("清单", ["事项"])
    with pytest.raises(TypeError, match="not float"):
        sheet.extend([[1.5]], (float,))
    with pytest.raises(ValueError, match="before 1900-03-01"):
        book.sheet("旧").extend([[datetime.date(1900, 2, 28)]], (datetime.date,))
    sheet.extend([], (str,))  # no rows: the sheet is as it was
    assert sheet.rows == 0
    with pytest.raises(ValueError, match="once per sheet"):
        sheet.extend([["又"]], (str,))
    with pytest.raises(ValueError, match="nothing can be written below"):
        sheet.append(["后"])
    book.sheet("无表头").extend([["只有", 1]], (str, int))  # a sheet of extended rows alone
    with book.to_file() as handle:  # the large exports' way out too
        read = openpyxl.load_workbook(handle)
    assert [row for row in read["清单"].values] == [("事项",)]
    assert [row for row in read["无表头"].values] == [("只有", 1)] and read["无表头"].dimensions == "A1:B1"
