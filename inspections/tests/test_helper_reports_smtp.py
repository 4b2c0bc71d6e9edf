"""The township's e-mail about a helper's report, delivered over SMTP to a real (local) server: through the outbox,
so a broker that is down delays it until the ten-minute job, and nothing sends it twice."""

from __future__ import annotations

import datetime
import time

import pytest
from django.urls import reverse

from households.models import Unit
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory, make_user, township
from housing_safety.access import Role
from housing_safety.models import Notice, OutgoingEmail
from inspections import services
from inspections.models import HelperReport
from reporting.jobs import run_job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("chinese")]


@pytest.fixture
def helped():
    """A 新桥镇 household assigned to a helper, with one dwelling; the township unit has an address."""
    xinqiao = township("350881100")
    Unit.objects.filter(township=xinqiao).update(email="xinqiao@zhangping.example")
    helper = make_user(Role.HELPER)
    household = HouseholdFactory(head_name="林秀英", village=VillageFactory(township=xinqiao), helper_user=helper)
    return household, DwellingFactory(household=household), helper


def test_the_township_is_mailed_over_smtp_and_its_staff_find_it_in_their_inbox_when_a_helper_reports(
    smtp_server, helped, client, django_capture_on_commit_callbacks
):
    household, dwelling, helper = helped
    xinqiao = household.village.township
    chen = make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao])  # no address: the inbox only
    lin = make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao])
    lin.email = "lin@xinqiao.example"
    lin.save()
    with django_capture_on_commit_callbacks(execute=True):
        report = services.report_observation(
            actor=helper, household=household, dwelling=dwelling, findings=["leaking"], note="屋顶漏雨"
        )
    [(_sender, recipients, message)] = smtp_server.messages  # one message, to the unit and lin
    assert sorted(recipients) == ["lin@xinqiao.example", "xinqiao@zhangping.example"]
    assert "林秀英" in message["Subject"] and "屋顶漏雨" in message.get_content()
    email = OutgoingEmail.objects.get()
    assert (email.key, email.status, email.attempts) == (f"helper-report:{report.pk}", OutgoingEmail.Status.SENT, 1)

    # Both staff have the notice, with the e-mail's subject; opening it leads to the report and marks it read.
    assert sorted(Notice.objects.values_list("recipient_id", flat=True)) == sorted([chen.pk, lin.pk])
    client.force_login(chen)
    inbox = client.get(reverse("notices")).content.decode()
    assert message["Subject"] in inbox and '<span class="shell-unread" aria-hidden="true">1</span>' in inbox
    notice = Notice.objects.get(recipient=chen)
    response = client.post(reverse("notice-open", args=[notice.pk]))
    assert response.url == reverse("inspections:report", args=[report.pk])
    assert client.get(response.url).status_code == 200
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_with_the_broker_down_the_report_is_saved_and_the_retry_job_mails_the_township_once(
    broker_down, caplog, smtp_server, helped, client, django_capture_on_commit_callbacks
):
    household, dwelling, helper = helped
    client.force_login(helper)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            reverse("inspections:helper-report", args=[household.pk]),
            {"dwelling": dwelling.pk, "findings": ["leaking"], "note": "屋顶漏雨"},
        )
    elapsed = time.monotonic() - started

    assert response.status_code == 302 and response.url == reverse("inspections:helper")
    assert elapsed < 5, f"the page waited {elapsed:.1f} s for the broker"
    assert len(callbacks) == 1  # deliver_email was handed to the broker after commit, and refused
    [warning] = [r.getMessage() for r in caplog.records if r.name == "housing_safety.background"]
    assert warning.startswith("Broker unreachable, housing_safety.tasks.deliver_email")
    report = HelperReport.objects.get(household=household)
    email = OutgoingEmail.objects.get()
    assert (email.key, email.status, email.attempts) == (f"helper-report:{report.pk}", OutgoingEmail.Status.PENDING, 0)
    assert smtp_server.messages == []

    # The ten-minute job (run by the worker once the broker is back) delivers it; running again sends nothing more.
    assert run_job("send_pending_mail", datetime.date(2026, 12, 1)) == "sent 1, still failing 0"
    assert run_job("send_pending_mail", datetime.date(2026, 12, 1)) == "sent 0, still failing 0"
    [(_sender, recipients, message)] = smtp_server.messages
    assert recipients == ["xinqiao@zhangping.example"] and "林秀英" in message["Subject"]
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.SENT, 1)
