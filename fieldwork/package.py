"""The field app's work package (docs/field-app.md, "The package"): what a township worker takes to a village, or a
helper to the households they help, to work there without signal. A selector module: every row is read through the
apps' scoped selectors for the person, personal numbers masked as the household lists mask them (no full ID or
phone number is ever in a package, so nothing the phone keeps carries one), and each part is one query whatever the
village's size.

- `may_take_package(user)`: township staff and helpers; the others have no package (the API answers them 403).
- `villages_for(user)`: the villages the person may take a package for, with what each would hold and its
  estimated size (FIELD_PACKAGE_BYTES_PER_ITEM); a helper gets one pseudo-entry for their households.
- `package_for(user, village)`: the package itself; a village out of the person's scope is an Http404.

Each record carries `based_on`, the version the worker saw, which the phone sends back with its entry; the API's
writes answer 409 when the record changed since (housing_safety.api.conflicts).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households.identity import mask_id_number, mask_phone
from households.models import Dwelling, Grade, Household, HouseholdCategory, HousingStatus, Village
from households.selectors import dwellings_for_user, households_for_user, villages_for_user
from housing_safety.access import Role, scope_of, uses_field_app
from housing_safety.people import person_name
from inspections import selectors as safety
from inspections.documents import GRADE_DEFINITIONS
from inspections.forms import AppraisalForm
from inspections.models import Appraisal, Campaign, ComponentGrade, FindingKind, Revisit
from rectification.models import Problem
from rectification.selectors import problems_for_user
from rectification.services import PROBLEM_MOVES

VERSION = 1  # the package's format (docs/field-app.md); the phone refuses a package of another version
# Problems a worker may still move (the transition table decides which moves, for whom).
MOVABLE = (Problem.Status.OPEN, Problem.Status.IN_PROGRESS, Problem.Status.RESOLVED)
# The component grades as the national form explains them (the printed form's legend, one entry each).
COMPONENT_GRADES = (
    (ComponentGrade.A, gettext_lazy("a: no dangerous point")),
    (ComponentGrade.B, gettext_lazy("b: dangerous points")),
    (ComponentGrade.C, gettext_lazy("c: dangerous in part")),
    (ComponentGrade.D, gettext_lazy("d: dangerous as a whole")),
    (ComponentGrade.ABSENT, ComponentGrade.ABSENT.label),
)
FLAGS = (  # the household's stored flags, as the field pages mark them (inspections/_status.html)
    ("flag_owns_safe_but_lives_in_danger", gettext_lazy("owns a safe house, lives in the old one")),
    ("flag_connected_uncooperative", gettext_lazy("connected house, neighbour uncooperative")),
    ("flag_leaking", gettext_lazy("leaking or drafty")),
)


def to_appraise() -> Q:
    """Dwellings to appraise, on Dwelling: never appraised (no current grade: the field home's 未鉴定), or due for
    re-appraisal (a revisit found "re-appraisal needed" after its current appraisal's date)."""
    asked = Revisit.objects.filter(
        dwelling=OuterRef("pk"), status=Revisit.Status.DONE, outcome=Revisit.Outcome.REAPPRAISAL
    ).filter(visited_on__gt=safety.current_appraisal("appraised_on", dwelling=OuterRef(OuterRef("pk"))))
    return Q(current_grade__isnull=True) | Q(Exists(asked))


def may_take_package(user: AbstractBaseUser) -> bool:
    return uses_field_app(user)


def _is_helper(user: AbstractBaseUser) -> bool:
    return scope_of(user).role == Role.HELPER


def _package_households(user: AbstractBaseUser) -> QuerySet[Household]:
    """The households a package holds: a helper's covered households; for township staff those of the village on the
    covered list, and those with a revisit to do (the base-village survey visits households not yet registered) or a
    problem still open, so every revisit and problem of the package has its household there."""
    if _is_helper(user):
        return safety.covered_households_for_user(user).order_by()
    revisit = Revisit.objects.filter(dwelling__household=OuterRef("pk"), status=Revisit.Status.PENDING)
    problem = Problem.objects.filter(household=OuterRef("pk"), status__in=MOVABLE)
    households = households_for_user(user).select_related(None).order_by()
    return households.filter(Q(status=Household.Status.ACTIVE) | Q(Exists(revisit)) | Q(Exists(problem)))


def _revisits(user: AbstractBaseUser) -> QuerySet[Revisit]:
    return safety.revisits_for_user(user).filter(status=Revisit.Status.PENDING).select_related(None)


def _problems(user: AbstractBaseUser) -> QuerySet[Problem]:
    return problems_for_user(user).filter(status__in=MOVABLE, household__isnull=False).select_related(None)


def _estimate(households: int, items: int) -> int:
    return (households + items) * settings.FIELD_PACKAGE_BYTES_PER_ITEM


# The villages ------------------------------------------------------------------------------------------------------


def villages_for(user: AbstractBaseUser) -> list[dict]:
    """The villages the person may take a package for, with their households, their items (houses to appraise,
    revisits to do, problems still open) and the package's estimated size; five queries whatever the scope (each part
    grouped by village, then the villages)."""
    if _is_helper(user):
        households = _package_households(user).count()
        entry = {"id": None, "name": _("The households I help"), "township": ""}
        return [{**entry, "households": households, "items": 0, "estimated_bytes": _estimate(households, 0)}]
    households = _package_households(user)
    by_village = {
        row["village_id"]: row["n"] for row in households.values("village_id").annotate(n=Count("pk")).order_by()
    }
    dwellings = Dwelling.objects.filter(household__in=households.values("pk"))
    houses = dict(
        dwellings.values_list("household__village_id").annotate(n=Count("pk", filter=to_appraise())).order_by()
    )
    revisits = dict(_revisits(user).values_list("dwelling__household__village_id").annotate(n=Count("pk")).order_by())
    problems = dict(_problems(user).values_list("household__village_id").annotate(n=Count("pk")).order_by())
    rows = []
    for village in villages_for_user(user).order_by("township__code", "name", "pk"):
        items = houses.get(village.pk, 0) + revisits.get(village.pk, 0) + problems.get(village.pk, 0)
        count = by_village.get(village.pk, 0)
        rows.append(
            {
                "id": village.pk,
                "name": village.name,
                "township": village.township.name,
                "households": count,
                "items": items,
                "estimated_bytes": _estimate(count, items),
            }
        )
    return rows


# The package -------------------------------------------------------------------------------------------------------


def package_for(user: AbstractBaseUser, village: int | None = None, *, now: datetime.datetime | None = None) -> dict:
    """The work package of docs/field-app.md. Township staff name a village of their scope (else Http404); a helper
    names none (their households wherever they are; a village named is an Http404). One query per part whatever the
    village's size (households, their categories, dwellings, revisits, problems), after the village and the
    person's scope and permissions (none once cached on the user)."""
    helper = _is_helper(user)
    if helper != (village is None):
        raise Http404
    households = _package_households(user)
    place = None
    if not helper:
        place = villages_for_user(user).filter(pk=village).first()
        if place is None:
            raise Http404
        households = households.filter(village_id=place.pk)
    now = timezone.localtime(now or timezone.now())
    may_appraise = not helper and user.has_perm("inspections.add_appraisal")
    may_report = helper and user.has_perm("inspections.add_helperreport")
    household_rows = _household_rows(households, user, may_report)
    dwelling_rows = _dwelling_rows(user, households, may_appraise)
    for row in household_rows:
        row["dwellings"] = dwelling_rows.get(row["id"], [])
    package = {
        "version": VERSION,
        "owner": {"id": user.pk, "name": person_name(user)},
        "scope": {"village": _village(place) if place else None},
        "taken_at": now.isoformat(timespec="seconds"),
        "expires_at": (now + datetime.timedelta(days=settings.FIELD_PACKAGE_DAYS)).isoformat(timespec="seconds"),
        "households": household_rows,
        "revisits": [] if helper else _revisit_rows(user, place),
        "problems": [] if helper else _problem_rows(user, place),
        "forms": {"helper_report": _helper_report_form()} if helper else _staff_forms(),
    }
    return package


def _village(village: Village) -> dict:
    return {"id": village.pk, "name": village.name, "township": village.township.name}


def _household_rows(households: QuerySet[Household], user, may_report: bool) -> list[dict]:
    categories = Prefetch("categories", queryset=HouseholdCategory.objects.order_by("position", "pk"))
    rows = []
    if "housing_status" not in households.query.annotations:  # a helper's covered households carry it already
        households = safety.with_housing_status(households)
    households = households.select_related("village").prefetch_related(categories)
    for household in households.order_by("head_name", "pk"):
        flags = [HouseholdCategory.Code(c.code).label for c in household.categories.all()]
        flags += [str(label) for field, label in FLAGS if getattr(household, field)]
        status = household.housing_status
        rows.append(
            {
                "id": household.pk,
                "head_name": household.head_name,
                "id_number": mask_id_number(household.id_number),
                "phone": mask_phone(household.phone),
                "village": household.village.name,
                "status": status,
                "status_label": HousingStatus(status).label if status in HousingStatus.values else "",
                "flags": [str(flag) for flag in flags],
                "may_report": may_report and household.helper_user_id == user.pk,
            }
        )
    return rows


def _dwelling_rows(user, households: QuerySet[Household], may_appraise: bool) -> dict[int, list[dict]]:
    dwellings = (
        dwellings_for_user(user)
        .select_related(None)
        .filter(household__in=households.values("pk"))
        .annotate(
            appraised_on=safety.current_appraisal("appraised_on"),
            last_appraisal=safety.last_appraisal_id(),
            to_appraise=ExpressionWrapper(to_appraise(), output_field=BooleanField()),
        )
        .order_by("household_id", "pk")
    )
    rows: dict[int, list[dict]] = {}
    for dwelling in dwellings:
        grade = dwelling.current_grade
        rows.setdefault(dwelling.household_id, []).append(
            {
                "id": dwelling.pk,
                "address": dwelling.address,
                "structure_label": str(dwelling.get_structure_type_display()),
                "floors": dwelling.storeys,
                "area": None if dwelling.floor_area is None else str(dwelling.floor_area),
                "year_built": dwelling.year_built,
                "lived_in": dwelling.is_occupied,
                "grade": grade,
                "grade_label": str(Grade(grade).label) if grade else "",
                "appraised_on": dwelling.appraised_on.isoformat() if dwelling.appraised_on else None,
                "to_appraise": may_appraise and bool(dwelling.to_appraise),
                "based_on": safety.appraisal_version(dwelling.last_appraisal),
            }
        )
    return rows


def _revisit_rows(user, village: Village) -> list[dict]:
    revisits = (
        _revisits(user)
        .filter(dwelling__household__village_id=village.pk)
        .select_related("campaign", "dwelling")
        .order_by("due_on", "pk")
    )
    return [
        {
            "id": revisit.pk,
            "household": revisit.dwelling.household_id,
            "dwelling": revisit.dwelling_id,
            "campaign": revisit.campaign.name,
            "due_on": revisit.due_on.isoformat(),
            # the base-village survey (基点村排查) asks the house's grade (forms.revisit.assessed_grades)
            "asks_grade": revisit.campaign.kind == Campaign.Kind.BASE_VILLAGE,
            "based_on": revisit.status,
        }
        for revisit in revisits
    ]


def _problem_rows(user, village: Village) -> list[dict]:
    problems = _problems(user).filter(household__village_id=village.pk).order_by("deadline", "pk")
    rows = []
    for problem in problems:
        moves = PROBLEM_MOVES.allowed(problem, user)
        rows.append(
            {
                "id": problem.pk,
                "number": str(problem.pk),  # a problem has no number of its own: the pages name it by its id
                "household": problem.household_id,
                "dwelling": problem.dwelling_id,
                "kind_label": str(problem.get_kind_display()),
                "description": problem.description,
                "status": problem.status,
                "status_label": str(problem.get_status_display()),
                "due_on": problem.deadline.isoformat(),
                "moves": [
                    {
                        "to": to,
                        "label": _("Mark as “%(label)s”") % {"label": Problem.Status(to).label},
                        "needs_resolution": to == Problem.Status.RESOLVED,
                    }
                    for to in moves
                ],
                "based_on": problem.status,
            }
        )
    return rows


# The forms ---------------------------------------------------------------------------------------------------------


def _choices(choices) -> list[list[str]]:
    return [[str(value), str(label)] for value, label in choices]


def _staff_forms() -> dict:
    from inspections.grading import client_messages  # the grading rules' texts, as static/field/grading.js names them

    definitions = dict(GRADE_DEFINITIONS)
    organisation = AppraisalForm(dwelling=Dwelling())["organisation"].initial
    return {
        "appraisal": {
            "kinds": _choices(Appraisal.Kind.choices),
            "components": _choices(Appraisal.COMPONENTS),
            "component_grades": _choices(COMPONENT_GRADES),
            "grades": [[grade, str(label), str(definitions[grade])] for grade, label in Grade.choices],
            "recommendations": _choices(Appraisal.Recommendation.choices),
            "organisation": organisation or "",
            "messages": client_messages(),
        },
        "revisit": {
            "findings": _choices(FindingKind.choices),
            "outcomes": _choices(Revisit.Outcome.choices),
            "still_lived_in": [
                ["true", str(gettext_lazy("Yes, someone still lives here"))],
                ["false", str(gettext_lazy("No, nobody lives here"))],
            ],
            "assessed_grades": [["", "—"], *_choices(Grade.choices)],
        },
        "helper_report": _helper_report_form(),
    }


def _helper_report_form() -> dict:
    return {"findings": _choices(FindingKind.choices)}
