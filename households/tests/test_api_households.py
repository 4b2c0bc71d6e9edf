"""The registry's reads in the API (households/api.py): scoped like the pages (another township's household is a 404),
numbers masked, a full-number read logged as the pages' unmask is, cursor pages, filters, flat query counts."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from households import services
from households.identity import mask_id_number, mask_phone
from households.models import Dwelling, Household
from housing_safety.access import Role
from housing_safety.api import keys
from housing_safety.models import PersonalDataAccess
from housing_safety.tests.kit import api_get, api_key

from .factories import HouseholdFactory, VillageFactory, household_with_dwelling, make_user

pytestmark = pytest.mark.django_db

ALL_READS = ["read:townships", "read:villages", "read:households", "read:dwellings"]


def key_for(user, scopes=ALL_READS):
    return api_key(user, scopes)


get = api_get  # (plain key, url, **query)


@pytest.fixture
def staff_key(xinqiao):
    return key_for(make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao]))


def test_a_township_staff_key_sees_only_its_township(staff_key, home_household, other_household):
    _key, plain = staff_key
    body = get(plain, "/api/v1/households/").json()
    assert [row["id"] for row in body["results"]] == [home_household.pk]
    assert get(plain, f"/api/v1/households/{other_household.pk}/").status_code == 404
    assert get(plain, f"/api/v1/dwellings/{other_household.dwellings.get().pk}/").status_code == 404
    assert get(plain, f"/api/v1/villages/{other_household.village_id}/").status_code == 404
    assert get(plain, f"/api/v1/townships/{other_household.village.township_id}/").status_code == 404
    # a filter naming the other township finds nothing, it does not widen the scope
    body = get(plain, "/api/v1/households/", township=other_household.village.township_id).json()
    assert body["results"] == []
    response = get(plain, f"/api/v1/households/{other_household.pk}/")
    assert response.json() == {
        "errors": [{"field": None, "code": "not_found", "message": "未找到，或不在您的权限范围内。"}]
    }


def test_a_household_shows_its_status_flags_and_masked_numbers(staff_key, home_household):
    _key, plain = staff_key
    dwelling = home_household.dwellings.get()
    Dwelling.objects.filter(pk=dwelling.pk).update(current_grade="D", current_leaking=True)
    services.refresh_home_state(household_ids=[home_household.pk])
    row = get(plain, f"/api/v1/households/{home_household.pk}/").json()
    assert row["housing_status"] == "dangerous"
    assert row["flags"] == {"owns_safe_but_lives_in_danger": False, "connected_uncooperative": False, "leaking": True}
    assert row["id_number"] == mask_id_number(home_household.id_number) != home_household.id_number
    assert row["phone"] == mask_phone(home_household.phone)
    assert row["township"] == home_household.village.township_id
    assert row["registry_status"] == "active"
    assert get(plain, f"/api/v1/dwellings/{dwelling.pk}/").json()["current_grade"] == "D"
    assert [h["id"] for h in get(plain, "/api/v1/households/", status="dangerous").json()["results"]] == [
        home_household.pk
    ]
    assert get(plain, "/api/v1/households/", status="appraised_safe").json()["results"] == []
    assert [d["id"] for d in get(plain, "/api/v1/dwellings/", grade="D").json()["results"]] == [dwelling.pk]


def test_a_full_number_read_is_logged_with_api_and_the_key(staff_key, home_household):
    key, plain = staff_key
    url = f"/api/v1/households/{home_household.pk}/"
    response = get(plain, url, unmask="1")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] is None
    assert "至少" in response.json()["errors"][0]["message"]
    assert not PersonalDataAccess.objects.exists()

    row = get(plain, url, unmask="1", reason="核对危改补助名单").json()
    assert row["id_number"] == home_household.id_number
    assert row["phone"] == home_household.phone
    access = PersonalDataAccess.objects.get()
    assert access.user == key.user
    assert access.record_type == "households.household" and access.record_id == home_household.pk
    assert access.reason == f"API，密钥 #{key.pk} {key.prefix}：核对危改补助名单"
    # the list stays masked, with or without the parameter
    listed = get(plain, "/api/v1/households/", unmask="1", reason="核对危改补助名单").json()["results"]
    assert listed[0]["id_number"] == mask_id_number(home_household.id_number)
    assert PersonalDataAccess.objects.count() == 1


def test_a_role_that_may_not_see_numbers_cannot_unmask(home_household):
    _key, plain = key_for(make_user(Role.COMPLAINT_CLERK))
    url = f"/api/v1/households/{home_household.pk}/"
    assert get(plain, url).json()["id_number"] == mask_id_number(home_household.id_number)
    response = get(plain, url, unmask="1", reason="核对危改补助名单")
    assert response.status_code == 403
    assert response.json()["errors"][0]["message"] == "您的角色无权查看个人信息。"
    assert not PersonalDataAccess.objects.exists()


def test_a_session_read_of_full_numbers_is_logged_as_api(home_household, xinqiao):
    user = make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao])
    client = Client()
    client.force_login(user)
    response = client.get(f"/api/v1/households/{home_household.pk}/", {"unmask": "1", "reason": "入户核实身份"})
    assert response.json()["id_number"] == home_household.id_number
    assert PersonalDataAccess.objects.get().reason == "API：入户核实身份"


def test_the_cursor_walks_every_household_once(xinqiao):
    village = VillageFactory(township=xinqiao)
    households = HouseholdFactory.create_batch(7, village=village)
    _key, plain = key_for(make_user(Role.BUREAU_OFFICIAL))
    seen, url, pages = [], "/api/v1/households/?page_size=3", 0
    while url:
        body = Client().get(url, HTTP_AUTHORIZATION=f"Api-Key {plain}").json()
        seen += [row["id"] for row in body["results"]]
        url, pages = body["next"], pages + 1
    assert seen == sorted(h.pk for h in households) and pages == 3


def test_changed_since_gives_what_changed_in_order_of_change(xinqiao):
    village = VillageFactory(township=xinqiao)
    old, recent = HouseholdFactory.create_batch(2, village=village)
    since = timezone.now()
    Household.objects.filter(pk=old.pk).update(updated_at=since - datetime.timedelta(days=1))
    Household.objects.filter(pk=recent.pk).update(updated_at=since + datetime.timedelta(seconds=1))
    _key, plain = key_for(make_user(Role.BUREAU_OFFICIAL))
    body = get(plain, "/api/v1/households/", changed_since=since.isoformat()).json()
    assert [row["id"] for row in body["results"]] == [recent.pk]
    assert get(plain, "/api/v1/households/", changed_since=since.date().isoformat()).status_code == 200


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"township": "abc"}, "township"),
        ({"village": "-1"}, "village"),
        ({"status": "bogus"}, "status"),
        ({"changed_since": "yesterday"}, "changed_since"),
        ({"cursor": "garbage"}, None),
    ],
)
def test_bad_parameters_are_a_400_naming_them_in_chinese(staff_key, params, field):
    _key, plain = staff_key
    response = get(plain, "/api/v1/households/", **params)
    assert response.status_code in (400, 404)
    [error] = response.json()["errors"]
    assert error["field"] == field
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), error


def test_the_page_size_is_capped(settings, xinqiao):
    settings.API_MAX_PAGE_SIZE = 2
    HouseholdFactory.create_batch(3, village=VillageFactory(township=xinqiao))
    _key, plain = key_for(make_user(Role.BUREAU_OFFICIAL))
    assert len(get(plain, "/api/v1/households/", page_size=100).json()["results"]) == 2


def test_throttled_keys_get_429_with_retry_after(settings, staff_key):
    settings.API_KEY_RATE = "2/min"
    _key, plain = staff_key
    assert [get(plain, "/api/v1/townships/").status_code for _ in range(2)] == [200, 200]
    response = get(plain, "/api/v1/townships/")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    [error] = response.json()["errors"]
    assert error["code"] == "throttled" and "秒后再试" in error["message"]
    # another key of the same account has its own budget
    _other, plain2 = key_for(_key.user)
    assert get(plain2, "/api/v1/townships/").status_code == 200


def test_throttled_people_get_429(settings, xinqiao):
    settings.API_USER_RATE = "1/min"
    client = Client()
    client.force_login(make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao]))
    assert client.get("/api/v1/townships/").status_code == 200
    assert client.get("/api/v1/townships/").status_code == 429


# No N+1: a page costs the same whatever its length ---------------------------------------------------------------


@pytest.mark.parametrize("rows", [1, 6])
def test_list_queries_do_not_grow_with_the_page(django_assert_num_queries, xinqiao, rows):
    for n in range(rows):
        household_with_dwelling(xinqiao, f"查询{n}村")
    key, plain = key_for(make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao]))
    keys.touch(key)  # the last use written a moment ago: no UPDATE in the measured calls
    # key (with its account), permissions (the user's, its groups'), scope (profile, townships), the page
    for url, count in [
        ("/api/v1/households/", 6),
        ("/api/v1/dwellings/", 6),
        ("/api/v1/villages/", 6),
        ("/api/v1/townships/", 6),
    ]:
        with django_assert_num_queries(count):
            assert len(get(plain, url).json()["results"]) >= 1


def test_a_household_living_safely_elsewhere_is_secured(staff_key, home_household):
    from inspections.tests.factories import SecuredHousingFactory  # 保障安全: inspections' status, through its hook

    SecuredHousingFactory(household=home_household, since=timezone.localdate())
    _key, plain = staff_key
    assert get(plain, f"/api/v1/households/{home_household.pk}/").json()["housing_status"] == "secured"
    assert [row["id"] for row in get(plain, "/api/v1/households/", status="secured").json()["results"]] == [
        home_household.pk
    ]
    assert get(plain, "/api/v1/households/", status="unappraised").json()["results"] == []
