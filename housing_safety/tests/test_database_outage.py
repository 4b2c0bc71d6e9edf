"""The database goes away while the web runs, and comes back: pages answer a clean 503 in the user's language within
seconds (not a traceback, not a hang), /healthz says 503, and once the database is back the very next request works
without restarting anything.

Real parts: gunicorn (a subprocess, DEBUG off, persistent connections CONN_MAX_AGE=60) on the test database, which
it reaches through a TCP proxy in this test between it and PostgreSQL. The shared PostgreSQL server is never
restarted: the proxy plays the outage. `cut()` closes every connection and refuses new ones (a server that is down
or restarting); `hang()` accepts connections and never answers (a host that is unreachable: PG_CONNECT_TIMEOUT
bounds the wait); `restore()` forwards again.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.utils.translation import gettext

from households.tests.factories import make_user
from housing_safety.access import Role
from housing_safety.tests.kit import closed_port, service_missing

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
CONNECT_TIMEOUT = 2  # PG_CONNECT_TIMEOUT for the server under test (libpq's least)
UNAVAILABLE = "The database is temporarily unavailable. Please try again shortly."


class TcpProxy:
    """A TCP proxy on 127.0.0.1 in front of `upstream`, with threads: one accepting, two pumping per connection."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream, self.port, self.hanging = upstream, 0, False
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self._listen()

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))  # the same port again after a cut
        listener.listen(64)
        self.port, self.listener = listener.getsockname()[1], listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _track(self, sock: socket.socket) -> None:
        with self.lock:
            self.sockets.append(sock)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return  # the listener was closed by cut()
            self._track(client)
            if self.hanging:
                continue  # held open and never answered
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            self._track(server)
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """The database is down: every connection is closed, new ones are refused (nothing listens on the port)."""
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        self.listener.close()
        with self.lock:
            sockets, self.sockets = self.sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def hang(self) -> None:
        """The database host is unreachable: connections are accepted and never answered."""
        self.cut()
        self.hanging = True
        self._listen()

    def restore(self) -> None:
        self.cut()
        self.hanging = False
        self._listen()

    def close(self) -> None:
        self.cut()


def _get(port: int, path: str, session: str = "", timeout: float = 30) -> SimpleNamespace:
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"} if session else {}
    started = time.monotonic()
    client.request("GET", path, headers=headers)
    response = client.getresponse()
    body = response.read().decode(errors="replace")
    client.close()
    return SimpleNamespace(
        status=response.status, body=body, headers=response.headers, seconds=time.monotonic() - started
    )


@pytest.fixture
def proxy():
    if connection.vendor != "postgresql":
        service_missing(f"DATABASE_URL does not point at PostgreSQL (the suite runs on {connection.vendor})")
    db = connection.settings_dict
    running = TcpProxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
    yield running
    running.close()


@pytest.fixture
def web(proxy, tmp_path):
    """gunicorn with one worker on the test database, through the proxy; stopped at the end by its process id."""
    db = connection.settings_dict
    credentials = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{credentials}@127.0.0.1:{proxy.port}/{db['NAME']}",
        "CONN_MAX_AGE": "60",
        "PG_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
        "DEBUG": "0",
        "CELERY_BROKER_URL": "",  # /healthz then checks the database only
    }
    port = closed_port()
    log = tmp_path / "gunicorn.log"
    command = [
        str(GUNICORN),
        "housing_safety.wsgi:application",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        "1",
        "--timeout",
        "60",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    server = SimpleNamespace(port=port, process=process, log=log)
    deadline = time.monotonic() + 60
    while True:
        try:
            if _get(port, "/healthz", timeout=5).status == 200:
                break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"gunicorn did not come up:\n{log.read_text(errors='replace')[-4000:]}", pytrace=False)
        time.sleep(0.2)
    yield server
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def session(client):
    """An official's session in the test database, as the browser's cookie carries it."""
    client.force_login(make_user(Role.BUREAU_OFFICIAL))
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _assert_unavailable_page(response, within: float) -> None:
    assert response.status == 503, response.body[:2000]
    assert response.seconds < within, f"answered after {response.seconds:.1f} s"
    assert response.headers["Content-Type"].startswith("text/html") and response.headers["Retry-After"] == "30"
    assert gettext(UNAVAILABLE) in response.body and '<html lang="zh-hans">' in response.body
    assert "Traceback" not in response.body and "OperationalError" not in response.body


def test_pages_answer_503_while_the_database_is_down_and_work_again_without_a_restart(web, proxy, session):
    # Up: a signed-in page, a public page reading the database, the health check.
    page = _get(web.port, "/dashboard/", session)
    assert page.status == 200 and gettext("Dashboard") in page.body
    assert _get(web.port, "/v/no-such-placard/").status == 404  # the view read the database and found nothing
    assert _get(web.port, "/healthz").status == 200

    # Down (refused): the signed-in page fails while a middleware loads the session (handler500), the public page
    # in its view (process_exception); both are the 503 page, at once. The health check says 503 too.
    proxy.cut()
    _assert_unavailable_page(_get(web.port, "/dashboard/", session), within=5)
    _assert_unavailable_page(_get(web.port, "/v/no-such-placard/"), within=5)
    health = _get(web.port, "/healthz")
    assert health.status == 503 and health.seconds < 5

    # Unreachable (connections hang): PG_CONNECT_TIMEOUT bounds the wait.
    proxy.hang()
    _assert_unavailable_page(_get(web.port, "/dashboard/", session), within=CONNECT_TIMEOUT + 3)
    assert _get(web.port, "/healthz").status == 503

    # Back: the next request works, in the same gunicorn.
    proxy.restore()
    page = _get(web.port, "/dashboard/", session)
    assert page.status == 200 and gettext("Dashboard") in page.body
    assert _get(web.port, "/healthz").status == 200
    assert web.process.poll() is None


def test_a_database_restart_between_two_requests_goes_unnoticed(web, proxy, session):
    """The worker's persistent connection (CONN_MAX_AGE) dies with the restart; CONN_HEALTH_CHECKS notices at the
    start of the next request and connects anew, so no request fails after the database is back."""
    assert _get(web.port, "/dashboard/", session).status == 200  # the persistent connection is open now
    proxy.restore()  # every connection closed, the database accepting again
    page = _get(web.port, "/dashboard/", session)
    assert page.status == 200, page.body[:2000]
    assert _get(web.port, "/v/no-such-placard/").status == 404


# The same two ways of failing, in this process (the test client): which part answers the 503 page -------------------


@pytest.fixture
def database_down():
    """This process's connection pointed at a port where nothing listens (on PostgreSQL only: closing SQLite's
    in-memory test database would lose it); put back afterwards."""
    if connection.vendor != "postgresql":
        service_missing(f"DATABASE_URL does not point at PostgreSQL (the suite runs on {connection.vendor})")
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = closed_port()
    yield
    connection.close()
    connection.settings_dict["PORT"] = port


def test_a_view_that_finds_the_database_down_answers_the_503_page(database_down, client):
    """DatabaseUnavailableMiddleware.process_exception: without it the test client would re-raise the error."""
    response = client.get("/v/no-such-placard/")
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert gettext(UNAVAILABLE) in response.content.decode()


def test_a_middleware_that_finds_the_database_down_answers_the_503_page_too(session, database_down):
    """Loading the session fails in a middleware, before any view: handler500 (housing_safety.views.server_error)
    answers with the same page instead of Django's 'Server Error (500)'."""
    from django.test import Client

    browser = Client(raise_request_exception=False)
    browser.cookies[settings.SESSION_COOKIE_NAME] = session
    response = browser.get("/dashboard/")
    assert response.status_code == 503 and gettext(UNAVAILABLE) in response.content.decode()
