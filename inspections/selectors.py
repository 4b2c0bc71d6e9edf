"""Reads about housing safety that every screen shares: each household's status, derived in the database.

The status is never typed in. The state of the homes a household lives in is derived from its dwellings' newest
appraisals and stored by the services whenever either changes (households.services.refresh_home_state); living
safely elsewhere depends on the day and is added here. Lists, counts and exports read it in one statement over
any number of households.
"""

from __future__ import annotations

import datetime
import functools

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import ExtractYear
from django.utils import timezone
from django.utils.translation import gettext as _

from households.models import Attachment, Dwelling, Household, HousingStatus
from households.selectors import attachments_for_user, household_scope_filter, households_for_user, townships_for_user
from housing_safety.access import Role, scope_of
from housing_safety.people import person_name

from . import grading
from .models import Appraisal, HelperReport, Placard, Revisit, SecuredHousing

SAFE_STATUSES = (HousingStatus.APPRAISED_SAFE, HousingStatus.RENOVATED_SAFE, HousingStatus.SECURED)


def current_appraisal(field: str = "pk", dwelling=None) -> Subquery:
    """`field` of the dwelling's newest appraisal (by date, then by entry)."""
    newest = Appraisal.objects.filter(dwelling=dwelling if dwelling is not None else OuterRef("pk"))
    return Subquery(newest.order_by("-appraised_on", "-pk").values(field)[:1])


def last_appraisal_id(dwelling=None) -> Subquery:
    """The id of the dwelling's last recorded appraisal: any new record moves it, whatever its date."""
    appraisals = Appraisal.objects.filter(dwelling=dwelling if dwelling is not None else OuterRef("pk"))
    return Subquery(appraisals.order_by("-pk").values("pk")[:1])


def last_appraisal(dwelling: Dwelling) -> Appraisal | None:
    return Appraisal.objects.filter(dwelling=dwelling).select_related("recorded_by").order_by("-pk").first()


def appraisal_version(appraisal_id: int | None) -> str:
    """The version of a house's appraisals an offline entry is based on (the field app's `based_on`): its last
    recorded appraisal's id, "a:12", or "a:" when it has none."""
    return f"a:{appraisal_id}" if appraisal_id else "a:"


def with_current_appraisal(dwellings: QuerySet[Dwelling]) -> QuerySet[Dwelling]:
    """The newest appraisal's id, for pages that link to it; its grade is stored on the dwelling (current_grade)."""
    return dwellings.annotate(current_appraisal_id=current_appraisal("pk"))


def _active_on(today: datetime.date) -> Q:
    return Q(since__lte=today) & (Q(until__isnull=True) | Q(until__gte=today))


def _active_secured_housing(today: datetime.date) -> QuerySet[SecuredHousing]:
    return SecuredHousing.objects.filter(_active_on(today), household=OuterRef("pk"))


def secured_on(today: datetime.date) -> QuerySet:
    """Ids of households living safely elsewhere on `today`: an uncorrelated subquery, hashed once per query."""
    return SecuredHousing.objects.filter(_active_on(today)).values("household_id")


def with_housing_status(households: QuerySet[Household], today: datetime.date | None = None) -> QuerySet[Household]:
    """Annotate `housing_status`: secured (lives safely elsewhere on `today`), else the stored state of its homes.

    The home state (dangerous > not yet appraised > renovated safe > appraised safe) and the plan's three flags
    are stored on the household by households.services.refresh_home_state whenever a dwelling or an appraisal
    changes, so this is a column read plus one hashed subquery, whatever the number of households.
    """
    today = today or timezone.localdate()
    return households.annotate(
        housing_status=Case(
            When(pk__in=secured_on(today), then=Value(HousingStatus.SECURED)),
            default=F("home_status"),
            output_field=models.CharField(),
        )
    )


def status_filter(status: str, today: datetime.date | None = None) -> Q:
    """Households with `status` on `today`, as a Q on stored columns that an index can serve."""
    secured = Q(pk__in=secured_on(today or timezone.localdate()))
    return secured if status == HousingStatus.SECURED else Q(home_status=status) & ~secured


def appraised_filter() -> Q:
    """Households whose homes have an appraisal (已鉴定), on covered households (annotated with their status): the
    homes they live in are appraised (their stored state is not 未鉴定), or, living safely elsewhere (保障安全), one
    of their houses was appraised. Living safely elsewhere is not an appraisal: a secured household whose house was
    never appraised is its own figure, 保障安全（未鉴定旧房）. The dashboard's figure and the field list's filter."""
    secured = Q(housing_status=HousingStatus.SECURED)
    appraised_house = Exists(Dwelling.objects.filter(household=OuterRef("pk"), current_grade__isnull=False))
    return (~secured & ~Q(home_status=HousingStatus.UNAPPRAISED)) | (secured & appraised_house)


def covered_households_for_user(user: AbstractBaseUser, today: datetime.date | None = None) -> QuerySet[Household]:
    """The user's households still on the covered list, with their status."""
    households = households_for_user(user).filter(status=Household.Status.ACTIVE)
    return with_housing_status(households, today)


def status_counts(households: QuerySet[Household], by: str, today: datetime.date | None = None) -> dict:
    """{group value: {status: count}}, e.g. by="village__township_id", in two GROUP BY queries: the stored home
    states, then the few households living safely elsewhere on `today`, moved to 保障安全.

    Grouping on the stored column lets PostgreSQL estimate the groups and aggregate in parallel; grouping on the
    status expression itself took 0.47 s at 500,000 households against 0.26 s for the same figures in raw SQL.
    """
    counts: dict = {}

    def add(group, status: str, n: int) -> None:
        counts.setdefault(group, dict.fromkeys(HousingStatus.values, 0))[status] += n

    for row in households.values(by, "home_status").annotate(n=Count("pk")).order_by():
        add(row[by], row["home_status"], row["n"])
    secured = households.filter(pk__in=secured_on(today or timezone.localdate()))
    for row in secured.values(by, "home_status").annotate(n=Count("pk")).order_by():
        add(row[by], row["home_status"], -row["n"])
        add(row[by], HousingStatus.SECURED, row["n"])
    return counts


# One-month appraisal deadline -------------------------------------------------------------------------------


def appraisal_due_on(registered_on: datetime.date) -> datetime.date:
    """Due one month (configurable) after registration; 31 January + 1 month is the end of February."""
    return registered_on + relativedelta(months=settings.APPRAISAL_DEADLINE_MONTHS)


def overdue_registration_cutoff(today: datetime.date) -> datetime.date:
    """The last registration date whose appraisal is overdue today (due date before today).

    Month arithmetic clips to month ends, so "registered before today minus a month" is not exact; this walks
    from that estimate to the exact boundary (a few steps at most).
    """
    cutoff = today - relativedelta(months=settings.APPRAISAL_DEADLINE_MONTHS)
    while appraisal_due_on(cutoff) >= today:
        cutoff -= datetime.timedelta(days=1)
    while appraisal_due_on(cutoff + datetime.timedelta(days=1)) < today:
        cutoff += datetime.timedelta(days=1)
    return cutoff


def appraisal_overdue(today: datetime.date | None = None) -> Q:
    """Not yet appraised past the one-month deadline (for covered households)."""
    today = today or timezone.localdate()
    return status_filter(HousingStatus.UNAPPRAISED, today) & Q(registered_on__lte=overdue_registration_cutoff(today))


def overdue_unappraised_for_user(user: AbstractBaseUser, today: datetime.date | None = None) -> QuerySet[Household]:
    return covered_households_for_user(user, today).filter(appraisal_overdue(today))


DUE_SOON_DAYS = 7  # "due within 7 days": the home's line and the overdue list's ?within=7


def appraisal_due_soon(today: datetime.date, days: int = DUE_SOON_DAYS) -> Q:
    """Unappraised today, the deadline within `days` from today and not yet past: a range of registration dates,
    which the (registered_on, id) index of unappraised households serves at any size."""
    soon = today + datetime.timedelta(days=days)
    return status_filter(HousingStatus.UNAPPRAISED, today) & Q(
        registered_on__gt=overdue_registration_cutoff(today), registered_on__lte=overdue_registration_cutoff(soon)
    )


def due_soon_unappraised_for_user(user: AbstractBaseUser, today: datetime.date, days: int) -> QuerySet[Household]:
    """Unappraised households whose deadline falls within `days` from today (not yet overdue)."""
    return covered_households_for_user(user, today).filter(appraisal_due_soon(today, days))


# The plan's yearly deadlines ("6月底前") --------------------------------------------------------------------------


@functools.cache  # the late placards' deadlines at province scale: 425,000 calls with the one setting
def _month_day(month_day: str) -> tuple[int, int]:
    month, day = (int(part) for part in month_day.split("-"))
    return month, day


def yearly_due(since: datetime.date, month_day: str) -> datetime.date:
    """The first yearly deadline (month-day, e.g. "06-30") on or after `since`: 30 June of the year registered,
    or of the next year for a household registered after June."""
    month, day = _month_day(month_day)
    due = datetime.date(since.year, month, day)
    return due if since <= due else due.replace(year=since.year + 1)


def yearly_due_passed_cutoff(today: datetime.date, month_day: str) -> datetime.date:
    """The last `since` whose yearly deadline is before `today`: the latest deadline day before today (the
    deadline of every date up to it has passed, of every later date not)."""
    month, day = _month_day(month_day)
    due = datetime.date(today.year, month, day)
    return due if due < today else due.replace(year=today.year - 1)


def yearly_due_year(field: str, month_day: str):
    """The year of `field`'s yearly deadline, in the database: its year, plus one after the month-day."""
    month, day = _month_day(month_day)
    later = Q(**{f"{field}__month__gt": month}) | Q(**{f"{field}__month": month, f"{field}__day__gt": day})
    return ExtractYear(field) + Case(When(later, then=Value(1)), default=Value(0))


def placard_due_on(registered_on: datetime.date) -> datetime.date:
    """ "6月底前完成贫困户房屋安全状况制牌上墙": a household's placard is due on the wall by 30 June (PLACARD_DEADLINE)
    of the year it was registered, or of the next year for one registered after June."""
    return yearly_due(registered_on, settings.PLACARD_DEADLINE)


def dangerous_for_user(user: AbstractBaseUser, today: datetime.date | None = None) -> QuerySet[Household]:
    return covered_households_for_user(user, today).filter(status_filter(HousingStatus.DANGEROUS, today))


# Appraisals and placards ------------------------------------------------------------------------------------


def appraisals_for_user(user: AbstractBaseUser) -> QuerySet[Appraisal]:
    return Appraisal.objects.filter(household_scope_filter(user, "dwelling__household__")).select_related(
        "dwelling__household__village__township", "recorded_by"
    )


def village_current_appraisals(user: AbstractBaseUser, village_id: int) -> QuerySet[Appraisal]:
    """The current appraisal of every house of the village's covered households the user may see (a village's
    batch of printed forms), by head of household and address."""
    households = covered_households_for_user(user).filter(village_id=village_id)
    current = Dwelling.objects.filter(household__in=households).annotate(newest=current_appraisal("pk"))
    return (
        appraisals_for_user(user)
        .filter(pk__in=current.values("newest"))
        .order_by("dwelling__household__head_name", "dwelling__address", "pk")
    )


def secured_housing_for_user(user: AbstractBaseUser) -> QuerySet[SecuredHousing]:
    return SecuredHousing.objects.filter(household_scope_filter(user, "household__")).select_related(
        "household__village"
    )


def placards_for_user(user: AbstractBaseUser) -> QuerySet[Placard]:
    return Placard.objects.filter(household_scope_filter(user, "household__")).select_related(
        "household__village__township", "appraisal__dwelling", "secured_housing"
    )


def with_placard_basis(households: QuerySet[Household], today: datetime.date | None = None) -> QuerySet[Household]:
    """Status plus what a placard issued now would certify: the newest appraisal of a dwelling the household
    lives in (necessarily that dwelling's current one) or its newest active secured-housing arrangement."""
    today = today or timezone.localdate()
    newest_home_appraisal = Appraisal.objects.filter(dwelling__household=OuterRef("pk"), dwelling__is_occupied=True)
    return with_housing_status(households, today).annotate(
        basis_appraisal_id=Subquery(newest_home_appraisal.order_by("-appraised_on", "-pk").values("pk")[:1]),
        basis_secured_id=Subquery(_active_secured_housing(today).order_by("-since", "-pk").values("pk")[:1]),
    )


def current_placards(households: QuerySet[Household], today: datetime.date | None = None) -> QuerySet[Placard]:
    """Placards that still certify their household's status: same status, same appraisal or arrangement (a
    placard of a house not yet appraised: still not appraised). Every status has its placard (issue 24: "贫困户房屋
    安全状况制牌上墙", every poor household): a dangerous house's names its grade and the action under way."""
    matching = (
        with_placard_basis(households.filter(status=Household.Status.ACTIVE), today)
        .filter(pk=OuterRef("household_id"), housing_status=OuterRef("status"))
        .filter(
            Q(housing_status=HousingStatus.SECURED, basis_secured_id=OuterRef("secured_housing_id"))
            | (~Q(housing_status=HousingStatus.SECURED) & Q(basis_appraisal_id=OuterRef("appraisal_id")))
            # 待鉴定: the placard of a house not yet appraised certifies no appraisal; it holds until one is made
            | Q(housing_status=HousingStatus.UNAPPRAISED)
        )
    )
    return Placard.objects.filter(Exists(matching))


def current_basis(household: Household, today: datetime.date | None = None) -> tuple[str, int | None, int | None]:
    """(status, appraisal id, secured-housing id) that a placard issued now would certify."""
    row = with_placard_basis(Household.objects.filter(pk=household.pk), today).values_list(
        "housing_status", "basis_appraisal_id", "basis_secured_id"
    )
    status, appraisal_id, secured_id = row.get()
    if status == HousingStatus.SECURED:
        return status, None, secured_id
    return status, appraisal_id, None


def placard_actions(placards: list[Placard]) -> dict[int, str]:
    """What a placard that is not 鉴定安全/改造安全/保障安全 says is being done, by placard id, in one query: for a
    dangerous house (C/D) the renovation under way (its type and step) or, with no case yet, that it must be put
    right at once and by when ("一经鉴定为危房，即行整改"); for a house not yet appraised, by when it will be (待鉴定).
    The public check (/v/) reads it live, so the village sees what is done about the house (社会监督)."""
    from rectification.models import CLOSED_CASE_STATUSES, RenovationCase  # rectification builds on this app

    dangerous = [p for p in placards if p.status == HousingStatus.DANGEROUS]
    cases: dict[int, RenovationCase] = {}
    if dangerous:
        open_cases = RenovationCase.objects.filter(household_id__in={p.household_id for p in dangerous}).exclude(
            status__in=CLOSED_CASE_STATUSES
        )
        for case in open_cases.order_by("-pk").only("household_id", "renovation_type", "status"):
            cases.setdefault(case.household_id, case)
    actions = {}
    for placard in placards:
        if placard.status == HousingStatus.DANGEROUS:
            case = cases.get(placard.household_id)
            if case is not None:
                actions[placard.pk] = _("Being renovated: %(type)s, %(step)s") % {
                    "type": case.get_renovation_type_display(),
                    "step": case.get_status_display(),
                }
            elif placard.appraisal is not None:
                due = placard.appraisal.appraised_on + datetime.timedelta(days=settings.DANGEROUS_ACTION_DAYS)
                actions[placard.pk] = _("To be put right at once, a renovation arranged by %(date)s") % {
                    "date": f"{due:%Y-%m-%d}"
                }
        elif placard.status == HousingStatus.UNAPPRAISED:
            actions[placard.pk] = _("To be appraised by %(date)s") % {
                "date": f"{appraisal_due_on(placard.household.registered_on):%Y-%m-%d}"
            }
    return actions


def placard_is_current(placard: Placard, today: datetime.date | None = None) -> bool:
    return current_placards(Household.objects.filter(pk=placard.household_id), today).filter(pk=placard.pk).exists()


def placard_counts(
    user: AbstractBaseUser, by: str = "village__township_id", today: datetime.date | None = None
) -> dict:
    """{group: {"covered": covered households (every one gets a placard, whatever its status), "installed": of
    those, with a current placard on the wall}}, grouped by a household path such as "village__township_id"."""
    households = covered_households_for_user(user, today)
    covered = households.values_list(by).annotate(n=Count("pk")).order_by()
    counts: dict = {}
    for key, rows in (("covered", covered), ("installed", installed_placard_counts(user, by, today).items())):
        for group, n in rows:
            counts.setdefault(group, {"covered": 0, "installed": 0})[key] = n
    return counts


def installed_placard_counts(user: AbstractBaseUser, by: str, today: datetime.date | None = None) -> dict:
    """{group: covered households with a current placard on the wall}, grouped by a household path."""
    installed = (
        current_placards(households_for_user(user), today)
        .filter(installed_on__isnull=False)
        .values_list(f"household__{by}")
        .annotate(n=Count("household_id", distinct=True))
        .order_by()
    )
    return dict(installed)


def placard_missing(today: datetime.date | None = None) -> Q:
    """Covered households past their placard deadline (placard_due_on) without a current placard on the wall."""
    today = today or timezone.localdate()
    on_the_wall = current_placards(Household.objects.all(), today).filter(
        household_id=OuterRef("pk"), installed_on__isnull=False
    )
    cutoff = yearly_due_passed_cutoff(today, settings.PLACARD_DEADLINE)
    return Q(registered_on__lte=cutoff) & ~Exists(on_the_wall)


def placards_missing_for_user(user: AbstractBaseUser, today: datetime.date | None = None) -> QuerySet[Household]:
    return covered_households_for_user(user, today).filter(placard_missing(today))


def placard_coverage(user: AbstractBaseUser, today: datetime.date | None = None) -> list[dict]:
    """Per township: covered households, those with a current placard on the wall, the share, and those past
    their deadline without one."""
    today = today or timezone.localdate()
    counts = placard_counts(user, today=today)
    missing = dict(
        placards_missing_for_user(user, today).values_list("village__township_id").annotate(n=Count("pk")).order_by()
    )
    rows = []
    for township in townships_for_user(user):
        row = counts.get(township.pk, {"covered": 0, "installed": 0})
        total, done = row["covered"], row["installed"]
        rows.append(
            {
                "township": township,
                "covered": total,
                "installed": done,
                "share": round(100 * done / total) if total else None,
                "late": missing.get(township.pk, 0),
            }
        )
    return rows


# Campaigns and revisits -------------------------------------------------------------------------------------


def campaign_dwellings(campaign) -> QuerySet[Dwelling]:
    """The dwellings a (saved) campaign's scope matches: covered households only; empty selections mean all. The
    base-village survey (基点村排查) also takes the houses of households not yet registered: the plan asks for "31个
    省定革命基点村群众的住房情况", every resident's, and a house it finds dangerous registers the household."""
    statuses = [Household.Status.ACTIVE]
    if campaign.kind == campaign.Kind.BASE_VILLAGE:
        statuses.append(Household.Status.UNREGISTERED)
    dwellings = Dwelling.objects.filter(household__status__in=statuses)
    if campaign.occupied_only:
        dwellings = dwellings.filter(is_occupied=True)
    township_ids = list(campaign.townships.values_list("pk", flat=True))
    if township_ids:
        dwellings = dwellings.filter(household__village__township_id__in=township_ids)
    village_ids = list(campaign.villages.values_list("pk", flat=True))
    if village_ids:
        dwellings = dwellings.filter(household__village_id__in=village_ids)
    if campaign.base_villages_only:
        dwellings = dwellings.filter(household__village__is_revolutionary_base_village=True)
    if campaign.structure_types:
        dwellings = dwellings.filter(structure_type__in=campaign.structure_types)
    category_ids = list(campaign.categories.values_list("pk", flat=True))
    if category_ids:
        in_category = Household.categories.through.objects.filter(householdcategory_id__in=category_ids)
        dwellings = dwellings.filter(household_id__in=in_category.values("household_id"))
    if campaign.current_grades:
        grades = [g for g in campaign.current_grades if g != "none"]
        wanted = Q(current_grade__in=grades) | (
            Q(current_grade__isnull=True) if "none" in campaign.current_grades else Q(pk__in=[])
        )
        dwellings = dwellings.filter(wanted)
    return dwellings


def revisits_for_user(user: AbstractBaseUser) -> QuerySet[Revisit]:
    """The households' scope, read for township staff from the revisit's stored township (always its household's:
    inspections.services.follow_township), so a township's list reads the (township, status, due_on, id) index
    instead of joining every revisit of the province to its dwelling, household and village."""
    scope = scope_of(user)
    if scope.role == Role.TOWNSHIP_STAFF and not scope.everything:
        scoped = Q(township_id__in=sorted(scope.township_ids))
    else:
        scoped = household_scope_filter(user, "dwelling__household__")
    return Revisit.objects.filter(scoped).select_related("campaign", "dwelling__household__village__township")


def helper_reports_for_user(user: AbstractBaseUser) -> QuerySet[HelperReport]:
    return HelperReport.objects.filter(household_scope_filter(user, "household__")).select_related(
        "household__village__township", "dwelling", "reported_by", "handled_by"
    )


def revisit_overdue(today: datetime.date | None = None) -> Q:
    """Not yet visited after its due date."""
    return Q(status=Revisit.Status.PENDING, due_on__lt=today or timezone.localdate())


def revisit_counts(revisits: QuerySet[Revisit], by: str, today: datetime.date | None = None) -> dict:
    """{group: {"pending", "overdue", "done"}} in one GROUP BY, grouped by a revisit path."""
    rows = (
        revisits.values(by)
        .annotate(
            pending=Count("pk", filter=Q(status=Revisit.Status.PENDING)),
            overdue=Count("pk", filter=revisit_overdue(today)),
            done=Count("pk", filter=Q(status=Revisit.Status.DONE)),
        )
        .order_by()
    )
    return {row.pop(by): row for row in rows}


def revisit_counts_by_township(user: AbstractBaseUser, today: datetime.date | None = None) -> list[dict]:
    """Pending, overdue and done revisits per township."""
    by_township = revisit_counts(revisits_for_user(user), "township_id", today)
    empty = {"pending": 0, "overdue": 0, "done": 0}
    return [{"township": t, **by_township.get(t.pk, empty)} for t in townships_for_user(user)]


def household_record(user: AbstractBaseUser, household: Household) -> dict:
    """What the household's page shows of this app, each part read through the user's scope in one query: the
    appraisals' photos by appraisal, the revisits of its homes, the helpers' reports."""
    appraisal_ids = Appraisal.objects.filter(dwelling__household=household).values("pk")
    photos: dict[int, list[Attachment]] = {}
    for photo in attachments_for_user(user).filter(
        content_type=ContentType.objects.get_for_model(Appraisal),
        object_id__in=appraisal_ids,
        kind=Attachment.Kind.PHOTO,
    ):
        photos.setdefault(photo.object_id, []).append(photo)
    return {
        "photos": photos,
        "revisits": list(
            revisits_for_user(user).filter(dwelling__household=household).order_by("-due_on", "-pk")[:RECORD_ROWS]
        ),
        "reports": list(_reports_on_record(user, household).order_by("-reported_at")[:RECORD_ROWS]),
    }


RECORD_ROWS = 20  # the newest of each kind on a household's page


def _reports_on_record(user: AbstractBaseUser, household: Household) -> QuerySet[HelperReport]:
    """Helpers' reports on a household's page: all of them for those who handle them, a helper's own for a helper,
    none for the other roles (the complaint desk reaches every household, not the helpers' notes)."""
    reports = helper_reports_for_user(user).filter(household=household)
    if user.has_perm("inspections.change_helperreport"):
        return reports
    if user.has_perm("inspections.add_helperreport"):
        return reports.filter(reported_by_id=user.pk)
    return reports.none()


def grade_warnings(appraisal: Appraisal) -> list[str]:
    """What the national guideline leaves to judgement and looks doubtful in an appraisal about to be recorded
    (empty when nothing), in words; its rules are refused by Appraisal.clean. Both live in inspections.grading."""
    return grading.warnings(appraisal)


# 包片 guidance ----------------------------------------------------------------------------------------------------


def guidance_for_user(user: AbstractBaseUser) -> QuerySet:
    """The guidance assignments (包片) a user may read: the bureau's (everything in scope) all of them; others none.
    Read for the home and the spot checks, edited by the bureau administrator in the admin."""
    from housing_safety.access import scope_of

    from .models import GuidanceAssignment

    if not scope_of(user).everything or not user.has_perm("inspections.view_guidanceassignment"):
        return GuidanceAssignment.objects.none()
    return GuidanceAssignment.objects.all()


def guided_township_ids(official: AbstractBaseUser, year: int) -> list[int]:
    """The townships an official guides in a year (包片), by code order; one query."""
    from .models import GuidanceAssignment

    if not getattr(official, "pk", None):
        return []
    return list(
        GuidanceAssignment.objects.filter(official=official, year=year)
        .order_by("township__code")
        .values_list("township_id", flat=True)
    )


def guides_by_township(year: int) -> dict[int, list[str]]:
    """{township id: the names of the officials guiding it this year}; one query."""
    from .models import GuidanceAssignment

    guides: dict[int, list[str]] = {}
    rows = GuidanceAssignment.objects.filter(year=year).select_related("official").order_by("official__username")
    for assignment in rows:
        official = assignment.official
        guides.setdefault(assignment.township_id, []).append(person_name(official))
    return guides
