"""The year-end summary (工作总结, due 10 November): the year's campaign from 1 January, task by task and mechanism
by mechanism of the plan, the problems found and fixed this year, and what is still open.

Set-based: the stock figures are the consolidated report's (figures.township_table as of the day); the year's flows
are counts over the apps' own selectors with a date range, a fixed number of queries whatever the data.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from households.models import DepartmentList
from housing_safety.access import SYSTEM
from inspections import selectors as safety
from inspections.models import Grade
from inspections.selectors import HousingStatus
from rectification import selectors as rectification
from rectification.models import OPEN_COMPLAINT_STATUSES, ComplaintStatus, Problem, RenovationType

from .figures import township_table

FIXED = (Problem.Status.RESOLVED, Problem.Status.VERIFIED)


@dataclass(frozen=True)
class Section:
    heading: str | Promise  # the plan's own heading of the task or mechanism
    figures: tuple[tuple[str, str | Promise], ...]  # (key, label)


def year_end_due(year: int) -> datetime.date:
    """YEAR_END_SUMMARY_DUE (10 November) of `year`."""
    month, day = (int(part) for part in settings.YEAR_END_SUMMARY_DUE.split("-"))
    return datetime.date(year, month, day)


def year_bounds(year: int, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """1 January of `year` to today (this year) or 31 December (a past year)."""
    return datetime.date(year, 1, 1), min(today, datetime.date(year, 12, 31))


def _flows(start: datetime.date, day: datetime.date) -> dict:
    """What happened from `start` to `day`, for the whole city."""
    year = (start, day)
    covered = safety.covered_households_for_user(SYSTEM, day)
    households = covered.aggregate(
        households_new=Count("pk", filter=Q(registered_on__range=year)),
        base_village_households=Count("pk", filter=Q(village__is_revolutionary_base_village=True)),
        base_village_dangerous=Count(
            "pk", filter=Q(village__is_revolutionary_base_village=True, housing_status=HousingStatus.DANGEROUS)
        ),
        lives_in_old_dangerous=Count("pk", filter=Q(flag_owns_safe_but_lives_in_danger=True)),
    )
    appraisals = safety.appraisals_for_user(SYSTEM).aggregate(
        appraisals_year=Count("pk", filter=Q(appraised_on__range=year)),
        appraisals_dangerous_year=Count("pk", filter=Q(appraised_on__range=year, grade__in=[Grade.C, Grade.D])),
    )
    placards = safety.placards_for_user(SYSTEM).aggregate(
        placards_installed_year=Count("pk", filter=Q(installed_on__range=year))
    )
    revisits = safety.revisits_for_user(SYSTEM).aggregate(
        revisits_done_year=Count("pk", filter=Q(visited_on__range=year))
    )
    helper = safety.helper_reports_for_user(SYSTEM).aggregate(
        helper_reports_year=Count("pk", filter=Q(reported_at__date__range=year))
    )
    lists = DepartmentList.objects.aggregate(department_lists_year=Count("pk", filter=Q(uploaded_at__date__range=year)))
    cases = rectification.cases_for_user(SYSTEM).aggregate(
        cases_opened_year=Count("pk", filter=Q(created_at__date__range=year)),
        cases_accepted_year=Count("pk", filter=Q(accepted_on__range=year)),
        relocations_accepted_year=Count(
            "pk", filter=Q(accepted_on__range=year, renovation_type=RenovationType.RELOCATION)
        ),
    )
    paid = rectification.payments_for_user(SYSTEM).aggregate(subsidy_paid=Sum("amount", filter=Q(paid_on__range=year)))
    problems = rectification.problems_for_user(SYSTEM).aggregate(
        problems_found_year=Count("pk", filter=Q(created_at__date__range=year)),
        problems_fixed_year=Count("pk", filter=Q(status__in=FIXED, resolved_at__date__range=year)),
        problems_still_open=Count("pk", filter=Q(status__in=Problem.OPEN_STATUSES)),
        problems_overdue_now=Count("pk", filter=rectification.problem_overdue(day)),
    )
    complaints = rectification.complaints_for_user(SYSTEM)
    complaint_counts = complaints.aggregate(
        complaints_received_year=Count("pk", filter=Q(received_at__date__range=year)),
        complaints_closed_year=Count("pk", filter=Q(status=ComplaintStatus.CLOSED, closed_at__date__range=year)),
        complaints_still_open=Count("pk", filter=Q(status__in=OPEN_COMPLAINT_STATUSES)),
    )
    leads = rectification.leads_for_user(SYSTEM).aggregate(
        leads_sent_year=Count("pk", filter=Q(sent_on__range=year)),
        leads_to_discipline_year=Count("pk", filter=Q(sent_on__range=year, to_discipline=True)),
    )
    flows = {
        **households, **appraisals, **placards, **revisits, **helper, **lists, **cases, **problems,
        **complaint_counts, **leads,
    }  # fmt: skip
    flows["subsidy_paid_since_january"] = float(paid["subsidy_paid"] or 0)
    return flows


def problems_by_source(start: datetime.date, day: datetime.date) -> list[tuple[str, int, int]]:
    """(source, found this year, fixed this year) for each source of problems (revisit, helper, complaint ...)."""
    rows = (
        rectification.problems_for_user(SYSTEM)
        .values("source")
        .annotate(
            found=Count("pk", filter=Q(created_at__date__range=(start, day))),
            fixed=Count("pk", filter=Q(status__in=FIXED, resolved_at__date__range=(start, day))),
        )
        .order_by()
    )
    labels = dict(Problem.Source.choices)
    return [
        (str(labels.get(row["source"], row["source"])), row["found"], row["fixed"])
        for row in sorted(rows, key=lambda row: row["source"])
        if row["found"] or row["fixed"]
    ]


def problems_by_township(start: datetime.date, day: datetime.date) -> dict[int, dict]:
    """{township id: found, fixed this year; still open; overdue}."""
    rows = (
        rectification.problems_for_user(SYSTEM)
        .values("township_id")
        .annotate(
            found=Count("pk", filter=Q(created_at__date__range=(start, day))),
            fixed=Count("pk", filter=Q(status__in=FIXED, resolved_at__date__range=(start, day))),
            open=Count("pk", filter=Q(status__in=Problem.OPEN_STATUSES)),
            overdue=Count("pk", filter=rectification.problem_overdue(day)),
        )
        .order_by()
    )
    return {row.pop("township_id"): row for row in rows}


def fixed_problems(start: datetime.date, day: datetime.date):
    return (
        rectification.problems_for_user(SYSTEM)
        .filter(status__in=FIXED, resolved_at__date__range=(start, day))
        .select_related("township")
        .order_by("township__code", "resolved_at", "pk")
    )


def open_problems():
    return (
        rectification.problems_for_user(SYSTEM)
        .filter(status__in=Problem.OPEN_STATUSES)
        .select_related("township")
        .order_by("township__code", "deadline", "pk")
    )


SECTIONS = (
    Section(
        _("(1) New poor households' housing security on time (按时完成动态新增贫困户住房安全有保障任务)"),
        (
            ("households_new", _("Households added this year")),
            ("covered", _("Covered households")),
            ("appraisals_year", _("Appraisals made this year")),
            ("appraised", _("Appraised")),
            ("appraisal_overdue", _("Appraisal overdue")),
            ("cases_accepted_year", _("Renovations accepted this year")),
            ("placards_installed_year", _("Placards installed this year")),
            ("placard_share", _("Placard coverage")),
        ),
    ),
    Section(
        _("(2) Keep looking back at poor households' housing safety (持续开展贫困户住房安全“回头看”)"),
        (
            ("revisits_done_year", _("Revisits done this year")),
            ("revisits_overdue", _("Revisits overdue")),
            ("appraisals_dangerous_year", _("Houses found dangerous this year (C or D)")),
            ("dangerous_houses", _("Dangerous houses lived in")),
            ("lives_in_old_dangerous", _("Households with a safe house still living in an old dangerous one")),
        ),
    ),
    Section(
        _("(3) Complete the review and entry of housing-security information (全面完成住房安全有保障信息审核录入)"),
        (
            ("department_lists_year", _("Department lists received this year")),
            ("unappraised", _("Households not yet appraised")),
            ("secured_unappraised", _("Secured elsewhere, old house not appraised")),
        ),
    ),
    Section(
        _("(4) Speed up renovation and relocation; base villages' housing safety (加快危房改造和“造福工程”搬迁)"),
        (
            ("cases_opened_year", _("Renovation cases opened this year")),
            ("cases_open", _("Open cases")),
            ("relocations_accepted_year", _("Relocations (造福工程) accepted this year")),
            ("subsidy_paid_since_january", _("Subsidy paid since 1 January (yuan)")),
            ("base_village_households", _("Covered households in base villages")),
            ("base_village_dangerous", _("Of which in a dangerous house")),
        ),
    ),
    Section(
        _("Mechanism 1: information sharing (信息共享机制)"),
        (
            ("households_new", _("Households added this year")),
            ("appraisal_overdue", _("Appraisal overdue")),
            ("dangerous_without_case", _("Dangerous houses without a renovation case")),
        ),
    ),
    Section(
        _("Mechanism 2: follow-up revisits (跟踪回访机制)"),
        (
            ("revisits_done_year", _("Revisits done this year")),
            ("revisits_pending", _("Revisits to do")),
            ("placard_installed", _("With a current placard")),
        ),
    ),
    Section(
        _("Mechanism 3: dynamic monitoring (动态监测机制)"),
        (
            ("helper_reports_year", _("Helpers' reports this year")),
            ("lives_in_old_dangerous", _("Households with a safe house still living in an old dangerous one")),
        ),
    ),
    Section(
        _("Mechanism 4: reports and complaints (举报投诉机制)"),
        (
            ("complaints_received_year", _("Complaints received this year")),
            ("complaints_closed_year", _("Complaints closed this year")),
            ("complaints_still_open", _("Open complaints")),
            ("complaints_overdue", _("Complaints overdue")),
        ),
    ),
    Section(
        _("Problems found and fixed (问题整改)"),
        (
            ("problems_found_year", _("Problems found this year")),
            ("problems_fixed_year", _("Problems fixed this year")),
            ("problems_still_open", _("Problems still open")),
            ("problems_overdue_now", _("Problems overdue")),
            ("leads_sent_year", _("Leads transferred this year")),
            ("leads_to_discipline_year", _("Of which to the discipline inspection organs")),
        ),
    ),
)
MONEY = {"subsidy_paid_since_january"}
SHARES = {"placard_share"}


def year_end_summary(year: int, today: datetime.date) -> dict:
    """The summary of `year` as of today (or 31 December of a past year): sections of figures, problems by source
    and by township, and the township rows of the consolidated table."""
    start, day = year_bounds(year, today)
    rows, totals = township_table(SYSTEM, day)
    figures = {**totals, **_flows(start, day)}
    sections = [
        (
            section.heading,
            [(label, figures.get(key), "money" if key in MONEY else "share" if key in SHARES else "count")
             for key, label in section.figures],
        )
        for section in SECTIONS
    ]  # fmt: skip
    by_township = problems_by_township(start, day)
    empty = {"found": 0, "fixed": 0, "open": 0, "overdue": 0}
    townships = [
        {"township": row.area, "figures": row.figures, "problems": by_township.get(row.area.pk, empty)} for row in rows
    ]
    return {
        "year": year,
        "start": start,
        "day": day,
        "figures": figures,
        "sections": sections,
        "by_source": problems_by_source(start, day),
        "townships": townships,
    }
