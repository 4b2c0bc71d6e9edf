"""Words (issue 17): one English word with several Chinese meanings is translated by its place. The workbooks the
bureau's leaders and the discipline commission read head each column with the word for what it holds: a unit
report's due date is the day it must be filed, a late item's the day it had to be done, a lead's "To" its receiving
unit; a list's file name column is no "archive" button."""

from __future__ import annotations

import datetime
import io

import pytest
from django.utils.translation import override, pgettext
from openpyxl import load_workbook

from rectification.documents import lead_report_workbook
from reporting.documents import consolidated_workbook


def header_rows(content: bytes) -> dict[str, list[str]]:
    """Every sheet's cells of text in its first rows (title, subtitle and header)."""
    book = load_workbook(io.BytesIO(content), read_only=True)
    return {
        sheet.title: [str(v) for row in sheet.iter_rows(max_row=4, values_only=True) for v in row if v]
        for sheet in book.worksheets
    }


@pytest.mark.parametrize(
    ("context", "word", "chinese"),
    [
        ("unit report", "Due on", "应报送日期"),
        ("late item", "Due on", "应完成日期"),
        ("appraisal", "Due on", "应鉴定日期"),
        ("revisit", "Due on", "应回访日期"),
        ("lead", "To", "接收单位"),
        ("case step", "To", "新环节"),
        ("case step", "From", "原环节"),
        ("file name", "File", "文件名"),
        ("appraisal", "Overdue", "逾期未鉴定"),
        ("complaint", "Overdue", "已逾期"),
    ],
)
def test_a_word_is_translated_by_its_place(context, word, chinese):
    with override("zh-hans"):
        assert pgettext(context, word) == chinese


@pytest.mark.django_db
def test_the_consolidated_report_names_each_due_date_for_what_it_is():
    with override("zh-hans"):
        sheets = header_rows(consolidated_workbook(datetime.date(2026, 5, 10)))
    texts = [text for cells in sheets.values() for text in cells]
    assert "应报送日期" in texts  # the unit reports' sheet
    assert "应完成日期" in texts  # the late items' sheet
    assert "应鉴定日期" not in texts  # neither is an appraisal


@pytest.mark.django_db
def test_the_lead_report_names_the_receiving_unit():
    with override("zh-hans"):
        sheets = header_rows(lead_report_workbook(year=2026, quarter=2))
    texts = [text for cells in sheets.values() for text in cells]
    assert {"接收单位", "线索内容", "移出", "移入"} <= set(texts)
    assert "新环节" not in texts
