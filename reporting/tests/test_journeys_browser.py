"""Daily tasks of reporting in a browser, from the login page by clicks only (issue 17's checks): the township staff
member, on a 360-pixel phone, files the unit's monthly report from the home; a bureau official, on a desktop, drills
down the dashboard from the city to a township, a village and a household, comes back by the breadcrumbs and opens
the full late list. Each journey's clicks are held to the limit below; every page fits a 360-pixel phone without
sideways scrolling; nothing fails in the console or against the content security policy."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory
from housing_safety.access import Role
from housing_safety.tests.journey import DESKTOP, PHONE, Journey
from rectification.tests.factories import days_ago, safe_appraisal
from reporting import services
from reporting.models import MonthlyReport, ReportKind, ReportStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Clicks allowed from the login page (its submit is click 1). The target: a daily page within two clicks of
# the home.
CLICKS = {
    # log in; the home's line for this month's report; 报送 (the narrative is typed)
    "staff-monthly-report": 3,
    # log in; the home's 打开工作看板; 新桥镇; 东坑村; the household; its breadcrumbs (the dashboard's, as it was
    # reached from there) 新桥镇 and 全市; 查看全部 under the late appraisals (9 while the way back was the browser's
    # back button to the village, then its crumbs)
    "official-drill-down": 8,
}


def test_township_staff_files_the_monthly_report_from_the_home(browser, live_server, personas, xinqiao):
    staff = personas[Role.TOWNSHIP_STAFF]
    today = timezone.localdate()
    services.open_reports(kind=ReportKind.MONTHLY, day=today)
    report = MonthlyReport.objects.get(unit__township=xinqiao, kind=ReportKind.MONTHLY, period=today.replace(day=1))

    journey = Journey(browser, live_server.url, "staff-monthly-report", width=PHONE)
    journey.log_in(staff.username)
    journey.click(journey.todo("新桥镇人民政府：月度报告"))
    expect(journey.page).to_have_url(f"{live_server.url}/reports/{report.pk}/")
    form = journey.page.locator("form.field-form")
    form.get_by_label("本月整治工作进展情况").fill("本月完成东坑村3户危房鉴定。")
    form.get_by_label("突出问题处理情况").fill("无")
    journey.click(form.get_by_role("button", name="报送", exact=True))
    expect(journey.page.locator(".messages .success")).to_have_text("报告已报送。")
    journey.finish(CLICKS["staff-monthly-report"])

    report.refresh_from_db()
    assert (report.status, report.submitted_by) == (ReportStatus.SUBMITTED, staff)
    assert report.progress == "本月完成东坑村3户危房鉴定。"


def test_official_drills_down_to_a_household_and_back_and_opens_the_late_list(browser, live_server, personas, xinqiao):
    official = personas[Role.BUREAU_OFFICIAL]
    dongkeng = VillageFactory(township=xinqiao, name="东坑村")
    safe = HouseholdFactory(head_name="陈德胜", village=dongkeng)
    safe_appraisal(DwellingFactory(household=safe), on=days_ago(150))
    late = HouseholdFactory(head_name="张永福", village=dongkeng, registered_on=days_ago(90))  # appraisal overdue
    DwellingFactory(household=late)

    journey = Journey(browser, live_server.url, "official-drill-down", width=DESKTOP)
    journey.log_in(official.username)
    journey.click(journey.todo("打开工作看板"))
    by_area = journey.page.locator("main table")
    journey.click(by_area.get_by_role("link", name="新桥镇", exact=True))
    expect(journey.page.locator("main h1")).to_contain_text("新桥镇")
    journey.click(journey.page.locator("main table").get_by_role("link", name="东坑村", exact=True))
    expect(journey.page.locator("main h1")).to_have_text("新桥镇 东坑村")
    village_url = journey.page.url
    journey.click(journey.page.locator("main ul.list").get_by_role("link", name="陈德胜"))
    expect(journey.page.locator("main h1")).to_contain_text("陈德胜")

    # the way back is the household's breadcrumbs: the dashboard's, to the household's own village and township
    crumbs = journey.page.locator("nav.shell-crumbs")
    expect(crumbs.locator("li")).to_have_text(["工作台", "全市", "新桥镇", "东坑村", "陈德胜"])
    expect(crumbs.get_by_role("link", name="东坑村", exact=True)).to_have_attribute(
        "href", village_url[len(live_server.url) :]
    )
    journey.click(journey.crumb("新桥镇"))
    expect(journey.page.locator("main h1")).to_contain_text("新桥镇")
    journey.click(journey.crumb("全市"))
    expect(journey.page).to_have_url(f"{live_server.url}/dashboard/")

    overdue = journey.page.locator("main .late", has_text="逾期未鉴定")
    journey.click(overdue.get_by_role("link", name="查看全部 1 项"))
    expect(journey.page.locator("main")).to_contain_text("张永福")
    journey.finish(CLICKS["official-drill-down"])
