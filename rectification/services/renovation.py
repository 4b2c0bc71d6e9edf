"""Renovation cases (危房改造): one table of allowed moves and one function that performs a move.

Every rule is checked before anything is written, so a refused move changes nothing; the case row is locked
(`select_for_update`) so that of two users clicking at once, the second sees the first one's result.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households.models import Attachment, Dwelling, Household, Township
from households.selectors import dwellings_for_user
from households.services import add_attachment, refresh_home_state, save_dwelling
from households.uploads import validate_attachment_file
from housing_safety import webhooks
from housing_safety.access import ensure_can_write_in_township, require_perm
from housing_safety.background import enqueue_on_commit
from housing_safety.dates import DUE, check_date, date_error
from housing_safety.workflow import Workflow
from inspections.models import DANGEROUS_GRADES, SAFE_GRADES, Appraisal

from .. import paper, webhook_events
from ..models import (
    CASE_STEPS,
    CaseDocument,
    CaseStatus,
    CaseTransition,
    DocumentKind,
    RenovationCase,
    RenovationType,
    SubsidyPayment,
    SubsidyStandard,
)

S = CaseStatus
TOWNSHIP = "rectification.advance_case"
APPROVE = "rectification.approve_case"
COMPLETE = "rectification.complete_case"
OVERRIDE = "rectification.override_case_rules"

# (from, to) -> the permission the actor needs. The township runs the case up to its own review and through
# agreement and construction; the bureau approves, accepts, pays and archives. Rejection is the township's at its
# own steps and the bureau's from its review on; the household may withdraw at any step before payment.
_ENDABLE = CASE_STEPS[: CASE_STEPS.index(S.ACCEPTED) + 1]
CASE_MOVES = Workflow(
    {
        (S.APPLIED, S.VILLAGE_ASSESSED): TOWNSHIP,
        (S.VILLAGE_ASSESSED, S.TOWNSHIP_REVIEWED): TOWNSHIP,
        (S.TOWNSHIP_REVIEWED, S.APPROVED): APPROVE,
        (S.APPROVED, S.AGREEMENT_SIGNED): TOWNSHIP,
        (S.AGREEMENT_SIGNED, S.CONSTRUCTION_STARTED): TOWNSHIP,
        (S.CONSTRUCTION_STARTED, S.ACCEPTED): COMPLETE,
        (S.ACCEPTED, S.PAID): COMPLETE,
        (S.PAID, S.ARCHIVED): COMPLETE,
        **{(step, S.REJECTED): TOWNSHIP if step in (S.APPLIED, S.VILLAGE_ASSESSED) else APPROVE for step in _ENDABLE},
        **{(step, S.WITHDRAWN): TOWNSHIP for step in _ENDABLE},
    },
    statuses=S,
    refusal=gettext_lazy("This case is at “%(from)s” and cannot move to “%(to)s” (someone may have moved it: reload)."),
)

# Steps that start a public posting, and the step that may only follow once that posting has ended.
POSTINGS = {
    S.VILLAGE_ASSESSED: ("village_posting_start", "village_posting_end", S.TOWNSHIP_REVIEWED),
    S.TOWNSHIP_REVIEWED: ("township_posting_start", "township_posting_end", S.APPROVED),
}

Documents = Iterable[tuple[DocumentKind, object]]  # (kind, uploaded file)


# The case's actions besides its moves: each service calls its check_* on the locked case, and the case page
# shows the action's form when housing_safety.workflow.permits(check_*, user, case), so the two cannot disagree.


def check_case_documents(actor: AbstractBaseUser, case: RenovationCase) -> None:
    """Papers go into any case's file in the actor's township, but an archived file is sealed."""
    ensure_can_write_in_township(actor, case.township_id)
    if case.status == S.ARCHIVED:
        raise ValidationError(_("An archived case's file is sealed."))
    require_perm(actor, "households.add_attachment")


def check_construction_check(actor: AbstractBaseUser, case: RenovationCase) -> None:
    """The township records quality and safety checks while the house is under construction."""
    require_perm(actor, TOWNSHIP)
    ensure_can_write_in_township(actor, case.township_id)
    if case.status != S.CONSTRUCTION_STARTED:
        raise ValidationError(_("Construction checks are recorded while the house is under construction."))


def check_new_dwelling(actor: AbstractBaseUser, case: RenovationCase) -> None:
    """The township records the new house of a moving case once, before completion acceptance."""
    require_perm(actor, TOWNSHIP)
    ensure_can_write_in_township(actor, case.township_id)
    if not case.is_moving:
        raise ValidationError(_("Only relocation, new-site and swap cases have a new dwelling."))
    if case.new_dwelling_id:
        raise ValidationError(_("The new dwelling is already registered."))
    if not case.is_open or CASE_STEPS.index(case.status) >= CASE_STEPS.index(S.ACCEPTED):
        raise ValidationError(_("The new dwelling is recorded before completion acceptance."))


def check_supplementary_payment(actor: AbstractBaseUser, case: RenovationCase) -> None:
    """A supplementary payment is a bureau administrator's, after the case's first payment."""
    require_perm(actor, OVERRIDE)
    ensure_can_write_in_township(actor, case.township_id)
    if case.status not in (S.PAID, S.ARCHIVED):
        raise ValidationError(_("A supplementary payment follows the case's first payment."))


def _check_files(documents: Documents) -> list[tuple[DocumentKind, object]]:
    documents = [(kind, f) for kind, f in documents if f]
    errors = []
    for kind in sorted({kind for kind, _uploaded in documents if kind.is_generated}, key=lambda k: k.order):
        errors.append(_("“%(kind)s” is filed by the system and cannot be uploaded.") % {"kind": kind.name})
    for kind, uploaded in documents:
        try:
            validate_attachment_file(uploaded)
        except ValidationError as error:
            errors.extend(f"{kind.name}（{uploaded.name}）：{message}" for message in error.messages)
    if errors:
        raise ValidationError({"documents": errors})
    return documents


def _file_documents(actor: AbstractBaseUser, case: RenovationCase, documents, step: str) -> None:
    for kind, uploaded in documents:
        attachment = add_attachment(
            actor=actor, record=case, uploaded_file=uploaded, kind=Attachment.Kind.DOCUMENT, caption=kind.name
        )
        CaseDocument.objects.create(case=case, kind=kind, attachment=attachment, step=step)


def missing_documents(case: RenovationCase | None, steps: Iterable[str], adding: Iterable[DocumentKind] = ()) -> list:
    """Required kinds of these steps that the case's archive (plus the files being added) does not hold."""
    present = set(CaseDocument.objects.filter(case=case).values_list("kind_id", flat=True)) if case else set()
    present |= {kind.pk for kind in adding}
    required = DocumentKind.objects.filter(step__in=list(steps), is_required=True)
    return [kind for kind in required if kind.pk not in present]


def _check_override(actor: AbstractBaseUser, override_reason: str) -> bool:
    """An override is a bureau administrator's decision with a reason; anyone else asking for one is refused."""
    if not override_reason.strip():
        return False
    if not actor.has_perm(OVERRIDE):
        raise ValidationError(
            {"override_reason": _("Only a bureau administrator can override a rule; leave the reason empty.")}
        )
    return True


def _subsidy_problem(*, year: int, renovation_type: str, amount: Decimal | None) -> str | None:
    """Why this amount is not covered by the configured standard, or None when it is."""
    standard = SubsidyStandard.objects.filter(year=year, renovation_type=renovation_type).first()
    label = RenovationType(renovation_type).label if renovation_type in RenovationType.values else renovation_type
    if standard is None:
        return _("No subsidy standard is set for %(year)s “%(type)s”; the bureau sets it in the admin.") % {
            "year": year,
            "type": label,
        }
    if amount is not None and amount > standard.amount:
        return _("¥%(amount)s is above the standard of ¥%(standard)s for %(year)s “%(type)s”.") % {
            "amount": amount,
            "standard": standard.amount,
            "year": year,
            "type": label,
        }
    return None


def _check_subsidy(field: str, override: bool, overridden: list[str], **subsidy) -> None:
    problem = _subsidy_problem(**subsidy)
    if problem and not override:
        hint = _("A bureau administrator may override this with a reason.")
        raise ValidationError({field: f"{problem} {hint}"})
    if problem:
        overridden.append(problem)


def _check_date(on: datetime.date | None, after: datetime.date | None, field: str = "on") -> None:
    if on is None:
        raise ValidationError({field: _("Enter the date of this step.")})
    check_date(field, on)  # not in the future, not before 2000
    if after and on < after:
        raise ValidationError(
            {field: _("The date cannot be before the previous step (%(date)s).") % {"date": f"{after:%Y-%m-%d}"}}
        )


def _next_number(township: Township, year: int) -> str:
    """Case numbers per township and programme year, e.g. GZ2026-100-0007; the township row lock serialises them."""
    Township.objects.select_for_update().get(pk=township.pk)
    prefix = f"GZ{year}-{township.code[6:]}-"
    last = (
        RenovationCase.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    return f"{prefix}{int(last.removeprefix(prefix)) + 1 if last else 1:04d}"


def _missing_or_override(case, steps, documents, override: bool, overridden: list[str]) -> None:
    missing = missing_documents(case, steps, [kind for kind, _f in documents])
    if not missing:
        return
    names = "、".join(kind.name for kind in missing)
    if not override:
        raise ValidationError({"documents": _("Missing documents for this step: %(names)s.") % {"names": names}})
    overridden.append(_("Missing documents: %(names)s.") % {"names": names})


@transaction.atomic
def open_case(
    *,
    actor: AbstractBaseUser,
    case: RenovationCase,
    applied_on: datetime.date,
    documents: Documents = (),
    override_reason: str = "",
    note: str = "",
) -> RenovationCase:
    """Open a case on the household's application for a dwelling it lives in whose current appraisal is C or D.

    One open case per dwelling (also a database constraint); the planned subsidy must be within the configured
    standard and the application's documents present, unless a bureau administrator overrides with a reason.
    """
    require_perm(actor, "rectification.add_renovationcase")
    require_perm(actor, TOWNSHIP)
    dwelling = (
        dwellings_for_user(actor).select_related("household__village__township").filter(pk=case.dwelling_id).first()
    )
    if dwelling is None:
        raise ValidationError({"dwelling": _("Choose a dwelling in your township.")})
    household = dwelling.household
    ensure_can_write_in_township(actor, household.village.township_id)
    if household.status != Household.Status.ACTIVE:
        raise ValidationError({"dwelling": _("This household is no longer covered.")})
    if not dwelling.is_occupied:
        raise ValidationError({"dwelling": _("The household does not live in this dwelling.")})
    current = Appraisal.objects.filter(dwelling=dwelling).order_by("-appraised_on", "-pk").first()
    if current is None or current.grade not in DANGEROUS_GRADES:
        raise ValidationError(
            {"dwelling": _("Only a dwelling whose current appraisal is C or D can have a renovation case.")}
        )
    open_case_ = dwelling.renovation_cases.exclude(status__in=[S.ARCHIVED, S.REJECTED, S.WITHDRAWN]).first()
    if open_case_ is not None:
        raise ValidationError(
            {"dwelling": _("This dwelling already has an open renovation case (%(number)s).") % {"number": open_case_}}
        )
    _check_date(applied_on, current.appraised_on, "applied_on")
    override = _check_override(actor, override_reason)
    documents = _check_files(documents)
    overridden: list[str] = []
    _check_subsidy(
        "planned_subsidy", override, overridden,
        year=case.programme_year, renovation_type=case.renovation_type, amount=case.planned_subsidy,
    )  # fmt: skip
    _missing_or_override(None, [S.APPLIED], documents, override, overridden)

    case.household, case.dwelling, case.trigger_appraisal = household, dwelling, current
    case.township = household.village.township
    case.status, case.status_on, case.last_activity_on = S.APPLIED, applied_on, timezone.localdate()
    case.created_by = actor
    case.number = _next_number(case.township, case.programme_year)
    case.full_clean()
    case._history_user = actor
    try:
        with transaction.atomic():
            case.save()
    except IntegrityError as error:  # a second user opened one for this dwelling a moment ago
        raise ValidationError({"dwelling": _("This dwelling already has an open renovation case.")}) from error
    CaseTransition.objects.create(
        case=case, from_status="", to_status=S.APPLIED, on=applied_on, actor=actor, note=note,
        override_reason=override_reason.strip() if overridden else "", overridden="\n".join(overridden),
    )  # fmt: skip
    _file_documents(actor, case, documents, S.APPLIED)
    return case


def check_case_change(
    *, actor: AbstractBaseUser, case: RenovationCase, override_reason: str = "", stored=None
) -> list[str]:
    """Validate a change of an open case's details (see save_case); return the rules overridden."""
    require_perm(actor, "rectification.change_renovationcase")
    stored = stored or RenovationCase.objects.get(pk=case.pk)
    ensure_can_write_in_township(actor, stored.township_id)
    if not stored.is_open:
        raise ValidationError(_("A closed case cannot be changed."))
    for field in ("household_id", "dwelling_id", "trigger_appraisal_id"):
        setattr(case, field, getattr(stored, field))
    money = ("programme_year", "renovation_type", "planned_subsidy")
    changed = [field for field in money if getattr(case, field) != getattr(stored, field)]
    approved = CASE_STEPS.index(stored.status) >= CASE_STEPS.index(S.APPROVED)
    if changed and approved and not actor.has_perm(APPROVE):
        raise ValidationError(_("After approval only the bureau can change the type, year or subsidy."))
    overridden: list[str] = []
    if changed:
        _check_subsidy(
            "planned_subsidy", _check_override(actor, override_reason), overridden,
            year=case.programme_year, renovation_type=case.renovation_type, amount=case.planned_subsidy,
        )  # fmt: skip
    return overridden


@transaction.atomic
def save_case(*, actor: AbstractBaseUser, case: RenovationCase, override_reason: str = "") -> RenovationCase:
    """Change an open case's details. Type, year and planned subsidy are the bureau's once the case is approved,
    and the planned subsidy stays within the standard unless overridden."""
    stored = RenovationCase.objects.select_for_update().get(pk=case.pk)
    overridden = check_case_change(actor=actor, case=case, override_reason=override_reason, stored=stored)
    case.full_clean()
    case._history_user = actor
    case._change_reason = "\n".join([*overridden, override_reason.strip()]) if overridden else None
    case.save()
    return case


@transaction.atomic
def register_new_dwelling(*, actor: AbstractBaseUser, case: RenovationCase, dwelling: Dwelling) -> RenovationCase:
    """Record the new house of a relocation, new-site or swap case in the registry (check_new_dwelling); the
    household moves in at completion acceptance."""
    case = RenovationCase.objects.select_for_update().get(pk=case.pk)
    check_new_dwelling(actor, case)
    if dwelling.pk:
        raise ValidationError(_("Register the new dwelling here; an existing dwelling cannot be moved to a case."))
    dwelling.household = case.household
    dwelling.is_occupied = False
    save_dwelling(actor=actor, dwelling=dwelling)
    case.new_dwelling = dwelling
    case._history_user = actor
    case.save(update_fields=["new_dwelling"])
    return case


def _accept(case: RenovationCase, on: datetime.date, step: dict) -> list:
    """Check completion acceptance; return the dwelling writes to make once every check has passed."""
    errors = {}
    if not step.get("acceptors", "").strip():
        errors["acceptors"] = _("Name the members of the acceptance team.")
    target = case.target_dwelling
    if case.is_moving:
        if target is None:
            errors["new_dwelling"] = _("Record the new dwelling before acceptance.")
        if not step.get("moved_in_on"):
            errors["moved_in_on"] = _("Enter the date the household moved in.")
        elif message := date_error(step["moved_in_on"]):
            errors["moved_in_on"] = message
        if step.get("old_house_outcome") not in RenovationCase.OldHouse.values:
            errors["old_house_outcome"] = _("Say what happened to the old house.")
        if case.renovation_type == RenovationType.RELOCATION and not case.resettlement_site.strip():
            errors["resettlement_site"] = _("Enter the resettlement site of the relocation.")
    appraisal = None
    if target is not None:
        # The newest appraisal up to the acceptance date (a back-dated acceptance ignores later ones).
        appraisals = Appraisal.objects.filter(dwelling=target, appraised_on__lte=on)
        appraisal = appraisals.order_by("-appraised_on", "-pk").first()
        if appraisal is None or appraisal.appraised_on < case.status_on:
            errors["appraisal"] = _(
                "Completion acceptance needs a new appraisal of the house, made after construction started "
                "(%(date)s) and no later than the acceptance."
            ) % {"date": f"{case.status_on:%Y-%m-%d}"}
        elif appraisal.grade not in SAFE_GRADES:
            errors["appraisal"] = _("The new appraisal is grade %(grade)s: the house is not yet safe.") % {
                "grade": appraisal.grade
            }
    if errors:
        raise ValidationError(errors)
    case.accepted_on, case.acceptors, case.acceptance_appraisal = on, step["acceptors"].strip(), appraisal
    target.renovated_on = on
    writes = [(target, ["renovated_on"])]
    if case.is_moving:
        case.moved_in_on, case.old_house_outcome = step["moved_in_on"], step["old_house_outcome"]
        target.is_occupied = True
        old = case.dwelling
        old.is_occupied = False
        writes = [(target, ["renovated_on", "is_occupied"]), (old, ["is_occupied"])]
    return writes


@transaction.atomic
def move_case(
    *,
    actor: AbstractBaseUser,
    case: RenovationCase,
    to: str,
    on: datetime.date | None,
    note: str = "",
    documents: Documents = (),
    override_reason: str = "",
    **step,
) -> RenovationCase:
    """Move a case one step along CASE_MOVES, dated `on`, with the step's documents.

    Rules: the move is in the table and the actor has its permission and township; the date is not in the future
    nor before the previous step; a posting lasts at least RENOVATION_POSTING_DAYS and the next step waits until it
    has ended; the step's required documents are present; acceptance needs a new A/B appraisal; payment needs an
    amount within the standard and a voucher, once; ending a case needs a reason. Missing documents and amounts
    above the standard may be overridden by a bureau administrator with a reason, recorded on the step.
    """
    # Lock only the case row: PostgreSQL refuses FOR UPDATE on the nullable side of the new dwelling's outer join.
    case = (
        RenovationCase.objects.select_for_update(of=("self",))
        .select_related("dwelling", "new_dwelling")
        .get(pk=case.pk)
    )
    CASE_MOVES.check(actor, case, to)
    ensure_can_write_in_township(actor, case.township_id)
    _check_date(on, case.status_on)
    override = _check_override(actor, override_reason)
    documents = _check_files(documents)
    overridden: list[str] = []
    writes = []

    if to in (S.REJECTED, S.WITHDRAWN):
        if not note.strip():
            raise ValidationError({"note": _("Give the reason for ending the case.")})
        case.closed_from = case.status
    for _start, end_field, next_step in POSTINGS.values():
        posting_end = getattr(case, end_field)
        if to == next_step and posting_end and on <= posting_end:
            raise ValidationError(
                {"on": _("The posting runs until %(date)s; this step can only follow after it has ended.")
                 % {"date": f"{posting_end:%Y-%m-%d}"}}
            )  # fmt: skip
    if to in POSTINGS:
        start_field, end_field, _next = POSTINGS[to]
        start, end = step.get("posting_start"), step.get("posting_end")
        if not start or not end:
            raise ValidationError({"posting_start": _("Enter when the public posting starts and ends.")})
        check_date("posting_start", start, DUE)
        check_date("posting_end", end, DUE)
        if start < on:
            raise ValidationError({"posting_start": _("The posting starts on or after the date of this step.")})
        if (end - start).days + 1 < settings.RENOVATION_POSTING_DAYS:
            raise ValidationError(
                {"posting_end": _("A public posting lasts at least %(days)s days (both ends counted).")
                 % {"days": settings.RENOVATION_POSTING_DAYS}}
            )  # fmt: skip
        setattr(case, start_field, start)
        setattr(case, end_field, end)
    if to == S.ACCEPTED:
        writes = _accept(case, on, step)
    payment = None
    if to == S.PAID:
        amount, voucher = step.get("amount"), step.get("voucher_number", "").strip()
        if not amount or amount <= 0:
            raise ValidationError({"amount": _("Enter the amount paid.")})
        if not voucher:
            raise ValidationError({"voucher_number": _("Enter the payment voucher number.")})
        _check_subsidy(
            "amount", override, overridden,
            year=case.programme_year, renovation_type=case.renovation_type, amount=amount,
        )  # fmt: skip
        payment = SubsidyPayment(case=case, paid_on=on, amount=amount, voucher_number=voucher, recorded_by=actor)
    if to in CASE_STEPS:
        steps = CASE_STEPS if to == S.ARCHIVED else [to]
        _missing_or_override(case, steps, documents, override, overridden)

    CaseTransition.objects.create(
        case=case, from_status=case.status, to_status=to, on=on, actor=actor, note=note.strip(),
        override_reason=override_reason.strip() if overridden else "", overridden="\n".join(overridden),
    )  # fmt: skip
    webhooks.emit("case.moved", functools.partial(webhook_events.case_moved, case, case.status, to, on))
    case.status, case.status_on, case.last_activity_on = to, on, timezone.localdate()
    case._history_user = actor
    case.save()
    for dwelling, fields in writes:
        dwelling._history_user = actor
        dwelling.save(update_fields=fields)
    if writes:
        refresh_home_state(household_ids=[case.household_id])
    if payment is not None:
        payment._history_user = actor
        payment.save()
    _file_documents(actor, case, documents, to)
    if to in POSTINGS:
        from ..tasks import file_posting_notice as task

        enqueue_on_commit(task, case.pk, to, actor.pk)
    return case


POSTING_NOTICE_KINDS = {S.VILLAGE_ASSESSED: "village_posting_notice", S.TOWNSHIP_REVIEWED: "township_posting_notice"}


@transaction.atomic
def file_posting_notice(*, actor: AbstractBaseUser, case: RenovationCase, step: str) -> list[CaseDocument]:
    """File the posting notice (公示) of `case`'s `step` in the archive of every case posted with it, as it hangs
    once this case has joined the posting: each earlier copy of that notice is replaced (an archived folder is
    sealed and keeps its own). Run in the background after the step is recorded (move_case)."""
    kind = DocumentKind.objects.get(code=POSTING_NOTICE_KINDS[step])
    posted = list(paper.posting_cases(RenovationCase.objects.all(), case, step))
    content = paper.posting_notice_pdf(case, step, posted)
    open_cases = [posted_case for posted_case in posted if posted_case.status != S.ARCHIVED]
    superseded = CaseDocument.objects.filter(case__in=open_cases, kind=kind).select_related("attachment")
    for document in superseded:
        attachment = document.attachment
        document.delete()
        attachment.file.delete(save=False)
        attachment.delete()
    name = _("%(kind)s %(start)s.pdf") % {"kind": kind.name, "start": getattr(case, POSTINGS[step][0])}
    filed = []
    for posted_case in open_cases:
        uploaded = SimpleUploadedFile(name, content, content_type="application/pdf")
        attachment = add_attachment(
            actor=actor, record=posted_case, uploaded_file=uploaded, kind=Attachment.Kind.DOCUMENT, caption=kind.name
        )
        filed.append(CaseDocument.objects.create(case=posted_case, kind=kind, attachment=attachment, step=step))
    return filed


@transaction.atomic
def add_case_documents(*, actor: AbstractBaseUser, case: RenovationCase, documents: Documents) -> list[CaseDocument]:
    """File documents in a case's archive (checked by content, all or nothing); an archived file is sealed, while a
    rejected or withdrawn case still takes papers that explain the ending (check_case_documents)."""
    case = RenovationCase.objects.select_for_update().get(pk=case.pk)
    check_case_documents(actor, case)
    documents = _check_files(documents)
    if not documents:
        raise ValidationError({"documents": _("Choose at least one file.")})
    before = case.documents.count()
    _file_documents(actor, case, documents, case.status)
    return list(case.documents.order_by("pk")[before:])


@transaction.atomic
def record_construction_check(
    *, actor: AbstractBaseUser, case: RenovationCase, on: datetime.date, note: str, documents: Documents = ()
) -> CaseTransition:
    """A quality and safety check during construction (check_construction_check): a dated entry on the timeline,
    with its photos."""
    case = RenovationCase.objects.select_for_update().get(pk=case.pk)
    check_construction_check(actor, case)
    _check_date(on, case.status_on)
    if not note.strip():
        raise ValidationError({"note": _("Describe what the check found.")})
    documents = _check_files(documents)
    entry = CaseTransition.objects.create(
        case=case, from_status=case.status, to_status=case.status, on=on, actor=actor, note=note.strip()
    )
    case.last_activity_on = timezone.localdate()
    case._history_user = actor
    case.save(update_fields=["last_activity_on"])
    _file_documents(actor, case, documents, case.status)
    return entry


@transaction.atomic
def record_supplementary_payment(
    *,
    actor: AbstractBaseUser,
    case: RenovationCase,
    paid_on: datetime.date,
    amount: Decimal,
    voucher_number: str,
    reason: str,
) -> SubsidyPayment:
    """A second payment for a paid case: a bureau administrator's decision, with its reason
    (check_supplementary_payment)."""
    case = RenovationCase.objects.select_for_update().get(pk=case.pk)
    check_supplementary_payment(actor, case)
    first = case.payments.filter(is_supplementary=False).order_by("paid_on").first()
    _check_date(paid_on, first.paid_on if first else case.accepted_on, "paid_on")
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for the supplementary payment.")})
    if case.payments.filter(voucher_number=voucher_number.strip()).exists():
        raise ValidationError({"voucher_number": _("A payment with this voucher number is already recorded.")})
    payment = SubsidyPayment(
        case=case, paid_on=paid_on, amount=amount, voucher_number=voucher_number.strip(), is_supplementary=True,
        reason=reason.strip(), recorded_by=actor,
    )  # fmt: skip
    payment.full_clean()
    payment._history_user = actor
    payment.save()
    case.last_activity_on = timezone.localdate()
    case.save(update_fields=["last_activity_on"])
    return payment
