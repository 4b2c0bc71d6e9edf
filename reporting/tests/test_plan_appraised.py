"""已鉴定 counts households whose homes have an appraisal (issue 24); living safely elsewhere is not an appraisal."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory
from housing_safety.access import SYSTEM
from inspections.tests.factories import AppraisalFactory, SecuredHousingFactory
from rectification.tests.factories import dangerous_dwelling
from reporting import documents, selectors

pytestmark = [pytest.mark.django_db]
DAY = datetime.date(2026, 11, 20)


@pytest.fixture
def four(xinqiao):
    """东坑村: 林鉴定 lives in an appraised B house; 陈保障 lives in a 幸福大院 and its old D house (left) was
    appraised; 刘入院 lives in a 幸福大院 and no house of theirs was ever appraised; 黄未鉴 lives in a house never
    appraised."""
    village = VillageFactory(township=xinqiao, name="东坑村")
    appraised = HouseholdFactory(village=village, head_name="林鉴定", registered_on=datetime.date(2026, 1, 5))
    AppraisalFactory(dwelling=DwellingFactory(household=appraised), appraised_on=datetime.date(2026, 2, 1))
    secured_appraised = HouseholdFactory(village=village, head_name="陈保障", registered_on=datetime.date(2026, 1, 5))
    dangerous_dwelling(secured_appraised, grade="D", appraised_on=datetime.date(2026, 2, 1), is_occupied=False)
    SecuredHousingFactory(household=secured_appraised, since=datetime.date(2026, 3, 1))
    secured_only = HouseholdFactory(village=village, head_name="刘入院", registered_on=datetime.date(2026, 1, 5))
    DwellingFactory(household=secured_only, is_occupied=False)
    SecuredHousingFactory(household=secured_only, since=datetime.date(2026, 3, 1))
    unappraised = HouseholdFactory(village=village, head_name="黄未鉴", registered_on=datetime.date(2026, 11, 1))
    DwellingFactory(household=unappraised)
    return village


def test_secured_elsewhere_without_an_appraisal_is_not_counted_as_appraised(four, xinqiao):
    """The plan: "脱贫的建档立卡贫困户和其他各类贫困户全面完成住房安全性评定" (every poor household's house is
    appraised). 已鉴定 counts households whose homes have an appraisal; a household living safely elsewhere
    (保障安全) whose house was never appraised is shown on its own, 保障安全（未鉴定旧房）, not as appraised."""
    rows, _totals = selectors.township_table(SYSTEM, DAY)
    figures = next(row.figures for row in rows if row.area == xinqiao)
    assert figures["covered"] == 4
    assert figures["appraised"] == 2  # 林鉴定, and 陈保障 whose old house was appraised
    assert figures["secured_unappraised"] == 1  # 刘入院
    assert figures["unappraised"] == 1  # 黄未鉴
    assert figures["status_secured"] == 2
    assert figures["covered"] == figures["appraised"] + figures["unappraised"] + figures["secured_unappraised"]
    villages, _village_totals = selectors.village_table(SYSTEM, xinqiao, DAY)
    assert [(row.figures["appraised"], row.figures["secured_unappraised"]) for row in villages] == [(2, 1)]


def test_the_separate_figure_shows_in_the_reports_and_on_the_dashboard(four, client, official):
    """The figure has its column (unit reports and the consolidated workbook are built from the columns), a line in
    the consolidated report's e-mail, and a column of the dashboard's table."""
    keys = [column.key for column in selectors.COLUMNS]
    assert keys.index("secured_unappraised") == keys.index("appraised") + 1
    _rows, totals = selectors.township_table(SYSTEM, DAY)
    assert ("保障安全（未鉴定旧房）", 1) in [(str(label), value) for label, value in documents.key_figures(totals)]
    client.force_login(official)
    response = client.get(reverse("reporting:dashboard"))
    assert "secured_unappraised" in [column.key for column in response.context["table_columns"]]
    assert "保障安全（未鉴定旧房）" in response.content.decode()
