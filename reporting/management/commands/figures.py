"""`manage.py figures [--date D] [--full | --check]`: refresh the dashboard's maintained figures for a day (the job
"refresh_figures"), from scratch with --full, or check them against a recomputation (the nightly "check_figures":
every difference printed, exit status 1 when there is one)."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from reporting import rollup


class Command(BaseCommand):
    help = "Refresh (or --check) the dashboard's maintained figures for a date (default today)."

    def add_arguments(self, parser):
        parser.add_argument("--date", type=datetime.date.fromisoformat, default=None, help="YYYY-MM-DD")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--full", action="store_true", help="recompute every township")
        mode.add_argument("--check", action="store_true", help="refresh, then compare with a recomputation")

    def handle(self, *args, date, full, check, **options):
        day = date or timezone.localdate()
        if not check:
            count = rollup.refresh_figures(day=day, full=full)
            self.stdout.write(f"{day}: refreshed {count} townships")
            return
        found = rollup.check_figures(day=day)
        for difference in found:
            self.stdout.write(str(difference))
        if found:
            raise CommandError(f"{day}: {len(found)} differences between the rollup and a recomputation")
        self.stdout.write(f"{day}: the rollup equals a recomputation")
