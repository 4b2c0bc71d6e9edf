"""The reporting jobs through the real broker: Redis carries run_job to a Celery worker, the worker opens the
month's unit reports, closes the month and hands the consolidated e-mail to deliver_email, which the same worker
sends, once.

Like housing_safety/tests/test_services_available.py this needs CELERY_BROKER_URL and a reachable Redis; without
them it skips (REQUIRE_SERVICES=1 makes it fail). The worker is a thread of this process with its own database
connection, so the test's rows are committed (transaction=True) and the locmem outbox is shared.
"""

from __future__ import annotations

import datetime
import time

import pytest
from django.conf import settings
from django.core import mail

from households.models import Unit
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory
from housing_safety.models import OutgoingEmail
from housing_safety.tests.kit import service_missing
from inspections.tests.factories import AppraisalFactory
from reporting.models import ConsolidatedReport, MonthlyReport, ReportKind, ReportStatus

# One worker of the parallel suite runs the tests that consume the real broker's queues (see conftest).
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.xdist_group("broker")]


def _require_redis() -> None:
    if not settings.CELERY_BROKER_URL:
        service_missing("CELERY_BROKER_URL is not set (tasks run inline)")
    import redis

    try:
        redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as error:
        service_missing(f"Redis is not reachable at {settings.CELERY_BROKER_URL}: {error}")


def _wait_for(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_the_monthly_jobs_run_on_a_real_worker_and_mail_the_bureau_once(celery_inline, official, xinqiao):
    _require_redis()
    from celery.contrib.testing.worker import start_worker

    from housing_safety.tasks import deliver_email
    from reporting.tasks import run_job

    household = HouseholdFactory(village=VillageFactory(township=xinqiao), registered_on=datetime.date(2026, 1, 5))
    AppraisalFactory(dwelling=DwellingFactory(household=household), grade="B")
    official.email = "official@zhangping.example"
    official.save(update_fields=["email"])
    mail.outbox = []
    app = celery_inline
    app.conf.task_always_eager = False  # the suite runs tasks inline (conftest.celery_inline); this test must not
    assert {run_job.name, deliver_email.name} <= set(app.tasks)

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
        assert worker.beat is None  # the worker runs tasks only; beat (django_celery_beat) is a process of its own
        opened = run_job.delay("open_monthly_reports", "2027-01-01").get(timeout=60)
        active_units = Unit.objects.filter(is_active=True, reports_monthly=True).count()  # the bureau files none
        assert opened == f"opened {active_units}"
        reports = MonthlyReport.objects.filter(kind=ReportKind.MONTHLY, period=datetime.date(2027, 1, 1))
        assert reports.count() == active_units > 0
        assert set(reports.values_list("unit_id", flat=True)) == set(
            Unit.objects.filter(is_active=True, reports_monthly=True).values_list("pk", flat=True)
        )
        assert reports.filter(unit__township=xinqiao).get().figures["covered"] == 1

        closed = run_job.delay("close_monthly_reports", "2027-01-23").get(timeout=120)
        assert "2027-01" in closed
        # close_month queued the e-mail after its commit; deliver_email is the worker's next task.
        assert _wait_for(lambda: len(mail.outbox) >= 1, timeout=60), "deliver_email never sent the report"
        again = run_job.delay("close_monthly_reports", "2027-01-23").get(timeout=120)
        time.sleep(1)  # a second deliver_email, had one been queued, would have run by now

    assert again != closed and "2027-01" in again
    [message] = mail.outbox
    assert sorted(message.to) == sorted({"official@zhangping.example", "zp7832121@163.com"})
    assert "2027-01" in message.subject
    workbooks = [item for item in message.attachments if isinstance(item, tuple) and item[0].endswith(".xlsx")]
    assert len(workbooks) == 1 and workbooks[0][1].startswith(b"PK")  # an xlsx is a zip
    email = OutgoingEmail.objects.get()
    assert (email.status, email.attempts, email.key) == (OutgoingEmail.Status.SENT, 1, "consolidated:2027-01")
    report = ConsolidatedReport.objects.get()
    assert (report.period, report.email_id) == (datetime.date(2027, 1, 1), email.pk)
    assert reports.filter(status=ReportStatus.LATE).count() == active_units  # nobody submitted by the 23rd
