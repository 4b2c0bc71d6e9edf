"""Helpers for the workbooks the system writes."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@")


def safe_cell(value):
    """Text typed by users never becomes a formula in Excel (CSV/formula injection): it is written as text."""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value
