"""Handing work to Celery with the broker down (housing_safety.background): the caller carries on, the refusal is
logged and kept once, the ten-minute job sends it again; e-mail keeps its own record, the outbox row."""

from __future__ import annotations

import datetime
import logging
import time

import pytest
from django.db import transaction

from housing_safety.background import enqueue_on_commit, is_waiting, resend_deferred
from housing_safety.celery import ping
from housing_safety.mail import queue_email
from housing_safety.models import DeferredTask, OutgoingEmail
from reporting.jobs import run_job

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 12, 1)


def test_a_refused_task_is_kept_once_and_the_ten_minute_job_sends_it_when_the_broker_is_back(
    broker_down, caplog, django_capture_on_commit_callbacks
):
    started = time.monotonic()
    with (
        caplog.at_level(logging.WARNING, logger="housing_safety.background"),
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
    ):
        first = enqueue_on_commit(ping)
        second = enqueue_on_commit(ping)  # asked twice before the broker answered
        assert not first.refused  # nothing is sent before the commit
    assert time.monotonic() - started < 5

    assert first.refused and second.refused
    deferred = DeferredTask.objects.get()
    assert (deferred.key, deferred.task, deferred.args, deferred.attempts) == ("housing_safety.ping:", ping.name, [], 1)
    assert is_waiting(ping)
    assert len([r for r in caplog.records if r.getMessage().startswith("Broker unreachable, housing_safety.ping")]) == 2

    assert resend_deferred() == (0, 1)  # still down: kept, one attempt more
    deferred = DeferredTask.objects.get()
    assert (deferred.key, deferred.attempts) == ("housing_safety.ping:", 2) and "refused" in deferred.last_error

    broker_down.conf.task_always_eager = True  # the broker is back
    assert run_job("send_pending_mail", DAY) == "sent 0, still failing 0; tasks resent 1, still refused 0"
    assert not DeferredTask.objects.exists() and not is_waiting(ping)
    assert run_job("send_pending_mail", DAY) == "sent 0, still failing 0"


def test_an_email_the_broker_refuses_waits_as_its_outbox_row_only(broker_down, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        email = queue_email(key="test:refused", to=["a@zhangping.example"], subject="测试", body="正文")
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.PENDING
    assert not DeferredTask.objects.exists()  # deliver_pending sends it; no second path that could race it


def test_a_kept_task_no_longer_registered_is_dropped_with_an_error(caplog):
    DeferredTask.objects.create(key="reporting.tasks.gone:1", task="reporting.tasks.gone", args=[1])
    with caplog.at_level(logging.ERROR, logger="housing_safety.background"):
        assert resend_deferred() == (0, 0)
    assert not DeferredTask.objects.exists()
    assert "reporting.tasks.gone:1 is not registered" in caplog.text


def test_inline_a_task_error_is_the_callers_error(django_capture_on_commit_callbacks):
    """Without a broker (a laptop, the tests) the task runs in the caller: its failure must not pass for a broker
    that is down."""

    class Boom(Exception):
        pass

    class FailingTask:
        name = "test.failing"
        app = ping.app

        def delay(self, *args):
            raise Boom

    with pytest.raises(Boom), django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(FailingTask(), 1)
    assert not DeferredTask.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # on_commit runs as in production, at once
def test_run_now_in_the_schedules_admin_with_the_broker_down_tells_the_admin_and_keeps_the_run(broker_down, client):
    from django_celery_beat.models import PeriodicTask

    from households.tests.factories import make_user
    from housing_safety.access import Role
    from housing_safety.background import BROKER_DOWN_MESSAGE

    schedule = PeriodicTask.objects.get(name="send_pending_mail")  # reporting/migrations/0002
    queue_email(key="test:waiting", to=["a@zhangping.example"], subject="测试", body="正文")  # the broker refused it
    client.force_login(make_user(Role.BUREAU_ADMIN))
    changelist = "/admin/django_celery_beat/periodictask/"
    page = client.post(changelist, {"action": "run_tasks", "_selected_action": [schedule.pk], "index": 0}, follow=True)
    assert page.status_code == 200
    assert str(BROKER_DOWN_MESSAGE) in page.content.decode()
    assert DeferredTask.objects.get().key == "reporting.run_job:send_pending_mail"

    broker_down.conf.task_always_eager = True  # the broker is back: the kept run happens, once
    assert resend_deferred() == (1, 0)
    assert not DeferredTask.objects.exists()
    assert OutgoingEmail.objects.get().status == OutgoingEmail.Status.SENT


def test_run_now_is_refused_to_a_read_only_role(client):
    from django_celery_beat.models import PeriodicTask

    from households.tests.factories import make_user
    from housing_safety.access import Role

    schedule = PeriodicTask.objects.get(name="send_pending_mail")
    client.force_login(make_user(Role.BUREAU_OFFICIAL))
    page = client.post(
        "/admin/django_celery_beat/periodictask/", {"action": "run_tasks", "_selected_action": [schedule.pk]}
    )
    assert page.status_code == 403 and not DeferredTask.objects.exists()
