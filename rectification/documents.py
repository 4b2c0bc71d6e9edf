"""The rectification app's workbooks: the problem list, the complaints, the quarterly lead report, and a renovation
case's archive (a ZIP of its documents with an index workbook). Built on housing_safety.excel's writer; the views
check who may have them and serve them."""

from __future__ import annotations

import datetime
import zipfile
from collections.abc import Callable, Iterable
from io import BytesIO

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl.styles import Font, PatternFill

from housing_safety.excel import WorkbookWriter
from housing_safety.people import person_name

from . import lead_returns
from .models import Complaint, LeadTransfer, Problem, RenovationCase
from .selectors import quarter_bounds

OVERDUE_FILL = PatternFill("solid", fgColor="FDE8E8")
OVERDUE_FONT = Font(color="A61B1B")


def problem_list_workbook(problems: Iterable[Problem], today: datetime.date) -> bytes:
    """The plan's "one township, one list": problem, measure, responsible person, deadline, status; an open
    problem past its deadline in red."""
    book = WorkbookWriter()
    sheet = book.sheet(
        _("Problem list"),
        [
            pgettext("row number", "No."), _("Township"), _("Household"), pgettext("problem list column", "Problem"),
            _("Rectification measure"),
            _("Responsible person"), _("Deadline"), _("Status"), _("Task or mechanism"),
        ],
    )  # fmt: skip
    for number, problem in enumerate(problems, start=1):
        row = [
            number, problem.township.name, problem.household.head_name if problem.household else "",
            problem.description, problem.measure, problem.responsible_person, problem.deadline,
            problem.get_status_display(), str(problem.plan_item) if problem.plan_item else "",
        ]  # fmt: skip
        if problem.status in Problem.OPEN_STATUSES and problem.deadline < today:
            sheet.append(row, font=OVERDUE_FONT, fill=OVERDUE_FILL)
        else:
            sheet.append(row)
    return book.to_bytes()


def complaints_workbook(
    complaints: Iterable[Complaint], reporter: Callable[[Complaint], tuple[str, str]]
) -> tuple[bytes, int]:
    """The complaints with their reporter as `reporter` gives them (masked or in full), and how many there are
    (none is a workbook with the header only)."""
    book = WorkbookWriter()
    sheet = book.sheet(
        _("Complaints"),
        [
            pgettext("row number", "No."), _("Ticket number"), _("Received at"), _("Channel"),
            _("External ticket number"), _("Reporter"),
            _("Phone"), _("Township"), _("Village"), _("Category"), _("Content"), _("Status"), _("Handler"),
            _("Handling due"), _("Reply"),
        ],
    )  # fmt: skip
    for number, complaint in enumerate(complaints, start=1):
        name, phone = reporter(complaint)
        handler = person_name(complaint.handler) if complaint.handler else ""
        sheet.append([
            number, complaint.ticket, timezone.localtime(complaint.received_at).strftime("%Y-%m-%d %H:%M"),
            complaint.get_channel_display(), complaint.external_ticket, name, phone,
            complaint.township.name if complaint.township else "",
            complaint.village.name if complaint.village else "", complaint.get_category_display(), complaint.content,
            complaint.get_status_display(), handler, complaint.handling_due, complaint.reply,
        ])  # fmt: skip
    return book.to_bytes(), sheet.rows


def lead_report_workbook(*, year: int, quarter: int) -> bytes:
    """The quarterly lead report (units to the bureau, the bureau to the city discipline commission): a summary
    per unit with a total row, and every lead of the quarter. Runs for any quarter.

    A participating department's figures are those it filed (its quarterly lead return, with its work situation and
    why its figures differ from the register); a department that did not file is reported with the lead register's
    figures, marked so; the bureau's and the townships' figures are the register's."""
    first, last = quarter_bounds(year, quarter)
    rows = lead_returns.report_rows(year, quarter)
    keys = ("sent", "to_discipline", "received", "receipted", "unreceipted", "feedback")
    book = WorkbookWriter()
    summary = book.sheet(_("Summary"), widths=[36, 24, 10, 12, 10, 10, 10, 10, 40, 40])
    summary.title(
        _("Leads transferred, %(year)s Q%(quarter)s (%(first)s to %(last)s)")
        % {"year": year, "quarter": quarter, "first": f"{first:%Y-%m-%d}", "last": f"{last:%Y-%m-%d}"},
        size=13,
    )
    summary.header([
        _("Unit"), _("Figures from"), pgettext("leads", "Sent"), _("Of which to discipline inspection"),
        pgettext("leads", "Received"), _("Receipt confirmed"), _("Without receipt"), _("Feedback received"),
        _("Work situation (工作情况)"), _("Why the figures differ from the lead register"),
    ])  # fmt: skip
    for row in rows:
        values = [row["unit"].name, str(row["source_label"]), *(row[key] for key in keys)]
        values += [row["situation"], row["difference_reason"]]
        if row["source"] == lead_returns.NOT_FILED:
            summary.append(values, font=OVERDUE_FONT, fill=OVERDUE_FILL)
        else:
            summary.append(values)
    summary.append([_("Total"), "", *(sum(row[key] for row in rows) for key in keys)])
    detail = book.sheet(
        _("Leads"),
        [
            _("Sent on"), _("Direction"), _("From unit"), pgettext("lead", "To"), pgettext("lead", "Subject"),
            _("Complaint"),
            _("Receipt confirmed on"), _("Receipt confirmed by"), _("Feedback on"), _("Feedback"),
        ],
    )  # fmt: skip
    leads = LeadTransfer.objects.filter(sent_on__range=(first, last)).select_related(
        "from_unit", "to_unit", "complaint"
    )
    for lead in leads.order_by("sent_on", "pk"):
        detail.append([
            lead.sent_on, lead.get_direction_display(), lead.from_unit.name, lead.recipient, lead.subject,
            lead.complaint.ticket if lead.complaint else "", lead.receipt_on, lead.receipt_by, lead.feedback_on,
            lead.feedback,
        ])  # fmt: skip
    return book.to_bytes()


def case_archive(case: RenovationCase, documents: list, *, folder: tuple[bytes, bytes] | None = None) -> bytes:
    """The household archive for the paper file, as a ZIP: every document, numbered, and an index workbook
    (documents, steps, the case's facts) first; with `folder` (the paper folder's cover and contents list as PDFs,
    rectification.paper) those two as well."""
    book = WorkbookWriter()
    index = book.sheet(
        _("Documents"),
        [
            pgettext("row number", "No."), _("Kind"), _("Step"), pgettext("file name", "File"), _("Uploaded by"),
            _("Uploaded at"),
        ],
    )  # fmt: skip
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for number, document in enumerate(documents, start=1):
            attachment = document.attachment
            name = f"{number:03d}-{document.kind.name}-{attachment.original_name or attachment.pk}"
            with attachment.file.open("rb") as handle:
                archive.writestr(name, handle.read())
            uploader = attachment.uploaded_by.get_username() if attachment.uploaded_by else ""
            index.append([
                number, document.kind.name, document.get_step_display(), name, uploader,
                timezone.localtime(attachment.uploaded_at).strftime("%Y-%m-%d %H:%M"),
            ])  # fmt: skip
        steps = book.sheet(
            _("Steps"),
            [
                _("Date"),
                pgettext("case step", "From"),
                pgettext("case step", "To"),
                _("By"),
                _("Note"),
                _("Rule overridden"),
            ],
        )
        for step in case.transitions.select_related("actor"):
            steps.append([
                step.on, step.get_from_status_display(), step.get_to_status_display(), step.actor.get_username(),
                step.note, "\n".join(filter(None, [step.overridden, step.override_reason])),
            ])  # fmt: skip
        facts = book.sheet(_("Case"))
        for label, value in [
            (_("Case number"), case.number), (_("Township"), case.township.name),
            (_("Village"), case.household.village.name), (_("Head of household"), case.household.head_name),
            (_("ID number"), case.household.id_number or ""), (_("Dwelling"), case.dwelling.address),
            (_("Renovation type"), case.get_renovation_type_display()), (_("Programme year"), case.programme_year),
            (_("Planned subsidy (yuan)"), case.planned_subsidy), (_("Step"), case.get_status_display()),
        ]:  # fmt: skip
            facts.append([label, value])
        index_name = _("Index")
        archive.writestr(f"000-{index_name}.xlsx", book.to_bytes())
        if folder is not None:
            cover, contents = folder
            cover_name, contents_name = _("Archive cover"), _("Archive contents")
            archive.writestr(f"000-{cover_name}.pdf", cover)
            archive.writestr(f"000-{contents_name}.pdf", contents)
    return buffer.getvalue()
