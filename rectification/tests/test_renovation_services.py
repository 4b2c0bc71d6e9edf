"""Renovation-case services and selectors, rule by rule.

Every move outside CASE_MOVES is refused and every move needs its role and township; dates and public
postings; the household archive's documents (and the bureau's override); opening a case; acceptance and what it
does to the household's housing status; subsidy payments; save_case; construction checks; the selectors' scope,
counts and query counts; and two users moving one case at the same moment on PostgreSQL.

A refused action must change nothing: `snapshot()` captures the case row, its steps, documents, attachments, files,
payments and the household's dwellings, and the tests compare it before and after.
"""

from __future__ import annotations

import datetime
import importlib
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import translation

from households.models import Attachment, Dwelling, Household
from households.services import refresh_home_state
from households.tests.factories import (
    DwellingFactory,
    HouseholdFactory,
    VillageFactory,
    make_user,
    png_file,
    township,
)
from housing_safety.access import Role
from housing_safety.tests.kit import service_missing
from inspections.selectors import HousingStatus, with_housing_status
from rectification import selectors, services
from rectification.models import (
    CASE_STEPS,
    MOVING_TYPES,
    CaseDocument,
    CaseStatus,
    CaseTransition,
    DocumentKind,
    RenovationCase,
    RenovationType,
    SubsidyPayment,
)
from rectification.services import renovation
from rectification.tests.factories import (
    STEP_DATES,
    YEAR,
    dangerous_dwelling,
    days_ago,
    documents_for,
    new_case,
    safe_appraisal,
    standards,
    step_data,
    walk,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("chinese")]
S = CaseStatus
TOWNSHIP = "rectification.advance_case"
APPROVE = "rectification.approve_case"
COMPLETE = "rectification.complete_case"
DEFAULT_KINDS = importlib.import_module("rectification.migrations.0003_default_document_kinds").DEFAULT_KINDS
REQUIRED_KINDS = [(code, name, step) for code, name, step, required in DEFAULT_KINDS if required]

# The procedure as DOMAIN.md describes it, written out rather than read from the code under test.
EXPECTED_TRANSITIONS = {
    (S.APPLIED, S.VILLAGE_ASSESSED): TOWNSHIP,
    (S.VILLAGE_ASSESSED, S.TOWNSHIP_REVIEWED): TOWNSHIP,
    (S.TOWNSHIP_REVIEWED, S.APPROVED): APPROVE,
    (S.APPROVED, S.AGREEMENT_SIGNED): TOWNSHIP,
    (S.AGREEMENT_SIGNED, S.CONSTRUCTION_STARTED): TOWNSHIP,
    (S.CONSTRUCTION_STARTED, S.ACCEPTED): COMPLETE,
    (S.ACCEPTED, S.PAID): COMPLETE,
    (S.PAID, S.ARCHIVED): COMPLETE,
    (S.APPLIED, S.REJECTED): TOWNSHIP,
    (S.VILLAGE_ASSESSED, S.REJECTED): TOWNSHIP,
    (S.TOWNSHIP_REVIEWED, S.REJECTED): APPROVE,
    (S.APPROVED, S.REJECTED): APPROVE,
    (S.AGREEMENT_SIGNED, S.REJECTED): APPROVE,
    (S.CONSTRUCTION_STARTED, S.REJECTED): APPROVE,
    (S.ACCEPTED, S.REJECTED): APPROVE,
    **{(step, S.WITHDRAWN): TOWNSHIP for step in CASE_STEPS[: CASE_STEPS.index(S.ACCEPTED) + 1]},
}
ILLEGAL_MOVES = [(frm, to) for frm in S.values for to in S.values if (frm, to) not in EXPECTED_TRANSITIONS]
# Which roles hold each move's permission (the bureau administrator may also record a township's step).
MAY = {
    TOWNSHIP: {Role.TOWNSHIP_STAFF, Role.BUREAU_ADMIN},
    APPROVE: {Role.BUREAU_OFFICIAL, Role.BUREAU_ADMIN},
    COMPLETE: {Role.BUREAU_ADMIN},
}
ROLES = [*Role.values, "no_role"]

# The Chinese messages.
NO_PERMISSION = "您没有执行此操作的权限。"
OWN_TOWNSHIP_ONLY = "您只能修改本乡镇（街道）的记录。"
STATUS_ZH = {
    S.APPLIED: "农户申请",
    S.VILLAGE_ASSESSED: "村民评议",
    S.TOWNSHIP_REVIEWED: "乡镇审核",
    S.APPROVED: "县级审批",
    S.AGREEMENT_SIGNED: "签订协议",
    S.CONSTRUCTION_STARTED: "施工中",
    S.ACCEPTED: "竣工验收",
    S.PAID: "补助拨付",
    S.ARCHIVED: "已归档",
    S.REJECTED: "不予通过",
    S.WITHDRAWN: "已撤回",
}
ENTER_DATE = "请填写本环节日期。"
FUTURE = "日期不能晚于今天。"
OVERRIDE_ONLY_ADMIN = "只有市住建局管理员可以特批，请清空特批理由。"
MAY_OVERRIDE = "市住建局管理员可填写理由特批。"
BAD_TYPE = "只能上传照片（JPEG、PNG、WebP、HEIC）、PDF、Word 和 Excel 文件。"
ONLY_C_OR_D = "只有当前鉴定为C级或D级的房屋才能立危房改造案件。"
GIVE_REASON = "请填写终止案件的理由。"
AFTER_APPROVAL = "审批后只有市住建局可以修改改造方式、年度或补助。"


# Helpers ----------------------------------------------------------------------------------------------------


def cannot_move(frm: str, to: str) -> str:
    return f"该案件当前处于“{STATUS_ZH[frm]}”，不能进入“{STATUS_ZH.get(to, to)}”（可能已被他人办理，请刷新页面）。"


def before_previous(on: datetime.date) -> str:
    return f"日期不能早于上一环节（{on:%Y-%m-%d}）。"


def missing(*names: str) -> str:
    return f"本环节缺少材料：{'、'.join(names)}。"


def above_standard(amount: str, year: int = YEAR, type_zh: str = "拆除重建", standard: str = "20000.00") -> str:
    return f"¥{amount} 超过{year}年“{type_zh}”的补助标准 ¥{standard}。"


def fmt(on: datetime.date) -> str:
    return f"{on:%Y-%m-%d}"


def kind(code: str) -> DocumentKind:
    return DocumentKind.objects.get(code=code)


def exe_file(name: str = "x.png") -> SimpleUploadedFile:
    """A Windows executable renamed to look like a photo."""
    return SimpleUploadedFile(name, b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64, "image/png")


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def snapshot(case: RenovationCase) -> dict:
    """Everything a refused action must leave as it was."""
    case = RenovationCase.objects.get(pk=case.pk)
    return {
        "case": {f.attname: getattr(case, f.attname) for f in RenovationCase._meta.concrete_fields},
        "case_history": case.history.count(),
        "transitions": list(CaseTransition.objects.filter(case=case).values_list("pk", flat=True)),
        "documents": list(CaseDocument.objects.filter(case=case).values_list("pk", flat=True)),
        "attachments": Attachment.objects.count(),
        "files": stored_files(),
        "payments": list(SubsidyPayment.objects.filter(case=case).values()),
        "dwellings": list(Dwelling.objects.filter(household=case.household_id).order_by("pk").values()),
        "cases": RenovationCase.objects.count(),
    }


def status_of(household) -> str:
    return with_housing_status(Household.objects.filter(pk=household.pk)).get().housing_status


def advance(case: RenovationCase, to: str, actor, **changes) -> RenovationCase:
    """One move with the walk's plausible data (see factories.step_data), some of it replaced; a target outside
    the procedure's steps gets yesterday's date."""
    data = step_data(case, to) if to in STEP_DATES else {"on": days_ago(1)}
    return services.move_case(actor=actor, case=case, to=to, **(data | changes))


def forced(case: RenovationCase, status: str) -> RenovationCase:
    """Put the stored case at a status directly: an illegal move is refused by the table before any other rule
    reads the case, so how it got there does not matter."""
    closed_from = S.APPLIED if status in (S.REJECTED, S.WITHDRAWN) else ""
    RenovationCase.objects.filter(pk=case.pk).update(status=status, closed_from=closed_from)
    return RenovationCase.objects.get(pk=case.pk)


def a_household(township_code: str = "350881100") -> Household:
    return HouseholdFactory(village=VillageFactory(township=township(township_code)))


@pytest.fixture(autouse=True)
def _standards(db):
    standards()  # ¥20,000 for every type in 2026


@pytest.fixture
def case_at(staff, admin):
    """A case of a new 新桥镇 household's D-graded dwelling, walked through the real services to `status`."""

    def build(status: str = S.APPLIED, *, renovation_type=RenovationType.REBUILD, **fields):
        dwelling = dangerous_dwelling(a_household())
        case = new_case(staff, dwelling, renovation_type=renovation_type, **fields)
        if status in (S.REJECTED, S.WITHDRAWN):
            return services.move_case(
                actor=staff, case=case, to=status, on=days_ago(STEP_DATES[S.APPLIED]), note="农户自愿放弃改造"
            )
        return walk(case, status, township_user=staff, bureau_user=admin)

    return build


@pytest.fixture
def superuser(db):
    return make_user(None, superuser=True)


# The transition table ---------------------------------------------------------------------------------------


def test_transition_table_is_exactly_the_procedure():
    assert renovation.CASE_MOVES == EXPECTED_TRANSITIONS


@pytest.mark.parametrize(("start", "to"), ILLEGAL_MOVES)
def test_every_move_outside_the_table_is_refused_and_changes_nothing(superuser, case_at, start, to):
    case = forced(case_at(), start)
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        advance(case, to, superuser, on=days_ago(1), note="试图越级", override_reason="超级用户也不能越级")
    assert refused.value.messages == [cannot_move(start, to)]
    assert snapshot(case) == before


def test_an_unknown_target_is_refused_by_name(superuser, case_at):
    case = case_at()
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        services.move_case(actor=superuser, case=case, to="demolished", on=days_ago(1))
    assert refused.value.messages == [cannot_move(S.APPLIED, "demolished")]
    assert snapshot(case) == before


def test_skipping_from_application_to_approval_is_refused(admin, case_at):
    case = case_at()
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        advance(case, S.APPROVED, admin)
    assert refused.value.messages == [cannot_move(S.APPLIED, S.APPROVED)]
    assert snapshot(case) == before


def test_an_archived_case_goes_nowhere(staff, official, admin, case_at):
    case = case_at(S.ARCHIVED)
    before = snapshot(case)
    for to in S.values:
        for actor in (staff, official, admin):
            with pytest.raises(ValidationError) as refused:
                services.move_case(actor=actor, case=case, to=to, on=days_ago(1), note="重新办理")
            assert refused.value.messages == [cannot_move(S.ARCHIVED, to)]
    assert snapshot(case) == before


@pytest.mark.parametrize("ended", [S.REJECTED, S.WITHDRAWN])
def test_an_ended_case_cannot_be_reopened(staff, official, admin, case_at, ended):
    case = case_at(ended)
    before = snapshot(case)
    for to in (S.APPLIED, S.VILLAGE_ASSESSED, S.REJECTED, S.WITHDRAWN):
        for actor in (staff, official, admin):
            with pytest.raises(ValidationError) as refused:
                services.move_case(actor=actor, case=case, to=to, on=days_ago(1), note="重新申请")
            assert refused.value.messages == [cannot_move(ended, to)]
    assert snapshot(case) == before


@pytest.mark.parametrize("to", [S.REJECTED, S.WITHDRAWN])
def test_a_paid_case_can_no_longer_be_rejected_or_withdrawn(official, admin, staff, case_at, to):
    case = case_at(S.PAID)
    before = snapshot(case)
    for actor in (staff, official, admin):
        with pytest.raises(ValidationError) as refused:
            services.move_case(actor=actor, case=case, to=to, on=days_ago(1), note="补助已发放后撤回")
        assert refused.value.messages == [cannot_move(S.PAID, to)]
    assert snapshot(case) == before


def test_allowed_moves_offer_the_users_moves_only(staff, official, admin, case_at):
    case = case_at()
    assert renovation.CASE_MOVES.allowed(case, staff) == [S.VILLAGE_ASSESSED, S.REJECTED, S.WITHDRAWN]
    assert renovation.CASE_MOVES.allowed(case, official) == []
    assert renovation.CASE_MOVES.allowed(forced(case, S.TOWNSHIP_REVIEWED), official) == [S.APPROVED, S.REJECTED]
    assert renovation.CASE_MOVES.allowed(forced(case, S.CONSTRUCTION_STARTED), admin) == [
        S.ACCEPTED, S.REJECTED, S.WITHDRAWN
    ]  # fmt: skip
    assert renovation.CASE_MOVES.allowed(forced(case, S.CONSTRUCTION_STARTED), staff) == [S.WITHDRAWN]
    assert renovation.CASE_MOVES.allowed(forced(case, S.ARCHIVED), admin) == []


# Roles and township -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "to"), list(EXPECTED_TRANSITIONS))
def test_each_move_needs_its_roles_permission(personas, case_at, start, to):
    """Roles without the permission get a 403; those with it pass on to the next rule (the date)."""
    case = forced(case_at(), start)
    before = snapshot(case)
    permission = EXPECTED_TRANSITIONS[(start, to)]
    for role in ROLES:
        user = personas[role]
        if role in MAY[permission]:
            with pytest.raises(ValidationError) as later_rule:
                services.move_case(actor=user, case=case, to=to, on=None, note="理由")
            assert later_rule.value.message_dict == {"on": [ENTER_DATE]}, role
        else:
            with pytest.raises(PermissionDenied) as denied:
                advance(case, to, user, note="理由")
            assert str(denied.value) == NO_PERMISSION, role
    assert snapshot(case) == before


@pytest.mark.parametrize(("start", "to"), [pair for pair, perm in EXPECTED_TRANSITIONS.items() if perm == TOWNSHIP])
def test_township_staff_of_another_township_cannot_move_the_case(other_staff, case_at, start, to):
    case = forced(case_at(), start)
    before = snapshot(case)
    with pytest.raises(PermissionDenied) as denied:
        advance(case, to, other_staff, note="理由")
    assert str(denied.value) == OWN_TOWNSHIP_ONLY
    assert snapshot(case) == before


def test_township_staff_cannot_take_the_bureaus_steps(staff, case_at):
    case = case_at()
    for start, to in [(S.TOWNSHIP_REVIEWED, S.APPROVED), (S.CONSTRUCTION_STARTED, S.ACCEPTED),
                      (S.ACCEPTED, S.PAID), (S.PAID, S.ARCHIVED)]:  # fmt: skip
        case = forced(case, start)
        before = snapshot(case)
        with pytest.raises(PermissionDenied):
            advance(case, to, staff)
        assert snapshot(case) == before


# Dates ------------------------------------------------------------------------------------------------------


def test_a_step_dated_in_the_future_is_refused(staff, case_at):
    case = case_at()
    before = snapshot(case)
    tomorrow = days_ago(-1)
    with pytest.raises(ValidationError) as refused:
        advance(case, S.VILLAGE_ASSESSED, staff, on=tomorrow, posting_start=tomorrow, posting_end=days_ago(-7))
    assert refused.value.message_dict == {"on": [FUTURE]}
    assert snapshot(case) == before


def test_a_step_dated_before_the_previous_step_is_refused(staff, case_at):
    case = case_at(S.APPROVED)
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        advance(case, S.AGREEMENT_SIGNED, staff, on=days_ago(STEP_DATES[S.APPROVED] + 1))
    assert refused.value.message_dict == {"on": [before_previous(days_ago(STEP_DATES[S.APPROVED]))]}
    assert snapshot(case) == before


def test_a_step_on_the_same_day_as_the_previous_one_is_accepted(staff, case_at):
    case = case_at(S.APPROVED)
    case = advance(case, S.AGREEMENT_SIGNED, staff, on=days_ago(STEP_DATES[S.APPROVED]))
    assert (case.status, case.status_on) == (S.AGREEMENT_SIGNED, days_ago(STEP_DATES[S.APPROVED]))


def test_a_step_without_a_date_is_refused(staff, case_at):
    case = case_at()
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        advance(case, S.VILLAGE_ASSESSED, staff, on=None)
    assert refused.value.message_dict == {"on": [ENTER_DATE]}
    assert snapshot(case) == before


# Public postings --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("step", [S.VILLAGE_ASSESSED, S.TOWNSHIP_REVIEWED])
def test_a_posting_of_six_days_is_refused(staff, case_at, step):
    case = case_at(CASE_STEPS[CASE_STEPS.index(step) - 1])
    before = snapshot(case)
    on = days_ago(STEP_DATES[step])
    with pytest.raises(ValidationError) as refused:
        advance(case, step, staff, posting_start=on, posting_end=on + datetime.timedelta(days=5))
    assert refused.value.message_dict == {"posting_end": ["公示期不少于7天（含首尾两天）。"]}
    assert snapshot(case) == before


@pytest.mark.parametrize(("step", "start_field", "end_field"), [
    (S.VILLAGE_ASSESSED, "village_posting_start", "village_posting_end"),
    (S.TOWNSHIP_REVIEWED, "township_posting_start", "township_posting_end"),
])  # fmt: skip
def test_a_posting_of_exactly_seven_days_is_accepted_and_recorded(staff, case_at, step, start_field, end_field):
    case = case_at(CASE_STEPS[CASE_STEPS.index(step) - 1])
    start = days_ago(STEP_DATES[step] - 1)  # a posting may start after the step's date
    end = start + datetime.timedelta(days=6)
    case = advance(case, step, staff, posting_start=start, posting_end=end)
    case.refresh_from_db()
    assert (case.status, getattr(case, start_field), getattr(case, end_field)) == (step, start, end)


def test_a_posting_that_starts_before_the_step_is_refused(staff, case_at):
    case = case_at()
    before = snapshot(case)
    on = days_ago(STEP_DATES[S.VILLAGE_ASSESSED])
    with pytest.raises(ValidationError) as refused:
        advance(case, S.VILLAGE_ASSESSED, staff, posting_start=on - datetime.timedelta(days=1))
    assert refused.value.message_dict == {"posting_start": ["公示开始日期不能早于本环节日期。"]}
    assert snapshot(case) == before


@pytest.mark.parametrize("left_out", ["posting_start", "posting_end"])
def test_a_posting_without_its_dates_is_refused(staff, case_at, left_out):
    case = case_at()
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        advance(case, S.VILLAGE_ASSESSED, staff, **{left_out: None})
    assert refused.value.message_dict == {"posting_start": ["请填写公示开始和结束日期。"]}
    assert snapshot(case) == before


def test_township_review_waits_until_the_village_posting_has_ended(staff, case_at):
    case = case_at(S.VILLAGE_ASSESSED)
    posting_end = days_ago(STEP_DATES[S.VILLAGE_ASSESSED] - 6)
    assert case.village_posting_end == posting_end
    before = snapshot(case)
    for on in (posting_end - datetime.timedelta(days=1), posting_end):
        with pytest.raises(ValidationError) as refused:
            advance(case, S.TOWNSHIP_REVIEWED, staff, on=on, posting_start=on, posting_end=days_ago(1))
        assert refused.value.message_dict == {"on": [f"公示期至{fmt(posting_end)}，公示期满后才能办理本环节。"]}
    assert snapshot(case) == before
    day_after = posting_end + datetime.timedelta(days=1)
    case = advance(case, S.TOWNSHIP_REVIEWED, staff, on=day_after, posting_start=day_after, posting_end=days_ago(1))
    assert case.status == S.TOWNSHIP_REVIEWED


def test_approval_waits_until_the_township_posting_has_ended(official, case_at):
    case = case_at(S.TOWNSHIP_REVIEWED)
    posting_end = case.township_posting_end
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        advance(case, S.APPROVED, official, on=posting_end)
    assert refused.value.message_dict == {"on": [f"公示期至{fmt(posting_end)}，公示期满后才能办理本环节。"]}
    assert snapshot(case) == before
    case = advance(case, S.APPROVED, official, on=posting_end + datetime.timedelta(days=1))
    assert case.status == S.APPROVED


def test_rejection_does_not_wait_for_the_posting(staff, case_at):
    case = case_at(S.VILLAGE_ASSESSED)
    on = case.village_posting_start + datetime.timedelta(days=2)
    case = services.move_case(actor=staff, case=case, to=S.REJECTED, on=on, note="村民评议未通过")
    assert case.status == S.REJECTED


def test_the_posting_length_follows_the_setting(settings, staff, case_at):
    settings.RENOVATION_POSTING_DAYS = 10
    case = case_at()
    on = days_ago(STEP_DATES[S.VILLAGE_ASSESSED])
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        advance(case, S.VILLAGE_ASSESSED, staff, posting_start=on, posting_end=on + datetime.timedelta(days=8))
    assert refused.value.message_dict == {"posting_end": ["公示期不少于10天（含首尾两天）。"]}
    assert snapshot(case) == before
    case = advance(case, S.VILLAGE_ASSESSED, staff, posting_start=on, posting_end=on + datetime.timedelta(days=9))
    assert case.status == S.VILLAGE_ASSESSED


# Documents --------------------------------------------------------------------------------------------------


def _mover(step: str, staff, admin):
    return staff if EXPECTED_TRANSITIONS[(CASE_STEPS[CASE_STEPS.index(step) - 1], step)] == TOWNSHIP else admin


@pytest.mark.parametrize(("code", "name", "step"), [k for k in REQUIRED_KINDS if k[2] != S.APPLIED])
def test_a_step_missing_one_required_document_is_refused_and_succeeds_with_it(staff, admin, case_at, code, name, step):
    case = case_at(CASE_STEPS[CASE_STEPS.index(step) - 1])
    if step == S.ACCEPTED:
        safe_appraisal(case.target_dwelling)
    actor = _mover(step, staff, admin)
    before = snapshot(case)
    documents = documents_for(step)
    with pytest.raises(ValidationError) as refused:
        advance(case, step, actor, documents=[(k, f) for k, f in documents if k.code != code])
    assert refused.value.message_dict == {"documents": [missing(name)]}
    assert snapshot(case) == before

    case = advance(case, step, actor, documents=documents)
    assert case.status == step
    filed = CaseDocument.objects.filter(case=case, step=step)
    assert sorted(filed.values_list("kind__code", flat=True)) == sorted(k.code for k, _f in documents)


@pytest.mark.parametrize(("code", "name"), [(c, n) for c, n, step in REQUIRED_KINDS if step == S.APPLIED])
def test_an_application_missing_one_required_document_is_not_opened(staff, code, name):
    dwelling = dangerous_dwelling(a_household())
    before = (RenovationCase.objects.count(), Attachment.objects.count(), stored_files())
    case = RenovationCase(dwelling=dwelling, programme_year=YEAR, renovation_type=RenovationType.REBUILD,
                          build_mode="self", funding_source="central", planned_subsidy=Decimal("18000"))  # fmt: skip
    documents = [(k, f) for k, f in documents_for(S.APPLIED) if k.code != code]
    with pytest.raises(ValidationError) as refused:
        services.open_case(actor=staff, case=case, applied_on=days_ago(120), documents=documents)
    assert refused.value.message_dict == {"documents": [missing(name)]}
    assert (RenovationCase.objects.count(), Attachment.objects.count(), stored_files()) == before


def test_every_missing_document_is_named_in_the_procedures_order(staff, case_at):
    case = case_at()
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        advance(case, S.VILLAGE_ASSESSED, staff, documents=[])
    assert refused.value.message_dict == {"documents": [missing("村民评议记录", "村级公示照片")]}
    assert snapshot(case) == before


def test_the_approval_needs_no_document(official, case_at):
    case = advance(case_at(S.TOWNSHIP_REVIEWED), S.APPROVED, official, documents=[])
    assert case.status == S.APPROVED


def test_documents_filed_earlier_count_for_the_step(staff, case_at):
    case = case_at()
    filed = services.add_case_documents(actor=staff, case=case, documents=documents_for(S.VILLAGE_ASSESSED))
    assert [(d.kind.code, d.step) for d in filed] == [("assessment_record", S.APPLIED),
                                                      ("village_posting_photo", S.APPLIED)]  # fmt: skip
    count = CaseDocument.objects.filter(case=case).count()
    case = advance(case, S.VILLAGE_ASSESSED, staff, documents=[])
    assert case.status == S.VILLAGE_ASSESSED
    assert CaseDocument.objects.filter(case=case).count() == count
    assert CaseTransition.objects.get(case=case, to_status=S.VILLAGE_ASSESSED).overridden == ""


def test_the_bureau_administrator_overrides_a_missing_document_with_a_reason(admin, case_at):
    case = case_at(S.CONSTRUCTION_STARTED)
    safe_appraisal(case.dwelling)
    documents = [(k, f) for k, f in documents_for(S.ACCEPTED) if k.code != "photo_during"]
    reason = "施工中照片因手机损坏遗失，有监理记录为证"
    case = advance(case, S.ACCEPTED, admin, documents=documents, override_reason=f"  {reason} ")
    assert case.status == S.ACCEPTED
    step = CaseTransition.objects.get(case=case, to_status=S.ACCEPTED)
    assert (step.overridden, step.override_reason, step.actor) == ("缺少材料：施工中照片。", reason, admin)


def test_an_override_reason_without_anything_to_override_is_not_recorded(admin, case_at):
    case = case_at(S.CONSTRUCTION_STARTED)
    safe_appraisal(case.dwelling)
    case = advance(case, S.ACCEPTED, admin, override_reason="以防万一")
    step = CaseTransition.objects.get(case=case, to_status=S.ACCEPTED)
    assert (step.overridden, step.override_reason) == ("", "")


def test_township_staff_giving_an_override_reason_are_refused(staff, case_at):
    case = case_at()
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        advance(case, S.VILLAGE_ASSESSED, staff, documents=[], override_reason="材料后补")
    assert refused.value.message_dict == {"override_reason": [OVERRIDE_ONLY_ADMIN]}
    assert snapshot(case) == before


def test_the_bureau_administrator_records_a_township_step_overriding_its_missing_documents(admin, case_at):
    case = case_at()
    case = advance(case, S.VILLAGE_ASSESSED, admin, documents=[], override_reason="评议记录在村委会，已电话核实")
    assert case.status == S.VILLAGE_ASSESSED
    step = CaseTransition.objects.get(case=case, to_status=S.VILLAGE_ASSESSED)
    assert (step.actor, step.overridden, step.override_reason) == (
        admin, "缺少材料：村民评议记录、村级公示照片。", "评议记录在村委会，已电话核实"
    )  # fmt: skip


def test_the_bureau_administrator_without_a_reason_cannot_skip_a_township_steps_documents(admin, case_at):
    case = case_at()
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        advance(case, S.VILLAGE_ASSESSED, admin, documents=[])
    assert refused.value.message_dict == {"documents": [missing("村民评议记录", "村级公示照片")]}
    assert snapshot(case) == before


def test_archiving_needs_every_required_document_of_every_step(admin, case_at):
    case = case_at(S.PAID)
    DocumentKind.objects.filter(code="approval_form").update(is_required=True)  # the bureau tightens its list
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        advance(case, S.ARCHIVED, admin)
    assert refused.value.message_dict == {"documents": [missing("审批表")]}
    assert snapshot(case) == before

    services.add_case_documents(actor=admin, case=case, documents=[(kind("approval_form"), png_file("审批表.png"))])
    case = advance(case, S.ARCHIVED, admin)
    assert case.status == S.ARCHIVED


def test_archiving_with_a_missing_document_is_overridden_by_the_bureau_administrator(admin, case_at):
    case = case_at(S.PAID)
    DocumentKind.objects.filter(code="approval_form").update(is_required=True)
    case = advance(case, S.ARCHIVED, admin, override_reason="审批表原件存市局档案室")
    step = CaseTransition.objects.get(case=case, to_status=S.ARCHIVED)
    assert (step.overridden, step.override_reason) == ("缺少材料：审批表。", "审批表原件存市局档案室")


def test_a_file_that_is_not_a_photo_or_pdf_refuses_the_whole_step(staff, case_at):
    case = case_at()
    before = snapshot(case)
    documents = [(kind("assessment_record"), png_file("评议.png")), (kind("village_posting_photo"), exe_file())]
    with pytest.raises(ValidationError) as refused:
        advance(case, S.VILLAGE_ASSESSED, staff, documents=documents)
    assert refused.value.message_dict == {"documents": [f"村级公示照片（x.png）：{BAD_TYPE}"]}
    assert snapshot(case) == before


def test_add_case_documents_is_all_or_nothing(staff, case_at):
    case = case_at()
    before = snapshot(case)
    documents = [(kind("village_certificate"), png_file("证明.png")), (kind("assessment_record"), exe_file("a.pdf"))]
    with pytest.raises(ValidationError) as refused:
        services.add_case_documents(actor=staff, case=case, documents=documents)
    assert refused.value.message_dict == {"documents": [f"村民评议记录（a.pdf）：{BAD_TYPE}"]}
    assert snapshot(case) == before


def test_an_application_with_a_bad_file_is_not_opened(staff):
    dwelling = dangerous_dwelling(a_household())
    documents = [(k, exe_file() if k.code == "identity_proof" else f) for k, f in documents_for(S.APPLIED)]
    case = RenovationCase(dwelling=dwelling, programme_year=YEAR, renovation_type=RenovationType.REBUILD,
                          build_mode="self", funding_source="central", planned_subsidy=Decimal("18000"))  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        services.open_case(actor=staff, case=case, applied_on=days_ago(120), documents=documents)
    assert refused.value.message_dict == {"documents": [f"身份证明（x.png）：{BAD_TYPE}"]}
    assert (RenovationCase.objects.count(), Attachment.objects.count(), stored_files()) == (0, 0, [])


def test_an_archived_file_is_sealed(admin, case_at):
    case = case_at(S.ARCHIVED)
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        services.add_case_documents(actor=admin, case=case, documents=[(kind("approval_form"), png_file())])
    assert refused.value.messages == ["已归档的案卷不能再补充材料。"]
    assert snapshot(case) == before


def test_adding_no_file_is_refused(staff, case_at):
    case = case_at()
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        services.add_case_documents(actor=staff, case=case, documents=[(kind("village_certificate"), None)])
    assert refused.value.message_dict == {"documents": ["请至少选择一个文件。"]}
    assert snapshot(case) == before


@pytest.mark.parametrize(("persona", "message"), [("other_staff", OWN_TOWNSHIP_ONLY), ("official", NO_PERMISSION)])
def test_only_the_township_and_the_bureau_administrator_add_documents(request, case_at, persona, message):
    case = case_at()
    before = snapshot(case)
    with pytest.raises(PermissionDenied) as denied:
        services.add_case_documents(
            actor=request.getfixturevalue(persona), case=case, documents=[(kind("village_certificate"), png_file())]
        )
    assert str(denied.value) == message
    assert snapshot(case) == before


def test_documents_are_attached_to_the_case_with_their_kind_as_caption(staff, case_at):
    case = case_at()
    [document] = services.add_case_documents(actor=staff, case=case, documents=[(kind("village_certificate"),
                                                                                   png_file("村证明.png"))])  # fmt: skip
    attachment = document.attachment
    assert (attachment.record, attachment.caption, attachment.original_name, attachment.mime_type) == (
        case,
        "村级证明",
        "村证明.png",
        "image/png",
    )
    assert attachment.uploaded_by == staff


# Opening a case ---------------------------------------------------------------------------------------------


def open_for(actor, dwelling, *, subsidy="18000", year=YEAR, renovation_type=RenovationType.REBUILD, **kwargs):
    case = RenovationCase(dwelling=dwelling, programme_year=year, renovation_type=renovation_type,
                          build_mode="self", funding_source="central", planned_subsidy=Decimal(subsidy))  # fmt: skip
    kwargs.setdefault("applied_on", days_ago(STEP_DATES[S.APPLIED]))
    kwargs.setdefault("documents", documents_for(S.APPLIED))
    return services.open_case(actor=actor, case=case, **kwargs)


def assert_not_opened(actor, dwelling, error=ValidationError, **kwargs):
    before = (RenovationCase.objects.count(), CaseTransition.objects.count(), Attachment.objects.count())
    with pytest.raises(error) as refused:
        open_for(actor, dwelling, **kwargs)
    assert (RenovationCase.objects.count(), CaseTransition.objects.count(), Attachment.objects.count()) == before
    return refused.value


def test_opening_records_the_first_step(staff, home_household):
    dwelling = dangerous_dwelling(home_household, grade="C")
    case = open_for(staff, dwelling, note="农户提交申请")
    trigger = dwelling.appraisals.get()
    assert (case.status, case.status_on, case.last_activity_on) == (S.APPLIED, days_ago(120), days_ago(0))
    assert (case.household, case.township.code, case.trigger_appraisal, case.created_by) == (
        home_household,
        "350881100",
        trigger,
        staff,
    )
    [step] = CaseTransition.objects.filter(case=case)
    assert (step.from_status, step.to_status, step.on, step.actor, step.note) == ("", S.APPLIED, days_ago(120),
                                                                                   staff, "农户提交申请")  # fmt: skip
    assert sorted(CaseDocument.objects.filter(case=case).values_list("kind__code", flat=True)) == [
        "application", "category_proof", "identity_proof"
    ]  # fmt: skip


@pytest.mark.parametrize("grade", ["A", "B"])
def test_a_dwelling_appraised_safe_cannot_have_a_case(staff, home_household, grade):
    dwelling = home_household.dwellings.get()
    safe_appraisal(dwelling, on=days_ago(200), grade=grade)
    error = assert_not_opened(staff, dwelling)
    assert error.message_dict == {"dwelling": [ONLY_C_OR_D]}


def test_an_unappraised_dwelling_cannot_have_a_case(staff, home_household):
    error = assert_not_opened(staff, home_household.dwellings.get())
    assert error.message_dict == {"dwelling": [ONLY_C_OR_D]}


def test_a_d_grade_superseded_by_a_newer_a_grade_cannot_have_a_case(staff, home_household):
    dwelling = dangerous_dwelling(home_household, appraised_on=days_ago(300))
    safe_appraisal(dwelling, on=days_ago(200))
    error = assert_not_opened(staff, dwelling)
    assert error.message_dict == {"dwelling": [ONLY_C_OR_D]}


def test_an_a_grade_superseded_by_a_newer_c_grade_can_have_a_case(staff, home_household):
    dwelling = home_household.dwellings.get()
    safe_appraisal(dwelling, on=days_ago(300))
    dangerous_dwelling(home_household, grade="C", appraised_on=days_ago(200))
    assert open_for(staff, dwelling).trigger_appraisal.grade == "C"


def test_a_dwelling_the_household_does_not_live_in_cannot_have_a_case(staff, home_household):
    dwelling = dangerous_dwelling(home_household)
    Dwelling.objects.filter(pk=dwelling.pk).update(is_occupied=False)
    refresh_home_state(household_ids=[home_household.pk])
    error = assert_not_opened(staff, dwelling)
    assert error.message_dict == {"dwelling": ["该户未居住在此房屋。"]}


def test_a_removed_household_cannot_have_a_case(staff, home_household):
    dwelling = dangerous_dwelling(home_household)
    Household.objects.filter(pk=home_household.pk).update(
        status=Household.Status.REMOVED, removed_on=days_ago(10), removal_reason="已迁出本市"
    )
    error = assert_not_opened(staff, dwelling)
    assert error.message_dict == {"dwelling": ["该农户已不在帮扶对象名单中。"]}


def test_a_second_open_case_for_the_same_dwelling_is_refused_with_the_first_ones_number(staff, home_household):
    dwelling = dangerous_dwelling(home_household)
    first = open_for(staff, dwelling)
    error = assert_not_opened(staff, dwelling)
    assert error.message_dict == {
        "dwelling": [f"该房屋已有在办的危房改造案件（{first.number} {home_household.head_name}）。"]
    }


def test_the_database_allows_one_open_case_per_dwelling(staff, home_household):
    first = open_for(staff, dangerous_dwelling(home_household))
    twin = RenovationCase.objects.get(pk=first.pk)
    twin.pk, twin.number = None, "GZ2026-100-9999"
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()


@pytest.mark.parametrize("ended", [S.REJECTED, S.WITHDRAWN])
def test_a_new_case_may_follow_a_rejected_or_withdrawn_one(staff, home_household, ended):
    dwelling = dangerous_dwelling(home_household)
    first = open_for(staff, dwelling)
    services.move_case(actor=staff, case=first, to=ended, on=days_ago(115), note="材料不全")
    second = open_for(staff, dwelling, applied_on=days_ago(100))
    assert (second.status, second.number) == (S.APPLIED, "GZ2026-100-0002")


def test_a_dwelling_of_another_township_cannot_have_a_case_opened_by_this_township(staff, other_household):
    error = assert_not_opened(staff, dangerous_dwelling(other_household))
    assert error.message_dict == {"dwelling": ["请选择本乡镇（街道）的房屋。"]}


@pytest.mark.parametrize(
    "role", [Role.BUREAU_OFFICIAL, Role.HELPER, Role.COMPLAINT_CLERK, Role.DEPARTMENT_LIAISON, "no_role"]
)
def test_only_township_staff_and_the_bureau_administrator_open_cases(personas, home_household, role):
    error = assert_not_opened(personas[role], dangerous_dwelling(home_household), error=PermissionDenied)
    assert str(error) == NO_PERMISSION


def test_an_application_dated_in_the_future_or_before_the_appraisal_is_refused(staff, home_household):
    dwelling = dangerous_dwelling(home_household, appraised_on=days_ago(200))
    error = assert_not_opened(staff, dwelling, applied_on=days_ago(-1))
    assert error.message_dict == {"applied_on": [FUTURE]}
    error = assert_not_opened(staff, dwelling, applied_on=days_ago(201))
    assert error.message_dict == {"applied_on": [before_previous(days_ago(200))]}


def test_a_planned_subsidy_above_the_standard_is_refused(staff, home_household):
    error = assert_not_opened(staff, dangerous_dwelling(home_household), subsidy="25000")
    assert error.message_dict == {"planned_subsidy": [f"{above_standard('25000')} {MAY_OVERRIDE}"]}


def test_a_planned_subsidy_equal_to_the_standard_is_accepted(staff, home_household):
    assert open_for(staff, dangerous_dwelling(home_household), subsidy="20000").planned_subsidy == Decimal("20000")


def test_township_staff_cannot_override_the_standard_when_opening(staff, home_household):
    error = assert_not_opened(staff, dangerous_dwelling(home_household), subsidy="25000", override_reason="特殊困难")
    assert error.message_dict == {"override_reason": [OVERRIDE_ONLY_ADMIN]}


def test_the_bureau_administrator_opens_a_case_above_the_standard_with_a_reason(admin, home_household):
    case = open_for(admin, dangerous_dwelling(home_household), subsidy="25000", override_reason=" 五保户，特殊困难 ")
    [step] = CaseTransition.objects.filter(case=case)
    assert (step.actor, step.overridden, step.override_reason) == (admin, above_standard("25000"), "五保户，特殊困难")
    assert (case.planned_subsidy, case.created_by, case.number) == (Decimal("25000"), admin, "GZ2026-100-0001")


def test_the_bureau_administrator_opens_a_case_missing_an_application_document_with_a_reason(admin, home_household):
    documents = [(k, f) for k, f in documents_for(S.APPLIED) if k.code != "category_proof"]
    case = open_for(admin, dangerous_dwelling(home_household), documents=documents, override_reason="民政局函件待补")
    [step] = CaseTransition.objects.filter(case=case)
    assert (step.overridden, step.override_reason) == ("缺少材料：帮扶对象类别证明。", "民政局函件待补")


def test_the_bureau_administrator_cannot_open_a_case_above_the_standard_without_a_reason(admin, home_household):
    error = assert_not_opened(admin, dangerous_dwelling(home_household), subsidy="25000")
    assert error.message_dict == {"planned_subsidy": [f"{above_standard('25000')} {MAY_OVERRIDE}"]}


def test_no_standard_for_the_year_refuses_the_case(staff, home_household):
    error = assert_not_opened(staff, dangerous_dwelling(home_household), year=2031)
    assert error.message_dict == {
        "planned_subsidy": [f"尚未设置2031年“拆除重建”的补助标准，请市住建局在后台设置。 {MAY_OVERRIDE}"]
    }


def test_case_numbers_count_per_township_and_year(staff, other_staff, home_household, other_household):
    standards(year=2027)
    first = open_for(staff, dangerous_dwelling(home_household))
    second = open_for(staff, dangerous_dwelling(a_household()))
    next_year = open_for(staff, dangerous_dwelling(a_household()), year=2027)
    elsewhere = open_for(other_staff, dangerous_dwelling(other_household))
    third = open_for(staff, dangerous_dwelling(a_household()))
    assert [c.number for c in (first, second, next_year, elsewhere, third)] == [
        "GZ2026-100-0001", "GZ2026-100-0002", "GZ2027-100-0001", "GZ2026-101-0001", "GZ2026-100-0003"
    ]  # fmt: skip


# Subsidy payments -------------------------------------------------------------------------------------------


def test_payment_before_acceptance_is_impossible(admin, case_at):
    case = case_at(S.CONSTRUCTION_STARTED)
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        advance(case, S.PAID, admin, amount=Decimal("18000"), voucher_number="PZ-1")
    assert refused.value.messages == [cannot_move(S.CONSTRUCTION_STARTED, S.PAID)]
    assert snapshot(case) == before


def test_payment_records_one_subsidy_payment(admin, case_at):
    case = case_at(S.ACCEPTED)
    case = advance(case, S.PAID, admin, amount=Decimal("17500.50"), voucher_number="  PZ-2026-0031 ")
    [payment] = SubsidyPayment.objects.filter(case=case)
    assert (payment.paid_on, payment.amount, payment.voucher_number, payment.recorded_by) == (
        days_ago(STEP_DATES[S.PAID]), Decimal("17500.50"), "PZ-2026-0031", admin
    )  # fmt: skip
    assert (payment.is_supplementary, payment.reason) == (False, "")
    assert payment.history.first().history_user == admin


def test_a_payment_above_the_standard_is_refused(admin, case_at):
    case = case_at(S.ACCEPTED)
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        advance(case, S.PAID, admin, amount=Decimal("20000.01"))
    assert refused.value.message_dict == {"amount": [f"{above_standard('20000.01')} {MAY_OVERRIDE}"]}
    assert snapshot(case) == before


def test_a_payment_above_the_standard_is_overridden_with_a_reason(admin, case_at):
    case = case_at(S.ACCEPTED)
    case = advance(case, S.PAID, admin, amount=Decimal("25000"), override_reason="市政府常务会议纪要〔2026〕12号")
    assert SubsidyPayment.objects.get(case=case).amount == Decimal("25000")
    step = CaseTransition.objects.get(case=case, to_status=S.PAID)
    assert (step.overridden, step.override_reason) == (above_standard("25000"), "市政府常务会议纪要〔2026〕12号")


@pytest.mark.parametrize("voucher", ["", "   ", None])
def test_a_payment_needs_its_voucher_number(admin, case_at, voucher):
    case = case_at(S.ACCEPTED)
    before = snapshot(case)
    data = {"voucher_number": voucher} if voucher is not None else {}
    step = {k: v for k, v in step_data(case, S.PAID).items() if k != "voucher_number"} | data
    with pytest.raises(ValidationError) as refused:
        services.move_case(actor=admin, case=case, to=S.PAID, **step)
    assert refused.value.message_dict == {"voucher_number": ["请填写拨付凭证号。"]}
    assert snapshot(case) == before


@pytest.mark.parametrize("amount", [None, Decimal("0"), Decimal("-100")])
def test_a_payment_needs_a_positive_amount(admin, case_at, amount):
    case = case_at(S.ACCEPTED)
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        advance(case, S.PAID, admin, amount=amount)
    assert refused.value.message_dict == {"amount": ["请填写拨付金额。"]}
    assert snapshot(case) == before


def test_a_second_regular_payment_violates_the_database_constraint(admin, case_at):
    case = case_at(S.PAID)
    with pytest.raises(IntegrityError), transaction.atomic():
        SubsidyPayment.objects.create(case=case, paid_on=days_ago(1), amount=Decimal("100"), voucher_number="PZ-X",
                                      recorded_by=admin)  # fmt: skip
    assert SubsidyPayment.objects.filter(case=case).count() == 1


def test_a_paid_case_cannot_be_paid_again(admin, case_at):
    case = case_at(S.PAID)
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        advance(case, S.PAID, admin, on=days_ago(1))
    assert refused.value.messages == [cannot_move(S.PAID, S.PAID)]
    assert snapshot(case) == before


def supplement(actor, case, **changes):
    data = {"paid_on": days_ago(3), "amount": Decimal("1500"), "voucher_number": "PZ-BC-1", "reason": "建材涨价补差"}
    return services.record_supplementary_payment(actor=actor, case=case, **(data | changes))


@pytest.mark.parametrize("status", [S.PAID, S.ARCHIVED])
def test_the_bureau_administrator_records_a_supplementary_payment(admin, case_at, status):
    case = case_at(status)
    payment = supplement(admin, case, voucher_number=" PZ-BC-1 ", reason=" 建材涨价补差 ")
    assert (payment.is_supplementary, payment.amount, payment.voucher_number, payment.reason) == (
        True, Decimal("1500"), "PZ-BC-1", "建材涨价补差"
    )  # fmt: skip
    assert SubsidyPayment.objects.filter(case=case).count() == 2
    case.refresh_from_db()
    assert (case.status, case.last_activity_on) == (status, days_ago(0))  # the day of entry


@pytest.mark.parametrize("persona", ["staff", "official"])
def test_only_the_bureau_administrator_records_a_supplementary_payment(request, case_at, persona):
    case = case_at(S.PAID)
    before = snapshot(case)
    with pytest.raises(PermissionDenied) as denied:
        supplement(request.getfixturevalue(persona), case)
    assert str(denied.value) == NO_PERMISSION
    assert snapshot(case) == before


@pytest.mark.parametrize("status", [S.ACCEPTED, S.REJECTED])
def test_a_supplementary_payment_needs_a_first_payment(admin, case_at, status):
    case = case_at(status)
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        supplement(admin, case)
    assert refused.value.messages == ["补充拨付须在首次拨付之后。"]
    assert snapshot(case) == before


def test_a_supplementary_payment_needs_its_own_voucher_number(admin, case_at):
    case = case_at(S.PAID)
    first = SubsidyPayment.objects.get(case=case)
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        supplement(admin, case, voucher_number=f" {first.voucher_number} ")
    assert refused.value.message_dict == {"voucher_number": ["该凭证号的拨付已登记。"]}
    assert snapshot(case) == before


def test_a_supplementary_payment_needs_a_reason(admin, case_at):
    case = case_at(S.PAID)
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        supplement(admin, case, reason="  ")
    assert refused.value.message_dict == {"reason": ["请填写补充拨付的理由。"]}
    assert snapshot(case) == before


@pytest.mark.parametrize(("changes", "field"), [
    ({"amount": Decimal("0")}, "__all__"),  # the payment_positive constraint
    ({"amount": None}, "amount"),
    ({"voucher_number": "  "}, "voucher_number"),
])  # fmt: skip
def test_a_supplementary_payment_needs_a_positive_amount_and_a_voucher(admin, case_at, changes, field):
    case = case_at(S.PAID)
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        supplement(admin, case, **changes)
    assert list(refused.value.message_dict) == [field]
    assert snapshot(case) == before


@pytest.mark.parametrize("paid_days_ago", [STEP_DATES[S.ACCEPTED] + 1, STEP_DATES[S.PAID] + 5, STEP_DATES[S.PAID] + 1])
def test_a_supplementary_payment_cannot_be_dated_before_the_first_payment(admin, case_at, paid_days_ago):
    case = case_at(S.PAID)  # accepted 20 days ago, paid 10 days ago
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        supplement(admin, case, paid_on=days_ago(paid_days_ago))
    assert refused.value.message_dict == {"paid_on": [before_previous(days_ago(STEP_DATES[S.PAID]))]}
    assert snapshot(case) == before


def test_a_supplementary_payment_on_the_day_of_the_first_payment_is_accepted(admin, case_at):
    case = case_at(S.PAID)
    assert supplement(admin, case, paid_on=days_ago(STEP_DATES[S.PAID])).paid_on == days_ago(STEP_DATES[S.PAID])


def test_subsidy_totals_sum_planned_and_paid_per_year_and_township(admin, staff, other_staff, case_at):
    standards(year=2027)
    paid = case_at(S.PAID, subsidy="18000")
    supplement(admin, paid, amount=Decimal("1500"))
    case_at(S.APPLIED, subsidy="15000")
    case_at(S.REJECTED, subsidy="16000")
    case_at(S.WITHDRAWN, subsidy="17000")
    case_at(S.APPLIED, subsidy="10000", programme_year=2027)
    open_for(other_staff, dangerous_dwelling(a_household("350881101")), subsidy="12000")

    # What the rows must say, computed case by case from the database.
    expected: dict[tuple, dict] = {}
    for case in RenovationCase.objects.exclude(status__in=[S.REJECTED, S.WITHDRAWN]):
        row = expected.setdefault((case.programme_year, case.township.code),
                                  {"cases": 0, "planned": Decimal(0), "paid": Decimal(0), "payments": 0})  # fmt: skip
        row["cases"] += 1
        row["planned"] += case.planned_subsidy
        for payment in SubsidyPayment.objects.filter(case=case):
            row["paid"] += payment.amount
            row["payments"] += 1
    rows = selectors.subsidy_totals(admin)
    got = {(r["year"], r["township"].code): {k: r[k] for k in ("cases", "planned", "paid", "payments")} for r in rows}
    assert got == expected
    assert got == {
        (2027, "350881100"): {"cases": 1, "planned": Decimal("10000"), "paid": 0, "payments": 0},
        (2026, "350881100"): {"cases": 2, "planned": Decimal("33000"), "paid": Decimal("19500"), "payments": 2},
        (2026, "350881101"): {"cases": 1, "planned": Decimal("12000"), "paid": 0, "payments": 0},
    }
    assert [(r["year"], r["township"].code) for r in rows] == [(2027, "350881100"), (2026, "350881100"),
                                                              (2026, "350881101")]  # fmt: skip
    assert [(r["year"], r["township"].code) for r in selectors.subsidy_totals(staff)] == [
        (2027, "350881100"), (2026, "350881100")
    ]  # fmt: skip


def test_payments_follow_the_users_scope(admin, staff, other_staff, helper, case_at):
    case = case_at(S.PAID)
    payment = SubsidyPayment.objects.get(case=case)
    assert list(selectors.payments_for_user(admin)) == [payment]
    assert list(selectors.payments_for_user(staff)) == [payment]
    assert list(selectors.payments_for_user(other_staff)) == []
    assert list(selectors.payments_for_user(helper)) == []


# Completion acceptance --------------------------------------------------------------------------------------


def test_acceptance_needs_the_acceptance_team(admin, case_at):
    case = case_at(S.CONSTRUCTION_STARTED)
    safe_appraisal(case.dwelling)
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        advance(case, S.ACCEPTED, admin, acceptors="  ")
    assert refused.value.message_dict == {"acceptors": ["请填写验收人员。"]}
    assert snapshot(case) == before


@pytest.mark.parametrize(("appraised_days_ago", "accepted"), [
    (None, False),  # no appraisal since the D that opened the case
    (STEP_DATES[S.CONSTRUCTION_STARTED] + 1, False),  # the day before construction started
    (STEP_DATES[S.CONSTRUCTION_STARTED], True),  # the day construction started
    (STEP_DATES[S.ACCEPTED], True),  # the day of acceptance
    (STEP_DATES[S.ACCEPTED] - 1, False),  # the day after acceptance
])  # fmt: skip
def test_acceptance_needs_an_appraisal_made_during_the_works(admin, case_at, appraised_days_ago, accepted):
    case = case_at(S.CONSTRUCTION_STARTED)
    if appraised_days_ago is not None:
        safe_appraisal(case.dwelling, on=days_ago(appraised_days_ago))
    if accepted:
        assert advance(case, S.ACCEPTED, admin).status == S.ACCEPTED
        return
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        advance(case, S.ACCEPTED, admin)
    started = fmt(days_ago(STEP_DATES[S.CONSTRUCTION_STARTED]))
    assert refused.value.message_dict == {
        "appraisal": [f"竣工验收须有房屋的新鉴定，鉴定日期应在开工（{started}）之后、验收之前。"]
    }
    assert snapshot(case) == before


def test_a_back_dated_acceptance_finds_the_appraisal_made_before_it(admin, case_at):
    case = case_at(S.CONSTRUCTION_STARTED)
    during_works = safe_appraisal(case.dwelling, on=days_ago(25))
    safe_appraisal(case.dwelling, on=days_ago(5))  # a later routine appraisal, recorded before the acceptance
    case = advance(case, S.ACCEPTED, admin, on=days_ago(20))
    assert case.acceptance_appraisal == during_works


@pytest.mark.parametrize("grade", ["C", "D"])
def test_acceptance_refuses_a_house_appraised_dangerous_after_the_works(admin, case_at, grade):
    case = case_at(S.CONSTRUCTION_STARTED)
    dangerous_dwelling(case.household, grade=grade, appraised_on=days_ago(25))
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        advance(case, S.ACCEPTED, admin)
    assert refused.value.message_dict == {"appraisal": [f"新鉴定为{grade}级，房屋尚不安全。"]}
    assert snapshot(case) == before


def test_acceptance_makes_the_household_renovated_safe_until_a_new_c_grade(admin, case_at):
    case = case_at(S.CONSTRUCTION_STARTED)
    household, dwelling = case.household, case.dwelling
    appraisal = safe_appraisal(dwelling, grade="B")
    assert status_of(household) == HousingStatus.APPRAISED_SAFE
    case = advance(case, S.ACCEPTED, admin, acceptors=" 王工、陈工 ")
    dwelling.refresh_from_db()
    assert (case.accepted_on, case.acceptors, case.acceptance_appraisal) == (days_ago(20), "王工、陈工", appraisal)
    assert dwelling.renovated_on == case.accepted_on == days_ago(20)
    assert dwelling.is_occupied
    assert status_of(household) == HousingStatus.RENOVATED_SAFE

    dangerous_dwelling(household, grade="C", appraised_on=days_ago(2))  # typhoon damage after the works
    assert status_of(household) == HousingStatus.DANGEROUS


@pytest.mark.parametrize("renovation_type", MOVING_TYPES)
def test_a_moving_case_is_not_accepted_before_its_new_dwelling_is_recorded(admin, case_at, renovation_type):
    case = case_at(S.CONSTRUCTION_STARTED, renovation_type=renovation_type, resettlement_site="造福安置区")
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        advance(case, S.ACCEPTED, admin)
    assert refused.value.message_dict == {"new_dwelling": ["请先登记新住房再验收。"]}
    assert snapshot(case) == before


def register(staff, case, **fields):
    fields = {"address": "安置区3栋101", "structure_type": "brick_concrete"} | fields
    services.register_new_dwelling(actor=staff, case=case, dwelling=DwellingFactory.build(**fields))
    return RenovationCase.objects.get(pk=case.pk)


@pytest.mark.parametrize("renovation_type", MOVING_TYPES)
def test_a_moving_case_needs_the_move_in_date_and_the_old_houses_fate(staff, admin, case_at, renovation_type):
    case = register(staff, case_at(S.CONSTRUCTION_STARTED, renovation_type=renovation_type, resettlement_site="安置区"))
    safe_appraisal(case.new_dwelling)
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        advance(case, S.ACCEPTED, admin, moved_in_on=None, old_house_outcome="sold")
    assert refused.value.message_dict == {
        "moved_in_on": ["请填写入住日期。"],
        "old_house_outcome": ["请选择旧房处置情况。"],
    }
    with pytest.raises(ValidationError) as refused:
        advance(case, S.ACCEPTED, admin, moved_in_on=days_ago(-1))
    assert refused.value.message_dict == {"moved_in_on": [FUTURE]}
    assert snapshot(case) == before


def test_a_relocation_needs_its_resettlement_site(staff, admin, case_at):
    case = register(staff, case_at(S.CONSTRUCTION_STARTED, renovation_type=RenovationType.RELOCATION))
    safe_appraisal(case.new_dwelling)
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        advance(case, S.ACCEPTED, admin)
    assert refused.value.message_dict == {"resettlement_site": ["请填写搬迁安置点。"]}
    assert snapshot(case) == before


@pytest.mark.parametrize("renovation_type", MOVING_TYPES)
def test_accepting_a_moving_case_moves_the_household(staff, admin, case_at, renovation_type):
    case = case_at(S.CONSTRUCTION_STARTED, renovation_type=renovation_type, resettlement_site="桂林街道造福安置区")
    household, old = case.household, case.dwelling
    case = register(staff, case)
    new = case.new_dwelling
    assert (new.household, new.is_occupied, new.renovated_on) == (household, False, None)
    assert status_of(household) == HousingStatus.DANGEROUS  # still living in the old house
    safe_appraisal(new)
    case = advance(case, S.ACCEPTED, admin, old_house_outcome=RenovationCase.OldHouse.RETAINED)
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.is_occupied, old.renovated_on) == (False, None)
    assert (new.is_occupied, new.renovated_on, new.household) == (True, days_ago(20), household)
    assert (case.moved_in_on, case.old_house_outcome) == (days_ago(20), RenovationCase.OldHouse.RETAINED)
    assert status_of(household) == HousingStatus.RENOVATED_SAFE


def test_a_repair_case_has_no_new_dwelling(staff, case_at):
    case = case_at(S.CONSTRUCTION_STARTED, renovation_type=RenovationType.REPAIR)
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        register(staff, case)
    assert refused.value.messages == ["只有搬迁、选址新建和置换租赁案件才登记新住房。"]
    assert snapshot(case) == before


@pytest.mark.parametrize("status", [S.CONSTRUCTION_STARTED, S.ACCEPTED])
def test_the_new_dwelling_is_registered_once(staff, admin, case_at, status):
    case = case_at(S.CONSTRUCTION_STARTED, renovation_type=RenovationType.NEW_SITE)
    case = register(staff, case)
    if status == S.ACCEPTED:
        safe_appraisal(case.new_dwelling)
        case = advance(case, S.ACCEPTED, admin)
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        register(staff, case, address="另一处新房")
    assert refused.value.messages == ["新住房已登记。"]
    assert snapshot(case) == before


@pytest.mark.parametrize("ended", [S.REJECTED, S.WITHDRAWN])
def test_an_ended_case_gets_no_new_dwelling(staff, case_at, ended):
    case = case_at(ended, renovation_type=RenovationType.SWAP_OR_LEASE)
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        register(staff, case)
    assert refused.value.messages == ["新住房须在竣工验收前登记。"]
    assert snapshot(case) == before


@pytest.mark.parametrize(("persona", "message"), [("other_staff", OWN_TOWNSHIP_ONLY), ("official", NO_PERMISSION),
                                                  ("helper", NO_PERMISSION)])  # fmt: skip
def test_only_the_township_and_the_bureau_administrator_record_the_new_dwelling(request, case_at, persona, message):
    case = case_at(S.APPROVED, renovation_type=RenovationType.SWAP_OR_LEASE)
    before = snapshot(case)
    with pytest.raises(PermissionDenied) as denied:
        register(request.getfixturevalue(persona), case)
    assert str(denied.value) == message
    assert snapshot(case) == before


# Rejection and withdrawal -----------------------------------------------------------------------------------


@pytest.mark.parametrize("to", [S.REJECTED, S.WITHDRAWN])
def test_ending_a_case_needs_a_reason(staff, case_at, to):
    case = case_at()
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        services.move_case(actor=staff, case=case, to=to, on=days_ago(100), note=" ")
    assert refused.value.message_dict == {"note": [GIVE_REASON]}
    assert snapshot(case) == before


@pytest.mark.parametrize("at", [S.APPLIED, S.VILLAGE_ASSESSED])
def test_the_township_rejects_at_its_own_steps(staff, case_at, at):
    case = case_at(at)
    case = services.move_case(actor=staff, case=case, to=S.REJECTED, on=days_ago(100), note=" 不符合条件 ")
    case.refresh_from_db()
    assert (case.status, case.closed_from, case.status_on) == (S.REJECTED, at, days_ago(100))
    step = CaseTransition.objects.get(case=case, to_status=S.REJECTED)
    assert (step.from_status, step.note, step.actor) == (at, "不符合条件", staff)
    assert case.reached_steps() == CASE_STEPS[: CASE_STEPS.index(at) + 1]


def test_the_township_cannot_reject_after_its_review(staff, case_at):
    case = case_at(S.TOWNSHIP_REVIEWED)
    before = snapshot(case)
    with pytest.raises(PermissionDenied):
        services.move_case(actor=staff, case=case, to=S.REJECTED, on=days_ago(80), note="不符合条件")
    assert snapshot(case) == before


def test_the_bureau_rejects_after_the_township_review(official, case_at):
    case = case_at(S.TOWNSHIP_REVIEWED)
    case = services.move_case(actor=official, case=case, to=S.REJECTED, on=days_ago(80), note="超出年度计划")
    assert (case.status, case.closed_from) == (S.REJECTED, S.TOWNSHIP_REVIEWED)


def test_the_household_withdraws_during_construction(staff, case_at):
    case = case_at(S.CONSTRUCTION_STARTED)
    case = services.move_case(actor=staff, case=case, to=S.WITHDRAWN, on=days_ago(30), note="农户外出务工，放弃改造")
    case.refresh_from_db()
    assert (case.status, case.closed_from, case.status_on) == (S.WITHDRAWN, S.CONSTRUCTION_STARTED, days_ago(30))
    assert not case.is_open


# save_case --------------------------------------------------------------------------------------------------


def edited(case: RenovationCase, **fields) -> RenovationCase:
    fresh = RenovationCase.objects.get(pk=case.pk)
    for name, value in fields.items():
        setattr(fresh, name, value)
    return fresh


@pytest.mark.parametrize(("field", "value"), [
    ("planned_subsidy", Decimal("19000")),
    ("renovation_type", RenovationType.REPAIR),
    ("programme_year", 2027),
])  # fmt: skip
def test_after_approval_township_staff_cannot_change_the_money(staff, case_at, field, value):
    standards(year=2027)
    case = case_at(S.APPROVED)
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        services.save_case(actor=staff, case=edited(case, **{field: value}))
    assert refused.value.messages == [AFTER_APPROVAL]
    assert snapshot(case) == before


def test_after_approval_township_staff_still_change_the_other_details(staff, case_at):
    case = case_at(S.CONSTRUCTION_STARTED)
    services.save_case(actor=staff, case=edited(case, builder="东坑村建筑队", notes="已进场"))
    case.refresh_from_db()
    assert (case.builder, case.notes) == ("东坑村建筑队", "已进场")


def test_before_approval_township_staff_change_the_subsidy_within_the_standard(staff, case_at):
    case = case_at(S.TOWNSHIP_REVIEWED)
    services.save_case(actor=staff, case=edited(case, planned_subsidy=Decimal("20000")))
    case.refresh_from_db()
    assert case.planned_subsidy == Decimal("20000")


def test_after_approval_the_bureau_administrator_changes_the_subsidy(admin, case_at):
    case = case_at(S.AGREEMENT_SIGNED)
    services.save_case(actor=admin, case=edited(case, planned_subsidy=Decimal("19500")))
    case.refresh_from_db()
    assert case.planned_subsidy == Decimal("19500")
    assert case.history.first().history_user == admin


def test_a_bureau_official_cannot_edit_a_case(official, case_at):
    """Officials approve (approve_case) but hold no change_renovationcase, so editing is the administrator's."""
    case = case_at(S.APPROVED)
    before = snapshot(case)
    with pytest.raises(PermissionDenied) as denied:
        services.save_case(actor=official, case=edited(case, planned_subsidy=Decimal("19000")))
    assert str(denied.value) == NO_PERMISSION
    assert snapshot(case) == before


@pytest.mark.parametrize("persona", ["staff", "admin"])
def test_a_subsidy_above_the_standard_is_refused_without_an_override(request, case_at, persona):
    case = case_at(S.APPLIED)
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        services.save_case(actor=request.getfixturevalue(persona), case=edited(case, planned_subsidy=Decimal("21000")))
    assert refused.value.message_dict == {"planned_subsidy": [f"{above_standard('21000')} {MAY_OVERRIDE}"]}
    assert snapshot(case) == before


def test_the_bureau_administrator_overrides_the_standard_and_the_reason_is_in_the_history(admin, case_at):
    case = case_at(S.APPROVED)
    services.save_case(actor=admin, case=edited(case, planned_subsidy=Decimal("21000")), override_reason="特困户")
    case.refresh_from_db()
    assert case.planned_subsidy == Decimal("21000")
    assert case.history.first().history_change_reason == f"{above_standard('21000')}\n特困户"


def test_township_staff_cannot_override_the_standard_when_editing(staff, case_at):
    case = case_at(S.APPLIED)
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        services.save_case(actor=staff, case=edited(case, planned_subsidy=Decimal("21000")), override_reason="特困")
    assert refused.value.message_dict == {"override_reason": [OVERRIDE_ONLY_ADMIN]}
    assert snapshot(case) == before


@pytest.mark.parametrize("status", [S.REJECTED, S.WITHDRAWN, S.ARCHIVED])
def test_a_closed_case_cannot_be_changed(staff, admin, case_at, status):
    case = case_at(status)
    before = snapshot(case)
    for actor in (staff, admin):
        with pytest.raises(ValidationError) as refused:
            services.save_case(actor=actor, case=edited(case, notes="补充说明"))
        assert refused.value.messages == ["已办结的案件不能修改。"]
    assert snapshot(case) == before


def test_the_dwelling_and_household_of_a_case_cannot_be_changed(staff, case_at):
    case = case_at()
    other = dangerous_dwelling(a_household())
    services.save_case(actor=staff, case=edited(case, dwelling=other, household=other.household, notes="改"))
    stored = RenovationCase.objects.get(pk=case.pk)
    assert (stored.dwelling_id, stored.household_id, stored.notes) == (case.dwelling_id, case.household_id, "改")


def test_staff_of_another_township_cannot_change_the_case(other_staff, case_at):
    case = case_at()
    before = snapshot(case)
    with pytest.raises(PermissionDenied) as denied:
        services.save_case(actor=other_staff, case=edited(case, notes="越权修改"))
    assert str(denied.value) == OWN_TOWNSHIP_ONLY
    assert snapshot(case) == before


# Construction checks ----------------------------------------------------------------------------------------


def test_a_construction_check_is_a_dated_step_with_its_photos(staff, case_at):
    case = case_at(S.CONSTRUCTION_STARTED)
    RenovationCase.objects.filter(pk=case.pk).update(last_activity_on=days_ago(60))
    entry = services.record_construction_check(
        actor=staff, case=case, on=days_ago(40), note=" 圈梁已浇筑，质量合格 ",
        documents=[(kind("quality_record"), png_file("检查记录.png"))],
    )  # fmt: skip
    assert (entry.from_status, entry.to_status, entry.on, entry.note, entry.actor) == (
        S.CONSTRUCTION_STARTED, S.CONSTRUCTION_STARTED, days_ago(40), "圈梁已浇筑，质量合格", staff
    )  # fmt: skip
    case.refresh_from_db()
    # The case stays at its step; its last activity is the day the check was entered.
    assert (case.status, case.status_on, case.last_activity_on) == (S.CONSTRUCTION_STARTED, days_ago(70),
                                                                     days_ago(0))  # fmt: skip
    assert CaseDocument.objects.filter(case=case, kind__code="quality_record", step=S.CONSTRUCTION_STARTED).count() == 1


@pytest.mark.parametrize("status", [S.AGREEMENT_SIGNED, S.ACCEPTED])
def test_construction_checks_only_during_construction(staff, case_at, status):
    case = case_at(status)
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        services.record_construction_check(actor=staff, case=case, on=days_ago(1), note="检查")
    assert refused.value.messages == ["施工检查只能在施工期间登记。"]
    assert snapshot(case) == before


def test_a_construction_check_needs_a_note_and_a_date_within_the_works(staff, case_at):
    case = case_at(S.CONSTRUCTION_STARTED)
    before = snapshot(case)
    with pytest.raises(ValidationError) as refused:
        services.record_construction_check(actor=staff, case=case, on=days_ago(40), note="  ")
    assert refused.value.message_dict == {"note": ["请填写检查情况。"]}
    with pytest.raises(ValidationError) as refused:
        services.record_construction_check(actor=staff, case=case, on=days_ago(71), note="检查")
    assert refused.value.message_dict == {"on": [before_previous(days_ago(70))]}
    with pytest.raises(ValidationError) as refused:
        services.record_construction_check(actor=staff, case=case, on=days_ago(-1), note="检查")
    assert refused.value.message_dict == {"on": [FUTURE]}
    assert snapshot(case) == before


@pytest.mark.parametrize(("persona", "message"), [("other_staff", OWN_TOWNSHIP_ONLY), ("official", NO_PERMISSION)])
def test_construction_checks_are_the_townships_and_the_bureau_administrators(request, case_at, persona, message):
    case = case_at(S.CONSTRUCTION_STARTED)
    before = snapshot(case)
    with pytest.raises(PermissionDenied) as denied:
        services.record_construction_check(
            actor=request.getfixturevalue(persona), case=case, on=days_ago(1), note="检查"
        )
    assert str(denied.value) == message
    assert snapshot(case) == before


# Selectors --------------------------------------------------------------------------------------------------


def test_cases_follow_the_users_scope(personas, staff, other_staff, case_at):
    here = case_at()
    there = open_for(other_staff, dangerous_dwelling(a_household("350881101")))
    assert set(selectors.cases_for_user(personas[Role.BUREAU_ADMIN])) == {here, there}
    assert set(selectors.cases_for_user(personas[Role.BUREAU_OFFICIAL])) == {here, there}
    assert list(selectors.cases_for_user(staff)) == [here]
    assert list(selectors.cases_for_user(other_staff)) == [there]
    for role in (Role.HELPER, Role.DEPARTMENT_LIAISON, Role.COMPLAINT_CLERK, "no_role"):
        assert list(selectors.cases_for_user(personas[role])) == [], role


def test_dangerous_dwellings_without_a_case(admin, staff, other_staff, case_at):
    with_open_case = case_at().dwelling
    with_rejected_case = case_at(S.REJECTED).dwelling
    without_case = dangerous_dwelling(a_household(), grade="C")
    safe = DwellingFactory(household=a_household())
    safe_appraisal(safe, on=days_ago(10))
    moved_out = dangerous_dwelling(a_household())
    Dwelling.objects.filter(pk=moved_out.pk).update(is_occupied=False)
    refresh_home_state(household_ids=[moved_out.household_id])
    elsewhere = dangerous_dwelling(a_household("350881101"))

    def listed(user):
        return set(selectors.dangerous_without_case_for_user(user))

    assert with_open_case not in listed(staff)
    assert listed(staff) == {with_rejected_case, without_case}
    assert listed(other_staff) == {elsewhere}
    assert listed(admin) == {with_rejected_case, without_case, elsewhere}


def test_stalled_cases_follow_the_settings(settings, staff, case_at):
    settings.RENOVATION_STALLED_DAYS = 30
    settings.RENOVATION_PAYMENT_DAYS = 30
    quiet = case_at()
    checked = case_at(S.CONSTRUCTION_STARTED)
    ended = case_at(S.REJECTED)
    accepted = case_at(S.ACCEPTED)  # accepted 20 days ago, unpaid, entered today
    # Nobody has recorded anything on these three for 120 days...
    RenovationCase.objects.filter(pk__in=[quiet.pk, checked.pk, ended.pk]).update(last_activity_on=days_ago(120))
    # ...until a construction check is entered today.
    services.record_construction_check(actor=staff, case=checked, on=days_ago(5), note="墙体砌筑中")

    def stalled():
        return set(selectors.stalled_cases(RenovationCase.objects.all()))

    assert stalled() == {quiet}
    settings.RENOVATION_STALLED_DAYS = 120
    assert stalled() == set()  # exactly 120 days is not yet stalled
    settings.RENOVATION_STALLED_DAYS = 119
    assert stalled() == {quiet}
    settings.RENOVATION_PAYMENT_DAYS = 19
    assert stalled() == {quiet, accepted}
    settings.RENOVATION_PAYMENT_DAYS = 20
    assert stalled() == {quiet}
    assert checked not in stalled()


def test_a_case_entered_today_from_old_papers_is_not_stalled_until_it_is_left_alone(settings, case_at):
    settings.RENOVATION_STALLED_DAYS = 30
    case = case_at(S.APPROVED)  # approved 90 days ago, entered today
    assert set(selectors.stalled_cases(RenovationCase.objects.all())) == set()
    assert set(selectors.stalled_cases(RenovationCase.objects.all(), today=days_ago(-30))) == set()
    assert set(selectors.stalled_cases(RenovationCase.objects.all(), today=days_ago(-31))) == {case}


@pytest.fixture
def progress_cases(staff, other_staff, case_at):
    case_at()
    case_at(S.VILLAGE_ASSESSED)
    case_at(S.REJECTED)
    case_at(S.APPLIED)
    open_for(other_staff, dangerous_dwelling(a_household("350881101")))


def counts_of(rows, code):
    [row] = [r for r in rows if r["township"].code == code]
    return {status: n for status, n in row["counts"] if n}


def test_progress_by_township_counts_cases_per_step(admin, staff, progress_cases):
    rows = selectors.progress_by_township(admin)
    assert len(rows) == 16
    assert [status for status, _n in rows[0]["counts"]] == list(S.values)
    assert counts_of(rows, "350881100") == {S.APPLIED: 2, S.VILLAGE_ASSESSED: 1, S.REJECTED: 1}
    assert counts_of(rows, "350881101") == {S.APPLIED: 1}
    assert counts_of(rows, "350881102") == {}
    mine = selectors.progress_by_township(staff)
    assert [row["township"].code for row in mine] == ["350881100"]
    assert counts_of(mine, "350881100") == {S.APPLIED: 2, S.VILLAGE_ASSESSED: 1, S.REJECTED: 1}


def test_progress_by_township_queries_do_not_grow_with_the_cases(admin, case_at, django_assert_num_queries):
    case_at()
    selectors.progress_by_township(admin)  # the user's permissions and scope are cached from here on
    with django_assert_num_queries(2):  # the GROUP BY and the townships
        selectors.progress_by_township(admin)
    case_at(S.VILLAGE_ASSESSED)
    case_at(S.REJECTED)
    with django_assert_num_queries(2):
        rows = selectors.progress_by_township(admin)
    assert sum(n for row in rows for _s, n in row["counts"]) == 3


def test_archive_completeness_names_the_missing_document(case_at):
    case = case_at(S.TOWNSHIP_REVIEWED)
    rejected = case_at(S.REJECTED)
    DocumentKind.objects.filter(code="village_certificate").update(is_required=True)  # the bureau tightens its list
    result = selectors.archive_completeness(RenovationCase.objects.all())
    row = result[case.pk]
    assert (row["required"], row["present"], row["percent"]) == (9, 8, 89)
    assert [k.code for k in row["missing"]] == ["village_certificate"]
    # A case rejected at application is judged on the application's documents only.
    assert (result[rejected.pk]["required"], result[rejected.pk]["present"]) == (4, 3)


def test_a_complete_archive_is_a_hundred_percent(case_at):
    case = case_at(S.ARCHIVED)
    row = selectors.archive_completeness(RenovationCase.objects.filter(pk=case.pk))[case.pk]
    assert (row["required"], row["present"], row["missing"], row["percent"]) == (15, 15, [], 100)


def test_archive_completeness_is_three_queries_whatever_the_number_of_cases(case_at, django_assert_num_queries):
    for _i in range(2):
        case_at()
    with django_assert_num_queries(3):
        assert len(selectors.archive_completeness(RenovationCase.objects.all())) == 2
    for _i in range(3):
        case_at(S.VILLAGE_ASSESSED)
    with django_assert_num_queries(3):
        assert len(selectors.archive_completeness(RenovationCase.objects.all())) == 5


def test_archive_by_township_sums_the_cases(staff, case_at):
    case_at(S.TOWNSHIP_REVIEWED)
    case_at()
    DocumentKind.objects.filter(code="village_certificate").update(is_required=True)
    [row] = selectors.archive_by_township(staff)
    assert (row["township"].code, row["cases"], row["required"], row["present"], row["incomplete"]) == (
        "350881100", 2, 13, 11, 2
    )  # fmt: skip
    assert row["percent"] == 85


# Two users at once (PostgreSQL row locks) -------------------------------------------------------------------


def test_a_move_takes_its_row_lock_on_this_database(staff, case_at):
    case = advance(case_at(), S.VILLAGE_ASSESSED, staff)
    assert RenovationCase.objects.get(pk=case.pk).status == S.VILLAGE_ASSESSED


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_users_moving_one_case_concurrently_record_the_step_once(staff, xinqiao, monkeypatch):
    if connection.vendor != "postgresql":
        service_missing("two users moving one case at once needs PostgreSQL's row locks (set DATABASE_URL)")
    colleague = make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao])
    case = new_case(staff, dangerous_dwelling(a_household()))

    # Hold the row lock a little longer, so that without it both moves would read "applied".
    check_files = renovation._check_files

    def slow_check_files(documents):
        time.sleep(0.3)
        return check_files(documents)

    monkeypatch.setattr(renovation, "_check_files", slow_check_files)
    barrier = threading.Barrier(2)
    outcomes: list = []

    def attempt(user_pk: int) -> None:
        try:
            with translation.override("zh-hans"):
                actor = User.objects.get(pk=user_pk)
                data = step_data(case, S.VILLAGE_ASSESSED)
                barrier.wait(timeout=10)
                try:
                    services.move_case(actor=actor, case=case, to=S.VILLAGE_ASSESSED, **data)
                except ValidationError as error:
                    outcomes.append(error.messages)
                else:
                    outcomes.append("moved")
        except (DatabaseError, PermissionDenied, threading.BrokenBarrierError) as error:  # shown by the assertion
            outcomes.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(user.pk,)) for user in (staff, colleague)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert sorted(outcomes, key=str) == sorted(
        ["moved", [cannot_move(S.VILLAGE_ASSESSED, S.VILLAGE_ASSESSED)]], key=str
    )
    assert CaseTransition.objects.filter(case=case, to_status=S.VILLAGE_ASSESSED).count() == 1
    filed = CaseDocument.objects.filter(case=case, step=S.VILLAGE_ASSESSED)
    assert filed.filter(kind__is_generated=False).count() == 2
    assert filed.filter(kind__is_generated=True).count() == 1  # the posting notice, filed once
    assert RenovationCase.objects.get(pk=case.pk).status == S.VILLAGE_ASSESSED
