"""`manage.py bench`: grow the database to --small households, measure the lists, grow it to --households, measure
every metric, and print one JSON line per metric (our figure, the baseline from the same run, the ratio, the target).

PostgreSQL only: the figures are meant for the database production runs on. `make bench` creates a fresh database.
"""

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from households.models import Household, Township
from reporting.bench import REVISIT_LIST, Bench, api, dump, field, http


class Command(BaseCommand):
    help = "Province-scale benchmark: one JSON line per metric with our figure, the baseline and the ratio."

    def add_arguments(self, parser):
        parser.add_argument("--households", type=int, default=500_000, help="size of the large run")
        parser.add_argument("--small", type=int, default=20_000, help="size of the small run (lists are compared)")
        parser.add_argument("--repeat", type=int, default=5, help="timed runs per measurement (the median counts)")
        parser.add_argument("--http-seconds", type=int, default=30)
        parser.add_argument("--connections", type=int, default=16)
        parser.add_argument("--skip-http", action="store_true")
        parser.add_argument(
            "--only-dashboard", action="store_true", help="only the dashboard's line, on the data at hand"
        )
        parser.add_argument(
            "--only-homes", action="store_true", help="only every role's home in database time, on the data at hand"
        )
        parser.add_argument("--only-paper", action="store_true", help="only the appraisal forms' line (any database)")
        parser.add_argument(
            "--only-report", action="store_true", help="only the consolidated report's line, on the data at hand"
        )
        parser.add_argument("--paper-forms", type=int, default=500, help="appraisal forms laid out for the paper line")
        parser.add_argument("--only-field", action="store_true", help="only the field package's line (this database)")
        parser.add_argument(
            "--only-revisits",
            action="store_true",
            help="only the township's revisit list: grown to --small, then to --households (issue 21's line)",
        )
        parser.add_argument(
            "--field-households", type=int, default=field.VILLAGE_HOUSEHOLDS, help="households of the package's village"
        )

    def handle(self, *args, households, small, repeat, http_seconds, connections, skip_http, only_paper, **options):
        forms, village_households = options["paper_forms"], options["field_households"]
        if only_paper:  # the paper line alone, on the database at hand (SQLite or PostgreSQL)
            Bench(repeat=repeat, emit=lambda row: self.stdout.write(dump(row))).paper(forms)
            return
        if options["only_field"]:  # the field package's line alone, at the database's present size
            field.line(Bench(repeat=repeat, emit=lambda row: self.stdout.write(dump(row))), village_households)
            return
        if connection.vendor != "postgresql":
            raise CommandError("The benchmark needs PostgreSQL: set DATABASE_URL=postgres://… (make bench does).")
        if options["only_dashboard"]:  # the dashboard against its hand-written SQL, on the database as it is
            Bench(repeat=repeat, emit=lambda row: self.stdout.write(dump(row))).dashboard(small_queries=None)
            return
        if options["only_homes"]:  # every role's home, on the database as it is
            Bench(repeat=repeat, emit=lambda row: self.stdout.write(dump(row)), say=self.stderr.write).homes()
            return
        if options["only_report"]:  # the report against its raw extract, on the database as it is (no growing)
            Bench(repeat=repeat, emit=lambda row: self.stdout.write(dump(row)), say=self.stderr.write).report()
            return
        if small > households:
            raise CommandError("--small must not exceed --households.")
        if not Township.objects.exists():
            call_command("seed_demo", stdout=self.stderr)
        self.grow_to(small)
        if options["only_revisits"]:
            bench = Bench(repeat=repeat, emit=lambda row: self.stdout.write(dump(row)), say=self.stderr.write)
            small_households, small_page = Household.objects.count(), bench.page(*REVISIT_LIST)
            self.grow_to(households)
            bench.revisit_list(small_page, bench.page(*REVISIT_LIST), small_households)
            return
        bench = Bench(repeat=repeat, emit=lambda row: self.stdout.write(dump(row)), say=self.stderr.write)
        small_households = Household.objects.count()
        small_pages = bench.list_pages()
        small_api = api.pages(bench)
        _seconds, small_dashboard_queries = bench.page("official", "/dashboard/")
        small_homes = bench.home_times()
        self.grow_to(households)
        large_pages = bench.list_pages()
        bench.lists(small_pages, large_pages, small_households)
        revisit_list = " ".join(REVISIT_LIST)  # measured among the lists, printed as the issue's own line
        bench.revisit_list(small_pages[revisit_list], large_pages[revisit_list], small_households)
        api_row = api.line(bench, small_api, api.pages(bench), small_households)  # printed last, with its HTTP figures
        bench.dashboard(small_dashboard_queries)
        bench.homes(small_homes)
        bench.status()
        bench.campaign()
        bench.report()
        bench.paper(forms)
        field.line(bench, village_households)  # a village's package at the large size
        if not skip_http:
            try:
                http(bench, seconds=http_seconds, connections=connections, api_row=api_row)
            except BaseException:
                api_row["http"] = "failed"
                bench.emit(api_row)
                raise
        bench.emit(api_row)

    def grow_to(self, households: int) -> None:
        missing = households - Household.objects.count()
        if missing > 0:
            started = time.monotonic()
            call_command("generate_synthetic", households=missing, stdout=self.stderr)
            self.stderr.write(f"loaded {missing} households in {time.monotonic() - started:.0f} s")
        with connection.cursor() as cursor:  # fresh statistics, as autovacuum would give a loaded database
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
