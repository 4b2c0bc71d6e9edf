"""Revisits in the API (inspections/api.py): what the visit found, scoped like the pages (another township's revisit
is a 404 and absent from the list), filters, bad values a Chinese 400, flat query counts."""

import datetime

import pytest
from django.utils import timezone

from households.tests.factories import household_with_dwelling, make_user
from housing_safety.access import Role
from housing_safety.api import keys
from housing_safety.tests.kit import api_get, api_key
from inspections.models import Campaign, Revisit

pytestmark = pytest.mark.django_db

URL = "/api/v1/revisits/"


def key_for(user, scopes=("read:revisits",)):
    return api_key(user, scopes, name="外业系统")


get = api_get  # (plain key, url, **query)


@pytest.fixture
def campaign(db):
    today = timezone.localdate()
    return Campaign.objects.create(
        name="汛前回访", kind=Campaign.Kind.POST_DISASTER, starts_on=today - datetime.timedelta(days=10),
        due_on=today + datetime.timedelta(days=60),
    )  # fmt: skip


def revisit(campaign, household, **fields):
    return Revisit.objects.create(
        campaign=campaign, dwelling=household.dwellings.get(), due_on=timezone.localdate(), **fields
    )


@pytest.fixture
def staff_key(xinqiao):
    return key_for(make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao]))[1]


def test_a_revisit_carries_what_the_visit_found(staff_key, campaign, home_household):
    done = revisit(
        campaign, home_household, status=Revisit.Status.DONE, visited_on=datetime.date(2026, 6, 2),
        outcome=Revisit.Outcome.REPAIR, still_lived_in=True, finding_leaking=True, finding_new_damage=True,
        notes="屋面渗水",
    )  # fmt: skip
    row = get(staff_key, f"{URL}{done.pk}/").json()
    assert row["campaign"] == campaign.pk and row["campaign_name"] == "汛前回访"
    assert row["dwelling"] == done.dwelling_id and row["household"] == home_household.pk
    assert row["village"] == home_household.village_id
    assert row["township"] == home_household.village.township_id
    assert row["status"] == "done" and row["visited_on"] == "2026-06-02" and row["outcome"] == "repair"
    assert row["still_lived_in"] is True and row["assessed_grade"] == ""
    assert row["findings"] == ["new_damage", "leaking"]
    assert row["notes"] == "屋面渗水"


def test_another_townships_revisit_is_a_404_and_not_listed(staff_key, campaign, home_household, other_household):
    home, other = revisit(campaign, home_household), revisit(campaign, other_household)
    assert [row["id"] for row in get(staff_key, URL).json()["results"]] == [home.pk]
    assert get(staff_key, f"{URL}{other.pk}/").status_code == 404
    assert get(staff_key, URL, township=other_household.village.township_id).json()["results"] == []


def test_the_filters_narrow_the_list(campaign, xinqiao, home_household, other_household):
    second = household_with_dwelling(xinqiao, "西坑村")
    home = revisit(campaign, home_household)
    done = revisit(campaign, second, status=Revisit.Status.DONE, visited_on=timezone.localdate(), outcome="none")
    other = revisit(campaign, other_household)
    today = timezone.localdate()
    later = Campaign.objects.create(
        name="季度回访", kind=Campaign.Kind.POST_DISASTER, starts_on=today, due_on=today + datetime.timedelta(days=9)
    )
    again = revisit(later, home_household)
    _key, plain = key_for(make_user(Role.BUREAU_OFFICIAL))

    def ids(**params):
        return [row["id"] for row in get(plain, URL, **params).json()["results"]]

    assert ids() == [home.pk, done.pk, other.pk, again.pk]
    assert ids(township=xinqiao.pk) == [home.pk, done.pk, again.pk]
    assert ids(village=second.village_id) == [done.pk]
    assert ids(campaign=later.pk) == [again.pk]
    assert ids(status="done") == [done.pk]
    assert ids(status="pending", dwelling=home.dwelling_id) == [home.pk, again.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"township": "abc"}, "township"),
        ({"village": "0"}, "village"),
        ({"campaign": "x"}, "campaign"),
        ({"status": "visited"}, "status"),
        ({"changed_since": "5月1日"}, "changed_since"),
    ],
)
def test_bad_parameters_are_a_400_naming_them_in_chinese(staff_key, params, field):
    response = get(staff_key, URL, **params)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == field
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), error


def test_a_key_without_the_read_scope_is_a_403(xinqiao, campaign, home_household):
    home = revisit(campaign, home_household)
    _key, plain = key_for(make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao]), scopes=["read:appraisals"])
    for url in (URL, f"{URL}{home.pk}/"):
        response = get(plain, url)
        assert response.status_code == 403
        assert response.json()["errors"][0]["message"] == "此 API 密钥没有“read:revisits”权限范围。"
    # a role whose pages do not show revisits (a helper) is refused whatever its key's scopes
    _key, plain = key_for(make_user(Role.HELPER))
    assert get(plain, URL).status_code == 403


@pytest.mark.parametrize("rows", [1, 6])
def test_list_queries_do_not_grow_with_the_page(django_assert_num_queries, campaign, xinqiao, rows):
    for n in range(rows):
        revisit(campaign, household_with_dwelling(xinqiao, f"回访{n}村"), finding_leaking=bool(n % 2))
    key, plain = key_for(make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao]))
    keys.touch(key)  # the last use written a moment ago: no UPDATE in the measured call
    # key (with its account), permissions (the user's, its groups'), scope (profile, townships), the page
    with django_assert_num_queries(6):
        assert len(get(plain, URL).json()["results"]) == rows
