"""The API's line of the benchmark (issue 19): the household list endpoint (/api/v1/households/, cursor-paginated by
pk) called with a key, at the small and the large size, on its first page and on a deep page 95% into the caller's
list, as the bureau official's key (the whole city) and as a township staff's key (one township).

The deep page's cursor is the one the API itself hands out: the list is walked from the start through its `next`
links with large pages (up to API_MAX_PAGE_SIZE, the last one cut to land exactly 95% in), and that cursor is then
timed with the default page size, as a system syncing the registry would ask for it. The line's ratio is the deep
page's at the large size over the small size (the worse of the two keys), target <= 1.2: page 1,000 costs what
page 1 costs. The line is printed after the HTTP phase, which adds the first page's requests per second next to
/healthz in the same server (`http_figures`); with --skip-http it says so.

Each key is issued through housing_safety.api.keys to the demo account itself (read:households only). The rate
limit is lifted while measuring (the throttle still reads and writes the cache on every call): it limits callers,
and is not what is measured. The per-call log line is still written, to /dev/null in this process."""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import statistics
import time
import urllib.parse
from collections.abc import Iterator

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from households.selectors import households_for_user
from housing_safety.api import keys
from housing_safety.api.pagination import ApiCursorPagination

KEYS = ("official", "township")  # the bureau (every household of the city) and a township's staff (its own)
HTTP_KEY = "official"  # whose key the HTTP phase loads the first page with
DEEP = 0.95  # how far into the caller's list the deep page starts
# A call takes 15-40 ms, of which the query about 0.3 ms at any size: the median of --repeat (5) such calls on a
# shared machine moved by a factor of two between runs, so each page is timed at least this often (about 1 s).
MIN_RUNS = 31
UNTHROTTLED = "1000000000/min"  # the limit while measuring: lifted, not removed (the throttle still counts)


def endpoint() -> str:
    return reverse("api:households-list")


def key_for(bench, who: str) -> str:
    """The plain key of `who`'s account, issued once per benchmark run."""
    issued = bench.__dict__.setdefault("_api_keys", {})
    if who not in issued:
        _key, issued[who] = keys.issue_key(
            user=bench.users[who],
            name=f"bench {who}",
            scopes=["read:households"],
            expires_at=timezone.now() + datetime.timedelta(days=1),
        )
    return issued[who]


@contextlib.contextmanager
def quiet_api_log() -> Iterator[None]:
    """The API's call log, formatted as usual but written to /dev/null (thousands of calls are made here)."""
    logger = logging.getLogger("housing_safety.api")
    console = next(iter(logging.getLogger().handlers), None)
    with open(os.devnull, "w") as sink:
        handler = logging.StreamHandler(sink)
        if console is not None:
            handler.setFormatter(console.formatter)
            for log_filter in console.filters:
                handler.addFilter(log_filter)
        logger.addHandler(handler)
        propagate, logger.propagate = logger.propagate, False
        try:
            yield
        finally:
            logger.propagate = propagate
            logger.removeHandler(handler)


def _get(client: Client, url: str) -> dict:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}: {response.content[:300]!r}")
    return response.json()


def _with(url: str, **params) -> str:
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    query.update({name: str(value) for name, value in params.items()})
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def deep_cursor(client: Client, url: str, total: int) -> tuple[str, int]:
    """(the URL of the page starting DEEP into the list, with the default page size; how many records precede it),
    by walking the list through its own `next` links."""
    target = int(total * DEEP)
    seen, link = 0, url
    while seen < target:
        page = _get(client, _with(link, page_size=min(settings.API_MAX_PAGE_SIZE, target - seen)))
        seen += len(page["results"])
        link = page["next"]
        if not page["results"] or link is None:
            raise RuntimeError(f"{url} ended after {seen} of {total} records")
    cursor = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(link).query))["cursor"]
    return _with(url, cursor=cursor), seen


def timed(bench, client: Client, url: str) -> tuple[float, int]:
    """(median seconds of at least MIN_RUNS calls, queries) of one call, checked to answer 200 with a full or final
    page. Queries are counted on a second call: the first one of a minute also records the key's last use
    (keys.touch)."""
    _get(client, url)
    queries: list[str] = []
    with connection.execute_wrapper(lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)):
        page = _get(client, url)
    if not page["results"]:
        raise RuntimeError(f"{url} answered an empty page")
    runs = []
    for _ in range(max(bench.repeat, MIN_RUNS)):
        started = time.perf_counter()
        _get(client, url)
        runs.append(time.perf_counter() - started)
    return statistics.median(runs), len(queries)


def pages(bench) -> dict[str, dict]:
    """Each key's first and deep page at the database's present size."""
    measured = {}
    with quiet_api_log(), override_settings(API_KEY_RATE=UNTHROTTLED):
        for who in KEYS:
            client = Client(HTTP_AUTHORIZATION=f"Api-Key {key_for(bench, who)}")
            total = households_for_user(bench.users[who]).count()
            first = timed(bench, client, endpoint())
            deep_url, before = deep_cursor(client, endpoint(), total)
            deep = timed(bench, client, deep_url)
            measured[who] = {"total": total, "deep_after": before, "first": first, "deep": deep}
    return measured


def line(bench, small: dict, large: dict, small_households: int) -> dict:
    """The API's row (not yet printed: the HTTP phase adds its figures)."""
    rows = []
    for who, figures in large.items():
        before = small[who]
        rows.append(
            {
                "key": who,
                "households_in_scope": [before["total"], figures["total"]],
                "deep_after": [before["deep_after"], figures["deep_after"]],
                "first_ms": [round(before["first"][0] * 1000, 1), round(figures["first"][0] * 1000, 1)],
                "deep_ms": [round(before["deep"][0] * 1000, 1), round(figures["deep"][0] * 1000, 1)],
                "first_ratio": round(figures["first"][0] / before["first"][0], 2),
                "deep_ratio": round(figures["deep"][0] / before["deep"][0], 2),
                "queries": [before["first"][1], figures["first"][1], before["deep"][1], figures["deep"][1]],
            }
        )
    worst = max(rows, key=lambda row: row["deep_ratio"])
    return bench.result(
        "api",
        large[worst["key"]]["deep"][0],
        small[worst["key"]]["deep"][0],
        emit=False,
        endpoint=endpoint(),
        page_size=ApiCursorPagination.page_size,
        deep_at=f"{DEEP:.0%}",
        runs=max(bench.repeat, MIN_RUNS),
        worst_key=worst["key"],
        small_households=small_households,
        query_counts_constant=all(len(set(row["queries"])) == 1 for row in rows),
        pages=rows,
        http="skipped",
    )


def http_target(bench) -> tuple[str, dict[str, str]]:
    """The path and headers the HTTP phase loads: the first page with the official's key."""
    return endpoint(), {"Authorization": f"Api-Key {key_for(bench, HTTP_KEY)}", "X-Forwarded-Proto": "https"}


def http_figures(row: dict, page: dict, trivial: dict, **extra) -> None:
    """Put the HTTP phase's figures for the first page on the API's row, next to /healthz in the same run."""
    row["http"] = {
        "key": HTTP_KEY,
        "rps": page["rps"],
        "healthz_rps": trivial["rps"],
        "ratio": round(page["rps"] / trivial["rps"], 2) if trivial.get("rps") else None,
        "page": page,
        **extra,
    }
