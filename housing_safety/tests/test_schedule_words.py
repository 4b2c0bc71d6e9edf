"""The schedules in words (housing_safety.schedules): the admin describes each crontab in Chinese rather than through
cron-descriptor's English; the project's own schedules read as the bureau says them."""

from __future__ import annotations

import pytest
from django.utils.translation import override
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from households.tests.factories import make_user
from housing_safety.access import Role
from housing_safety.schedules import describe


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        # The project's schedules (reporting migrations 0002 and 0005).
        (("0", "8"), "每日 08:00"),
        (("10", "0", "1"), "每月 1 日 00:10"),
        (("0", "18", "23"), "每月 23 日 18:00"),
        (("30", "1", "1", "1,4,7,10"), "每季度首月 1 日 01:30"),
        (("0", "9", "1", "11"), "每年 11 月 1 日 09:00"),
        (("*/10",), "每 10 分钟"),
        (("0", "3"), "每日 03:00"),
        # Generic cases.
        ((), "每分钟"),
        (("0", "*"), "每小时整点"),
        (("15", "*"), "每小时第 15 分"),
        (("0", "*/6"), "每 6 小时的第 0 分"),
        (("0,30", "8,12"), "每日 08:00、08:30、12:00、12:30"),
        (("0", "9", "*", "*", "mon-fri"), "每周一至周五 09:00"),
        (("0", "9", "*", "*", "1,3"), "每周一、周三 09:00"),
        (("0", "9", "*", "*", "0"), "每周日 09:00"),
        (("0", "9", "1-5"), "每月 1至5 日 09:00"),
        (("0", "9", "1,15"), "每月 1、15 日 09:00"),
        (("0", "9", "1", "3-5"), "每年 3至5 月 1 日 09:00"),
        (("*/10", "*", "1"), "每月 1 日，每 10 分钟"),
        (("0", "8-18/2"), "每日 08:00、10:00、12:00、14:00、16:00、18:00"),
        (("5,20,35,50", "8-11"), "8至11 时的第 5、20、35、50 分"),
    ],
)
def test_a_crontab_reads_in_chinese(fields, words):
    with override("zh-hans"):
        assert describe(*fields) == words


def test_a_time_zone_other_than_beijing_is_named():
    with override("zh-hans"):
        assert describe("0", "8", timezone="UTC") == "每日 08:00（时区：UTC）"


@pytest.mark.parametrize("minute", ["-1", "61", "abc"])
def test_a_field_celery_refuses_is_shown_as_typed(minute):
    with override("zh-hans"):
        assert describe(minute, "8") == f"分 {minute}，时 8，日 *，月 *，星期 *（按原样显示）"


def test_english_reads_in_english():
    with override("en"):
        assert describe("0", "18", "23") == "day 23 of every month 18:00"


@pytest.mark.django_db
def test_the_admin_shows_the_schedules_in_chinese(client):
    """The lists of schedules and tasks and a task's page: no cron-descriptor English, no untranslated label."""
    client.force_login(make_user(Role.BUREAU_ADMIN))
    task = PeriodicTask.objects.filter(crontab__isnull=False).order_by("pk").first()
    crontab = task.crontab
    pages = [
        "/admin/django_celery_beat/crontabschedule/",
        f"/admin/django_celery_beat/crontabschedule/{crontab.pk}/change/",
        "/admin/django_celery_beat/periodictask/",
        f"/admin/django_celery_beat/periodictask/{task.pk}/change/",
    ]
    for url in pages:
        html = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        for english in ("Every ", "At ", "Task Name", "Crontab translation", "(m/h/dM/MY/d)", "Scheduler"):
            assert english not in html, (url, english)
    listing = client.get("/admin/django_celery_beat/crontabschedule/").content.decode()
    assert "每日 08:00" in listing
    assert str(CrontabSchedule.objects.get(minute="0", hour="18", day_of_month="23")) == "每月 23 日 18:00"
