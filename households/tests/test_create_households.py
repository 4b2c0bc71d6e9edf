"""The set-based writes of the demo data: households.services.create_households and
inspections.services.record_appraisals keep the rules and the history of save_household, save_dwelling and
record_appraisal, in a few statements whatever the number of rows."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from households import services
from households.models import Dwelling, Household, HouseholdCategory, HousingStatus
from housing_safety.tests.kit import rows_of
from inspections.models import Appraisal
from inspections.services import record_appraisals

from .factories import VillageFactory, valid_id_number

pytestmark = pytest.mark.django_db


def new_rows(village, count: int, *, houses: int = 1) -> list:
    categories = list(HouseholdCategory.objects.filter(code__in=["registered_poor", "disabled"]))
    return [
        (
            Household(
                head_name=f"户主{n}",
                id_number=valid_id_number(datetime.date(1950, 1, 1) + datetime.timedelta(days=n)),
                village=village,
                members_count=2,
            ),
            categories,
            [Dwelling(address=f"1组{n}-{h}号", structure_type="adobe", is_occupied=h == 0) for h in range(houses)],
        )
        for n in range(count)
    ]


def snapshot() -> list[list[tuple]]:
    return rows_of(Household, Household.history.model, Dwelling, Dwelling.history.model, Appraisal)


def test_create_households_writes_rows_categories_dwellings_and_history_in_a_few_statements(
    staff, xinqiao, django_assert_max_num_queries
):
    village = VillageFactory(township=xinqiao)

    with django_assert_max_num_queries(16):  # the same for 30 households as for 3
        created = services.create_households(actor=staff, households=new_rows(village, 30, houses=2))

    assert Household.objects.filter(village=village).count() == 30
    assert Dwelling.objects.filter(household__village=village, is_occupied=True).count() == 30
    history = Household.history.filter(id__in=[h.pk for h in created])
    assert {(row.history_type, row.history_user_id) for row in history} == {("+", staff.pk)}
    assert sorted(c.householdcategory.code for c in history.first().categories.all()) == ["disabled", "registered_poor"]
    assert Dwelling.history.filter(household_id__in=[h.pk for h in created], history_user=staff).count() == 60
    # The stored home state is computed: never appraised yet.
    assert set(Household.objects.filter(village=village).values_list("home_status", flat=True)) == {
        HousingStatus.UNAPPRAISED
    }


def test_create_households_refuses_another_township_and_writes_nothing(staff, shuangyang):
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.create_households(actor=staff, households=new_rows(VillageFactory(township=shuangyang), 2))
    assert snapshot() == before


def test_create_households_checks_every_row_before_writing_any(staff, xinqiao):
    rows = new_rows(VillageFactory(township=xinqiao), 3)
    rows[2][0].registered_on = datetime.date.today() + datetime.timedelta(days=3)
    before = snapshot()

    with pytest.raises(ValidationError) as refused:
        services.create_households(actor=staff, households=rows)

    assert "registered_on" in refused.value.message_dict
    assert snapshot() == before


def appraisal(dwelling, grade: str, on: datetime.date) -> Appraisal:
    component = grade.lower()
    return Appraisal(
        dwelling=dwelling,
        kind=Appraisal.Kind.FORMAL,
        appraised_on=on,
        organisation="漳平市住建局鉴定组",
        appraisers="张工、李工",
        foundation=component,
        load_bearing_walls=component,
        timber_frame=component,
        roof_truss=component,
        concrete_frame="n",
        floor_roof_slab=component,
        grade=grade,
        recommendation=Appraisal.Recommendation.REBUILD if grade == "D" else Appraisal.Recommendation.NONE,
    )


def test_record_appraisals_stores_current_grades_home_states_and_history(admin, home_household):
    dwelling = home_household.dwellings.get()
    today = datetime.date.today()

    record_appraisals(
        actor=admin,
        appraisals=[appraisal(dwelling, "D", today - datetime.timedelta(days=400)), appraisal(dwelling, "A", today)],
    )

    dwelling.refresh_from_db()
    home_household.refresh_from_db()
    assert dwelling.current_grade == "A"  # the newer one
    assert home_household.home_status == HousingStatus.APPRAISED_SAFE
    assert set(Appraisal.history.values_list("history_type", "history_user_id")) == {("+", admin.pk)}
    assert set(Appraisal.objects.values_list("recorded_by_id", flat=True)) == {admin.pk}


def test_record_appraisals_keeps_the_appraisal_rules_and_the_township_scope(staff, other_household, home_household):
    before = snapshot()
    outside = other_household.dwellings.get()
    with pytest.raises(PermissionDenied):
        record_appraisals(actor=staff, appraisals=[appraisal(outside, "B", datetime.date.today())])

    inconsistent = appraisal(home_household.dwellings.get(), "A", datetime.date.today())
    inconsistent.load_bearing_walls = "d"  # a D wall cannot make an A house
    with pytest.raises(ValidationError):
        record_appraisals(actor=staff, appraisals=[inconsistent])
    assert snapshot() == before


def test_record_appraisals_refuses_to_change_a_recorded_appraisal(admin, home_household):
    record_appraisals(actor=admin, appraisals=[appraisal(home_household.dwellings.get(), "B", datetime.date.today())])
    with pytest.raises(ValidationError):
        record_appraisals(actor=admin, appraisals=[Appraisal.objects.get()])
