"""The units' monthly reports: which units a user fills in, which reports they see, and the units x months grid."""

from __future__ import annotations

import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from households.models import Unit
from housing_safety.access import Role, scope_of

from ..models import MonthlyReport, ReportKind, ReportStatus
from .figures import unit_figures


def reporting_units() -> QuerySet[Unit]:
    """The units that report to the bureau (月度进展 before the 23rd, 工作总结 before 10 November): active, marked as
    a responsible unit of the plan (Unit.reports_monthly), and never the bureau itself, which receives them."""
    return Unit.objects.filter(is_active=True, reports_monthly=True).exclude(kind=Unit.Kind.BUREAU)


def expected(reports: QuerySet[MonthlyReport]) -> QuerySet[MonthlyReport]:
    """Reports still expected of their unit: those of units that report. A unit no longer reporting (the bureau's
    own rows opened before issue 24) keeps its rows as history, but they are neither late nor reminded."""
    return reports.filter(unit__in=reporting_units().values("pk"))


def units_reporting_for(user: AbstractBaseUser) -> QuerySet[Unit]:
    """The units whose reports the user may fill in: a township staff's township units, a liaison's department
    (through their profile's unit); only units that report (the bureau receives the reports, it files none)."""
    if not user.has_perm("reporting.submit_monthlyreport"):
        return Unit.objects.none()
    scope = scope_of(user)
    own = Q(members__user=user) if getattr(user, "pk", None) else Q(pk__in=[])
    if scope.role == Role.TOWNSHIP_STAFF:
        own |= Q(kind=Unit.Kind.TOWNSHIP, township_id__in=scope.township_ids)
    return reporting_units().filter(own).distinct()


def reports_for_user(user: AbstractBaseUser) -> QuerySet[MonthlyReport]:
    """The bureau sees every unit's reports; a unit's people their own unit's; other roles none."""
    if not user.has_perm("reporting.view_monthlyreport"):
        return MonthlyReport.objects.none()
    reports = MonthlyReport.objects.select_related("unit", "submitted_by")
    if scope_of(user).everything:
        return reports
    return reports.filter(unit__in=units_reporting_for(user).values("pk"))


def report_grid(user: AbstractBaseUser, months: list[datetime.date], kind: str = ReportKind.MONTHLY) -> list[dict]:
    """Units x months: each cell the report (or None) for that month; two queries."""
    reports = {(r.unit_id, r.period): r for r in reports_for_user(user).filter(kind=kind, period__in=months)}
    if scope_of(user).everything:  # the units that report, and those that once submitted a report shown here
        submitted = {unit_id for (unit_id, _p), r in reports.items() if r.status == ReportStatus.SUBMITTED}
        units = Unit.objects.filter(Q(pk__in=reporting_units().values("pk")) | Q(pk__in=submitted))
    else:
        units = units_reporting_for(user)
    return [
        {"unit": unit, "cells": [_shown(reports.get((unit.pk, month)), unit) for month in months]}
        for unit in units.order_by("kind", "township__code", "name")  # townships in statistical-code order
    ]


def _shown(report: MonthlyReport | None, unit: Unit) -> MonthlyReport | None:
    """A unit that no longer reports shows only what it submitted."""
    reports = unit.is_active and unit.reports_monthly and unit.kind != Unit.Kind.BUREAU
    if report is None or reports or report.status == ReportStatus.SUBMITTED:
        return report
    return None


def report_cell_state(report: MonthlyReport | None) -> str:
    """on_time, late (submitted late), missing (past due, not submitted), open, or none (not opened)."""
    if report is None:
        return "none"
    if report.status == ReportStatus.SUBMITTED:
        return "on_time" if report.on_time else "late"
    return "missing" if report.status == ReportStatus.LATE else "open"


def report_figures(report: MonthlyReport, today: datetime.date) -> dict:
    """The figures a report shows and prints: frozen as submitted, or filled in live (to the month's last day for a
    past month) until then."""
    if report.status == ReportStatus.SUBMITTED:
        return report.figures
    month_end = (report.period + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    return unit_figures(report.unit, min(today, month_end))


def bureau_name() -> str:
    """The bureau that receives the units' reports (主送) and signs the city's documents (落款): its unit's name."""
    name = Unit.objects.filter(kind=Unit.Kind.BUREAU, is_active=True).order_by("pk").values_list("name", flat=True)
    return name.first() or gettext("Zhangping Housing and Urban-Rural Development Bureau")
