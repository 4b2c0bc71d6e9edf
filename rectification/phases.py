"""Reads of the plan's work phases (rectification.models.CampaignPhase): which are current on a day, from the
bureau's data. Several may be current at once (一 and 二 overlap); none between campaigns."""

from __future__ import annotations

import datetime

from .models import CampaignPhase, Problem


def phases_of_year(year: int) -> list[CampaignPhase]:
    return list(CampaignPhase.objects.filter(year=year).order_by("starts_on", "number"))


def current_phases(day: datetime.date) -> list[CampaignPhase]:
    """The phases whose window holds `day` (start and end included), in order of number: none, one or several."""
    return list(CampaignPhase.objects.filter(starts_on__lte=day, ends_on__gte=day).order_by("number"))


def phase_number_on(day: datetime.date) -> int:
    """The phase a problem found on `day` belongs to: the latest phase begun among those current; between phases
    the last one begun this year; before the year's first phase (or for a year without phases) phase 1, whose
    problem list (一乡镇一清单) the problem joins."""
    begun = CampaignPhase.objects.filter(year=day.year, starts_on__lte=day)
    current = begun.filter(ends_on__gte=day).order_by("-number").first()
    if current is not None:
        return current.number
    latest = begun.order_by("-ends_on", "-number").first()
    return latest.number if latest is not None else Problem.Phase.SELF_INSPECTION
