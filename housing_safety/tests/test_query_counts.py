"""Pinned query counts of the project-wide admin changelists the bureau administrator uses: the e-mail outbox, the
webhook deliveries, the role groups and the scheduled jobs (django-celery-beat's periodic tasks and crontab
schedules).

Each changelist is measured with a few rows and again with more rows than one page holds: the count is pinned
exactly and is the same for both, so a query per row (an N+1) fails the test.
"""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from households.tests.factories import make_user
from households.tests.test_query_counts import changelist_rows, measured
from housing_safety.access import Role
from housing_safety.models import OutgoingEmail, WebhookDelivery, WebhookSubscription

pytestmark = pytest.mark.django_db

_serial = itertools.count(1)


def emails(n):
    statuses = list(OutgoingEmail.Status.values)
    OutgoingEmail.objects.bulk_create(
        [
            OutgoingEmail(
                key=f"qc-{k}",
                recipients=["xinqiao@example.org"],
                subject=f"逾期事项提醒 {k}",
                body="见附件",
                status=statuses[k % len(statuses)],
                attempts=k % 3,
                last_error="SMTP 421" if k % 3 else "",
                sent_at=timezone.now() if k % 2 else None,
            )
            for k in (next(_serial) for _ in range(n))
        ]
    )


def groups(n):
    Group.objects.bulk_create([Group(name=f"工作组{next(_serial)}") for _ in range(n)])


def schedules(n):
    CrontabSchedule.objects.bulk_create(
        [CrontabSchedule(minute=str(k % 60), hour=str(k % 24)) for k in (next(_serial) for _ in range(n))]
    )


def periodic_tasks(n):
    schedules(n)
    crontabs = list(CrontabSchedule.objects.order_by("-pk")[:n])
    PeriodicTask.objects.bulk_create(
        [
            PeriodicTask(name=f"定时任务{next(_serial)}", task="reporting.tasks.daily_sweep", crontab=crontab)
            for crontab in crontabs
        ]
    )


def webhook_deliveries(n):
    subscription = WebhookSubscription.objects.first() or WebhookSubscription.objects.create(
        name="省农房系统", url="http://10.20.1.5/hooks", events=["case.moved"]
    )
    statuses = list(WebhookDelivery.Status.values)
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                subscription=subscription,
                event="case.moved",
                payload={"case_id": k},
                status=statuses[k % len(statuses)],
                attempts=k % 6,
                last_status_code=502 if k % 2 else 200,
                last_response="Bad Gateway" if k % 2 else "ok",
            )
            for k in (next(_serial) for _ in range(n))
        ]
    )


# model URL: (builder, pinned queries for the bureau administrator)
CHANGELISTS = {
    "housing_safety/outgoingemail": (emails, 7),
    "housing_safety/webhookdelivery": (webhook_deliveries, 7),
    "auth/group": (groups, 7),
    "django_celery_beat/crontabschedule": (schedules, 7),
    "django_celery_beat/periodictask": (periodic_tasks, 10),
}


@pytest.mark.parametrize("model", list(CHANGELISTS))
def test_changelist_queries_do_not_grow(client, model, django_assert_num_queries):
    grow, expected = CHANGELISTS[model]
    url = f"/admin/{model}/"
    grow(3)
    client.force_login(make_user(Role.BUREAU_ADMIN))
    few = changelist_rows(measured(client, url, expected, django_assert_num_queries))
    grow(105)
    shown, matched = changelist_rows(measured(client, url, expected, django_assert_num_queries, warm=False))
    assert few[0] < 100
    assert shown == 100 < matched
