import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from reporting.jobs import JOBS, jobs_due, run_job


class Command(BaseCommand):
    help = "Run the scheduled jobs that the given date (Asia/Shanghai) would run; --only runs one job for that date."

    def add_arguments(self, parser):
        parser.add_argument("--date", type=datetime.date.fromisoformat, default=None, help="YYYY-MM-DD, default today")
        parser.add_argument("--only", choices=[job.name for job in JOBS], default=None)

    def handle(self, *args, date, only, **options):
        day = date or timezone.localdate()
        jobs = jobs_due(day, only)
        if not jobs:
            self.stdout.write(f"{day}: no job is due.")
        for job in jobs:
            try:
                self.stdout.write(f"{day} {job.name}: {run_job(job.name, day)}")
            except Exception as error:
                raise CommandError(f"{job.name} failed: {error}") from error
