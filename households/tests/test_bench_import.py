"""The import benchmark (`make bench-import`) runs end to end on a small PostgreSQL database: ours, django-import-
export and the COPY baseline, and the peak-memory child's path, so the benchmark cannot rot unseen. Timings are
not asserted; the counts are, and that every run is rolled back."""

from __future__ import annotations

import io
import json
import tempfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from households.management.commands.bench_import import write_list
from households.models import DepartmentList, Household, Village
from housing_safety.tests.kit import service_missing

pytestmark = pytest.mark.django_db
ROWS = 300


def test_the_import_benchmark_refuses_anything_but_postgresql(monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("bench_import", households=10, rows=5, memory="", stdout=io.StringIO())


def test_the_import_benchmark_runs_end_to_end_and_rolls_back(tmp_path, monkeypatch, settings):
    if connection.vendor != "postgresql":
        service_missing("the import benchmark needs PostgreSQL (set DATABASE_URL)")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    output = io.StringIO()
    call_command("bench_import", households=400, rows=ROWS, memory="", stdout=output, stderr=io.StringIO())
    rows = {row["metric"]: row for row in map(json.loads, output.getvalue().splitlines())}

    assert set(rows) == {
        "file",
        "reader",
        "copy",
        "django_import_export_default",
        "ours",
        "ours_reimport_same_file",
        "ours_known_households",
        "ratios",
    }
    assert rows["copy"]["rows"] == rows["django_import_export_default"]["rows"] == ROWS
    assert rows["ours"]["counts"] == {
        "rows": ROWS,
        "new": ROWS,
        "changed": 0,
        "unchanged": 0,
        "registered": 0,
        "suggested": 0,
        "invalid": 0,
    }
    assert set(rows["ours"]["confirm_steps"]) == {"apply", "write_history", "propose"}
    assert rows["ours"]["applied"]["created"] == ROWS
    again = rows["ours_reimport_same_file"]
    assert again["counts"]["unchanged"] == ROWS and again["applied"]["created"] == again["applied"]["updated"] == 0
    # The generated households as a department lists them: those of other sources get change proposals.
    known = rows["ours_known_households"]
    assert known["rows"] == ROWS and known["counts"]["registered"] > 0 and known["counts"]["new"] == 0
    assert known["applied"]["proposals"] >= known["counts"]["registered"] and known["applied"]["created"] == 0
    assert rows["ratios"]["ratio_vs_copy"] > 0 and rows["ratios"]["speedup_vs_import_export"] > 0
    assert Household.objects.count() == 400 and not DepartmentList.objects.exists()  # all rolled back
    assert not list(tmp_path.glob("bench-import-*"))  # nor are the generated lists left behind
    assert not list(settings.MEDIA_ROOT.glob("**/*.xlsx"))  # nor the uploads of them

    # The peak-memory run is a child process on the same database: its path, in this process.
    villages = list(Village.objects.filter(name__startswith="合成").values_list("township__name", "name"))
    small = tmp_path / "list-50.xlsx"
    write_list(small, 50, first_serial=20_000_000, villages=villages)
    child = io.StringIO()
    call_command("bench_import", only_ours=str(small), stdout=child)
    measured = json.loads(child.getvalue().splitlines()[-1])
    assert measured["rows"] == 50 and measured["applied"]["created"] == 50 and measured["peak_rss_mb"] > 0
    assert Household.objects.count() == 400
    assert not list(settings.MEDIA_ROOT.glob("**/*.xlsx"))
