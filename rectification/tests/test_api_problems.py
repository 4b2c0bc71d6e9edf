"""Problems in the API (rectification/api.py): scoped like the problem list (another township's problem is a 404 and
absent from the list), filters, bad values a Chinese 400, flat query counts."""

import datetime

import pytest

from households.tests.factories import household_with_dwelling, make_user
from housing_safety.access import Role
from housing_safety.api import keys
from housing_safety.tests.kit import api_get, api_key
from rectification.models import Problem

pytestmark = pytest.mark.django_db

URL = "/api/v1/problems/"


def key_for(user, scopes=("read:problems",)):
    return api_key(user, scopes)


get = api_get  # (plain key, url, **query)


def problem(township, household=None, **fields):
    return Problem.objects.create(
        township=township,
        household=household,
        dwelling=household.dwellings.get() if household else None,
        source=fields.pop("source", Problem.Source.SELF_INSPECTION),
        kind=fields.pop("kind", Problem.Kind.LEAKING),
        description=fields.pop("description", "屋面漏雨"),
        deadline=fields.pop("deadline", datetime.date(2026, 12, 31)),
        **fields,
    )


@pytest.fixture
def staff_key(xinqiao):
    return key_for(make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao]))[1]


def test_a_problem_carries_its_record(staff_key, xinqiao, home_household):
    row = get(staff_key, f"{URL}{problem(xinqiao, home_household, responsible_person='王主任').pk}/").json()
    assert row["township"] == xinqiao.pk and row["village"] == home_household.village_id
    assert row["household"] == home_household.pk and row["dwelling"] == home_household.dwellings.get().pk
    assert row["source"] == "self_inspection" and row["kind"] == "leaking" and row["status"] == "open"
    assert row["description"] == "屋面漏雨" and row["responsible_person"] == "王主任"
    assert row["deadline"] == "2026-12-31"
    # a township-wide problem names no household nor village
    row = get(staff_key, f"{URL}{problem(xinqiao, kind=Problem.Kind.MISSING_DOCUMENTS).pk}/").json()
    assert row["household"] is None and row["village"] is None and row["township"] == xinqiao.pk


def test_another_townships_problem_is_a_404_and_not_listed(staff_key, xinqiao, shuangyang, other_household):
    home, other = problem(xinqiao), problem(shuangyang, other_household)
    assert [row["id"] for row in get(staff_key, URL).json()["results"]] == [home.pk]
    assert get(staff_key, f"{URL}{other.pk}/").status_code == 404
    assert get(staff_key, URL, township=shuangyang.pk).json()["results"] == []


def test_the_filters_narrow_the_list(xinqiao, shuangyang, home_household, other_household):
    second = household_with_dwelling(xinqiao, "西坑村")
    a = problem(xinqiao, home_household)
    b = problem(xinqiao, second, status=Problem.Status.IN_PROGRESS, source=Problem.Source.COMPLAINT)
    c = problem(shuangyang, other_household)
    _key, plain = key_for(make_user(Role.BUREAU_OFFICIAL))

    def ids(**params):
        return [row["id"] for row in get(plain, URL, **params).json()["results"]]

    assert ids() == [a.pk, b.pk, c.pk]
    assert ids(township=xinqiao.pk) == [a.pk, b.pk]
    assert ids(village=second.village_id) == [b.pk]
    assert ids(household=home_household.pk) == [a.pk]
    assert ids(status="in_progress") == [b.pk]
    assert ids(source="complaint") == [b.pk]
    assert ids(status="verified") == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"township": "新桥"}, "township"),
        ({"village": "-3"}, "village"),
        ({"household": "x"}, "household"),
        ({"status": "done"}, "status"),
        ({"source": "press"}, "source"),
        ({"changed_since": "5月1日"}, "changed_since"),
    ],
)
def test_bad_parameters_are_a_400_naming_them_in_chinese(staff_key, params, field):
    response = get(staff_key, URL, **params)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == field
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), error


def test_a_key_without_the_read_scope_is_a_403(xinqiao):
    home = problem(xinqiao)
    _key, plain = key_for(make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao]), scopes=["read:cases"])
    for url in (URL, f"{URL}{home.pk}/"):
        response = get(plain, url)
        assert response.status_code == 403
        assert response.json()["errors"][0]["message"] == "此 API 密钥没有“read:problems”权限范围。"
    _key, plain = key_for(make_user(Role.COMPLAINT_CLERK))  # the problem list is not the complaint desk's
    assert get(plain, URL).status_code == 403


@pytest.mark.parametrize("rows", [1, 6])
def test_list_queries_do_not_grow_with_the_page(django_assert_num_queries, xinqiao, rows):
    for n in range(rows):
        problem(xinqiao, household_with_dwelling(xinqiao, f"问题{n}村"))
    key, plain = key_for(make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao]))
    keys.touch(key)  # the last use written a moment ago: no UPDATE in the measured call
    # key (with its account), permissions (the user's, its groups'), scope (profile, townships), the page
    with django_assert_num_queries(6):
        assert len(get(plain, URL).json()["results"]) == rows
