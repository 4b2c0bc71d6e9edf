"""Helpers for the workbooks the system writes."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@")


def safe_cell(value):
    """Text typed by users never becomes a formula in Excel (CSV/formula injection): it is written as text."""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(content: bytes, filename: str):
    """A workbook as a download."""
    from django.http import HttpResponse

    response = HttpResponse(content, content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
