"""Scheduled jobs: each is a service call for a given date. Celery beat runs them on the schedules stored by
django-celery-beat (migration 0002, editable in the admin, Asia/Shanghai); `manage.py run_jobs --date D` runs
what date D would run. Every job is idempotent: the same date twice sends one e-mail and leaves one report."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils import translation

from housing_safety.background import resend_deferred
from housing_safety.holidays import announce_missing_year
from housing_safety.mail import deliver_pending
from inspections.services import launch_quarterly_revisits

from . import rollup, services
from .models import ReportKind

QUARTER_STARTS = (1, 4, 7, 10)


@dataclass(frozen=True)
class Job:
    name: str
    is_due: Callable[[datetime.date], bool]
    run: Callable[[datetime.date], object]
    crontab: dict  # minute, hour, day_of_month, month_of_year: the beat schedule (migration 0002)


def _year_end_due() -> tuple[int, int]:
    month, day = (int(part) for part in settings.YEAR_END_SUMMARY_DUE.split("-"))
    return month, day


def _quarterly_revisits(day: datetime.date) -> str:
    campaign, created = launch_quarterly_revisits(day=day)
    return f"{campaign.name}: {created} revisits created"


def _open_year_end(day: datetime.date) -> str:
    opened = services.open_reports(kind=ReportKind.YEAR_END, day=day)
    reminded = services.remind_units(kind=ReportKind.YEAR_END, day=day)
    return f"opened {opened}, reminded {reminded}"


def _close_year_end(day: datetime.date) -> str:
    """10 November, 18:00: units' summaries not submitted become late, and the city's year-end summary goes out."""
    late = services.mark_late_reports(day=day, kind=ReportKind.YEAR_END)
    email = services.send_year_end_summary(day=day)
    return f"marked late {late}; year-end summary {email.key}"


def _sweep(day: datetime.date) -> str:
    counts = services.sweep_deadlines(day=day)
    told = announce_missing_year(day)  # from 1 December: next year's holidays to enter, announced once
    holidays = f"; told {told} of next year's missing holidays" if told else ""
    return "new overdue: " + ", ".join(f"{kind} {n}" for kind, n in counts.items()) + holidays


def _send_pending() -> str:
    resent, refused = resend_deferred()
    sent, failing = deliver_pending()
    tasks = f"; tasks resent {resent}, still refused {refused}" if resent or refused else ""
    return f"sent {sent}, still failing {failing}{tasks}"


def _refresh_figures(day: datetime.date) -> str:
    return f"figures refreshed for {rollup.refresh_figures(day=day)} townships"


def _check_figures(day: datetime.date) -> str:
    found = rollup.check_figures(day=day)
    return f"figures rollup: {len(found)} differences" + (f": {found[:20]}" if found else "")


def _cron(minute="0", hour="0", day_of_month="*", month_of_year="*") -> dict:
    return {"minute": minute, "hour": hour, "day_of_month": day_of_month, "month_of_year": month_of_year}


JOBS = [
    Job("deadline_sweep", lambda day: True, lambda day: _sweep(day), _cron("0", "8")),
    Job(
        "open_monthly_reports",
        lambda day: day.day == 1,
        lambda day: f"opened {services.open_reports(kind=ReportKind.MONTHLY, day=day)}",
        _cron("10", "0", "1"),
    ),
    Job(
        "monthly_report_reminders",
        lambda day: day.day == 20,
        lambda day: f"reminded {services.remind_units(kind=ReportKind.MONTHLY, day=day)}",
        _cron("0", "9", "20"),
    ),
    Job(
        "close_monthly_reports",
        lambda day: day.day == settings.REPORT_DUE_DAY,
        lambda day: services.close_month(day=day),
        _cron("0", str(settings.REPORT_CUTOFF_HOUR), str(settings.REPORT_DUE_DAY)),
    ),
    Job(
        "quarterly_revisits",
        lambda day: day.day == 1 and day.month in QUARTER_STARTS,
        _quarterly_revisits,
        _cron("30", "1", "1", "1,4,7,10"),
    ),
    Job(
        "quarterly_lead_report",
        lambda day: day.day == 1 and day.month in QUARTER_STARTS,
        lambda day: services.send_quarterly_lead_report(day=day),
        _cron("0", "9", "1", "1,4,7,10"),
    ),
    Job("year_end_summaries", lambda day: (day.month, day.day) == (11, 1), _open_year_end, _cron("0", "9", "1", "11")),
    Job(
        "close_year_end_summaries",
        lambda day: (day.month, day.day) == _year_end_due(),
        _close_year_end,
        _cron("0", str(settings.REPORT_CUTOFF_HOUR), str(_year_end_due()[1]), str(_year_end_due()[0])),
    ),
    # The outbox: e-mail the broker or the mail server could not take, and background tasks the broker refused
    # (housing_safety.background), are retried every ten minutes.
    Job("send_pending_mail", lambda day: True, lambda day: _send_pending(), _cron("*/10", "*")),
    # Retention: files with personal data that have served their purpose (settings *_RETENTION_DAYS).
    Job("purge_old_files", lambda day: True, lambda day: services.remove_expired_files(day=day), _cron("0", "3")),
    # The dashboard's maintained figures (reporting.rollup): the changed townships every few minutes (the whole city
    # on a new day), and every night the rollup against a recomputation from scratch (there must be no difference).
    Job(
        "refresh_figures",
        lambda day: True,
        _refresh_figures,
        _cron(f"*/{settings.FIGURES_REFRESH_MINUTES}", "*"),
    ),
    Job("check_figures", lambda day: True, _check_figures, _cron("42", "2")),  # between two refreshes
]
JOBS_BY_NAME = {job.name: job for job in JOBS}


def jobs_due(day: datetime.date, only: str | None = None) -> list[Job]:
    if only:
        return [JOBS_BY_NAME[only]]
    return [job for job in JOBS if job.is_due(day)]


def run_job(name: str, day: datetime.date) -> str:
    """Run one job for `day` in the bureau's language (e-mails and workbooks are in Chinese)."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(JOBS_BY_NAME[name].run(day))
