"""Webhooks (housing_safety.webhooks): the subscriptions, their deliveries, and the beat's every-minute sweep of the
deliveries due for another attempt."""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

import housing_safety.dates
import housing_safety.models

NAME = "deliver_webhooks"
TASK = "housing_safety.tasks.deliver_due_webhooks"


def add_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    crontab, _created = CrontabSchedule.objects.get_or_create(
        minute="*", hour="*", day_of_month="*", month_of_year="*", day_of_week="*", timezone="Asia/Shanghai"
    )
    PeriodicTask.objects.update_or_create(
        name=NAME,
        defaults={"task": TASK, "crontab": crontab, "args": "[]", "description": "每分钟：重发到期的 Webhook 推送"},
    )
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("housing_safety", "0011_print_jobs"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.CreateModel(
            name="WebhookSubscription",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=100, verbose_name="name")),
                (
                    "url",
                    models.URLField(
                        help_text="The receiving system's address on the bureau's intranet (http:// or https://).",
                        max_length=500,
                        validators=[housing_safety.models.check_webhook_url],
                        verbose_name="URL",
                    ),
                ),
                (
                    "events",
                    models.JSONField(
                        default=list, validators=[housing_safety.models.check_webhook_events], verbose_name="events"
                    ),
                ),
                (
                    "secret",
                    models.CharField(
                        default=housing_safety.models.new_webhook_secret,
                        editable=False,
                        max_length=64,
                        verbose_name="signing secret",
                    ),
                ),
                ("is_active", models.BooleanField(default=True, verbose_name="active")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                (
                    "created_by",
                    models.ForeignKey(
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="created by",
                    ),
                ),
            ],
            options={
                "verbose_name": "webhook subscription",
                "verbose_name_plural": "webhook subscriptions",
                "ordering": ["name"],
            },
        ),
        migrations.CreateModel(
            name="WebhookDelivery",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("event", models.CharField(max_length=40, verbose_name="event")),
                ("event_id", models.UUIDField(default=uuid.uuid4, verbose_name="event id")),
                ("payload", models.JSONField(default=dict, verbose_name="payload")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Waiting to be delivered"),
                            ("delivered", "Delivered"),
                            ("retrying", "Failed, will be retried"),
                            ("gave_up", "Failed, no more retries"),
                        ],
                        default="pending",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                ("attempts", models.PositiveSmallIntegerField(default=0, verbose_name="attempts")),
                (
                    "next_attempt_at",
                    models.DateTimeField(
                        blank=True,
                        null=True,
                        validators=[housing_safety.dates.PlausibleDate("due")],
                        verbose_name="next attempt at",
                    ),
                ),
                (
                    "last_attempt_at",
                    models.DateTimeField(
                        blank=True,
                        null=True,
                        validators=[housing_safety.dates.PlausibleDate("event")],
                        verbose_name="last attempt at",
                    ),
                ),
                (
                    "last_status_code",
                    models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="last answer's status code"),
                ),
                ("last_response", models.TextField(blank=True, verbose_name="last answer")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                (
                    "delivered_at",
                    models.DateTimeField(
                        blank=True,
                        null=True,
                        validators=[housing_safety.dates.PlausibleDate("event")],
                        verbose_name="delivered at",
                    ),
                ),
                (
                    "subscription",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="deliveries",
                        to="housing_safety.webhooksubscription",
                        verbose_name="subscription",
                    ),
                ),
            ],
            options={
                "verbose_name": "webhook delivery",
                "verbose_name_plural": "webhook deliveries",
                "ordering": ["-created_at", "-pk"],
                "indexes": [models.Index(fields=["status", "next_attempt_at"], name="webhookdelivery_due_idx")],
                "constraints": [
                    models.UniqueConstraint(fields=("subscription", "event_id"), name="webhookdelivery_once_per_event")
                ],
            },
        ),
        migrations.RunPython(add_schedule, remove_schedule),
    ]
