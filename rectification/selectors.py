from __future__ import annotations

import datetime
import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    When,
)
from django.db.models.functions import Cast
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from households.identity import half_width
from households.models import Dwelling, Household, Unit
from households.selectors import dwellings_for_user, townships_for_user
from housing_safety.access import Role, scope_of
from inspections.models import DANGEROUS_GRADES
from inspections.selectors import secured_on, yearly_due, yearly_due_passed_cutoff, yearly_due_year

from .models import (
    CASE_STEPS,
    CLOSED_CASE_STATUSES,
    CaseDocument,
    CaseStatus,
    Complaint,
    ComplaintStatus,
    DocumentKind,
    LeadTransfer,
    PlanItem,
    Problem,
    RenovationCase,
    SubsidyPayment,
)


def problems_for_user(user: AbstractBaseUser) -> QuerySet[Problem]:
    """The bureau sees every township's problems; township staff their own townships'; other roles none."""
    scope = scope_of(user)
    if not user.has_perm("rectification.view_problem"):
        return Problem.objects.none()
    problems = Problem.objects.select_related("township", "household__village", "dwelling", "plan_item")
    return problems if scope.everything else problems.filter(township_id__in=scope.township_ids)


def problem_plan_items() -> list[PlanItem]:
    """The plan's tasks and mechanisms a problem can fall under (the problem list's 任务/机制), in the plan's order."""
    items = PlanItem.objects.filter(kind__in=[PlanItem.Kind.TASK, PlanItem.Kind.MECHANISM])
    return list(items.order_by("-kind", "number"))


def problem_counts(problems: QuerySet[Problem], by: str, today: datetime.date | None = None) -> dict:
    """{group: {"open", "overdue", "resolved", "verified"}} in one GROUP BY, grouped by a problem path."""
    still_open = Q(status__in=Problem.OPEN_STATUSES)
    rows = (
        problems.values(by)
        .annotate(
            open=Count("pk", filter=still_open),
            overdue=Count("pk", filter=problem_overdue(today)),
            resolved=Count("pk", filter=Q(status=Problem.Status.RESOLVED)),
            verified=Count("pk", filter=Q(status=Problem.Status.VERIFIED)),
        )
        .order_by()
    )
    return {row.pop(by): row for row in rows}


def problem_overdue(today: datetime.date | None = None) -> Q:
    """Still open after its deadline."""
    return Q(status__in=Problem.OPEN_STATUSES, deadline__lt=today or timezone.localdate())


def problem_unowned() -> Q:
    """Still open without a responsible person (the plan's "明确时间表和责任人"; the deadline is required, so a
    problem lacks at most the person)."""
    return Q(status__in=Problem.OPEN_STATUSES, responsible_person="")


def problem_counts_by_township(
    user: AbstractBaseUser, today: datetime.date | None = None, *, problems: QuerySet[Problem] | None = None
) -> list[dict]:
    """Open, overdue and closed problems per township: of `problems` (a filtered list) when given, else of all the
    user's."""
    by_township = problem_counts(problems_for_user(user) if problems is None else problems, "township_id", today)
    empty = {"open": 0, "overdue": 0, "resolved": 0, "verified": 0}
    return [{"township": t, **by_township.get(t.pk, empty)} for t in townships_for_user(user)]


# Renovation cases -------------------------------------------------------------------------------------------


def cases_for_user(user: AbstractBaseUser) -> QuerySet[RenovationCase]:
    """The bureau sees every township's cases; township staff their own townships'; other roles none."""
    if not user.has_perm("rectification.view_renovationcase"):
        return RenovationCase.objects.none()
    scope = scope_of(user)
    cases = RenovationCase.objects.select_related("township", "household__village", "dwelling")
    return cases if scope.everything else cases.filter(township_id__in=scope.township_ids)


def payments_for_user(user: AbstractBaseUser) -> QuerySet[SubsidyPayment]:
    if not user.has_perm("rectification.view_subsidypayment"):
        return SubsidyPayment.objects.none()
    return SubsidyPayment.objects.filter(case__in=cases_for_user(user).values("pk")).select_related(
        "case__household", "recorded_by"
    )


def open_cases(cases: QuerySet[RenovationCase]) -> QuerySet[RenovationCase]:
    return cases.exclude(status__in=CLOSED_CASE_STATUSES)


def dangerous_without_case_for_user(user: AbstractBaseUser) -> QuerySet[Dwelling]:
    """Dwellings that covered households live in, currently graded C or D, with no open renovation case."""
    dwellings = dwellings_for_user(user).filter(is_occupied=True, household__status=Household.Status.ACTIVE)
    return dwellings.filter(dangerous_without_case()).select_related("household__village__township")


def dangerous_without_case() -> Q:
    """A dwelling currently graded C or D with no open renovation case (for dwellings lived in)."""
    has_open_case = open_cases(RenovationCase.objects.filter(dwelling=OuterRef("pk")))
    return Q(current_grade__in=DANGEROUS_GRADES) & ~Exists(has_open_case)


def dangerous_action_cutoff(today: datetime.date) -> datetime.date:
    """The last appraisal date whose DANGEROUS_ACTION_DAYS have run out before `today`."""
    return today - datetime.timedelta(days=settings.DANGEROUS_ACTION_DAYS + 1)


def dangerous_action_overdue(today: datetime.date | None = None) -> Q:
    """ "一经鉴定为危房，即行整改": a dwelling graded C or D more than DANGEROUS_ACTION_DAYS ago (by its current, newest
    appraisal) with no open renovation case, whose household does not live safely elsewhere (保障安全). For
    dwellings lived in by covered households (the list of dangerous houses without a case)."""
    today = today or timezone.localdate()
    graded_long_ago = Q(current_graded_on__lte=dangerous_action_cutoff(today))  # its newest appraisal's date, stored
    return dangerous_without_case() & graded_long_ago & ~Q(household_id__in=secured_on(today))


def with_action_due(dwellings: QuerySet[Dwelling], today: datetime.date | None = None) -> QuerySet[Dwelling]:
    """Annotate `graded_on`, the date of the current appraisal (the action is due DANGEROUS_ACTION_DAYS later,
    action_due_on), and `action_overdue` (dangerous_action_overdue), in the same query."""
    return dwellings.annotate(
        graded_on=F("current_graded_on"),
        action_overdue=ExpressionWrapper(dangerous_action_overdue(today), output_field=BooleanField()),
    )


def action_due_on(graded_on: datetime.date) -> datetime.date:
    return graded_on + datetime.timedelta(days=settings.DANGEROUS_ACTION_DAYS)


def dangerous_late_for_user(user: AbstractBaseUser, today: datetime.date | None = None) -> QuerySet[Dwelling]:
    late = dangerous_without_case_for_user(user).filter(dangerous_action_overdue(today))
    return late.annotate(graded_on=F("current_graded_on"))


def renovation_due_on(registered_on: datetime.date) -> datetime.date:
    """ "动态新增各类贫困户危房改造任务……6月底前全面完成": a new household's renovation is due by 30 June
    (RENOVATION_DEADLINE) of the year it was registered, or of the next year if registered after June."""
    return yearly_due(registered_on, settings.RENOVATION_DEADLINE)


def renovation_plan_overdue(today: datetime.date | None = None) -> Q:
    """Open cases not yet accepted whose household's renovation_due_on has passed, for houses found dangerous by
    that deadline (the plan's first-half task of new households, "上半年完成新增危房改造扫尾任务"; a house found
    dangerous later falls under "即行整改": the action deadline, then the stalled-case rule)."""
    today = today or timezone.localdate()
    month_day = settings.RENOVATION_DEADLINE
    found_by_the_deadline = LessThanOrEqual(
        yearly_due_year("trigger_appraisal__appraised_on", month_day),
        yearly_due_year("household__registered_on", month_day),
    )
    return (
        ~Q(status__in=CLOSED_CASE_STATUSES)
        & Q(accepted_on__isnull=True, household__registered_on__lte=yearly_due_passed_cutoff(today, month_day))
        & Q(found_by_the_deadline)
    )


def with_renovation_due(cases: QuerySet[RenovationCase]) -> QuerySet[RenovationCase]:
    return cases.annotate(registered_on=F("household__registered_on"))


def stalled_cases(cases: QuerySet[RenovationCase], today: datetime.date | None = None) -> QuerySet[RenovationCase]:
    """Open cases without a step or check for RENOVATION_STALLED_DAYS, and accepted cases whose subsidy is past
    RENOVATION_PAYMENT_DAYS."""
    today = today or timezone.localdate()
    quiet_since = today - datetime.timedelta(days=settings.RENOVATION_STALLED_DAYS)
    unpaid_since = today - datetime.timedelta(days=settings.RENOVATION_PAYMENT_DAYS)
    return open_cases(cases).filter(
        Q(last_activity_on__lt=quiet_since) | Q(status=CaseStatus.ACCEPTED, accepted_on__lt=unpaid_since)
    )


def with_stalled_due(cases: QuerySet[RenovationCase]) -> QuerySet[RenovationCase]:
    """Annotate `stalled_due`: the day an accepted case's subsidy was due, or the day another open case's quiet
    spell ran out (see stalled_cases)."""
    payment = datetime.timedelta(days=settings.RENOVATION_PAYMENT_DAYS)
    quiet = datetime.timedelta(days=settings.RENOVATION_STALLED_DAYS)
    due = Case(
        When(status=CaseStatus.ACCEPTED, accepted_on__isnull=False, then=F("accepted_on") + payment),
        default=F("last_activity_on") + quiet,
    )
    return cases.annotate(stalled_due=Cast(due, DateField()))  # PostgreSQL's date + interval is a timestamp


def progress_by_township(user: AbstractBaseUser) -> list[dict]:
    """Per township in scope: how many cases are at each step, in one GROUP BY."""
    rows = cases_for_user(user).values("township_id", "status").annotate(n=Count("pk")).order_by()
    counts: dict[int, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(row["township_id"], {})[row["status"]] = row["n"]
    return [
        {"township": t, "counts": [(s, counts.get(t.pk, {}).get(s, 0)) for s in CaseStatus.values]}
        for t in townships_for_user(user)
    ]


def archive_completeness(cases: QuerySet[RenovationCase]) -> dict[int, dict]:
    """For each case: its township, the required documents of the steps it has reached, those present and
    those missing.

    Three queries whatever the number of cases (the cases, the kinds, the distinct kinds filed per case); the
    rest is set arithmetic on small integers (20,000 cases with 176,000 documents: about 0.5 s on PostgreSQL).
    """
    kinds = list(DocumentKind.objects.filter(is_required=True))
    position = {step: index for index, step in enumerate(CASE_STEPS)}
    required_at = [[kind for kind in kinds if position[kind.step] <= index] for index in range(len(CASE_STEPS))]
    rows = cases.order_by().values_list("pk", "township_id", "status", "closed_from")
    filed: dict[int, set[int]] = {}
    pairs = CaseDocument.objects.filter(case__in=cases.values("pk")).values_list("case_id", "kind_id")
    for case_id, kind_id in pairs.distinct().order_by():
        filed.setdefault(case_id, set()).add(kind_id)
    ended = (CaseStatus.REJECTED, CaseStatus.WITHDRAWN)
    result = {}
    for pk, township_id, status, closed_from in rows:
        reached = position.get(closed_from if status in ended else status)
        required = required_at[reached] if reached is not None else []
        present = filed.get(pk, set())
        missing = [kind for kind in required if kind.pk not in present]
        done = len(required) - len(missing)
        result[pk] = {
            "township_id": township_id,
            "required": len(required),
            "present": done,
            "missing": missing,
            "percent": round(100 * done / len(required)) if required else 100,
        }
    return result


def archive_by_township(user: AbstractBaseUser, completeness: dict[int, dict] | None = None) -> list[dict]:
    """Per township: cases, required and present documents, the share complete, and cases with gaps."""
    if completeness is None:
        completeness = archive_completeness(cases_for_user(user))
    totals: dict[int, dict] = {}
    for row in completeness.values():
        total = totals.setdefault(row["township_id"], {"cases": 0, "required": 0, "present": 0, "incomplete": 0})
        total["cases"] += 1
        total["required"] += row["required"]
        total["present"] += row["present"]
        total["incomplete"] += bool(row["missing"])
    empty = {"cases": 0, "required": 0, "present": 0, "incomplete": 0}
    result = []
    for township in townships_for_user(user):
        total = totals.get(township.pk, empty)
        percent = round(100 * total["present"] / total["required"]) if total["required"] else None
        result.append({"township": township, **total, "percent": percent})
    return result


def subsidy_totals(user: AbstractBaseUser) -> list[dict]:
    """Per programme year and township: cases, planned subsidy (cases not rejected or withdrawn) and paid."""
    cases = cases_for_user(user).exclude(status__in=[CaseStatus.REJECTED, CaseStatus.WITHDRAWN])
    planned = cases.values("programme_year", "township_id").annotate(cases=Count("pk"), planned=Sum("planned_subsidy"))
    paid = (
        SubsidyPayment.objects.filter(case__in=cases_for_user(user).values("pk"))
        .values("case__programme_year", "case__township_id")
        .annotate(paid=Sum("amount"), payments=Count("pk"))
        .order_by()
    )
    paid_by = {(row["case__programme_year"], row["case__township_id"]): row for row in paid}
    townships = {t.pk: t for t in townships_for_user(user)}
    rows = []
    for row in planned.order_by("-programme_year", "township__code"):
        key = (row["programme_year"], row["township_id"])
        money = paid_by.get(key, {})
        rows.append(
            {
                "year": row["programme_year"],
                "township": townships.get(row["township_id"]),
                "cases": row["cases"],
                "planned": row["planned"],
                "paid": money.get("paid") or 0,
                "payments": money.get("payments", 0),
            }
        )
    return rows


# Complaints and leads ---------------------------------------------------------------------------------------


def can_view_reporter(user: AbstractBaseUser) -> bool:
    """Only complaint clerks and bureau administrators see who complained."""
    return bool(user and user.has_perm("rectification.view_reporter"))


def complaints_for_user(user: AbstractBaseUser) -> QuerySet[Complaint]:
    """The complaint desk and the bureau see all; township staff their townships' complaints and those assigned
    to them; other roles none."""
    if not user.has_perm("rectification.view_complaint"):
        return Complaint.objects.none()
    complaints = Complaint.objects.select_related("township", "village", "household", "handler")
    scope = scope_of(user)
    if scope.everything:
        return complaints
    assigned = Q(handler_id=user.pk) if user.pk else Q(pk__in=[])  # a ScopeReader (a job) has no assignments
    return complaints.filter(Q(township_id__in=scope.township_ids) | assigned)


_TICKET = re.compile(r"^(?:TS)?[\s\-_]*(\d{4})[\s\-_]*(\d{1,6})$")


def ticket_from_text(text: str) -> str | None:
    """A ticket as people type it: any case, with or without dashes or spaces, full-width digits, leading zeros
    dropped (ts-2026-12, TS2026000012, ２０２６－０００１２) -> TS-2026-000012; None if it is not one."""
    match = _TICKET.match(re.sub(r"\s+", "", half_width(text or "")).upper())
    if not match:
        return None
    return f"TS-{match.group(1)}-{int(match.group(2)):06d}"


def search_complaints(user: AbstractBaseUser, complaints: QuerySet[Complaint], term: str) -> QuerySet[Complaint]:
    """A ticket however it was typed, or the sending platform's ticket (external_ticket, e.g. the 12345 hotline's)
    as typed; otherwise every word in the content, the village or township, and, for the roles that may see the
    reporter, the reporter's name or whole phone number."""
    term = half_width(term or "").strip()
    if not term:
        return complaints
    ticket = ticket_from_text(term)
    if ticket:
        return complaints.filter(ticket=ticket)
    reporter = can_view_reporter(user)
    words = Q()
    for word in term.split():
        match = Q(content__icontains=word) | Q(village__name__icontains=word) | Q(township__name__icontains=word)
        if reporter:
            match |= Q(reporter_name__icontains=word) | Q(reporter_phone=word)
        words &= match
    return complaints.filter(Q(external_ticket=term) | words)  # the platform's number exactly, or the words


def complaint_handlers(complaint: Complaint) -> QuerySet:
    """Active users who may handle this complaint: the bureau's, and the staff of the complaint's township."""
    bureau = Q(profile__role__in=[Role.BUREAU_ADMIN, Role.BUREAU_OFFICIAL])
    township = Q(profile__role=Role.TOWNSHIP_STAFF, profile__townships=complaint.township_id)
    users = get_user_model().objects.filter(is_active=True)
    return users.filter(bureau | township if complaint.township_id else bureau).distinct().order_by("username")


def overdue_complaints(complaints: QuerySet[Complaint], today: datetime.date | None = None) -> QuerySet[Complaint]:
    """Past the acceptance decision (still received) or past handling (accepted, assigned or being handled)."""
    today = today or timezone.localdate()
    return complaints.filter(
        Q(status=ComplaintStatus.RECEIVED, acceptance_due__lt=today)
        | Q(
            status__in=[ComplaintStatus.ACCEPTED, ComplaintStatus.ASSIGNED, ComplaintStatus.HANDLING],
            handling_due__lt=today,
        )
    )


def leads_for_user(user: AbstractBaseUser) -> QuerySet[LeadTransfer]:
    """The complaint desk and the bureau see every lead; a department liaison their own unit's."""
    if not user.has_perm("rectification.view_leadtransfer"):
        return LeadTransfer.objects.none()
    leads = LeadTransfer.objects.select_related("from_unit", "to_unit", "complaint", "problem")
    scope = scope_of(user)
    if scope.everything:
        return leads
    if scope.unit_id:
        return leads.filter(Q(from_unit_id=scope.unit_id) | Q(to_unit_id=scope.unit_id))
    return leads.none()


def leads_without_receipt(leads: QuerySet[LeadTransfer], today: datetime.date | None = None):
    today = today or timezone.localdate()
    since = today - datetime.timedelta(days=settings.LEAD_RECEIPT_DAYS)
    return leads.filter(direction=LeadTransfer.Direction.OUTGOING, receipt_on__isnull=True, sent_on__lt=since)


def quarter_bounds(year: int, quarter: int) -> tuple[datetime.date, datetime.date]:
    if quarter not in (1, 2, 3, 4):
        raise ValueError("quarter must be 1-4")
    first = datetime.date(year, 3 * quarter - 2, 1)
    last = datetime.date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1) - datetime.timedelta(1)
    return first, last


def lead_counts_by_unit(year: int, quarter: int) -> list[dict]:
    """Per participating unit, for leads sent in the quarter: outgoing (to units, to discipline inspection),
    incoming, receipts confirmed, without receipt, with feedback. One GROUP BY per direction."""
    first, last = quarter_bounds(year, quarter)
    leads = LeadTransfer.objects.filter(sent_on__range=(first, last))
    out = {
        row["from_unit_id"]: row
        for row in leads.values("from_unit_id")
        .annotate(
            outgoing=Count("pk"),
            to_discipline=Count("pk", filter=Q(to_discipline=True)),
            receipted=Count("pk", filter=Q(receipt_on__isnull=False)),
            unreceipted=Count("pk", filter=Q(receipt_on__isnull=True)),
            feedback=Count("pk", filter=Q(feedback_on__isnull=False)),
        )
        .order_by()
    }
    incoming = dict(leads.filter(to_unit__isnull=False).values_list("to_unit_id").annotate(n=Count("pk")).order_by())
    rows = []
    involved = set(out) | set(incoming)  # a unit deactivated since still counts in the quarters it took part in
    for unit in Unit.objects.filter(Q(is_active=True) | Q(pk__in=involved)).order_by("kind", "pk"):
        counts = out.get(unit.pk, {})
        row = {
            "unit": unit,
            "outgoing": counts.get("outgoing", 0),
            "to_discipline": counts.get("to_discipline", 0),
            "incoming": incoming.get(unit.pk, 0),
            "receipted": counts.get("receipted", 0),
            "unreceipted": counts.get("unreceipted", 0),
            "feedback": counts.get("feedback", 0),
        }
        rows.append(row)
    return rows
