"""The campaign's figures per township (or per village) and per unit, and the monthly trend.

Every figure is a GROUP BY over a shared selector of the app that owns the rule (status, overdue, stalled, ...),
read as the given user: a township's report carries exactly what its staff see. The number of queries is fixed
whatever the number of households.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import BigIntegerField, Count, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from households.models import Household, HouseholdCategory, Township, Unit, Village
from households.selectors import dwellings_for_user, townships_for_user, villages_for_user
from housing_safety.access import SYSTEM, narrowed_to_township, reader_for_unit, scope_of
from inspections import selectors as safety
from inspections.models import Grade
from inspections.selectors import HousingStatus
from rectification import selectors as rectification
from rectification.models import CASE_STEPS, CLOSED_CASE_STATUSES, OPEN_COMPLAINT_STATUSES, ComplaintStatus


@dataclass(frozen=True)
class Column:
    key: str
    label: str | Promise
    group: str | Promise
    kind: str = "count"  # "count", "money" (yuan) or "share" (0..1)


def _columns() -> list[Column]:
    covered, appraisal, status = _("Covered households"), _("Appraisal"), _("Housing security")
    dangerous, cases, placards = _("Dangerous houses"), _("Renovation"), _("Placards")
    revisits, problems, complaints, leads = _("Revisits"), _("Problem list"), _("Complaints"), _("Lead transfers")
    columns = [Column("covered", _("Covered households"), covered)]
    columns += [Column(f"category_{code}", label, covered) for code, label in HouseholdCategory.Code.choices]
    columns += [
        Column("appraised", _("Appraised"), appraisal),
        Column("secured_unappraised", _("Secured elsewhere, old house not appraised"), appraisal),
        Column("unappraised", _("Households not yet appraised"), appraisal),
        Column("appraisal_overdue", _("Appraisal overdue"), appraisal),
    ]
    columns += [Column(f"grade_{grade}", _("Grade %(grade)s houses") % {"grade": grade}, appraisal) for grade in Grade]
    columns += [Column(f"status_{value}", label, status) for value, label in HousingStatus.choices]
    columns += [
        Column("dangerous_houses", _("Dangerous houses lived in"), dangerous),
        Column("dangerous_with_case", _("With a renovation case"), dangerous),
        Column("dangerous_without_case", _("Without a renovation case"), dangerous),
        Column("dangerous_late", _("Without action past the deadline"), dangerous),
        Column("cases_open", _("Open cases"), cases),
    ]
    columns += [Column(f"step_{step}", step.label, cases) for step in CASE_STEPS]
    columns += [
        Column("cases_completed_month", _("Completed this month"), cases),
        Column("cases_stalled", _("Stalled cases"), cases),
        Column("renovations_late", _("Past the plan's 30 June"), cases),
        Column("subsidy_paid_month", _("Subsidy paid this month (yuan)"), cases, "money"),
        Column("subsidy_paid_year", _("Subsidy paid this year (yuan)"), cases, "money"),
        Column("placard_households", _("Households to placard"), placards),
        Column("placard_installed", _("With a current placard"), placards),
        Column("placard_share", _("Placard coverage"), placards, "share"),
        Column("placards_late", _("Past the deadline without a placard"), placards),
        Column("revisits_pending", _("Revisits to do"), revisits),
        Column("revisits_overdue", _("Revisits overdue"), revisits),
        Column("revisits_done", _("Revisits done"), revisits),
        Column("problems_open", _("Problems open"), problems),
        Column("problems_overdue", _("Problems overdue"), problems),
        Column("problems_closed", _("Problems closed"), problems),
        Column("complaints_received", _("Received this month"), complaints),
        Column("complaints_closed", _("Closed this month"), complaints),
        Column("complaints_open", _("Open complaints"), complaints),
        Column("complaints_overdue", _("Complaints overdue"), complaints),
        Column("leads_sent", _("Leads sent this month"), leads),
        Column("leads_received", _("Leads received this month"), leads),
        Column("leads_without_receipt", _("Leads without receipt"), leads),
    ]
    return columns


COLUMNS = _columns()
KEYS = [column.key for column in COLUMNS]
AREA_KEYS = [key for key in KEYS if not key.startswith("leads_")]
LEAD_KEYS = [key for key in KEYS if key.startswith("leads_")]

# Where each model keeps the township and the village of its record.
PATHS = {
    "township": {
        "household": "village__township_id",
        "dwelling": "household__village__township_id",
        "case": "township_id",
        "payment": "case__township_id",
        "revisit": "dwelling__household__village__township_id",
        "problem": "township_id",
        "complaint": "township_id",
    },
    "village": {
        "household": "village_id",
        "dwelling": "household__village_id",
        "case": "household__village_id",
        "payment": "case__household__village_id",
        "revisit": "dwelling__household__village_id",
        "problem": "household__village_id",
        "complaint": "village_id",
    },
    # The maintained rollup's grain (reporting.rollup): a record's township AND village as one number (place_key),
    # since a case or a problem keeps the township it was opened in while its household's village may be elsewhere,
    # and a problem or a complaint may have no village at all. Summed by township or by village, the rows give
    # exactly the "township" and "village" figures above.
    "place": dict.fromkeys(("household", "dwelling", "case", "payment", "revisit", "problem", "complaint"), "place"),
}
PLACE_BASE = 1_000_000_000  # place = township id × PLACE_BASE + village id (0 without a village)
PLACE_PATHS = {  # (township path, village path) of each model, for by="place"
    "household": ("village__township_id", "village_id"),
    "dwelling": ("household__village__township_id", "household__village_id"),
    "case": ("township_id", "household__village_id"),
    "payment": ("case__township_id", "case__household__village_id"),
    "revisit": ("dwelling__household__village__township_id", "dwelling__household__village_id"),
    "problem": ("township_id", "household__village_id"),
    "complaint": ("township_id", "village_id"),
}


def place_key(township_path: str, village_path: str) -> ExpressionWrapper:
    return ExpressionWrapper(
        F(township_path) * PLACE_BASE + Coalesce(F(village_path), 0), output_field=BigIntegerField()
    )


def split_place(place: int) -> tuple[int, int | None]:
    """(township id, village id or None) of a place key."""
    return place // PLACE_BASE, (place % PLACE_BASE) or None


def _at(queryset: QuerySet, by: str, model: str) -> QuerySet:
    """The queryset with its place key annotated when grouping by place (else unchanged)."""
    return queryset.annotate(place=place_key(*PLACE_PATHS[model])) if by == "place" else queryset


def appraised_filter() -> Q:
    """Households whose homes have an appraisal (已鉴定): the rule is the inspections app's (the field list filters
    by it too)."""
    return safety.appraised_filter()


def month_bounds(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first day of `day`'s month and `day` itself: "this month" as of that day."""
    return day.replace(day=1), day


def _merge(figures: dict, rows: dict, rename: dict[str, str]) -> None:
    for group, values in rows.items():
        target = figures.setdefault(group, dict.fromkeys(AREA_KEYS, 0))
        for source, key in rename.items():
            target[key] = values.get(source) or 0


def _grouped(queryset: QuerySet, by: str, **counts) -> dict:
    return {row.pop(by): row for row in queryset.values(by).annotate(**counts).order_by()}


def area_figures(user: AbstractBaseUser, *, by: str = "township", day: datetime.date | None = None) -> dict:
    """{township or village id: {figure key: value}} for every area with data in the user's scope, as of `day`.

    About twenty queries, each one GROUP BY, whatever the number of households. by="place" groups by township and
    village at once (keys from place_key: the maintained rollup's rows), one query more.
    """
    day = day or timezone.localdate()
    first, _last = month_bounds(day)
    path = PATHS[by]
    figures: dict = {}

    # One pass over the households: the status of each, and those whose appraisal is overdue.
    covered = _at(safety.covered_households_for_user(user, day), by, "household")
    per_status = {f"status_{value}": Count("pk", filter=Q(housing_status=value)) for value in HousingStatus.values}
    household_counts = _grouped(
        covered,
        path["household"],
        **per_status,
        appraisal_overdue=Count("pk", filter=safety.appraisal_overdue(day)),
        placards_late=Count("pk", filter=safety.placard_missing(day)),
        appraised=Count("pk", filter=appraised_filter()),
        secured_unappraised=Count("pk", filter=~appraised_filter() & Q(housing_status=HousingStatus.SECURED)),
    )
    counted = [*per_status, "appraisal_overdue", "placards_late", "appraised", "secured_unappraised"]
    _merge(figures, household_counts, {key: key for key in counted})
    for values in figures.values():
        values["covered"] = sum(values[f"status_{value}"] for value in HousingStatus.values)
        values["unappraised"] = values[f"status_{HousingStatus.UNAPPRAISED}"]
        # covered = appraised + unappraised + secured_unappraised: 保障安全 is not an appraisal (issue 24).
        values["placard_households"] = values["covered"]  # every covered household's house, whatever its status

    by_category = covered.values(path["household"], "categories__code").annotate(n=Count("pk"))
    for row in by_category.order_by():
        if row["categories__code"]:
            target = figures.setdefault(row[path["household"]], dict.fromkeys(AREA_KEYS, 0))
            target[f"category_{row['categories__code']}"] = row["n"]

    # One pass over the dwellings lived in: current grades, and dangerous ones without a renovation case.
    homes = dwellings_for_user(user).filter(is_occupied=True, household__status=Household.Status.ACTIVE)
    homes = _at(homes, by, "dwelling")
    per_grade = {f"grade_{grade}": Count("pk", filter=Q(current_grade=grade)) for grade in Grade}
    dwelling_counts = _grouped(
        homes,
        path["dwelling"],
        **per_grade,
        dangerous_without_case=Count("pk", filter=rectification.dangerous_without_case()),
        dangerous_late=Count("pk", filter=rectification.dangerous_action_overdue(day)),
    )
    _merge(figures, dwelling_counts, {key: key for key in [*per_grade, "dangerous_without_case", "dangerous_late"]})
    for values in figures.values():
        values["dangerous_houses"] = values[f"grade_{Grade.C}"] + values[f"grade_{Grade.D}"]
        values["dangerous_with_case"] = values["dangerous_houses"] - values["dangerous_without_case"]

    cases = _at(rectification.cases_for_user(user), by, "case")
    steps = cases.values(path["case"], "status").annotate(n=Count("pk")).order_by()
    for row in steps:
        if row["status"] in CASE_STEPS:
            figures.setdefault(row[path["case"]], dict.fromkeys(AREA_KEYS, 0))[f"step_{row['status']}"] = row["n"]
    case_counts = _grouped(
        cases,
        path["case"],
        open=Count("pk", filter=~Q(status__in=CLOSED_CASE_STATUSES)),
        completed=Count("pk", filter=Q(accepted_on__range=(first, day))),
        late=Count("pk", filter=rectification.renovation_plan_overdue(day)),
    )
    _merge(
        figures, case_counts, {"open": "cases_open", "completed": "cases_completed_month", "late": "renovations_late"}
    )
    stalled = rectification.stalled_cases(cases, day)
    _merge(figures, _grouped(stalled, path["case"], n=Count("pk")), {"n": "cases_stalled"})
    paid = _grouped(
        _at(rectification.payments_for_user(user), by, "payment"),
        path["payment"],
        month=Sum("amount", filter=Q(paid_on__range=(first, day))),
        year=Sum("amount", filter=Q(paid_on__range=(day.replace(month=1, day=1), day))),
    )
    _merge(figures, paid, {"month": "subsidy_paid_month", "year": "subsidy_paid_year"})

    placards = safety.installed_placard_counts(user, "village_id" if by == "place" else path["household"], day)
    if by == "place":  # grouped by the household's village: its township is the village's
        townships = dict(Village.objects.filter(pk__in=list(placards)).values_list("pk", "township_id"))
        placards = {townships[village] * PLACE_BASE + village: n for village, n in placards.items()}
    for group, n in placards.items():
        figures.setdefault(group, dict.fromkeys(AREA_KEYS, 0))["placard_installed"] = n
    revisits = safety.revisit_counts(_at(safety.revisits_for_user(user), by, "revisit"), path["revisit"], day)
    _merge(figures, revisits, {"pending": "revisits_pending", "overdue": "revisits_overdue", "done": "revisits_done"})
    problems = rectification.problem_counts(
        _at(rectification.problems_for_user(user), by, "problem"), path["problem"], day
    )
    for values in problems.values():
        values["closed"] = values["resolved"] + values["verified"]
    _merge(figures, problems, {"open": "problems_open", "overdue": "problems_overdue", "closed": "problems_closed"})

    complaints = _at(rectification.complaints_for_user(user), by, "complaint")
    complaint_counts = _grouped(
        complaints,
        path["complaint"],
        received=Count("pk", filter=Q(received_at__date__range=(first, day))),
        closed=Count("pk", filter=Q(status=ComplaintStatus.CLOSED, closed_at__date__range=(first, day))),
        open=Count("pk", filter=Q(status__in=OPEN_COMPLAINT_STATUSES)),
    )
    rename = {"received": "complaints_received", "closed": "complaints_closed", "open": "complaints_open"}
    _merge(figures, complaint_counts, rename)
    late = rectification.overdue_complaints(complaints, day)
    _merge(figures, _grouped(late, path["complaint"], n=Count("pk")), {"n": "complaints_overdue"})

    for values in figures.values():
        values["subsidy_paid_month"] = float(values["subsidy_paid_month"])
        values["subsidy_paid_year"] = float(values["subsidy_paid_year"])
    figures.pop(None, None)  # records without a village (a township-wide problem) count only by township
    return figures


def lead_figures(user: AbstractBaseUser, day: datetime.date | None = None) -> dict[int, dict]:
    """{unit id: leads sent and received this month, and sent leads still without receipt}."""
    day = day or timezone.localdate()
    first, _last = month_bounds(day)
    leads = rectification.leads_for_user(user)
    figures: dict[int, dict] = {}
    counted = (
        (leads.filter(sent_on__range=(first, day)), "from_unit_id", "leads_sent"),
        (leads.filter(sent_on__range=(first, day), to_unit__isnull=False), "to_unit_id", "leads_received"),
        (rectification.leads_without_receipt(leads, day), "from_unit_id", "leads_without_receipt"),
    )
    for queryset, unit_path, key in counted:
        for unit_id, n in queryset.values_list(unit_path).annotate(n=Count("pk")).order_by():
            figures.setdefault(unit_id, dict.fromkeys(LEAD_KEYS, 0))[key] = n
    return figures


def _add_shares(values: dict) -> dict:
    households = values["placard_households"]
    values["placard_share"] = values["placard_installed"] / households if households else None
    return values


def total(rows: list[dict]) -> dict:
    summed = {key: sum(row[key] or 0 for row in rows) for key in KEYS}
    return _add_shares(summed)


@dataclass
class AreaRow:
    area: Township | Village
    figures: dict


def township_table(
    user: AbstractBaseUser, day: datetime.date | None = None, *, rollup: bool = False
) -> tuple[list[AreaRow], dict]:
    """One row per township in the user's scope (leads counted for the township's unit), and the total. With
    `rollup` (reporting.rollup.current said it holds this user's figures for `day`), the areas' figures are one
    query over the maintained rollup instead of some twenty over the records."""
    day = day or timezone.localdate()
    if rollup:
        from reporting import rollup as rollups

        scope = scope_of(user)
        by_township = rollups.summed(by="township", township_ids=None if scope.everything else scope.township_ids)
    else:
        by_township = area_figures(user, by="township", day=day)
    leads = lead_figures(user, day)
    empty_area, empty_leads = dict.fromkeys(AREA_KEYS, 0), dict.fromkeys(LEAD_KEYS, 0)
    rows = []
    for township in townships_for_user(user).select_related("unit"):
        unit = getattr(township, "unit", None)
        values = {**by_township.get(township.pk, empty_area), **leads.get(unit.pk if unit else None, empty_leads)}
        rows.append(AreaRow(township, _add_shares(values)))
    return rows, total([row.figures for row in rows])


def village_table(
    user: AbstractBaseUser, township: Township, day: datetime.date | None = None, *, rollup: bool = False
) -> tuple[list[AreaRow], dict]:
    """One row per village of a township with data, and the total (with the township unit's leads, which belong to
    no village). `rollup` as for township_table."""
    reader = narrowed_to_township(user, township.pk)  # a township outside the user's scope is a 404 either way
    if rollup:
        from reporting import rollup as rollups

        by_village = rollups.summed(by="village", township_id=township.pk)
    else:
        by_village = area_figures(reader, by="village", day=day)
    empty = dict.fromkeys(KEYS, 0)
    rows = [
        AreaRow(village, _add_shares({**empty, **by_village[village.pk]}))
        for village in villages_for_user(user).filter(township=township).order_by("code", "name")
        if village.pk in by_village
    ]
    totals = total([row.figures for row in rows])
    unit = Unit.objects.filter(township=township).first()  # leads are the township unit's, not a village's
    totals.update(lead_figures(user, day).get(unit.pk if unit else None, dict.fromkeys(LEAD_KEYS, 0)))
    return rows, totals


def figures_for_units(units, day: datetime.date | None = None) -> dict[int, dict]:
    """{unit id: the figures of its report}: its area as its own people see it (a township's staff, a department's
    liaison, the whole bureau) and the leads it sent and received.

    A township staff's scope is exactly their township, so with several township units the city is grouped by
    township once (about twenty queries) instead of once per unit; departments are read through their own scope.
    """
    day = day or timezone.localdate()
    units = list(units)
    leads = lead_figures(SYSTEM, day)
    city = None
    if len(units) > 1 or any(unit.kind == Unit.Kind.BUREAU for unit in units):
        city = area_figures(SYSTEM, by="township", day=day)
    zeros = dict.fromkeys(KEYS, 0)
    result = {}
    for unit in units:
        if unit.kind == Unit.Kind.BUREAU:
            areas = list(city.values())
        elif unit.kind == Unit.Kind.TOWNSHIP and city is not None:
            areas = [city.get(unit.township_id, {})]
        else:
            areas = list(area_figures(reader_for_unit(unit), by="township", day=day).values())
        figures = total([{**zeros, **area} for area in areas])
        figures.update(leads.get(unit.pk, dict.fromkeys(LEAD_KEYS, 0)))
        result[unit.pk] = figures
    return result


def unit_figures(unit: Unit, day: datetime.date | None = None) -> dict:
    """The figures of one unit's report (see figures_for_units)."""
    return figures_for_units([unit], day)[unit.pk]


def made_safe_by_month(
    user: AbstractBaseUser, day: datetime.date | None = None, months: int = 12, township: Township | None = None
) -> list[dict]:
    """Houses made safe per month over the last `months`: renovations accepted and households secured elsewhere
    (in one township when given)."""
    day = day or timezone.localdate()
    start = day.replace(day=1) - relativedelta(months=months - 1)
    cases = rectification.cases_for_user(user)
    secured = safety.secured_housing_for_user(user)
    if township is not None:
        cases = cases.filter(township=township)
        secured = secured.filter(household__village__township=township)
    accepted = dict(
        cases.filter(accepted_on__range=(start, day))
        .annotate(month=TruncMonth("accepted_on"))
        .values_list("month")
        .annotate(n=Count("pk"))
        .order_by()
    )
    secured = dict(
        secured.filter(since__range=(start, day))
        .annotate(month=TruncMonth("since"))
        .values_list("month")
        .annotate(n=Count("pk"))
        .order_by()
    )
    result = []
    for offset in range(months):
        month = start + relativedelta(months=offset)
        result.append({"month": month, "renovated": accepted.get(month, 0), "secured": secured.get(month, 0)})
    return result
