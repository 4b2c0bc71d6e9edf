"""The stored current grade (on dwellings) and home state (on households) follow every write through the services,
agree with a full recomputation, and are never overwritten by a stale instance."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from households import services as registry
from households.models import Dwelling, Household, HousingStatus
from households.tests.factories import DwellingFactory, HouseholdFactory
from inspections import selectors, services
from inspections.models import Appraisal
from inspections.tests.factories import SecuredHousingFactory

pytestmark = pytest.mark.django_db
TODAY = datetime.date.today()


def appraisal(dwelling, grade: str, *, days_ago: int = 30, leaking: bool = False) -> Appraisal:
    component = grade.lower()
    return Appraisal(
        dwelling=dwelling,
        kind=Appraisal.Kind.ASSESSMENT,
        appraised_on=TODAY - datetime.timedelta(days=days_ago),
        organisation="漳平市房屋安全鉴定站",
        appraisers="张工、李工",
        foundation=component,
        load_bearing_walls=component,
        timber_frame="n",
        roof_truss="n",
        concrete_frame="n",
        floor_roof_slab=component,
        grade=grade,
        is_leaking=leaking,
        recommendation=Appraisal.Recommendation.NONE if grade in "AB" else Appraisal.Recommendation.REBUILD,
    )


def stored(household: Household) -> tuple:
    row = Household.objects.filter(pk=household.pk).values_list(
        "home_status", "flag_owns_safe_but_lives_in_danger", "flag_connected_uncooperative", "flag_leaking"
    )
    return row.get()


def grades(household: Household) -> list:
    return list(household.dwellings.order_by("pk").values_list("current_grade", "current_leaking"))


def graded_on(household: Household) -> datetime.date | None:
    return household.dwellings.get().current_graded_on


def snapshot() -> tuple[list, list]:
    dwellings = list(
        Dwelling.objects.order_by("pk").values_list("pk", "current_grade", "current_leaking", "current_graded_on")
    )
    households = list(
        Household.objects.order_by("pk").values_list(
            "pk", "home_status", "flag_owns_safe_but_lives_in_danger", "flag_connected_uncooperative", "flag_leaking"
        )
    )
    return dwellings, households


def test_a_new_household_without_a_dwelling_is_not_yet_appraised(staff, xinqiao):
    household = HouseholdFactory(village__township=xinqiao)
    assert stored(household) == (HousingStatus.UNAPPRAISED, False, False, False)


def test_recording_appraisals_stores_the_newest_grade_and_the_home_status(staff, home_household):
    dwelling = home_household.dwellings.get()
    assert stored(home_household)[0] == HousingStatus.UNAPPRAISED

    services.record_appraisal(actor=staff, appraisal=appraisal(dwelling, "D", days_ago=60))
    assert grades(home_household) == [("D", False)]
    assert graded_on(home_household) == TODAY - datetime.timedelta(days=60)
    assert stored(home_household)[0] == HousingStatus.DANGEROUS

    services.record_appraisal(actor=staff, appraisal=appraisal(dwelling, "B", days_ago=5, leaking=True))
    assert grades(home_household) == [("B", True)]
    assert graded_on(home_household) == TODAY - datetime.timedelta(days=5)
    assert stored(home_household) == (HousingStatus.APPRAISED_SAFE, False, False, True)

    # Entered later but dated earlier: the newest by date stays the current one.
    services.record_appraisal(actor=staff, appraisal=appraisal(dwelling, "C", days_ago=90))
    assert grades(home_household) == [("B", True)]
    assert graded_on(home_household) == TODAY - datetime.timedelta(days=5)
    assert stored(home_household)[0] == HousingStatus.APPRAISED_SAFE


def test_changing_a_dwelling_through_the_service_restates_the_household(staff, home_household):
    dangerous = home_household.dwellings.get()
    services.record_appraisal(actor=staff, appraisal=appraisal(dangerous, "D"))
    safe = registry.save_dwelling(
        actor=staff,
        dwelling=Dwelling(
            household=home_household, address="2组8号", structure_type="brick_concrete", is_occupied=False
        ),
    )
    services.record_appraisal(actor=staff, appraisal=appraisal(safe, "A"))
    assert stored(home_household) == (HousingStatus.DANGEROUS, True, False, False)

    dangerous.is_occupied, safe.is_occupied = False, True  # the household moves into its safe house
    registry.save_dwelling(actor=staff, dwelling=dangerous)
    registry.save_dwelling(actor=staff, dwelling=safe)
    assert stored(home_household) == (HousingStatus.APPRAISED_SAFE, False, False, False)

    safe.is_connected, safe.neighbour_cooperates = True, False
    registry.save_dwelling(actor=staff, dwelling=safe)
    assert stored(home_household) == (HousingStatus.APPRAISED_SAFE, False, True, False)


def test_a_new_unappraised_home_makes_the_household_not_yet_appraised(staff, home_household):
    services.record_appraisal(actor=staff, appraisal=appraisal(home_household.dwellings.get(), "A"))
    assert stored(home_household)[0] == HousingStatus.APPRAISED_SAFE
    registry.save_dwelling(
        actor=staff, dwelling=Dwelling(household=home_household, address="3组1号", structure_type="earth_timber")
    )
    assert stored(home_household)[0] == HousingStatus.UNAPPRAISED


def test_a_stale_instance_saved_in_full_keeps_the_stored_state(staff, home_household):
    household = Household.objects.get(pk=home_household.pk)  # loaded before the appraisal
    dwelling = Dwelling.objects.get(household=home_household)
    services.record_appraisal(actor=staff, appraisal=appraisal(dwelling, "D"))

    household.notes = "补充说明"
    registry.save_household(actor=staff, household=household)
    dwelling.address = "1组9号"
    registry.save_dwelling(actor=staff, dwelling=dwelling)

    assert stored(home_household)[0] == HousingStatus.DANGEROUS
    assert grades(home_household) == [("D", False)]
    assert Household.objects.get(pk=home_household.pk).notes == "补充说明"
    assert Dwelling.objects.get(pk=dwelling.pk).address == "1组9号"


def test_history_rows_do_not_carry_the_stored_summary(staff, home_household):
    services.record_appraisal(actor=staff, appraisal=appraisal(home_household.dwellings.get(), "D"))
    history_fields = {field.name for field in Household.history.model._meta.fields}
    assert "home_status" not in history_fields and "flag_leaking" not in history_fields
    assert "current_grade" not in {field.name for field in Dwelling.history.model._meta.fields}


def test_the_stored_state_agrees_with_a_full_recomputation(staff, home_household, xinqiao):
    services.record_appraisal(actor=staff, appraisal=appraisal(home_household.dwellings.get(), "C", leaking=True))
    for grade in ("A", "B", "D"):
        dwelling = DwellingFactory(household__village__township=xinqiao)
        services.record_appraisal(actor=staff, appraisal=appraisal(dwelling, grade))
    DwellingFactory(household__village__township=xinqiao, is_occupied=False)
    before = snapshot()
    Household.objects.update(home_status=HousingStatus.APPRAISED_SAFE, flag_leaking=False)
    Dwelling.objects.update(current_grade=None, current_leaking=None, current_graded_on=None)

    with CaptureQueriesContext(connection) as queries:
        services.refresh_current_grades()
    assert len(queries) == 2  # one UPDATE per table, whatever the number of rows
    assert snapshot() == before


def test_secured_housing_is_read_for_the_day_over_the_stored_state(staff, home_household):
    services.record_appraisal(actor=staff, appraisal=appraisal(home_household.dwellings.get(), "D"))
    SecuredHousingFactory(household=home_household, since=TODAY - datetime.timedelta(days=3), until=TODAY)

    def status_on(day):
        households = Household.objects.filter(pk=home_household.pk)
        return selectors.with_housing_status(households, day).get().housing_status

    def matching(status, day):
        return set(Household.objects.filter(selectors.status_filter(status, day)).values_list("pk", flat=True))

    tomorrow = TODAY + datetime.timedelta(days=1)
    assert status_on(TODAY) == HousingStatus.SECURED and status_on(tomorrow) == HousingStatus.DANGEROUS
    assert matching(HousingStatus.SECURED, TODAY) == {home_household.pk}
    assert matching(HousingStatus.DANGEROUS, TODAY) == set()
    assert matching(HousingStatus.DANGEROUS, tomorrow) == {home_household.pk}
