"""acks_late against workers that die mid-job: the 23rd's job (close the month, build the consolidated report, e-mail
it) still happens exactly once, one report and one e-mail at a real SMTP server.

Real parts: PostgreSQL (the test database, shared with the workers, so the test is transaction=True), Redis, a
real aiosmtpd server, and Celery workers started as subprocesses (`celery -A housing_safety worker`) that are
SIGKILLed. The pause point is real too: the test holds a lock on the consolidated-report table, so the worker's
job stops where it writes the report, after it has already committed the late marks (part of the job is done);
the worker is killed there.

- the whole worker (solo pool) killed: the message stays unacknowledged in Redis and is handed out again after
  the visibility timeout (CELERY_VISIBILITY_TIMEOUT, a few seconds here, an hour in production);
- only the pool process killed (prefork, as the kernel's OOM killer would): task_retry_on_worker_lost sends the
  task again after CELERY_WORKER_LOST_RETRY_DELAY.

The test's app and its workers use a Redis key prefix and queue of their own (CELERY_KEY_PREFIX,
CELERY_TASK_DEFAULT_QUEUE), so no other test run's messages are taken or put back.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from email import message_from_bytes, policy
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from households.models import Unit
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory, make_user, township
from housing_safety.access import Role
from housing_safety.models import OutgoingEmail
from housing_safety.tests.kit import closed_port, service_missing
from reporting import services
from reporting.models import ConsolidatedReport, MonthlyReport, ReportKind, ReportStatus

# One worker of the parallel suite runs the tests that consume the real broker's queues (see conftest).
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.xdist_group("broker")]

ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).with_name("celery")
VISIBILITY_TIMEOUT = 4  # seconds; production: an hour (settings.CELERY_BROKER_TRANSPORT_OPTIONS)
CLOSING_DAY = "2027-01-23"
TABLE = ConsolidatedReport._meta.db_table


def _require_services() -> None:
    if connection.vendor != "postgresql":
        service_missing(f"DATABASE_URL does not point at PostgreSQL (the suite runs on {connection.vendor})")
    if not settings.CELERY_BROKER_URL:
        service_missing("CELERY_BROKER_URL is not set (tasks run inline)")
    import redis

    try:
        redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as error:
        service_missing(f"Redis is not reachable at {settings.CELERY_BROKER_URL}: {error}")


def _wait_for(condition, timeout: float, what: str, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    tail = f"\n--- worker log ---\n{log.read_text(errors='replace')[-4000:]}" if log else ""
    pytest.fail(f"timed out after {timeout} s waiting for {what}{tail}", pytrace=False)


@pytest.fixture
def broker(celery_inline, monkeypatch):
    """The test's Celery app talks to the real Redis under a key prefix of its own (fresh connection pools)."""
    _require_services()
    app = celery_inline
    app.conf.task_always_eager = False  # conftest runs tasks inline; here they go to the workers
    prefix = f"crash-test-{uuid.uuid4().hex[:10]}:"
    saved = app.conf.broker_transport_options
    app.conf.broker_transport_options = {
        **saved,
        "global_keyprefix": prefix,
        "visibility_timeout": VISIBILITY_TIMEOUT,
    }
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
    yield SimpleNamespace(app=app, prefix=prefix, queue=f"{prefix}jobs")
    app.conf.broker_transport_options = saved
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)


class Workers:
    """Celery workers as subprocesses of this test, on the test database and the test's SMTP server (the port in
    settings when a worker starts); each is stopped at the end, by its own process id."""

    def __init__(self, broker, logs: Path):
        self.broker, self.logs, self.started = broker, logs, []

    def environment(self) -> dict:
        db = connection.settings_dict  # the test database (test_<name>), where this test's rows are committed
        credentials = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
        return {
            **os.environ,
            "DATABASE_URL": f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_KEY_PREFIX": self.broker.prefix,
            "CELERY_TASK_DEFAULT_QUEUE": self.broker.queue,  # deliver_email, queued by the job, goes there too
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "CELERY_WORKER_LOST_RETRY_DELAY": "1",
            "EMAIL_URL": f"smtp://127.0.0.1:{settings.EMAIL_PORT}",
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),  # the workbook and chart the e-mail attaches
        }

    def start(self, name: str, pool: str = "solo") -> SimpleNamespace:
        log = self.logs / f"{name}.log"
        command = [str(CELERY), "-A", "housing_safety", "worker", f"--pool={pool}", "--concurrency=1"]
        command += ["-Q", self.broker.queue, "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "-l", "INFO"]
        with log.open("wb") as output:
            process = subprocess.Popen(
                command, cwd=ROOT, env=self.environment(), stdout=output, stderr=subprocess.STDOUT
            )
        self.started.append(process)
        worker = SimpleNamespace(process=process, log=log, node=f"{name}@{socket.gethostname()}")

        def ready():
            if process.poll() is not None:
                pytest.fail(f"worker {name} exited ({process.returncode}):\n{log.read_text()[-4000:]}", pytrace=False)
            return self.broker.app.control.ping(destination=[worker.node], timeout=0.5)

        _wait_for(ready, 60, f"worker {name} to answer a ping", log)
        return worker

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@pytest.fixture
def workers(broker, tmp_path):
    pool = Workers(broker, tmp_path)
    yield pool
    pool.stop_all()


class HoldingInbox:
    """An SMTP server's side: a message counts once the server has answered 250 for it (it has then taken it on).
    With `hold_next`, the next message's end of data is left unanswered until `release` (the sender may die
    meanwhile: a message never answered was never taken)."""

    def __init__(self):
        self.messages, self.hold_next = [], False
        self.holding, self.release = threading.Event(), threading.Event()

    async def handle_DATA(self, server, session, envelope):
        if self.hold_next:
            self.hold_next = False
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 Requested action aborted"
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"


@pytest.fixture
def holding_smtp_server(settings):
    from aiosmtpd.controller import Controller

    inbox = HoldingInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=closed_port())
    controller.start()
    settings.EMAIL_PORT = controller.port
    yield inbox
    inbox.release.set()
    controller.stop()


@pytest.fixture
def month_to_close():
    """January 2027's unit reports, open and unsubmitted; an official who receives the consolidated report."""
    household = HouseholdFactory(
        village=VillageFactory(township=township("350881100")), registered_on=datetime.date(2026, 9, 1)
    )
    DwellingFactory(household=household)
    official = make_user(Role.BUREAU_OFFICIAL)
    official.email = "official@zhangping.example"
    official.save(update_fields=["email"])
    opened = services.open_reports(kind=ReportKind.MONTHLY, day=datetime.date(2027, 1, 1))
    assert opened == Unit.objects.filter(is_active=True, reports_monthly=True).count() > 0  # not the bureau
    return MonthlyReport.objects.filter(kind=ReportKind.MONTHLY, period=datetime.date(2027, 1, 1))


class TableLock:
    """A second database session holding EXCLUSIVE on the consolidated-report table: reads pass, the job's
    `SELECT … FOR UPDATE` waits. Its own connection, because the test must watch the worker meanwhile."""

    def __enter__(self):
        self.raw = connection.get_new_connection(connection.get_connection_params())
        with self.raw.cursor() as cursor:
            cursor.execute(f'LOCK TABLE "{TABLE}" IN EXCLUSIVE MODE')
        return self

    def release(self) -> None:
        if self.raw is not None:
            self.raw.rollback()
            self.raw.close()
            self.raw = None

    def __exit__(self, *exc):
        self.release()


def _session_waiting_for_the_lock() -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            " AND query ILIKE %s",
            [f"%{TABLE}%"],
        )
        row = cursor.fetchone()
    return row and row[0]


def _session_gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0] == 0


def _pool_process(worker) -> int:
    """The prefork worker's one pool process (the job runs there)."""
    children = Path(f"/proc/{worker.process.pid}/task/{worker.process.pid}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def _assert_done_once(reports, smtp_server, result, log: Path) -> None:
    outcome = result.get(timeout=120)
    assert "2027-01" in outcome
    _wait_for(lambda: smtp_server.messages, 60, "the consolidated report at the SMTP server", log)
    time.sleep(2)  # a second delivery, were one queued, would have arrived by now
    [(_sender, recipients, message)] = smtp_server.messages
    assert sorted(recipients) == sorted({"official@zhangping.example", "zp7832121@163.com"})
    assert "2027-01" in message["Subject"]
    email = OutgoingEmail.objects.get()
    assert (email.key, email.status, email.attempts) == ("consolidated:2027-01", OutgoingEmail.Status.SENT, 1)
    report = ConsolidatedReport.objects.get()
    assert (report.period, report.email_id) == (datetime.date(2027, 1, 1), email.pk)
    assert reports.filter(status=ReportStatus.LATE).count() == reports.count()


def _kill_mid_job(broker, worker, kill_pid: int | None = None):
    """Send the 23rd's job, let it run until it waits for the lock (the late marks committed), SIGKILL, release."""
    from reporting.tasks import run_job

    with TableLock() as lock:
        result = run_job.apply_async(("close_monthly_reports", CLOSING_DAY), queue=broker.queue)
        waiting = _wait_for(_session_waiting_for_the_lock, 90, "the job to reach the consolidated report", worker.log)
        taken_at = time.monotonic()  # the worker took the message before this
        assert MonthlyReport.objects.filter(status=ReportStatus.LATE).exists()  # part of the job is committed
        assert not ConsolidatedReport.objects.exists() and not OutgoingEmail.objects.exists()
        os.kill(kill_pid or worker.process.pid, signal.SIGKILL)
        if kill_pid is None:
            assert worker.process.wait(timeout=10) == -signal.SIGKILL
        lock.release()
    # The killed worker's database session notices its client is gone once it can go on, and rolls back.
    _wait_for(lambda: _session_gone(waiting), 30, "the killed worker's database session to end")
    return result, taken_at


def test_a_worker_killed_mid_job_leaves_the_job_to_the_next_worker_which_does_it_once(
    workers, broker, smtp_server, month_to_close
):
    first = workers.start("first")
    result, taken_at = _kill_mid_job(broker, first)
    assert ConsolidatedReport.objects.count() == 0 and smtp_server.messages == []

    # Redis hands an unacknowledged message out again once it is older than the visibility timeout; a worker
    # starting after that puts it back on the queue at once.
    time.sleep(max(0.0, taken_at + VISIBILITY_TIMEOUT + 0.5 - time.monotonic()))
    second = workers.start("second")
    _assert_done_once(month_to_close, smtp_server, result, second.log)


def test_a_pool_process_killed_mid_job_is_retried_and_the_job_done_once(workers, broker, smtp_server, month_to_close):
    worker = workers.start("prefork", pool="prefork")
    result, _taken_at = _kill_mid_job(broker, worker, kill_pid=_pool_process(worker))
    assert worker.process.poll() is None  # the worker itself lives on and starts a new pool process
    _assert_done_once(month_to_close, smtp_server, result, worker.log)
    log = worker.log.read_text(errors="replace")
    assert "WorkerLostError" in log or "exited prematurely" in log, log[-4000:]


def test_a_worker_killed_while_sending_the_email_leaves_it_to_the_next_worker_which_sends_it_once(
    workers, broker, holding_smtp_server, month_to_close
):
    from reporting.tasks import run_job

    inbox = holding_smtp_server
    inbox.hold_next = True
    first = workers.start("first")
    result = run_job.apply_async(("close_monthly_reports", CLOSING_DAY), queue=broker.queue)
    outcome = result.get(timeout=120)  # the job itself finished (and was acknowledged)
    _wait_for(inbox.holding.is_set, 60, "deliver_email to reach the SMTP server's end of data", first.log)
    held_at = time.monotonic()
    report = ConsolidatedReport.objects.get()
    email = OutgoingEmail.objects.get()  # the worker holds its row lock; the row reads as not sent yet
    assert (email.status, email.attempts) == (OutgoingEmail.Status.PENDING, 0)
    os.kill(first.process.pid, signal.SIGKILL)
    assert first.process.wait(timeout=10) == -signal.SIGKILL
    inbox.release.set()  # the server gives up on the message the dead worker never finished
    assert inbox.messages == []

    time.sleep(max(0.0, held_at + VISIBILITY_TIMEOUT + 0.5 - time.monotonic()))
    second = workers.start("second")
    _wait_for(lambda: inbox.messages, 60, "the redelivered deliver_email at the SMTP server", second.log)
    time.sleep(2)  # a second delivery, were one queued, would have arrived by now
    [(_sender, recipients, message)] = inbox.messages
    assert "official@zhangping.example" in recipients and "2027-01" in message["Subject"]
    email.refresh_from_db()
    assert (email.key, email.status, email.attempts) == ("consolidated:2027-01", OutgoingEmail.Status.SENT, 1)
    assert list(ConsolidatedReport.objects.values_list("pk", "built_at")) == [(report.pk, report.built_at)]
    assert result.get(timeout=1) == outcome  # the job was not run again
