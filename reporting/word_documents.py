"""The reporting app's Word documents (official-document layout, housing_safety.word): a unit's monthly report or
year-end summary as the unit stamps and sends it, the consolidated monthly report for the bureau's leaders, and the
city's year-end summary. Every figure is read through the selectors; nothing is typed here but headings."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from households.models import Township
from housing_safety.access import SYSTEM
from housing_safety.word import OfficialDocument, chinese_date

from . import documents, selectors
from .models import LATE_BY_TOWNSHIP, ConsolidatedReport, MonthlyReport, OverdueKind, ReportKind, ReportStatus


def _figure(value, kind: str) -> str:
    """A figure as the page shows it (reporting's `figure` filter): counts with separators, yuan with two decimals,
    shares as percentages."""
    if value is None:
        return "–"
    if kind == "money":
        return f"{value:,.2f}"
    if kind == "share":
        return f"{value:.1%}"
    return f"{value:,}"


def _month(period: datetime.date) -> str:
    return _("%(year)s-%(month)02d") % {"year": period.year, "month": period.month}


# A unit's report -----------------------------------------------------------------------------------------------


def report_title(report: MonthlyReport) -> str:
    if report.kind == ReportKind.YEAR_END:
        return _("%(unit)s: year-end summary of the rural housing-safety campaign, %(year)s") % {
            "unit": report.unit.name,
            "year": report.period.year,
        }
    return _("%(unit)s: report on the rural housing-safety campaign's progress, %(month)s") % {
        "unit": report.unit.name,
        "month": _month(report.period),
    }


def report_filename(report: MonthlyReport) -> str:
    return f"{report_title(report)}.docx".replace("/", "-").replace(":", "").replace("：", "")


def unit_report_docx(report: MonthlyReport, today: datetime.date) -> bytes:
    """The unit's report as it goes out stamped: 主送 the bureau, the plan's two headings with the unit's text, its
    figures (frozen as submitted, or live until then, as the page shows them) in the attached table, 落款 the unit
    and the day it was submitted (today, for a draft)."""
    figures = selectors.report_figures(report, today)
    year_end = report.kind == ReportKind.YEAR_END
    draft = report.status != ReportStatus.SUBMITTED  # printed before it is submitted: marked so on its face
    document = OfficialDocument(
        title=report_title(report),
        recipient=selectors.bureau_name(),
        subtitle=_("(Draft, not submitted)") if draft else "",
    )
    if year_end:
        opening = _("As the campaign's plan asks, we report on this year's work as follows.")
    else:
        opening = _("As the campaign's plan asks, we report on the month's progress and problems as follows.")
    document.paragraph(opening)
    document.heading(
        _("The campaign's work this year (专项整治工作开展情况)")
        if year_end
        else _("Progress this month (本月整治工作进展情况)")
    )
    document.paragraph(report.progress or _("(Not yet written.)"))
    document.heading(_("Prominent problems and handling (突出问题处理情况)"))
    document.paragraph(report.problems_handled or _("(Not yet written.)"))
    document.heading(_("Main figures (主要数据)"))
    as_of = timezone.localtime(report.figures_at) if report.status == ReportStatus.SUBMITTED else None
    document.paragraph(
        _("The figures, filled in by the system from the records, are in the attachment (as submitted, %(when)s).")
        % {"when": f"{as_of:%Y-%m-%d %H:%M}"}
        if as_of
        else _("The figures, filled in by the system from the records, are in the attachment (as of %(day)s).")
        % {"day": f"{today:%Y-%m-%d}"}
    )
    document.paragraph(_("We hereby report."))
    table_title = _("Main figures of %(unit)s, %(period)s") % {
        "unit": report.unit.name,
        "period": str(report.period.year) if year_end else _month(report.period),
    }
    document.attachments([table_title], label=_("Attachment"))
    signed_on = timezone.localdate(report.submitted_at) if report.submitted_at else today
    document.signature(report.unit.name, signed_on)
    document.new_page()
    document.paragraph(_("Attachment"), indent=False, heading=True)
    document.paragraph(table_title, indent=False, centred=True, bold=True)
    document.table(
        [pgettext("report figures", "Group"), _("Item"), pgettext("document column", "Figure")],
        [(str(c.group), str(c.label), _figure(figures.get(c.key), c.kind)) for c in selectors.COLUMNS],
        widths_mm=(40, 86, 30),
        right=(2,),
    )
    return document.to_bytes()


# The consolidated monthly report -------------------------------------------------------------------------------

LATE_KINDS = (
    OverdueKind.APPRAISAL,
    OverdueKind.REVISIT,
    OverdueKind.DANGEROUS,
    OverdueKind.CASE,
    OverdueKind.RENOVATION,
    OverdueKind.PLACARD,
    OverdueKind.PROBLEM,
    OverdueKind.COMPLAINT,
)  # a lead is late at a unit, not a township: counted in its own line


def unit_submissions(period: datetime.date) -> list[MonthlyReport]:
    """The month's unit reports as the workbook's sheet lists them: units that report, and what a unit no longer
    reporting did submit."""
    month = MonthlyReport.objects.filter(kind=ReportKind.MONTHLY, period=period)
    reports = selectors.expected(month) | month.filter(status=ReportStatus.SUBMITTED)
    return list(reports.select_related("unit").order_by("unit__kind", "unit__name"))


STATE_LABELS = {
    "on_time": gettext_lazy("Submitted on time"),
    "late": gettext_lazy("Submitted late"),
    "missing": gettext_lazy("Not submitted (late)"),
    "open": gettext_lazy("Not yet submitted"),
}


def consolidated_docx(
    day: datetime.date,
    *,
    totals: dict,
    chart: bytes | None,
    late_by_township: dict,
    built_at: datetime.datetime | None = None,
) -> bytes:
    """The consolidated report for the bureau's leaders: the headline figures, the units late with their report and
    whose stamped copy has come in, the late items per township, the chart; 附件 the workbook beside it."""
    period = day.replace(day=1)
    title = _("Rural housing safety: consolidated monthly report, %(month)s") % {"month": _month(period)}
    document = OfficialDocument(title=title, recipient=_("The bureau's leaders"))
    when = timezone.localtime(built_at) if built_at else timezone.localtime()
    # a month's report built after its day (rebuilt, or built late) read its figures as of its day: it says so
    shown = f"{day:%Y-%m-%d}" if when.date() > day else f"{when:%Y-%m-%d %H:%M}"
    document.paragraph(
        _("Figures as of %(when)s, read from the records; “this month” counts from %(first)s.")
        % {"when": shown, "first": f"{period:%Y-%m-%d}"}
    )

    document.heading(_("Headline figures (主要数据)"))
    document.table(
        [_("Item"), pgettext("document column", "Figure")],
        documents.key_figures(totals),
        widths_mm=(110, 46),
        right=(1,),
    )

    document.heading(_("Units' reports (各单位报送情况)"))
    reports = unit_submissions(period)
    states = [(report, selectors.report_cell_state(report)) for report in reports]
    late = [report.unit.name for report, state in states if state in ("late", "missing")]
    counts = {state: sum(1 for _r, s in states if s == state) for state in STATE_LABELS}
    document.paragraph(
        _(
            "%(total)s units report: %(on_time)s on time, %(late)s late, %(missing)s not submitted past the deadline, "
            "%(open)s not yet due; %(stamped)s stamped copies received."
        )
        % {**counts, "total": len(states), "stamped": sum(1 for r in reports if r.stamped_received_at)}
    )
    document.paragraph(
        _("Late: %(units)s.") % {"units": "、".join(late)} if late else _("No unit is late with its report.")
    )
    document.table(
        [_("Unit"), _("Status"), _("Submitted at"), _("Stamped copy")],
        [
            (
                report.unit.name,
                str(STATE_LABELS[state]),
                f"{timezone.localtime(report.submitted_at):%Y-%m-%d %H:%M}" if report.submitted_at else "–",
                _("Stamped copy received") if report.stamped_received_at else _("Not received"),
            )
            for report, state in states
        ],
        widths_mm=(52, 36, 38, 30),
    )

    document.heading(_("Late items per township (各乡镇逾期事项)"))
    names = dict(Township.objects.order_by("code").values_list("pk", "name"))
    rows = []
    for township_id, name in names.items():
        counts_here = late_by_township.get(township_id, {})
        if any(counts_here.get(kind, 0) for kind in LATE_KINDS):
            rows.append([name, *(counts_here.get(kind, 0) for kind in LATE_KINDS)])
    total = [_("Total"), *(sum(row[index + 1] for row in rows) for index in range(len(LATE_KINDS)))]
    document.table([_("Township"), *(str(OverdueKind(kind).label) for kind in LATE_KINDS)], [*rows, total], font_size=9)
    leads = sum(counts.get(OverdueKind.LEAD, 0) for counts in late_by_township.values())
    document.paragraph(_("Leads transferred without a receipt: %(count)s.") % {"count": leads})

    if chart:
        document.heading(_("Housing security by township (住房安全保障状况)"))
        document.paragraph(_("Covered households by housing-security status, township by township:"))
        document.picture(chart, width_mm=150)

    document.attachments([documents.report_filename(day)], label=_("Attachment"))
    document.signature(selectors.bureau_name(), day)
    return document.to_bytes()


def stored_consolidated_docx(report: ConsolidatedReport) -> bytes:
    """A month's consolidated report as it was built: its headline figures and chart as e-mailed, the late items as
    the sweep had them on that day."""
    month_end = (report.period + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    day = min(timezone.localdate(report.built_at), month_end)  # a month's report rebuilt later is still its month's
    chart = None
    if report.chart:
        with report.chart.open("rb") as handle:
            chart = handle.read()
    totals = {**dict.fromkeys(selectors.KEYS, 0), "dangerous_houses": 0, **report.key_figures}
    stored = totals.pop(LATE_BY_TOWNSHIP, None)
    if stored is not None:  # counted with its figures when it was built: the same day's lists
        late = {int(key) if key else None: counts for key, counts in stored.items()}
    else:  # built before they were kept: as the daily sweep recorded them on its day
        late = selectors.announced_late_by_township(day)
    return consolidated_docx(day, totals=totals, chart=chart, late_by_township=late, built_at=report.built_at)


def current_consolidated_docx(day: datetime.date) -> bytes:
    """The consolidated report with today's figures, built on request."""
    rows, totals = selectors.township_table(SYSTEM, day)
    return consolidated_docx(
        day,
        totals=totals,
        chart=documents.chart_png(rows, day),
        late_by_township=selectors.late_counts_by_township(SYSTEM, day),
    )


def consolidated_filename(day: datetime.date) -> str:
    return documents.report_filename(day).removesuffix(".xlsx") + ".docx"


# The city's year-end summary -----------------------------------------------------------------------------------


def year_end_docx(summary: dict) -> bytes:
    """The city's year-end summary (工作总结) of selectors.year_end_summary, for the bureau's leaders: the plan's
    tasks, its mechanisms and the problems, each with the year's figures, then by township."""
    year, start, day = summary["year"], summary["start"], summary["day"]
    title = _("Rural housing safety: year-end summary of the special campaign, %(year)s") % {"year": year}
    document = OfficialDocument(title=title, recipient=_("The bureau's leaders"))
    document.paragraph(
        _("The campaign's year from %(start)s to %(day)s, task by task and mechanism by mechanism of the plan.")
        % {"start": chinese_date(start), "day": chinese_date(day)}
    )
    sections = summary["sections"]
    groups = (
        (_("The plan's tasks (主要任务完成情况)"), sections[:4]),
        (_("The plan's mechanisms (工作机制运行情况)"), sections[4:8]),
        (_("Problems found and fixed (问题整改)"), sections[8:]),
    )
    for heading, parts in groups:
        document.heading(str(heading))
        for section_heading, figures in parts:
            if str(section_heading) != str(heading):
                document.paragraph(str(section_heading), bold=True)
            document.table(
                [_("Item"), pgettext("document column", "Figure")],
                [(str(label), _figure(value, kind)) for label, value, kind in figures],
                widths_mm=(110, 46),
                right=(1,),
            )
    document.paragraph(_("Problems by source"), bold=True)
    document.table(
        [_("Source"), _("Problems found this year"), _("Problems fixed this year")],
        [(str(label), found, fixed) for label, found, fixed in summary["by_source"]],
        widths_mm=(76, 40, 40),
    )
    document.heading(_("By township: what is still open"))
    document.table(
        [
            _("Township"), _("Problems found this year"), _("Problems fixed this year"), _("Problems still open"),
            _("Problems overdue"), _("Dangerous houses lived in"), _("Appraisal overdue"),
        ],
        [
            (
                row["township"].name, row["problems"]["found"], row["problems"]["fixed"], row["problems"]["open"],
                row["problems"]["overdue"], row["figures"]["dangerous_houses"], row["figures"]["appraisal_overdue"],
            )
            for row in summary["townships"]
        ],
        font_size=10,
    )  # fmt: skip
    document.attachments([documents.year_end_filename(year)], label=_("Attachment"))
    document.signature(selectors.bureau_name(), day)
    return document.to_bytes()


def year_end_docx_filename(year: int) -> str:
    return documents.year_end_filename(year).removesuffix(".xlsx") + ".docx"
