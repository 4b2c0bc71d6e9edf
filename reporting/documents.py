"""The consolidated monthly report as an Excel workbook, and its chart as a PNG for the e-mail.

The workbook is written by the kit's writer (housing_safety.excel: XlsxWriter in constant-memory mode), so its
memory does not grow with the overdue lists.
"""

from __future__ import annotations

import datetime
import io

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

from households.selectors import townships_for_user
from housing_safety.access import SYSTEM
from housing_safety.excel import CENTER, HEADER_FILL, WorkbookWriter
from housing_safety.people import person_name
from rectification.models import Problem

from . import selectors
from .models import MonthlyReport, ReportKind, ReportStatus

NUMBER_FORMATS = {"count": "#,##0", "money": "#,##0.00", "share": "0.0%"}
GROUP_FILL = PatternFill("solid", fgColor="BDD7EE")
THIN = Side(style="thin", color="9BAFC4")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")


def _cell(sheet, value, *, bold=False, size=None, fill=None, number_format=None, align=None, border=True):
    """The report's boxed cells, on the writer's (the value made safe there)."""
    font = Font(bold=bold, size=size or 11) if bold or size else None
    return sheet.cell(
        value, font=font, fill=fill, number_format=number_format, alignment=align, border=BOX if border else None
    )


def _title(sheet, title: str, subtitle: str) -> None:
    sheet.heading([_cell(sheet, title, bold=True, size=14, border=False)])
    sheet.heading([_cell(sheet, subtitle, border=False)])


def _summary_sheet(book: WorkbookWriter, rows, totals, title, subtitle) -> None:
    widths = [14, *(12 if column.kind == "count" else 15 for column in selectors.COLUMNS)]
    sheet = book.sheet(_("Summary by township"), freeze="B5", widths=widths)
    _title(sheet, title, subtitle)
    groups, previous = [_cell(sheet, "", fill=GROUP_FILL)], None
    for column in selectors.COLUMNS:
        label = str(column.group) if column.group != previous else ""
        groups.append(_cell(sheet, label, bold=True, fill=GROUP_FILL, align=CENTER))
        previous = column.group
    sheet.heading(groups)
    sheet.header(
        [_cell(sheet, _("Township"), bold=True, fill=HEADER_FILL, align=CENTER)]
        + [_cell(sheet, str(column.label), bold=True, fill=HEADER_FILL, align=CENTER) for column in selectors.COLUMNS]
    )
    for name, figures, bold in [(row.area.name, row.figures, False) for row in rows] + [(_("Total"), totals, True)]:
        sheet.append(
            [_cell(sheet, name, bold=bold)]
            + [
                _cell(sheet, figures.get(c.key), bold=bold, number_format=NUMBER_FORMATS[c.kind])
                for c in selectors.COLUMNS
            ]
        )


def _units_sheet(book: WorkbookWriter, day: datetime.date) -> None:
    sheet = book.sheet(_("Unit submissions"), freeze="B3", widths=(26, 14, 18, 12, 14, 60, 60, 14))
    sheet.heading([_cell(sheet, _("Unit reports for %(month)s") % {"month": f"{day:%Y-%m}"}, bold=True, size=14)])
    headers = (
        _("Unit"), _("Status"), _("Submitted at"), _("Submitted by"), pgettext("unit report", "Due on"),
        _("Progress this month (本月整治工作进展情况)"), _("Prominent problems and handling (突出问题处理情况)"),
        _("Stamped copy"),
    )  # fmt: skip
    sheet.header([_cell(sheet, header, bold=True, fill=HEADER_FILL, align=CENTER) for header in headers])
    month = MonthlyReport.objects.filter(kind=ReportKind.MONTHLY, period=day.replace(day=1))
    # the units that report, and what a unit no longer reporting did submit
    reports = (selectors.expected(month) | month.filter(status=ReportStatus.SUBMITTED)).select_related(
        "unit", "submitted_by"
    )
    labels = {
        "on_time": _("Submitted on time"),
        "late": _("Submitted late"),
        "missing": _("Not submitted (late)"),
        "open": _("Not yet submitted"),
    }
    for report in reports.order_by("unit__kind", "unit__name"):
        submitted_at = timezone.localtime(report.submitted_at).replace(tzinfo=None) if report.submitted_at else None
        values = (
            report.unit.name,
            labels[selectors.report_cell_state(report)],
            submitted_at,
            person_name(report.submitted_by) if report.submitted_by else "",
            report.due_on,
            report.progress,
            report.problems_handled,
            _("Stamped copy received") if report.stamped_received_at else _("Not received"),
        )
        cells = [_cell(sheet, value, align=WRAP) for value in values]
        cells[2].number_format = "yyyy-mm-dd hh:mm"
        cells[4].number_format = "yyyy-mm-dd"
        sheet.append(cells)


def _overdue_sheet(book: WorkbookWriter, day: datetime.date, counts: dict | None = None) -> None:
    sheet = book.sheet(_("Overdue items"), freeze="A3", widths=(18, 12, 60, 12, 10))
    sheet.heading([_cell(sheet, _("Overdue as of %(day)s") % {"day": f"{day:%Y-%m-%d}"}, bold=True, size=14)])
    headers = (_("Kind"), _("Township"), _("Item"), pgettext("late item", "Due on"), _("Days overdue"))
    sheet.header([_cell(sheet, header, bold=True, fill=HEADER_FILL, align=CENTER) for header in headers])
    townships = {t.pk: t.name for t in townships_for_user(SYSTEM)}
    # Hundreds of thousands of rows at province scale (597,000 at 500,000 households): plain values, written by the
    # kit as the sheet's XML (XlsxWriter took 18 to 34 s for them, cell by cell; see Sheet.extend).
    sheet.extend(_overdue_rows(day, townships, counts), (str, str, str, datetime.date, int))


def _overdue_rows(day: datetime.date, townships: dict, counts: dict | None):
    """The overdue sheet's rows, each late item counted per township and kind in `counts` as it is written."""
    for label, item in selectors.iter_late_items(SYSTEM, day):
        yield label, townships.get(item["township_id"], ""), item["label"], item["due_on"], item["days"]
        if counts is not None:
            by_kind = counts.setdefault(item["township_id"], {})
            by_kind[item["kind"]] = by_kind.get(item["kind"], 0) + 1


def consolidated_workbook(day: datetime.date, rows=None, totals=None, late_counts: dict | None = None) -> bytes:
    """The city's consolidated report as of `day`: summary by township, unit submissions, overdue items. A
    `late_counts` dict is filled with the items written, {township id: {kind: count}} (late_counts_by_township's
    numbers, without reading the late lists a second time)."""
    if rows is None:
        rows, totals = selectors.township_table(SYSTEM, day)
    book = WorkbookWriter()
    title = _("Rural housing safety: consolidated monthly report, %(month)s") % {"month": f"{day:%Y-%m}"}
    subtitle = _("Figures as of %(when)s; “this month” counts from %(first)s.") % {
        "when": f"{timezone.localtime():%Y-%m-%d %H:%M}",
        "first": f"{day.replace(day=1):%Y-%m-%d}",
    }
    _summary_sheet(book, rows, totals, title, subtitle)
    _units_sheet(book, day)
    _overdue_sheet(book, day, late_counts)
    return book.to_bytes()


# The year-end summary -----------------------------------------------------------------------------------------


def year_end_workbook(summary: dict) -> bytes:
    """The year-end summary (工作总结) of selectors.year_end_summary: the plan's tasks and mechanisms with the year's
    figures, problems by source and by township, the problems fixed this year, what is still open, and the units'
    own summaries."""
    from .selectors import year_end

    start, day, year = summary["start"], summary["day"], summary["year"]
    book = WorkbookWriter()
    sheet = book.sheet(_("Year-end summary"), widths=(62, 16))
    _title(
        sheet,
        _("Rural housing safety: year-end summary of the special campaign, %(year)s") % {"year": year},
        _("The year from %(start)s to %(day)s; figures as of %(when)s.")
        % {"start": f"{start:%Y-%m-%d}", "day": f"{day:%Y-%m-%d}", "when": f"{timezone.localtime():%Y-%m-%d %H:%M}"},
    )
    for heading, figures in summary["sections"]:
        sheet.heading([_cell(sheet, str(heading), bold=True, fill=GROUP_FILL), _cell(sheet, "", fill=GROUP_FILL)])
        for label, value, kind in figures:
            sheet.append([_cell(sheet, str(label)), _cell(sheet, value, number_format=NUMBER_FORMATS[kind])])
    sheet.heading([""])
    sheet.heading([_cell(sheet, _("Problems by source"), bold=True, fill=GROUP_FILL)])
    sheet.header([_("Source"), _("Problems found this year"), _("Problems fixed this year")])
    for label, found, fixed in summary["by_source"]:
        sheet.append([label, found, fixed])

    townships = book.sheet(_("By township"), freeze="B2", widths=(14, 12, 12, 12, 12, 12, 12, 12, 12))
    townships.header(
        [
            _("Township"), _("Covered households"), _("Appraised"), _("Dangerous houses lived in"), _("Open cases"),
            _("Problems found this year"), _("Problems fixed this year"), _("Problems still open"),
            _("Problems overdue"),
        ]
    )  # fmt: skip
    for row in summary["townships"]:
        figures, problems = row["figures"], row["problems"]
        townships.append(
            [
                row["township"].name, figures["covered"], figures["appraised"], figures["dangerous_houses"],
                figures["cases_open"], problems["found"], problems["fixed"], problems["open"], problems["overdue"],
            ]
        )  # fmt: skip

    kinds, sources = dict(Problem.Kind.choices), dict(Problem.Source.choices)
    fixed = book.sheet(_("Problems fixed this year"), freeze="A2", widths=(12, 16, 12, 50, 40, 12))
    fixed.header([_("Township"), _("Kind"), _("Source"), _("Problem"), _("Resolution"), _("Resolved on")])
    for problem in year_end.fixed_problems(start, day).iterator(chunk_size=2000):
        resolved = timezone.localtime(problem.resolved_at).date() if problem.resolved_at else None
        fixed.append(
            [
                problem.township.name, str(kinds.get(problem.kind, problem.kind)),
                str(sources.get(problem.source, problem.source)), problem.description, problem.resolution, resolved,
            ]
        )  # fmt: skip

    still = book.sheet(_("Problems still open"), freeze="A2", widths=(12, 16, 12, 50, 16, 12))
    still.header([_("Township"), _("Kind"), _("Source"), _("Problem"), _("Responsible person"), _("Deadline")])
    for problem in year_end.open_problems().iterator(chunk_size=2000):
        still.append(
            [
                problem.township.name, str(kinds.get(problem.kind, problem.kind)),
                str(sources.get(problem.source, problem.source)), problem.description, problem.responsible_person,
                problem.deadline,
            ]
        )  # fmt: skip
    _overdue_sheet(book, day)  # everything else still late: appraisals, revisits, cases, complaints, leads

    units = book.sheet(_("Units' summaries"), freeze="B2", widths=(26, 14, 18, 60, 60))
    units.header([_("Unit"), _("Status"), _("Submitted at"), _("Progress"), _("Problems and handling")])
    reports = MonthlyReport.objects.filter(kind=ReportKind.YEAR_END, period__year=year).select_related("unit")
    for report in reports.order_by("unit__kind", "unit__name"):
        submitted_at = timezone.localtime(report.submitted_at).replace(tzinfo=None) if report.submitted_at else None
        units.append(
            [report.unit.name, report.get_status_display(), submitted_at, report.progress, report.problems_handled]
        )
    return book.to_bytes()


def year_end_filename(year: int) -> str:
    return _("year-end-summary-%(year)s.xlsx") % {"year": year}


# The chart ----------------------------------------------------------------------------------------------------

CJK_FONTS = ["WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "SimHei"]


def _installed_fonts() -> list[str]:
    """The CJK fonts this server has, then matplotlib's default (asking for a missing family logs a warning)."""
    from matplotlib import font_manager

    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    return [name for name in CJK_FONTS if name in installed] + ["DejaVu Sans"]


def chart_png(rows, day: datetime.date) -> bytes:
    """Per township: households by housing-security status, as stacked bars (PNG, rendered on the server).

    Chinese labels need a CJK font on the server (Debian: fonts-wqy-microhei); matplotlib falls back through
    CJK_FONTS to DejaVu Sans.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from inspections.selectors import HousingStatus

    colours = {
        HousingStatus.APPRAISED_SAFE: "#4c9f70",
        HousingStatus.RENOVATED_SAFE: "#2f7ebc",
        HousingStatus.SECURED: "#8e6cbf",
        HousingStatus.DANGEROUS: "#d1495b",
        HousingStatus.UNAPPRAISED: "#b8b8b8",
    }
    figure = Figure(figsize=(8, 0.32 * max(len(rows), 4) + 1.4), dpi=110)
    axes = figure.add_subplot()
    names = [row.area.name for row in rows][::-1]
    left = [0] * len(names)
    for status, colour in colours.items():
        values = [row.figures[f"status_{status}"] for row in rows][::-1]
        axes.barh(names, values, left=left, color=colour, label=str(status.label))
        left = [a + b for a, b in zip(left, values, strict=True)]
    axes.set_title(_("Covered households by housing-security status, %(day)s") % {"day": f"{day:%Y-%m-%d}"})
    axes.legend(loc="lower right", fontsize=7)
    axes.spines[["top", "right"]].set_visible(False)
    for text in [axes.title, *axes.get_yticklabels(), *axes.get_legend().get_texts()]:
        text.set_fontfamily(_installed_fonts())
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def key_figures(totals: dict) -> list[tuple[str, object]]:
    """The figures the e-mail and the dashboard tiles lead with."""
    share = totals.get("placard_share")
    return [
        (_("Covered households"), totals["covered"]),
        (_("Appraised"), totals["appraised"]),
        (_("Secured elsewhere, old house not appraised"), totals["secured_unappraised"]),
        (_("Appraisal overdue"), totals["appraisal_overdue"]),
        (_("Dangerous houses lived in (houses)"), totals["dangerous_houses"]),  # houses, not households
        (_("Of which without a renovation case"), totals["dangerous_without_case"]),
        (_("Renovations completed this month"), totals["cases_completed_month"]),
        (_("Subsidy paid this year (yuan)"), f"{totals['subsidy_paid_year']:,.2f}"),
        (_("Placard coverage"), f"{share:.1%}" if share is not None else "-"),
        (_("Problems overdue"), totals["problems_overdue"]),
        (_("Complaints overdue"), totals["complaints_overdue"]),
    ]


def report_filename(day: datetime.date) -> str:
    return _("consolidated-report-%(month)s.xlsx") % {"month": f"{day:%Y-%m}"}
