"""What reporting adds to the workspace: the dashboard, unit reports and exports in the menu; the unit's report
to file and, for the bureau, the reports that are late."""

from __future__ import annotations

import datetime

from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from housing_safety.people import person_name
from housing_safety.workspace import Link, Todo

from . import submissions
from .models import ReportStatus
from .selectors import expected, reports_for_user, units_reporting_for
from .selectors.guidance import guided_townships

LINKS = (
    Link("lists", _("Dashboard"), "reporting:dashboard", "reporting.view_dashboard", icon="speedometer2"),
    Link("lists", _("Unit reports"), "reporting:reports", "reporting.view_monthlyreport", icon="calendar-check"),
    Link(
        "lists",
        _("Data submission to Longyan"),
        "reporting:submissions",
        "reporting.view_datasubmission",
        icon="send-check",
    ),
    Link(
        "lists",
        _("Exports for the provincial system"),
        "reporting:exports",
        "households.view_household",
        icon="download",
    ),
)


def guidance_todos(user, today: datetime.date):
    """包片: an official's townships of the year on their home, each with its key figures named as its dashboard
    names them, leading to the township's dashboard (whose every figure leads to its list); the count is the
    township's households, shown neutral (not a warning). The sampled households still to verify are not on the
    dashboard: a line of their own per township leads to that township's spot checks."""
    if not user.has_perm("inspections.view_guidanceassignment"):
        return
    group = _("My townships to guide (包片)")
    rows = guided_townships(user, today)
    spot_checks = reverse("admin:inspections_spotcheck_changelist")
    for row in rows:
        figures = row.figures
        note = (
            _(
                "%(covered)s covered · %(overdue)s appraisals overdue · %(dangerous)s without a renovation case · "
                "%(problems)s problems overdue"
            )
            % figures
        )
        url = f"{reverse('reporting:dashboard')}?township={row.township.pk}"
        yield Todo(group, row.township.name, figures["covered"], url, "muted", note=note)
        if figures["to_verify"] and user.has_perm("inspections.view_spotcheck"):
            label = _("%(township)s: sampled households to verify") % {"township": row.township.name}
            yield Todo(group, label, figures["to_verify"], f"{spot_checks}?township={row.township.pk}", "warning")
    if rows and user.has_perm("inspections.add_spotcheck"):
        yield Todo(group, _("Spot checks (抽查核实)"), None, spot_checks, "info")


def todos(user, today: datetime.date):
    group = _("Reports")
    if user.has_perm("reporting.submit_monthlyreport"):
        own = (
            reports_for_user(user)
            .filter(unit__in=units_reporting_for(user).values("pk"))
            .exclude(status=ReportStatus.SUBMITTED)
            .order_by("due_on", "unit__name")
        )
        for report in own[:3]:
            late = report.due_on < today
            yield Todo(
                group,
                _("%(unit)s: %(kind)s to submit") % {"unit": report.unit.name, "kind": report.get_kind_display()},
                None,
                reverse("reporting:report", args=[report.pk]),
                "danger" if late else "warning",
                note=(_("Was due by %(date)s: late") if late else _("Due on %(date)s"))
                % {"date": formats.date_format(report.due_on, "SHORT_DATE_FORMAT")},
            )
    if user.has_perm("reporting.view_datasubmission"):
        yield _submission_todo(user, today, group)
    if user.has_perm("reporting.view_dashboard"):
        late = expected(reports_for_user(user)).exclude(status=ReportStatus.SUBMITTED).filter(due_on__lt=today).count()
        yield Todo(group, _("Unit reports late"), late, reverse("reporting:reports"), "danger" if late else "muted")
        yield Todo(group, _("Open the dashboard"), None, reverse("reporting:dashboard"), "info")


def _submission_todo(user, today: datetime.date, group) -> Todo:
    """今年数据是否已提交龙岩 (五月提交龙岩市审核): sent (on, by), not yet (due 31 May), or late. One query."""
    state = submissions.state_for_year(user, today.year, today)
    due = formats.date_format(state.due_on, "SHORT_DATE_FORMAT")
    if state.returned:
        returned = state.submission
        note = _("Returned on %(date)s: correct and send again") % {
            "date": formats.date_format(returned.reviewed_on, "SHORT_DATE_FORMAT")
        }
        if state.late:
            note = _("%(note)s (was due by %(date)s: late)") % {"note": note, "date": due}
        label = _("This year's data returned by Longyan: to be sent again")
        return Todo(group, label, None, returned.get_absolute_url(), "danger" if state.late else "warning", note=note)
    if state.sent:
        sent = state.submission
        note = _("Sent on %(date)s by %(who)s") % {
            "date": formats.date_format(sent.sent_on, "SHORT_DATE_FORMAT"),
            "who": person_name(sent.sent_by),
        }
        label = _("This year's data sent to Longyan")
        return Todo(group, label, None, sent.get_absolute_url(), "warning" if state.late else "muted", note=note)
    label = _("This year's data not yet sent to Longyan")
    note = (_("Was due by %(date)s: late") if state.late else _("Due by %(date)s")) % {"date": due}
    tone = "danger" if state.late else "warning" if today.month >= 4 else "info"
    return Todo(group, label, None, reverse("reporting:submissions"), tone, note=note)
