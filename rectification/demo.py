"""Demo renovation cases: the year's subsidy standards and, in the two townships with demo staff, cases at every
step of the procedure (through the real services, with placeholder PDF documents)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from inspections.models import Appraisal

from . import services
from .models import CASE_STEPS, CaseStatus, DocumentKind, RenovationCase, RenovationType, SubsidyStandard
from .selectors import dangerous_without_case_for_user

S = CaseStatus
DEMO_STANDARDS = {
    RenovationType.REPAIR: Decimal("8000"),
    RenovationType.REBUILD: Decimal("20000"),
    RenovationType.NEW_SITE: Decimal("20000"),
    RenovationType.POST_DISASTER: Decimal("20000"),
    RenovationType.SWAP_OR_LEASE: Decimal("10000"),
    RenovationType.RELOCATION: Decimal("20000"),
}
# Days before today of each step; each posting (7 days) ends before the next step.
STEP_DAYS_AGO = {
    S.APPLIED: 150, S.VILLAGE_ASSESSED: 140, S.TOWNSHIP_REVIEWED: 130, S.APPROVED: 120, S.AGREEMENT_SIGNED: 110,
    S.CONSTRUCTION_STARTED: 100, S.ACCEPTED: 30, S.PAID: 15, S.ARCHIVED: 5,
}  # fmt: skip

# Few demo houses are dangerous: show the later steps (and a 改造安全 household) first.
DEMO_STEP_ORDER = (S.ACCEPTED, S.CONSTRUCTION_STARTED, S.ARCHIVED, S.TOWNSHIP_REVIEWED, S.APPLIED, S.PAID,
                   S.APPROVED, S.VILLAGE_ASSESSED, S.AGREEMENT_SIGNED)  # fmt: skip


def _pdf(name: str) -> SimpleUploadedFile:
    body = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\n"
    return SimpleUploadedFile(name, body + b"trailer<</Root 1 0 R>>\n%%EOF\n", content_type="application/pdf")


def _documents(step: str) -> list:
    return [
        (kind, _pdf(f"{kind.name}（演示）.pdf")) for kind in DocumentKind.objects.filter(step=step, is_required=True)
    ]


def _ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


def seed_renovation(admin) -> None:
    year = timezone.localdate().year
    for renovation_type, amount in DEMO_STANDARDS.items():
        SubsidyStandard.objects.get_or_create(
            year=year, renovation_type=renovation_type, defaults={"amount": amount, "note": "演示标准"}
        )
    if RenovationCase.objects.filter(household__village__is_demo=True).exists():
        return
    User = get_user_model()
    pairs = []
    for username in ("xinqiao", "shuangyang"):
        staff = User.objects.get(username=username)
        dwellings = dangerous_without_case_for_user(staff).filter(household__village__is_demo=True).order_by("pk")
        pairs += [(staff, dwelling) for dwelling in dwellings]
    for index, (staff, dwelling) in enumerate(pairs):
        _walk(staff, admin, dwelling, until=DEMO_STEP_ORDER[index % len(DEMO_STEP_ORDER)], year=year)


def _walk(staff, admin, dwelling, *, until: str, year: int) -> None:
    renovation_type = RenovationType.REPAIR if dwelling.current_grade == "C" else RenovationType.REBUILD
    case = services.open_case(
        actor=staff,
        case=RenovationCase(
            dwelling=dwelling, programme_year=year, renovation_type=renovation_type,
            build_mode=RenovationCase.BuildMode.SELF, funding_source=RenovationCase.Funding.CENTRAL,
            planned_subsidy=DEMO_STANDARDS[renovation_type], builder="演示建筑队",
        ),
        applied_on=_ago(STEP_DAYS_AGO[S.APPLIED]),
        documents=_documents(S.APPLIED),
    )  # fmt: skip
    for to in CASE_STEPS[1 : CASE_STEPS.index(until) + 1]:
        on = _ago(STEP_DAYS_AGO[to])
        step: dict = {"documents": _documents(to)}
        if to in services.renovation.POSTINGS:
            step |= {"posting_start": on, "posting_end": on + datetime.timedelta(days=6)}
        if to == S.ACCEPTED:
            _appraise_safe(admin, case.dwelling, on - datetime.timedelta(days=3))
            step |= {"acceptors": "市住建局技术员、乡镇干部、村委会主任（演示）"}
        if to == S.PAID:
            step |= {"amount": case.planned_subsidy, "voucher_number": f"演示-{case.pk:05d}"}
        permission = services.CASE_TRANSITIONS[(case.status, to)]
        actor = staff if permission == services.renovation.TOWNSHIP else admin
        case = services.move_case(actor=actor, case=case, to=to, on=on, **step)


def _appraise_safe(admin, dwelling, on: datetime.date) -> None:
    from inspections.services import record_appraisal

    record_appraisal(
        actor=admin,
        appraisal=Appraisal(
            dwelling=dwelling, kind=Appraisal.Kind.FORMAL, appraised_on=on, organisation="漳平市住建局鉴定组（演示）",
            appraisers="技术员甲、技术员乙（演示）", foundation="a", load_bearing_walls="a", timber_frame="a",
            roof_truss="a", concrete_frame="n", floor_roof_slab="a", grade="A",
            recommendation=Appraisal.Recommendation.NONE,
        ),
    )  # fmt: skip
