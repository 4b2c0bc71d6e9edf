"""A revisit's stored township (issue 21): written by the campaign, always its household's township, and the scope
of township staff read from it: the same revisits as through the households, before and after a move."""

from __future__ import annotations

import datetime
import importlib

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.db.models import F
from django.urls import reverse

from households import services as registry
from households.selectors import household_scope_filter
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory, make_user, township
from households.tests.test_query_counts import measured
from housing_safety.access import Role
from inspections import selectors
from inspections.models import Campaign, Revisit
from inspections.services import launch_campaign

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def world():
    """Two townships, two villages each, households with one or two houses; a launched campaign over all of them,
    some of its revisits done; a helper and a department's household among them."""
    xinqiao, shuangyang = township("350881100"), township("350881101")
    villages = {
        "east": VillageFactory(township=xinqiao, name="东坑村"),
        "west": VillageFactory(township=xinqiao, name="西坑村"),
        "hill": VillageFactory(township=shuangyang, name="西山村"),
        "river": VillageFactory(township=shuangyang, name="河口村"),
    }
    households = {}
    for name, village in villages.items():
        for index in range(3):
            household = HouseholdFactory(village=village, head_name=f"{village.name}户{index}")
            DwellingFactory(household=household)
            if index == 0:
                DwellingFactory(household=household, address="老屋")
            households[f"{name}{index}"] = household
    admin = make_user(Role.BUREAU_ADMIN)
    made = Campaign.objects.create(
        name="季度回访", kind=Campaign.Kind.QUARTERLY, starts_on=D(2026, 10, 1), due_on=D(2026, 12, 31)
    )
    launch_campaign(actor=admin, campaign=made)
    done = Revisit.objects.filter(dwelling__household__in=[households["east1"], households["hill1"]])
    done.update(status=Revisit.Status.DONE, visited_on=D(2026, 11, 2))
    return {
        "xinqiao": xinqiao,
        "shuangyang": shuangyang,
        "villages": villages,
        "households": households,
        "admin": admin,
        "staff": make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao]),
        "other_staff": make_user(Role.TOWNSHIP_STAFF, townships=[shuangyang]),
    }


def stored_equals_households() -> bool:
    return not Revisit.objects.exclude(township_id=F("dwelling__household__village__township_id")).exists()


def through_households(user) -> set[int]:
    """The revisits the user reached before the township was stored: through dwelling → household → village."""
    return set(
        Revisit.objects.filter(household_scope_filter(user, "dwelling__household__")).values_list("pk", flat=True)
    )


def listed(client) -> set[int]:
    response = client.get(reverse("inspections:revisits"))
    assert response.status_code == 200
    return {revisit.pk for revisit in response.context["page"].object_list}


def test_the_campaign_stores_each_revisits_household_township(world):
    assert Revisit.objects.count() == 16  # 12 households, 4 of them with a second house
    assert stored_equals_households()
    assert Revisit.objects.filter(township=world["xinqiao"]).count() == 8


def test_every_role_reaches_the_same_revisits_as_through_the_households(world):
    helper = make_user(Role.HELPER)
    helped = world["households"]["west2"]
    helped.helper_user = helper
    helped.save(update_fields=["helper_user"])
    both = make_user(Role.TOWNSHIP_STAFF, townships=[world["xinqiao"], world["shuangyang"]])
    for user in [world["staff"], world["other_staff"], both, helper, world["admin"]]:
        ours = set(selectors.revisits_for_user(user).values_list("pk", flat=True))
        assert ours == through_households(user), user
    assert len(through_households(world["staff"])) == 8 and len(through_households(helper)) == 1


def test_township_staff_list_their_pending_revisits_and_not_another_townships(client, world):
    client.force_login(world["staff"])
    pending_here = set(Revisit.objects.filter(township=world["xinqiao"], status="pending").values_list("pk", flat=True))
    assert listed(client) == pending_here and len(pending_here) == 7
    elsewhere = Revisit.objects.filter(township=world["shuangyang"], status="pending").first()
    assert client.get(reverse("inspections:revisit", args=[elsewhere.pk])).status_code == 404


def test_the_bureau_narrows_the_list_to_a_township_by_the_stored_township(client, world):
    client.force_login(world["admin"])
    shown = client.get(reverse("inspections:revisits"), {"township": world["shuangyang"].pk}).context["page"]
    assert {r.pk for r in shown.object_list} == set(
        Revisit.objects.filter(township=world["shuangyang"], status="pending").values_list("pk", flat=True)
    )


@pytest.mark.parametrize("how", ["household's village", "dwelling's household", "village's township"])
def test_a_move_to_another_township_takes_the_revisits_with_it(client, world, django_assert_num_queries, how):
    """Pending and done revisits follow (the township responsible now sees the house's whole record); the township
    that gave it up no longer lists nor opens them; nothing else is written."""
    households, admin = world["households"], world["admin"]
    moving = households["east0"]  # two houses
    before = dict(Revisit.objects.values_list("pk", "updated_at"))
    if how == "household's village":
        moved = list(Revisit.objects.filter(dwelling__household=moving))
        moving.village = world["villages"]["hill"]
        registry.save_household(actor=admin, household=moving)
    elif how == "dwelling's household":
        dwelling = moving.dwellings.get(address="老屋")
        moved = list(dwelling.revisits.all())
        dwelling.household = households["hill0"]
        registry.save_dwelling(actor=admin, dwelling=dwelling)
    else:
        village = world["villages"]["east"]
        moved = list(Revisit.objects.filter(dwelling__household__village=village))
        village.township = world["shuangyang"]
        registry.save_village(actor=admin, village=village)
    done = Revisit.objects.filter(dwelling__household=households["east1"])
    if how == "village's township":
        assert set(done) <= set(moved)  # a done revisit follows as well
    assert moved and stored_equals_households()
    after = dict(Revisit.objects.values_list("pk", "updated_at"))
    moved_ids = {r.pk for r in moved}
    assert set(Revisit.objects.filter(township=world["shuangyang"]).values_list("pk", flat=True)) >= moved_ids
    assert all(after[pk] > before[pk] for pk in moved_ids)  # an incremental sync sees them leave and arrive
    assert all(after[pk] == before[pk] for pk in set(before) - moved_ids)  # nothing else is written

    for who in ("staff", "other_staff"):
        assert set(selectors.revisits_for_user(world[who]).values_list("pk", flat=True)) == through_households(
            world[who]
        )
    client.force_login(world["staff"])
    pending_moved = {r.pk for r in moved if r.status == Revisit.Status.PENDING}
    assert pending_moved and not listed(client) & pending_moved
    assert client.get(reverse("inspections:revisit", args=[moved[0].pk])).status_code == 404
    client.force_login(world["other_staff"])
    # The list's queries are those pinned in test_query_counts (8), whichever township the revisits came from.
    response = measured(client, reverse("inspections:revisits"), 8, django_assert_num_queries)
    assert pending_moved <= {r.pk for r in response.context["page"].object_list}
    assert client.get(reverse("inspections:revisit", args=[moved[0].pk])).status_code == 200


def test_a_move_inside_the_township_writes_no_revisit(world):
    moving = world["households"]["east0"]
    before = dict(Revisit.objects.values_list("pk", "updated_at"))
    moving.village = world["villages"]["west"]
    registry.save_household(actor=world["admin"], household=moving)
    assert dict(Revisit.objects.values_list("pk", "updated_at")) == before


def test_the_migration_fills_every_revisit_from_its_household_in_one_statement(world, django_assert_num_queries):
    fill = importlib.import_module("inspections.migrations.0012_revisit_township").fill_townships
    Revisit.objects.update(township=world["xinqiao"])  # as wrong as a column before its filling
    assert not stored_equals_households()
    with (
        connection.schema_editor(atomic=False) as editor,
        django_assert_num_queries(
            2 if connection.vendor == "postgresql" else 1  # the UPDATE, and on PostgreSQL the checks run at once
        ),
    ):
        fill(django_apps, editor)
    assert stored_equals_households()
