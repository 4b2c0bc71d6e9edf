"""manage.py generate_synthetic: the mix it makes, valid and unique ID numbers, reproducibility, additive runs, and
stored summaries that equal a fresh recomputation. On SQLite by default, on PostgreSQL (COPY) with DATABASE_URL."""

from __future__ import annotations

import datetime
import io
from collections import Counter, defaultdict
from itertools import pairwise

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from households.identity import id_number_error
from households.models import Dwelling, Household
from inspections.models import Appraisal, Campaign, Revisit
from inspections.services import refresh_current_grades
from rectification.models import (
    CASE_STEPS,
    CaseStatus,
    CaseTransition,
    Complaint,
    Problem,
    RenovationCase,
    SubsidyPayment,
)
from reporting.management.commands import generate_synthetic

pytestmark = pytest.mark.django_db
S = CaseStatus


class Rollback(Exception):
    pass


def generate(households: int = 300, seed: int = 5) -> str:
    out = io.StringIO()
    call_command("generate_synthetic", households=households, seed=seed, stdout=out)
    return out.getvalue()


def summaries() -> tuple[dict, dict]:
    dwellings = {
        pk: (grade, leaking, graded_on)
        for pk, grade, leaking, graded_on in Dwelling.objects.values_list(
            "pk", "current_grade", "current_leaking", "current_graded_on"
        )
    }
    households = {
        row[0]: row[1:]
        for row in Household.objects.values_list(
            "pk", "home_status", "flag_owns_safe_but_lives_in_danger", "flag_connected_uncooperative", "flag_leaking"
        )
    }
    return dwellings, households


def snapshot() -> list[tuple]:
    """What a run made, without primary keys (PostgreSQL's sequences do not roll back)."""
    appraisals = defaultdict(list)
    for dwelling_id, on, grade, leaking in Appraisal.objects.order_by("appraised_on", "pk").values_list(
        "dwelling_id", "appraised_on", "grade", "is_leaking"
    ):
        appraisals[dwelling_id].append((on, grade, leaking))
    dwellings = defaultdict(list)
    for dwelling in Dwelling.objects.order_by("pk"):
        dwellings[dwelling.household_id].append(
            (
                dwelling.address,
                dwelling.structure_type,
                dwelling.year_built,
                dwelling.is_occupied,
                dwelling.current_grade,
                dwelling.renovated_on,
                tuple(appraisals[dwelling.pk]),
            )
        )
    categories = defaultdict(list)
    for household_id, code in Household.categories.through.objects.values_list(
        "household_id", "householdcategory__code"
    ):
        categories[household_id].append(code)
    rows = [
        (
            h.id_number,
            h.head_name,
            h.village.name,
            h.village.township_id,
            h.members_count,
            h.home_status,
            sorted(categories[h.pk]),
            tuple(dwellings[h.pk]),
        )
        for h in Household.objects.select_related("village").order_by("id_number")
    ]
    rows.append(tuple(RenovationCase.objects.order_by("number").values_list("number", "status", "status_on")))
    rows.append(tuple(Complaint.objects.order_by("ticket").values_list("ticket", "status", "received_at")))
    rows.append(tuple(Problem.objects.order_by("household__id_number", "kind").values_list("kind", "status")))
    rows.append(
        tuple(
            Revisit.objects.order_by("dwelling__household__id_number", "dwelling__address").values_list(
                "status", "due_on"
            )
        )
    )
    return rows


def test_the_mix_of_one_run():
    output = generate(households=1000)
    assert "1000 households" in output and "Appraisal" in output
    assert Household.objects.count() == 1000
    dwellings = Dwelling.objects.count()
    assert 1120 <= dwellings <= 1280  # about 1.2 per household
    assert Dwelling.objects.filter(is_occupied=False).exists()
    assert len(set(Dwelling.objects.values_list("structure_type", flat=True))) == len(Dwelling.StructureType)
    assert Household.categories.through.objects.values("householdcategory").distinct().count() == 8

    appraised = Dwelling.objects.filter(appraisals__isnull=False).distinct().count()
    assert 0.92 <= appraised / dwellings <= 0.98
    appraisals = Appraisal.objects.count()
    assert 1.7 <= appraisals / 1000 <= 2.2  # about a million per 500,000 households
    by_dwelling = defaultdict(list)
    for dwelling_id, on, pk, grade in Appraisal.objects.order_by("appraised_on", "pk").values_list(
        "dwelling_id", "appraised_on", "pk", "grade"
    ):
        by_dwelling[dwelling_id].append((on, pk, grade))
    with_history = [history for history in by_dwelling.values() if len(history) > 1]
    assert 0.35 <= len(with_history) / appraised <= 0.5
    worse_before = 0
    for history in with_history:  # each earlier appraisal is dated earlier and graded differently
        for (earlier, _pk, old), (later, _pk2, new) in pairwise(history):
            assert earlier < later and old != new
        worse_before += history[-2][2] > history[-1][2]
    assert worse_before > len(with_history) / 2  # usually the earlier grade was worse

    dangerous = Dwelling.objects.filter(current_grade__in=["C", "D"], is_occupied=True).count()
    cases = RenovationCase.objects.count()
    assert cases and 0.05 <= cases / (dangerous + cases) <= 0.2  # completed cases made their house safe
    assert Revisit.objects.count() == pytest.approx(0.3 * dwellings, rel=0.2)
    assert Campaign.objects.filter(launched_at__isnull=False).count() == 1
    assert 15 <= Problem.objects.count() <= 60
    assert 3 <= Complaint.objects.count() <= 25

    for household in Household.objects.all():  # every ID number valid, with its check digit
        assert id_number_error(household.id_number) is None, household.id_number
    for model in (Household, Dwelling, Appraisal, RenovationCase, Problem, Complaint, Revisit):
        for record in model.objects.order_by("pk")[:150]:
            record.full_clean()


def test_cases_at_every_step_follow_the_procedure(monkeypatch):
    monkeypatch.setattr(generate_synthetic, "CASE", 1.0)  # every dangerous home: enough cases to cover the steps
    generate(households=800)
    statuses = Counter(RenovationCase.objects.values_list("status", flat=True))
    assert set(statuses) == {*CASE_STEPS, S.REJECTED, S.WITHDRAWN}
    today = timezone.localdate()
    for case in RenovationCase.objects.select_related("dwelling", "trigger_appraisal", "acceptance_appraisal"):
        steps = list(CaseTransition.objects.filter(case=case).order_by("pk"))
        assert [step.to_status for step in steps[: len(case.reached_steps())]] == list(case.reached_steps())
        days = [step.on for step in steps]
        assert days == sorted(days) and days[-1] == case.status_on <= case.last_activity_on <= today
        assert case.number.startswith("HC") and len(case.number) <= 20
        assert case.township_id == case.household.village.township_id and case.planned_subsidy >= 0
        # The trigger is the dwelling's C/D appraisal current when the household applied.
        current = Appraisal.objects.filter(dwelling=case.dwelling, appraised_on__lte=days[0]).first()
        assert current == case.trigger_appraisal and current.grade in ("C", "D")
        by_step = {step.to_status: step.on for step in steps}
        if case.village_posting_start:
            assert case.village_posting_start == by_step[S.VILLAGE_ASSESSED]
            assert case.village_posting_end >= case.village_posting_start
            assert by_step.get(S.TOWNSHIP_REVIEWED, datetime.date.max) > case.village_posting_end
        if case.township_posting_start:
            assert by_step.get(S.APPROVED, datetime.date.max) > case.township_posting_end
        completed = case.status in (S.ACCEPTED, S.PAID, S.ARCHIVED)
        assert (case.accepted_on is not None) == completed == (case.dwelling.renovated_on is not None)
        if completed:
            assert case.accepted_on == case.dwelling.renovated_on == by_step[S.ACCEPTED]
            acceptance = case.acceptance_appraisal
            assert acceptance.grade in ("A", "B") and acceptance.dwelling_id == case.dwelling_id
            assert by_step[S.CONSTRUCTION_STARTED] <= acceptance.appraised_on <= case.accepted_on
            assert case.dwelling.current_grade == acceptance.grade
        else:
            assert case.dwelling.current_grade in ("C", "D")
        assert SubsidyPayment.objects.filter(case=case).exists() == (case.status in (S.PAID, S.ARCHIVED))
        if case.status in (S.REJECTED, S.WITHDRAWN):
            assert case.closed_from and steps[-1].note
    assert Household.objects.filter(home_status="renovated_safe").exists()


def test_revisits_problems_and_complaints(monkeypatch):
    monkeypatch.setattr(generate_synthetic, "PROBLEM", 0.3)
    monkeypatch.setattr(generate_synthetic, "COMPLAINT", 0.3)
    generate(households=400)
    today = timezone.localdate()
    revisits = Revisit.objects.all()
    assert revisits.filter(status="pending", due_on__lt=today).exists()  # overdue
    assert revisits.filter(status="pending", due_on__gte=today).exists()
    done = revisits.filter(status="done")
    assert done.exists() and not done.filter(visited_on__isnull=True).exists()
    assert not done.filter(visited_on__gt=today).exists()

    problems = Problem.objects.all()
    assert set(problems.values_list("status", flat=True)) == set(Problem.Status.values)
    assert problems.filter(status__in=Problem.OPEN_STATUSES, deadline__lt=today).exists()  # overdue
    assert not problems.filter(status__in=["resolved", "verified"], resolution="").exists()
    assert problems.filter(source="revisit", revisit__isnull=False).exists()
    assert not problems.filter(revisit__status="pending").exists()  # found on a visit that took place
    for problem in problems.select_related("household__village", "dwelling"):
        problem.full_clean()

    complaints = Complaint.objects.all()
    assert len(set(complaints.values_list("status", flat=True))) >= 7
    assert complaints.filter(is_anonymous=True).exists() and complaints.filter(is_anonymous=False).exists()
    assert not complaints.filter(is_anonymous=True).exclude(reporter_name="", reporter_phone="").exists()
    year_ago = timezone.now() - datetime.timedelta(days=366)
    assert not complaints.filter(received_at__lt=year_ago).exists()
    assert not complaints.filter(received_at__gt=timezone.now()).exists()
    for complaint in complaints:
        assert complaint.ticket.startswith("HT") and len(complaint.ticket) <= 20
        assert complaint.query_code_hash and timezone.localdate(complaint.received_at) < complaint.handling_due
        assert complaint.acceptance_due <= complaint.handling_due


def test_stored_summaries_equal_a_fresh_refresh():
    generate(households=300, seed=1)
    generate(households=300, seed=2)
    before = summaries()
    assert Counter(status for status, *_flags in before[1].values()).keys() >= {
        "appraised_safe",
        "dangerous",
        "unappraised",
    }
    refresh_current_grades()
    assert summaries() == before


def test_runs_are_additive_with_unique_ids():
    generate(households=300, seed=3)
    first = set(Household.objects.values_list("id_number", flat=True))
    generate(households=300, seed=3)
    numbers = list(Household.objects.values_list("id_number", flat=True))
    assert len(numbers) == len(set(numbers)) == 600 and first < set(numbers)
    names = set(Household.objects.values_list("head_name", flat=True))
    assert names == {f"合成户{serial}" for serial in range(600)}  # serials continue
    assert Campaign.objects.count() == 2
    assert len(set(RenovationCase.objects.values_list("number", flat=True))) == RenovationCase.objects.count()


def test_the_same_seed_on_the_same_data_makes_the_same_rows():
    made = []
    for _attempt in range(2):
        try:
            with transaction.atomic():
                generate(households=300, seed=11)
                made.append(snapshot())
                raise Rollback
        except Rollback:
            pass
    assert made[0] == made[1] and len(made[0]) == 304
    generate(households=300, seed=12)
    assert snapshot() != made[0]


def test_refuses_in_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        generate(households=10)
    assert not Household.objects.exists()
