"""The year-end summary (工作总结) for the bureau's officials and administrators: the page, and its workbook."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from housing_safety.db_router import use_replica
from housing_safety.excel import xlsx_response
from housing_safety.web import page
from housing_safety.word import docx_response

from . import documents, selectors, word_documents

YEARS_SHOWN = 3  # this year and the two before


def _years(today) -> list[int]:
    return [today.year - offset for offset in range(YEARS_SHOWN)]


def _summary(year: int):
    today = timezone.localdate()
    if year not in _years(today):
        raise Http404
    return selectors.year_end_summary(year, today), today


@page(permission="reporting.view_consolidatedreport")
@use_replica()
def year_end(request, year: int):
    """The plan's tasks and mechanisms with the year's figures from 1 January, problems found and fixed, what is
    still open; the same as the workbook e-mailed on 10 November."""
    summary, today = _summary(year)
    context = {"summary": summary, "years": _years(today), "due": selectors.year_end_due(year)}
    return render(request, "reporting/year_end.html", context)


@page(permission="reporting.view_consolidatedreport")
@use_replica()
def year_end_workbook(request, year: int):
    summary, _today = _summary(year)
    return xlsx_response(documents.year_end_workbook(summary), documents.year_end_filename(year))


@page(permission="reporting.view_consolidatedreport")
@use_replica()
def year_end_docx(request, year: int):
    """The summary as an official document (Word), for the bureau's leaders to edit, sign and stamp."""
    summary, _today = _summary(year)
    return docx_response(word_documents.year_end_docx(summary), word_documents.year_end_docx_filename(year))
