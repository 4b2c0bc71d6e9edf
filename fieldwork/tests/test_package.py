"""The field app's reads (fieldwork/package.py, fieldwork/api.py; docs/field-app.md): who may take a package, what it
holds for township staff and for a helper, masked as the household lists mask, and its fixed number of queries."""

from __future__ import annotations

import datetime
import json

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from households.identity import mask_id_number, mask_phone
from households.models import Household, HouseholdCategory
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory
from housing_safety.access import Role
from housing_safety.tests.kit import NO_ROLE, api_key
from inspections import grading
from inspections.models import Campaign, Revisit
from inspections.tests.factories import AppraisalFactory
from rectification.models import Problem

from ..package import package_for, villages_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("chinese")]
D = datetime.date


def campaign(kind=Campaign.Kind.POST_DISASTER) -> Campaign:
    return Campaign.objects.create(name="台风后排查", kind=kind, starts_on=D(2026, 1, 1), due_on=D(2026, 12, 31))


def problem(household, dwelling=None, status=Problem.Status.OPEN, kind=Problem.Kind.LEAKING) -> Problem:
    return Problem.objects.create(
        township_id=household.village.township_id, household=household, dwelling=dwelling, source="other",
        kind=kind, description="屋面漏雨", deadline=D(2027, 1, 6), status=status,
        resolution="已修补" if status in (Problem.Status.RESOLVED, Problem.Status.VERIFIED) else "",
    )  # fmt: skip


def grow(village, households: int, helper=None) -> None:
    """`households` households in the village, each with a dwelling (every third appraised, every fifth with a
    second house), a pending revisit and an open problem."""
    survey = campaign()
    for n in range(households):
        household = HouseholdFactory(village=village, helper_user=helper, categories=["minimum_living", "disabled"])
        dwelling = DwellingFactory(household=household)
        if n % 3 == 0:
            AppraisalFactory(dwelling=dwelling)
        if n % 5 == 0:
            DwellingFactory(household=household)
        Revisit.objects.create(campaign=survey, dwelling=dwelling, due_on=D(2026, 12, 31))
        problem(household, dwelling)


def fresh(user) -> User:
    return User.objects.get(pk=user.pk)  # no permissions nor scope cached: what a request starts with


@pytest.fixture
def village(home_household):
    return home_household.village


# Who ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", [Role.BUREAU_ADMIN, Role.BUREAU_OFFICIAL, Role.DEPARTMENT_LIAISON, Role.COMPLAINT_CLERK, NO_ROLE]
)
def test_only_township_staff_and_helpers_have_a_package(client, personas, village, role):
    client.force_login(personas[role])
    for url in ("/api/v1/field/me/", "/api/v1/field/villages/", f"/api/v1/field/package/?village={village.pk}"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert response.json()["errors"][0]["message"]


def test_signed_out_is_a_401_in_json(village):
    for url in ("/api/v1/field/me/", "/api/v1/field/villages/", f"/api/v1/field/package/?village={village.pk}"):
        response = Client().get(url)
        assert response.status_code == 401 and response.json()["errors"][0]["code"] == "not_authenticated"


def test_a_key_caller_is_refused_even_with_every_scope(staff, village):
    from housing_safety.api.resources import all_scopes

    _key, plain = api_key(staff, all_scopes())
    for url in ("/api/v1/field/me/", "/api/v1/field/villages/", f"/api/v1/field/package/?village={village.pk}"):
        response = Client().get(url, HTTP_AUTHORIZATION=f"Api-Key {plain}")
        assert response.status_code == 403 and response.json()["errors"][0]["code"] == "session_only", url


def test_me_says_who_is_signed_in_with_the_csrf_token_and_the_photo_settings(client, staff, settings):
    staff.first_name = "张三"
    staff.save()
    client.force_login(staff)
    response = client.get("/api/v1/field/me/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    me = response.json()
    assert me["user"] == {
        "id": staff.pk,
        "name": "张三",
        "role": "township_staff",
        "role_label": "乡镇（街道）工作人员",
    }
    assert me["csrf_token"] and me["package_days"] == settings.FIELD_PACKAGE_DAYS
    assert me["photo"] == {"max_side": settings.FIELD_PHOTO_MAX_SIDE, "quality": settings.FIELD_PHOTO_QUALITY}


# Township staff -------------------------------------------------------------------------------------------------


def test_the_villages_are_the_staffs_own_with_their_items_and_estimated_size(client, staff, home_household,
                                                                             other_household, settings):  # fmt: skip
    village = home_household.village
    dwelling = home_household.dwellings.get()  # never appraised: to appraise
    Revisit.objects.create(campaign=campaign(), dwelling=dwelling, due_on=D(2026, 12, 31))
    problem(home_household, dwelling)
    problem(home_household, None, kind=Problem.Kind.OTHER, status=Problem.Status.VERIFIED)  # done: not an item
    empty = VillageFactory(township=village.township, name="空村")
    client.force_login(staff)
    response = client.get("/api/v1/field/villages/")
    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()["villages"]}
    assert other_household.village_id not in rows  # another township's
    assert rows[village.pk] == {
        "id": village.pk, "name": village.name, "township": "新桥镇", "households": 1, "items": 3,
        "estimated_bytes": 4 * settings.FIELD_PACKAGE_BYTES_PER_ITEM,
    }  # fmt: skip
    assert rows[empty.pk]["households"] == 0 and rows[empty.pk]["items"] == 0


def test_the_package_holds_the_village_masked_with_versions_and_allowed_moves(client, staff, home_household):
    village = home_household.village
    home_household.categories.set(HouseholdCategory.objects.filter(code="minimum_living"))
    never = home_household.dwellings.get()
    appraised = DwellingFactory(household=home_household, address="3组12号")
    AppraisalFactory(dwelling=appraised, appraised_on=D(2025, 4, 2), grade="B")
    newer = AppraisalFactory(dwelling=appraised, appraised_on=D(2025, 3, 1), grade="B")  # recorded later, dated earlier
    revisit = Revisit.objects.create(campaign=campaign(), dwelling=never, due_on=D(2026, 12, 31))
    open_problem = problem(home_household, never)
    resolved = problem(home_household, appraised, status=Problem.Status.RESOLVED)
    problem(home_household, None, kind=Problem.Kind.OTHER, status=Problem.Status.VERIFIED)  # done: left out
    HouseholdFactory(  # removed from the list: left out
        village=village, status=Household.Status.REMOVED, removed_on=D(2026, 1, 1), removal_reason="迁出"
    )
    HouseholdFactory(village=VillageFactory(township=village.township))  # the township's other village
    client.force_login(staff)
    response = client.get(f"/api/v1/field/package/?village={village.pk}")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    package = response.json()

    assert package["version"] == 1 and package["owner"]["id"] == staff.pk
    assert package["scope"] == {"village": {"id": village.pk, "name": village.name, "township": "新桥镇"}}
    taken = datetime.datetime.fromisoformat(package["taken_at"])
    assert datetime.datetime.fromisoformat(package["expires_at"]) - taken == datetime.timedelta(days=7)
    assert abs(taken - timezone.now()) < datetime.timedelta(minutes=1)
    assert [h["id"] for h in package["households"]] == [home_household.pk]  # not the removed one, not elsewhere
    household = package["households"][0]
    assert household["id_number"] == mask_id_number(home_household.id_number) != home_household.id_number
    assert household["phone"] == mask_phone(home_household.phone) != home_household.phone
    assert home_household.id_number not in response.content.decode()
    assert home_household.phone not in response.content.decode()
    assert household["status_label"] == "未鉴定" or household["status"] == "unappraised"
    assert household["flags"][0] == "低保户" and household["may_report"] is False
    houses = {d["id"]: d for d in household["dwellings"]}
    assert houses[never.pk]["to_appraise"] is True and houses[never.pk]["based_on"] == "a:"
    assert houses[never.pk]["grade"] is None and houses[never.pk]["appraised_on"] is None
    assert houses[appraised.pk]["to_appraise"] is False
    assert houses[appraised.pk]["based_on"] == f"a:{newer.pk}"  # the last recorded, whatever its date
    assert houses[appraised.pk]["appraised_on"] == "2025-04-02"  # the current appraisal (by date)
    assert houses[appraised.pk]["grade"] == "B" and houses[appraised.pk]["grade_label"].startswith("B")

    assert package["revisits"] == [
        {"id": revisit.pk, "household": home_household.pk, "dwelling": never.pk, "campaign": "台风后排查",
         "due_on": "2026-12-31", "asks_grade": False, "based_on": "pending"}
    ]  # fmt: skip
    problems = {p["id"]: p for p in package["problems"]}
    assert set(problems) == {open_problem.pk, resolved.pk}
    assert [(m["to"], m["needs_resolution"]) for m in problems[open_problem.pk]["moves"]] == [
        ("in_progress", False),
        ("resolved", True),
    ]
    assert problems[open_problem.pk]["based_on"] == "open" and problems[open_problem.pk]["due_on"] == "2027-01-06"
    assert problems[resolved.pk]["moves"] == []  # verifying is the bureau's move

    forms = package["forms"]
    assert set(forms) == {"appraisal", "revisit", "helper_report"}
    assert forms["appraisal"]["messages"] == grading.client_messages()
    assert [g[0] for g in forms["appraisal"]["grades"]] == ["A", "B", "C", "D"]
    assert forms["appraisal"]["grades"][0][2].startswith("A级：结构能满足安全使用要求")
    assert [c[0] for c in forms["appraisal"]["component_grades"]] == ["a", "b", "c", "d", "n"]
    assert forms["revisit"]["assessed_grades"][0] == ["", "—"]


def test_a_house_a_revisit_found_in_need_of_reappraisal_is_to_appraise_again(staff, home_household):
    dwelling = home_household.dwellings.get()
    AppraisalFactory(dwelling=dwelling, appraised_on=D(2025, 6, 1))
    visit = Revisit.objects.create(campaign=campaign(), dwelling=dwelling, due_on=D(2026, 12, 31))
    Revisit.objects.filter(pk=visit.pk).update(status="done", visited_on=D(2025, 9, 1), outcome="reappraisal")
    house = package_for(staff, home_household.village_id)["households"][0]["dwellings"][0]
    assert house["to_appraise"] is True
    AppraisalFactory(dwelling=dwelling, appraised_on=D(2025, 10, 1))  # re-appraised since
    assert package_for(staff, home_household.village_id)["households"][0]["dwellings"][0]["to_appraise"] is False


def test_a_base_village_survey_brings_its_unregistered_households_and_asks_the_grade(staff, home_household):
    village = home_household.village
    unregistered = HouseholdFactory(village=village, status=Household.Status.UNREGISTERED)
    house = DwellingFactory(household=unregistered)
    Revisit.objects.create(campaign=campaign(Campaign.Kind.BASE_VILLAGE), dwelling=house, due_on=D(2026, 12, 31))
    package = package_for(staff, village.pk)
    assert unregistered.pk in {h["id"] for h in package["households"]}
    assert package["revisits"][0]["asks_grade"] is True


def test_another_townships_village_is_a_404_and_no_village_a_400(client, staff, other_household):
    client.force_login(staff)
    response = client.get(f"/api/v1/field/package/?village={other_household.village_id}")
    assert response.status_code == 404
    missing = client.get("/api/v1/field/package/")
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "village"
    assert client.get("/api/v1/field/package/?village=abc").status_code == 400


# Helpers ---------------------------------------------------------------------------------------------------------


def test_a_helpers_package_holds_their_covered_households_and_the_report_form_only(client, helper, home_household,
                                                                                    other_household):  # fmt: skip
    Household.objects.filter(pk__in=[home_household.pk, other_household.pk]).update(helper_user=helper)
    removed = HouseholdFactory(
        village=home_household.village,
        helper_user=helper,
        status=Household.Status.REMOVED,
        removed_on=D(2026, 1, 1),
        removal_reason="迁出",
    )
    HouseholdFactory(village=home_household.village)  # not theirs
    Revisit.objects.create(campaign=campaign(), dwelling=home_household.dwellings.get(), due_on=D(2026, 12, 31))
    problem(home_household)
    client.force_login(helper)

    villages = client.get("/api/v1/field/villages/").json()["villages"]
    assert len(villages) == 1 and villages[0]["id"] is None and villages[0]["name"] == "我帮扶的农户"
    assert villages[0]["households"] == 2

    package = client.get("/api/v1/field/package/").json()
    assert package["scope"] == {"village": None}
    ids = {h["id"] for h in package["households"]}
    assert ids == {home_household.pk, other_household.pk} and removed.pk not in ids  # wherever they live
    assert all(h["may_report"] for h in package["households"])
    assert all(not d["to_appraise"] for h in package["households"] for d in h["dwellings"])
    assert package["revisits"] == [] and package["problems"] == []
    assert set(package["forms"]) == {"helper_report"}
    assert other_household.id_number not in json.dumps(package, ensure_ascii=False)
    # a village named by a helper is none of theirs
    assert client.get(f"/api/v1/field/package/?village={home_household.village_id}").status_code == 404


# Queries ---------------------------------------------------------------------------------------------------------


def test_the_package_costs_the_same_queries_for_a_small_and_a_larger_village(django_assert_num_queries, staff,
                                                                               xinqiao):  # fmt: skip
    small, large = VillageFactory(township=xinqiao), VillageFactory(township=xinqiao)
    grow(small, 2)
    grow(large, 25)
    for village, households in ((small, 2), (large, 25)):
        user = fresh(staff)
        # the scope (profile, townships), the permissions (user's, groups'), the village, then one query per part:
        # households, their categories, dwellings, revisits, problems
        with django_assert_num_queries(10):
            package = package_for(user, village.pk)
        assert len(package["households"]) == households and len(package["problems"]) == households


def test_the_villages_cost_the_same_queries_whatever_their_size(django_assert_num_queries, staff, xinqiao):
    small = VillageFactory(township=xinqiao)
    grow(small, 2)
    # the scope (profile, townships), the permissions (user's, groups'), then households, houses to appraise,
    # revisits, problems (each grouped by village) and the villages
    user = fresh(staff)
    with django_assert_num_queries(9):
        villages_for(user)
    grow(VillageFactory(township=xinqiao), 20)
    user = fresh(staff)
    with django_assert_num_queries(9):
        rows = villages_for(user)
    assert sorted(row["households"] for row in rows if row["households"])[-2:] == [2, 20]


def test_a_helpers_package_costs_the_same_queries_whatever_their_households(django_assert_num_queries, helper,
                                                                             xinqiao):  # fmt: skip
    grow(VillageFactory(township=xinqiao), 2, helper=helper)
    user = fresh(helper)
    with django_assert_num_queries(7):  # the scope (2), the permissions (2), households, categories, dwellings
        assert len(package_for(user)["households"]) == 2
    grow(VillageFactory(township=xinqiao), 15, helper=helper)
    user = fresh(helper)
    with django_assert_num_queries(7):
        assert len(package_for(user)["households"]) == 17
