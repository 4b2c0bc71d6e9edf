"""Appraisals in the API (inspections/api.py): the grades of the national form, scoped like the pages (another
township's appraisal is a 404 and absent from the list), filters, bad values a Chinese 400, flat query counts."""

import datetime

import pytest

from households.tests.factories import DwellingFactory, household_with_dwelling, make_user
from housing_safety.access import Role
from housing_safety.api import keys
from housing_safety.tests.kit import api_get, api_key
from inspections.models import Appraisal
from inspections.tests.factories import AppraisalFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/appraisals/"


def key_for(user, scopes=("read:appraisals",)):
    return api_key(user, scopes, name="外业系统")


get = api_get  # (plain key, url, **query)


@pytest.fixture
def staff_key(xinqiao):
    return key_for(make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao]))[1]


@pytest.fixture
def home_appraisal(home_household):
    return AppraisalFactory(
        dwelling=home_household.dwellings.get(),
        grade="C",
        load_bearing_walls="c",
        recommendation=Appraisal.Recommendation.REPAIR,
        appraised_on=datetime.date(2025, 9, 3),
    )


@pytest.fixture
def other_appraisal(other_household):
    return AppraisalFactory(dwelling=other_household.dwellings.get())


def test_an_appraisal_carries_its_grades_and_where_it_is(staff_key, home_household, home_appraisal):
    row = get(staff_key, f"{URL}{home_appraisal.pk}/").json()
    assert row["components"] == {
        "foundation": "b", "load_bearing_walls": "c", "timber_frame": "b", "roof_truss": "b", "concrete_frame": "n",
        "floor_roof_slab": "b",
    }  # fmt: skip
    assert row["grade"] == "C" and row["recommendation"] == "repair" and row["appraised_on"] == "2025-09-03"
    assert row["dwelling"] == home_appraisal.dwelling_id
    assert row["household"] == home_household.pk
    assert row["village"] == home_household.village_id
    assert row["township"] == home_household.village.township_id
    assert row["kind"] == "assessment" and row["appraisers"] == "张工、李工"


def test_another_townships_appraisal_is_a_404_and_not_listed(staff_key, home_appraisal, other_appraisal):
    assert [row["id"] for row in get(staff_key, URL).json()["results"]] == [home_appraisal.pk]
    response = get(staff_key, f"{URL}{other_appraisal.pk}/")
    assert response.status_code == 404
    assert response.json()["errors"][0]["message"] == "未找到，或不在您的权限范围内。"
    # naming the other township in a filter finds nothing: it narrows, never widens
    other_township = other_appraisal.dwelling.household.village.township_id
    assert get(staff_key, URL, township=other_township).json()["results"] == []


def test_the_filters_narrow_the_list(xinqiao, home_household, home_appraisal):
    second = household_with_dwelling(xinqiao, "西坑村")
    safe = AppraisalFactory(dwelling=second.dwellings.get(), grade="A", foundation="a", load_bearing_walls="a")
    _key, plain = key_for(make_user(Role.BUREAU_OFFICIAL))

    def ids(**params):
        return [row["id"] for row in get(plain, URL, **params).json()["results"]]

    assert ids() == [home_appraisal.pk, safe.pk]
    assert ids(township=xinqiao.pk) == [home_appraisal.pk, safe.pk]
    assert ids(village=second.village_id) == [safe.pk]
    assert ids(household=home_household.pk) == [home_appraisal.pk]
    assert ids(dwelling=safe.dwelling_id) == [safe.pk]
    assert ids(grade="C") == [home_appraisal.pk]
    assert ids(grade="A", kind="formal") == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"township": "abc"}, "township"),
        ({"village": "-1"}, "village"),
        ({"household": "1.5"}, "household"),
        ({"grade": "E"}, "grade"),
        ({"kind": "bogus"}, "kind"),
        ({"changed_since": "2026-05-01"}, "changed_since"),  # appraisals keep no change time
    ],
)
def test_bad_parameters_are_a_400_naming_them_in_chinese(staff_key, params, field):
    response = get(staff_key, URL, **params)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == field
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), error


def test_a_key_without_the_read_scope_is_a_403(xinqiao, home_appraisal):
    _key, plain = key_for(make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao]), scopes=["read:households"])
    for url in (URL, f"{URL}{home_appraisal.pk}/"):
        response = get(plain, url)
        assert response.status_code == 403
        assert response.json()["errors"][0]["message"] == "此 API 密钥没有“read:appraisals”权限范围。"


def test_a_role_without_the_permission_is_a_403(home_appraisal):
    _key, plain = key_for(make_user(Role.HELPER))  # helpers may view appraisals: the control
    assert get(plain, URL).status_code == 200
    _key, plain = key_for(make_user(None))
    assert get(plain, URL).status_code == 403


@pytest.mark.parametrize("rows", [1, 6])
def test_list_queries_do_not_grow_with_the_page(django_assert_num_queries, xinqiao, rows):
    for n in range(rows):
        AppraisalFactory(dwelling=DwellingFactory(household=household_with_dwelling(xinqiao, f"鉴定{n}村")))
    key, plain = key_for(make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao]))
    keys.touch(key)  # the last use written a moment ago: no UPDATE in the measured call
    # key (with its account), permissions (the user's, its groups'), scope (profile, townships), the page
    with django_assert_num_queries(6):
        assert len(get(plain, URL).json()["results"]) == rows
