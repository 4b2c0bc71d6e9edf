"""The dashboard's maintained figures (reporting.rollup): the rollup equals a recomputation after a random sequence
of service calls with refreshes in between, the dashboard shows the same numbers from it as from the records for
every role, the refresh is idempotent, and the nightly check reports a difference."""

from __future__ import annotations

import contextlib
import datetime
import random

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from households.models import Household
from households.services import remove_household, restore_household, save_household
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory
from housing_safety.access import Role
from inspections.services import launch_quarterly_revisits, save_secured_housing
from inspections.tests.factories import SecuredHousingFactory
from rectification import services
from rectification.models import Problem
from rectification.tests.factories import dangerous_dwelling, safe_appraisal
from reporting import rollup, selectors
from reporting.jobs import run_job
from reporting.models import AreaFigures, FiguresRefresh

from . import test_figures_and_dashboard as figures_tests
from .test_figures_and_dashboard import household, log_complaint, open_case_on, problem

world = figures_tests.world  # the same small city as the figures' tests (the fixture)

pytestmark = pytest.mark.django_db


def today() -> datetime.date:
    return timezone.localdate()


def test_the_rollup_keeps_every_area_figure_but_the_share():
    assert set(rollup.FIGURES) == set(selectors.AREA_KEYS) - {"placard_share"}


def test_a_refresh_equals_a_recomputation_and_is_idempotent(world):
    assert rollup.refresh_figures(day=today()) == 16 or FiguresRefresh.objects.get().day == today()
    assert rollup.differences(today()) == []
    before = sorted(AreaFigures.objects.values_list("township_id", "village_id", "covered", "problems_open"), key=str)
    assert before  # a test of an empty rollup could not fail
    rollup.refresh_figures(day=today())
    rollup.refresh_figures(day=today(), full=True)
    after = sorted(AreaFigures.objects.values_list("township_id", "village_id", "covered", "problems_open"), key=str)
    assert after == before
    assert rollup.differences(today()) == []


def test_the_township_records_without_a_village_have_their_own_row(world):
    rollup.refresh_figures(day=today())
    row = AreaFigures.objects.get(township=world.xinqiao, village=None)
    assert row.problems_closed == 1  # 全镇鉴定台账不全: a problem of the whole township


def test_the_nightly_check_reports_a_difference(world):
    rollup.refresh_figures(day=today())
    AreaFigures.objects.filter(village=world.v1).update(covered=99)
    assert rollup.differences(today()) == [
        {"place": (world.xinqiao.pk, world.v1.pk), "figure": "covered", "rollup": 99, "recomputed": 3}
    ]
    AreaFigures.objects.filter(village=world.v1).update(covered=3)
    assert run_job("check_figures", today()) == "figures rollup: 0 differences"


def test_a_new_day_refreshes_every_township(world):
    rollup.refresh_figures(day=today() - datetime.timedelta(days=1))
    assert rollup.refresh_figures(day=today()) == 16  # nothing changed, but the figures depend on the day
    assert set(AreaFigures.objects.values_list("day", flat=True)) == {today()}


# Random service calls ------------------------------------------------------------------------------------------


def _steps(w, admin, staff):
    """Service calls that change what the figures count, each a function of a random generator."""
    villages = [w.v1, w.v2, w.v3]

    def move_household(rng):
        moved = Household.objects.get(pk=rng.choice(list(Household.objects.values_list("pk", flat=True))))
        moved.village = rng.choice(villages)
        save_household(actor=admin, household=moved)

    def remove_or_restore(rng):
        target = Household.objects.get(pk=rng.choice(list(Household.objects.values_list("pk", flat=True))))
        if target.status == Household.Status.ACTIVE:
            remove_household(actor=admin, household=target, reason="已迁出本市")
        else:
            restore_household(actor=admin, household=target)

    def appraise(rng):
        target = Household.objects.filter(status=Household.Status.ACTIVE).order_by("?").first()
        if rng.random() < 0.5:
            dangerous_dwelling(target, grade=rng.choice("CD"), appraised_on=today() - datetime.timedelta(days=40))
        else:
            safe_appraisal(DwellingFactory(household=target), on=today(), grade=rng.choice("AB"))

    def secure(rng):
        target = Household.objects.filter(status=Household.Status.ACTIVE).order_by("?").first()
        since = today() - datetime.timedelta(days=rng.randint(-3, 60))  # some begin in a few days
        save_secured_housing(actor=admin, arrangement=SecuredHousingFactory.build(household=target, since=since))

    def new_household(rng):
        added = household(rng.choice(villages), "新户", today() - datetime.timedelta(days=90), ["registered_poor"])
        DwellingFactory(household=added)

    def campaign(rng):
        launch_quarterly_revisits(day=today())

    def new_problem(rng):
        target = Household.objects.filter(village__township=w.xinqiao).order_by("?").first()
        problem(staff, w.xinqiao, today() - datetime.timedelta(days=rng.randint(-5, 5)), household=target)

    def move_a_problem(rng):
        open_ = Problem.objects.filter(status=Problem.Status.OPEN).order_by("?").first()
        if open_ is not None:
            services.move_problem(actor=admin, problem=open_, to=Problem.Status.IN_PROGRESS)

    def complaint(rng):
        log_complaint(w.clerk, today() - datetime.timedelta(days=rng.randint(0, 20)), village=rng.choice(villages))

    def open_case(rng):
        target = Household.objects.filter(status=Household.Status.ACTIVE).order_by("?").first()
        dwelling = dangerous_dwelling(target, grade="D", appraised_on=today() - datetime.timedelta(days=10))
        if not dwelling.renovation_cases.exists():
            open_case_on(admin, dwelling, today())

    def new_village(rng):
        villages.append(VillageFactory(township=rng.choice([w.xinqiao, w.shuangyang]), name=f"新村{len(villages)}"))

    return [
        move_household, remove_or_restore, appraise, secure, new_household, campaign, new_problem, move_a_problem,
        complaint, open_case, new_village,
    ]  # fmt: skip


@override_settings(FIGURES_REFRESH_OVERLAP_MINUTES=0)  # only what changed since the last refresh
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_rollup_equals_a_recomputation_after_random_service_calls(world, admin, staff, seed):
    rng = random.Random(seed)
    steps = _steps(world, admin, staff)
    rollup.refresh_figures(day=today())
    refreshed = []
    for _round in range(8):
        for step in rng.choices(steps, k=rng.randint(1, 2)):
            with contextlib.suppress(ValidationError):  # a service's refusal (a case for a house left…) writes nothing
                step(rng)
        refreshed.append(rollup.refresh_figures(day=today()))
        assert rollup.differences(today()) == []
    assert max(refreshed) <= 2 < sum(refreshed)  # incremental: only the townships touched, each round
    assert rollup.refresh_figures(day=today()) == 0  # nothing changed since


@override_settings(FIGURES_REFRESH_OVERLAP_MINUTES=0)
def test_a_household_moved_to_another_township_leaves_both_right(world, admin):
    rollup.refresh_figures(day=today())
    world.h_a.village = world.v3
    save_household(actor=admin, household=world.h_a)
    assert rollup.refresh_figures(day=today()) == 2  # the township it left (its history) and the one it joined
    assert rollup.differences(today()) == []


@override_settings(FIGURES_REFRESH_OVERLAP_MINUTES=0)
def test_a_case_stays_with_its_township_when_the_household_moves(world, admin):
    world.h_c.village = world.v3  # 吴改造's open case stays with 新桥镇
    save_household(actor=admin, household=world.h_c)
    rollup.refresh_figures(day=today())
    assert AreaFigures.objects.get(township=world.xinqiao, village=world.v3).cases_open == 1
    assert rollup.differences(today()) == []
    rows, _totals = selectors.township_table(admin, today(), rollup=True)
    live_rows, _live = selectors.township_table(admin, today())
    assert [row.figures for row in rows] == [row.figures for row in live_rows]


# The dashboard -----------------------------------------------------------------------------------------------


DASHBOARD_ROLES = [Role.BUREAU_ADMIN, Role.BUREAU_OFFICIAL, Role.TOWNSHIP_STAFF, Role.DEPARTMENT_LIAISON]


@pytest.mark.parametrize("role", DASHBOARD_ROLES)
def test_every_roles_tables_are_the_same_numbers_from_the_rollup(world, personas, role):
    user = personas[role]
    rollup.refresh_figures(day=today())
    live_rows, live_totals = selectors.township_table(user, today())
    served = rollup.current(user, today())
    assert (served is not None) == (role != Role.DEPARTMENT_LIAISON)  # a department's scope is its own list
    rows, totals = selectors.township_table(user, today(), rollup=served is not None)
    assert totals == live_totals and totals["covered"] > 0
    assert [(row.area, row.figures) for row in rows] == [(row.area, row.figures) for row in live_rows]
    if role != Role.DEPARTMENT_LIAISON:
        for township in (world.xinqiao, world.shuangyang):
            if role == Role.TOWNSHIP_STAFF and township != world.xinqiao:
                continue
            live = selectors.village_table(user, township, today())
            rolled = selectors.village_table(user, township, today(), rollup=True)
            assert rolled[1] == live[1]
            assert [(r.area, r.figures) for r in rolled[0]] == [(r.area, r.figures) for r in live[0]]


def _home_counts(client) -> dict[str, int]:
    return {
        str(todo.label): todo.count
        for _group, todos in client.get("/").context["groups"]
        for todo in todos
        if todo.count is not None
    }


@pytest.mark.parametrize("role", Role.values)
def test_every_roles_home_shows_the_same_counts_from_the_rollup(client, world, personas, role):
    """The homes read the province-wide counts (appraisals overdue, dangerous houses, revisits, dangerous houses
    without a case) from the maintained figures: the same numbers as counted live, each such line saying when."""
    client.force_login(personas[role])
    live = _home_counts(client)
    rollup.refresh_figures(day=today())
    served = rollup.totals(personas[role], today()) is not None
    assert served == (role in {Role.BUREAU_ADMIN, Role.BUREAU_OFFICIAL, Role.TOWNSHIP_STAFF, Role.COMPLAINT_CLERK})
    response = client.get("/")
    assert _home_counts(client) == live
    notes = {str(t.label): t.note for _group, todos in response.context["groups"] for t in todos}
    as_of = f"数据更新于 {timezone.localtime(FiguresRefresh.objects.get().as_of):%H:%M}"
    assert (as_of in response.content.decode()) == served
    if served:
        assert notes["危房清单"] == notes["逾期未鉴定"] == as_of
    if role in {Role.BUREAU_ADMIN, Role.TOWNSHIP_STAFF}:  # the counts compared are not all zero
        assert live["危房清单"] > 0


@pytest.mark.parametrize("drill_down", [False, True])
def test_the_dashboard_reads_the_rollup_and_says_when(client, world, official, admin, drill_down):
    client.force_login(official)
    url = reverse("reporting:dashboard") + (f"?township={world.xinqiao.pk}" if drill_down else "")
    live = client.get(url)
    assert live.context["figures_as_of"] is None
    rollup.refresh_figures(day=today())
    rolled = client.get(url)
    assert rolled.context["totals"] == live.context["totals"]
    as_of = timezone.localtime(FiguresRefresh.objects.get().as_of)
    assert rolled.context["figures_as_of"] == as_of
    assert f"数据更新于 {as_of:%H:%M}" in rolled.content.decode()
    # a change is shown after the next refresh (the job's, every FIGURES_REFRESH_MINUTES)
    remove_household(actor=admin, household=world.h_a, reason="已迁出本市")
    assert client.get(url).context["totals"]["covered"] == live.context["totals"]["covered"]
    run_job("refresh_figures", today())
    assert client.get(url).context["totals"]["covered"] == live.context["totals"]["covered"] - 1


def test_the_dashboards_late_lists_are_kept_for_each_user_until_the_next_refresh(client, world, official, staff):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rollup.refresh_figures(day=today())
    url = reverse("reporting:dashboard")

    def view(user):
        client.force_login(user)
        with CaptureQueriesContext(connection) as queries:
            late = client.get(url).context["late"]
        return [(g["kind"], g["items"]) for g in late], len(queries)

    def live(user):
        return [(g["kind"], g["items"]) for g in selectors.late_items(user, today(), limit=5)]

    first, counted = view(official)
    assert first == live(official) and any(items for _kind, items in first)
    again, counted_again = view(official)
    assert again == first and counted_again <= counted - len(selectors.LATE_LISTS)  # the nine lists not read again
    mine, _counted = view(staff)  # another user: their own scope's lists, not the official's
    assert mine == [(kind, items) for kind, items in live(staff)] != first
    rollup.refresh_figures(day=today(), full=True)  # a new moment: read afresh
    _after, counted_after = view(official)
    assert counted_after > counted_again


def test_the_village_drill_down_reads_the_rollup_and_says_when(client, world, official):
    village = world.h_a.village
    client.force_login(official)
    url = reverse("reporting:dashboard") + f"?village={village.pk}"
    live = client.get(url)
    assert live.context["figures_as_of"] is None
    rollup.refresh_figures(day=today())
    rolled = client.get(url)
    assert rolled.context["totals"] == live.context["totals"] and live.context["totals"]["covered"] > 0
    as_of = timezone.localtime(FiguresRefresh.objects.get().as_of)
    assert rolled.context["figures_as_of"] == as_of and f"数据更新于 {as_of:%H:%M}" in rolled.content.decode()


@pytest.mark.parametrize(
    ("drill_down", "queries"),
    # the rollup's state, then one SUM … GROUP BY over its rows instead of the dozen GROUP BYs over the records (44 and
    # 42 read live: test_figures_and_dashboard.py, with one more for the state)
    [(False, 34), (True, 32)],
    ids=["city", "township"],
)
def test_dashboard_queries_from_the_rollup(client, world, official, django_assert_num_queries, drill_down, queries):
    rollup.refresh_figures(day=today())
    client.force_login(official)
    url = reverse("reporting:dashboard") + (f"?township={world.xinqiao.pk}" if drill_down else "")
    client.get(url)
    cache.clear()  # the late lists read afresh, as on the first view after a refresh (and the shell's identity)
    with django_assert_num_queries(queries + 1):
        assert client.get(url).status_code == 200
    with django_assert_num_queries(queries - len(selectors.LATE_LISTS)):  # then kept until the next refresh
        assert client.get(url).status_code == 200


def test_the_changed_townships_are_one_union_without_orderings_sqlite_would_refuse():
    """`make run`'s SQLite allows no ORDER BY inside a UNION's parts (the history models order by date): every
    incremental refresh, and so the consolidated report, failed there with "ORDER BY not allowed in subqueries of
    compound statements"."""
    place = HouseholdFactory()
    with CaptureQueriesContext(connection) as queries:
        found = rollup.changed_townships(timezone.now() - datetime.timedelta(minutes=5))
    assert found == {place.village.township_id}
    [union] = [query["sql"] for query in queries.captured_queries if "UNION" in query["sql"]]
    assert "ORDER BY" not in union
