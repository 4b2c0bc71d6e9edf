"""The units' monthly reports: which units a user fills in, which reports they see, and the units x months grid."""

from __future__ import annotations

import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Q, QuerySet

from households.models import Unit
from housing_safety.access import Role, scope_of

from ..models import MonthlyReport, ReportKind, ReportStatus


def units_reporting_for(user: AbstractBaseUser) -> QuerySet[Unit]:
    """The units whose reports the user may fill in: a township staff's township units, a liaison's department,
    the bureau's own unit for its administrators (through their profile's unit)."""
    if not user.has_perm("reporting.submit_monthlyreport"):
        return Unit.objects.none()
    scope = scope_of(user)
    own = Q(members__user=user) if getattr(user, "pk", None) else Q(pk__in=[])
    if scope.role == Role.TOWNSHIP_STAFF:
        own |= Q(kind=Unit.Kind.TOWNSHIP, township_id__in=scope.township_ids)
    return Unit.objects.filter(own, is_active=True).distinct()


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
    if scope_of(user).everything:
        units = Unit.objects.filter(Q(is_active=True) | Q(pk__in={unit_id for unit_id, _p in reports}))
    else:
        units = units_reporting_for(user)
    return [
        {"unit": unit, "cells": [reports.get((unit.pk, month)) for month in months]}
        for unit in units.order_by("kind", "township__code", "name")  # townships in statistical-code order
    ]


def report_cell_state(report: MonthlyReport | None) -> str:
    """on_time, late (submitted late), missing (past due, not submitted), open, or none (not opened)."""
    if report is None:
        return "none"
    if report.status == ReportStatus.SUBMITTED:
        return "on_time" if report.on_time else "late"
    return "missing" if report.status == ReportStatus.LATE else "open"
