"""The reporting app's paper: Word documents of a unit's report, the consolidated report and the year-end summary,
and the scan of a unit's stamped report. Each from the page it belongs to, for who may see that page."""

from __future__ import annotations

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone

from housing_safety.db_router import use_replica
from housing_safety.web import page
from housing_safety.word import docx_response

from . import selectors, word_documents
from .models import ConsolidatedReport


@page(permission="reporting.view_monthlyreport")
def report_docx(request, pk: int):
    """A unit's report in the official-document layout, to sign and stamp: its own people and the bureau."""
    report = get_object_or_404(selectors.reports_for_user(request.user), pk=pk)
    content = word_documents.unit_report_docx(report, timezone.localdate())
    return docx_response(content, word_documents.report_filename(report))


@page(permission="reporting.view_monthlyreport")
def stamped_copy(request, pk: int):
    """The scan of the signed and stamped report, shown in the browser (a PDF or a picture), to whoever sees the
    report."""
    report = get_object_or_404(selectors.reports_for_user(request.user).exclude(stamped_copy=""), pk=pk)
    suffix = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}.get(report.stamped_copy_type, "")
    return FileResponse(
        report.stamped_copy.open("rb"),
        filename=f"{word_documents.report_filename(report).removesuffix('.docx')}{suffix}",
        content_type=report.stamped_copy_type or "application/octet-stream",
    )


@page(permission="reporting.view_consolidatedreport")
def consolidated_docx(request, pk: int):
    report = get_object_or_404(ConsolidatedReport, pk=pk)
    return docx_response(
        word_documents.stored_consolidated_docx(report), word_documents.consolidated_filename(report.period)
    )


@page(permission="reporting.view_consolidatedreport")
@use_replica()
def consolidated_now_docx(request):
    """The consolidated report with today's figures, built on request (not stored, not e-mailed)."""
    today = timezone.localdate()
    return docx_response(word_documents.current_consolidated_docx(today), f"consolidated-{today:%Y-%m-%d}.docx")
