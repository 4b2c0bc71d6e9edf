"""Two township clerks edit the same household at once: the second save is refused with a message in Chinese and
writes nothing, instead of silently undoing the first (housing_safety.admin_base.versioned)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from households import services
from households.models import Household
from housing_safety.access import Role

from .factories import make_user
from .test_admin_access import change_url, household_change_data

pytestmark = pytest.mark.usefixtures("chinese")

STALE = "您打开此记录后，已有他人保存过。您的修改没有保存"


def opened(client, household) -> str:
    """Open the change page as the browser does, and return the version the form carries."""
    response = client.get(change_url(household))
    assert response.status_code == 200
    return re.search(r'name="_version" value="(\d+)"', response.content.decode()).group(1)


@pytest.fixture
def two_clerks(xinqiao):
    first, second = Client(), Client()
    first.force_login(make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao]))
    second.force_login(make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao]))
    return first, second


def test_the_second_of_two_saves_is_refused_and_changes_nothing(two_clerks, home_household):
    first, second = two_clerks
    version_first, version_second = opened(first, home_household), opened(second, home_household)
    assert version_first == version_second

    saved = first.post(
        change_url(home_household),
        {**household_change_data(home_household, head_name="林新名"), "_version": version_first},
    )
    assert saved.status_code == 302

    refused = second.post(
        change_url(home_household),
        {**household_change_data(home_household, notes="第二位的备注"), "_version": version_second},
    )
    assert refused.status_code == 200
    assert STALE in refused.content.decode()
    household = Household.objects.get(pk=home_household.pk)
    assert (household.head_name, household.notes) == ("林新名", "")
    # Sending the same stale form again is refused again: the form keeps the version it was loaded at.
    assert f'name="_version" value="{version_second}"' in refused.content.decode()


def test_after_reloading_the_second_clerk_saves_on_top_of_the_first(two_clerks, home_household):
    first, second = two_clerks
    stale = opened(second, home_household)
    first.post(
        change_url(home_household),
        {**household_change_data(home_household, head_name="林新名"), "_version": opened(first, home_household)},
    )

    current = opened(second, home_household)
    assert current != stale
    household = Household.objects.get(pk=home_household.pk)
    response = second.post(
        change_url(home_household), {**household_change_data(household, notes="看过新名字再改"), "_version": current}
    )

    assert response.status_code == 302
    household.refresh_from_db()
    assert (household.head_name, household.notes) == ("林新名", "看过新名字再改")


def test_a_change_through_another_path_also_makes_the_open_form_stale(two_clerks, home_household, xinqiao):
    first, _second = two_clerks
    version = opened(first, home_household)
    home_household.notes = "导入时修改"
    services.save_household(actor=make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao]), household=home_household)

    response = first.post(
        change_url(home_household), {**household_change_data(home_household, head_name="覆盖"), "_version": version}
    )

    assert STALE in response.content.decode()
    assert Household.objects.get(pk=home_household.pk).head_name != "覆盖"


def test_a_save_without_the_version_it_was_loaded_at_is_refused_like_a_stale_one(two_clerks, home_household):
    """A form that leaves `_version` out (an old tab, a script, a hand-made POST) cannot skip the check."""
    first, second = two_clerks
    opened(second, home_household)
    first.post(
        change_url(home_household),
        {**household_change_data(home_household, head_name="林新名"), "_version": opened(first, home_household)},
    )

    without_version = household_change_data(home_household, notes="没有版本号")
    del without_version["_version"]
    refused = second.post(change_url(home_household), without_version)

    assert refused.status_code == 200
    assert STALE in refused.content.decode()
    household = Household.objects.get(pk=home_household.pk)
    assert (household.head_name, household.notes) == ("林新名", "")


def test_a_record_without_history_rows_still_saves_with_the_empty_version_it_was_loaded_at(
    client, xinqiao, home_household
):
    # Rows written by set-based SQL (the synthetic data, a bulk load) may have no history row yet: the form carries
    # an empty version, and that is the version the record is still at.
    Household.history.filter(id=home_household.pk).delete()
    client.force_login(make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao]))
    page = client.get(change_url(home_household)).content.decode()
    assert 'name="_version" value=""' in page

    saved = client.post(
        change_url(home_household), {**household_change_data(home_household, notes="无历史也能改"), "_version": ""}
    )

    assert saved.status_code == 302
    assert Household.objects.get(pk=home_household.pk).notes == "无历史也能改"
