"""The consolidated monthly report, end to end: the 23rd's job builds it and it reaches the bureau over real SMTP
(aiosmtpd), with the workbook attached and the chart shown inline; the workbook's figures are the dashboard's."""

from __future__ import annotations

import datetime
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from households.models import Unit
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory
from housing_safety.access import SYSTEM
from housing_safety.models import OutgoingEmail
from inspections.models import Placard
from inspections.tests.factories import AppraisalFactory
from reporting import selectors, services
from reporting.jobs import run_job
from reporting.models import ConsolidatedReport, MonthlyReport, ReportStatus

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 11, 23)
REGISTERED = datetime.date(2025, 5, 1)
PROGRESS = "本月完成东坑村危房鉴定三户，启动一户拆除重建。"
PROBLEMS = "一户未按期鉴定，已督促鉴定组下周入户。"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _appraised(village, grade: str, **components):
    household = HouseholdFactory(village=village, registered_on=REGISTERED)
    appraisal = AppraisalFactory(dwelling=DwellingFactory(household=household), grade=grade, **components)
    return household, appraisal


@pytest.fixture
def world(xinqiao, shuangyang, official, staff):
    """新桥镇: grades A, B, D and one household overdue for appraisal; 双洋镇: grades B, C and one household registered
    too recently to be overdue. The bureau official has an address; 新桥镇's unit has submitted its report."""
    dongkeng = VillageFactory(township=xinqiao, name="东坑村")
    xishan = VillageFactory(township=shuangyang, name="西山村")
    safe_household, safe_appraisal = _appraised(
        dongkeng, "A", foundation="a", load_bearing_walls="a", timber_frame="a", roof_truss="a", floor_roof_slab="a"
    )
    Placard.objects.create(
        household=safe_household,
        serial="ZP-0001",
        status="appraised_safe",
        appraisal=safe_appraisal,
        installed_on=datetime.date(2025, 7, 1),
    )
    _appraised(dongkeng, "B")
    _appraised(dongkeng, "D", load_bearing_walls="d", recommendation="rebuild")
    overdue = HouseholdFactory(village=dongkeng, head_name="逾期户王五", registered_on=datetime.date(2026, 9, 1))
    DwellingFactory(household=overdue)
    _appraised(xishan, "B")
    _appraised(xishan, "C", load_bearing_walls="c", recommendation="repair")
    recent = HouseholdFactory(village=xishan, head_name="新登记户赵六", registered_on=datetime.date(2026, 11, 10))
    DwellingFactory(household=recent)

    official.email = "official@zhangping.example"
    official.save(update_fields=["email"])

    services.open_reports(day=DAY.replace(day=1))
    report = MonthlyReport.objects.get(unit__township=xinqiao, period=DAY.replace(day=1))
    submitted_at = timezone.make_aware(datetime.datetime(2026, 11, 20, 10, 0))
    services.save_report(
        actor=staff, report=report, progress=PROGRESS, problems_handled=PROBLEMS, submit=True, now=submitted_at
    )
    return {"overdue": overdue, "recent": recent, "official": official}


def _close_month(django_capture_on_commit_callbacks) -> str:
    with django_capture_on_commit_callbacks(execute=True):
        return run_job("close_monthly_reports", DAY)


def _parts(message):
    """(workbook part, chart part, html text) of the consolidated e-mail."""
    workbooks = [part for part in message.walk() if part.get_content_type() == XLSX]
    images = [part for part in message.walk() if part.get_content_type() == "image/png"]
    html = [part for part in message.walk() if part.get_content_type() == "text/html"]
    assert len(workbooks) == 1 and len(images) == 1 and len(html) == 1
    return workbooks[0], images[0], html[0].get_content()


def test_close_month_mails_the_consolidated_report_over_smtp(smtp_server, world, django_capture_on_commit_callbacks):
    outcome = _close_month(django_capture_on_commit_callbacks)

    assert "2026-11" in outcome
    [(_sender, recipients, message)] = smtp_server.messages
    bureau = Unit.objects.get(kind=Unit.Kind.BUREAU)
    assert world["official"].email in recipients
    assert sorted(recipients) == sorted({world["official"].email, *([bureau.email] if bureau.email else [])})
    # Django folds an encoded subject onto a continuation line; unfolding leaves a leading space.
    assert message["Subject"].strip() == "农村住房安全汇总月报（2026-11）"

    workbook_part, chart_part, html = _parts(message)
    assert workbook_part.get_filename() == "住房安全汇总月报-2026-11.xlsx"
    assert workbook_part.get_content_disposition() == "attachment"
    assert chart_part["Content-ID"] == "<chart>"
    assert chart_part.get_content_disposition() == "inline"
    assert chart_part.get_content().startswith(b"\x89PNG\r\n\x1a\n")
    assert 'src="cid:chart"' in html
    # mixed[related[alternative[text, html], chart], workbook]: the image belongs to the HTML, the workbook is listed
    assert message.get_content_type() == "multipart/mixed"
    related = next(part for part in message.iter_parts() if part.get_content_type() == "multipart/related")
    assert [part.get_content_type() for part in related.iter_parts()] == ["multipart/alternative", "image/png"]

    email = OutgoingEmail.objects.get()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.SENT, 1)
    assert ConsolidatedReport.objects.get(period=DAY.replace(day=1)).email == email
    # The other units' reports were not submitted by the 23rd: they are now late.
    assert MonthlyReport.objects.filter(status=ReportStatus.LATE).exists()
    assert not MonthlyReport.objects.filter(status=ReportStatus.OPEN, period=DAY.replace(day=1)).exists()


def test_the_attached_workbook_carries_the_dashboard_figures(smtp_server, world, django_capture_on_commit_callbacks):
    _close_month(django_capture_on_commit_callbacks)
    [(_sender, _recipients, message)] = smtp_server.messages
    workbook_part, _chart, _html = _parts(message)
    book = load_workbook(io.BytesIO(workbook_part.get_content()))
    assert book.sheetnames == ["乡镇汇总", "单位报送情况", "逾期清单"]

    rows, totals = selectors.township_table(SYSTEM, DAY)
    summary = book["乡镇汇总"]
    assert summary.freeze_panes == "B5"
    assert "2026-11" in summary["A1"].value
    header = [cell.value for cell in summary[4]]
    assert header == ["乡镇（街道）", *[str(column.label) for column in selectors.COLUMNS]]
    groups, current = [], None  # the group row names a group once, over its first column
    for cell in summary[3]:
        current = cell.value or current
        groups.append(current)

    def column_of(key: str) -> int:
        """The index of a figure's column, found by its header label (and its group when two labels read alike:
        "未鉴定" heads both the appraisal and the housing-security group's column)."""
        column = next(column for column in selectors.COLUMNS if column.key == key)
        matches = [i for i, label in enumerate(header) if label == str(column.label)]
        if len(matches) > 1:
            matches = [i for i in matches if groups[i] == str(column.group)]
        assert len(matches) == 1, (key, matches)
        return matches[0]

    def expected(value):
        return None if value is None else pytest.approx(value)

    body = [[cell.value for cell in row] for row in summary.iter_rows(min_row=5)]
    assert [line[0] for line in body] == [row.area.name for row in rows] + ["合计"]
    compared = [
        "covered",
        "appraised",
        "unappraised",
        "appraisal_overdue",
        "grade_A",
        "grade_B",
        "grade_C",
        "grade_D",
        "status_dangerous",
        "status_unappraised",
        "dangerous_houses",
        "placard_households",
        "placard_installed",
        "placard_share",
    ]
    for line, figures in zip(body, [row.figures for row in rows] + [totals], strict=True):
        assert {key: line[column_of(key)] for key in compared} == {key: expected(figures[key]) for key in compared}
    # Every column, by position: the header is the column list, so the whole table must match.
    for line, figures in zip(body, [row.figures for row in rows] + [totals], strict=True):
        assert line[1:] == [expected(figures[column.key]) for column in selectors.COLUMNS]

    # The world's own figures (independent of the selector): 新桥镇 4 households, A/B/D, one overdue, one placard.
    by_name = {line[0]: line for line in body}
    xinqiao, shuangyang, total = by_name["新桥镇"], by_name["双洋镇"], by_name["合计"]
    assert [xinqiao[column_of(k)] for k in ("covered", "grade_A", "grade_B", "grade_C", "grade_D")] == [4, 1, 1, 0, 1]
    assert xinqiao[column_of("appraisal_overdue")] == 1 and xinqiao[column_of("unappraised")] == 1
    assert xinqiao[column_of("placard_share")] == pytest.approx(0.25)  # one placard over every covered household
    assert [shuangyang[column_of(k)] for k in ("covered", "grade_B", "grade_C", "appraisal_overdue")] == [3, 1, 1, 0]
    assert [total[column_of(k)] for k in ("covered", "dangerous_houses", "appraisal_overdue")] == [7, 2, 1]

    share = column_of("placard_share") + 1  # openpyxl columns count from 1
    xinqiao_row = 5 + [line[0] for line in body].index("新桥镇")
    assert summary.cell(row=xinqiao_row, column=share).number_format == "0.0%"
    assert summary.cell(row=4 + len(body), column=share).number_format == "0.0%"  # the total row

    units = book["单位报送情况"]
    assert units.freeze_panes == "B3"
    unit_rows = [[cell.value for cell in row] for row in units.iter_rows(min_row=3)]
    xinqiao_unit = Unit.objects.get(township__name="新桥镇").name
    [submitted] = [line for line in unit_rows if line[0] == xinqiao_unit]
    assert PROGRESS in submitted and PROBLEMS in submitted
    assert submitted[1] == "按时报送"  # submitted on the 20th, before the 23rd's 18:00 deadline
    late = [line for line in unit_rows if line[0] != xinqiao_unit]
    assert late and {line[1] for line in late} == {"逾期未报"}
    assert len(unit_rows) == MonthlyReport.objects.filter(period=DAY.replace(day=1)).count()

    overdue = book["逾期清单"]
    assert overdue.freeze_panes == "A3"
    overdue_rows = [[cell.value for cell in row] for row in overdue.iter_rows(min_row=3)]
    labels = [line[2] for line in overdue_rows]
    assert "逾期户王五 · 东坑村" in labels
    assert not any("新登记户赵六" in (label or "") for label in labels)
    [line] = [line for line in overdue_rows if line[2] == "逾期户王五 · 东坑村"]
    assert line[1] == "新桥镇"


def test_closing_the_month_twice_sends_one_message(smtp_server, world, django_capture_on_commit_callbacks):
    _close_month(django_capture_on_commit_callbacks)
    first = ConsolidatedReport.objects.get()
    second_outcome = _close_month(django_capture_on_commit_callbacks)
    services.close_month(day=DAY)  # the service itself, outside the job wrapper, is idempotent too

    assert len(smtp_server.messages) == 1
    assert OutgoingEmail.objects.count() == 1 and ConsolidatedReport.objects.count() == 1
    assert ConsolidatedReport.objects.get().workbook.name == first.workbook.name
    assert "2026-11" in second_outcome
