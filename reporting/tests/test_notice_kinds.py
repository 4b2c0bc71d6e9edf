"""The reminders before the 23rd and the leads still without a receipt reach the inbox of each person responsible,
with a link to the item, and the e-mail (over SMTP) where an address exists; a lead of a unit nobody can receive
for stays unannounced until someone can."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from households.models import Unit
from households.tests.factories import make_user
from housing_safety.access import Role
from housing_safety.models import Notice, OutgoingEmail
from rectification.models import LeadTransfer
from reporting import services
from reporting.models import MonthlyReport, OverdueItem, ReportKind

pytestmark = pytest.mark.django_db
D = datetime.date


def test_the_reminder_before_the_23rd_reaches_each_township_person_and_links_to_the_report(
    smtp_server, staff, xinqiao, client, django_capture_on_commit_callbacks
):
    colleague = make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao])
    colleague.email = "lin@xinqiao.example"
    colleague.save()
    services.open_reports(kind=ReportKind.MONTHLY, day=D(2027, 1, 1))
    report = MonthlyReport.objects.get(unit__township=xinqiao)
    with django_capture_on_commit_callbacks(execute=True):
        services.remind_units(kind=ReportKind.MONTHLY, day=D(2027, 1, 20))
    mine = Notice.objects.filter(recipient__in=[staff, colleague])
    assert sorted(mine.values_list("recipient_id", flat=True)) == sorted([staff.pk, colleague.pk])
    notice = mine.get(recipient=staff)
    assert "2027-01-23" in notice.title and notice.url == report.get_absolute_url()
    sent = {tuple(recipients): message for _sender, recipients, message in smtp_server.messages}
    assert "2027-01-23" in sent[("lin@xinqiao.example",)]["Subject"]  # the township's unit has no address
    client.force_login(staff)
    response = client.post(reverse("notice-open", args=[notice.pk]))
    assert response.url == report.get_absolute_url() and client.get(response.url).status_code == 200


SENT = D(2027, 1, 20)


def _late_lead(from_unit, to_unit, admin, sent_on=SENT) -> LeadTransfer:
    return LeadTransfer.objects.create(
        direction=LeadTransfer.Direction.OUTGOING,
        from_unit=from_unit,
        to_unit=to_unit,
        subject="低保户住房待核实",
        sent_on=sent_on,
        created_by=admin,
    )


def test_a_lead_without_receipt_reaches_the_sending_departments_liaison(
    smtp_server, client, personas, poverty_office, xinqiao, admin, django_capture_on_commit_callbacks
):
    liaison = personas[Role.DEPARTMENT_LIAISON]
    liaison.email = "fupin.lianluo@zhangping.example"
    liaison.save()
    today = timezone.localdate()  # the list the notice links to counts from today
    _late_lead(poverty_office, Unit.objects.get(township=xinqiao), admin, sent_on=today - datetime.timedelta(days=20))
    with django_capture_on_commit_callbacks(execute=True):
        services.sweep_deadlines(day=today)
    item = OverdueItem.objects.get(kind="lead")
    assert item.announced
    [notice] = Notice.objects.filter(recipient=liaison)
    assert notice.title.endswith("新增逾期事项 1 项")
    assert notice.url == reverse("rectification:leads") + "?show=unreceipted"  # the item's list, in their scope
    client.force_login(liaison)
    listed = client.get(notice.url)
    assert listed.status_code == 200 and "低保户住房待核实" in listed.content.decode()
    [message] = [message for _s, recipients, message in smtp_server.messages if liaison.email in recipients]
    assert "低保户住房待核实" in message.get_content()


def test_a_lead_of_a_unit_nobody_can_receive_for_is_not_marked_announced(
    admin, xinqiao, django_capture_on_commit_callbacks
):
    civil_affairs = Unit.objects.get(name="漳平市民政局")  # no address, no liaison
    assert civil_affairs.email == ""
    _late_lead(civil_affairs, Unit.objects.get(township=xinqiao), admin)
    with django_capture_on_commit_callbacks(execute=True):
        services.sweep_deadlines(day=D(2027, 2, 1))
    item = OverdueItem.objects.get(kind="lead")
    assert item.unit == civil_affairs and not item.announced
    assert not OutgoingEmail.objects.filter(key__startswith="overdue:").exists()
    assert not Notice.objects.filter(key__startswith="overdue:").exists()

    liaison = make_user(Role.DEPARTMENT_LIAISON, unit=civil_affairs)  # someone who can receive it: the next sweep
    with django_capture_on_commit_callbacks(execute=True):
        services.sweep_deadlines(day=D(2027, 2, 2))
    item.refresh_from_db()
    assert item.announced and Notice.objects.filter(recipient=liaison, key__startswith="overdue:").count() == 1
