"""Project-wide pytest fixtures. The helpers the tests share (personas, login, page text, snapshots, services that
may be missing, the browser's page helpers) are in housing_safety/tests/kit.py."""

from __future__ import annotations

import os
import shutil
import time
from types import SimpleNamespace

import pytest

from housing_safety.tests.kit import ARTIFACTS, closed_port, service_missing

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


_RUN = pytest.StashKey[int]()


@pytest.hookimpl(trylast=True)  # after pytest-django's own ordering (database tests first)
def pytest_collection_modifyitems(items):
    """A module's tests that use the world it builds once (the fixture `shared`, kit.built_once) run after its other
    tests: the world's rows stay in the database from its first test to the module's last, and a test that builds its
    own data (a query count, say) must not find them there."""
    runs, previous = [], None
    for item in items:  # a run: consecutive tests of one module
        if item.path != previous:
            runs.append(len(runs))
            previous = item.path
        item.stash[_RUN] = runs[-1]
    items.sort(key=lambda item: (item.stash[_RUN], "shared" in getattr(item, "fixturenames", ())))


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from django.core.cache import cache

    cache.clear()  # rate limits and cached figures never leak from one test into the next


@pytest.fixture(autouse=True)
def default_language():
    """The test client runs the locale middleware in the test's thread, so a request in English would leave
    English active for the next test; every test starts and ends in the bureau's language."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def celery_inline():
    """Tests run Celery tasks in the caller even when CI sets a broker; the broker test switches this off."""
    from housing_safety.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def frozen_rate_window(monkeypatch):
    """Keep django-ratelimit's clock still, so the one-minute window cannot roll over mid-test."""
    now = time.time()
    monkeypatch.setattr("django_ratelimit.core.time", SimpleNamespace(time=lambda: now))


@pytest.fixture
def broker_down(celery_inline, monkeypatch):
    """Tasks go to a broker (not inline) at a port where nothing listens, with production's publish retries and
    timeouts; everything is restored afterwards. Set `task_always_eager` on it for "the broker is back"."""
    app = celery_inline
    down = {"broker_url": f"redis://127.0.0.1:{closed_port()}/0", "broker_write_url": None}
    saved = {name: app.conf[name] for name in down}
    # Celery reads CELERY_BROKER_URL from the environment before its configuration (CI sets it).
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)
    app.conf.update(down)
    app.conf.task_always_eager = False
    # A worker test earlier in the session may have opened a pool to a real broker: start from a fresh one.
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
    connection = app.connection_for_write()
    assert (connection.transport_cls, connection.hostname) == ("redis", "127.0.0.1")
    yield app
    app.conf.update(saved)  # celery_inline restores task_always_eager; monkeypatch the pools


@pytest.fixture
def chromium_path():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        service_missing(f"Chromium not found at {CHROMIUM}")
    return CHROMIUM


@pytest.fixture
def browser(chromium_path, live_server, monkeypatch):
    """Debian's Chromium driven by Playwright against the live server (for the browser journeys)."""
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls in the test are safe here.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=LAUNCH_ARGS)
        violations = _watch_content_security_policy(launched)
        yield launched
        launched.close()
    if violations:
        pytest.fail("the pages broke the content security policy:\n" + "\n".join(violations), pytrace=False)


def _watch_content_security_policy(browser) -> list[str]:
    """Every page of every context the journey opens reports what the content security policy blocked (Chromium
    logs each refusal to the console); the `browser` fixture fails the journey if anything was."""
    violations: list[str] = []
    browser.csp_violations = violations
    open_context = browser.new_context

    def new_context(*args, **kwargs):
        context = open_context(*args, **kwargs)
        context.on(
            "console",
            lambda message: (
                violations.append(f"{message.location.get('url')}: {message.text}")
                if "Content Security Policy" in message.text
                else None
            ),
        )
        return context

    def new_page(*args, **kwargs):
        return new_context(*args, **kwargs).new_page()

    browser.new_context, browser.new_page = new_context, new_page
    return violations


class _Inbox:
    """What a real SMTP server received: (envelope sender, recipients, parsed message) per delivery."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on a free local port; Django sends to it over SMTP."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield inbox
    controller.stop()
