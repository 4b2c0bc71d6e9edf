"""Renovation cases in the API (rectification/api.py): each with its steps (from, to, on, note) nested and prefetched,
scoped like the case pages (another township's case is a 404 and absent from the list), filters, bad values a
Chinese 400, flat query counts."""

import datetime

import pytest
from django.utils import timezone

from households.tests.factories import HouseholdFactory, make_user
from housing_safety.access import Role
from housing_safety.api import keys
from housing_safety.tests.kit import api_get, api_key
from rectification.models import CaseStatus, RenovationCase
from rectification.tests.factories import STEP_DATES, dangerous_dwelling, days_ago, new_case, standards, walk

pytestmark = pytest.mark.django_db

URL = "/api/v1/cases/"
S = CaseStatus


def key_for(user, scopes=("read:cases",)):
    return api_key(user, scopes)


get = api_get  # (plain key, url, **query)


def case_in(village, staff, **fields):
    return new_case(staff, dangerous_dwelling(HouseholdFactory(village=village)), **fields)


@pytest.fixture
def staff(world):
    return world["users"][Role.TOWNSHIP_STAFF]


@pytest.fixture
def other_staff(world):
    return make_user(Role.TOWNSHIP_STAFF, townships=[world["shuangyang"]])


def test_a_case_carries_its_steps_in_order(world, staff):
    case = walk(
        case_in(world["home"], staff, builder="李师傅施工队"), S.TOWNSHIP_REVIEWED, township_user=staff,
        bureau_user=world["users"][Role.BUREAU_ADMIN],
    )  # fmt: skip
    _key, plain = key_for(staff)
    row = get(plain, f"{URL}{case.pk}/").json()
    assert row["number"] == case.number and row["status"] == "township_reviewed" and row["builder"] == "李师傅施工队"
    assert row["township"] == world["xinqiao"].pk and row["village"] == world["home"].pk
    assert row["household"] == case.household_id and row["dwelling"] == case.dwelling_id
    assert row["planned_subsidy"] == "18000.00" and row["renovation_type"] == "rebuild"
    steps = [(s["from_status"], s["to_status"], s["on"]) for s in row["steps"]]
    assert steps == [
        ("", "applied", days_ago(STEP_DATES[S.APPLIED]).isoformat()),
        ("applied", "village_assessed", days_ago(STEP_DATES[S.VILLAGE_ASSESSED]).isoformat()),
        ("village_assessed", "township_reviewed", days_ago(STEP_DATES[S.TOWNSHIP_REVIEWED]).isoformat()),
    ]
    assert set(row["steps"][0]) == {"from_status", "to_status", "on", "at", "note"}


def test_another_townships_case_is_a_404_and_not_listed(world, staff, other_staff):
    home, other = case_in(world["home"], staff), case_in(world["other"], other_staff)
    _key, plain = key_for(staff)
    assert [row["id"] for row in get(plain, URL).json()["results"]] == [home.pk]
    assert get(plain, f"{URL}{other.pk}/").status_code == 404
    assert get(plain, URL, township=world["shuangyang"].pk).json()["results"] == []


def test_the_filters_narrow_the_list(world, staff, other_staff):
    admin = world["users"][Role.BUREAU_ADMIN]
    applied = case_in(world["home"], staff)
    reviewed = walk(case_in(world["home"], staff), S.VILLAGE_ASSESSED, township_user=staff, bureau_user=admin)
    standards(year=2025)
    other = case_in(world["other"], other_staff, programme_year=2025)
    _key, plain = key_for(make_user(Role.BUREAU_OFFICIAL))

    def ids(**params):
        return [row["id"] for row in get(plain, URL, **params).json()["results"]]

    assert ids() == [applied.pk, reviewed.pk, other.pk]
    assert ids(township=world["xinqiao"].pk) == [applied.pk, reviewed.pk]
    assert ids(village=world["other"].pk) == [other.pk]
    assert ids(household=reviewed.household_id) == [reviewed.pk]
    assert ids(dwelling=applied.dwelling_id) == [applied.pk]
    assert ids(status="village_assessed") == [reviewed.pk]
    assert ids(programme_year=2025) == [other.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"township": "abc"}, "township"),
        ({"village": "0"}, "village"),
        ({"status": "built"}, "status"),
        ({"programme_year": "1066"}, "programme_year"),
        ({"programme_year": "二〇二六"}, "programme_year"),
        ({"changed_since": "5月1日"}, "changed_since"),
    ],
)
def test_bad_parameters_are_a_400_naming_them_in_chinese(world, staff, params, field):
    _key, plain = key_for(staff)
    response = get(plain, URL, **params)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == field
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), error


def test_a_key_without_the_read_scope_is_a_403(world, staff):
    case = case_in(world["home"], staff)
    _key, plain = key_for(staff, scopes=["read:problems", "write:cases"])
    for url in (URL, f"{URL}{case.pk}/"):
        response = get(plain, url)
        assert response.status_code == 403
        assert response.json()["errors"][0]["message"] == "此 API 密钥没有“read:cases”权限范围。"
    _key, plain = key_for(world["users"][Role.HELPER])  # helpers do not see renovation cases
    assert get(plain, URL).status_code == 403


@pytest.mark.parametrize("rows", [1, 5])
def test_list_queries_do_not_grow_with_the_page(django_assert_num_queries, world, staff, rows):
    admin = world["users"][Role.BUREAU_ADMIN]
    for n in range(rows):
        case = case_in(world["home"], staff)
        if n % 2:
            walk(case, S.VILLAGE_ASSESSED, township_user=staff, bureau_user=admin)
    key, plain = key_for(staff)
    keys.touch(key)  # the last use written a moment ago: no UPDATE in the measured call
    # key (with its account), permissions (the user's, its groups'), scope (profile, townships), the page, its steps
    with django_assert_num_queries(7):
        rows_read = get(plain, URL).json()["results"]
    assert len(rows_read) == rows and all(row["steps"] for row in rows_read)


def test_changed_since_gives_the_cases_moved_since_in_order_of_change(world, staff):
    """An incremental sync: a case's step moves its change time, so a caller asking for what changed since its last
    sync gets it (and not the cases left alone), oldest change first."""
    admin = world["users"][Role.BUREAU_ADMIN]
    quiet, moved = case_in(world["home"], staff), case_in(world["home"], staff)
    since = timezone.now()
    RenovationCase.objects.filter(pk=quiet.pk).update(updated_at=since - datetime.timedelta(hours=1))
    walk(moved, S.VILLAGE_ASSESSED, township_user=staff, bureau_user=admin)
    _key, plain = key_for(staff)

    rows = get(plain, URL, changed_since=since.isoformat())
    assert rows.status_code == 200, rows.content
    assert [row["id"] for row in rows.json()["results"]] == [moved.pk]
