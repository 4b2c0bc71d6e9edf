"""Selectors of the quarterly lead returns (线索季报): the filing window, who may see which unit's return, and the
figures the bureau's quarterly report reads.

The plan (五（二）): "市各专项整治参与单位每季度向牵头单位报送本专项问题线索情况，牵头单位按季度报市纪委监委".
The participating units are the partner departments (the township governments are no city unit of the plan's
list and keep no lead desk here; their leads are in the register the bureau keeps). Each files its return from
the quarter's last LEAD_RETURN_OPEN_DAYS days, due on the quarter's last working day; it may correct it until the
bureau's report goes out on the next quarter's first day (reporting.jobs quarterly_lead_report). The report reads
the filed figures, and a department that did not file is reported with the register's figures, labelled as such.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from households.models import Unit
from housing_safety.access import scope_of
from housing_safety.models import OutgoingEmail
from housing_safety.workdays import Calendar

from .models.complaints import LEAD_RETURN_FIGURES, LeadQuarterReturn
from .selectors import lead_counts_by_unit, quarter_bounds

LEAD_RETURN_OPEN_DAYS = 10  # the window opens this many days before the quarter ends (its last day included)

FILED, NOT_FILED, REGISTER = "filed", "not_filed", "register"
SOURCE_LABELS = {
    FILED: _("Filed by the unit"),
    NOT_FILED: _("Not filed: the lead register's figures"),
    REGISTER: _("The lead register's figures"),
}


def quarter_of(day: datetime.date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def previous_quarter(year: int, quarter: int) -> tuple[int, int]:
    return (year, quarter - 1) if quarter > 1 else (year - 1, 4)


def lead_report_key(year: int, quarter: int) -> str:
    """The outbox key of the bureau's report of the quarter (reporting.services.send_quarterly_lead_report)."""
    return f"leads:{year}-Q{quarter}"


@dataclass(frozen=True)
class Window:
    """When a quarter's returns are filed: open from `opens_on`, due on `due_on` (the quarter's last working day),
    closed when the bureau's report goes out (on `report_on`, the next quarter's first day)."""

    year: int
    quarter: int
    opens_on: datetime.date
    due_on: datetime.date
    report_on: datetime.date

    def admits(self, day: datetime.date) -> bool:
        """Whether a return may be filed on `day` (the report not yet sent: the caller asks that)."""
        return self.opens_on <= day <= self.report_on


def window(year: int, quarter: int) -> Window:
    first, last = quarter_bounds(year, quarter)
    due, calendar = last, Calendar()
    while not calendar.is_working_day(due)[0] and due > first:
        due -= datetime.timedelta(days=1)
    opens = last - datetime.timedelta(days=LEAD_RETURN_OPEN_DAYS - 1)
    return Window(year, quarter, opens, due, last + datetime.timedelta(days=1))


def filing_window(today: datetime.date) -> Window | None:
    """The quarter whose returns may be filed today (before its report has gone), or None between windows."""
    current = window(*quarter_of(today))
    if current.admits(today):
        return current
    before = window(*previous_quarter(*quarter_of(today)))
    return before if before.admits(today) else None


def shown_quarter(today: datetime.date) -> tuple[int, int]:
    """The quarter the pages open on: the one being filed, else the last one ended."""
    open_window = filing_window(today)
    if open_window is not None:
        return open_window.year, open_window.quarter
    return previous_quarter(*quarter_of(today))


def report_sent(year: int, quarter: int) -> bool:
    return OutgoingEmail.objects.filter(key=lead_report_key(year, quarter)).exists()


def is_open(year: int, quarter: int, today: datetime.date) -> bool:
    """Whether the quarter's returns may be filed (or corrected) today: within its window, its report not sent."""
    return window(year, quarter).admits(today) and not report_sent(year, quarter)


def participating_units() -> QuerySet[Unit]:
    """The units that file a return: the active partner departments."""
    return Unit.objects.filter(kind=Unit.Kind.DEPARTMENT, is_active=True)


def return_units_for_user(user: AbstractBaseUser) -> QuerySet[Unit]:
    """The bureau (and the complaint desk, which keeps the register) sees every participating unit's return; a
    department's liaison their own unit's; every other role none."""
    if not user.has_perm("rectification.view_leadquarterreturn"):
        return Unit.objects.none()
    scope = scope_of(user)
    if scope.everything:
        return participating_units()
    if scope.unit_id:
        return participating_units().filter(pk=scope.unit_id)
    return Unit.objects.none()


def returns_for_user(user: AbstractBaseUser) -> QuerySet[LeadQuarterReturn]:
    return LeadQuarterReturn.objects.filter(unit__in=return_units_for_user(user)).select_related("unit", "filed_by")


def register_figures(row: dict) -> dict[str, int]:
    """A unit's row of lead_counts_by_unit as the figures of a return."""
    return {
        "sent_to_units": row["outgoing"] - row["to_discipline"],
        "sent_to_discipline": row["to_discipline"],
        "received": row["incoming"],
        "receipts_confirmed": row["receipted"],
        "feedback": row["feedback"],
    }


def register_figures_by_unit(year: int, quarter: int) -> dict[int, dict[str, int]]:
    """Every unit's figures in the lead register for the quarter (three queries, whatever the number of units)."""
    return {row["unit"].pk: register_figures(row) for row in lead_counts_by_unit(year, quarter)}


def overview(user: AbstractBaseUser, year: int, quarter: int) -> list[dict]:
    """The units the user may see × their return for the quarter: filed or not, the filed figures beside the
    register's, and whether they differ."""
    units = list(return_units_for_user(user).order_by("name"))
    filed = {r.unit_id: r for r in returns_for_user(user).filter(year=year, quarter=quarter)}
    register = register_figures_by_unit(year, quarter)
    zero = dict.fromkeys(LEAD_RETURN_FIGURES, 0)
    rows = []
    for unit in units:
        entry = filed.get(unit.pk)
        counts = register.get(unit.pk, zero)
        rows.append({
            "unit": unit,
            "filed": entry,
            "register": counts,
            "figures": entry.figures() if entry else counts,
            "differs": entry is not None and entry.figures() != counts,
        })  # fmt: skip
    return rows


def report_rows(year: int, quarter: int) -> list[dict]:
    """The bureau's quarterly report, unit by unit: a participating unit's filed figures; one that did not file, the
    register's (labelled); every other unit (the bureau, the townships) the register's. Four queries."""
    returns = {r.unit_id: r for r in LeadQuarterReturn.objects.filter(year=year, quarter=quarter)}
    rows = []
    for row in lead_counts_by_unit(year, quarter):
        unit = row["unit"]
        entry = returns.pop(unit.pk, None)
        rows.append(_report_row(unit, entry, register_figures(row)))
    for entry in returns.values():  # a unit deactivated since, with no leads in the register: still reported
        rows.append(_report_row(entry.unit, entry, dict.fromkeys(LEAD_RETURN_FIGURES, 0)))
    return rows


def _report_row(unit: Unit, entry: LeadQuarterReturn | None, register: dict[str, int]) -> dict:
    if entry is not None:
        source, figures = FILED, entry.figures()
    elif unit.kind == Unit.Kind.DEPARTMENT and unit.is_active:
        source, figures = NOT_FILED, register
    else:
        source, figures = REGISTER, register
    sent = figures["sent_to_units"] + figures["sent_to_discipline"]
    return {
        "unit": unit,
        "source": source,
        "source_label": SOURCE_LABELS[source],
        "sent": sent,
        "to_discipline": figures["sent_to_discipline"],
        "received": figures["received"],
        "receipted": figures["receipts_confirmed"],
        "unreceipted": max(sent - figures["receipts_confirmed"], 0),
        "feedback": figures["feedback"],
        "situation": entry.situation if entry else "",
        "difference_reason": entry.difference_reason if entry else "",
    }
