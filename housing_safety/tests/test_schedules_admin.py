"""django-celery-beat's schedule forms in the admin answer what its own code raised on as form errors (found by
test_fuzz.py): a task name the field refuses, empty headers, a crontab field celery cannot parse, a tampered
initial time zone."""

from __future__ import annotations

import pytest
from django.utils.translation import override
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from households.tests.factories import make_user
from housing_safety.access import Role

from .fuzzing import forms_of

pytestmark = pytest.mark.django_db


def page_form(client, url: str) -> dict[str, list[str]]:
    """The page's form as the browser submits it."""
    form = max(
        (f for f in forms_of(client.get(url).content.decode()) if f.method == "post"), key=lambda f: len(f.fields)
    )
    body: dict[str, list[str]] = {}
    for name, value in form.data:
        body.setdefault(name, []).append(value)
    return body


@pytest.fixture
def admin_client(client):
    client.force_login(make_user(Role.BUREAU_ADMIN))
    return client


@pytest.fixture
def periodic_task():
    return PeriodicTask.objects.order_by("pk").first()  # the migrations' schedules


@pytest.mark.parametrize("task", ["a\x00b", "任" * 201])
def test_a_task_name_the_field_refuses_is_its_form_error(admin_client, periodic_task, task):
    url = f"/admin/django_celery_beat/periodictask/{periodic_task.pk}/change/"
    body = {**page_form(admin_client, url), "task": [task], "regtask": [""]}

    response = admin_client.post(url, body)

    assert response.status_code == 200
    assert "task" in response.context["adminform"].form.errors
    assert PeriodicTask.objects.get(pk=periodic_task.pk).task == periodic_task.task


def test_a_registered_task_with_nul_is_its_form_error(admin_client, periodic_task):
    """The registered-task choice takes any name (a worker may know more tasks); PostgreSQL stores no NUL."""
    url = f"/admin/django_celery_beat/periodictask/{periodic_task.pk}/change/"
    body = {**page_form(admin_client, url), "regtask": ["reporting.run_job\x00"]}

    response = admin_client.post(url, body)

    assert response.status_code == 200
    assert "regtask" in response.context["adminform"].form.errors
    assert PeriodicTask.objects.get(pk=periodic_task.pk).task == periodic_task.task


@pytest.mark.parametrize("headers", ["", "   "])
def test_empty_headers_are_no_headers(admin_client, periodic_task, headers):
    url = f"/admin/django_celery_beat/periodictask/{periodic_task.pk}/change/"
    body = {**page_form(admin_client, url), "headers": [headers]}

    response = admin_client.post(url, body)

    assert response.status_code == 302
    assert PeriodicTask.objects.get(pk=periodic_task.pk).headers == "{}"


@pytest.mark.parametrize("field", ["minute", "hour", "day_of_month", "month_of_year", "day_of_week"])
def test_a_crontab_field_celery_cannot_parse_is_its_form_error(admin_client, field):
    url = "/admin/django_celery_beat/crontabschedule/add/"
    body = {**page_form(admin_client, url), field: ["-1"]}
    before = CrontabSchedule.objects.count()

    with override("zh-hans"):
        response = admin_client.post(url, body)

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert CrontabSchedule.objects.count() == before


def test_a_tampered_initial_time_zone_is_not_read(admin_client):
    url = "/admin/django_celery_beat/crontabschedule/add/"
    body = {**page_form(admin_client, url), "minute": ["5"], "initial-timezone": ["危" * 10_000]}
    before = CrontabSchedule.objects.count()

    response = admin_client.post(url, body)

    assert response.status_code == 302  # a valid schedule: saved (the control of the refusals above)
    assert CrontabSchedule.objects.count() == before + 1
