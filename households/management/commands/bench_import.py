"""Benchmark of a department list import (issue: partner departments' lists). Not a test: run on purpose with
`make bench-import` against PostgreSQL. It prints one JSON line per figure.

On the same generated file and the same database (already holding --households households):
- our reader alone (every row of the file read, nothing done with them);
- ours: preview (read, normalise, match, store the comparison) plus confirm (set-based INSERT/UPDATE, history,
  change proposals; each of confirm's steps timed), then the same file again, then a list of the generated
  households themselves (mostly registered elsewhere: a change proposal each);
- django-import-export: a plain ModelResource with default settings importing the same rows;
- PostgreSQL COPY of the already-clean rows into the households table;
each of the last two inside a transaction that is rolled back, so every run starts from the same database. Then
peak memory (max RSS of a fresh process) of our preview+confirm at 20,000 and 200,000 rows.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

RESTART = "restart"


class Rollback(Exception):
    pass


def write_list(path: Path, rows: int, first_serial: int, villages: list[tuple[str, str]]) -> None:
    """A department list as offices make it: a title row, a blank row, Chinese headers, then the households."""
    from openpyxl import Workbook

    from households.identity import id_check_digit

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("低保对象")
    sheet.append(["漳平市民政局 农村低保对象名单（合成数据）"])
    sheet.append([])
    sheet.append(
        ["序号", "户主姓名", "身份证号码", "联系电话", "乡镇（街道）", "村（社区）", "救助类别", "家庭人口", "备注"]
    )
    for offset in range(rows):
        serial = first_serial + offset
        born = datetime.date(1900, 1, 1) + datetime.timedelta(days=serial // 900)
        first17 = f"350881{born:%Y%m%d}{serial % 900 + 100:03d}"
        township, village = villages[serial % len(villages)]
        sheet.append(
            [
                offset + 1,
                f"名单户{serial}",
                first17 + id_check_digit(first17),
                f"139{serial % 10**8:08d}",
                township,
                village,
                "低保户",
                serial % 6 + 1,
                "",
            ]
        )
    workbook.save(path)


class Command(BaseCommand):
    help = "Benchmark a department list import against django-import-export and COPY (PostgreSQL only)."

    def add_arguments(self, parser):
        parser.add_argument("--households", type=int, default=100_000)
        parser.add_argument("--rows", type=int, default=100_000)
        parser.add_argument("--memory", default="20000,200000", help="row counts for the peak-memory runs")
        parser.add_argument("--skip-import-export", action="store_true")
        parser.add_argument("--only-ours", type=str, default="", help=argparse.SUPPRESS)  # internal: a child process

    def handle(self, *args, households, rows, memory, skip_import_export, only_ours, **options):
        if connection.vendor != "postgresql":
            raise CommandError("The import benchmark needs PostgreSQL: set DATABASE_URL=postgres://...")
        if only_ours:  # a child process measuring peak memory
            self.stdout.write(json.dumps(self._ours(Path(only_ours), rollback=True)))
            return
        from households.models import Household

        have = Household.objects.count()
        if have < households:
            call_command("generate_synthetic", households=households - have, seed=7, stdout=io.StringIO())
        villages = self._villages()
        folder = Path(tempfile.mkdtemp(prefix="bench-import-"))
        try:
            self._measure(folder, rows, villages, memory=memory, skip_import_export=skip_import_export)
        finally:
            shutil.rmtree(folder, ignore_errors=True)  # the generated lists (synthetic, but 10 MB each)

    def _measure(self, folder: Path, rows: int, villages: list, *, memory: str, skip_import_export: bool) -> None:
        path = folder / f"list-{rows}.xlsx"
        started = time.perf_counter()
        write_list(path, rows, first_serial=10_000_000, villages=villages)
        self._emit("file", rows=rows, seconds=round(time.perf_counter() - started, 1), bytes=path.stat().st_size)

        self._emit("reader", rows=rows, seconds=self._reader(path))
        clean = self._clean_rows(path)
        copy = self._copy(clean)  # unrounded: a small list's COPY can take under 5 ms, and the ratio divides by it
        self._emit("copy", rows=len(clean), seconds=round(copy, 2))
        if not skip_import_export:
            baseline = self._import_export(clean)
            self._emit("django_import_export_default", rows=len(clean), seconds=baseline)
        try:  # ours, then the same file again (nothing to change); all rolled back so the benchmark can rerun
            with transaction.atomic():
                ours = self._ours(path, rollback=False)
                self._emit("ours", **ours)
                again = self._ours(path, rollback=False)
                self._emit("ours_reimport_same_file", **again)
                # The generated households themselves, as the department lists them (other names and phones): most
                # are registered elsewhere, so confirming sends their differences to the townships as proposals.
                known = folder / f"list-known-{rows}.xlsx"
                write_list(known, min(rows, have_synthetic()), first_serial=first_synthetic_serial(), villages=villages)
                self._emit("ours_known_households", **self._ours(known, rollback=False))
                raise Rollback
        except Rollback:
            pass
        result = {
            "ours_seconds": ours["seconds"],
            "copy_seconds": round(copy, 2),
            "ratio_vs_copy": round(ours["seconds"] / copy, 2),
        }
        if not skip_import_export:
            result["import_export_seconds"] = baseline
            result["speedup_vs_import_export"] = round(baseline / ours["seconds"], 1)
        self._emit("ratios", **result)
        peaks = {}
        for count in [int(n) for n in memory.split(",") if n]:
            small = folder / f"list-{count}.xlsx"
            write_list(small, count, first_serial=20_000_000, villages=villages)
            child = subprocess.run(
                [sys.executable, "manage.py", "bench_import", "--only-ours", str(small)],
                capture_output=True,
                text=True,
                check=True,
            )
            measured = json.loads(child.stdout.strip().splitlines()[-1])
            peaks[count] = measured["peak_rss_mb"]
            self._emit("memory", rows=count, peak_rss_mb=measured["peak_rss_mb"], seconds=measured["seconds"])
        if len(peaks) >= 2:
            low, high = min(peaks), max(peaks)
            self._emit("memory_ratio", rows=f"{high} vs {low}", ratio=round(peaks[high] / peaks[low], 2))

    def _emit(self, metric: str, **figures) -> None:
        self.stdout.write(json.dumps({"metric": metric, **figures}, ensure_ascii=False))

    def _villages(self) -> list[tuple[str, str]]:
        from households.models import Village

        return list(Village.objects.filter(name__startswith="合成").values_list("township__name", "name"))

    def _reader(self, path: Path) -> float:
        """Our reader alone (households.sheets), every row of the file, nothing done with them."""
        from households.sheets import read_rows

        started = time.perf_counter()
        with path.open("rb") as handle:
            for _row in read_rows(handle, path.name):
                pass
        return round(time.perf_counter() - started, 2)

    def _clean_rows(self, path: Path) -> list[tuple]:
        """The list's rows as our household columns (read with our reader, not timed)."""
        from households.department_lists import Villages
        from households.sheets import read_rows

        villages = Villages()
        rows = []
        with path.open("rb") as handle:
            for number, cells in read_rows(handle, path.name):
                if number <= 3:
                    continue
                rows.append((cells[1], cells[2], cells[3], villages.find(cells[4], cells[5]), cells[7]))
        return rows

    def _copy(self, clean: list[tuple]) -> float:
        """COPY of the clean rows into households_household, rolled back. The list gives five columns; every other
        one gets the model's default (housing_safety.bulk), as our INSERT gives it."""
        import csv

        from django.utils import timezone

        from households.models import Household
        from housing_safety.bulk import copy_csv

        given = ["head_name", "id_number", "phone", "village_id", "members_count"]
        columns, defaults = copy_csv(Household, given, now=timezone.now())
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in clean:
            writer.writerow([*row, *defaults])
        try:
            with transaction.atomic():
                started = time.perf_counter()
                with connection.cursor() as cursor:
                    buffer.seek(0)
                    cursor.copy_expert(
                        f"COPY households_household ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer
                    )
                seconds = time.perf_counter() - started
                raise Rollback
        except Rollback:
            pass
        return seconds

    def _import_export(self, clean: list[tuple]) -> float:
        """A plain ModelResource with default settings, importing the same rows (rolled back)."""
        import tablib
        from import_export import resources

        from households.models import Household

        class PlainHouseholdResource(resources.ModelResource):
            class Meta:
                model = Household
                import_id_fields = ("id_number",)
                fields = ("head_name", "id_number", "phone", "village", "members_count")

        dataset = tablib.Dataset(headers=["head_name", "id_number", "phone", "village", "members_count"])
        for row in clean:
            dataset.append(row)
        try:
            with transaction.atomic():
                started = time.perf_counter()
                result = PlainHouseholdResource().import_data(dataset, dry_run=False, raise_errors=True)
                seconds = time.perf_counter() - started
                assert not result.has_errors()
                raise Rollback
        except Rollback:
            pass
        return round(seconds, 1)

    def _ours(self, path: Path, rollback: bool) -> dict:
        from django.contrib.auth import get_user_model
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.utils import timezone

        from households import department_lists
        from households.department_lists import services as list_services
        from households.models import Unit

        actor = get_user_model().objects.filter(is_superuser=True).first() or get_user_model().objects.create_superuser(
            "bench", password=None
        )
        unit = Unit.objects.get(name="漳平市民政局")
        upload = SimpleUploadedFile(path.name, path.read_bytes())
        figures = {}
        steps: dict[str, float] = {}
        try:
            with transaction.atomic(), timed(list_services, ("_apply", "_write_history", "_propose"), steps):
                started = time.perf_counter()
                listed = department_lists.preview_list(
                    actor=actor, unit=unit, listed_on=timezone.localdate(), uploaded_file=upload
                )
                previewed = time.perf_counter()
                applied = department_lists.confirm_list(actor=actor, department_list=listed)
                done = time.perf_counter()
                outcomes = ("rows", "new", "changed", "unchanged", "registered", "suggested", "invalid")
                counts = {key: listed.counts[key] for key in outcomes}
                figures = {
                    "rows": counts["rows"],
                    "seconds": round(done - started, 2),
                    "preview_seconds": round(previewed - started, 2),
                    "confirm_seconds": round(done - previewed, 2),
                    "confirm_steps": {name.lstrip("_"): round(seconds, 2) for name, seconds in steps.items()},
                    "counts": counts,
                    "applied": applied,
                    "peak_rss_mb": peak_rss_mb(),
                }
                listed.file.delete(save=False)  # the stored upload: its rows are rolled back
                if rollback:
                    raise Rollback
        except Rollback:
            pass
        return figures


def have_synthetic() -> int:
    from households.models import Household

    return Household.objects.filter(head_name__startswith="合成户").count()


def first_synthetic_serial() -> int:
    """generate_synthetic's first serial here (its households are named 合成户<serial>, ID numbers from it)."""
    from households.models import Household

    names = Household.objects.filter(head_name__startswith="合成户").values_list("head_name", flat=True)
    return min(int(name.removeprefix("合成户")) for name in names)


@contextmanager
def timed(module, names: tuple[str, ...], into: dict[str, float]):
    """Time each call of these functions of the module (summed per name) while the block runs."""

    def wrap(name, function):
        def measured(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                into[name] = into.get(name, 0.0) + time.perf_counter() - started

        return measured

    saved = {name: getattr(module, name) for name in names}
    for name, function in saved.items():
        setattr(module, name, wrap(name, function))
    try:
        yield into
    finally:
        for name, function in saved.items():
            setattr(module, name, function)


def peak_rss_mb() -> int:
    """This process's peak resident memory. Linux's getrusage() max RSS carries the parent's peak over fork and
    exec, so a child started from a big benchmark process would report the parent's; VmHWM starts afresh at exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
