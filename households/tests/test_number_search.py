"""Searching by number cannot read a masked number back (issue 23).

A role that may unmask found a household with a growing ID prefix in the admin's search, one digit per request, and
so read the hidden birth date (and phones) without any access being logged. The one rule
(households.selectors.search_households): a number finds a household only whole (18 characters of an ID number,
normalised; a whole phone number), or by its last four characters together with the head's name; a fragment finds
nothing, and a role without households.view_personal_data finds nothing by number at all.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from households.identity import id_check_digit
from households.models import Household
from housing_safety.access import Role

from .factories import HouseholdFactory, VillageFactory

ID_NUMBER = "35088119900101108X"  # a valid ID (check digit X)
PHONE = "13912341234"
HELPER_PHONE = "13855556666"
NAME = "陈水生"
CHANGELIST = "/admin/households/household/"
UNMASKING_ROLES = [Role.TOWNSHIP_STAFF, Role.HELPER]


@pytest.fixture
def target(xinqiao, personas):
    village = VillageFactory(township=xinqiao, name="东坑村")
    household = HouseholdFactory(
        village=village,
        head_name=NAME,
        id_number=ID_NUMBER,
        phone=PHONE,
        helper_phone=HELPER_PHONE,
        helper_user=personas[Role.HELPER],
    )
    # Neighbours sharing the prefixes: born the same day in the same county, a phone differing in the last digits.
    for name, serial, phone in (("林木生", "100", "13912341299"), ("陈水根", "200", "13912349999")):
        first17 = f"{ID_NUMBER[:14]}{serial}"
        HouseholdFactory(
            village=village,
            head_name=name,
            id_number=first17 + id_check_digit(first17),
            phone=phone,
            helper_user=personas[Role.HELPER],
        )
    return household


def found(client, term: str) -> set[int]:
    response = client.get(CHANGELIST, {"q": term})
    assert response.status_code == 200
    return {obj.pk for obj in response.context["cl"].result_list}


@pytest.mark.parametrize("role", UNMASKING_ROLES)
def test_a_growing_id_prefix_finds_nothing_until_the_whole_number(client, personas, target, role):
    client.force_login(personas[role])
    for length in range(4, 18):
        assert target.pk not in found(client, ID_NUMBER[:length]), ID_NUMBER[:length]
    assert found(client, ID_NUMBER) == {target.pk}
    # normalised as the registry normalises: lower-case x, full-width digits, spaces and dashes
    assert found(client, ID_NUMBER.lower()) == {target.pk}
    assert found(client, " ３５０８８１-19900101 108x ") == {target.pk}
    # no other fragment either: the middle (the birth date), the end without the name, one character changed
    for fragment in ("19900101", ID_NUMBER[6:], ID_NUMBER[-4:], ID_NUMBER[-6:], ID_NUMBER[:-1] + "1"):
        assert target.pk not in found(client, fragment), fragment


@pytest.mark.parametrize("role", UNMASKING_ROLES)
def test_a_growing_phone_prefix_finds_nothing_until_the_whole_number(client, personas, target, role):
    client.force_login(personas[role])
    for length in range(3, 11):
        assert target.pk not in found(client, PHONE[:length]), PHONE[:length]
    assert found(client, PHONE) == {target.pk}
    assert found(client, "139 1234 1234") == {target.pk}
    assert found(client, "+86 139-1234-1234") == {target.pk}
    assert found(client, HELPER_PHONE) == {target.pk}  # the assigned helper's phone, whole
    for fragment in (PHONE[-4:], PHONE[3:], HELPER_PHONE[:7], HELPER_PHONE[-4:]):
        assert target.pk not in found(client, fragment), fragment


@pytest.mark.parametrize("role", UNMASKING_ROLES)
def test_the_last_four_characters_with_the_name_find_the_household(client, personas, target, role):
    client.force_login(personas[role])
    assert found(client, "陈水 108X") == {target.pk}
    assert found(client, "108x 陈水") == {target.pk}
    assert found(client, "陈水生 1234") == {target.pk}  # the phone's last four
    assert found(client, "1234 陈水") == {target.pk}
    # the last four alone, with another name, or more or fewer digits with the name: nothing
    assert target.pk not in found(client, "108X")
    assert target.pk not in found(client, "1234")
    assert found(client, "林木 108X") == set()
    assert target.pk not in found(client, "陈水 01108X")
    assert target.pk not in found(client, "陈水 08X")
    assert target.pk not in found(client, "陈水 3508")
    # the name alone still finds (the prefix rule is about numbers only)
    assert target.pk in found(client, "陈水")


@pytest.mark.parametrize("role", [Role.BUREAU_OFFICIAL, Role.DEPARTMENT_LIAISON, Role.COMPLAINT_CLERK])
def test_a_role_without_the_unmask_permission_finds_nothing_by_number(client, personas, target, role):
    client.force_login(personas[role])
    if role == Role.DEPARTMENT_LIAISON:  # a liaison sees their department's households
        Household.objects.filter(pk=target.pk).update(source=personas[role].profile.unit)
    assert target.pk in found(client, NAME)  # the control: the role sees the household
    for term in (ID_NUMBER, PHONE, HELPER_PHONE, "陈水 108X", "1234 陈水", ID_NUMBER[:10]):
        assert found(client, term) == set(), term


@pytest.mark.parametrize("role", UNMASKING_ROLES)
def test_number_fields_cannot_be_filtered_by_fragment_either(client, personas, target, role):
    client.force_login(personas[role])
    for lookup in ("id_number__startswith", "id_number__contains", "phone__startswith", "helper_phone__startswith"):
        response = client.get(CHANGELIST, {lookup: "1"})
        assert response.status_code == 400, lookup


def test_the_household_autocomplete_follows_the_same_rule(client, personas, target):
    client.force_login(personas[Role.TOWNSHIP_STAFF])

    def suggested(term: str) -> set[str]:
        url = reverse("admin:autocomplete")
        params = {"app_label": "households", "model_name": "dwelling", "field_name": "household", "term": term}
        response = client.get(url, params)
        assert response.status_code == 200
        return {row["id"] for row in response.json()["results"]}

    assert str(target.pk) not in suggested(ID_NUMBER[:14])
    assert str(target.pk) not in suggested(PHONE[:7])
    assert suggested(ID_NUMBER) == {str(target.pk)}
    assert suggested("陈水 108X") == {str(target.pk)}


def test_the_field_page_search_follows_the_same_rule(client, personas, target):
    client.force_login(personas[Role.TOWNSHIP_STAFF])
    url = reverse("inspections:field")

    def listed(term: str) -> bool:
        html = client.get(url, {"q": term}).content.decode()
        return f'href="{reverse("inspections:household", args=[target.pk])}"' in html

    assert listed(NAME)
    assert not listed(ID_NUMBER[:14]) and not listed(PHONE[:7]) and not listed("108X")
    assert listed(ID_NUMBER) and listed(PHONE) and listed("陈水 108X")
