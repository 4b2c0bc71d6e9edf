"""The nightly retention job (reporting.jobs purge_old_files) in the beat schedule, and the export files' new
"expired" status."""

import json

from django.db import migrations, models
from django.utils import timezone

NAME = "purge_old_files"
TASK = "reporting.run_job"


def add_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    crontab, _created = CrontabSchedule.objects.get_or_create(
        minute="0", hour="3", day_of_month="*", month_of_year="*", day_of_week="*", timezone="Asia/Shanghai"
    )
    PeriodicTask.objects.update_or_create(
        name=NAME,
        defaults={
            "task": TASK,
            "crontab": crontab,
            "args": json.dumps([NAME]),
            "description": "每日 03:00：删除超过保存期限的导出文件和已读取的部门名单原文件",
        },
    )
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0004_export_files"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AlterField(
            model_name="exportfile",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Being prepared"),
                    ("ready", "Ready"),
                    ("failed", "Failed"),
                    ("expired", "Removed after the retention period"),
                ],
                default="pending",
                max_length=8,
                verbose_name="status",
            ),
        ),
        migrations.RunPython(add_schedule, remove_schedule),
    ]
