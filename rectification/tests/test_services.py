"""The problem list: one transition table, move_problem under a row lock, save_problem's scope, the DB
constraints, the selectors' scope and counts, and the plan's phases."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from housing_safety.access import Role, scope_of
from rectification import selectors
from rectification.models import Problem, ProblemTransition
from rectification.services import PROBLEM_MOVES, move_problem, phase_on, save_problem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("chinese")]
D = datetime.date
S = Problem.Status
NO_PERMISSION = "您没有执行此操作的权限。"
OWN_TOWNSHIP_ONLY = "您只能修改本乡镇（街道）的记录。"
STATUS_ZH = {S.OPEN: "待整改", S.IN_PROGRESS: "整改中", S.RESOLVED: "已整改", S.VERIFIED: "已核实"}


def make_problem(township, status=S.OPEN, *, household=None, dwelling=None, kind=Problem.Kind.OTHER, **fields):
    if status in (S.RESOLVED, S.VERIFIED):
        fields.setdefault("resolution", "已修缮")
    return Problem.objects.create(
        township=township,
        household=household,
        dwelling=dwelling,
        source=fields.pop("source", Problem.Source.SELF_INSPECTION),
        kind=kind,
        description=fields.pop("description", "屋面漏雨"),
        deadline=fields.pop("deadline", D(2026, 12, 31)),
        status=status,
        **fields,
    )


@pytest.fixture
def problem(xinqiao, home_household):
    return make_problem(xinqiao, household=home_household, dwelling=home_household.dwellings.get())


def assert_unchanged(problem: Problem, status: str) -> None:
    problem.refresh_from_db()
    assert problem.status == status
    assert not ProblemTransition.objects.filter(problem=problem).exists()


# phase_on --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "phase"),
    [
        (D(2026, 1, 1), Problem.Phase.SELF_INSPECTION),  # before the year's first phase: the list of 一
        (D(2026, 5, 14), Problem.Phase.SELF_INSPECTION),
        (D(2026, 5, 15), Problem.Phase.RECTIFICATION),  # 一 and 二 both current: the latest begun (issue 24)
        (D(2026, 6, 11), Problem.Phase.RECTIFICATION),
        (D(2026, 6, 30), Problem.Phase.RECTIFICATION),
        (D(2026, 7, 1), Problem.Phase.MONITORING),
        (D(2026, 10, 31), Problem.Phase.MONITORING),
        (D(2026, 11, 1), Problem.Phase.SUMMARY),
        (D(2026, 12, 28), Problem.Phase.SUMMARY),  # after the last phase: the last begun
    ],
)
def test_phase_on_follows_the_years_phases(day, phase):
    """The phases of 2026 as migration rectification.0009 seeds them (the plan's windows; a later year not entered
    reads the latest entered year's windows); see test_plan_phases."""
    assert phase_on(day) == phase
    assert phase_on(day.replace(year=day.year + 3)) == phase  # a year not entered reads the nearest year's windows


# The transition table ---------------------------------------------------------------------------------------


def test_transition_table_is_exactly_the_plan():
    assert PROBLEM_MOVES == {
        (S.OPEN, S.IN_PROGRESS): "rectification.change_problem",
        (S.OPEN, S.RESOLVED): "rectification.change_problem",
        (S.IN_PROGRESS, S.RESOLVED): "rectification.change_problem",
        (S.RESOLVED, S.VERIFIED): "rectification.verify_problem",
        (S.RESOLVED, S.IN_PROGRESS): "rectification.verify_problem",
    }


@pytest.mark.parametrize(("start", "to"), list(PROBLEM_MOVES))
def test_every_allowed_move(admin, xinqiao, home_household, start, to):
    problem = make_problem(xinqiao, start, household=home_household)
    moved = move_problem(actor=admin, problem=problem, to=to, note="按计划推进", resolution="已补漏")
    assert moved.status == to
    problem.refresh_from_db()
    assert problem.status == to
    [step] = ProblemTransition.objects.filter(problem=problem)
    assert (step.from_status, step.to_status, step.actor, step.note) == (start, to, admin, "按计划推进")
    assert step.at is not None
    assert problem.history.first().history_user == admin


@pytest.mark.parametrize(
    ("start", "to"),
    [
        (S.OPEN, S.VERIFIED),
        (S.OPEN, S.OPEN),
        (S.IN_PROGRESS, S.OPEN),
        (S.IN_PROGRESS, S.VERIFIED),
        (S.IN_PROGRESS, S.IN_PROGRESS),
        (S.RESOLVED, S.OPEN),
        (S.RESOLVED, S.RESOLVED),
        (S.VERIFIED, S.OPEN),
        (S.VERIFIED, S.IN_PROGRESS),
        (S.VERIFIED, S.RESOLVED),
    ],
)
def test_disallowed_moves_are_rejected_with_the_chinese_message(admin, xinqiao, start, to):
    problem = make_problem(xinqiao, start)
    with pytest.raises(ValidationError) as error:
        move_problem(actor=admin, problem=problem, to=to, resolution="已修缮")
    assert error.value.messages == [f"状态为“{STATUS_ZH[start]}”的问题不能变更为“{STATUS_ZH[to]}”。"]
    assert_unchanged(problem, start)


def test_unknown_target_status_is_rejected(admin, problem):
    with pytest.raises(ValidationError) as error:
        move_problem(actor=admin, problem=problem, to="closed")
    assert error.value.messages == ["状态为“待整改”的问题不能变更为“closed”。"]
    assert_unchanged(problem, S.OPEN)


@pytest.mark.parametrize("start", [S.OPEN, S.IN_PROGRESS])
@pytest.mark.parametrize("resolution", ["", "   "])
def test_resolving_needs_a_resolution_note(staff, xinqiao, start, resolution):
    problem = make_problem(xinqiao, start)
    with pytest.raises(ValidationError) as error:
        move_problem(actor=staff, problem=problem, to=S.RESOLVED, note="完成", resolution=resolution)
    assert error.value.message_dict == {"resolution": ["请填写整改结果。"]}
    assert_unchanged(problem, start)
    assert (problem.resolution, problem.resolved_at, problem.resolved_by) == ("", None, None)


def test_township_staff_resolve_and_the_resolution_is_recorded(staff, problem):
    before = timezone.now()
    move_problem(actor=staff, problem=problem, to=S.IN_PROGRESS, note="已派工")
    move_problem(actor=staff, problem=problem, to=S.RESOLVED, note="验收", resolution="  屋面已翻修  ")
    problem.refresh_from_db()
    assert problem.status == S.RESOLVED
    assert problem.resolution == "屋面已翻修"
    assert problem.resolved_by == staff
    assert before <= problem.resolved_at <= timezone.now()
    assert (problem.verified_by, problem.verified_at) == (None, None)
    steps = list(ProblemTransition.objects.filter(problem=problem).values_list("from_status", "to_status", "note"))
    assert steps == [(S.OPEN, S.IN_PROGRESS, "已派工"), (S.IN_PROGRESS, S.RESOLVED, "验收")]
    assert set(ProblemTransition.objects.filter(problem=problem).values_list("actor", flat=True)) == {staff.pk}


@pytest.mark.parametrize("to", [S.VERIFIED, S.IN_PROGRESS])
def test_township_staff_cannot_verify_or_send_back(staff, xinqiao, to):
    problem = make_problem(xinqiao, S.RESOLVED)
    with pytest.raises(PermissionDenied) as error:
        move_problem(actor=staff, problem=problem, to=to)
    assert str(error.value) == NO_PERMISSION
    assert_unchanged(problem, S.RESOLVED)
    assert problem.verified_by is None


@pytest.mark.parametrize("role", [Role.BUREAU_OFFICIAL, Role.BUREAU_ADMIN])
def test_the_bureau_verifies(personas, xinqiao, role):
    actor = personas[role]
    problem = make_problem(xinqiao, S.RESOLVED)
    before = timezone.now()
    move_problem(actor=actor, problem=problem, to=S.VERIFIED, note="抽查属实")
    problem.refresh_from_db()
    assert problem.status == S.VERIFIED
    assert problem.verified_by == actor
    assert before <= problem.verified_at <= timezone.now()
    [step] = ProblemTransition.objects.filter(problem=problem)
    assert (step.from_status, step.to_status, step.actor, step.note) == (S.RESOLVED, S.VERIFIED, actor, "抽查属实")


def test_the_bureau_sends_a_resolution_back_to_work(official, xinqiao):
    problem = make_problem(xinqiao, S.RESOLVED)
    move_problem(actor=official, problem=problem, to=S.IN_PROGRESS, note="整改不到位")
    problem.refresh_from_db()
    assert problem.status == S.IN_PROGRESS
    assert problem.verified_by is None


def test_bureau_official_cannot_work_a_problem(official, problem):
    with pytest.raises(PermissionDenied) as error:
        move_problem(actor=official, problem=problem, to=S.IN_PROGRESS)
    assert str(error.value) == NO_PERMISSION
    assert_unchanged(problem, S.OPEN)


@pytest.mark.parametrize("role", [Role.HELPER, Role.DEPARTMENT_LIAISON, Role.COMPLAINT_CLERK, "no_role"])
def test_other_roles_cannot_move_problems(personas, problem, role):
    with pytest.raises(PermissionDenied):
        move_problem(actor=personas[role], problem=problem, to=S.IN_PROGRESS)
    assert_unchanged(problem, S.OPEN)


def test_out_of_scope_staff_are_refused(other_staff, problem):
    with pytest.raises(PermissionDenied) as error:
        move_problem(actor=other_staff, problem=problem, to=S.RESOLVED, resolution="已修缮")
    assert str(error.value) == OWN_TOWNSHIP_ONLY
    assert_unchanged(problem, S.OPEN)
    assert problem.resolution == ""


def test_a_stale_object_is_moved_from_the_stored_status(staff, problem):
    stale = Problem.objects.get(pk=problem.pk)
    move_problem(actor=staff, problem=problem, to=S.IN_PROGRESS)
    assert stale.status == S.OPEN
    moved = move_problem(actor=staff, problem=stale, to=S.RESOLVED, resolution="已修缮")
    assert moved.status == S.RESOLVED
    last = ProblemTransition.objects.filter(problem=problem).last()
    assert (last.from_status, last.to_status) == (S.IN_PROGRESS, S.RESOLVED)


def test_a_stale_object_cannot_reopen_a_verified_problem(staff, admin, xinqiao):
    problem = make_problem(xinqiao, S.RESOLVED)
    stale = Problem.objects.get(pk=problem.pk)
    Problem.objects.filter(pk=problem.pk).update(status=S.VERIFIED)
    stale.status = S.OPEN  # what a stale form could claim
    with pytest.raises(ValidationError) as error:
        move_problem(actor=admin, problem=stale, to=S.IN_PROGRESS)
    assert error.value.messages == ["状态为“已核实”的问题不能变更为“整改中”。"]
    assert_unchanged(problem, S.VERIFIED)


def test_a_stale_object_does_not_let_staff_bypass_verification(staff, xinqiao):
    """Stored `resolved`; the stale copy says `open`, from which staff could move to in_progress."""
    problem = make_problem(xinqiao, S.RESOLVED)
    stale = Problem.objects.get(pk=problem.pk)
    stale.status = S.OPEN
    with pytest.raises(PermissionDenied):
        move_problem(actor=staff, problem=stale, to=S.IN_PROGRESS)
    assert_unchanged(problem, S.RESOLVED)


def test_a_stale_object_in_another_township_uses_the_stored_township(staff, shuangyang, xinqiao):
    problem = make_problem(shuangyang)
    stale = Problem.objects.get(pk=problem.pk)
    stale.township = xinqiao
    with pytest.raises(PermissionDenied):
        move_problem(actor=staff, problem=stale, to=S.IN_PROGRESS)
    assert_unchanged(problem, S.OPEN)


# Database constraints -------------------------------------------------------------------------------------------


def test_second_open_problem_for_the_same_dwelling_and_kind_violates_the_unique_constraint(xinqiao, home_household):
    dwelling = home_household.dwellings.get()
    make_problem(xinqiao, S.IN_PROGRESS, dwelling=dwelling, kind=Problem.Kind.LEAKING)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_problem(xinqiao, S.OPEN, dwelling=dwelling, kind=Problem.Kind.LEAKING)
    assert Problem.objects.count() == 1


def test_the_unique_constraint_only_covers_open_problems_with_a_dwelling(xinqiao, home_household):
    dwelling = home_household.dwellings.get()
    make_problem(xinqiao, S.RESOLVED, dwelling=dwelling, kind=Problem.Kind.LEAKING)
    make_problem(xinqiao, S.VERIFIED, dwelling=dwelling, kind=Problem.Kind.LEAKING)
    make_problem(xinqiao, S.OPEN, dwelling=dwelling, kind=Problem.Kind.LEAKING)
    make_problem(xinqiao, S.OPEN, dwelling=dwelling, kind=Problem.Kind.NEW_DAMAGE)
    make_problem(xinqiao, S.OPEN, household=home_household, kind=Problem.Kind.LEAKING)
    make_problem(xinqiao, S.OPEN, household=home_household, kind=Problem.Kind.LEAKING)
    assert Problem.objects.count() == 6


@pytest.mark.parametrize("status", [S.RESOLVED, S.VERIFIED])
def test_a_closed_problem_needs_a_resolution_in_the_database(xinqiao, status):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_problem(xinqiao, status, resolution="")


# save_problem -------------------------------------------------------------------------------------------------


def manual(township=None, **fields) -> Problem:
    return Problem(
        township=township,
        source=fields.pop("source", Problem.Source.SELF_INSPECTION),
        kind=fields.pop("kind", Problem.Kind.MISSING_DOCUMENTS),
        description=fields.pop("description", "鉴定报告缺少签字"),
        deadline=fields.pop("deadline", D(2026, 6, 30)),
        **fields,
    )


def test_staff_create_a_manual_problem_in_their_township(staff, xinqiao):
    problem = save_problem(actor=staff, problem=manual(xinqiao, measure="补签", responsible_person="王主任"))
    problem.refresh_from_db()
    assert problem.township == xinqiao
    assert problem.source == Problem.Source.SELF_INSPECTION
    assert problem.status == S.OPEN
    assert problem.created_by == staff
    assert (problem.measure, problem.responsible_person) == ("补签", "王主任")
    assert problem.history.first().history_user == staff


def test_the_township_follows_the_household(staff, home_household, xinqiao):
    problem = save_problem(actor=staff, problem=manual(household=home_household))
    assert problem.township == xinqiao


def test_staff_cannot_create_a_problem_in_another_township(staff, shuangyang):
    with pytest.raises(PermissionDenied) as error:
        save_problem(actor=staff, problem=manual(shuangyang))
    assert str(error.value) == OWN_TOWNSHIP_ONLY
    assert not Problem.objects.exists()


def test_staff_cannot_create_a_problem_for_another_townships_household(staff, other_household):
    with pytest.raises(PermissionDenied):
        save_problem(actor=staff, problem=manual(household=other_household))
    assert not Problem.objects.exists()


def test_staff_cannot_attach_another_townships_household_under_their_own_township(staff, xinqiao, other_household):
    with pytest.raises((PermissionDenied, ValidationError)):
        save_problem(actor=staff, problem=manual(xinqiao, household=other_household))
    assert not Problem.objects.exists()


def test_staff_cannot_move_a_problem_to_another_township(staff, problem, shuangyang, xinqiao):
    problem.township = shuangyang
    problem.household = problem.dwelling = None
    with pytest.raises(PermissionDenied):
        save_problem(actor=staff, problem=problem)
    problem.refresh_from_db()
    assert problem.township == xinqiao


def test_staff_cannot_edit_another_townships_problem(staff, shuangyang):
    problem = make_problem(shuangyang)
    problem.description = "改掉"
    with pytest.raises(PermissionDenied):
        save_problem(actor=staff, problem=problem)
    problem.refresh_from_db()
    assert problem.description == "屋面漏雨"


def test_staff_edit_their_own_problem(staff, problem):
    problem.measure = "更换瓦片"
    problem.deadline = D(2026, 9, 30)
    save_problem(actor=staff, problem=problem)
    problem.refresh_from_db()
    assert (problem.measure, problem.deadline, problem.status) == ("更换瓦片", D(2026, 9, 30), S.OPEN)


def test_save_problem_validates_the_model(staff, xinqiao):
    with pytest.raises(ValidationError) as error:
        save_problem(actor=staff, problem=manual(xinqiao, description=""))
    assert "description" in error.value.message_dict
    assert not Problem.objects.exists()


@pytest.mark.parametrize("role", [Role.HELPER, Role.DEPARTMENT_LIAISON, Role.COMPLAINT_CLERK, Role.BUREAU_OFFICIAL])
def test_roles_without_add_problem_cannot_create(personas, xinqiao, role):
    with pytest.raises(PermissionDenied) as error:
        save_problem(actor=personas[role], problem=manual(xinqiao))
    assert str(error.value) == NO_PERMISSION
    assert not Problem.objects.exists()


def test_bureau_official_cannot_edit(official, problem):
    problem.measure = "改"
    with pytest.raises(PermissionDenied):
        save_problem(actor=official, problem=problem)
    problem.refresh_from_db()
    assert problem.measure == ""


# Selectors -------------------------------------------------------------------------------------------------


def test_problems_for_user_scope(personas, staff, other_staff, xinqiao, shuangyang):
    here, there = make_problem(xinqiao), make_problem(shuangyang)
    assert list(selectors.problems_for_user(staff)) == [here]
    assert list(selectors.problems_for_user(other_staff)) == [there]
    for role in (Role.BUREAU_ADMIN, Role.BUREAU_OFFICIAL):
        assert set(selectors.problems_for_user(personas[role])) == {here, there}
    for role in (Role.HELPER, Role.DEPARTMENT_LIAISON, Role.COMPLAINT_CLERK, "no_role"):
        assert not selectors.problems_for_user(personas[role]).exists()


TODAY = D(2026, 7, 15)


@pytest.fixture
def counted(xinqiao, shuangyang):
    """新桥镇: open overdue, open due today, in progress overdue, resolved (overdue deadline), verified.
    双洋镇: one open problem due later."""
    yesterday, tomorrow = TODAY - datetime.timedelta(days=1), TODAY + datetime.timedelta(days=1)
    make_problem(xinqiao, S.OPEN, deadline=yesterday)
    make_problem(xinqiao, S.OPEN, deadline=TODAY)
    make_problem(xinqiao, S.IN_PROGRESS, deadline=yesterday)
    make_problem(xinqiao, S.RESOLVED, deadline=yesterday)
    make_problem(xinqiao, S.VERIFIED, deadline=yesterday)
    make_problem(shuangyang, S.OPEN, deadline=tomorrow)


def rows_by_code(rows) -> dict[str, dict]:
    keys = ("open", "overdue", "resolved", "verified")
    return {row["township"].code: {k: row[k] for k in keys} for row in rows}


def test_problem_counts_by_township(admin, counted):
    rows = rows_by_code(selectors.problem_counts_by_township(admin, today=TODAY))
    assert len(rows) == 16
    assert rows["350881100"] == {"open": 3, "overdue": 2, "resolved": 1, "verified": 1}
    assert rows["350881101"] == {"open": 1, "overdue": 0, "resolved": 0, "verified": 0}
    assert rows["350881102"] == {"open": 0, "overdue": 0, "resolved": 0, "verified": 0}


def test_problem_counts_follow_the_scope(staff, personas, counted):
    rows = rows_by_code(selectors.problem_counts_by_township(staff, today=TODAY))
    assert rows == {"350881100": {"open": 3, "overdue": 2, "resolved": 1, "verified": 1}}
    assert selectors.problem_counts_by_township(personas["no_role"], today=TODAY) == []
    helper_rows = selectors.problem_counts_by_township(personas[Role.HELPER], today=TODAY)
    assert all(row["open"] == row["verified"] == 0 for row in helper_rows)


def test_problem_counts_default_to_today(admin, xinqiao):
    make_problem(xinqiao, deadline=timezone.localdate() - datetime.timedelta(days=1))
    make_problem(xinqiao, deadline=timezone.localdate())
    rows = rows_by_code(selectors.problem_counts_by_township(admin))
    assert rows["350881100"]["overdue"] == 1


def test_problem_counts_are_one_group_by_plus_the_township_list(admin, counted, django_assert_num_queries):
    """The counts for every township come from a single GROUP BY over problems; the only other statement is the
    list of townships to show. With the scope and permissions warmed, that is two statements in all."""
    scope_of(admin)
    admin.has_perm("rectification.view_problem")
    with django_assert_num_queries(2) as captured:
        rows = list(selectors.problem_counts_by_township(admin, today=TODAY))
    assert len(rows) == 16
    problem_queries = [q["sql"] for q in captured.captured_queries if "rectification_problem" in q["sql"]]
    assert len(problem_queries) == 1
    assert "GROUP BY" in problem_queries[0]


def test_problem_count_statements_do_not_grow_with_the_number_of_problems(
    admin, xinqiao, shuangyang, django_assert_num_queries
):
    for _ in range(5):
        make_problem(xinqiao)
        make_problem(shuangyang)
    scope_of(admin)
    admin.has_perm("rectification.view_problem")
    with django_assert_num_queries(2):
        list(selectors.problem_counts_by_township(admin, today=TODAY))
