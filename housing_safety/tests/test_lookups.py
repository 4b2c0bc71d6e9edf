"""`field__any_of`: the same rows as `__in` with a subquery, read as an array on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection

from households.models import Household, Village
from households.selectors import households_for_user
from households.tests.conftest import *  # noqa: F403  (personas, townships)
from households.tests.factories import HouseholdFactory

pytestmark = pytest.mark.django_db


def test_any_of_matches_the_same_rows_as_in(xinqiao, shuangyang):
    mine = HouseholdFactory.create_batch(3, village__township=xinqiao)
    HouseholdFactory.create_batch(2, village__township=shuangyang)
    villages = Village.objects.filter(township=xinqiao).order_by().values("pk")
    households = Household.objects.filter(village_id__any_of=villages)
    assert set(households) == set(Household.objects.filter(village_id__in=villages)) == set(mine)
    sql = str(households.query)
    expected = "= ANY(ARRAY(SELECT" if connection.vendor == "postgresql" else "IN (SELECT"
    assert expected in sql


def test_township_staff_scope_reads_its_villages_first(staff, home_household, other_household):
    households = households_for_user(staff)
    assert list(households) == [home_household]
    expected = "= ANY(ARRAY(SELECT" if connection.vendor == "postgresql" else "IN (SELECT"
    assert expected in str(households.query)
