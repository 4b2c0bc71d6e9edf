"""The plan's tasks and mechanisms on the dashboard (issue 24): a progress line per task computed from the records,
each linked to the list behind it; the mechanisms' and requirements' next deadline and whether the last was met."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from households.models import Unit
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory
from housing_safety.models import OutgoingEmail
from inspections.models import Campaign, Revisit
from rectification import services as rectification_services
from rectification.models import PlanItem, Problem
from reporting.models import MonthlyReport, ReportKind, ReportStatus
from reporting.selectors import township_table
from reporting.selectors.plan import plan_progress

pytestmark = pytest.mark.django_db
D = datetime.date
RULE = PlanItem.Rule


def progress(user, today: datetime.date, **kwargs) -> dict:
    _rows, totals = township_table(user, today)
    return {row.item.rule: row for row in plan_progress(user, totals, today, links={}, **kwargs)}


def dashboard_plan(client, user, **query) -> dict:
    client.force_login(user)
    response = client.get(reverse("reporting:dashboard"), query)
    assert response.status_code == 200
    return {row.item.rule: row for row in response.context["plan"]}, response.content.decode()


def test_task_one_counts_appraisals_placards_and_renovations_each_linked(client, official, xinqiao):
    """Task 一: "脱贫的建档立卡贫困户和其他各类贫困户全面完成住房安全性评定，6月底前完成贫困户房屋安全状况制牌上墙" and
    "动态新增各类贫困户危房改造任务…6月底前全面完成": appraised over covered, placards over households to placard, the
    renovations and placards past 30 June, each a link to its list."""
    DwellingFactory(household=HouseholdFactory(village=VillageFactory(township=xinqiao)))
    plan, text = dashboard_plan(client, official)
    row = plan[RULE.NEW_HOUSEHOLDS]
    figures = {line.label: line for line in row.lines}
    assert figures["已鉴定"].value.startswith("0/1")
    assert figures["已鉴定"].url.startswith(reverse("inspections:field"))
    assert figures["已挂牌户数"].url == reverse("inspections:placard-coverage")
    assert row.deadlines[0].on == D(timezone.localdate().year, 6, 30)
    assert "整治任务和工作机制" in text and "按时完成动态新增贫困户住房安全有保障任务" in text


def test_task_three_reads_the_sending_to_longyan(official, xinqiao):
    """Task 三: "4月份完成，五月提交龙岩市审核": the entry is due by 30 April, the sending by 31 May; not sent after it is
    a deadline missed."""

    class NotSent:
        due_on, submission, late, sent = D(2027, 5, 31), None, True, False

    row = progress(official, D(2027, 6, 15), submission=NotSent())[RULE.DATA_ENTRY]
    entry, sending = row.deadlines
    assert (entry.on, sending.on) == (D(2027, 4, 30), D(2027, 5, 31))
    assert sending.met is False and sending.note == "未报送"


def test_quarterly_revisits_last_quarter_met_only_when_each_was_made_by_its_due_date(official, staff, xinqiao):
    """Mechanism 2: "每季度跟踪回访排查": last quarter's revisits were all made by their due date, or the deadline was
    missed (one made late of two)."""
    campaign = Campaign.objects.create(
        name="2027年第一季度回访", kind=Campaign.Kind.QUARTERLY, starts_on=D(2027, 1, 1), due_on=D(2027, 3, 31)
    )
    village = VillageFactory(township=xinqiao)
    dwellings = [DwellingFactory(household=HouseholdFactory(village=village)) for _ in range(2)]
    for dwelling, visited in zip(dwellings, (D(2027, 3, 20), D(2027, 4, 5)), strict=True):
        Revisit.objects.create(
            campaign=campaign, dwelling=dwelling, due_on=D(2027, 3, 31), status=Revisit.Status.DONE,
            visited_on=visited, visited_by=staff,
        )  # fmt: skip
    row = progress(official, D(2027, 4, 10))[RULE.QUARTERLY_REVISITS]
    upcoming, last = row.deadlines
    assert upcoming.on == D(2027, 6, 30) and upcoming.met is None
    assert last.on == D(2027, 3, 31) and last.met is False and last.note == "2 项中 1 项按时"
    Revisit.objects.filter(visited_on=D(2027, 4, 5)).update(visited_on=D(2027, 3, 30))
    assert progress(official, D(2027, 4, 10))[RULE.QUARTERLY_REVISITS].deadlines[1].met is True


def test_unit_reports_last_23rd_met_only_when_every_unit_reported_on_time(official, xinqiao, poverty_office):
    """四（四）: "各责任单位每月23日前向住建局报送本月整治工作进展情况和突出问题处理情况。11月10日前报送专项整治工作工作总结":
    the next 23rd; the last 23rd's reports, on time or not; the year-end summary on 10 November."""
    township_unit = Unit.objects.get(township=xinqiao)
    for unit, on_time in ((township_unit, True), (poverty_office, False)):
        MonthlyReport.objects.create(
            unit=unit, kind=ReportKind.MONTHLY, period=D(2027, 3, 1), due_on=D(2027, 3, 23),
            status=ReportStatus.SUBMITTED if on_time else ReportStatus.LATE, on_time=on_time or None,
            submitted_at=timezone.now() if on_time else None,
        )  # fmt: skip
    row = progress(official, D(2027, 4, 2))[RULE.UNIT_REPORTS]
    upcoming, last, summary = row.deadlines
    assert upcoming.on == D(2027, 4, 23)
    assert last.on == D(2027, 3, 23) and last.met is False and last.note == "2 项中 1 项按时"
    assert summary.on == D(2027, 11, 10) and summary.met is None
    # on the 23rd itself the day is not over: the last deadline is the month before's
    assert progress(official, D(2027, 4, 23))[RULE.UNIT_REPORTS].deadlines[0].on == D(2027, 4, 23)


def test_the_lead_report_is_met_when_its_email_reached_the_commission(official, xinqiao):
    """四（二）: "牵头单位按季度报市纪委监委": last quarter's report (its e-mail, key leads:YYYY-Qn) sent, or not."""
    today = D(2027, 1, 20)
    row = progress(official, today)[RULE.LEAD_REPORT]
    assert row.deadlines[0].on == D(2027, 4, 1)
    assert row.deadlines[1].met is False and row.deadlines[1].note == "未报送"
    OutgoingEmail.objects.create(key="leads:2026-Q4", recipients=["a@example.com"], subject="s", body="b",
                                 status=OutgoingEmail.Status.SENT)  # fmt: skip
    assert progress(official, today)[RULE.LEAD_REPORT].deadlines[1].met is True
    OutgoingEmail.objects.create(key="leads:2026-Q4:commission", recipients=[], subject="s", body="b",
                                 status=OutgoingEmail.Status.GAVE_UP)  # fmt: skip
    last = progress(official, today)[RULE.LEAD_REPORT].deadlines[1]
    assert last.met is False and last.note == "市纪委监委未填写邮箱，未能送达"


def test_each_task_counts_its_problems_and_links_to_them(client, staff, xinqiao, shuangyang):
    """第一阶段: "从落实任务和4项机制两方面排查短板不足和存在问题…建立整治问题“一乡镇（街道）一清单”": a township's line per
    task counts its own open problems of that task and leads to them; it names no other township's unit."""
    rectification_services.save_problem(
        actor=staff,
        problem=Problem(
            township=xinqiao, source=Problem.Source.SELF_INSPECTION, kind=Problem.Kind.PLACARD_MISSING,
            description="未挂牌", deadline=timezone.localdate() - datetime.timedelta(days=1),
        ),
    )  # fmt: skip
    plan, text = dashboard_plan(client, staff)
    row = plan[RULE.NEW_HOUSEHOLDS]
    assert (row.problems_open, row.problems_overdue) == (1, 1)
    assert f"plan={row.item.pk}" in row.problems_url and f"township={xinqiao.pk}" in row.problems_url
    assert "未挂牌" in client.get(row.problems_url).content.decode()
    assert "各乡镇街道" in text and "双洋镇" not in text
    assert "拱桥镇人民政府" not in text  # task 四's townships are named to the bureau, not to another township


# Each line's figure opens a list of the same records that says what it shows (the tester's round, as `official`) --


def test_revisits_overdue_opens_the_overdue_revisits_saying_so(client, official, xinqiao):
    """任务二 「回访逾期 0」 opened 「待回访」 and said 「没有待回访的房屋。」 under a table of pending visits: the list
    filtered to the overdue ones says so, in its heading and when empty."""
    campaign = Campaign.objects.create(
        name="本季度回访", kind=Campaign.Kind.QUARTERLY, starts_on=timezone.localdate(), due_on=timezone.localdate()
    )
    dwelling = DwellingFactory(household=HouseholdFactory(village=VillageFactory(township=xinqiao)))
    Revisit.objects.create(campaign=campaign, dwelling=dwelling, due_on=timezone.localdate() + datetime.timedelta(9))
    plan, _text = dashboard_plan(client, official)
    line = {line.label: line for line in plan[RULE.NEW_HOUSEHOLDS].lines + plan[RULE.QUARTERLY_REVISITS].lines}
    url = line["回访逾期"].url
    assert "show=overdue" in url
    page = client.get(url).content.decode()
    assert "<h1>逾期未回访</h1>" in page and "没有逾期未回访的房屋。" in page and "没有待回访的房屋" not in page
    assert "<h1>待回访</h1>" in client.get(reverse("inspections:revisits")).content.decode()


def test_complaints_overdue_opens_the_overdue_complaints_saying_so(client, official, xinqiao):
    plan, _text = dashboard_plan(client, official)
    line = {line.label: line for line in plan[RULE.COMPLAINTS].lines}
    page = client.get(line["举报投诉逾期"].url).content.decode()
    assert "没有逾期的举报投诉。" in page and "暂无举报" not in page


def test_a_tasks_problems_open_on_a_list_whose_township_counts_follow_its_filters(client, official, staff, xinqiao):
    """任务一 「问题未整改 1」 opened the list with 1 problem under a township table counting every problem (新桥镇 3):
    the table counts what the list shows; its figures' headings sit over their numbers."""
    deadline = timezone.localdate() + datetime.timedelta(days=5)
    for description in ("未挂牌", "别的问题", "另一个问题"):
        rectification_services.save_problem(
            actor=staff,
            problem=Problem(
                township=xinqiao, source=Problem.Source.SELF_INSPECTION, kind=Problem.Kind.PLACARD_MISSING,
                description=description, deadline=deadline,
            ),
        )  # fmt: skip
    Problem.objects.exclude(description="未挂牌").update(plan_item=PlanItem.objects.get(rule=RULE.COMPLAINTS))
    plan, _text = dashboard_plan(client, official)
    response = client.get(plan[RULE.NEW_HOUSEHOLDS].problems_url)
    counts = {row["township"].name: row for row in response.context["counts"]}
    assert counts["新桥镇"]["open"] == 1 == response.context["page"].paginator.count
    assert '<th class="num">待整改</th>' in response.content.decode()
    assert {row["township"].name: row for row in client.get(reverse("rectification:problems")).context["counts"]}[
        "新桥镇"
    ]["open"] == 3


@pytest.mark.parametrize(
    ("label", "chip"), [("已鉴定", "已鉴定 · 共 0 户"), ("逾期未制牌上墙", "逾期未制牌上墙 · 共 0 户")]
)
def test_household_figures_open_the_household_list_naming_the_filter(client, official, xinqiao, label, chip):
    """「已鉴定 230」 and 「逾期未制牌上墙 238」 opened 农户查询 with no total and no word of the filter: the list names it
    with its total and a way to clear it."""
    DwellingFactory(household=HouseholdFactory(village=VillageFactory(township=xinqiao)))
    plan, _text = dashboard_plan(client, official)
    line = {line.label: line for line in plan[RULE.NEW_HOUSEHOLDS].lines}[label]
    page = client.get(line.url).content.decode()
    assert chip in page
    assert f'href="{reverse("inspections:field")}" title="显示全部农户"' in page
    assert "共 1 户" not in client.get(reverse("inspections:field")).content.decode()
