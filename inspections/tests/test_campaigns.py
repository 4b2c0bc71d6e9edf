"""Campaign launch: scopes, one INSERT … SELECT, idempotency; the quarterly job and its quarter boundaries."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command

from households.models import Dwelling, Household, HouseholdCategory
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory, make_user, township
from housing_safety.access import Role
from inspections.models import Campaign, Revisit
from inspections.services import launch_campaign, launch_quarterly_revisits, quarter_of

from .factories import AppraisalFactory

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def world():
    """Dwellings in two townships covering every scope criterion."""
    xinqiao, shuangyang = township("350881100"), township("350881101")
    base = VillageFactory(township=xinqiao, name="基点村", is_revolutionary_base_village=True)
    plain = VillageFactory(township=shuangyang, name="平常村")
    dibao = HouseholdFactory(village=base, categories=["minimum_living"])
    poor = HouseholdFactory(village=plain, categories=["registered_poor"])
    removed = HouseholdFactory(
        village=plain, status=Household.Status.REMOVED, removed_on=D(2026, 1, 1), removal_reason="迁出"
    )
    return {
        "adobe_base": DwellingFactory(household=dibao, structure_type="adobe"),
        "frame_base": DwellingFactory(household=dibao, structure_type="frame"),
        "earth_plain": DwellingFactory(household=poor, structure_type="earth_timber"),
        "empty_plain": DwellingFactory(household=poor, structure_type="brick_timber", is_occupied=False),
        "removed": DwellingFactory(household=removed, structure_type="adobe"),
    }


def campaign(**scope) -> Campaign:
    m2m = {name: scope.pop(name) for name in ("townships", "villages", "categories") if name in scope}
    made = Campaign.objects.create(
        name="台风后排查", kind=Campaign.Kind.POST_DISASTER, starts_on=D(2026, 8, 1), due_on=D(2026, 8, 31), **scope
    )
    for name, values in m2m.items():
        getattr(made, name).set(values)
    return made


def launched(made: Campaign) -> set[Dwelling]:
    return {r.dwelling for r in Revisit.objects.filter(campaign=made).select_related("dwelling")}


@pytest.fixture
def admin(db):
    return make_user(Role.BUREAU_ADMIN)


def test_default_scope_is_every_occupied_dwelling_of_covered_households(world, admin):
    made = campaign()
    assert launch_campaign(actor=admin, campaign=made) == 3
    assert launched(made) == {world["adobe_base"], world["frame_base"], world["earth_plain"]}
    assert {r.due_on for r in made.revisits.all()} == {D(2026, 8, 31)}
    made.refresh_from_db()
    assert made.launched_by == admin and made.launched_at is not None


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ({"townships": ["350881101"]}, {"earth_plain"}),
        ({"base_villages_only": True}, {"adobe_base", "frame_base"}),
        ({"structure_types": ["adobe", "brick_timber"]}, {"adobe_base"}),
        ({"structure_types": ["adobe", "brick_timber"], "occupied_only": False}, {"adobe_base", "empty_plain"}),
        ({"categories": ["registered_poor"]}, {"earth_plain"}),
        ({"current_grades": ["D"]}, {"frame_base"}),
        ({"current_grades": ["none"]}, {"adobe_base", "earth_plain"}),
    ],
)
def test_each_scope_criterion_narrows_the_dwellings(world, admin, scope, expected):
    AppraisalFactory(dwelling=world["frame_base"], grade="D", load_bearing_walls="d", recommendation="rebuild")
    if "townships" in scope:
        scope["townships"] = [township(code) for code in scope["townships"]]
    if "categories" in scope:
        scope["categories"] = list(HouseholdCategory.objects.filter(code__in=scope["categories"]))
    made = campaign(**scope)
    launch_campaign(actor=admin, campaign=made)
    assert launched(made) == {world[name] for name in expected}


def test_a_scope_matching_nothing_creates_nothing(world, admin):
    made = campaign(structure_types=["stone_timber"])
    assert launch_campaign(actor=admin, campaign=made) == 0
    assert not made.revisits.exists()


def test_launching_twice_creates_nothing_new_but_picks_up_new_dwellings(world, admin):
    made = campaign()
    assert launch_campaign(actor=admin, campaign=made) == 3
    assert launch_campaign(actor=admin, campaign=made) == 0
    DwellingFactory(household=world["earth_plain"].household, structure_type="adobe")
    assert launch_campaign(actor=admin, campaign=made) == 1
    assert made.revisits.count() == 4


def test_launch_costs_the_same_queries_for_any_number_of_dwellings_with_one_insert(world, admin):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def run() -> list[str]:
        made = campaign()
        with CaptureQueriesContext(connection) as captured:
            launch_campaign(actor=admin, campaign=made)
        return [q["sql"] for q in captured.captured_queries]

    run()  # warms the actor's permission cache
    small = run()
    for _ in range(20):
        DwellingFactory(household=world["earth_plain"].household, structure_type="adobe")
    large = run()
    assert len(small) == len(large)
    inserts = [sql for sql in large if sql.lstrip().upper().startswith('INSERT INTO "INSPECTIONS_REVISIT"')]
    assert len(inserts) == 1 and "SELECT" in inserts[0].upper()
    assert Revisit.objects.count() == 3 + 3 + 23


@pytest.mark.parametrize("role", [Role.TOWNSHIP_STAFF, Role.BUREAU_OFFICIAL, Role.HELPER])
def test_only_the_bureau_launches_campaigns(world, role):
    user = make_user(role, townships=[township("350881100")] if role == Role.TOWNSHIP_STAFF else ())
    with pytest.raises(PermissionDenied):
        launch_campaign(actor=user, campaign=campaign())
    assert not Revisit.objects.exists()


@pytest.mark.parametrize(
    ("day", "quarter", "first", "last"),
    [
        (D(2026, 1, 1), 1, D(2026, 1, 1), D(2026, 3, 31)),
        (D(2026, 3, 31), 1, D(2026, 1, 1), D(2026, 3, 31)),
        (D(2026, 4, 1), 2, D(2026, 4, 1), D(2026, 6, 30)),
        (D(2026, 9, 30), 3, D(2026, 7, 1), D(2026, 9, 30)),
        (D(2026, 12, 31), 4, D(2026, 10, 1), D(2026, 12, 31)),
    ],
)
def test_quarter_boundaries(day, quarter, first, last):
    assert quarter_of(day) == (quarter, first, last)


def test_quarterly_revisits_cover_vulnerable_houses_lived_in_or_not_once_per_quarter(world):
    made, created = launch_quarterly_revisits(day=D(2026, 10, 1))
    assert (made.schedule_key, made.starts_on, made.due_on, made.kind) == (
        "2026Q4",
        D(2026, 10, 1),
        D(2026, 12, 31),
        "quarterly",
    )
    # Every vulnerable house, the one nobody is said to live in too (issue 24: the plan's "已有安全住房却仍住在老旧
    # 危房" is found there); not the frame house, nor the removed household's.
    assert launched(made) == {world["adobe_base"], world["earth_plain"], world["empty_plain"]}
    assert created == 3
    again, created_again = launch_quarterly_revisits(day=D(2026, 11, 20))
    assert again == made and created_again == 0
    assert Campaign.objects.count() == 1


def test_run_jobs_runs_the_quarterly_job_on_the_first_day_of_a_quarter_only(world, capsys):
    call_command("run_jobs", "--date", "2027-04-01")
    assert "3 revisits created" in capsys.readouterr().out
    call_command("run_jobs", "--date", "2027-04-02")
    assert "quarterly_revisits" not in capsys.readouterr().out
    call_command("run_jobs", "--date", "2027-04-01")
    assert Campaign.objects.get().schedule_key == "2027Q2" and Revisit.objects.count() == 3
