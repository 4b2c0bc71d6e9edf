"""Celery beat calls this one task with a job's name; the job is a service call for today's date."""

import datetime

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from .exports import build_export_file
from .jobs import run_job as run_job_for_day


@shared_task(
    name="reporting.run_job",
    autoretry_for=(OperationalError, InterfaceError),  # a database restart: try again a little later
    retry_backoff=60,
    max_retries=3,
    soft_time_limit=30 * 60,
    time_limit=35 * 60,
)
def run_job(name: str, day: str | None = None) -> str:
    """Run the scheduled job `name` for `day` (YYYY-MM-DD), by default today in Asia/Shanghai."""
    return run_job_for_day(name, datetime.date.fromisoformat(day) if day else timezone.localdate())


@shared_task(acks_late=True, soft_time_limit=30 * 60, time_limit=35 * 60)
def build_export(export_id: int) -> str:
    """A large export for the provincial system, built in the background."""
    return build_export_file(export_id)
