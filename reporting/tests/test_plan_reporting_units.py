"""Who reports each month (issue 24): the plan's responsible units (责任单位), never the bureau itself."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from households.models import Unit
from reporting import services
from reporting.models import MonthlyReport, ReportKind, ReportStatus
from reporting.selectors import report_grid

pytestmark = pytest.mark.django_db
D = datetime.date
JANUARY = D(2027, 1, 5)


def reporting_names() -> set[str]:
    return set(Unit.objects.filter(reports_monthly=True).values_list("name", flat=True))


def test_the_migration_marks_the_units_the_plan_names_as_responsible(xinqiao):
    """The plan names per task "（责任单位：市住建局、扶贫办、各乡镇街道）", "（责任单位：市住建局、应急管理局、各乡镇街道）",
    "（责任单位：市农业农村局、住建局、民政局、拱桥镇政府、永福镇政府）", "（责任单位：市住建、扶贫、民政、退役军人、残联部门、各乡镇
    街道）", and asks "各责任单位每月23日前向住建局报送本月整治工作进展情况": every one reports, except the bureau (住建局), which
    receives the reports. 自然资源局 and 市场监管局 are only 参与单位, responsible for no task."""
    names = reporting_names()
    for name in (
        "漳平市扶贫开发办公室",
        "漳平市民政局",
        "漳平市退役军人事务局",
        "漳平市应急管理局",
        "漳平市残疾人联合会",
        "漳平市农业农村局",
    ):
        assert name in names
    assert {"漳平市住房和城乡建设局", "漳平市自然资源局", "漳平市市场监督管理局"}.isdisjoint(names)
    townships = Unit.objects.filter(kind=Unit.Kind.TOWNSHIP)
    assert townships.count() == 16 and not townships.filter(reports_monthly=False).exists()


def test_the_monthly_job_opens_reports_for_the_reporting_units_only(xinqiao):
    """ "各责任单位每月23日前向住建局报送": one report per responsible unit, none for the bureau (市住建局) to itself."""
    opened = services.open_reports(kind=ReportKind.MONTHLY, day=JANUARY)
    units = set(MonthlyReport.objects.values_list("unit__name", flat=True))
    assert opened == len(units) == 16 + 6
    assert units == reporting_names()
    assert not MonthlyReport.objects.filter(unit__kind=Unit.Kind.BUREAU).exists()
    services.open_reports(kind=ReportKind.YEAR_END, day=D(2027, 11, 1))  # "11月10日前报送专项整治工作工作总结" alike
    assert set(MonthlyReport.objects.filter(kind=ReportKind.YEAR_END).values_list("unit__name", flat=True)) == units


def test_a_unit_unticked_gets_no_report_and_its_open_rows_are_not_late(xinqiao, official):
    """ "各责任单位每月23日前向住建局报送": a unit the bureau marks as not reporting is no longer expected: its open report
    is not marked late, not reminded, not counted on the home's "unit reports late", and not shown as missing."""
    services.open_reports(kind=ReportKind.MONTHLY, day=JANUARY)
    natural = Unit.objects.get(name="漳平市自然资源局")
    natural.reports_monthly = True
    natural.save()
    bureau = Unit.objects.get(kind=Unit.Kind.BUREAU)
    # a row of the bureau opened before issue 24 (history kept as it was)
    old = MonthlyReport.objects.create(unit=bureau, period=D(2026, 12, 1), due_on=D(2026, 12, 23))
    services.open_reports(kind=ReportKind.MONTHLY, day=JANUARY)
    assert MonthlyReport.objects.filter(unit=natural).count() == 1
    natural.reports_monthly = False
    natural.save()
    services.mark_late_reports(day=D(2027, 1, 24))
    assert MonthlyReport.objects.get(unit=natural).status == ReportStatus.OPEN
    assert MonthlyReport.objects.get(pk=old.pk).status == ReportStatus.OPEN
    late = MonthlyReport.objects.filter(status=ReportStatus.LATE)
    assert late.count() == 22 and not late.filter(unit__in=[natural, bureau]).exists()
    grid = {row["unit"].name: row["cells"] for row in report_grid(official, [D(2026, 12, 1), D(2027, 1, 1)])}
    assert natural.name not in grid and bureau.name not in grid and len(grid) == 22


def test_reminders_before_the_23rd_reach_reporting_units_only(xinqiao, monkeypatch):
    """ "每月23日前向住建局报送": the reminder of the 20th goes to the units that report, not the bureau."""
    services.open_reports(kind=ReportKind.MONTHLY, day=JANUARY)
    bureau = Unit.objects.get(kind=Unit.Kind.BUREAU)
    MonthlyReport.objects.create(unit=bureau, period=D(2027, 1, 1), due_on=D(2027, 1, 23))  # an old-style row
    keys = []
    monkeypatch.setattr(services, "notify", lambda *, key, **kwargs: keys.append(key) or 1)
    assert services.remind_units(kind=ReportKind.MONTHLY, day=D(2027, 1, 20)) == 22
    assert f"reminder:monthly:2027-01:{bureau.pk}" not in keys and len(keys) == 22


def test_the_bureaus_home_counts_no_report_of_the_bureau_to_itself(xinqiao, official):
    """The bureau "receives the reports": a late row of its own is not one of the "unit reports late"."""
    bureau = Unit.objects.get(kind=Unit.Kind.BUREAU)
    MonthlyReport.objects.create(unit=bureau, period=D(2026, 11, 1), due_on=D(2026, 11, 23), status="late")
    from reporting.workspace import todos

    late = [todo for todo in todos(official, D(2027, 1, 5)) if todo.url == reverse("reporting:reports")]
    assert late and late[0].count == 0


def test_the_bureau_cannot_be_marked_as_reporting_to_itself():
    """ "各责任单位…向住建局报送": the bureau is the receiver, and the admin refuses the tick on its row."""
    bureau = Unit.objects.get(kind=Unit.Kind.BUREAU)
    bureau.reports_monthly = True
    with pytest.raises(ValidationError) as refused:
        bureau.full_clean()
    assert "reports_monthly" in refused.value.message_dict


def test_the_admin_form_shows_the_setting_in_chinese(admin, client, chinese):
    client.force_login(admin)
    unit = Unit.objects.get(name="漳平市民政局")
    page = client.get(reverse("admin:households_unit_change", args=[unit.pk]))
    assert page.status_code == 200
    assert "向住建局报送（月度进展、年度总结）" in page.content.decode()
