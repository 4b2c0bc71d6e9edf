"""Helpers for the workbooks the system writes."""

from __future__ import annotations

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


def xlsx_response(content: bytes, filename: str):
    """A workbook as a download."""
    from django.http import HttpResponse

    response = HttpResponse(content, content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
