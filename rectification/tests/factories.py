"""Renovation-case builders: a dangerous dwelling, the year's subsidy standards, each step's documents, and a
case walked to any step through the real services with plausible past dates."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from households.tests.factories import DwellingFactory, png_file
from inspections.models import Appraisal
from inspections.tests.factories import AppraisalFactory
from rectification import services
from rectification.models import CASE_STEPS, CaseStatus, DocumentKind, RenovationCase, RenovationType, SubsidyStandard

S = CaseStatus
YEAR = 2026


def days_ago(n: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=n)


# Step dates of the walk: each posting (7 days) has ended before the step that follows it.
STEP_DATES = {
    S.APPLIED: 120,
    S.VILLAGE_ASSESSED: 110,
    S.TOWNSHIP_REVIEWED: 100,
    S.APPROVED: 90,
    S.AGREEMENT_SIGNED: 80,
    S.CONSTRUCTION_STARTED: 70,
    S.ACCEPTED: 20,
    S.PAID: 10,
    S.ARCHIVED: 5,
}
APPRAISED_AFTER_WORKS = 25


def standards(amount: Decimal = Decimal("20000"), year: int = YEAR) -> None:
    for renovation_type in RenovationType.values:
        SubsidyStandard.objects.get_or_create(year=year, renovation_type=renovation_type, defaults={"amount": amount})


def dangerous_dwelling(household=None, grade: str = "D", appraised_on: datetime.date | None = None, **fields):
    """The household's first dwelling (or a new one) appraised C or D."""
    dwelling = household.dwellings.order_by("pk").first() if household and not fields else None
    if dwelling is None:
        dwelling = DwellingFactory(household=household, **fields) if household else DwellingFactory(**fields)
    AppraisalFactory(
        dwelling=dwelling,
        grade=grade,
        load_bearing_walls="d" if grade == "D" else "c",
        recommendation=Appraisal.Recommendation.REBUILD if grade == "D" else Appraisal.Recommendation.REPAIR,
        appraised_on=appraised_on or days_ago(200),
    )
    return dwelling


def safe_appraisal(dwelling, on: datetime.date | None = None, grade: str = "A") -> Appraisal:
    return AppraisalFactory(
        dwelling=dwelling,
        grade=grade,
        foundation="a",
        load_bearing_walls="a",
        timber_frame="a",
        roof_truss="a",
        floor_roof_slab="a",
        appraised_on=on or days_ago(APPRAISED_AFTER_WORKS),
    )


def documents_for(*steps: str) -> list:
    """One small PNG for every required kind of these steps."""
    kinds = DocumentKind.objects.filter(step__in=steps, is_required=True)
    return [(kind, png_file(f"{kind.code}.png")) for kind in kinds]


def new_case(actor, dwelling, *, renovation_type=RenovationType.REBUILD, subsidy="18000", **fields) -> RenovationCase:
    case = RenovationCase(
        dwelling=dwelling,
        programme_year=fields.pop("programme_year", YEAR),
        renovation_type=renovation_type,
        build_mode=fields.pop("build_mode", RenovationCase.BuildMode.SELF),
        funding_source=fields.pop("funding_source", RenovationCase.Funding.CENTRAL),
        planned_subsidy=Decimal(subsidy),
        **fields,
    )
    return services.open_case(
        actor=actor, case=case, applied_on=days_ago(STEP_DATES[S.APPLIED]), documents=documents_for(S.APPLIED)
    )


def step_data(case: RenovationCase, to: str) -> dict:
    on = days_ago(STEP_DATES[to])
    data = {"on": on, "documents": documents_for(to) if to in CASE_STEPS and to != S.ARCHIVED else []}
    if to in (S.VILLAGE_ASSESSED, S.TOWNSHIP_REVIEWED):
        data |= {"posting_start": on, "posting_end": on + datetime.timedelta(days=6)}
    if to == S.ACCEPTED:
        data |= {"acceptors": "王工、陈工、村委李主任"}
        if case.is_moving:
            data |= {"moved_in_on": on, "old_house_outcome": RenovationCase.OldHouse.DEMOLISHED}
    if to == S.PAID:
        data |= {"amount": case.planned_subsidy, "voucher_number": f"PZ-{case.pk:05d}"}
    return data


def walk(case: RenovationCase, until: str, *, township_user, bureau_user) -> RenovationCase:
    """Move a case step by step until it reaches `until`, recording the new appraisal before acceptance."""
    for to in CASE_STEPS[CASE_STEPS.index(case.status) + 1 : CASE_STEPS.index(until) + 1]:
        permission = services.CASE_MOVES[(case.status, to)]
        actor = township_user if permission == services.renovation.TOWNSHIP else bureau_user
        if to == S.ACCEPTED:
            if case.is_moving and case.new_dwelling is None:
                services.register_new_dwelling(
                    actor=township_user,
                    case=case,
                    dwelling=DwellingFactory.build(address="安置区3栋101", structure_type="brick_concrete"),
                )
                case.refresh_from_db()
            safe_appraisal(case.target_dwelling)
        case = services.move_case(actor=actor, case=case, to=to, **step_data(case, to))
    return case
