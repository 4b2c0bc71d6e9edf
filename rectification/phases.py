"""Reads of the plan's work phases (rectification.models.CampaignPhase): which are current on a day, from the
bureau's data. Several may be current at once (一 and 二 overlap); none between campaigns.

A year the bureau has not entered is read with the windows of the latest earlier year it did enter (or, before the
first, of the first one), same month and day: the dates stay the bureau's, never months in code, until it enters
that year's own."""

from __future__ import annotations

import datetime

from .models import CampaignPhase, Problem


def phases_of_year(year: int) -> list[CampaignPhase]:
    """The phases entered for `year` (none if the bureau has not entered it)."""
    return list(CampaignPhase.objects.filter(year=year).order_by("starts_on", "number"))


def _moved(day: datetime.date, year: int) -> datetime.date:
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February
        return day.replace(year=year, day=28)


def windows(year: int) -> list[CampaignPhase]:
    """The year's phases, or, for a year not entered, the nearest entered year's moved to it (not saved)."""
    entered = phases_of_year(year)
    if entered:
        return entered
    years = CampaignPhase.objects.values_list("year", flat=True)
    previous = (
        years.filter(year__lt=year).order_by("-year").first() or years.filter(year__gt=year).order_by("year").first()
    )
    if previous is None:
        return []
    return [
        CampaignPhase(
            year=year,
            number=phase.number,
            name=phase.name,
            starts_on=_moved(phase.starts_on, year),
            ends_on=_moved(phase.ends_on, year),
        )
        for phase in phases_of_year(previous)
    ]


def current_phases(day: datetime.date) -> list[CampaignPhase]:
    """The phases whose window holds `day` (start and end included), in order of number: none, one or several."""
    return sorted((phase for phase in windows(day.year) if phase.is_current(day)), key=lambda phase: phase.number)


def phase_number_on(day: datetime.date) -> int:
    """The phase a problem found on `day` belongs to: the latest phase begun among those current; between phases
    the last one begun this year; before the year's first phase (or with no phases at all) phase 1, whose problem
    list (一乡镇一清单) the problem joins."""
    begun = [phase for phase in windows(day.year) if phase.starts_on <= day]
    current = [phase for phase in begun if phase.ends_on >= day]
    if current:
        return max(current, key=lambda phase: (phase.starts_on, phase.number)).number
    if begun:
        return max(begun, key=lambda phase: (phase.ends_on, phase.number)).number
    return Problem.Phase.SELF_INSPECTION
