"""Scheduled jobs: which dates run which job, the beat schedule stored by migration 0002, the run_jobs command, the
Celery task, and that every job run twice for the same date sends one e-mail and leaves one report."""

from __future__ import annotations

import datetime
import io
import json
from collections import Counter

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django_celery_beat.models import PeriodicTask
from openpyxl import load_workbook

from households.models import Unit
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory
from housing_safety.models import OutgoingEmail
from reporting import services
from reporting.jobs import JOBS, JOBS_BY_NAME, jobs_due, run_job
from reporting.models import ConsolidatedReport, MonthlyReport, OverdueItem, ReportKind, ReportStatus
from reporting.tasks import run_job as run_job_task

D = datetime.date
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DAILY = {"deadline_sweep", "send_pending_mail", "purge_old_files", "refresh_figures", "check_figures"}
QUARTER_START = DAILY | {"open_monthly_reports", "quarterly_revisits", "quarterly_lead_report"}


def names(day: datetime.date) -> set[str]:
    return {job.name for job in jobs_due(day)}


# Which dates run which jobs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2027, 1, 1), QUARTER_START),
        (D(2027, 1, 2), DAILY),
        (D(2027, 1, 20), DAILY | {"monthly_report_reminders"}),
        (D(2027, 1, 23), DAILY | {"close_monthly_reports"}),
        (D(2026, 11, 1), DAILY | {"open_monthly_reports", "year_end_summaries"}),
        (D(2026, 11, 10), DAILY | {"close_year_end_summaries"}),
        (D(2026, 11, 23), DAILY | {"close_monthly_reports"}),
        (D(2027, 2, 28), DAILY),
        (D(2028, 2, 29), DAILY),
        (D(2027, 3, 31), DAILY),
        (D(2027, 4, 1), QUARTER_START),
        (D(2027, 7, 1), QUARTER_START),
        (D(2027, 10, 1), QUARTER_START),
        (D(2027, 2, 1), DAILY | {"open_monthly_reports"}),
        (D(2027, 11, 1), DAILY | {"open_monthly_reports", "year_end_summaries"}),
    ],
)
def test_jobs_due_on_a_date(day, expected):
    assert names(day) == expected


def test_the_23rd_closes_the_month_even_on_a_saturday():
    saturday = D(2027, 1, 23)
    assert saturday.weekday() == 5
    assert "close_monthly_reports" in names(saturday)
    assert "close_monthly_reports" not in names(D(2027, 1, 22)) | names(D(2027, 1, 25))


def test_only_names_one_job_whatever_the_date():
    assert [job.name for job in jobs_due(D(2027, 3, 31), only="quarterly_lead_report")] == ["quarterly_lead_report"]


# The beat schedule ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_beat_schedule_has_one_enabled_entry_per_job():
    tasks = PeriodicTask.objects.filter(task="reporting.run_job").select_related("crontab")
    assert sorted(task.name for task in tasks) == sorted(job.name for job in JOBS)
    for task in tasks:
        job = JOBS_BY_NAME[task.name]
        assert task.enabled, task.name
        assert json.loads(task.args) == [job.name]
        assert task.crontab is not None and task.interval is None
        assert str(task.crontab.timezone) == "Asia/Shanghai"
        stored = {field: getattr(task.crontab, field) for field in job.crontab}
        assert stored == job.crontab, task.name
        assert task.crontab.day_of_week == "*"


@pytest.mark.django_db
def test_every_job_is_due_exactly_on_the_days_of_its_crontab():
    days = [D(2027, 1, 1) + datetime.timedelta(days=n) for n in range(365)]
    assert days[-1] == D(2027, 12, 31)
    checked = 0
    for task in PeriodicTask.objects.filter(task="reporting.run_job").select_related("crontab"):
        job = JOBS_BY_NAME[task.name]
        schedule = task.crontab.schedule
        for day in days:
            on_crontab = day.day in schedule.day_of_month and day.month in schedule.month_of_year
            assert job.is_due(day) == on_crontab, (task.name, day)
            checked += 1
    assert checked == 365 * len(JOBS)


# The command and the task --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_run_jobs_runs_what_the_date_would_run():
    out = io.StringIO()
    call_command("run_jobs", "--date", "2027-01-23", stdout=out)
    output = out.getvalue()
    assert "2027-01-23 close_monthly_reports:" in output
    assert "2027-01-23 deadline_sweep:" in output and "2027-01-23 send_pending_mail:" in output
    assert "open_monthly_reports" not in output and "monthly_report_reminders" not in output
    assert ConsolidatedReport.objects.get().period == D(2027, 1, 1)


@pytest.mark.django_db
def test_run_jobs_only_runs_that_one_job():
    out = io.StringIO()
    call_command("run_jobs", "--date", "2027-01-23", "--only", "deadline_sweep", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("2027-01-23 deadline_sweep:")
    assert not ConsolidatedReport.objects.exists()


@pytest.mark.django_db
def test_run_jobs_refuses_an_unknown_job():
    with pytest.raises(CommandError, match="no_such_job"):
        call_command("run_jobs", "--date", "2027-01-23", "--only", "no_such_job", stdout=io.StringIO())
    assert not ConsolidatedReport.objects.exists() and not OverdueItem.objects.exists()


@pytest.mark.django_db
def test_the_celery_task_runs_the_job_for_the_given_date(xinqiao):
    household = HouseholdFactory(village=VillageFactory(township=xinqiao), registered_on=D(2026, 10, 1))
    DwellingFactory(household=household)
    result = run_job_task.delay("deadline_sweep", "2027-01-05").get()
    item = OverdueItem.objects.get()
    assert (item.object_id, item.first_seen_on, item.kind) == (household.pk, D(2027, 1, 5), "appraisal")
    assert "appraisal 1" in result


# Idempotency ---------------------------------------------------------------------------------------------------


@pytest.fixture
def official_with_mail(official):
    official.email = "lin@zpjsj.example"
    official.save()
    return official


@pytest.mark.django_db
def test_closing_the_month_twice_builds_and_mails_one_consolidated_report(
    official_with_mail, django_capture_on_commit_callbacks
):
    services.open_reports(kind=ReportKind.MONTHLY, day=D(2027, 1, 1))
    with django_capture_on_commit_callbacks(execute=True):
        first = run_job("close_monthly_reports", D(2027, 1, 23))
    with django_capture_on_commit_callbacks(execute=True):
        second = run_job("close_monthly_reports", D(2027, 1, 23))
    assert "已生成并发送" in first and "此前已发送" in second
    report = ConsolidatedReport.objects.get()
    email = OutgoingEmail.objects.get()
    assert report.period == D(2027, 1, 1) and report.email == email
    assert email.key == "consolidated:2027-01" and email.status == OutgoingEmail.Status.SENT
    [message] = mail.outbox
    assert "lin@zpjsj.example" in message.to
    assert Unit.objects.get(kind=Unit.Kind.BUREAU).email in message.to
    assert "2027-01" in message.subject
    files = [item for item in message.attachments if isinstance(item, tuple)]
    assert [(name, mimetype) for name, _content, mimetype in files] == [("住房安全汇总月报-2027-01.xlsx", XLSX)]
    assert load_workbook(io.BytesIO(files[0][1])).sheetnames == ["乡镇汇总", "单位报送情况", "逾期清单"]
    parts = list(message.message().walk())
    [chart] = [part for part in parts if part.get("Content-ID") == "<chart>"]
    assert chart.get_content_type() == "image/png"
    [html] = [part for part in parts if part.get_content_type() == "text/html"]
    assert "cid:chart" in html.get_payload(decode=True).decode()
    assert not MonthlyReport.objects.filter(status=ReportStatus.OPEN).exists()  # all marked late


@pytest.mark.django_db
def test_opening_the_reports_twice_leaves_one_per_active_unit(poverty_office):
    poverty_office.is_active = False
    poverty_office.save()
    assert run_job("open_monthly_reports", D(2027, 1, 1)) != "opened 0"
    assert run_job("open_monthly_reports", D(2027, 1, 1)) == "opened 0"
    # Issue 24: only the plan's responsible units report; the bureau receives the reports and files none.
    reporting = Unit.objects.filter(is_active=True, reports_monthly=True).exclude(kind=Unit.Kind.BUREAU)
    active = set(reporting.values_list("pk", flat=True))
    per_unit = Counter(MonthlyReport.objects.values_list("unit_id", flat=True))
    assert set(per_unit) == active and set(per_unit.values()) == {1}
    assert poverty_office.pk not in per_unit
    assert Unit.objects.get(kind=Unit.Kind.BUREAU).pk not in per_unit
    assert not Unit.objects.filter(pk__in=per_unit, reports_monthly=False).exists()
    assert set(MonthlyReport.objects.values_list("period", "due_on", "kind")) == {
        (D(2027, 1, 1), D(2027, 1, 23), ReportKind.MONTHLY)
    }


@pytest.mark.django_db
def test_reminders_twice_send_one_email_per_unsubmitted_unit(
    staff, xinqiao, shuangyang, django_capture_on_commit_callbacks
):
    Unit.objects.filter(township=xinqiao).update(email="xinqiao@zhangping.example")
    Unit.objects.filter(township=shuangyang).update(email="shuangyang@zhangping.example")
    services.open_reports(kind=ReportKind.MONTHLY, day=D(2027, 1, 1))
    own = MonthlyReport.objects.get(unit__township=xinqiao)
    services.save_report(actor=staff, report=own, progress="完成排查", problems_handled="无", submit=True)
    with django_capture_on_commit_callbacks(execute=True):
        run_job("monthly_report_reminders", D(2027, 1, 20))
    with django_capture_on_commit_callbacks(execute=True):
        run_job("monthly_report_reminders", D(2027, 1, 20))
    sent = Counter(tuple(message.to) for message in mail.outbox)
    # Issue 24: the bureau files no report, so it gets no reminder of its own (its address has one all the same).
    bureau = Unit.objects.get(kind=Unit.Kind.BUREAU).email
    assert bureau
    assert sent == {("shuangyang@zhangping.example",): 1}
    assert OutgoingEmail.objects.filter(key__startswith="reminder:monthly:2027-01:").count() == 1
    [to_shuangyang] = [m for m in mail.outbox if m.to == ["shuangyang@zhangping.example"]]
    assert "2027-01-23" in to_shuangyang.subject and "双洋镇" in to_shuangyang.body


@pytest.fixture
def leads(admin, poverty_office, xinqiao):
    from rectification.models import LeadTransfer

    township_unit = Unit.objects.get(township=xinqiao)
    made = {}
    for key, sent_on in (("q1", D(2027, 2, 10)), ("q4", D(2026, 12, 20))):
        made[key] = LeadTransfer.objects.create(
            direction=LeadTransfer.Direction.OUTGOING,
            from_unit=township_unit,
            to_unit=poverty_office,
            subject=f"线索{key}：低保户住房安全待核实",
            sent_on=sent_on,
            created_by=admin,
        )
    return made


@pytest.mark.django_db
def test_the_quarterly_lead_report_goes_out_once_with_the_quarters_workbook(
    settings, leads, django_capture_on_commit_callbacks
):
    Unit.objects.filter(receives_lead_report=True).update(email="jiwei@zhangping.example")
    with django_capture_on_commit_callbacks(execute=True):
        run_job("quarterly_lead_report", D(2027, 4, 1))
    with django_capture_on_commit_callbacks(execute=True):
        run_job("quarterly_lead_report", D(2027, 4, 1))
    [message] = mail.outbox
    assert "jiwei@zhangping.example" in message.to
    assert Unit.objects.get(kind=Unit.Kind.BUREAU).email in message.to
    assert OutgoingEmail.objects.get().key == "leads:2027-Q1"
    [(filename, content, mimetype)] = message.attachments
    assert filename == "线索移送季报-2027年第1季度.xlsx" and mimetype.endswith("spreadsheetml.sheet")
    workbook = load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == ["汇总", "线索明细"]
    assert workbook["汇总"]["A1"].value.startswith("2027年第1季度线索移送情况（2027-01-01至2027-03-31）")
    subjects = {row[4] for row in workbook["线索明细"].iter_rows(min_row=2, values_only=True)}
    assert subjects == {leads["q1"].subject}


@pytest.mark.django_db
def test_the_january_lead_report_covers_the_last_quarter_of_the_year_before(
    settings, leads, django_capture_on_commit_callbacks
):
    Unit.objects.filter(receives_lead_report=True).update(email="jiwei@zhangping.example")
    with django_capture_on_commit_callbacks(execute=True):
        run_job("quarterly_lead_report", D(2027, 1, 1))
    [message] = mail.outbox
    assert OutgoingEmail.objects.get().key == "leads:2026-Q4"
    [(filename, content, _mimetype)] = message.attachments
    assert filename == "线索移送季报-2026年第4季度.xlsx"
    subjects = {row[4] for row in load_workbook(io.BytesIO(content))["线索明细"].iter_rows(min_row=2, values_only=True)}
    assert subjects == {leads["q4"].subject}


@pytest.mark.django_db
def test_year_end_summaries_open_once_and_remind_once(xinqiao, django_capture_on_commit_callbacks):
    Unit.objects.filter(township=xinqiao).update(email="xinqiao@zhangping.example")
    with django_capture_on_commit_callbacks(execute=True):
        run_job("year_end_summaries", D(2027, 11, 1))
    with django_capture_on_commit_callbacks(execute=True):
        assert run_job("year_end_summaries", D(2027, 11, 1)).startswith("opened 0")
    summaries = MonthlyReport.objects.filter(kind=ReportKind.YEAR_END)
    assert summaries.count() == Unit.objects.filter(is_active=True, reports_monthly=True).count()  # not the bureau
    assert set(summaries.values_list("period", "due_on")) == {(D(2027, 11, 1), D(2027, 11, 10))}
    sent = Counter(tuple(message.to) for message in mail.outbox)
    assert sent[("xinqiao@zhangping.example",)] == 1 and set(sent.values()) == {1}
    closed = run_job("close_year_end_summaries", D(2027, 11, 10))  # and the city's summary goes out (issue 24)
    assert closed == f"marked late {summaries.count()}; year-end summary year-end-summary:2027"
    assert set(summaries.values_list("status", flat=True)) == {ReportStatus.LATE}


@pytest.mark.django_db
def test_send_pending_mail_delivers_what_the_broker_never_took():
    from housing_safety.mail import queue_email

    queue_email(key="test:pending", to=["a@zhangping.example"], subject="待发", body="正文")  # on_commit never runs
    assert OutgoingEmail.objects.get().status == OutgoingEmail.Status.PENDING and mail.outbox == []
    assert run_job("send_pending_mail", D(2027, 1, 5)) == "sent 1, still failing 0"
    assert run_job("send_pending_mail", D(2027, 1, 5)) == "sent 0, still failing 0"
    assert OutgoingEmail.objects.get().status == OutgoingEmail.Status.SENT
    assert [message.subject for message in mail.outbox] == ["待发"]


def test_the_job_schedules_follow_the_configured_due_dates():
    import importlib

    from django.test import override_settings

    import reporting.jobs

    try:
        with override_settings(YEAR_END_SUMMARY_DUE="11-15", REPORT_DUE_DAY=25):
            reloaded = importlib.reload(reporting.jobs)
            mismatches = []
            for job in reloaded.JOBS:
                for day in (D(2027, 1, 1) + datetime.timedelta(days=n) for n in range(365)):
                    days, months = job.crontab["day_of_month"], job.crontab["month_of_year"]
                    on_crontab = (days == "*" or str(day.day) in days.split(",")) and (
                        months == "*" or str(day.month) in months.split(",")
                    )
                    if job.is_due(day) != on_crontab:
                        mismatches.append((job.name, day))
            assert mismatches == []
    finally:
        importlib.reload(reporting.jobs)
