"""No input gives a 500 (issue 23): every form of the project, field by field, with hostile values; every GET page
with hostile query parameters.

The pages are the IDOR sweep's (test_idor.py: every URL of the root URLconf and every admin page, against its world
of records). Each page is opened as a role that may use it; every POST form on it is read from the HTML as a browser
would submit it (the admin's inlines and their management forms included; the sweep's known-valid bodies fill in
what an empty add form lacks), and then each field, one at a time, gets each hostile value of its kind
(fuzzing.VALUES_BY_KIND, fuzzing.HOSTILE_FILES). Once per form the valid body is also posted by a role that may not
use the form. For every submission:
- no server error: the test client re-raises the view's exception, so the traceback is in the report;
- a refused submission (4xx, a form with errors, an error message) wrote nothing: the tables its SQL wrote to are
  compared with the world's rows (each case runs in a savepoint that is rolled back, so cases do not mix).

Every GET page is also opened with query parameters (its own filters' and links', and page, year, township, …) set
to 25-digit numbers, negatives, text and NUL. Integers in URL paths are test_out_of_range.py's (not here).

There are too many cases to run all of them on every CI run: a sample is drawn with a seed that is printed and
differs each run. FUZZ_SEED=<seed> reproduces a run; FUZZ_ALL=1 runs every case; FUZZ_FORM_CASES and
FUZZ_QUERY_CASES set the sample sizes; FUZZ_ONLY=<regex> keeps the forms and pages whose URL it matches;
FUZZ_REPORT=<file> appends the report to a file; FUZZ_DEBUG=1 lists each form's fields.
"""

from __future__ import annotations

import os
import random
import re
import time
import traceback
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from html import unescape
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve

from . import fuzzing
from .fuzzing import Form, forms_of, hostile_values, refusal
from .idor_world import changed_tables, table_rows, written_tables
from .test_idor import (  # noqa: F401  (world and _world_media are fixtures)
    ROUTES,
    Entry,
    Scraped,
    _world_media,
    entry_for,
    may_write,
    reaches,
    urls_for,
    world,
)

# One worker of the parallel suite runs the module: its tests share the world and the crawl (about 30 s to make).
pytestmark = pytest.mark.xdist_group("fuzz")

SEED = int(os.environ.get("FUZZ_SEED") or random.SystemRandom().randrange(1_000_000_000))
FULL = os.environ.get("FUZZ_ALL") == "1"
FORM_CASES = int(os.environ.get("FUZZ_FORM_CASES", "1200"))
QUERY_CASES = int(os.environ.get("FUZZ_QUERY_CASES", "500"))
ONLY = re.compile(os.environ.get("FUZZ_ONLY", ""))  # only the forms and pages whose URL this matches

# Who opens a page and posts its forms: the first of these the rules let in (a superuser only for the admin pages of
# no role, django-celery-beat's and django-axes'); who posts once as a role that may not.
POSTERS = ("admin", "official", "staff", "clerk", "liaison", "helper", "superuser")
OUTSIDERS = ("helper", "liaison", "staff", "clerk", "official", "no_role", "anonymous")
# Never posted: it ends the persona's session (shared by every case).
NEVER_POSTED = ("/admin/logout/",)
# Written by requests that are refused, by design: sessions, and the login attempts django-axes counts.
BOOKKEEPING = {"django_session", "axes_accessattempt", "axes_accessfailurelog", "axes_accesslog"}

QUERY_PARAMETERS = (
    "page", "p", "year", "month", "quarter", "township", "village", "unit", "household", "dwelling", "status",
    "kind", "q", "o", "e", "on", "date", "tab", "dataset", "period",
)  # fmt: skip
QUERY_VALUES = {
    "25 digits": fuzzing.DIGITS_25,
    "-25 digits": "-" + fuzzing.DIGITS_25,
    "negative": "-1",
    "text": "一二三",
    "NUL": "a\x00b",
    "empty": "",
}


# What the crawl finds --------------------------------------------------------------------------------------------


@dataclass
class Target:
    """One form to fuzz: where it is, where it posts, who posts it, and its valid body."""

    key: str  # the route it posts to, for the report
    page: str  # the URL of the page it is on
    url: str  # where it posts
    persona: str
    form: Form
    body: dict[str, list]  # the valid submission: the page's values with the sweep's known-valid ones over them
    entry: Entry | None  # the sweep's entry of the URL posted to
    from_sweep: set[str] = field(default_factory=set)  # the fields whose value is the sweep's

    def fields(self) -> dict[str, str]:
        """{name: kind} of everything the body or the form holds, but the CSRF token."""
        kinds = {name: f.kind for name, f in self.form.fields.items()}
        for name, values in self.body.items():
            kinds.setdefault(name, _guess_kind(values))
        kinds.pop("csrfmiddlewaretoken", None)
        return kinds


@dataclass
class Page:
    key: str
    url: str
    persona: str
    parameters: set[str] = field(default_factory=set)


def _guess_kind(values: list) -> str:
    value = values[0] if values else ""
    if callable(value):
        return "file"
    if re.fullmatch(r"\d{4}-\d\d-\d\d", str(value)):
        return "date"
    return "number" if re.fullmatch(r"-?\d+(\.\d+)?", str(value)) else "text"


def _as_lists(body: dict) -> dict[str, list]:
    """A body as name -> [values], files as makers of fresh uploads (an upload is read once)."""
    result = {}
    for name, value in body.items():
        values = value if isinstance(value, list | tuple) else [value]
        result[name] = [_file_maker(v) if isinstance(v, UploadedFile) else str(v) for v in values]
    return result


def _file_maker(upload: UploadedFile) -> Callable:
    upload.seek(0)
    content, name = upload.read(), upload.name
    return lambda: SimpleUploadedFile(name, content)


def _route_key(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name if match.view_name in ROUTES else match.route


def persona_for(sweep, entry: Entry) -> str | None:
    """The first persona the sweep's rules let use the page (write to it, if it takes a write)."""
    if entry.public:
        return "anonymous"
    writes = entry.post is not None and not entry.reads_only
    for persona in POSTERS:
        user = sweep.users[persona]
        if user is not None and (may_write(user, entry) if writes else reaches(user, entry)):
            return persona
    return None


def outsider_for(sweep, entry: Entry | None, poster: str) -> str | None:
    if entry is None or entry.public:
        return None
    return next(
        (p for p in OUTSIDERS if p != poster and not may_write(sweep.users[p], entry)),
        None,
    )


def client_as(sweep, persona: str) -> Client:
    client = Client()  # raise_request_exception: a view's exception reaches the test with its traceback
    if persona != "anonymous":
        client.cookies[settings.SESSION_COOKIE_NAME] = sweep.values["sessions"][persona]
    return client


def _query_names(html: str, path: str) -> set[str]:
    """The query parameters the page's own links and GET forms use (filters, pages, sorting)."""
    names = set()
    for href in re.findall(r'href="([^"]*\?[^"]*)"', html):
        parts = urlsplit(unescape(href))
        if parts.path in ("", path):
            names |= {name for name, _value in parse_qsl(parts.query, keep_blank_values=True)}
    for form in forms_of(html):
        if form.method == "get":
            names |= set(form.fields)
    return {name for name in names if len(name) < 60}


def crawl(sweep) -> tuple[list[Target], list[Page], list[str]]:
    """Every page the sweep knows, opened as a persona that may use it: the POST forms on them (one per URL they
    post to, the one with the most fields) and the GET pages that answered. Also what could not be opened."""
    targets: dict[str, Target] = {}
    pages, unopened = [], []
    for key in sorted(ROUTES):
        route, entry = ROUTES[key], entry_for(ROUTES[key])
        if entry is None:
            continue
        persona = persona_for(sweep, entry)
        if persona is None:
            unopened.append(f"{key}: no persona may use it")
            continue
        for url in urls_for(sweep, route, entry):
            response = client_as(sweep, persona).get(url)
            if response.status_code != 200:
                if response.status_code != 405:  # POST-only URLs: their forms are on other pages
                    unopened.append(f"{key}: GET {url} as {persona} answered {response.status_code}")
                continue
            html = "" if response.streaming else response.content.decode("utf-8", errors="replace")
            if "html" not in response.get("Content-Type", ""):
                html = ""
            pages.append(Page(key, url, persona, _query_names(html, urlsplit(url).path) if html else set()))
            for form in forms_of(html):
                if form.method != "post":
                    continue
                action = urljoin(url, form.action) if form.action else url
                path = urlsplit(action).path
                if path.startswith(NEVER_POSTED):
                    continue
                known = targets.get(path)
                if known is None or len(form.fields) > len(known.form.fields):
                    targets[path] = _target(sweep, url, action, persona, form)
    _fill_admin_add_forms(targets)
    _add_unshown_forms(sweep, targets)
    return list(targets.values()), pages, unopened


def _add_unshown_forms(sweep, targets: dict[str, Target]) -> None:
    """A write the server takes although no page showed its form to the persona (a step of a case in another
    state, a form for the record's handler only): the sweep's body, posted to its URL by a persona who may write."""
    for key in sorted(ROUTES):
        route, entry = ROUTES[key], entry_for(ROUTES[key])
        if entry is None or not callable(entry.post) or isinstance(entry.post, Scraped) or entry.reads_only:
            continue
        url = urls_for(sweep, route, entry)[0]
        persona = persona_for(sweep, entry)
        if persona is None or urlsplit(url).path in targets or urlsplit(url).path.startswith(NEVER_POSTED):
            continue
        targets[urlsplit(url).path] = _target(sweep, url, url, persona, Form(method="post", action=url))


def _target(sweep, page: str, action: str, persona: str, form: Form) -> Target:
    body: dict[str, list] = defaultdict(list)
    for name, value in form.data:
        body[name].append(value)
    for name, value in form.submits[:1]:
        body.setdefault(name, [value])
    action_key = _route_key(urlsplit(action).path)
    entry = entry_for(ROUTES[action_key]) if action_key in ROUTES else None
    # The sweep's body for this URL: valid values an empty form lacks (an add form's required fields).
    known_valid = {}
    if entry is not None and callable(entry.post) and not isinstance(entry.post, Scraped):
        known_valid = _as_lists(entry.post(sweep))
    body.update(known_valid)
    body.pop("csrfmiddlewaretoken", None)
    return Target(action_key or action, page, action, persona, form, dict(body), entry, set(known_valid))


def _fill_admin_add_forms(targets: dict[str, Target]) -> None:
    """An admin add form without a body of the sweep takes its record's values from the change form of the same
    model (a valid record's values; unique ones may still clash)."""
    for path, target in targets.items():
        if not (path.startswith("/admin/") and path.endswith("/add/")):
            continue
        prefix = path.removesuffix("add/")
        change = next((t for p, t in targets.items() if p.startswith(prefix) and p.endswith("/change/")), None)
        if change is None:
            continue
        for name, values in change.body.items():
            top_level = "-" not in name and not name.startswith("_")
            if top_level and name in target.form.fields and name not in target.from_sweep:
                target.body[name] = list(values)


# Posting -----------------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    status: int | None = None
    refused: str | None = None  # how the page refused it
    written: dict = field(default_factory=dict)
    error: str | None = None  # the traceback of a server error


def _payload(body: dict[str, list]) -> dict[str, list]:
    return {name: [v() if callable(v) else v for v in values] for name, values in body.items()}


def submit(
    sweep, persona: str, url: str, body: dict[str, list], baseline, method: str = "post", always: bool = False
) -> Outcome:
    """One request, in a savepoint that is rolled back; for a refused one (or `always`), which tables it changed."""
    client = client_as(sweep, persona)
    cache.clear()  # rate limits would answer every later case with a 429
    outcome = Outcome()
    try:
        with CaptureQueriesContext(connection) as queries, transaction.atomic():
            response = client.post(url, _payload(body)) if method == "post" else client.get(url)
            if response.streaming:  # a streamed export fails, if at all, while it is read
                b"".join(response.streaming_content)
            outcome.status = response.status_code
            outcome.refused = refusal(response)
            if outcome.refused or always:
                tables = written_tables(queries.captured_queries) - BOOKKEEPING
                outcome.written = changed_tables(baseline, tables) if tables else {}
            transaction.set_rollback(True)
    except Exception:  # noqa: BLE001 - a server error, reported with its traceback
        outcome.error = traceback.format_exc()
    if outcome.error is None and outcome.status is not None and outcome.status >= 500:
        outcome.error = f"status {outcome.status}"
    return outcome


def _with(body: dict[str, list], name: str, value) -> dict[str, list]:
    changed = dict(body)
    if value is None:
        changed.pop(name, None)
    else:
        changed[name] = [value]
    return changed


# Reporting -------------------------------------------------------------------------------------------------------


@dataclass
class Failures:
    seed: int
    found: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    examples: dict[str, str] = field(default_factory=dict)

    def server_error(self, case: str, trace: str) -> None:
        self._add(f"500 {_signature(trace)}", case, _trimmed(trace))

    def wrote(self, case: str, outcome: Outcome) -> None:
        refused = f"refused ({outcome.refused})" if outcome.refused else f"not refused ({outcome.status})"
        self._add(f"{refused} but wrote {sorted(outcome.written)}", case, str(outcome.written))

    def _add(self, signature: str, case: str, detail: str) -> None:
        self.found[signature].append(case)
        self.examples.setdefault(signature, detail)

    def report(self) -> str:
        lines = [f"FUZZ_SEED={self.seed}: {sum(map(len, self.found.values()))} failing cases, {len(self.found)} kinds"]
        for signature, cases in sorted(self.found.items(), key=lambda item: -len(item[1])):
            lines += [f"\n=== {signature} ({len(cases)} cases), e.g.:", *[f"  {c}" for c in cases[:5]]]
            if len(cases) > 5:  # where else: the URLs (a form's, or a page's without the query)
                elsewhere = sorted({re.split(r"[ ?]", c.removeprefix("POST ").removeprefix("GET "))[0] for c in cases})
                lines.append(f"  ... on {len(elsewhere)} URLs: {', '.join(elsewhere[:30])}")
            lines.append(self.examples[signature])
        return "\n".join(lines)


# Frames that say little about where a server error comes from: the ORM, Django's plumbing, the standard library.
_PLUMBING = ("/django/db/", "/django/utils/", "/django/core/", "/django/template/", "/django/test/")


def _signature(trace: str) -> str:
    """Where a server error comes from, to group the cases of one cause: its innermost frame in the project's code
    and in a library (past the ORM and Django's plumbing), and the exception's type."""
    frames = re.findall(r'File "([^"]+)", line (\d+), in (\S+)', trace)
    ours = [f for f in frames if "site-packages" not in f[0] and "/lib/python3." not in f[0] and "/tests/" not in f[0]]
    library = [f for f in frames if "site-packages" in f[0] and not any(part in f[0] for part in _PLUMBING)]
    where = [f"{os.path.relpath(f[0])}:{f[1]} in {f[2]}" for f in (ours[-1:] + library[-1:])] or ["?"]
    last = trace.strip().splitlines()[-1]
    return f"{' / '.join(where)}: {last.split(':')[0][:100]}"


def _trimmed(trace: str) -> str:
    """A traceback fit to read: its last lines, each cut short (a 10,000-character value is in the message)."""
    return "\n".join(line[:300] for line in trace.strip().splitlines()[-40:])


def sample(cases: list, budget: int, rng: random.Random, group: Callable) -> list:
    """Every case under FUZZ_ALL; otherwise about `budget` of them, drawn from every group (form or page) in
    proportion to its size, at least one each."""
    if FULL or len(cases) <= budget:
        return list(cases)
    groups = defaultdict(list)
    for case in cases:
        groups[group(case)].append(case)
    chosen = []
    for items in groups.values():
        chosen += rng.sample(items, min(len(items), max(1, round(budget * len(items) / len(cases)))))
    return chosen


# The world, crawled once per module -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz(world, django_db_blocker):  # noqa: F811 (the sweep's fixture)
    """The sweep's world with a superuser persona, its pages crawled, and every table's rows as they stand."""
    with django_db_blocker.unblock():
        root = User.objects.create_superuser("fuzz-root", "root@example.com", "Fuzz-root-2026!")
        client = Client()
        client.force_login(root)
        world.users["superuser"] = root
        world.values["sessions"]["superuser"] = client.cookies[settings.SESSION_COOKIE_NAME].value
        started = time.monotonic()
        targets, pages, unopened = crawl(world)
        world.values["fuzz"] = {
            "targets": targets,
            "pages": pages,
            "unopened": unopened,
            "crawl_seconds": time.monotonic() - started,
            "baseline": table_rows(),
        }
    return world


def _print(capsys, *lines: str) -> None:
    with capsys.disabled():
        print("\n" + "\n".join(lines))


def _finish(failures: Failures) -> None:
    """Fail with the report; FUZZ_REPORT=<file> also appends it there (a full run's report is long)."""
    if os.environ.get("FUZZ_REPORT"):
        with open(os.environ["FUZZ_REPORT"], "a", encoding="utf-8") as report:
            report.write((failures.report() if failures.found else f"FUZZ_SEED={failures.seed}: no failures") + "\n")
    if failures.found:
        pytest.fail(failures.report(), pytrace=False)


# The tests ---------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_no_form_input_gives_a_server_error_or_a_refused_write(fuzz, capsys):
    found = fuzz.values["fuzz"]
    targets, baseline = found["targets"], found["baseline"]
    if os.environ.get("FUZZ_DEBUG"):
        _print(
            capsys, *[f"{t.url} as {t.persona}: {sorted(t.fields().items())}" for t in targets if ONLY.search(t.url)]
        )
    rng = random.Random(SEED)
    failures = Failures(SEED)
    started = time.monotonic()

    # Once per form: its valid body, by the role that may use it (a control: most are saved) and by one that may not.
    targets = [target for target in targets if ONLY.search(target.url)]
    accepted, outsiders = 0, 0
    for target in targets:
        outcome = submit(fuzz, target.persona, target.url, target.body, baseline)
        case = f"{target.key} as {target.persona}: the page's own body"
        if outcome.error:
            failures.server_error(case, outcome.error)
        elif outcome.written:
            failures.wrote(case, outcome)
        accepted += not outcome.refused
        outsider = outsider_for(fuzz, target.entry, target.persona)
        if outsider is not None:
            outsiders += 1
            outcome = submit(fuzz, outsider, target.url, target.body, baseline, always=True)
            case = f"{target.key} as {outsider} (may not): the page's own body"
            if outcome.error:
                failures.server_error(case, outcome.error)
            elif outcome.written:
                failures.wrote(case, outcome)

    cases = [
        (target, name, label)
        for target in targets
        for name, kind in sorted(target.fields().items())
        for label in hostile_values(kind)
    ]
    chosen = sample(cases, FORM_CASES, rng, group=lambda case: case[0].url)
    for target, name, label in chosen:
        kind = target.fields()[name]
        body = _with(target.body, name, hostile_values(kind)[label])
        outcome = submit(fuzz, target.persona, target.url, body, baseline)
        case = f"POST {target.url} as {target.persona}: {name} ({kind}) = {label}"
        if outcome.error:
            failures.server_error(case, outcome.error)
        elif outcome.written:
            failures.wrote(case, outcome)

    _print(
        capsys,
        f"fuzz forms: FUZZ_SEED={SEED}{' FUZZ_ALL=1' if FULL else ''}: {len(chosen)} of {len(cases)} (form, field, "
        f"value) cases on {len(targets)} forms ({len({t[1] for t in cases})} field names), plus {len(targets)} "
        f"valid bodies ({accepted} accepted) and {outsiders} posts by a role that may not; "
        f"{time.monotonic() - started:.0f} s (crawl {found['crawl_seconds']:.0f} s; {len(found['unopened'])} URLs "
        "not opened: redirects, and pages the admin turns off)",
    )
    _finish(failures)


@pytest.mark.django_db
def test_no_query_parameter_gives_a_server_error(fuzz, capsys):
    found = fuzz.values["fuzz"]
    rng = random.Random(SEED + 1)
    failures = Failures(SEED)
    started = time.monotonic()
    cases = [
        (page, name, label)
        for page in found["pages"]
        if ONLY.search(page.url)
        for name in sorted(set(QUERY_PARAMETERS) | page.parameters)
        for label in QUERY_VALUES
    ]
    chosen = sample(cases, QUERY_CASES, rng, group=lambda case: case[0].url)
    for page, name, label in chosen:
        parts = urlsplit(page.url)
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
        url = urlunsplit(parts._replace(query=urlencode([*query, (name, QUERY_VALUES[label])])))
        outcome = submit(fuzz, page.persona, url, {}, found["baseline"], method="get")
        if outcome.error:
            failures.server_error(f"GET {url} as {page.persona} ({name} = {label})", outcome.error)

    _print(
        capsys,
        f"fuzz queries: FUZZ_SEED={SEED}{' FUZZ_ALL=1' if FULL else ''}: {len(chosen)} of {len(cases)} (page, "
        f"parameter, value) cases on {len(found['pages'])} pages; {time.monotonic() - started:.0f} s",
    )
    _finish(failures)


@pytest.mark.django_db
def test_the_fuzzer_reports_a_server_error_and_a_refused_form_that_wrote(fuzz, monkeypatch):
    """The controls of the two checks: a household form whose upload check raises is a server error with its
    traceback, and one whose check writes a row and then refuses is a refused form that wrote."""
    from django.core.exceptions import ValidationError

    from households import admin_kit as household_admin
    from housing_safety.models import OutgoingEmail

    found = fuzz.values["fuzz"]
    household = fuzz["household_b"]
    target = next(t for t in found["targets"] if t.url == f"/admin/households/household/{household.pk}/change/")
    upload = next(name for name, kind in target.fields().items() if kind == "file")
    body = {**target.body, upload: [fuzzing.HOSTILE_FILES["damaged JPEG"]]}

    def broken(form):
        raise RuntimeError("the upload check broke")

    def writes_then_refuses(form):
        OutgoingEmail.objects.create(key="fuzz-control", recipients=["a@example.com"], subject="s", body="b")
        raise ValidationError("refused after writing")

    monkeypatch.setattr(household_admin.AttachmentForm, "clean_file", broken)
    crashed = submit(fuzz, target.persona, target.url, body, found["baseline"])
    monkeypatch.setattr(household_admin.AttachmentForm, "clean_file", writes_then_refuses)
    wrote = submit(fuzz, target.persona, target.url, body, found["baseline"])
    monkeypatch.undo()
    refused_cleanly = submit(fuzz, target.persona, target.url, body, found["baseline"])

    assert "RuntimeError: the upload check broke" in crashed.error
    assert wrote.refused and set(wrote.written) == {"housing_safety_outgoingemail"}
    assert refused_cleanly.refused and not refused_cleanly.written and refused_cleanly.error is None


def test_the_hostile_files_are_what_they_claim():
    """The pixel flood claims 10 billion pixels; each zip bomb's directory declares a part of 1 GiB whose stream
    really inflates to zeros."""
    import io
    import zipfile

    from PIL import Image

    with pytest.raises(Image.DecompressionBombError, match="10000000000 pixels"):
        Image.open(io.BytesIO(fuzzing.png_claiming(100_000, 100_000)))
    for bomb, part in ((fuzzing.xlsx_bomb(), "xl/worksheets/sheet1.xml"), (fuzzing.docx_bomb(), "word/document.xml")):
        assert len(bomb) < 2 * 1024 * 1024
        with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
            assert archive.getinfo(part).file_size == fuzzing.BOMB_UNPACKED
            with archive.open(part) as stream:
                assert stream.read(1 << 20) == b"\x00" * (1 << 20)


def test_the_form_reader_submits_what_a_browser_would():
    html = """
    <form method="post" action="/x/"><input type="hidden" name="csrfmiddlewaretoken" value="t">
      <input name="title" value="a &amp; b"><input type="number" name="n" value="3">
      <input type="text" name="day" class="vDateField" value="2026-01-02"><input type="date" name="d2">
      <input type="checkbox" name="c" value="1" checked><input type="checkbox" name="c" value="2">
      <input type="checkbox" name="flag"><input type="file" name="f"><input name="off" disabled value="x">
      <select name="s"><option value="">---</option><option value="7" selected>七</option></select>
      <select name="m" multiple><option value="1">一</option></select>
      <textarea name="t">
line</textarea><button type="submit" name="to" value="done">ok</button></form>
    <form method="get"><input name="q"></form>"""
    post, get = forms_of(html)
    assert (post.method, post.action, get.method) == ("post", "/x/", "get")
    assert post.data == [("csrfmiddlewaretoken", "t"), ("title", "a & b"), ("n", "3"), ("day", "2026-01-02"),
                         ("d2", ""), ("c", "1"), ("s", "7"), ("t", "line")]  # fmt: skip
    kinds = {name: f.kind for name, f in post.fields.items()}
    assert kinds == {
        "csrfmiddlewaretoken": "hidden", "title": "text", "n": "number", "day": "date", "d2": "date",
        "c": "multichoice", "flag": "checkbox", "f": "file", "s": "choice", "m": "multichoice", "t": "text",
    }  # fmt: skip
    assert post.submits == [("to", "done")]
