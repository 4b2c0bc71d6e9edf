"""Unit reports: opening them with figures filled in, drafting and submitting (on time, late, frozen figures), the
refusals that change nothing, the grid and report pages per role, their query counts, and the workbook download."""

from __future__ import annotations

import datetime
import io
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from households.models import Unit
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory
from housing_safety.access import Role
from housing_safety.models import OutgoingEmail
from reporting import selectors, services
from reporting.models import ConsolidatedReport, MonthlyReport, ReportKind, ReportStatus

pytestmark = pytest.mark.django_db
D = datetime.date
JANUARY = D(2027, 1, 5)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    """An aware moment in Asia/Shanghai."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def households(township, count: int) -> list:
    village = VillageFactory(township=township)
    made = []
    for _n in range(count):
        household = HouseholdFactory(village=village)
        DwellingFactory(household=household)
        made.append(household)
    return made


def report_of(township, period: datetime.date | None = None, kind=ReportKind.MONTHLY) -> MonthlyReport:
    return MonthlyReport.objects.get(unit__township=township, kind=kind, period=period or D(2027, 1, 1))


def row(report: MonthlyReport) -> dict:
    """The report's row as stored."""
    return MonthlyReport.objects.filter(pk=report.pk).values().get()


@pytest.fixture
def opened(xinqiao, shuangyang):
    households(xinqiao, 2)
    households(shuangyang, 1)
    services.open_reports(kind=ReportKind.MONTHLY, day=JANUARY)
    return report_of(xinqiao)


# Opening -------------------------------------------------------------------------------------------------------


def test_monthly_reports_open_due_on_the_23rd_with_figures_filled_in(opened, xinqiao, shuangyang):
    assert (opened.period, opened.due_on, opened.status) == (D(2027, 1, 1), D(2027, 1, 23), ReportStatus.OPEN)
    assert opened.figures["covered"] == 2 and opened.figures["unappraised"] == 2
    assert report_of(shuangyang).figures["covered"] == 1
    # the units that report (issue 24): the plan's responsible units, not the bureau, which receives the reports
    assert not MonthlyReport.objects.filter(unit__kind=Unit.Kind.BUREAU).exists()
    assert MonthlyReport.objects.count() == Unit.objects.filter(is_active=True, reports_monthly=True).count()
    assert opened.figures_at is not None and opened.submitted_at is None


def test_year_end_summaries_are_due_on_10_november(xinqiao):
    assert services.open_reports(kind=ReportKind.YEAR_END, day=D(2027, 11, 1)) > 0
    summary = report_of(xinqiao, D(2027, 11, 1), ReportKind.YEAR_END)
    assert (summary.period, summary.due_on) == (D(2027, 11, 1), D(2027, 11, 10))
    assert services.deadline(summary) == at(D(2027, 11, 10), 18)


def test_the_year_end_due_date_follows_the_setting(settings, xinqiao):
    settings.YEAR_END_SUMMARY_DUE = "12-05"
    services.open_reports(kind=ReportKind.YEAR_END, day=D(2027, 11, 1))
    summary = MonthlyReport.objects.get(unit__township=xinqiao, kind=ReportKind.YEAR_END)
    assert (summary.period, summary.due_on) == (D(2027, 12, 1), D(2027, 12, 5))


# Drafting and submitting ---------------------------------------------------------------------------------------


def test_a_draft_may_be_empty_and_stays_open(opened, staff):
    saved = services.save_report(actor=staff, report=opened, progress="", problems_handled="", submit=False)
    assert saved.status == ReportStatus.OPEN and saved.submitted_at is None
    services.save_report(actor=staff, report=opened, progress="  已排查东坑村  ", problems_handled="", submit=False)
    stored = row(opened)
    assert (stored["progress"], stored["status"], stored["on_time"]) == ("已排查东坑村", ReportStatus.OPEN, None)


def test_submitted_before_the_deadline_is_on_time(opened, staff):
    services.save_report(actor=staff, report=opened, progress="草稿", problems_handled="", submit=False)
    moment = at(D(2027, 1, 23), 17, 59)
    saved = services.save_report(
        actor=staff, report=opened, progress="完成排查", problems_handled="无", submit=True, now=moment
    )
    stored = row(opened)
    assert stored["status"] == ReportStatus.SUBMITTED and stored["on_time"] is True
    assert (stored["submitted_by_id"], stored["submitted_at"], stored["figures_at"]) == (staff.pk, moment, moment)
    assert (stored["progress"], stored["problems_handled"]) == ("完成排查", "无")
    assert saved.on_time is True


def test_submitted_at_1801_on_the_23rd_is_late(opened, staff):
    services.save_report(
        actor=staff,
        report=opened,
        progress="完成排查",
        problems_handled="无",
        submit=True,
        now=at(D(2027, 1, 23), 18, 1),
    )
    stored = row(opened)
    assert stored["status"] == ReportStatus.SUBMITTED and stored["on_time"] is False


def test_the_deadline_is_18_00_in_shanghai_whatever_zone_the_moment_is_given_in(opened, staff, shuangyang, other_staff):
    utc = datetime.UTC
    services.save_report(
        actor=staff,
        report=opened,
        progress="完成",
        problems_handled="无",
        submit=True,
        now=datetime.datetime(2027, 1, 23, 9, 59, tzinfo=utc),  # 17:59 in Shanghai
    )
    other = report_of(shuangyang)
    services.save_report(
        actor=other_staff,
        report=other,
        progress="完成",
        problems_handled="无",
        submit=True,
        now=datetime.datetime(2027, 1, 23, 10, 1, tzinfo=utc),  # 18:01 in Shanghai
    )
    assert (row(opened)["on_time"], row(other)["on_time"]) == (True, False)


def test_a_report_marked_late_is_still_accepted_marked_late(opened, staff):
    assert services.mark_late_reports(day=D(2027, 1, 23)) == MonthlyReport.objects.count()
    opened.refresh_from_db()
    assert opened.status == ReportStatus.LATE
    services.save_report(
        actor=staff, report=opened, progress="补报", problems_handled="无", submit=True, now=at(D(2027, 1, 25), 9)
    )
    stored = row(opened)
    assert stored["status"] == ReportStatus.SUBMITTED and stored["on_time"] is False


def test_figures_are_frozen_at_submission(opened, staff, xinqiao):
    services.save_report(
        actor=staff,
        report=opened,
        progress="完成排查",
        problems_handled="无",
        submit=True,
        now=at(D(2027, 1, 20), 10),
    )
    frozen = row(opened)["figures"]
    assert frozen["covered"] == 2
    services.open_reports(kind=ReportKind.MONTHLY, day=D(2027, 2, 1))
    households(xinqiao, 3)
    services.refresh_open_reports(day=D(2027, 2, 5))
    assert row(opened)["figures"] == frozen
    assert report_of(xinqiao, D(2027, 2, 1)).figures["covered"] == 5  # the open report did move


def test_a_report_submitted_while_the_figures_are_refreshed_keeps_its_frozen_figures(
    opened, staff, xinqiao, monkeypatch
):
    """The sweep reads the unsubmitted reports, computes their figures (many queries), then writes them; a unit
    submitting in between (on PostgreSQL, another connection) must keep the figures it submitted."""
    moment = at(D(2027, 1, 20), 10)
    compute = selectors.figures_for_units

    def submitted_meanwhile(units, day):
        figures = compute(units, day)  # computed before the unit submits...
        monkeypatch.setattr(selectors, "figures_for_units", compute)  # the submission computes its own
        households(xinqiao, 1)
        services.save_report(
            actor=staff, report=opened, progress="完成", problems_handled="无", submit=True, now=moment
        )
        return figures  # ...and written after

    monkeypatch.setattr(selectors, "figures_for_units", submitted_meanwhile)
    services.refresh_open_reports(day=D(2027, 1, 20))
    stored = row(opened)
    assert stored["status"] == ReportStatus.SUBMITTED
    assert (stored["figures"]["covered"], stored["figures_at"]) == (3, moment)


def test_opened_figures_are_what_each_unit_sees(xinqiao, shuangyang, poverty_office, admin):
    from rectification.models import LeadTransfer
    from reporting import selectors

    households(xinqiao, 2)
    households(shuangyang, 1)
    HouseholdFactory(village=VillageFactory(township=shuangyang), source=poverty_office)
    township_unit = Unit.objects.get(township=xinqiao)
    LeadTransfer.objects.create(
        direction=LeadTransfer.Direction.OUTGOING,
        from_unit=township_unit,
        to_unit=poverty_office,
        subject="低保户住房待核实",
        sent_on=D(2027, 1, 3),
        created_by=admin,
    )
    services.open_reports(kind=ReportKind.MONTHLY, day=JANUARY)
    for unit in Unit.objects.filter(pk__in=[township_unit.pk, poverty_office.pk]):
        assert MonthlyReport.objects.get(unit=unit).figures == selectors.unit_figures(unit, JANUARY), unit.name
    assert report_of(shuangyang).figures == selectors.unit_figures(Unit.objects.get(township=shuangyang), JANUARY)
    received = MonthlyReport.objects.get(unit=poverty_office).figures
    assert (received["covered"], received["leads_received"]) == (1, 1)
    assert selectors.unit_figures(Unit.objects.get(kind=Unit.Kind.BUREAU), JANUARY)["covered"] == 4  # the city


def test_the_bureau_files_no_report_to_itself_even_through_an_administrators_profile(opened, personas):
    """Issue 24: the bureau receives the units' reports; an administrator of the bureau's unit has none to file and
    may not file a township's."""
    from households.services import set_user_role
    from households.tests.factories import make_user

    bureau_unit = Unit.objects.get(kind=Unit.Kind.BUREAU)
    filer = make_user(Role.BUREAU_ADMIN)
    set_user_role(user=filer, role=Role.BUREAU_ADMIN, unit=bureau_unit)
    assert not selectors.units_reporting_for(filer).exists()
    with pytest.raises(PermissionDenied):
        services.save_report(actor=filer, report=opened, progress="代报", problems_handled="无", submit=True)


def test_submitting_twice_is_refused_in_chinese_and_changes_nothing(chinese, opened, staff):
    services.save_report(
        actor=staff,
        report=opened,
        progress="完成排查",
        problems_handled="无",
        submit=True,
        now=at(D(2027, 1, 20), 10),
    )
    before = row(opened)
    with pytest.raises(ValidationError) as refused:
        services.save_report(actor=staff, report=opened, progress="改写", problems_handled="改写", submit=True)
    assert "不能修改或重复报送" in refused.value.messages[0] and "2027-01-20 10:00" in refused.value.messages[0]
    with pytest.raises(ValidationError):
        services.save_report(actor=staff, report=opened, progress="改写", problems_handled="改写", submit=False)
    assert row(opened) == before


def test_another_townships_staff_may_not_file(chinese, opened, staff, other_staff):
    services.save_report(actor=staff, report=opened, progress="草稿", problems_handled="", submit=False)
    before = row(opened)
    with pytest.raises(PermissionDenied, match="只能填写本单位的报告"):
        services.save_report(actor=other_staff, report=opened, progress="冒报", problems_handled="无", submit=True)
    assert row(opened) == before


def test_an_official_may_not_file(opened, official):
    before = row(opened)
    with pytest.raises(PermissionDenied):
        services.save_report(actor=official, report=opened, progress="代报", problems_handled="无", submit=True)
    assert row(opened) == before


def test_a_liaison_files_only_their_own_departments_report(opened, personas, poverty_office):
    liaison = personas[Role.DEPARTMENT_LIAISON]
    before = row(opened)
    with pytest.raises(PermissionDenied):
        services.save_report(actor=liaison, report=opened, progress="代报", problems_handled="无", submit=True)
    assert row(opened) == before
    own = MonthlyReport.objects.get(unit=poverty_office)
    services.save_report(actor=liaison, report=own, progress="核实低保户", problems_handled="无", submit=True)
    assert row(own)["status"] == ReportStatus.SUBMITTED


def test_submitting_without_the_narrative_names_both_fields(chinese, opened, staff):
    services.save_report(actor=staff, report=opened, progress="草稿", problems_handled="", submit=False)
    before = row(opened)
    with pytest.raises(ValidationError) as refused:
        services.save_report(actor=staff, report=opened, progress="  ", problems_handled="", submit=True)
    assert set(refused.value.message_dict) == {"progress", "problems_handled"}
    assert "本月整治工作进展情况" in refused.value.message_dict["progress"][0]
    assert row(opened) == before


# The grid ------------------------------------------------------------------------------------------------------


def grid_rows(html: str) -> dict[str, list[str]]:
    """{unit name: the data-state of each cell (missing cells left out)} of the /reports/ grid."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', body, re.S)
    return {name: re.findall(r'data-state="([a-z_]+)"', cells) for name, cells in rows}


@pytest.fixture
def this_month(xinqiao, shuangyang, staff, other_staff, poverty_office):
    """This month's reports: 新桥镇 on time, 双洋镇 late, the poverty office missing, the rest open; last month's
    reports all open."""
    today = timezone.localdate()
    last_month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    services.open_reports(kind=ReportKind.MONTHLY, day=last_month)
    services.open_reports(kind=ReportKind.MONTHLY, day=today)
    period = today.replace(day=1)
    on_time, late = report_of(xinqiao, period), report_of(shuangyang, period)
    deadline = services.deadline(on_time)
    services.save_report(
        actor=staff,
        report=on_time,
        progress="按时",
        problems_handled="无",
        submit=True,
        now=deadline - datetime.timedelta(days=1),
    )
    services.save_report(
        actor=other_staff,
        report=late,
        progress="迟报",
        problems_handled="无",
        submit=True,
        now=deadline + datetime.timedelta(hours=1),
    )
    MonthlyReport.objects.filter(unit=poverty_office, period=period).update(status=ReportStatus.LATE)
    return {"xinqiao": on_time, "shuangyang": late, "period": period, "last_month": last_month}


def test_the_grid_shows_the_official_every_active_unit_and_each_state(client, official, this_month, poverty_office):
    Unit.objects.filter(name="漳平市残疾人联合会").update(is_active=False)
    MonthlyReport.objects.filter(unit__name="漳平市残疾人联合会").delete()
    client.force_login(official)
    response = client.get(reverse("reporting:reports"))
    assert response.status_code == 200
    rows = grid_rows(response.content.decode())
    # the units that report (issue 24): not the bureau, which receives the reports
    assert set(rows) == set(Unit.objects.filter(is_active=True, reports_monthly=True).values_list("name", flat=True))
    assert "漳平市残疾人联合会" not in rows
    assert rows["新桥镇人民政府"] == ["open", "on_time"]  # last month, this month
    assert rows["双洋镇人民政府"] == ["open", "late"]
    assert rows[poverty_office.name] == ["open", "missing"]
    assert "漳平市住房和城乡建设局" not in rows


def test_township_staff_see_only_their_own_units_row(client, staff, this_month):
    client.force_login(staff)
    rows = grid_rows(client.get(reverse("reporting:reports")).content.decode())
    assert rows == {"新桥镇人民政府": ["open", "on_time"]}


def test_a_liaison_sees_only_their_departments_row(client, personas, this_month, poverty_office):
    client.force_login(personas[Role.DEPARTMENT_LIAISON])
    rows = grid_rows(client.get(reverse("reporting:reports")).content.decode())
    assert rows == {poverty_office.name: ["open", "missing"]}


@pytest.mark.parametrize("role", [Role.HELPER, Role.COMPLAINT_CLERK, "no_role"])
def test_roles_without_reports_are_refused_the_grid(client, personas, role, this_month):
    client.force_login(personas[role])
    assert client.get(reverse("reporting:reports")).status_code == 403
    assert client.get(this_month["xinqiao"].get_absolute_url()).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client, this_month):
    for url in (reverse("reporting:reports"), this_month["xinqiao"].get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))


def test_the_grid_queries_stay_constant_with_more_units_and_months(client, official, staff, django_assert_num_queries):
    """Session, user, two permission queries, profile, townships, reports, units (+ consolidated for the bureau)."""
    today = timezone.localdate()
    services.open_reports(kind=ReportKind.MONTHLY, day=today)
    url = reverse("reporting:reports")

    def count(user, expected: int) -> str:
        client.force_login(user)
        client.get(url)  # the session is warm
        with django_assert_num_queries(expected):
            response = client.get(url)
        return response.content.decode()

    count(official, 9)
    count(staff, 8)
    for n in range(5):
        Unit.objects.create(name=f"测试单位{n}", kind=Unit.Kind.DEPARTMENT)
    month = today.replace(day=1)
    for _n in range(6):
        month = (month - datetime.timedelta(days=1)).replace(day=1)
        services.open_reports(kind=ReportKind.MONTHLY, day=month)
    assert MonthlyReport.objects.filter(unit__township__code="350881100").count() == 7
    rows = grid_rows(count(official, 9))
    assert len(rows["测试单位4"]) == 6 and len(rows["新桥镇人民政府"]) == 7
    assert list(grid_rows(count(staff, 8))) == ["新桥镇人民政府"]


def test_the_grid_queries_stay_constant_with_more_consolidated_reports(client, official):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def consolidated(month: int) -> None:
        email = OutgoingEmail.objects.create(
            key=f"consolidated:2026-{month:02d}", recipients=["a@zhangping.example"], subject="汇总", body="汇总"
        )
        ConsolidatedReport.objects.create(
            period=D(2026, month, 1), built_at=timezone.now(), workbook=f"reports/{month}.xlsx", email=email
        )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    consolidated(1)
    url = reverse("reporting:reports")
    client.force_login(official)
    client.get(url)
    with_one = queries()
    for month in range(2, 8):
        consolidated(month)
    assert queries() == with_one


def test_the_year_end_grid_shows_three_years(client, official):
    client.force_login(official)
    response = client.get(reverse("reporting:reports"), {"kind": "year_end"})
    assert response.status_code == 200
    this_year = timezone.localdate().year
    assert [period.year for period in response.context["periods"]] == [this_year - 2, this_year - 1, this_year]


def test_the_year_end_grid_works_on_29_february(client, official, monkeypatch):
    real = timezone.localdate

    def leap_day(value=None, timezone=None):
        return D(2028, 2, 29) if value is None else real(value, timezone)

    monkeypatch.setattr("django.utils.timezone.localdate", leap_day)
    client.force_login(official)
    response = client.get(reverse("reporting:reports"), {"kind": "year_end"})
    assert response.status_code == 200
    assert [period for period in response.context["periods"]] == [D(2026, 11, 1), D(2027, 11, 1), D(2028, 11, 1)]


# The report page -----------------------------------------------------------------------------------------------


def test_township_staff_get_404_for_another_townships_report(client, staff, this_month):
    client.force_login(staff)
    assert client.get(this_month["shuangyang"].get_absolute_url()).status_code == 404
    assert client.get(this_month["xinqiao"].get_absolute_url()).status_code == 200


def test_another_townships_staff_posting_a_submission_get_404_and_change_nothing(client, other_staff, opened):
    before = row(opened)
    client.force_login(other_staff)
    response = client.post(opened.get_absolute_url(), {"progress": "冒报", "problems_handled": "无", "submit": "1"})
    assert response.status_code == 404
    assert row(opened) == before


def test_staff_submit_their_report_through_the_page(client, staff, opened):
    client.force_login(staff)
    url = opened.get_absolute_url()
    page = client.get(url).content.decode()
    assert 'name="submit"' in page
    response = client.post(url, {"progress": "完成东坑村排查", "problems_handled": "无", "submit": "1"})
    assert response.status_code == 302 and response.url == url
    stored = row(opened)
    assert (stored["status"], stored["submitted_by_id"], stored["progress"]) == (
        ReportStatus.SUBMITTED,
        staff.pk,
        "完成东坑村排查",
    )


def test_the_report_pages_breadcrumbs_name_the_reports_once(client, staff, opened, chinese):
    client.force_login(staff)
    page = client.get(opened.get_absolute_url()).content.decode()
    crumbs_to_title = page.split('class="shell-crumbs"', 1)[1].split("<h1", 1)[0]
    assert crumbs_to_title.count("单位报告") == 1


def test_saving_a_draft_through_the_page_keeps_it_open(client, staff, opened):
    client.force_login(staff)
    response = client.post(opened.get_absolute_url(), {"progress": "草稿", "problems_handled": "", "save": "1"})
    assert response.status_code == 302
    assert (row(opened)["status"], row(opened)["progress"]) == (ReportStatus.OPEN, "草稿")


def test_an_official_posting_a_submission_gets_403_and_changes_nothing(client, official, opened):
    before = row(opened)
    client.force_login(official)
    assert client.get(opened.get_absolute_url()).status_code == 200
    response = client.post(opened.get_absolute_url(), {"progress": "代报", "problems_handled": "无", "submit": "1"})
    assert response.status_code == 403
    assert row(opened) == before


def test_submitting_twice_through_the_page_shows_the_chinese_error(client, staff, opened):
    client.force_login(staff)
    url = opened.get_absolute_url()
    assert client.post(url, {"progress": "第一次", "problems_handled": "无", "submit": "1"}).status_code == 302
    before = row(opened)
    response = client.post(url, {"progress": "第二次", "problems_handled": "改", "submit": "1"})
    assert response.status_code == 200
    assert "不能修改或重复报送" in response.content.decode()
    assert row(opened) == before


def test_an_empty_submission_through_the_page_shows_both_errors(client, staff, opened):
    client.force_login(staff)
    before = row(opened)
    response = client.post(opened.get_absolute_url(), {"progress": "", "problems_handled": "", "submit": "1"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "报送前请填写本月整治工作进展情况" in html and "请填写突出问题处理情况" in html
    assert row(opened) == before


# The workbook with today's figures -----------------------------------------------------------------------------


def test_the_official_downloads_todays_consolidated_workbook(client, official, xinqiao):
    households(xinqiao, 2)
    client.force_login(official)
    response = client.get(reverse("reporting:consolidated-now"))
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    assert f"consolidated-{timezone.localdate():%Y-%m-%d}.xlsx" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["乡镇汇总", "单位报送情况", "逾期清单"]
    summary = list(workbook["乡镇汇总"].iter_rows(values_only=True))
    [xinqiao_row] = [values for values in summary if values[0] == "新桥镇"]
    assert xinqiao_row[1] == 2  # covered households


def test_township_staff_may_not_download_the_consolidated_workbook(client, staff):
    client.force_login(staff)
    assert client.get(reverse("reporting:consolidated-now")).status_code == 403


def test_the_official_downloads_a_stored_consolidated_report(
    client, official, staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report, built = services.build_consolidated_report(day=D(2027, 1, 23))
    assert built
    url = reverse("reporting:consolidated", args=[report.pk])
    client.force_login(official)
    response = client.get(url)
    assert response.status_code == 200
    assert load_workbook(io.BytesIO(b"".join(response.streaming_content))).sheetnames == [
        "乡镇汇总",
        "单位报送情况",
        "逾期清单",
    ]
    listing = client.get(reverse("reporting:reports")).content.decode()
    assert url in listing
    client.force_login(staff)
    assert client.get(url).status_code == 403
    assert url not in client.get(reverse("reporting:reports")).content.decode()


def test_the_home_says_a_report_past_its_due_day_is_late(client, staff, xinqiao):
    """A tester saw November's report on a unit's home as 待报送 「…前报送」 while the reports' grid said 逾期未报:
    past its due day the home's line says it is late."""
    past = (timezone.localdate().replace(day=1) - datetime.timedelta(days=40)).replace(day=1)
    services.open_reports(kind=ReportKind.MONTHLY, day=past)
    report = report_of(xinqiao, past)
    client.force_login(staff)

    page = client.get("/").content.decode()

    line = re.search(rf'<a[^>]*href="{reverse("reporting:report", args=[report.pk])}".*?</a>', page, re.S).group(0)
    assert "应于" in line and "已逾期" in line
