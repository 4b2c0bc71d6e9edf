"""新桥镇's township staff member files this month's unit report on a phone: the figures are filled in, submitting
without the narrative is refused, a draft is saved, then the report is submitted (on time or late, as the clock
says) and reads back frozen. A bureau official then sees it in the units x months grid, and on the dashboard drills
down from the city to 新桥镇's villages and on to one village's households."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from households.models import Unit
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory
from housing_safety.access import Role
from housing_safety.tests.kit import ARTIFACTS, log_in, menu, no_horizontal_scroll, phone_page, watch_console
from rectification.tests.factories import dangerous_dwelling, days_ago, safe_appraisal
from reporting import services
from reporting.models import MonthlyReport, ReportKind, ReportStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

UNIT = "新桥镇人民政府"
PROGRESS = "本月完成东坑村3户危房鉴定，西坑村1户已列入下月鉴定计划。"
PROBLEMS = "西坑村张家登记逾期未鉴定，已督促鉴定组本周上门。"
EMPTY_PROGRESS = "报送前请填写本月整治工作进展情况。"
EMPTY_PROBLEMS = "请填写突出问题处理情况（没有请填“无”）。"


def figure(page, label: str):
    """The value cell of the report's figure row labelled exactly `label` (the first, if in several groups)."""
    row = page.locator("table.figures tr", has=page.locator("th", has_text=re.compile(rf"^{re.escape(label)}$")))
    return row.first.locator("td")


def test_township_files_its_monthly_report_and_the_bureau_follows_it_on_the_dashboard(
    browser, live_server, personas, xinqiao
):
    base = live_server.url
    today = timezone.localdate()
    staff, official = personas[Role.TOWNSHIP_STAFF], personas[Role.BUREAU_OFFICIAL]

    # 新桥镇: a dangerous (D) house and a safe (A) one in 东坑村, and an unappraised household in 西坑村 registered
    # three months ago (its appraisal is overdue).
    dongkeng = VillageFactory(township=xinqiao, name="东坑村")
    xikeng = VillageFactory(township=xinqiao, name="西坑村")
    dangerous_dwelling(HouseholdFactory(head_name="林秀英", village=dongkeng), grade="D", appraised_on=days_ago(200))
    safe_appraisal(DwellingFactory(household=HouseholdFactory(head_name="陈德胜", village=dongkeng)), on=days_ago(150))
    DwellingFactory(household=HouseholdFactory(head_name="张永福", village=xikeng, registered_on=days_ago(90)))

    # This month's reports for every unit, as the 1st's job opens them; past 23rd 18:00 the close-of-month job has
    # also marked the unsubmitted ones late (逾期未报), and a submission now is accepted but late.
    opened = services.open_reports(kind=ReportKind.MONTHLY, day=today)
    assert opened == Unit.objects.filter(is_active=True, reports_monthly=True).count()  # not the bureau (issue 24)
    report = MonthlyReport.objects.get(unit__name=UNIT, kind=ReportKind.MONTHLY, period=today.replace(day=1))
    late = timezone.now() > services.deadline(report)
    if late:
        services.mark_late_reports(day=today, kind=ReportKind.MONTHLY)
    unsubmitted_state, unsubmitted_label = ("missing", "逾期未报") if late else ("open", "待报送")
    submitted_state, submitted_word = ("late", "逾期") if late else ("on_time", "按时")
    report_url = f"{base}/reports/{report.pk}/"

    # The township staff member, on a phone, finds 单位报告 in the top navigation: one row, their own unit.
    town = phone_page(browser)
    town_errors = watch_console(town)
    log_in(town, base, staff.username)
    town.goto(f"{base}/field/")
    menu(town).get_by_role("link", name="单位报告", exact=True).click()
    town.wait_for_url(f"{base}/reports/")
    expect(town.locator("h1")).to_have_text("单位报告")
    rows = town.locator("table.grid tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("th")).to_have_text(UNIT)
    cell = rows.first.locator(f'a.cell[href="/reports/{report.pk}/"]')
    expect(cell).to_have_attribute("data-state", unsubmitted_state)
    no_horizontal_scroll(town)
    town.screenshot(path=ARTIFACTS / "report-list-390.png", full_page=True)

    # This month's report: not yet submitted, the figures filled in from the unit's households.
    cell.click()
    town.wait_for_url(report_url)
    expect(town.locator("h1")).to_have_text(f"{UNIT} · 月度报告 · {today:%Y-%m}")
    state = town.locator("p > span.cell")
    expect(state).to_have_attribute("data-state", unsubmitted_state)
    expect(state).to_have_text(unsubmitted_label)
    expect(town.locator("main")).to_contain_text(f"截止 {services.deadline(report):%Y-%m-%d} 18:00")
    expect(town.locator("main")).to_contain_text("系统自动填入，报送前随时更新")
    expect(figure(town, "帮扶对象户数")).to_have_text("3")
    expect(figure(town, "已鉴定")).to_have_text("2")
    expect(figure(town, "未鉴定")).to_have_text("1")
    expect(figure(town, "逾期未鉴定")).to_have_text("1")
    expect(figure(town, "D级房屋")).to_have_text("1")
    expect(figure(town, "A级房屋")).to_have_text("1")
    expect(figure(town, "在住危房")).to_have_text("1")
    expect(figure(town, "未立改造案件")).to_have_text("1")
    no_horizontal_scroll(town)

    # Submitting with an empty narrative is refused, in Chinese, and nothing is submitted.
    form = town.locator("form.field-form")
    with town.expect_navigation():
        form.get_by_role("button", name="报送", exact=True).click()
    expect(town).to_have_url(report_url)
    expect(town.locator(".field.has-error")).to_have_count(2)
    expect(town.locator(".field.has-error .error").first).to_have_text(EMPTY_PROGRESS)
    expect(town.locator(".field.has-error .error").last).to_have_text(EMPTY_PROBLEMS)
    expect(town.locator(".messages")).to_have_count(0)
    expect(town.locator("p > span.cell")).to_have_text(unsubmitted_label)
    town.screenshot(path=ARTIFACTS / "report-refused-390.png", full_page=True)
    report.refresh_from_db()
    assert report.status != ReportStatus.SUBMITTED and report.submitted_at is None

    # The narrative, saved as a draft first.
    form.get_by_label("本月整治工作进展情况").fill(PROGRESS)
    form.get_by_label("突出问题处理情况").fill(PROBLEMS)
    with town.expect_navigation():
        form.get_by_role("button", name="保存草稿").click()
    expect(town).to_have_url(report_url)
    expect(town.locator(".messages .success")).to_have_text("草稿已保存。")
    expect(form.get_by_label("本月整治工作进展情况")).to_have_value(PROGRESS)
    expect(form.get_by_label("突出问题处理情况")).to_have_value(PROBLEMS)
    expect(town.locator("p > span.cell")).to_have_text(unsubmitted_label)
    report.refresh_from_db()
    assert (report.progress, report.problems_handled) == (PROGRESS, PROBLEMS)
    assert report.status != ReportStatus.SUBMITTED

    # Then submitted: the page reads back the narrative, without a form, 已报送 and on time or late.
    with town.expect_navigation():
        form.get_by_role("button", name="报送", exact=True).click()
    expect(town).to_have_url(report_url)
    expect(town.locator(".messages .success")).to_have_text("报告已报送。")
    # the narrative's form is gone; the one form left takes the signed and stamped scan (issue 18)
    expect(town.locator("form.field-form")).to_have_count(1)
    expect(town.locator("form.field-form button[name=stamped]")).to_have_text("上传盖章件")
    expect(town.locator("textarea")).to_have_count(0)
    state = town.locator("p > span.cell")
    expect(state).to_have_text("已报送")
    expect(state).to_have_attribute("data-state", submitted_state)
    expect(town.locator("main")).to_contain_text(f"{submitted_word} · {staff.username} 于 {today:%Y-%m-%d}")
    narrative = town.locator("section.card", has=town.locator("p.narrative"))
    expect(narrative.locator("h2")).to_have_text(["本月整治工作进展情况", "突出问题处理情况"])
    expect(narrative.locator("p.narrative")).to_have_text([PROGRESS, PROBLEMS])
    expect(town.locator("main")).to_contain_text("报送时数据")
    expect(figure(town, "帮扶对象户数")).to_have_text("3")
    no_horizontal_scroll(town)
    town.screenshot(path=ARTIFACTS / "report-submitted-390.png", full_page=True)
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED
    assert (report.submitted_by, report.on_time) == (staff, not late)
    assert report.figures["covered"] == 3 and report.figures["appraisal_overdue"] == 1
    assert town_errors == []

    # A bureau official, on a desktop: 新桥镇's cell for this month is submitted; the other units' are not.
    desk = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 900})
    bureau = desk.new_page()
    bureau_errors = watch_console(bureau)
    log_in(bureau, base, official.username)
    bureau.goto(f"{base}/reports/")
    expect(bureau.locator("table.grid thead th").last).to_have_text(f"{today:%Y-%m}")
    units = Unit.objects.filter(is_active=True, reports_monthly=True)  # the plan's responsible units (issue 24)
    expect(bureau.locator("table.grid tbody tr")).to_have_count(units.count())
    for unit in units:
        this_month = bureau.locator(
            "table.grid tbody tr", has=bureau.locator("th", has_text=re.compile(f"^{re.escape(unit.name)}$"))
        )
        this_month = this_month.locator("td").last.locator("a.cell")
        expected = submitted_state if unit.name == UNIT else unsubmitted_state
        expect(this_month).to_have_attribute("data-state", expected)
    bureau.screenshot(path=ARTIFACTS / "report-grid-bureau.png", full_page=True)

    # The dashboard: the city's tiles and one row per township.
    bureau.goto(f"{base}/dashboard/")
    expect(bureau.locator("h1")).to_have_text("住房安全工作看板")
    covered_tile = bureau.locator(".tile", has=bureau.locator(".tile-label", has_text=re.compile("^帮扶对象户数$")))
    expect(covered_tile.locator(".tile-value")).to_have_text("3")
    overdue_tile = bureau.locator(".tile", has=bureau.locator(".tile-label", has_text=re.compile("^逾期未鉴定$")))
    expect(overdue_tile.locator(".tile-value")).to_have_text("1")
    table = bureau.locator("section.card", has=bureau.locator("h2", has_text="按乡镇")).locator("table.figures")
    expect(table.locator("tbody tr")).to_have_count(16)
    xinqiao_row = table.locator("tbody tr", has=bureau.get_by_role("link", name="新桥镇", exact=True))
    expect(xinqiao_row).to_have_count(1)
    expect(xinqiao_row.locator("td").first).to_have_text("3")  # 帮扶对象户数
    expect(table.locator("tfoot th").nth(1)).to_have_text("3")
    bureau.screenshot(path=ARTIFACTS / "dashboard-city.png", full_page=True)

    # Drill down to 新桥镇's villages, then to one village's households.
    xinqiao_row.get_by_role("link", name="新桥镇", exact=True).click()
    bureau.wait_for_url(f"{base}/dashboard/?township={xinqiao.pk}")
    expect(bureau.locator("h1")).to_have_text("新桥镇 · 住房安全工作看板")
    villages = bureau.locator("section.card", has=bureau.locator("h2", has_text="按村")).locator("table.figures")
    expect(villages.locator("tbody tr")).to_have_count(2)  # villages with data only
    expect(villages.locator("tbody tr", has_text="东坑村").locator("td").first).to_have_text("2")
    expect(villages.locator("tbody tr", has_text="西坑村").locator("td").first).to_have_text("1")
    bureau.screenshot(path=ARTIFACTS / "dashboard-xinqiao.png", full_page=True)
    villages.get_by_role("link", name="东坑村", exact=True).click()
    bureau.wait_for_url(f"{base}/dashboard/?village={dongkeng.pk}")  # the drill-down stays in the dashboard
    households = bureau.locator("ul.list > li")
    expect(households).to_have_count(2)
    for head in ("林秀英", "陈德胜"):
        expect(households.filter(has_text=head)).to_have_count(1)
    assert "张永福" not in bureau.inner_text("main")
    bureau.screenshot(path=ARTIFACTS / "dashboard-village-households.png", full_page=True)
    # and back up by the breadcrumbs: the township, then the whole city
    bureau.locator(".shell-crumbs").get_by_role("link", name="新桥镇").click()
    expect(villages.locator("tbody tr")).to_have_count(2)
    bureau.locator(".shell-crumbs").get_by_role("link", name="全市").click()
    bureau.wait_for_url(f"{base}/dashboard/")
    assert bureau_errors == []
    desk.close()


def test_dashboard_totals_line_up_under_their_columns(browser, live_server, personas, xinqiao):
    HouseholdFactory(village=VillageFactory(township=xinqiao, name="东坑村"))
    desk = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 900})
    page = desk.new_page()
    log_in(page, live_server.url, personas[Role.BUREAU_OFFICIAL].username)
    page.goto(f"{live_server.url}/dashboard/")
    table = page.locator("table.figures")
    expect(table.locator("tfoot th.num").first).to_have_text("1")
    align = "element => getComputedStyle(element).textAlign"
    assert table.locator("tbody td.num").first.evaluate(align) == "right"
    assert set(table.locator("tfoot th.num").evaluate_all(f"cells => cells.map({align})")) == {"right"}
    desk.close()
