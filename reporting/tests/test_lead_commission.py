"""The plan (五（二）): "市各专项整治参与单位每季度向牵头单位报送本专项问题线索情况，牵头单位按季度报市纪委监委". The city
discipline commission is a unit with its address in the data; while it has none, the bureau administrator's home and
the health page say so, and the quarterly job records that it could not send."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.urls import reverse

from households.models import Unit
from housing_safety.models import Notice, OutgoingEmail
from reporting.jobs import run_job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("chinese")]
D = datetime.date


def commission() -> Unit:
    return Unit.objects.get(receives_lead_report=True)


def test_the_commission_is_a_unit_created_by_migration_without_an_address():
    """ "牵头单位按季度报市纪委监委": the commission is data (漳平市纪委监委), not a setting; the bureau fills its address."""
    unit = commission()
    assert (unit.name, unit.kind, unit.email, unit.reports_monthly) == ("漳平市纪委监委", "discipline", "", False)
    unit.reports_monthly = True
    with pytest.raises(ValidationError):
        unit.full_clean()
    second = Unit(name="另一个纪委", kind=Unit.Kind.DISCIPLINE, reports_monthly=False, receives_lead_report=True)
    with pytest.raises(ValidationError):
        second.full_clean()


def test_without_an_address_the_job_records_that_it_could_not_send(admin, django_capture_on_commit_callbacks):
    """ "牵头单位按季度报市纪委监委": the bureau's copy goes; the commission's is recorded as not sent, with the reason,
    and the bureau is told."""
    admin.email = "admin@zhangping.example"
    admin.save()
    with django_capture_on_commit_callbacks(execute=True):
        run_job("quarterly_lead_report", D(2027, 4, 1))
    with django_capture_on_commit_callbacks(execute=True):
        run_job("quarterly_lead_report", D(2027, 4, 1))  # once per quarter
    failed = OutgoingEmail.objects.get(key="leads:2027-Q1:commission")
    assert failed.status == OutgoingEmail.Status.GAVE_UP and failed.recipients == []
    assert "漳平市纪委监委" in failed.last_error and "没有" in failed.last_error
    assert all("jiwei" not in address for message in mail.outbox for address in message.to)
    [notice] = Notice.objects.filter(key="leads:2027-Q1:commission", recipient=admin)
    assert notice.url == reverse("admin:households_unit_change", args=[commission().pk])


def test_with_its_address_the_report_reaches_the_commission(django_capture_on_commit_callbacks):
    """ "牵头单位按季度报市纪委监委": once the bureau enters the address, the quarterly report goes there."""
    Unit.objects.filter(receives_lead_report=True).update(email="jiwei@zhangping.example")
    with django_capture_on_commit_callbacks(execute=True):
        run_job("quarterly_lead_report", D(2027, 7, 1))
    [message] = mail.outbox
    assert "jiwei@zhangping.example" in message.to
    assert not OutgoingEmail.objects.filter(key__endswith=":commission").exists()


def test_the_admins_home_and_the_health_page_say_the_address_is_missing(client, admin):
    """ "牵头单位按季度报市纪委监委": while the commission has no address, the administrator's home and /healthz say so."""
    client.force_login(admin)
    home = client.get(reverse("home")).content.decode()
    assert "纪委监委没有邮箱地址" in home
    assert reverse("admin:households_unit_change", args=[commission().pk]) in home
    health = client.get("/healthz").json()
    assert health["status"] == "degraded" and health["lead_report_recipient"] == "no address"
    Unit.objects.filter(receives_lead_report=True).update(email="jiwei@zhangping.example")
    cache.clear()  # /healthz reads it cached for five minutes
    assert "纪委监委没有邮箱地址" not in client.get(reverse("home")).content.decode()
    assert "lead_report_recipient" not in client.get("/healthz").json()
