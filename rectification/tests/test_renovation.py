"""Renovation cases: the whole procedure through the services, and what it changes elsewhere."""

from __future__ import annotations

import pytest

from households.models import Household
from inspections.selectors import HousingStatus, with_housing_status
from rectification.models import CaseStatus, CaseTransition, RenovationType, SubsidyPayment
from rectification.tests.factories import dangerous_dwelling, new_case, standards, walk

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("chinese")]
S = CaseStatus


def status_of(household) -> str:
    return with_housing_status(Household.objects.filter(pk=household.pk)).get().housing_status


def test_full_procedure_makes_the_household_renovated_safe(staff, admin, home_household):
    standards()
    dwelling = dangerous_dwelling(home_household)
    assert status_of(home_household) == HousingStatus.DANGEROUS
    case = new_case(staff, dwelling)
    assert case.number.startswith("GZ2026-100-")
    case = walk(case, S.ARCHIVED, township_user=staff, bureau_user=admin)
    assert case.status == S.ARCHIVED
    steps = list(CaseTransition.objects.filter(case=case).values_list("to_status", flat=True))
    assert steps == [S.APPLIED, S.VILLAGE_ASSESSED, S.TOWNSHIP_REVIEWED, S.APPROVED, S.AGREEMENT_SIGNED,
                     S.CONSTRUCTION_STARTED, S.ACCEPTED, S.PAID, S.ARCHIVED]  # fmt: skip
    assert SubsidyPayment.objects.get(case=case).amount == case.planned_subsidy
    dwelling.refresh_from_db()
    assert dwelling.renovated_on == case.accepted_on
    assert status_of(home_household) == HousingStatus.RENOVATED_SAFE


def test_relocation_moves_the_household_to_its_new_dwelling(staff, admin, home_household):
    standards()
    old = dangerous_dwelling(home_household)
    case = new_case(staff, old, renovation_type=RenovationType.RELOCATION, resettlement_site="桂林街道造福安置区")
    case = walk(case, S.ACCEPTED, township_user=staff, bureau_user=admin)
    old.refresh_from_db()
    assert not old.is_occupied
    assert case.new_dwelling.is_occupied and case.new_dwelling.household == home_household
    assert status_of(home_household) == HousingStatus.RENOVATED_SAFE


def test_a_renovated_household_gets_a_renovated_safe_placard(client, staff, admin, home_household):
    from django.urls import reverse

    from inspections.services import issue_placards

    standards()
    case = walk(new_case(staff, dangerous_dwelling(home_household)), S.ACCEPTED, township_user=staff,
                bureau_user=admin)  # fmt: skip
    [placard] = issue_placards(actor=staff, households=[home_household])
    assert placard.status == HousingStatus.RENOVATED_SAFE and placard.appraisal == case.acceptance_appraisal
    client.force_login(staff)
    page = client.get(reverse("inspections:placard-print"), {"household": home_household.pk}).content.decode()
    assert "改造安全" in page and f"{case.accepted_on:%Y-%m-%d}" in page
