"""Unit reports in the API (reporting/api.py): scoped like the reports' grid (another township's report is a 404 to
township staff and absent from their list), the figures as the report's page shows them, filters, bad values a
Chinese 400, flat query counts."""

import datetime

import pytest
from django.utils import timezone

from households.models import Unit
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory, make_user
from housing_safety.access import Role
from housing_safety.api import keys
from housing_safety.tests.kit import api_get, api_key
from reporting import selectors, services
from reporting.models import MonthlyReport, ReportKind

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/"


def key_for(user, scopes=("read:reports",)):
    return api_key(user, scopes)


get = api_get  # (plain key, url, **query)


@pytest.fixture
def opened(xinqiao, shuangyang):
    for township in (xinqiao, shuangyang):
        DwellingFactory(household=HouseholdFactory(village=VillageFactory(township=township)))
    services.open_reports(kind=ReportKind.MONTHLY, day=timezone.localdate())
    return MonthlyReport.objects.get(unit__township=xinqiao, kind=ReportKind.MONTHLY)


@pytest.fixture
def staff(xinqiao):
    return make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao])


def test_a_report_carries_its_narrative_and_the_pages_figures(opened, staff, xinqiao):
    services.save_report(actor=staff, report=opened, progress="完成鉴定两户", problems_handled="无", submit=False)
    _key, plain = key_for(staff)
    row = get(plain, f"{URL}{opened.pk}/").json()
    assert row["unit"] == opened.unit_id and row["unit_name"] == opened.unit.name and row["township"] == xinqiao.pk
    assert row["kind"] == "monthly" and row["status"] == "open" and row["period"] == opened.period.isoformat()
    assert row["progress"] == "完成鉴定两户" and row["problems_handled"] == "无"
    assert row["figures"] == selectors.report_figures(opened, timezone.localdate())  # what the page shows
    assert row["figures"]["covered"] == 1
    [listed] = get(plain, URL).json()["results"]
    assert listed["figures"] == MonthlyReport.objects.get(pk=opened.pk).figures  # the list: the stored figures


def test_another_townships_report_is_a_404_and_not_listed(opened, staff, shuangyang):
    other = MonthlyReport.objects.get(unit__township=shuangyang, kind=ReportKind.MONTHLY)
    _key, plain = key_for(staff)
    assert [row["id"] for row in get(plain, URL).json()["results"]] == [opened.pk]
    assert get(plain, f"{URL}{other.pk}/").status_code == 404
    assert get(plain, URL, township=shuangyang.pk).json()["results"] == []


def test_the_filters_narrow_the_list(opened, staff, xinqiao, poverty_office):
    services.save_report(actor=staff, report=opened, progress="进展", problems_handled="无", submit=True)
    services.open_reports(kind=ReportKind.YEAR_END, day=timezone.localdate())
    _key, plain = key_for(make_user(Role.BUREAU_OFFICIAL))

    def ids(**params):
        return {row["id"] for row in get(plain, URL, page_size=200, **params).json()["results"]}

    everyone = set(MonthlyReport.objects.values_list("pk", flat=True))
    assert ids() == everyone
    assert ids(township=xinqiao.pk) == set(
        MonthlyReport.objects.filter(unit__township=xinqiao).values_list("pk", flat=True)
    )
    assert ids(unit=poverty_office.pk) == set(poverty_office.reports.values_list("pk", flat=True))
    assert ids(status="submitted") == {opened.pk}
    year_end = set(MonthlyReport.objects.filter(kind=ReportKind.YEAR_END).values_list("pk", flat=True))
    assert year_end and ids(kind="year_end") == year_end
    assert ids(kind="year_end", status="submitted") == set()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"township": "abc"}, "township"),
        ({"unit": "-1"}, "unit"),
        ({"kind": "weekly"}, "kind"),
        ({"status": "missing"}, "status"),
        ({"changed_since": "5月1日"}, "changed_since"),
    ],
)
def test_bad_parameters_are_a_400_naming_them_in_chinese(opened, staff, params, field):
    _key, plain = key_for(staff)
    response = get(plain, URL, **params)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == field
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), error


def test_a_key_without_the_read_scope_is_a_403(opened, staff):
    _key, plain = key_for(staff, scopes=["read:figures"])
    for url in (URL, f"{URL}{opened.pk}/"):
        response = get(plain, url)
        assert response.status_code == 403
        assert response.json()["errors"][0]["message"] == "此 API 密钥没有“read:reports”权限范围。"
    _key, plain = key_for(make_user(Role.HELPER))  # helpers file and read no unit report
    assert get(plain, URL).status_code == 403


@pytest.mark.parametrize("months", [1, 3])
def test_list_queries_do_not_grow_with_the_page(django_assert_num_queries, xinqiao, months):
    today = timezone.localdate()
    for back in range(months):
        services.open_reports(kind=ReportKind.MONTHLY, day=(today.replace(day=1) - datetime.timedelta(days=31 * back)))
    official = make_user(Role.BUREAU_OFFICIAL)
    assert Unit.objects.filter(reports_monthly=True).count() > 1
    key, plain = key_for(official)
    keys.touch(key)  # the last use written a moment ago: no UPDATE in the measured call
    expected = MonthlyReport.objects.count()
    # key (with its account), permissions (the user's, its groups'), scope (profile, townships), the page
    with django_assert_num_queries(6):
        assert len(get(plain, URL, page_size=200).json()["results"]) == expected
