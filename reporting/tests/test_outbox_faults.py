"""The outbox under faults: a mail server that is down, one that stays down, and a broker that is down.

Nothing is lost (the row waits, with its error, for the periodic job or the admin's "send now"), nothing is sent
twice, and neither the 23rd's job nor a page breaks because mail or the broker is unreachable.
"""

from __future__ import annotations

import datetime
import logging
import re
import time

import pytest
from django.core import mail

from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory, make_user
from housing_safety.access import Role
from housing_safety.mail import deliver_pending, queue_email
from housing_safety.models import OutgoingEmail
from housing_safety.tests.kit import closed_port
from inspections import services as inspection_services
from reporting import services
from reporting.models import ConsolidatedReport

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 11, 23)
CHANGELIST = "/admin/housing_safety/outgoingemail/"


@pytest.fixture
def smtp_down(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 2


@pytest.fixture
def bureau(official, xinqiao):
    """Something to report on, and an official who receives the consolidated report."""
    household = HouseholdFactory(village=VillageFactory(township=xinqiao), registered_on=datetime.date(2026, 9, 1))
    DwellingFactory(household=household)
    official.email = "official@zhangping.example"
    official.save(update_fields=["email"])
    return official


def _close_month(capture) -> str:
    with capture(execute=True):
        return services.close_month(day=DAY)


def _queue(capture, key: str = "test:one") -> OutgoingEmail:
    with capture(execute=True):
        return queue_email(key=key, to=["someone@zhangping.example"], subject="测试邮件", body="正文")


def _send_now(client, email: OutgoingEmail):
    return client.post(CHANGELIST, {"action": "send_now", "_selected_action": [email.pk], "index": 0}, follow=True)


def _status_cells(html: str) -> list[str]:
    return re.findall(r'<td class="field-status">([^<]*)</td>', html)


# The mail server is down -----------------------------------------------------------------------------------------


def test_close_month_survives_a_mail_server_that_is_down_and_the_outbox_catches_up(
    smtp_down, bureau, admin, client, request, django_capture_on_commit_callbacks
):
    outcome = _close_month(django_capture_on_commit_callbacks)  # must not raise

    assert "2026-11" in outcome
    report = ConsolidatedReport.objects.get(period=DAY.replace(day=1))
    email = OutgoingEmail.objects.get()
    assert report.email == email
    assert (email.status, email.attempts, email.sent_at) == (OutgoingEmail.Status.FAILED, 1, None)
    assert "ConnectionRefusedError" in email.last_error or "Connection refused" in email.last_error
    assert email.recipients == sorted({"official@zhangping.example", "zp7832121@163.com"})

    client.force_login(admin)
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    html = page.content.decode()
    assert _status_cells(html) == ["发送失败，将重试"]
    assert "ConnectionRefusedError" in html

    client.force_login(bureau)  # an official reads reports but not the outbox
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(f"{CHANGELIST}{email.pk}/change/").status_code == 403

    inbox = request.getfixturevalue("smtp_server")  # the mail server comes back
    assert deliver_pending() == (1, 0)
    [(_sender, recipients, message)] = inbox.messages
    assert sorted(recipients) == email.recipients
    assert "2026-11" in message["Subject"]
    assert any(part.get_content_type() == "image/png" for part in message.walk())
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.SENT, 2)
    assert email.sent_at is not None

    assert deliver_pending() == (0, 0)
    assert "2026-11" in _close_month(django_capture_on_commit_callbacks)
    assert len(inbox.messages) == 1
    assert OutgoingEmail.objects.count() == 1 and ConsolidatedReport.objects.count() == 1


def test_send_now_in_the_admin_sends_a_failed_message_once(
    smtp_down, admin, client, request, django_capture_on_commit_callbacks
):
    email = _queue(django_capture_on_commit_callbacks)
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.FAILED
    inbox = request.getfixturevalue("smtp_server")
    client.force_login(admin)

    page = _send_now(client, email)
    assert page.status_code == 200
    assert "已发送 1 封邮件" in page.content.decode()
    assert len(inbox.messages) == 1
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.SENT, 2)

    page = _send_now(client, email)  # already sent: nothing goes out again
    assert page.status_code == 200
    assert "已发送 0 封邮件" in page.content.decode()
    assert len(inbox.messages) == 1
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.SENT, 2)


def test_send_now_is_refused_to_an_official(smtp_down, official, client, django_capture_on_commit_callbacks):
    email = _queue(django_capture_on_commit_callbacks)
    client.force_login(official)
    assert _send_now(client, email).status_code == 403
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.FAILED, 1)


def test_send_now_with_the_server_still_down_records_another_failure(
    smtp_down, admin, client, django_capture_on_commit_callbacks
):
    email = _queue(django_capture_on_commit_callbacks)
    client.force_login(admin)
    page = _send_now(client, email)
    assert page.status_code == 200
    assert "1 封邮件再次发送失败" in page.content.decode()
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.FAILED, 2)


def test_after_the_last_attempt_the_outbox_gives_up_until_a_person_sends_it(
    smtp_down, settings, admin, client, request, django_capture_on_commit_callbacks
):
    settings.EMAIL_MAX_ATTEMPTS = 3
    email = _queue(django_capture_on_commit_callbacks)  # attempt 1, after commit
    assert deliver_pending() == (0, 1)  # attempt 2
    assert deliver_pending() == (0, 1)  # attempt 3: the last
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.GAVE_UP, 3)

    inbox = request.getfixturevalue("smtp_server")  # even with the server back, the periodic job leaves it alone
    assert deliver_pending() == (0, 0)
    assert inbox.messages == []
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.GAVE_UP, 3)

    client.force_login(admin)
    html = client.get(CHANGELIST).content.decode()
    assert _status_cells(html) == ["发送失败，已停止重试"]
    _send_now(client, email)  # a person decides to try again
    assert len(inbox.messages) == 1
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.SENT, 4)


def test_the_admin_shows_a_sent_message_as_sent(smtp_server, admin, client, django_capture_on_commit_callbacks):
    email = _queue(django_capture_on_commit_callbacks)
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.SENT
    client.force_login(admin)
    [status] = _status_cells(client.get(CHANGELIST).content.decode())
    assert status != "移出"
    assert "发送" in status


# The broker is down ----------------------------------------------------------------------------------------------


def test_a_broker_that_is_down_leaves_the_message_waiting(broker_down, caplog, django_capture_on_commit_callbacks):
    from django.db import transaction

    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="housing_safety.background"):
        with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
            email = queue_email(key="test:broker", to=["someone@zhangping.example"], subject="测试", body="正文")
        assert len(callbacks) == 1  # the task was handed to the broker after commit, and the broker failed
    assert time.monotonic() - started < 10

    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.PENDING, 0)
    assert mail.outbox == []
    [record] = [r for r in caplog.records if r.name == "housing_safety.background"]
    assert record.levelno == logging.WARNING
    assert "Broker unreachable" in record.getMessage() and "deliver_email" in record.getMessage()

    broker_down.conf.task_always_eager = True  # the periodic job runs once the broker is back
    assert deliver_pending() == (1, 0)
    [message] = mail.outbox
    assert message.subject == "测试" and message.to == ["someone@zhangping.example"]
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.SENT


def test_close_month_with_the_broker_down_still_builds_the_report(
    broker_down, bureau, django_capture_on_commit_callbacks
):
    started = time.monotonic()
    _close_month(django_capture_on_commit_callbacks)
    assert time.monotonic() - started < 10
    email = OutgoingEmail.objects.get()
    assert ConsolidatedReport.objects.get().email == email
    assert email.status == OutgoingEmail.Status.PENDING and mail.outbox == []


def test_pages_work_while_the_broker_is_down(broker_down, official, client):
    client.force_login(official)
    started = time.monotonic()
    assert client.get("/dashboard/").status_code == 200
    assert time.monotonic() - started < 10


def test_a_helpers_report_with_the_broker_down_does_not_break(broker_down, xinqiao, django_capture_on_commit_callbacks):
    from households.models import Unit

    Unit.objects.filter(township=xinqiao).update(email="xinqiao@zhangping.example")
    helper = make_user(Role.HELPER)
    household = HouseholdFactory(village=VillageFactory(township=xinqiao), helper_user=helper)
    DwellingFactory(household=household)
    with django_capture_on_commit_callbacks(execute=True):
        inspection_services.report_observation(actor=helper, household=household, findings=["leaking"], note="屋顶漏雨")
