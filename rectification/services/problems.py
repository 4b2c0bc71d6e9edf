"""Writes to the problem list. One transition table, one function that moves a problem."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households.models import Attachment, Township
from households.services import add_attachment
from households.uploads import validate_attachment_file
from housing_safety.access import ensure_can_write_in_township, require_perm
from housing_safety.workflow import Workflow
from inspections.models import FindingKind, HelperReport, Revisit

from ..models import Problem, ProblemTransition
from ..phases import phase_number_on
from ..plan import default_plan_item

S = Problem.Status
# (from, to) -> permission the actor needs. Township staff work a problem; only the bureau verifies it
# (or sends it back to work when the resolution does not hold).
PROBLEM_MOVES = Workflow(
    {
        (S.OPEN, S.IN_PROGRESS): "rectification.change_problem",
        (S.OPEN, S.RESOLVED): "rectification.change_problem",
        (S.IN_PROGRESS, S.RESOLVED): "rectification.change_problem",
        (S.RESOLVED, S.VERIFIED): "rectification.verify_problem",
        (S.RESOLVED, S.IN_PROGRESS): "rectification.verify_problem",
    },
    statuses=S,
    refusal=gettext_lazy("A problem that is “%(from)s” cannot become “%(to)s”."),
)


def phase_on(day: datetime.date) -> int:
    """The plan's work phase a problem found on `day` belongs to, from the bureau's table of phases
    (rectification.phases.phase_number_on: the latest begun of those current)."""
    return phase_number_on(day)


def deadline_for(kind: str, day: datetime.date) -> datetime.date:
    """The plan's "明确时间表": a problem found on `day` is due PROBLEM_DAYS_BY_KIND days later (by its kind; the
    others PROBLEM_DEFAULT_DAYS)."""
    return day + datetime.timedelta(days=settings.PROBLEM_DAYS_BY_KIND.get(kind, settings.PROBLEM_DEFAULT_DAYS))


def responsible_for(township_id: int) -> str:
    """The plan's "明确…责任人": the township's person for problems (Township.responsible_for_problems)."""
    township = Township.objects.select_related("problem_owner", "unit").get(pk=township_id)
    return township.responsible_for_problems()


@transaction.atomic
def save_problem(*, actor: AbstractBaseUser, problem: Problem) -> Problem:
    """Create or edit a problem's description, measure, responsible person and deadline (not its status)."""
    require_perm(actor, "rectification.change_problem" if problem.pk else "rectification.add_problem")
    if problem.pk:
        stored = Problem.objects.filter(pk=problem.pk).values_list("township_id", flat=True).first()
        ensure_can_write_in_township(actor, stored)
    if problem.household_id and not problem.township_id:
        problem.township_id = problem.household.village.township_id
    problem.created_by = problem.created_by or actor
    if not problem.pk and not problem.responsible_person.strip() and problem.township_id:
        problem.responsible_person = responsible_for(problem.township_id)
    if not problem.pk and problem.plan_item_id is None:  # the plan's "从落实任务和4项机制两方面", where it is plain
        problem.plan_item = default_plan_item(problem.kind, problem.source)
    problem.full_clean()
    ensure_can_write_in_township(actor, problem.township_id)
    problem._history_user = actor
    problem.save()
    return problem


@transaction.atomic
def move_problem(
    *, actor: AbstractBaseUser, problem: Problem, to: str, note: str = "", resolution: str = "", evidence=()
) -> Problem:
    """Move a problem along PROBLEM_MOVES, under a row lock; a resolution needs a note (and may carry evidence
    photos or documents, checked by content); verification needs a resolution."""
    problem = Problem.objects.select_for_update().get(pk=problem.pk)
    PROBLEM_MOVES.check(actor, problem, to)
    ensure_can_write_in_township(actor, problem.township_id)
    if to in Problem.OPEN_STATUSES and problem.dwelling_id:
        newer = Problem.objects.filter(
            dwelling_id=problem.dwelling_id, kind=problem.kind, status__in=Problem.OPEN_STATUSES
        )
        newer = newer.exclude(pk=problem.pk).first()
        if newer is not None:
            raise ValidationError(
                _("This dwelling already has an open problem of this kind (no. %(number)s): continue there.")
                % {"number": newer.pk}
            )
    if to == S.RESOLVED:
        if not resolution.strip():
            raise ValidationError({"resolution": _("Describe how the problem was resolved.")})
        problem.resolution, problem.resolved_at, problem.resolved_by = resolution.strip(), timezone.now(), actor
    if to == S.VERIFIED:
        problem.verified_at, problem.verified_by = timezone.now(), actor
    evidence = [f for f in evidence if f]
    for uploaded in evidence:
        validate_attachment_file(uploaded)
    ProblemTransition.objects.create(problem=problem, from_status=problem.status, to_status=to, actor=actor, note=note)
    problem.status = to
    problem._history_user = actor
    problem.save()
    for uploaded in evidence:
        add_attachment(actor=actor, record=problem, uploaded_file=uploaded, kind=Attachment.Kind.PHOTO)
    return problem


def open_problems_for_findings(*, actor: AbstractBaseUser, record: Revisit | HelperReport) -> list[Problem]:
    """Each finding of a revisit or helper's report opens a problem, unless one for the same dwelling (or, without
    a dwelling, household) and kind is still open: a repeated finding adds nothing. The problem names the township's
    responsible person and is due by its kind (the plan's "明确时间表和责任人")."""
    source = Problem.Source.REVISIT if isinstance(record, Revisit) else Problem.Source.HELPER_REPORT
    dwelling = record.dwelling
    household = dwelling.household if dwelling else record.household
    notes = record.notes if isinstance(record, Revisit) else record.note
    today = timezone.localdate()
    responsible = responsible_for(household.village.township_id)
    created = []
    for kind in record.found_kinds():
        same = Problem.objects.filter(kind=kind, status__in=Problem.OPEN_STATUSES)
        same = same.filter(dwelling=dwelling) if dwelling else same.filter(household=household, dwelling__isnull=True)
        if same.exists():
            continue
        problem = Problem(
            township_id=household.village.township_id,
            household=household,
            dwelling=dwelling,
            source=source,
            kind=kind,
            revisit=record if source == Problem.Source.REVISIT else None,
            helper_report=record if source == Problem.Source.HELPER_REPORT else None,
            description="：".join(filter(None, [str(FindingKind(kind).label), notes])),
            responsible_person=responsible,
            deadline=deadline_for(kind, today),
            phase=phase_on(today),
            plan_item=default_plan_item(kind, source),
            created_by=actor,
        )
        problem._history_user = actor
        problem.save()
        created.append(problem)
    return created
