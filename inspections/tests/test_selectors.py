"""Reads about housing safety: the derived status, its flags, counts, the appraisal deadline, placard currency."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from households import services as household_services
from households.models import Household
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory, make_user
from inspections import selectors, services
from inspections.models import Appraisal, Placard
from inspections.selectors import (
    HousingStatus,
    appraisal_due_on,
    covered_households_for_user,
    current_placards,
    overdue_registration_cutoff,
    overdue_unappraised_for_user,
    placard_is_current,
    status_counts,
    with_housing_status,
)

from .factories import AppraisalFactory, SecuredHousingFactory

TODAY = datetime.date(2026, 6, 15)
D = datetime.date
DEFAULT_ON = D(2025, 6, 1)


@pytest.fixture
def village(xinqiao):
    return VillageFactory(township=xinqiao, name="东坑村")


def appraise(dwelling, grade: str, on: datetime.date = DEFAULT_ON, **kwargs) -> Appraisal:
    """A stored appraisal consistent with the grading rules."""
    if grade in "CD":
        kwargs.setdefault("load_bearing_walls", grade.lower())
        kwargs.setdefault("recommendation", Appraisal.Recommendation.REPAIR)
    if grade == "A":
        kwargs = {"foundation": "a", "load_bearing_walls": "a", "timber_frame": "a", **kwargs}
    return AppraisalFactory(dwelling=dwelling, grade=grade, appraised_on=on, **kwargs)


def household_with(village, *homes, **household_fields) -> Household:
    """A household with one dwelling per entry of `homes`: a grade, a list of (grade, date), or None.

    Use `("occupied" | "empty", grades)` tuples to choose occupancy; a bare entry is an occupied dwelling.
    """
    household = HouseholdFactory(village=village, **household_fields)
    for home in homes:
        occupied = True
        if isinstance(home, tuple) and home and home[0] in ("occupied", "empty"):
            occupied, home = home[0] == "occupied", home[1]
        dwelling = DwellingFactory(household=household, is_occupied=occupied)
        grades = [] if home is None else [(home, D(2025, 6, 1))] if isinstance(home, str) else home
        for grade, on in grades:
            appraise(dwelling, grade, on)
    return household


def annotated(household, today=TODAY) -> Household:
    return with_housing_status(Household.objects.filter(pk=household.pk), today).get()


def status_of(household, today=TODAY) -> str:
    return annotated(household, today).housing_status


# --- the status ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grade", "expected"),
    [
        ("A", HousingStatus.APPRAISED_SAFE),
        ("B", HousingStatus.APPRAISED_SAFE),
        ("C", HousingStatus.DANGEROUS),
        ("D", HousingStatus.DANGEROUS),
    ],
)
def test_status_follows_the_grade_of_the_home(village, grade, expected):
    assert status_of(household_with(village, grade)) == expected


def test_never_appraised_home_is_unappraised(village):
    assert status_of(household_with(village, None)) == HousingStatus.UNAPPRAISED


def test_household_without_any_dwelling_is_unappraised(village):
    assert status_of(HouseholdFactory(village=village)) == HousingStatus.UNAPPRAISED


def test_household_living_in_no_dwelling_it_owns_is_unappraised(village):
    household = household_with(village, ("empty", "A"))
    assert status_of(household) == HousingStatus.UNAPPRAISED


def test_active_secured_housing_overrides_a_dangerous_house(village):
    household = household_with(village, "D")
    SecuredHousingFactory(household=household, since=D(2026, 1, 1))
    assert status_of(household) == HousingStatus.SECURED


def test_secured_household_without_appraisal_is_secured(village):
    household = household_with(village, None)
    SecuredHousingFactory(household=household, since=D(2026, 1, 1), until=D(2026, 12, 31))
    assert status_of(household) == HousingStatus.SECURED


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        pytest.param(D(2026, 1, 1), D(2026, 6, 14), HousingStatus.DANGEROUS, id="ended-yesterday"),
        pytest.param(D(2026, 1, 1), D(2026, 6, 15), HousingStatus.SECURED, id="ends-today"),
        pytest.param(D(2026, 6, 15), None, HousingStatus.SECURED, id="starts-today"),
        pytest.param(D(2026, 6, 16), None, HousingStatus.DANGEROUS, id="starts-tomorrow"),
        pytest.param(D(2026, 9, 1), D(2026, 12, 31), HousingStatus.DANGEROUS, id="future-period"),
    ],
)
def test_only_an_arrangement_active_today_counts(village, since, until, expected):
    household = household_with(village, "D")
    SecuredHousingFactory(household=household, since=since, until=until)
    assert status_of(household, today=TODAY) == expected


def test_ended_arrangement_leaves_the_house_status(village):
    household = household_with(village, "B")
    SecuredHousingFactory(household=household, since=D(2025, 1, 1), until=D(2025, 12, 31))
    assert status_of(household, today=D(2025, 12, 31)) == HousingStatus.SECURED
    assert status_of(household, today=D(2026, 1, 1)) == HousingStatus.APPRAISED_SAFE


def test_future_arrangement_counts_from_its_first_day(village):
    household = household_with(village, None)
    SecuredHousingFactory(household=household, since=D(2026, 7, 1))
    assert status_of(household, today=D(2026, 6, 30)) == HousingStatus.UNAPPRAISED
    assert status_of(household, today=D(2026, 7, 1)) == HousingStatus.SECURED


def test_status_defaults_to_the_local_date(village):
    household = household_with(village, "D")
    SecuredHousingFactory(household=household, since=timezone.localdate() + datetime.timedelta(days=1))
    assert with_housing_status(Household.objects.filter(pk=household.pk)).get().housing_status == "dangerous"
    SecuredHousingFactory(household=household, since=timezone.localdate())
    assert with_housing_status(Household.objects.filter(pk=household.pk)).get().housing_status == "secured"


# --- several dwellings, superseded appraisals ----------------------------------------------------------------


def test_two_homes_one_safe_one_dangerous_is_dangerous(village):
    assert status_of(household_with(village, "A", "D")) == HousingStatus.DANGEROUS


def test_two_homes_one_safe_one_unappraised_is_unappraised(village):
    assert status_of(household_with(village, "A", None)) == HousingStatus.UNAPPRAISED


def test_two_homes_one_dangerous_one_unappraised_is_dangerous(village):
    assert status_of(household_with(village, None, "C")) == HousingStatus.DANGEROUS


def test_two_safe_homes_are_safe(village):
    assert status_of(household_with(village, "A", "B")) == HousingStatus.APPRAISED_SAFE


def test_dangerous_dwelling_not_lived_in_does_not_count(village):
    household = household_with(village, ("occupied", "A"), ("empty", "D"))
    assert status_of(household) == HousingStatus.APPRAISED_SAFE


def test_older_d_superseded_by_newer_a_is_safe(village):
    household = household_with(village, [("D", D(2024, 5, 1)), ("A", D(2025, 8, 1))])
    assert status_of(household) == HousingStatus.APPRAISED_SAFE


def test_older_a_superseded_by_newer_c_is_dangerous(village):
    household = household_with(village, [("A", D(2024, 5, 1)), ("C", D(2025, 8, 1))])
    assert status_of(household) == HousingStatus.DANGEROUS


def test_newest_by_date_wins_even_if_entered_first(village):
    """Entry order must not matter when dates differ: the newer date wins although entered earlier."""
    household = household_with(village, [("A", D(2025, 8, 1)), ("D", D(2024, 5, 1))])
    assert status_of(household) == HousingStatus.APPRAISED_SAFE


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [("D", "B", HousingStatus.APPRAISED_SAFE), ("A", "C", HousingStatus.DANGEROUS)],
)
def test_same_date_the_appraisal_entered_later_wins(village, first, second, expected):
    household = household_with(village, [(first, D(2025, 6, 1)), (second, D(2025, 6, 1))])
    earlier, later = Appraisal.objects.filter(dwelling__household=household).order_by("pk")
    assert (earlier.grade, later.grade) == (first, second)
    assert status_of(household) == expected


# --- flags -----------------------------------------------------------------------------------------------------


def test_flag_owns_safe_but_lives_in_danger(village):
    lives_in_danger = household_with(village, ("occupied", "D"), ("empty", "A"))
    lives_safely = household_with(village, ("occupied", "A"), ("empty", "D"))
    no_other_house = household_with(village, "D")
    empty_unappraised = household_with(village, ("occupied", "D"), ("empty", None))
    assert annotated(lives_in_danger).flag_owns_safe_but_lives_in_danger is True
    assert annotated(lives_safely).flag_owns_safe_but_lives_in_danger is False
    assert annotated(no_other_house).flag_owns_safe_but_lives_in_danger is False
    assert annotated(empty_unappraised).flag_owns_safe_but_lives_in_danger is False


def test_flag_owns_safe_uses_the_current_appraisal_of_the_other_house(village):
    household = household_with(village, ("occupied", "D"), ("empty", [("A", D(2024, 1, 1)), ("D", D(2025, 1, 1))]))
    assert annotated(household).flag_owns_safe_but_lives_in_danger is False


def test_flag_connected_uncooperative(village):
    uncooperative = HouseholdFactory(village=village)
    DwellingFactory(household=uncooperative, is_connected=True, neighbour_cooperates=False)
    cooperative = HouseholdFactory(village=village)
    DwellingFactory(household=cooperative, is_connected=True, neighbour_cooperates=True)
    unknown = HouseholdFactory(village=village)
    DwellingFactory(household=unknown, is_connected=True, neighbour_cooperates=None)
    not_lived_in = HouseholdFactory(village=village)
    DwellingFactory(household=not_lived_in, is_connected=True, neighbour_cooperates=False, is_occupied=False)
    DwellingFactory(household=not_lived_in)

    assert annotated(uncooperative).flag_connected_uncooperative is True
    assert annotated(cooperative).flag_connected_uncooperative is False
    assert annotated(unknown).flag_connected_uncooperative is False
    assert annotated(not_lived_in).flag_connected_uncooperative is False


def test_flag_leaking_follows_the_current_appraisal_of_a_home(village):
    household = HouseholdFactory(village=village)
    home = DwellingFactory(household=household)
    appraise(home, "B", D(2025, 1, 1), is_leaking=True)
    assert annotated(household).flag_leaking is True

    appraise(home, "B", D(2025, 8, 1), is_leaking=False)
    assert annotated(household).flag_leaking is False


def test_flag_leaking_ignores_a_dwelling_not_lived_in(village):
    household = HouseholdFactory(village=village)
    appraise(DwellingFactory(household=household), "A")
    appraise(DwellingFactory(household=household, is_occupied=False), "B", is_leaking=True)
    assert annotated(household).flag_leaking is False


def test_flags_are_false_for_a_plain_household(village):
    household = annotated(household_with(village, "A"))
    flags = (
        household.flag_owns_safe_but_lives_in_danger,
        household.flag_connected_uncooperative,
        household.flag_leaking,
    )
    assert flags == (False, False, False)


# --- covered households, scope, query count ---------------------------------------------------------------------


def test_covered_households_exclude_removed_ones(village, admin_user):
    active = household_with(village, "A")
    removed = household_with(village, "D")
    household_services.remove_household(
        actor=admin_user, household=removed, reason="户籍迁出", removed_on=D(2026, 5, 1)
    )
    covered = covered_households_for_user(admin_user, TODAY)
    assert [h.pk for h in covered] == [active.pk]
    assert covered.get().housing_status == HousingStatus.APPRAISED_SAFE


def test_covered_households_follow_the_users_scope(village, shuangyang, staff, admin_user):
    own = household_with(village, "A")
    foreign = household_with(VillageFactory(township=shuangyang), "D")
    assert sorted(h.pk for h in covered_households_for_user(staff, TODAY)) == [own.pk]
    assert sorted(h.pk for h in covered_households_for_user(admin_user, TODAY)) == sorted([own.pk, foreign.pk])
    assert list(covered_households_for_user(make_user(None), TODAY)) == []


def _mixed_households(village, n: int) -> dict[int, str]:
    """n households cycling through every status; returns {pk: expected status}."""
    expected = {}
    for i in range(n):
        kind = i % 5
        if kind == 0:
            household, status = household_with(village, "A"), HousingStatus.APPRAISED_SAFE
        elif kind == 1:
            household, status = household_with(village, "B", [("A", D(2024, 1, 1)), ("D", D(2025, 1, 1))]), "dangerous"
        elif kind == 2:
            household, status = household_with(village, None), HousingStatus.UNAPPRAISED
        elif kind == 3:
            household = household_with(village, "C")
            SecuredHousingFactory(household=household, since=D(2026, 1, 1))
            status = HousingStatus.SECURED
        else:
            household, status = HouseholdFactory(village=village), HousingStatus.UNAPPRAISED
        expected[household.pk] = status
    return expected


@pytest.mark.parametrize("n", [3, 30])
def test_status_of_many_households_is_one_query(village, django_assert_num_queries, n):
    expected = _mixed_households(village, n)
    assert Household.objects.count() == n

    with django_assert_num_queries(1):
        households = list(with_housing_status(Household.objects.all(), TODAY))

    assert {h.pk: h.housing_status for h in households} == expected


def test_status_counts_per_township_in_two_queries(village, shuangyang, django_assert_num_queries):
    expected_xinqiao = _mixed_households(village, 7)  # A, B+D, none, C+secured, no dwelling, A, B+D
    other = VillageFactory(township=shuangyang)
    household_with(other, "D")
    household_with(other, "D")
    household_with(other, "B")

    with django_assert_num_queries(2):
        counts = status_counts(Household.objects.all(), "village__township_id")

    assert sorted(expected_xinqiao.values()).count("dangerous") == 2
    assert counts == {
        village.township_id: {
            "appraised_safe": 2,
            "renovated_safe": 0,
            "secured": 1,
            "dangerous": 2,
            "unappraised": 2,
        },
        shuangyang.pk: {
            "appraised_safe": 1,
            "renovated_safe": 0,
            "secured": 0,
            "dangerous": 2,
            "unappraised": 0,
        },
    }


def test_status_counts_by_village(village, xinqiao):
    other_village = VillageFactory(township=xinqiao, name="西坑村")
    household_with(village, "A")
    household_with(other_village, None)
    counts = status_counts(Household.objects.filter(village__township=xinqiao), "village_id")
    assert counts[village.pk]["appraised_safe"] == 1
    assert counts[village.pk]["unappraised"] == 0
    assert counts[other_village.pk]["unappraised"] == 1
    assert set(counts) == {village.pk, other_village.pk}


# --- the one-month appraisal deadline -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("registered_on", "due_on"),
    [
        (D(2026, 1, 31), D(2026, 2, 28)),
        (D(2028, 1, 31), D(2028, 2, 29)),
        (D(2026, 3, 31), D(2026, 4, 30)),
        (D(2026, 12, 15), D(2027, 1, 15)),
        (D(2026, 2, 28), D(2026, 3, 28)),
        (D(2026, 6, 15), D(2026, 7, 15)),
    ],
)
def test_appraisal_due_on(registered_on, due_on):
    assert appraisal_due_on(registered_on) == due_on


def test_deadline_months_come_from_settings(settings):
    settings.APPRAISAL_DEADLINE_MONTHS = 2
    assert appraisal_due_on(D(2026, 12, 31)) == D(2027, 2, 28)
    assert appraisal_due_on(D(2027, 12, 31)) == D(2028, 2, 29)


@pytest.mark.parametrize("months", [1, 2])
def test_overdue_registration_cutoff_is_exact_for_every_day(settings, months):
    """For every `today` in 2026-2028: r <= cutoff(today) exactly when the appraisal of r is overdue."""
    settings.APPRAISAL_DEADLINE_MONTHS = months
    window = datetime.timedelta(days=31 * months + 10)
    day = datetime.timedelta(days=1)
    mismatches = []
    today = D(2026, 1, 1)
    while today <= D(2028, 12, 31):
        cutoff = overdue_registration_cutoff(today)
        r = today - window
        while r <= today:
            if (r <= cutoff) != (appraisal_due_on(r) < today):
                mismatches.append((today, r, cutoff))
            r += day
        today += day
    assert mismatches == []


@pytest.mark.parametrize(
    ("today", "cutoff"),
    [
        (D(2026, 2, 28), D(2026, 1, 27)),
        (D(2026, 3, 1), D(2026, 1, 31)),
        (D(2026, 3, 31), D(2026, 2, 28)),
        (D(2028, 3, 1), D(2028, 1, 31)),
        (D(2028, 2, 29), D(2028, 1, 28)),
        (D(2026, 7, 16), D(2026, 6, 15)),
    ],
)
def test_overdue_registration_cutoff_examples(today, cutoff):
    assert overdue_registration_cutoff(today) == cutoff


def test_overdue_unappraised_after_the_due_date(village, admin_user):
    household = household_with(village, None, registered_on=D(2026, 1, 31))

    assert list(overdue_unappraised_for_user(admin_user, D(2026, 2, 28))) == []
    assert [h.pk for h in overdue_unappraised_for_user(admin_user, D(2026, 3, 1))] == [household.pk]

    appraise(household.dwellings.get(), "C", D(2026, 2, 20))
    assert list(overdue_unappraised_for_user(admin_user, D(2026, 3, 1))) == []


def test_overdue_excludes_removed_secured_and_out_of_scope(village, shuangyang, staff, admin_user):
    overdue = household_with(village, None, registered_on=D(2026, 1, 5))
    secured = household_with(village, None, registered_on=D(2026, 1, 5))
    SecuredHousingFactory(household=secured, since=D(2026, 2, 1))
    removed = household_with(village, None, registered_on=D(2026, 1, 5))
    household_services.remove_household(
        actor=admin_user, household=removed, reason="死亡注销", removed_on=D(2026, 2, 1)
    )
    household_with(VillageFactory(township=shuangyang), None, registered_on=D(2026, 1, 5))

    assert [h.pk for h in overdue_unappraised_for_user(staff, D(2026, 3, 1))] == [overdue.pk]


# --- placard currency ---------------------------------------------------------------------------------------------


def issue(actor, household, today=TODAY) -> Placard:
    (placard,) = services.issue_placards(actor=actor, households=[household], today=today)
    return placard


def test_placard_is_current_after_issue(village, staff):
    household = household_with(village, "A")
    placard = issue(staff, household)
    assert placard_is_current(placard, TODAY) is True
    assert list(current_placards(Household.objects.all(), TODAY)) == [placard]


def test_placard_superseded_by_a_newer_dangerous_appraisal(village, staff):
    household = household_with(village, [("A", D(2025, 6, 1))])
    placard = issue(staff, household)
    appraise(household.dwellings.get(), "C", D(2026, 3, 1))
    assert placard_is_current(placard, TODAY) is False
    assert list(current_placards(Household.objects.all(), TODAY)) == []


def test_placard_superseded_by_a_newer_safe_appraisal(village, staff):
    household = household_with(village, [("B", D(2025, 6, 1))])
    placard = issue(staff, household)
    appraise(household.dwellings.get(), "A", D(2026, 3, 1))
    assert placard_is_current(placard, TODAY) is False


def test_placard_superseded_when_the_household_is_removed(village, staff):
    household = household_with(village, "A")
    placard = issue(staff, household)
    household_services.remove_household(actor=staff, household=household, reason="户籍迁出", removed_on=D(2026, 5, 1))
    assert placard_is_current(placard, TODAY) is False
    household_services.restore_household(actor=staff, household=household)
    assert placard_is_current(placard, TODAY) is True


def test_secured_placard_superseded_when_the_arrangement_ends(village, staff):
    household = household_with(village, "D")
    arrangement = SecuredHousingFactory(household=household, since=D(2026, 1, 1))
    placard = issue(staff, household)
    assert (placard.status, placard.secured_housing) == ("secured", arrangement)
    assert placard_is_current(placard, TODAY) is True

    arrangement.until = D(2026, 6, 30)
    services.save_secured_housing(actor=staff, arrangement=arrangement)
    assert placard_is_current(placard, D(2026, 6, 30)) is True
    assert placard_is_current(placard, D(2026, 7, 1)) is False


def test_secured_placard_superseded_when_a_new_arrangement_follows(village, staff):
    household = household_with(village, "D")
    first = SecuredHousingFactory(household=household, since=D(2026, 1, 1), until=D(2026, 3, 31))
    placard = issue(staff, household, today=D(2026, 2, 1))
    assert placard.secured_housing == first
    second = SecuredHousingFactory(household=household, since=D(2026, 4, 1))

    assert status_of(household, TODAY) == HousingStatus.SECURED
    assert placard_is_current(placard, D(2026, 3, 31)) is True
    assert placard_is_current(placard, TODAY) is False
    renewed = issue(staff, household, today=TODAY)
    assert renewed.secured_housing == second
    assert placard_is_current(renewed, TODAY) is True


def test_safe_placard_superseded_when_household_becomes_secured(village, staff):
    household = household_with(village, "B")
    placard = issue(staff, household)
    SecuredHousingFactory(household=household, since=D(2026, 6, 1))
    assert placard_is_current(placard, TODAY) is False
    assert placard_is_current(placard, D(2026, 5, 31)) is True


def test_placard_of_one_home_superseded_when_another_home_becomes_dangerous(village, staff):
    household = household_with(village, "A", "B")
    placard = issue(staff, household)
    second_home = household.dwellings.order_by("pk")[1]
    appraise(second_home, "D", D(2026, 1, 10))
    assert placard_is_current(placard, TODAY) is False


def test_current_placards_picks_only_the_current_one_per_household(village, staff):
    first = household_with(village, [("B", D(2025, 1, 1))])
    second = household_with(village, "A")
    old = issue(staff, first)
    appraise(first.dwellings.get(), "A", D(2026, 2, 1))
    new = issue(staff, first)
    other = issue(staff, second)

    current = current_placards(Household.objects.all(), TODAY)
    assert sorted(p.pk for p in current) == sorted([new.pk, other.pk])
    assert old.pk not in {p.pk for p in current}
    only_first = current_placards(Household.objects.filter(pk=first.pk), TODAY)
    assert [p.pk for p in only_first] == [new.pk]


def test_current_basis_reports_what_a_placard_would_certify(village):
    safe = household_with(village, "A")
    secured = household_with(village, "D")
    arrangement = SecuredHousingFactory(household=secured, since=D(2026, 1, 1))
    dangerous = household_with(village, "D")
    safe_appraisal = Appraisal.objects.get(dwelling__household=safe)
    assert selectors.current_basis(safe, TODAY) == ("appraised_safe", safe_appraisal.pk, None)
    assert selectors.current_basis(secured, TODAY) == ("secured", None, arrangement.pk)
    assert selectors.current_basis(dangerous, TODAY)[0] == "dangerous"


def test_placard_basis_is_the_appraisal_of_the_home_not_of_an_empty_house(village, staff):
    household = household_with(village, ("occupied", [("A", D(2025, 6, 1))]), ("empty", [("B", D(2026, 1, 1))]))
    home_appraisal = Appraisal.objects.get(dwelling__household=household, dwelling__is_occupied=True)
    assert selectors.current_basis(household, TODAY) == ("appraised_safe", home_appraisal.pk, None)
    placard = issue(staff, household)
    assert placard.appraisal == home_appraisal
    appraise(household.dwellings.get(is_occupied=False), "A", D(2026, 3, 1))
    assert placard_is_current(placard, TODAY) is True


def test_a_dangerous_houses_placard_is_current_while_its_appraisal_stands(village):
    """ "贫困户房屋安全状况制牌上墙" (issue 24): a dangerous house has its placard too (its grade and the action under
    way); it is current while the house stays dangerous on the same appraisal, superseded once re-appraised."""
    household = household_with(village, "D")
    appraisal = Appraisal.objects.get(dwelling__household=household)
    placard = Placard.objects.create(household=household, serial="100-000001", status="dangerous", appraisal=appraisal)
    assert status_of(household) == HousingStatus.DANGEROUS
    assert placard_is_current(placard, TODAY) is True
    assert list(current_placards(Household.objects.all(), TODAY)) == [placard]
    wrong = Placard.objects.create(
        household=household, serial="100-000002", status="appraised_safe", appraisal=appraisal
    )
    assert placard_is_current(wrong, TODAY) is False  # a status the house does not have is never current
