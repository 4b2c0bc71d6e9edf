"""Pinned query counts of the housing-safety pages: the field list, overdue and dangerous households, the status
overview, placard coverage and printing, revisits, helpers' reports, the helper's own list, every inspections admin
changelist and the appraisal export.

Each page is measured with a few rows and again with more rows than one page holds: the count is pinned exactly and
is the same for both, so a query per row (an N+1) fails the test.
"""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.utils import timezone

from households.models import Dwelling, Household
from households.tests.factories import VillageFactory
from households.tests.test_query_counts import (
    bulk_appraisals,
    bulk_households,
    changelist_rows,
    dwellings_of,
    export_form,
    exported_rows,
    measured,
    refresh_stored_summaries,
)
from housing_safety.access import Role
from inspections.models import Appraisal, Campaign, HelperReport, Placard, Revisit, SecuredHousing, SpotCheck
from inspections.resources import AppraisalResource

pytestmark = pytest.mark.django_db

ADMIN = Role.BUREAU_ADMIN
OFFICIAL = Role.BUREAU_OFFICIAL
STAFF = Role.TOWNSHIP_STAFF
HELPER = Role.HELPER
LONG_AGO = datetime.date(2025, 1, 1)  # registered then: the one-month appraisal deadline is long past
_serial = itertools.count(1)


@pytest.fixture
def world(personas, xinqiao, shuangyang):
    return {
        "users": personas,
        "home": VillageFactory(township=xinqiao, name="东坑村"),
        "other": VillageFactory(township=shuangyang, name="西山村"),
        "xinqiao": xinqiao,
        "shuangyang": shuangyang,
    }


def _both(world, n, **fields) -> list[Household]:
    """n households in the township staff's township (assigned to the helper), n // 5 in another township."""
    home = bulk_households(world["home"], n, helper_user=world["users"][HELPER], **fields)
    return home + bulk_households(world["other"], n // 5, **fields)


# Builders: each adds n rows of what its page lists (more in the staff's township than elsewhere) -------------------


def unappraised(world, n):
    _both(world, n, registered_on=LONG_AGO)


def dangerous(world, n):
    bulk_appraisals(dwellings_of(_both(world, n)), "D", recorded_by=world["users"][STAFF])


def mixed(world, n):
    """A quarter each: never appraised and overdue, grade B (some leaking), grade D, secured elsewhere; some owning a
    second, empty house (the flags), in new villages too (the status overview has a row per village)."""
    world["home"] = VillageFactory(township=world["xinqiao"])
    households = _both(world, n, registered_on=LONG_AGO)
    quarters = [households[i::4] for i in range(4)]
    bulk_appraisals(dwellings_of(quarters[1]), "B", recorded_by=world["users"][STAFF])
    Appraisal.objects.filter(dwelling__household__in=quarters[1][::2]).update(is_leaking=True)
    bulk_appraisals(dwellings_of(quarters[2]), "D", recorded_by=world["users"][STAFF])
    empty = Dwelling.objects.bulk_create(
        [Dwelling(household=h, address="老屋", structure_type="brick_concrete", is_occupied=False) for h in quarters[2]]
    )
    bulk_appraisals(empty, "A")
    bulk_appraisals(dwellings_of(quarters[3]), "B")
    SecuredHousing.objects.bulk_create(
        [SecuredHousing(household=h, kind=SecuredHousing.Kind.HAPPINESS_COURTYARD, since=LONG_AGO) for h in quarters[3]]
    )
    refresh_stored_summaries()


def placards(world, n):
    """Safe households (grade B) with a current placard each, half of them on the wall."""
    households = _both(world, n)
    made = bulk_appraisals(dwellings_of(households), "B")
    Placard.objects.bulk_create(
        [
            Placard(
                household_id=appraisal.dwelling.household_id,
                serial=f"QC{next(_serial):08d}",
                status="appraised_safe",
                appraisal=appraisal,
                issued_by=world["users"][ADMIN],
                installed_on=datetime.date(2026, 1, 5) if index % 2 else None,
            )
            for index, appraisal in enumerate(made)
        ]
    )


def _campaign(world):
    if "campaign" not in world:
        world["campaign"] = Campaign.objects.create(
            name="2026年第一季度回访", kind=Campaign.Kind.QUARTERLY, starts_on=LONG_AGO, due_on=LONG_AGO
        )
    return world["campaign"]


def townships_of(dwellings) -> dict[int, int]:
    """{dwelling id: its household's township id}: what a campaign stores on each revisit (bulk_create skips save)."""
    return dict(
        Dwelling.objects.filter(pk__in=[d.pk for d in dwellings]).values_list("pk", "household__village__township_id")
    )


def revisits(world, n):
    """Pending revisits, half past due, and as many done."""
    today = timezone.localdate()
    campaign = _campaign(world)
    dwellings = dwellings_of(_both(world, 2 * n))
    township_of = townships_of(dwellings)
    Revisit.objects.bulk_create(
        [
            Revisit(
                campaign=campaign,
                dwelling=dwelling,
                township_id=township_of[dwelling.pk],
                due_on=today + datetime.timedelta(days=(-10 if index % 2 else 10)),
                status=Revisit.Status.PENDING if index % 4 < 2 else Revisit.Status.DONE,
                visited_on=None if index % 4 < 2 else today,
                visited_by=None if index % 4 < 2 else world["users"][STAFF],
            )
            for index, dwelling in enumerate(dwellings)
        ]
    )


def reports(world, n):
    """Helpers' reports, half handled by the township."""
    helper, staff = world["users"][HELPER], world["users"][STAFF]
    households = _both(world, n)
    dwellings = {d.household_id: d for d in dwellings_of(households)}
    HelperReport.objects.bulk_create(
        [
            HelperReport(
                household=household,
                dwelling=dwellings[household.pk],
                note="屋面漏雨，墙体新增裂缝",
                finding_leaking=True,
                finding_new_damage=index % 2 == 0,
                reported_by=helper,
                handled_by=staff if index % 2 else None,
                handled_at=timezone.now() if index % 2 else None,
                action_taken="已安排修缮" if index % 2 else "",
            )
            for index, household in enumerate(households)
        ]
    )


def secured(world, n):
    households = _both(world, n)
    SecuredHousing.objects.bulk_create(
        [
            SecuredHousing(household=h, kind=SecuredHousing.Kind.RELATIVES, since=LONG_AGO, address="亲戚家")
            for h in households
        ]
    )
    refresh_stored_summaries()


def campaigns(world, n):
    made = Campaign.objects.bulk_create(
        [
            Campaign(name=f"排查{next(_serial)}", kind=Campaign.Kind.REVIEW, starts_on=LONG_AGO, due_on=LONG_AGO)
            for _ in range(n)
        ]
    )
    dwellings = dwellings_of(_both(world, 10))
    township_of = townships_of(dwellings)
    Revisit.objects.bulk_create(
        [
            Revisit(
                campaign=campaign,
                dwelling=dwelling,
                township_id=township_of[dwelling.pk],
                due_on=LONG_AGO,
                status=Revisit.Status.DONE,
            )
            for campaign in made[:5]
            for dwelling in dwellings
        ]
    )


def spot_checks(world, n):
    """Drawn spot checks (each records who drew it)."""
    SpotCheck.objects.bulk_create(
        [
            SpotCheck(
                name=f"抽查{next(_serial)}",
                per_township=5,
                seed=f"seed-{next(_serial)}",
                drawn_at=timezone.now(),
                drawn_by=world["users"][ADMIN],
            )
            for _ in range(n)
        ]
    )


# 1. The pages ----------------------------------------------------------------------------------------------------


def page_rows(response) -> tuple[int, int]:
    page = response.context["page"]
    return len(page.object_list), page.paginator.count


# url: (builder, pinned queries per persona). Every request: session, user, the user's and the group's permissions,
# the profile and its townships; then the page's own (the pager's count, the page, the figures).
PAGES = {
    "/field/": (mixed, {ADMIN: 8, STAFF: 8}),
    "/safety/overdue/": (unappraised, {ADMIN: 8, STAFF: 8}),
    "/safety/dangerous/": (dangerous, {ADMIN: 8, STAFF: 8}),
    "/safety/status/": (mixed, {ADMIN: 10, STAFF: 10}),
    "/placards/coverage/": (placards, {ADMIN: 10, STAFF: 10}),  # +1: the late count per township (issue 24)
    "/field/revisits/": (revisits, {ADMIN: 8, STAFF: 8}),  # the bureau's per-township table: cached after a first view
    "/field/reports/": (reports, {ADMIN: 8, STAFF: 8}),
    "/helper/": (mixed, {HELPER: 8}),
}


@pytest.mark.parametrize(("url", "persona"), [(url, persona) for url, (_b, pins) in PAGES.items() for persona in pins])
def test_page_queries_do_not_grow(client, world, django_assert_num_queries, url, persona):
    grow, pins = PAGES[url]
    grow(world, 5)
    client.force_login(world["users"][persona])
    few = measured(client, url, pins[persona], django_assert_num_queries)
    grow(world, 55)
    response = measured(client, url, pins[persona], django_assert_num_queries, warm=False)
    if url == "/safety/status/":  # a row per township for the bureau, per village (two by now) for township staff
        rows = response.context["rows"]
        assert len(rows) == 2 and sum(sum(counts.values()) for _group, counts, _overdue in rows) > 50
    elif url == "/placards/coverage/":
        [row] = [row for row in response.context["rows"] if row["township"] == world["xinqiao"]]
        installed = Placard.objects.filter(household__village__township=world["xinqiao"], installed_on__isnull=False)
        assert (row["covered"], row["installed"]) == (60, installed.count()) and row["installed"] > 25
    else:
        assert page_rows(few)[0] < 50
        shown, matched = page_rows(response)
        assert shown == 50 < matched


PRINT_QUERIES = {ADMIN: 7, STAFF: 7}


@pytest.mark.parametrize("persona", list(PRINT_QUERIES))
def test_placard_print_job_queries_do_not_grow(client, world, django_assert_num_queries, persona):
    """One print job for a village: a page per current placard."""
    placards(world, 3)
    url = f"/placards/print/?village={world['home'].pk}"
    client.force_login(world["users"][persona])
    assert len(measured(client, url, PRINT_QUERIES[persona], django_assert_num_queries).context["cards"]) == 3
    placards(world, 55)
    response = measured(client, url, PRINT_QUERIES[persona], django_assert_num_queries, warm=False)
    assert len(response.context["cards"]) == 58


# 2. The admin changelists and the appraisal export ---------------------------------------------------------------


def appraisals(world, n):
    bulk_appraisals(dwellings_of(_both(world, n)), "B", recorded_by=world["users"][STAFF])


# model: (builder, rows a page, pinned queries per persona)
CHANGELISTS = {
    "appraisal": (appraisals, 50, {ADMIN: 9, STAFF: 9, OFFICIAL: 9}),
    "securedhousing": (secured, 100, {ADMIN: 8, STAFF: 8}),
    "placard": (placards, 100, {ADMIN: 9, STAFF: 9}),
    "campaign": (campaigns, 100, {ADMIN: 7, STAFF: 7}),
    "revisit": (revisits, 100, {ADMIN: 9, STAFF: 9}),
    "helperreport": (reports, 100, {ADMIN: 8, STAFF: 8}),
    # +1: each check's townships (with their guides, 包片); +3: the township filter (the home's 包片 lines link to it):
    # its choices (the user's townships) and what the admin reads for a list with a filter sidebar; fixed, not per row
    "spotcheck": (spot_checks, 100, {ADMIN: 11, OFFICIAL: 11}),
}


@pytest.mark.parametrize(
    ("model", "persona"),
    [(model, persona) for model, (_b, _n, pins) in CHANGELISTS.items() for persona in pins],
)
def test_inspections_changelist_queries_do_not_grow(client, world, django_assert_num_queries, model, persona):
    grow, per_page, pins = CHANGELISTS[model]
    url = f"/admin/inspections/{model}/"
    grow(world, 3)
    client.force_login(world["users"][persona])
    few = changelist_rows(measured(client, url, pins[persona], django_assert_num_queries))
    grow(world, per_page + 5)
    shown, matched = changelist_rows(measured(client, url, pins[persona], django_assert_num_queries, warm=False))
    assert few[0] < per_page
    assert shown == per_page < matched


EXPORT_QUERIES = {ADMIN: 9, STAFF: 9, OFFICIAL: 8}  # +1 where the head's full ID number is exported: the disclosure row


@pytest.mark.parametrize("persona", list(EXPORT_QUERIES))
def test_appraisal_export_queries_do_not_grow(client, world, django_assert_num_queries, persona):
    form = export_form(Appraisal, AppraisalResource)
    url = "/admin/inspections/appraisal/export/"
    appraisals(world, 3)
    client.force_login(world["users"][persona])
    few = exported_rows(measured(client, url, EXPORT_QUERIES[persona], django_assert_num_queries, post=form))
    appraisals(world, 60)  # still within one chunk of the export's iterator (IMPORT_EXPORT_CHUNK_SIZE, 100 rows)
    response = measured(client, url, EXPORT_QUERIES[persona], django_assert_num_queries, post=form, warm=False)
    assert exported_rows(response) > 50 > few
