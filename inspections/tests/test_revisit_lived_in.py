"""The quarterly revisit follows the plan's named case (issue 24): every vulnerable house of a covered household,
lived in or not, and the visit records whether anyone still lives there."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from households.models import Dwelling, Household, HousingStatus
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory
from housing_safety.access import SYSTEM
from inspections import selectors, services
from inspections.models import Campaign, Revisit
from inspections.tests.factories import AppraisalFactory
from rectification.tests.factories import dangerous_dwelling
from reporting.selectors import township_table

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("chinese")]


@pytest.fixture
def moved_out(xinqiao):
    """林新房 owns a new brick-concrete house (B, lived in) and the old earth-timber house, D, marked as left."""
    household = HouseholdFactory(village=VillageFactory(township=xinqiao, name="东坑村"), head_name="林新房")
    AppraisalFactory(
        dwelling=DwellingFactory(household=household, structure_type=Dwelling.StructureType.BRICK_CONCRETE)
    )
    old = dangerous_dwelling(
        household, grade="D", is_occupied=False, structure_type=Dwelling.StructureType.EARTH_TIMBER
    )
    household.refresh_from_db()
    assert (household.home_status, household.flag_owns_safe_but_lives_in_danger) == (
        HousingStatus.APPRAISED_SAFE,
        False,
    )
    return old


def visit(actor, revisit: Revisit, still_lived_in: bool) -> Revisit:
    return services.record_revisit(
        actor=actor,
        revisit=revisit,
        visited_on=timezone.localdate(),
        findings=[],
        outcome=Revisit.Outcome.NONE,
        still_lived_in=still_lived_in,
    )


def test_the_quarterly_campaign_visits_the_old_house_a_family_has_left(moved_out, xinqiao):
    """The plan: "跟踪排查处置各类贫困户已有安全住房却仍住在老旧危房" and "每季度跟踪回访排查" of the 土坯、土木、
    砖木 houses. The old house a household owning a safe one is said to have left is where the revisit finds out
    that the family still sleeps there: the quarterly campaign takes every vulnerable house of a covered household,
    lived in or not; not the safe brick-concrete house, nor the houses of households taken off the list."""
    lived_in = DwellingFactory(household=HouseholdFactory(village=moved_out.household.village))
    removed = HouseholdFactory(
        village=moved_out.household.village,
        status=Household.Status.REMOVED,
        removed_on=timezone.localdate(),
        removal_reason="迁出",
    )
    DwellingFactory(household=removed, is_occupied=False)
    campaign, created = services.launch_quarterly_revisits(day=timezone.localdate())
    assert created == 2
    assert set(campaign.revisits.values_list("dwelling_id", flat=True)) == {moved_out.pk, lived_in.pk}
    assert campaign.occupied_only is False


def test_a_quarter_launched_under_the_old_rule_is_widened_when_the_job_runs_again(moved_out):
    """A campaign of this quarter made when only houses marked as lived in were taken: the next run adds the rest."""
    day = timezone.localdate()
    quarter, first, last = services.quarter_of(day)
    Campaign.objects.create(
        name="季度回访",
        kind=Campaign.Kind.QUARTERLY,
        starts_on=first,
        due_on=last,
        structure_types=list(Dwelling.VULNERABLE),
        occupied_only=True,
        schedule_key=f"{first.year}Q{quarter}",
    )
    campaign, created = services.launch_quarterly_revisits(day=day)
    assert created == 1 and campaign.revisits.get().dwelling == moved_out


def test_a_revisit_that_finds_the_family_in_the_old_house_flips_its_flags(moved_out, staff, xinqiao):
    """The plan's case found on a visit: 「是否仍有人居住」 answered yes on the old D house marks it lived in; the
    household is then 危房 (on the dangerous list and in the figures) and "owns a safe house, lives in the old
    one"; the dwelling's history names the revisit, the revisit's history keeps the answer."""
    campaign, _created = services.launch_quarterly_revisits(day=timezone.localdate())
    revisit = campaign.revisits.get(dwelling=moved_out)
    _rows, before = township_table(SYSTEM)
    visit(staff, revisit, still_lived_in=True)
    household = Household.objects.get(pk=moved_out.household_id)
    assert (household.home_status, household.flag_owns_safe_but_lives_in_danger) == (HousingStatus.DANGEROUS, True)
    assert list(selectors.dangerous_for_user(staff)) == [household]
    _rows, after = township_table(SYSTEM)
    assert after["status_dangerous"] == before["status_dangerous"] + 1
    assert after["dangerous_houses"] == before["dangerous_houses"] + 1
    change = moved_out.history.first()
    assert change.is_occupied is True and change.history_user == staff
    assert "回访" in change.history_change_reason and "仍有人居住" in change.history_change_reason
    assert revisit.history.first().still_lived_in is True


def test_a_revisit_that_finds_the_old_house_empty_takes_the_household_off_the_dangerous_list(moved_out, staff):
    """The other answer: nobody lives in the house any more; the family lives in its safe house."""
    Dwelling.objects.filter(pk=moved_out.pk).update(is_occupied=True)
    services.refresh_home_state(household_ids=[moved_out.household_id])
    assert Household.objects.get(pk=moved_out.household_id).flag_owns_safe_but_lives_in_danger is True
    campaign, _created = services.launch_quarterly_revisits(day=timezone.localdate())
    visit(staff, campaign.revisits.get(dwelling=moved_out), still_lived_in=False)
    household = Household.objects.get(pk=moved_out.household_id)
    assert (household.home_status, household.flag_owns_safe_but_lives_in_danger) == (
        HousingStatus.APPRAISED_SAFE,
        False,
    )
    assert Dwelling.objects.get(pk=moved_out.pk).is_occupied is False


def test_the_answer_is_required_on_the_form_and_nothing_changes_without_it(client, moved_out, staff):
    campaign, _created = services.launch_quarterly_revisits(day=timezone.localdate())
    revisit = campaign.revisits.get(dwelling=moved_out)
    client.force_login(staff)
    url = reverse("inspections:revisit", args=[revisit.pk])
    page = client.get(url).content.decode()
    assert "是否仍有人居住" in page and "是，仍有人居住" in page and "否，无人居住" in page
    day = timezone.localdate().isoformat()
    response = client.post(url, {"visited_on": day, "outcome": "none"})
    assert response.status_code == 200 and "请选择这栋房屋是否仍有人居住。" in response.content.decode()
    revisit.refresh_from_db()
    assert revisit.status == Revisit.Status.PENDING and Dwelling.objects.get(pk=moved_out.pk).is_occupied is False
    response = client.post(url, {"visited_on": day, "still_lived_in": "yes", "outcome": "none"})
    assert response.status_code == 302
    revisit.refresh_from_db()
    assert (revisit.status, revisit.still_lived_in) == (Revisit.Status.DONE, True)
    assert Dwelling.objects.get(pk=moved_out.pk).is_occupied is True
