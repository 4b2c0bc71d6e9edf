"""Demo renovation cases: the year's subsidy standards and, in the two townships with demo staff, cases at every
step of the procedure (through the real services, with placeholder PDF documents)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from households.models import Household, Township, Unit
from inspections.models import Appraisal
from inspections.services import record_appraisal

from . import services
from .models import (
    CASE_STEPS,
    CaseStatus,
    Complaint,
    DocumentKind,
    LeadTransfer,
    PlanItem,
    Problem,
    RenovationCase,
    RenovationType,
    SubsidyStandard,
)
from .selectors import dangerous_without_case_for_user, quarter_bounds

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
        permission = services.CASE_MOVES[(case.status, to)]
        actor = staff if permission == services.renovation.TOWNSHIP else admin
        case = services.move_case(actor=actor, case=case, to=to, on=on, **step)


def _appraise_safe(admin, dwelling, on: datetime.date) -> None:
    record_appraisal(
        actor=admin,
        appraisal=Appraisal(
            dwelling=dwelling, kind=Appraisal.Kind.FORMAL, appraised_on=on, organisation="漳平市住建局鉴定组（演示）",
            appraisers="技术员甲、技术员乙（演示）", foundation="a", load_bearing_walls="a", timber_frame="a",
            roof_truss="a", concrete_frame="n", floor_roof_slab="a", grade="A",
            recommendation=Appraisal.Recommendation.NONE,
        ),
    )  # fmt: skip


def _seed_problem_without_owner(admin) -> None:
    """The plan's "明确时间表和责任人": 双洋镇 names nobody for its problems (households.demo.NO_PROBLEM_OWNER), so
    this problem names nobody and shows on its staff's home as 缺少责任人或时限的问题."""
    shuangyang = Township.objects.get(code="350881101")
    if Problem.objects.filter(township=shuangyang, description__endswith="（演示）").exists():
        return
    services.save_problem(
        actor=admin,
        problem=Problem(
            township=shuangyang,
            source=Problem.Source.SELF_INSPECTION,
            kind=Problem.Kind.DATA_MISMATCH,
            description="系统数据与纸质档案户数不一致（演示）",
            deadline=timezone.localdate() + datetime.timedelta(days=15),
        ),
    )


def _seed_plan_problems(admin) -> None:
    """新桥镇's list follows the plan's two dimensions ("从落实任务和4项机制两方面"): a missing placard under task 一
    (past its deadline), a leaking roof under task 二 (both by their kind), and a late appraisal the township placed
    under mechanism 1 itself."""
    xinqiao = Township.objects.get(code="350881100")
    if Problem.objects.filter(township=xinqiao, description__endswith="（演示）").exists():
        return
    households = list(Household.objects.filter(village__township=xinqiao, village__is_demo=True).order_by("pk")[:3])
    today = timezone.localdate()
    mechanism = PlanItem.objects.filter(kind=PlanItem.Kind.MECHANISM, number=1).first()
    late_appraisal = "民政新增低保户移交超过1个月未鉴定（演示）"
    stories = [
        (Problem.Kind.PLACARD_MISSING, Problem.Source.SELF_INSPECTION, "房屋安全状况牌未上墙（演示）", -5, None),
        (Problem.Kind.LEAKING, Problem.Source.HELPER_REPORT, "屋面漏雨透风，影响居住质量（演示）", 20, None),
        (Problem.Kind.OTHER, Problem.Source.SELF_INSPECTION, late_appraisal, 10, mechanism),
    ]
    for (kind, source, description, days, plan_item), household in zip(stories, households, strict=False):
        services.save_problem(
            actor=admin,
            problem=Problem(
                township=xinqiao, household=household, source=source, kind=kind, description=description,
                deadline=today + datetime.timedelta(days=days), plan_item=plan_item,
            ),
        )  # fmt: skip


def seed_complaints(admin) -> None:
    """A few hotline complaints at different steps, and leads in and out of the bureau."""
    _seed_problem_without_owner(admin)
    _seed_plan_problems(admin)
    if Complaint.objects.filter(content__endswith="（演示）").exists():
        return
    User = get_user_model()
    clerk, staff = User.objects.get(username="clerk"), User.objects.get(username="xinqiao")
    xinqiao = Township.objects.get(code="350881100")
    village = xinqiao.villages.filter(is_demo=True).order_by("pk").first()
    now = timezone.now()
    C = Complaint.Status
    stories = [
        ("东坑村有户人家仍住在开裂的土坯房里", Complaint.Category.DANGEROUS_NOT_RENOVATED, C.REPLIED, 12),
        ("鉴定为B级但墙体裂缝明显，要求重新鉴定", Complaint.Category.APPRAISAL_DISPUTED, C.HANDLING, 6),
        ("改造补助半年未到账", Complaint.Category.SUBSIDY, C.ASSIGNED, 3),
        ("新建房屋屋面漏水，施工队不处理", Complaint.Category.CONSTRUCTION_QUALITY, C.RECEIVED, 1),
        ("村干部在危改对象评议中优亲厚友", Complaint.Category.STAFF_CONDUCT, C.ESCALATED, 20),
    ]
    for content, category, until, days_ago in stories:
        complaint, _code = services.log_complaint(
            actor=clerk,
            complaint=Complaint(
                channel=Complaint.Channel.HOTLINE, received_at=now - datetime.timedelta(days=days_ago),
                reporter_name="张群众", reporter_phone="13800000000", township=xinqiao, village=village,
                category=category, content=f"{content}（演示）",
            ),
        )  # fmt: skip
        if until == C.RECEIVED:
            continue
        services.move_complaint(actor=clerk, complaint=complaint, to=C.ACCEPTED)
        if until == C.ESCALATED:
            services.move_complaint(actor=clerk, complaint=complaint, to=C.ESCALATED, note="涉嫌违纪，移交纪检监察")
            continue
        services.move_complaint(actor=clerk, complaint=complaint, to=C.ASSIGNED, handler=staff)
        if until == C.ASSIGNED:
            continue
        services.move_complaint(actor=staff, complaint=complaint, to=C.HANDLING)
        if until == C.REPLIED:
            services.move_complaint(
                actor=staff, complaint=complaint, to=C.REPLIED, replied_on=timezone.localdate(),
                reply_method=Complaint.ReplyMethod.PHONE, reply="已上门核实，已纳入本年度改造计划（演示）",
            )  # fmt: skip
    bureau = Unit.objects.get(kind=Unit.Kind.BUREAU)
    departments = Unit.objects.filter(kind=Unit.Kind.DEPARTMENT).order_by("pk")[:3]
    for unit, days_ago in zip(departments, (40, 15, 3), strict=False):
        services.record_lead(
            actor=admin,
            lead=LeadTransfer(
                direction=LeadTransfer.Direction.INCOMING, from_unit=unit, to_unit=bureau,
                subject="排查中发现疑似危房未纳入改造（演示）", sent_on=_ago(days_ago),
            ),
        )  # fmt: skip


def seed_lead_returns(admin) -> None:
    """Last quarter's lead returns (线索季报): the poverty office filed its figures with a correction and its reason,
    民政局 filed them as the register has them, the other departments did not (the bureau's overview and report mark
    them). A few leads of that quarter in the register first."""
    from households.services import set_user_role
    from housing_safety.access import Role

    from . import lead_returns
    from .models.complaints import LeadQuarterReturn

    today = timezone.localdate()
    year, quarter = lead_returns.previous_quarter(*lead_returns.quarter_of(today))
    if LeadQuarterReturn.objects.filter(year=year, quarter=quarter).exists():
        return
    window = lead_returns.window(year, quarter)
    first, _last = quarter_bounds(year, quarter)
    bureau = Unit.objects.get(kind=Unit.Kind.BUREAU)
    poverty, civil = Unit.objects.get(name="漳平市扶贫开发办公室"), Unit.objects.get(name="漳平市民政局")
    out = LeadTransfer.Direction.OUTGOING
    stories = ((poverty, bureau, 20, True), (poverty, None, 45, False), (civil, bureau, 60, True))
    for unit, to_unit, days, receipt in stories:
        sent_on = first + datetime.timedelta(days=days)
        services.record_lead(
            actor=admin,
            lead=LeadTransfer(
                direction=out, from_unit=unit, to_unit=to_unit, to_discipline=to_unit is None, sent_on=sent_on,
                subject="走访中发现危房改造对象评议不公开（演示）" if to_unit is None else "疑似危房未纳入改造（演示）",
                receipt_on=sent_on + datetime.timedelta(days=2) if receipt else None,
                receipt_by="住建局村镇站（演示）" if receipt else "",
            ),
        )  # fmt: skip
    civil_liaison, created = get_user_model().objects.get_or_create(
        username="minzheng-demo",
        defaults={"first_name": "民政局联络员（演示）", "email": "minzheng-demo@zhangping.example.gov.cn"},
    )
    if created:
        civil_liaison.set_unusable_password()  # records the demo's filings; nobody signs in with it
        civil_liaison.save(update_fields=["password"])
    set_user_role(user=civil_liaison, role=Role.DEPARTMENT_LIAISON, unit=civil)
    filed_at = timezone.make_aware(datetime.datetime.combine(window.due_on, datetime.time(10)))
    register = lead_returns.register_figures_by_unit(year, quarter)
    services.file_lead_return(
        actor=get_user_model().objects.get(username="liaison"), unit=poverty, year=year, quarter=quarter,
        figures={**register[poverty.pk], "sent_to_units": register[poverty.pk]["sent_to_units"] + 1},
        situation="本季度入户核查发现问题线索2条，已按规定移送（演示）",
        difference_reason="9月下旬移送住建局的1条线索尚未录入登记台账（演示）", now=filed_at,
    )  # fmt: skip
    services.file_lead_return(
        actor=civil_liaison, unit=civil, year=year, quarter=quarter, figures=register[civil.pk],
        situation="低保对象住房核查中发现线索1条，已移送住建局（演示）", now=filed_at - datetime.timedelta(days=1),
    )  # fmt: skip
