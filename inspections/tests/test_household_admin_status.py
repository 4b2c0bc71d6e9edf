"""The registry's household admin shows the housing-security status this app derives, added through the admin
extension hook (housing_safety.admin_base.extend_admin), not by unregistering the registry's admin."""

from __future__ import annotations

import pytest
from django.contrib import admin as django_admin

from households.admin import HouseholdAdmin
from households.models import Household
from households.tests.factories import household_with_dwelling
from housing_safety.tests.kit import body
from inspections.selectors import HousingStatus

from .factories import AppraisalFactory

URL = "/admin/households/household/"


@pytest.fixture
def graded(home_household, xinqiao):
    """The `home_household` appraised D (dangerous) and a second household of the same township never appraised."""
    AppraisalFactory(
        dwelling=home_household.dwellings.get(), grade="D", load_bearing_walls="d", recommendation="rebuild"
    )
    return home_household, household_with_dwelling(xinqiao, "西坑村")


def test_the_registered_household_admin_is_the_registrys_own():
    assert isinstance(django_admin.site._registry[Household], HouseholdAdmin)


@pytest.mark.django_db
def test_the_status_column_comes_before_the_categories_and_reads_each_households_status(client, staff, graded):
    client.force_login(staff)

    page = body(client.get(URL))

    assert "column-housing_status_display" in page
    assert page.index("column-housing_status_display") < page.index("column-category_list")
    assert str(HousingStatus.DANGEROUS.label) in page and str(HousingStatus.UNAPPRAISED.label) in page


@pytest.mark.django_db
def test_the_status_filter_follows_the_village_filter_and_filters(client, staff, graded):
    dangerous, unappraised = graded
    client.force_login(staff)

    response = client.get(URL, {"housing_status": HousingStatus.DANGEROUS.value})
    filters = [spec.parameter_name for spec in response.context["cl"].filter_specs[:3]]
    shown = list(response.context["cl"].result_list)

    assert filters == ["township", "village", "housing_status"]
    assert shown == [dangerous]
    assert unappraised not in shown


@pytest.mark.django_db
def test_the_list_sorts_by_the_status(client, staff, graded):
    client.force_login(staff)
    response = client.get(URL)
    names = [getattr(c, "__name__", c) for c in response.context["cl"].list_display]
    column = names.index("housing_status_display")

    ascending = client.get(URL, {"o": str(column)})
    descending = client.get(URL, {"o": f"-{column}"})

    statuses = [h.housing_status for h in ascending.context["cl"].result_list]
    assert statuses == sorted(statuses)
    assert [h.pk for h in descending.context["cl"].result_list] == [
        h.pk for h in reversed(ascending.context["cl"].result_list)
    ]
