"""The benchmark command runs end to end on a small PostgreSQL database, and its hand-written baselines yield the
same figures as the selectors (the command refuses to report a ratio otherwise). Timings are not asserted."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from households.models import Village
from housing_safety.tests.kit import service_missing
from reporting.bench import read_wrk

WRK_OUTPUT = """Running 30s test @ http://127.0.0.1:8765/field/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    95.21ms   30.11ms 412.50ms   71.02%
    Req/Sec    84.12     20.33   150.00     68.00%
  Latency Distribution
     50%   90.12ms
     75%  110.40ms
     90%  135.77ms
     99%    1.21s
  5030 requests in 30.03s, 88.12MB read
  Non-2xx or 3xx responses: 3
Requests/sec:    167.50
Transfer/sec:      2.93MB
"""


def test_wrk_output_is_read_with_its_units():
    assert read_wrk(WRK_OUTPUT) == {"rps": 167.5, "p50_ms": 90.12, "p90_ms": 135.77, "p99_ms": 1210.0, "non_2xx": 3}


@pytest.mark.django_db
def test_the_benchmark_refuses_anything_but_postgresql(monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("bench", households=10, small=5, skip_http=True, stdout=io.StringIO())


@pytest.mark.django_db
def test_the_benchmark_runs_end_to_end_and_its_baselines_agree():
    if connection.vendor != "postgresql":
        service_missing("the benchmark needs PostgreSQL (set DATABASE_URL)")
    call_command("seed_demo", stdout=io.StringIO())
    output = io.StringIO()
    call_command(
        "bench", households=400, small=200, repeat=1, skip_http=True, paper_forms=3, stdout=output,
        stderr=io.StringIO(),
    )  # fmt: skip
    rows = {row["metric"]: row for row in map(json.loads, output.getvalue().splitlines())}

    assert set(rows) == {
        "lists",
        "dashboard",
        "status",
        "campaign",
        "report",
        "appraisal_forms",
        "api",
        "field_package",
        "revisits",
        "homes",
    }
    paper = rows.pop("appraisal_forms")  # a line of its own: time and memory, no baseline
    # The field app's package of a village (reporting/bench/field.py): a line of its own, its size, time and queries
    # (the village takes what the township has, here fewer than 300); the database is left as it was.
    field = rows.pop("field_package")
    assert 0 < field["village_households"] <= 300 and field["kb"] > 0 and field["build_ms"] > 0 and field["api_ms"] > 0
    assert field["bytes_per_item"] > 0 and field["queries"] == 10 and field["households"] >= 400
    assert not Village.objects.filter(name="外业测速村").exists()
    assert paper["forms"] == 3 and paper["seconds"] > 0 and paper["pdf_kb"] > 0 and paper["max_rss_mb"] > 0
    for row in rows.values():
        assert row["ours"] > 0 and row["baseline"] > 0 and row["ratio"] > 0
        assert row["households"] >= 400
    assert rows["lists"]["small_households"] >= 200 and len(rows["lists"]["pages"]) >= 20
    # At this size a few lists (problems, revisits) can still be empty in the small run, which renders fewer
    # queries; the household lists never are. Every page's constancy is pinned in the */test_query_counts.py files.
    pages = rows["lists"]["pages"]
    household_pages = [p for p in pages if p["page"].endswith("/field/") or "/admin/households/household/" in p["page"]]
    assert len(household_pages) >= 4
    assert all(page["queries"][0] == page["queries"][1] for page in household_pages)
    small, large = rows["dashboard"]["queries"]
    assert small == large > rows["dashboard"]["rollup_queries"] > 0  # read live at both sizes, then from the rollup
    assert rows["dashboard"]["target"] == "<= 0.1" and rows["dashboard"]["live_s"] > 0
    assert rows["dashboard"]["full_refresh_s"] > 0 and rows["dashboard"]["incremental_townships"] == 1
    assert rows["campaign"]["revisits_created"] > 0 and rows["campaign"]["second_run_created"] == 0
    assert rows["report"]["late_items"] > 0 and rows["report"]["peak_python_memory_mb"] > 0
    # The API's line: both keys, first and deep page at both sizes, the deep page 95% into each key's list.
    api = rows["api"]
    assert api["endpoint"] == "/api/v1/households/" and api["target"] == "<= 1.2" and api["http"] == "skipped"
    assert api["small_households"] >= 200 and api["worst_key"] in {"official", "township"}
    pages = {page["key"]: page for page in api["pages"]}
    assert set(pages) == {"official", "township"}
    official, township = pages["official"], pages["township"]
    assert official["households_in_scope"][1] >= 400 > township["households_in_scope"][1] > 0
    for page in pages.values():
        assert all(ms > 0 for ms in page["first_ms"] + page["deep_ms"])
        for before, total in zip(page["deep_after"], page["households_in_scope"], strict=True):
            assert before == int(total * 0.95) > 0
        assert len(set(page["queries"])) == 1  # a deep page costs the queries a first page costs
    assert api["query_counts_constant"] is True
    # The township's revisit list (issue 21): the lists' own measurement of its page, as a line of its own.
    revisits = rows["revisits"]
    listed = {page["page"]: page for page in rows["lists"]["pages"]}["township /field/revisits/"]
    assert revisits["page"] == "township /field/revisits/" and revisits["target"] == "<= 1.2"
    assert revisits["queries"] == listed["queries"] and revisits["ratio"] == listed["ratio"]
    # Every role's home in database time (issue 21: ≤ 50 ms), at both sizes; the worst role is the line's figure.
    homes = rows["homes"]
    assert set(homes["roles"]) == {"admin", "official", "clerk", "xinqiao", "liaison", "helper"}
    assert homes["target"] == "<= 1.0" and homes["baseline"] == 0.05
    assert homes["ours"] * 1000 == pytest.approx(max(role["db_ms"] for role in homes["roles"].values()), abs=0.1)
    for role in homes["roles"].values():
        assert role["db_ms"] > 0 and role["small_db_ms"] > 0 and role["queries"] > 0 and role["slowest"]


@pytest.mark.django_db
def test_the_revisit_list_line_alone_grows_the_data_and_says_whether_it_met_its_target():
    if connection.vendor != "postgresql":
        service_missing("the benchmark needs PostgreSQL (set DATABASE_URL)")
    call_command("seed_demo", stdout=io.StringIO())
    output, said = io.StringIO(), io.StringIO()
    call_command("bench", only_revisits=True, households=1000, small=500, repeat=1, stdout=output, stderr=said)

    [row] = map(json.loads, output.getvalue().splitlines())
    assert row["metric"] == "revisits" and row["target"] == "<= 1.2" and row["ours"] > 0 and row["baseline"] > 0
    assert (row["small_households"], row["households"]) == (500, 1000)
    assert row["queries"][0] == row["queries"][1] > 0  # the page's queries do not grow with the data
    verdict = "met" if row["met"] else "not met"
    assert said.getvalue().splitlines()[-1] == f"revisit list 1k/500: {row['ratio']}× (target ≤ 1.2×) {verdict}"


@pytest.mark.django_db
def test_the_report_line_alone_on_the_data_at_hand_says_whether_it_met_its_target():
    if connection.vendor != "postgresql":
        service_missing("the benchmark needs PostgreSQL (set DATABASE_URL)")
    call_command("seed_demo", stdout=io.StringIO())
    call_command("generate_synthetic", households=300, stdout=io.StringIO(), stderr=io.StringIO())
    output, said = io.StringIO(), io.StringIO()
    call_command("bench", only_report=True, repeat=1, stdout=output, stderr=said)

    [row] = map(json.loads, output.getvalue().splitlines())  # stdout: one JSON line per metric, as always
    assert row["metric"] == "report" and row["target"] == "<= 2.0" and row["ours"] > 0 and row["baseline"] > 0
    assert 0 < row["late_items_hand_written"] <= row["late_items"] and row["ratio_six_kinds"] > 0
    verdict = "met" if row["met"] else "not met"
    assert said.getvalue().splitlines()[0] == (
        f"consolidated report vs its raw extract: {row['ratio']}× (target ≤ 2×) {verdict}"
    )
