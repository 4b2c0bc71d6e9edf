"""A status-only change moves `updated_at` (an API caller syncing with ?changed_since= must see it): the stored
current grade and home state are written by set-based UPDATEs, which skip auto_now (housing_safety.bulk.touching)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from households.models import Dwelling, Household, HousingStatus
from households.services import refresh_home_state
from households.tests.factories import DwellingFactory
from housing_safety.bulk import touching
from inspections.services import refresh_current_grades
from inspections.tests.factories import AppraisalFactory

pytestmark = pytest.mark.django_db

LONG_AGO = timezone.now() - datetime.timedelta(days=30)


def _age(dwelling) -> None:
    Dwelling.objects.filter(pk=dwelling.pk).update(updated_at=LONG_AGO)
    Household.objects.filter(pk=dwelling.household_id).update(updated_at=LONG_AGO)


def _stamps(dwelling) -> tuple:
    return (
        Dwelling.objects.values_list("updated_at", flat=True).get(pk=dwelling.pk),
        Household.objects.values_list("updated_at", flat=True).get(pk=dwelling.household_id),
    )


def test_a_first_appraisal_moves_the_dwellings_and_the_households_stamp():
    dwelling = DwellingFactory()
    _age(dwelling)

    AppraisalFactory(dwelling=dwelling, grade="D", load_bearing_walls="d", recommendation="rebuild")

    dwelling_at, household_at = _stamps(dwelling)
    assert dwelling_at > LONG_AGO and household_at > LONG_AGO
    assert Household.objects.get(pk=dwelling.household_id).home_status == HousingStatus.DANGEROUS


def test_a_refresh_that_changes_nothing_keeps_the_stamps():
    dwelling = DwellingFactory()
    AppraisalFactory(dwelling=dwelling)
    _age(dwelling)

    refresh_current_grades(household_ids=[dwelling.household_id])

    assert _stamps(dwelling) == (LONG_AGO, LONG_AGO)


def test_a_flag_alone_moves_the_households_stamp():
    dwelling = DwellingFactory()
    AppraisalFactory(dwelling=dwelling)
    Dwelling.objects.filter(pk=dwelling.pk).update(current_leaking=True)
    _age(dwelling)

    refresh_home_state(household_ids=[dwelling.household_id])

    assert _stamps(dwelling)[1] > LONG_AGO
    assert Household.objects.get(pk=dwelling.household_id).flag_leaking


def test_a_value_becoming_null_counts_as_a_change():
    dwelling = DwellingFactory()
    AppraisalFactory(dwelling=dwelling)
    _age(dwelling)

    Dwelling.objects.filter(pk=dwelling.pk).update(**touching({"current_grade": None}))

    assert _stamps(dwelling)[0] > LONG_AGO
