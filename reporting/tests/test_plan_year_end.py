"""The year-end summary (issue 24): the plan's "11月10日前报送专项整治工作工作总结" as a document of its own."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory
from housing_safety.models import OutgoingEmail
from rectification.models import Problem
from reporting import documents, jobs, selectors, services
from reporting.models import MonthlyReport, ReportKind

pytestmark = pytest.mark.django_db
D = datetime.date
DUE = D(2027, 11, 10)


def at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))


def problem(township, description: str, found: datetime.date, fixed: datetime.date | None = None) -> Problem:
    made = Problem.objects.create(
        township=township,
        source=Problem.Source.REVISIT,
        kind=Problem.Kind.LEAKING,
        description=description,
        deadline=found + datetime.timedelta(days=30),
        responsible_person="张三",
    )
    fields = {"created_at": at(found)}
    if fixed:
        fields.update(status=Problem.Status.RESOLVED, resolved_at=at(fixed), resolution="已修缮")
    Problem.objects.filter(pk=made.pk).update(**fields)
    return made


@pytest.fixture
def year(xinqiao, shuangyang):
    village = VillageFactory(township=xinqiao)
    for registered in (D(2026, 12, 1), D(2027, 3, 1), D(2027, 6, 1)):
        DwellingFactory(household=HouseholdFactory(village=village, registered_on=registered))
    problem(xinqiao, "去年发现去年整改（演示）", D(2026, 10, 1), D(2026, 12, 1))
    problem(xinqiao, "去年发现今年整改", D(2026, 12, 15), D(2027, 2, 1))
    problem(xinqiao, "今年发现今年整改", D(2027, 4, 1), D(2027, 5, 1))
    problem(shuangyang, "今年发现尚未整改", D(2027, 8, 1))
    return selectors.year_end_summary(2027, DUE)


def test_the_summary_counts_the_year_from_january(year):
    """ "11月10日前报送专项整治工作工作总结": the year's figures run from 1 January to the day, the problems found and fixed
    this year, and what is still open, whenever it was found."""
    figures = year["figures"]
    assert (year["start"], year["day"]) == (D(2027, 1, 1), DUE)
    assert figures["households_new"] == 2  # registered on 1 March and 1 June, not last December
    assert (figures["problems_found_year"], figures["problems_fixed_year"], figures["problems_still_open"]) == (2, 2, 1)
    rows = {row["township"].name: row["problems"] for row in year["townships"]}
    assert rows["新桥镇"] == {"found": 1, "fixed": 2, "open": 0, "overdue": 0}
    assert rows["双洋镇"]["open"] == 1 and rows["双洋镇"]["overdue"] == 1


def test_the_summary_follows_the_plans_tasks_and_mechanisms(year, chinese):
    """It "summarises the year's campaign (each task and mechanism of the plan …)": 整治内容 一 to 四 and the four
    工作机制, each heading with the figures that belong to it."""
    headings = [str(heading) for heading, _figures in year["sections"]]
    for part in ("（一）按时完成", "（二）持续开展", "（三）全面完成", "（四）加快危房改造", "信息共享机制", "跟踪回访机制",
                 "动态监测机制", "举报投诉机制"):  # fmt: skip
        assert any(part in heading for heading in headings), part
    task_one = dict((str(label), value) for label, value, _kind in year["sections"][0][1])
    assert task_one["本年新增户数"] == 2


def test_the_job_of_10_november_mails_the_summary_workbook_once(year, chinese):
    """ "11月10日前报送专项整治工作工作总结": on the due day at 18:00 the summary goes to the bureau, its own workbook
    (not a November monthly report), once."""
    MonthlyReport.objects.all().delete()
    assert "close_year_end_summaries" in [job.name for job in jobs.jobs_due(DUE)]
    jobs.run_job("close_year_end_summaries", DUE)
    email = OutgoingEmail.objects.get(key="year-end-summary:2027")
    assert email.recipients == services.bureau_recipients() and "zp7832121@163.com" in email.recipients  # the bureau
    assert "工作总结" in email.subject
    assert "（一）按时完成动态新增贫困户住房安全有保障任务" in email.body
    [attachment] = email.attachments
    book = load_workbook(io.BytesIO(default_storage.open(attachment["path"]).read()))
    assert (
        book.sheetnames[:4] == ["工作总结", "按乡镇", "本年整改问题数", "尚未整改问题数"] and len(book.sheetnames) == 6
    )
    summary = [str(cell) for row in book["工作总结"].iter_rows(values_only=True) for cell in row if cell]
    assert "机制4：举报投诉机制" in summary and "本年发现问题数" in summary
    fixed = [row[3] for row in book[book.sheetnames[2]].iter_rows(min_row=2, values_only=True)]
    assert sorted(fixed) == ["今年发现今年整改", "去年发现今年整改"]
    jobs.run_job("close_year_end_summaries", DUE)
    assert OutgoingEmail.objects.filter(key__startswith="year-end-summary").count() == 1
    assert not MonthlyReport.objects.filter(kind=ReportKind.MONTHLY).exists()


@pytest.mark.parametrize(("who", "status"), [("official", 200), ("admin", 200), ("staff", 403)])
def test_the_page_is_the_bureaus_and_linked_from_the_reports_list(client, personas, who, status, chinese):
    from housing_safety.access import Role

    user = {"official": Role.BUREAU_OFFICIAL, "admin": Role.BUREAU_ADMIN, "staff": Role.TOWNSHIP_STAFF}[who]
    client.force_login(personas[user])
    year = timezone.localdate().year
    url = reverse("reporting:year-end", args=[year])
    page = client.get(url)
    assert page.status_code == status
    if status == 200:
        assert "（一）按时完成动态新增贫困户住房安全有保障任务" in page.content.decode()
        assert url in client.get(reverse("reporting:reports")).content.decode()
        workbook = client.get(reverse("reporting:year-end-xlsx", args=[year]))
        assert workbook.status_code == 200 and load_workbook(io.BytesIO(workbook.content)).sheetnames[0] == "工作总结"
        assert client.get(reverse("reporting:year-end", args=[year - 5])).status_code == 404


def test_the_workbook_is_built_by_the_projects_writer(year):
    book = load_workbook(io.BytesIO(documents.year_end_workbook(year)))
    assert len(book.sheetnames) == 6
