"""Scheduled jobs: each is a service callable for any date. `manage.py run_jobs --date D` runs what date D
would run; Celery beat (reporting issue) calls the same functions. Every job is idempotent."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from inspections.services import launch_quarterly_revisits


@dataclass(frozen=True)
class Job:
    name: str
    is_due: Callable[[datetime.date], bool]
    run: Callable[[datetime.date], str]


def _quarterly_revisits(day: datetime.date) -> str:
    campaign, created = launch_quarterly_revisits(day=day)
    return f"{campaign.name}: {created} revisits created"


JOBS = [
    Job("quarterly_revisits", lambda day: day.day == 1 and day.month in (1, 4, 7, 10), _quarterly_revisits),
]


def jobs_due(day: datetime.date, only: str | None = None) -> list[Job]:
    if only:
        return [job for job in JOBS if job.name == only]
    return [job for job in JOBS if job.is_due(day)]
