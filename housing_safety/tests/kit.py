"""The tests' shared kit, one module like healthchecks' hc/test.py: the personas and their names, logging in, a page's
text and parts of it, the login-redirect assertion, "nothing changed" snapshots, data built once per test module,
the skip-or-fail for a missing service, and the browser journeys' page helpers. The fixtures stay in the conftest.py
files.

It lives under `tests/` because it builds on the apps (users get their role through `households.services`), which
the project package itself may not import (test_layers.py)."""

from __future__ import annotations

import copy
import datetime
import html
import os
import re
import socket
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, models, transaction
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone, translation

from households.tests.factories import make_user
from housing_safety.access import Role

# Personas ------------------------------------------------------------------------------------------------------------

ANON = "anonymous"  # no session at all
NO_ROLE = "no_role"  # logged in, without a role
ADMIN = Role.BUREAU_ADMIN.value
OFFICIAL = Role.BUREAU_OFFICIAL.value
STAFF = Role.TOWNSHIP_STAFF.value
LIAISON = Role.DEPARTMENT_LIAISON.value
CLERK = Role.COMPLAINT_CLERK.value
HELPER = Role.HELPER.value
ROLES = [ADMIN, OFFICIAL, STAFF, LIAISON, CLERK, HELPER]  # Role's order
PERSONAS = [ANON, NO_ROLE, *ROLES]
PASSWORD = "pw-123456789"  # make_user's: 12 characters of three kinds, passes every password rule


def make_personas(*, township, unit) -> dict[str, User]:
    """One user per role, the township staff member in `township` and the liaison in `unit`, plus a user without any
    role (NO_ROLE): what the `personas` fixture gives every test."""
    return {
        Role.BUREAU_ADMIN: make_user(Role.BUREAU_ADMIN),
        Role.BUREAU_OFFICIAL: make_user(Role.BUREAU_OFFICIAL),
        Role.TOWNSHIP_STAFF: make_user(Role.TOWNSHIP_STAFF, townships=[township]),
        Role.DEPARTMENT_LIAISON: make_user(Role.DEPARTMENT_LIAISON, unit=unit),
        Role.COMPLAINT_CLERK: make_user(Role.COMPLAINT_CLERK),
        Role.HELPER: make_user(Role.HELPER),
        NO_ROLE: make_user(None),
    }


def staff_without_role() -> User:
    """A user who may enter the admin site (is_staff) but has no role and no profile: the page tests' NO_ROLE, the
    nearest a stray account comes to reaching anything."""
    return User.objects.create_user("staff-no-role", password=PASSWORD, is_staff=True)


def login(client, users: dict, persona: str) -> None:
    """Log the test client in as `users[persona]`; ANON stays logged out."""
    if persona != ANON:
        client.force_login(users[persona])


# Pages ---------------------------------------------------------------------------------------------------------------


def today() -> datetime.date:
    """Today in the bureau's time zone (Asia/Shanghai), as the pages and services see it."""
    return timezone.localdate()


def body(response) -> str:
    """The response's HTML as text, for assertions on what a page shows (and must not show)."""
    return response.content.decode()


def confirmation(response, button: str = "confirm") -> dict[str, list[str]]:
    """What a confirmation page's button sends (web.confirm_form): its hidden inputs again, plus the button."""
    form = body(response).split("data-once>", 1)[1].split("</form>", 1)[0]
    data: dict[str, list[str]] = {button: ["1"]}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form):
        if name != "csrfmiddlewaretoken":
            data.setdefault(html.unescape(name), []).append(html.unescape(value))
    return data


def assert_login_redirect(response, path: str) -> None:
    """An anonymous request is sent to the login page, which brings it back to `path` afterwards."""
    assert response.status_code == 302
    target = urlsplit(response.url)
    assert target.path == reverse("admin:login")
    assert parse_qs(target.query)["next"] == [path]


def messages_of(text: str) -> list[str]:
    """The page's flash messages (ul.messages), in order; none when it has no such list."""
    if '<ul class="messages">' not in text:
        return []
    section = text.split('<ul class="messages">', 1)[1].split("</ul>", 1)[0]
    return re.findall(r"<li[^>]*>(.*?)</li>", section, re.S)


def list_items(text: str) -> list[str]:
    """The <li> items of the page's main list (ul.list), without the messages or the navigation."""
    section = text.split('<ul class="list">', 1)[1].split("</ul>", 1)[0]
    return re.findall(r"<li[^>]*>(.*?)</li>", section, re.S)


def count_queries(client, url: str) -> int:
    """How many queries one GET of `url` takes (it must answer 200): for pins that compare two sizes of data."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


# Nothing changed -----------------------------------------------------------------------------------------------------


def table_rows(tables: set[str] | None = None) -> dict[str, list[str]]:
    """Every row of the given tables (all of them when None), as plain values: compare it before and after a refused
    request to show that nothing changed."""
    rows = {}
    for model in apps.get_models(include_auto_created=True):
        table = model._meta.db_table
        if model._meta.proxy or (tables is not None and table not in tables):
            continue
        names = [f.attname for f in model._meta.concrete_fields]
        rows[table] = sorted(map(repr, model._default_manager.order_by().values_list(*names)))
    return rows


def rows_of(*tables: type[models.Model] | models.QuerySet) -> list[list[tuple]]:
    """Every field of every row of these models or querysets (history models included: `Household.history.model`),
    ordered by key: a "nothing changed" snapshot that sees any write, not only an added row."""
    snapshot = []
    for table in tables:
        queryset = table if isinstance(table, models.QuerySet) else table._default_manager.all()
        names = [f.attname for f in queryset.model._meta.concrete_fields]
        snapshot.append(list(queryset.order_by("pk").values_list(*names)))
    return snapshot


# Data built once per module ------------------------------------------------------------------------------------------


@dataclass
class Shared:
    """What a module built once (`values`), and the media folder its files went to."""

    values: Any
    media: str

    def fresh(self, test_settings) -> Any:
        """A deep copy of the values for one test (so a test that changes an object in memory leaves the next test
        the one that was built), with the test's media (pytest-django's `settings`) pointing at the module's files."""
        test_settings.MEDIA_ROOT = self.media
        return copy.deepcopy(self.values)


@contextmanager
def built_once(django_db_blocker, tmp_path_factory):
    """Build a module's read-mostly world once instead of in every test (the IDOR sweep's way), inside a module-scoped
    fixture::

        @pytest.fixture(scope="module")
        def shared(django_db_setup, django_db_blocker, tmp_path_factory):
            with kit.built_once(django_db_blocker, tmp_path_factory) as media:
                yield kit.Shared(build(), media)

    The rows are written in a transaction that is rolled back after the module's last test; each test runs in a
    savepoint inside it (pytest-django's `db`), so whatever a test writes is undone before the next one. The build runs
    with the test settings the project's autouse fixtures give a test (fast hasher, e-mail in memory, the bureau's
    language) and files into a folder of its own (yielded: give it to `Shared`).

    Name the fixture `shared`: the root conftest.py runs the tests that use it after the module's other tests, which
    build their own data (a query count, say) and must not find the world's rows in the database."""
    media = str(tmp_path_factory.mktemp("shared-media"))
    overrides = override_settings(
        MEDIA_ROOT=media,
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    with django_db_blocker.unblock(), overrides, translation.override(settings.LANGUAGE_CODE), transaction.atomic():
        yield media
        transaction.set_rollback(True)


# Services that may be missing -----------------------------------------------------------------------------------------

# Set by .ci/run: "service missing" is a failure there, so CI cannot pass without PostgreSQL, Redis and Chromium; on a
# laptop such tests skip with the reason.
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def service_missing(reason: str):
    """Fail under REQUIRE_SERVICES, otherwise skip, with the same reason."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}", pytrace=False)
    pytest.skip(reason)


def closed_port() -> int:
    """A local port where nothing listens (bound, then closed again): connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Browser journeys ----------------------------------------------------------------------------------------------------

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"  # screenshots of the browser journeys


def phone_page(browser, width: int = 390):
    """A new phone-sized page in Chinese, on Asia/Shanghai time."""
    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": width, "height": 844}, is_mobile=True
    )
    return context.new_page()


def log_in(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Log a browser page in through the login form, as a person would."""
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base_url}/")  # everyone lands on their home


def watch_console(page) -> list[str]:
    """Collect the page's uncaught JavaScript errors and console errors. The site has no favicon, so Chromium's
    own request for /favicon.ico answers 404 on the first page: that one is not the page's doing and is ignored."""
    errors: list[str] = []

    def on_console(message) -> None:
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            errors.append(f"console: {message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    return errors


def no_horizontal_scroll(page, width: int = 390) -> None:
    """The page fits a phone's width: nothing sticks out sideways."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def menu(page):
    """The role's menu, as a person reaches it: on a phone the menu button opens the drawer first."""
    button = page.locator(".shell-menu-button")
    if button.count() and button.is_visible():
        button.click()
    return page.locator("#shell-menu")


# Paper documents (housing_safety.pdf): a PDF read back ---------------------------------------------------------------


def pdf_text(content: bytes):
    """The PDF's reader and its text (pypdf), every page's."""
    import io

    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(content))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def embedded_characters(reader) -> set[str]:
    """Every character the PDF's embedded fonts can draw (their cmaps; WeasyPrint embeds TrueType subsets)."""
    import io

    from fontTools.ttLib import TTFont

    covered: set[str] = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            descendants = font.get_object().get("/DescendantFonts") or [font]
            for descendant in descendants:
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                stream = descriptor.get("/FontFile2") or descriptor.get("/FontFile3")
                assert stream is not None, "a font used by the PDF is not embedded"
                cmap = TTFont(io.BytesIO(stream.get_object().get_data())).getBestCmap() or {}
                covered |= {chr(code) for code in cmap}
    return covered


def keep_page_image(content: bytes, name: str, page: int = 0) -> None:
    """The PDF's page rendered to test-artifacts/<name> (PNG)."""
    import pypdfium2

    ARTIFACTS.mkdir(exist_ok=True)
    document = pypdfium2.PdfDocument(content)
    try:
        document[page].render(scale=1.5).to_pil().save(ARTIFACTS / name)
    finally:
        document.close()


# The API (housing_safety/api): a key for a persona's account, and calls with it ------------------------------------


def api_key(user, scopes, *, name: str = "省农房系统"):
    """A key acting as `user`'s account with these scopes, valid for 30 days: (its row, the plain key)."""
    from housing_safety.api import keys

    return keys.issue_key(
        user=user, name=name, scopes=list(scopes), expires_at=timezone.now() + datetime.timedelta(days=30)
    )


def api_get(plain: str, url: str, **params):
    from django.test import Client

    return Client().get(url, params, HTTP_AUTHORIZATION=f"Api-Key {plain}")
