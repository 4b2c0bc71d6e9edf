"""The beat schedule (django-celery-beat), Asia/Shanghai. The bureau may change times in the admin; a test pins
these entries to reporting.jobs.JOBS so the two cannot drift apart."""

import json

from django.db import migrations
from django.utils import timezone

# name, minute, hour, day of month, month of year, description
SCHEDULE = [
    ("deadline_sweep", "0", "8", "*", "*", "每日 08:00 逾期清扫：更新逾期清单，邮件通知各单位新逾期事项"),
    ("open_monthly_reports", "10", "0", "1", "*", "每月1日：为各单位开启本月月报（数据自动填入）"),
    ("monthly_report_reminders", "0", "9", "20", "*", "每月20日：提醒未报送单位"),
    ("close_monthly_reports", "0", "18", "23", "*", "每月23日 18:00：标记逾期未报，生成并邮件发送汇总月报"),
    ("quarterly_revisits", "30", "1", "1", "1,4,7,10", "每季度首日：季度回访"),
    ("quarterly_lead_report", "0", "9", "1", "1,4,7,10", "每季度首日：上季度线索移送报告"),
    ("year_end_summaries", "0", "9", "1", "11", "11月1日：开启年度工作总结并提醒（11月10日前报送）"),
    ("close_year_end_summaries", "0", "18", "10", "11", "11月10日 18:00：标记逾期未报的工作总结"),
    ("send_pending_mail", "*/10", "*", "*", "*", "每10分钟：重发未发出的邮件"),
]
TASK = "reporting.run_job"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    for name, minute, hour, day_of_month, month_of_year, description in SCHEDULE:
        crontab, _created = CrontabSchedule.objects.get_or_create(
            minute=minute,
            hour=hour,
            day_of_month=day_of_month,
            month_of_year=month_of_year,
            day_of_week="*",
            timezone="Asia/Shanghai",
        )
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={"task": TASK, "crontab": crontab, "args": json.dumps([name]), "description": description},
        )
    # Tell a running beat that the schedule changed (what PeriodicTask.save() does outside migrations).
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(task=TASK, name__in=[row[0] for row in SCHEDULE]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0001_unit_reports_consolidated_overdue"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
