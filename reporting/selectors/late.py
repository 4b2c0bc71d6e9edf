"""What is late, kind by kind (appraisals, revisits, problems, renovation cases, complaints, leads; dangerous houses
without action, renovations past the plan's 30 June, placards not on the wall): the dashboard's
short lists, the consolidated report's overdue sheet and the overdue e-mails read the same lists."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language

from households.models import Township
from inspections import selectors as safety
from rectification import selectors as rectification
from rectification.models import CLOSED_CASE_STATUSES, CaseStatus, ComplaintCategory, ComplaintStatus, Problem

from ..models import OverdueItem, OverdueKind


@dataclass(frozen=True)
class LateList:
    """One kind of late item: the shared selector that decides it, and how an item reads in a list.

    Items are read as values (`fields`), not model instances: the consolidated report lists every late item of the
    province (73,000 at 500,000 households), which as instances took 12 s to read.
    """

    kind: str
    items: Callable  # (user, day) -> queryset of the late records, oldest first
    fields: tuple[str, ...]  # what `describe` reads, besides "pk"
    describe: Callable  # values -> dict(township_id, unit_id, label, due_on)
    township_path: str  # where the record keeps its township, to narrow a list to one township
    url: Callable  # values -> its page (only the dashboard's short lists link; the workbook and e-mails do not)
    # A page that records the item (the revisit form) is linked only for who may record it (`record_permission`);
    # others are led to `reader_url` (the household's page), not to a page that answers them 403.
    record_permission: str | None = None
    reader_url: Callable | None = None

    def url_for(self, user: AbstractBaseUser) -> Callable:
        if self.record_permission and self.reader_url and not user.has_perm(self.record_permission):
            return self.reader_url
        return self.url

    def rows(self, user: AbstractBaseUser, day: datetime.date) -> QuerySet:
        return self.items(user, day).values("pk", *self.fields)


def _late_appraisals(user: AbstractBaseUser, day: datetime.date) -> QuerySet:
    return safety.overdue_unappraised_for_user(user, day).order_by("registered_on", "pk")


def _late_revisits(user: AbstractBaseUser, day: datetime.date) -> QuerySet:
    return safety.revisits_for_user(user).filter(safety.revisit_overdue(day)).order_by("due_on", "pk")


def _late_problems(user: AbstractBaseUser, day: datetime.date) -> QuerySet:
    return rectification.problems_for_user(user).filter(rectification.problem_overdue(day)).order_by("deadline", "pk")


def _late_cases(user: AbstractBaseUser, day: datetime.date) -> QuerySet:
    cases = rectification.stalled_cases(rectification.cases_for_user(user), day)
    return rectification.with_stalled_due(cases).order_by("stalled_due", "pk")


def _late_complaints(user: AbstractBaseUser, day: datetime.date) -> QuerySet:
    complaints = rectification.overdue_complaints(rectification.complaints_for_user(user), day)
    return complaints.order_by("acceptance_due", "pk")


def _late_leads(user: AbstractBaseUser, day: datetime.date) -> QuerySet:
    return rectification.leads_without_receipt(rectification.leads_for_user(user), day).order_by("sent_on", "pk")


def _late_dangerous(user: AbstractBaseUser, day: datetime.date) -> QuerySet:
    return rectification.dangerous_late_for_user(user, day).order_by("graded_on", "pk")


def _late_renovations(user: AbstractBaseUser, day: datetime.date) -> QuerySet:
    # The late cases are read first (= ANY(ARRAY(…)), housing_safety.lookups), then ordered: written as one filter,
    # the dashboard's first five made PostgreSQL walk the households' registration index hoping to meet five late
    # cases early, 1.43 s at 500,000 households for the few hundred there are (0.24 s read first). And their
    # households are named by the cases still waiting for acceptance, read before them: joined by registration date,
    # PostgreSQL hashed every household of the province (85 ms at 500,000; 42 ms through the few thousand cases).
    cases = rectification.cases_for_user(user)
    waiting = cases.filter(~Q(status__in=CLOSED_CASE_STATUSES), accepted_on__isnull=True).order_by()
    late = cases.filter(household__pk__any_of=waiting.values("household_id")).filter(
        rectification.renovation_plan_overdue(day)
    )
    cases = cases.filter(pk__any_of=late.order_by().values("pk"))
    return cases.order_by("household__registered_on", "pk")


def _late_placards(user: AbstractBaseUser, day: datetime.date) -> QuerySet:
    return safety.placards_missing_for_user(user, day).order_by("registered_on", "pk")


def _problem_label(p: dict) -> str:
    where = f"{p['household__head_name']}（{p['household__village__name']}）" if p["household__head_name"] else None
    return f"{Problem.Kind(p['kind']).label} · {where or p['township__name']}"[:200]


LATE_LISTS = (
    LateList(
        OverdueKind.APPRAISAL,
        _late_appraisals,
        ("head_name", "village__name", "village__township_id", "registered_on"),
        lambda h: {
            "township_id": h["village__township_id"],
            "label": f"{h['head_name']} · {h['village__name']}",
            "due_on": safety.appraisal_due_on(h["registered_on"]),
        },
        "village__township_id",
        lambda h: reverse("inspections:household", args=[h["pk"]]),
    ),
    LateList(
        OverdueKind.REVISIT,
        _late_revisits,
        (
            "due_on",
            "dwelling__address",
            "dwelling__household__head_name",
            "dwelling__household__village__name",
            "dwelling__household__village__township_id",
            "dwelling__household_id",
        ),
        lambda r: {
            "township_id": r["dwelling__household__village__township_id"],
            "label": f"{r['dwelling__household__head_name']} · {r['dwelling__household__village__name']}"
            f" · {r['dwelling__address']}",
            "due_on": r["due_on"],
        },
        "dwelling__household__village__township_id",
        lambda r: reverse("inspections:revisit", args=[r["pk"]]),
        record_permission="inspections.change_revisit",
        reader_url=lambda r: reverse("inspections:household", args=[r["dwelling__household_id"]]),
    ),
    LateList(
        OverdueKind.PROBLEM,
        _late_problems,
        ("kind", "deadline", "township_id", "township__name", "household__head_name", "household__village__name"),
        lambda p: {"township_id": p["township_id"], "label": _problem_label(p), "due_on": p["deadline"]},
        "township_id",
        lambda p: reverse("rectification:problem", args=[p["pk"]]),
    ),
    LateList(
        OverdueKind.CASE,
        _late_cases,
        ("number", "township_id", "household__head_name", "status", "stalled_due"),
        lambda c: {
            "township_id": c["township_id"],
            "label": f"{c['number']} {c['household__head_name']} · {CaseStatus(c['status']).label}",
            "due_on": c["stalled_due"],
        },
        "township_id",
        lambda c: reverse("rectification:case", args=[c["pk"]]),
    ),
    LateList(
        OverdueKind.COMPLAINT,
        _late_complaints,
        ("ticket", "category", "township_id", "status", "acceptance_due", "handling_due"),
        lambda c: {
            "township_id": c["township_id"],
            "label": f"{c['ticket']} · {ComplaintCategory(c['category']).label}",
            "due_on": c["acceptance_due"] if c["status"] == ComplaintStatus.RECEIVED else c["handling_due"],
        },
        "township_id",
        lambda c: reverse("rectification:complaint", args=[c["pk"]]),
    ),
    LateList(
        OverdueKind.LEAD,
        _late_leads,
        ("from_unit_id", "from_unit__name", "from_unit__township_id", "subject", "sent_on"),
        lambda lead: {
            "township_id": lead["from_unit__township_id"],
            "unit_id": lead["from_unit_id"],
            "label": f"{lead['from_unit__name']} · {lead['subject']}"[:200],
            "due_on": lead["sent_on"] + datetime.timedelta(days=settings.LEAD_RECEIPT_DAYS),
        },
        "from_unit__township_id",
        lambda lead: reverse("rectification:leads"),
    ),
    LateList(
        OverdueKind.DANGEROUS,
        _late_dangerous,
        (
            "graded_on",
            "current_grade",
            "household_id",
            "household__head_name",
            "household__village__name",
            "household__village__township_id",
        ),
        lambda d: {
            "township_id": d["household__village__township_id"],
            "label": f"{d['household__head_name']} · {d['household__village__name']} · {d['current_grade']}",
            "due_on": rectification.action_due_on(d["graded_on"]),
        },
        "household__village__township_id",
        lambda d: reverse("inspections:household", args=[d["household_id"]]),
    ),
    LateList(
        OverdueKind.RENOVATION,
        _late_renovations,
        ("number", "township_id", "household__head_name", "household__registered_on", "status"),
        lambda c: {
            "township_id": c["township_id"],
            "label": f"{c['number']} {c['household__head_name']} · {CaseStatus(c['status']).label}",
            "due_on": rectification.renovation_due_on(c["household__registered_on"]),
        },
        "township_id",
        lambda c: reverse("rectification:case", args=[c["pk"]]),
    ),
    LateList(
        OverdueKind.PLACARD,
        _late_placards,
        ("head_name", "village__name", "village__township_id", "registered_on"),
        lambda h: {
            "township_id": h["village__township_id"],
            "label": f"{h['head_name']} · {h['village__name']}",
            "due_on": safety.placard_due_on(h["registered_on"]),
        },
        "village__township_id",
        lambda h: reverse("inspections:household", args=[h["pk"]]),
    ),
)


def iter_late_items(user: AbstractBaseUser, day: datetime.date):
    """Every late item as (kind label, item), oldest first per kind, read in chunks: the workbook's overdue sheet
    at province scale holds tens of thousands, which are never all in memory at once."""
    for late in LATE_LISTS:
        label = str(OverdueKind(late.kind).label)  # translated once, not per item
        for values in late.rows(user, day).iterator(chunk_size=5000):
            item = late.describe(values)
            yield label, {"object_id": values["pk"], "kind": late.kind, **item, "days": (day - item["due_on"]).days}


def late_items(
    user: AbstractBaseUser,
    day: datetime.date | None = None,
    limit: int | None = None,
    township: Township | None = None,
    links=True,
    kept_until: datetime.datetime | None = None,
) -> list[dict]:
    """Per kind of late item: its label and the oldest `limit` items (all when None; one township's when given),
    each with the link to its page unless `links` is false.

    `kept_until` (the dashboard's: its maintained figures' moment, reporting.rollup) keeps the answer for this user
    until the figures' next refresh: the late counts beside the lists are the rollup's of that moment, and the nine
    lists cost some sixty milliseconds at 500,000 households (the late renovations most) on every view. Kept per
    user and language (the items' labels are written in it), so no one is shown another's scope."""
    day = day or timezone.localdate()
    if kept_until is not None:
        where = township.pk if township is not None else "all"
        key = f"late-items:{user.pk}:{where}:{limit}:{links}:{get_language()}:{day}:{kept_until.timestamp()}"
        return cache.get_or_set(
            key, lambda: late_items(user, day, limit, township, links), settings.SUMMARY_CACHE_SECONDS
        )
    result = []
    for late in LATE_LISTS:
        records = late.rows(user, day)
        if township is not None:
            records = records.filter(**{late.township_path: township.pk})
        if limit is not None:
            records = records[:limit]
        url = late.url_for(user)
        items = [
            {"object_id": values["pk"], **late.describe(values), **({"url": url(values)} if links else {})}
            for values in records
        ]
        for item in items:
            item["days"] = (day - item["due_on"]).days
        result.append({"kind": late.kind, "label": OverdueKind(late.kind).label, "items": items})
    return result


def late_counts_by_township(user: AbstractBaseUser, day: datetime.date) -> dict[int | None, dict[str, int]]:
    """How many items of each kind are late in each township (the late lists', counted in the database: one query
    per kind): {township id: {kind: count}}; items with no township (a department's lead) under None."""
    counts: dict[int | None, dict[str, int]] = {}
    for late in LATE_LISTS:
        grouped = late.items(user, day).order_by().values(late.township_path).annotate(count=Count("pk"))
        for row in grouped:
            counts.setdefault(row[late.township_path], {})[late.kind] = row["count"]
    return counts


def announced_late_by_township(day: datetime.date) -> dict[int | None, dict[str, int]]:
    """The same counts as the daily sweep recorded them on `day` (OverdueItem: first seen on or before, not cleared
    by then): what a past month's report said, not what is late today."""
    items = OverdueItem.objects.filter(Q(cleared_on__isnull=True) | Q(cleared_on__gt=day), first_seen_on__lte=day)
    counts: dict[int | None, dict[str, int]] = {}
    for row in items.order_by().values("township_id", "kind").annotate(count=Count("pk")):
        counts.setdefault(row["township_id"], {})[row["kind"]] = row["count"]
    return counts
