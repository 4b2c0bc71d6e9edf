"""The dashboard's figures from a maintained rollup (issue 21): `AreaFigures`, one row per village (and one per
township for its records without a village), refreshed incrementally by a job every FIGURES_REFRESH_MINUTES and
checked every night against a recomputation from scratch.

Design, measured (README, "Figures from maintained rollups"):

- **Refreshed by a job, not maintained by the services.** The figures depend on `today` (deadlines, "this month",
  living safely elsewhere on today), so every row changes at midnight whatever the services do: a job is needed
  anyway. Maintaining in the services' transactions would touch some thirty write paths (set-based bulk loaders,
  campaigns, the nightly repairs, the admin) with a second, incremental copy of every rule; a refresh instead runs
  the dashboard's own selector (reporting.selectors.area_figures, by="place") over the townships whose records
  changed, so there is one copy of the status rules and the write paths stay untouched.
- **Per township.** A refresh reads the changed townships through a township-scoped reader: every selector narrows
  by its own index (village ids first, as the township pages do), so a township costs about 1/16 of the city.
  Which townships changed is one UNION query over the records' `updated_at` (households, dwellings, revisits, cases,
  problems, complaints: moved by the set-based writes too) and the history of those that have none (appraisals,
  secured housing, placards) or the payments' `recorded_at`; a household that moved refreshes every township it was
  ever in (its history), a case that stays with its old township likewise. Changes are looked for since the last
  refresh's start less FIGURES_REFRESH_OVERLAP_MINUTES, so a transaction that committed just after a refresh
  began is seen by the next one.
- **The whole city when the day changes** (the first refresh of a day), and with `full=True`.
- **Written as delete + insert of the refreshed townships' rows in one transaction** (a place that no longer has
  data loses its row; PostgreSQL's MVCC shows readers the old rows or the new, never half), under a row lock on
  `FiguresRefresh` so two refreshes never interleave.
- **Read** (reporting.selectors.figures township_table / village_table with `rollup=`) as one SUM … GROUP BY over
  the rows, only for a reader whose scope is whole townships (the bureau, complaint clerks, township staff) and
  who may see every kind of record the figures count; a department's liaison (scope: its own list's households)
  and a day the rollup is not for yet read the live figures, as before.
- **Checked nightly** (`check_figures`, job "check_figures" at 02:42, between two refreshes;
  `manage.py figures --check --date D`): an incremental refresh, then the rollup against the same selector over the
  whole city, both in one REPEATABLE READ snapshot; every difference is logged as an error and returned.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from households.models import Dwelling, Household, Township
from housing_safety.access import ROLE_PERMISSIONS, SYSTEM, Role, Scope, ScopeReader, scope_of
from housing_safety.workspace import Figures
from inspections.models import Appraisal, Placard, Revisit, SecuredHousing
from rectification.models import Complaint, Problem, RenovationCase, SubsidyPayment

from .models import COUNT_FIGURES, MONEY_FIGURES, AreaFigures, FiguresRefresh
from .selectors.figures import area_figures, split_place

logger = logging.getLogger(__name__)
FIGURES = (*COUNT_FIGURES, *MONEY_FIGURES)
# What area_figures counts, beyond the households the scope reaches: a reader lacking one of these sees zeros there.
NEEDED_PERMISSIONS = (
    "rectification.view_renovationcase",
    "rectification.view_subsidypayment",
    "rectification.view_problem",
    "rectification.view_complaint",
)


class _TownshipsReader(ScopeReader):
    """The bureau's permissions over some townships: the whole city's figures of those townships, each selector
    narrowed as a township's pages are."""

    def __init__(self, township_ids):
        super().__init__(Scope(role=Role.TOWNSHIP_STAFF, township_ids=frozenset(township_ids)))
        self._permissions = ROLE_PERMISSIONS[Role.BUREAU_ADMIN]


def _state() -> FiguresRefresh:
    state, _created = FiguresRefresh.objects.get_or_create(pk=1)
    return FiguresRefresh.objects.select_for_update().get(pk=state.pk)


def changed_townships(since: datetime.datetime) -> set[int]:
    """Townships with a record changed after `since` that the figures read, in one UNION query."""
    households = Household.objects.filter(updated_at__gt=since).values("pk")
    history = Household.history.model.objects
    moved = history.filter(history_date__gt=since).values("id")
    parts = [
        # every township a changed household was ever in: a move leaves figures behind in the old one
        history.filter(Q(id__in=households) | Q(id__in=moved)).values_list("village__township_id"),
        Dwelling.objects.filter(updated_at__gt=since).values_list("household__village__township_id"),
        Revisit.objects.filter(updated_at__gt=since).values_list("dwelling__household__village__township_id"),
        RenovationCase.objects.filter(updated_at__gt=since).values_list("township_id"),
        Problem.objects.filter(updated_at__gt=since).values_list("township_id"),
        Complaint.objects.filter(updated_at__gt=since).values_list("township_id"),
        SubsidyPayment.objects.filter(recorded_at__gt=since).values_list("case__township_id"),
        Appraisal.objects.filter(recorded_at__gt=since).values_list("dwelling__household__village__township_id"),
        SecuredHousing.history.model.objects.filter(history_date__gt=since).values_list(
            "household__village__township_id"
        ),
        Placard.history.model.objects.filter(history_date__gt=since).values_list("household__village__township_id"),
    ]
    # without the models' default orderings (the history's): SQLite allows no ORDER BY inside a UNION's parts
    rows = parts[0].order_by().union(*(part.order_by() for part in parts[1:]))
    return {township_id for (township_id,) in rows if township_id is not None}


def compute(day: datetime.date, township_ids=None) -> dict[tuple[int, int | None], dict]:
    """{(township id, village id or None): figures} recomputed from the records, for the given townships or the
    whole city: the dashboard's own selector, grouped by place."""
    reader = SYSTEM if township_ids is None else _TownshipsReader(township_ids)
    places = area_figures(reader, by="place", day=day)
    result = {}
    for place, values in places.items():
        row = {key: values[key] for key in COUNT_FIGURES}
        row.update({key: Decimal(repr(values[key])).quantize(Decimal("0.01")) for key in MONEY_FIGURES})
        result[split_place(place)] = row
    return result


def refresh_figures(*, day: datetime.date, full: bool = False) -> int:
    """Bring the rollup up to date for `day`: the townships whose records changed since the last refresh, or every
    township on a new day (or `full`). Returns the number of townships refreshed. Idempotent: run again with
    nothing changed, it rewrites the same rows of the townships still within the overlap window, or none."""
    with transaction.atomic():
        state = _state()
        started = timezone.now()  # every change committed before this is read below
        if full or state.day != day or state.as_of is None:
            townships = None
        else:
            overlap = datetime.timedelta(minutes=settings.FIGURES_REFRESH_OVERLAP_MINUTES)
            townships = changed_townships(state.as_of - overlap)
        if townships is None or townships:
            rows = compute(day, townships)
            stale = (
                AreaFigures.objects.all()
                if townships is None
                else AreaFigures.objects.filter(township_id__in=townships)
            )
            stale.delete()
            AreaFigures.objects.bulk_create(
                AreaFigures(township_id=t, village_id=v, day=day, refreshed_at=started, **values)
                for (t, v), values in rows.items()
            )
        count = Township.objects.count() if townships is None else len(townships)
        state.day, state.as_of, state.refreshed_townships = day, started, count
        state.save(update_fields=["day", "as_of", "refreshed_townships"])
    return count


def stored(day: datetime.date | None = None) -> dict[tuple[int, int | None], dict]:
    rows = AreaFigures.objects.all() if day is None else AreaFigures.objects.filter(day=day)
    return {
        (row["township_id"], row["village_id"]): {key: row[key] for key in FIGURES}
        for row in rows.values("township_id", "village_id", *FIGURES)
    }


def differences(day: datetime.date) -> list[dict]:
    """Every place whose stored figures differ from a recomputation from scratch for `day`. Call it inside
    `same_snapshot()` to compare the rollup and the records as of one moment."""
    fresh, kept = compute(day), stored()
    state = FiguresRefresh.objects.filter(pk=1).first()
    found = []
    if state is None or state.day != day:
        found.append({"place": None, "figure": "day", "rollup": state and state.day, "recomputed": day})
    zeros = dict.fromkeys(FIGURES, 0)
    for place in sorted(set(fresh) | set(kept), key=lambda p: (p[0], p[1] or 0)):
        ours, theirs = kept.get(place, zeros), fresh.get(place, zeros)
        for key in FIGURES:
            if ours[key] != theirs[key]:
                found.append({"place": place, "figure": key, "rollup": ours[key], "recomputed": theirs[key]})
    return found


def check_figures(*, day: datetime.date) -> list[dict]:
    """The nightly check: an incremental refresh, then the rollup against a recomputation of the whole city. There
    must be no difference; each one is logged as an error (and returned). Both in one snapshot of the database, so
    a change committed meanwhile is neither a difference nor missed."""
    with same_snapshot():
        refresh_figures(day=day)
        found = differences(day)
    for difference in found:
        logger.error("figures rollup differs from a recomputation: %s", difference)
    return found


@contextlib.contextmanager
def same_snapshot():
    """A transaction whose every statement sees the database as of its first (PostgreSQL's REPEATABLE READ). Inside
    another transaction (a test's) it is that one's savepoint. A refresh that holds the rollup's lock meanwhile
    makes this one fail with a serialization error: the job runs again a minute later (tasks.run_job's retry)."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


# Reading ---------------------------------------------------------------------------------------------------------


def _serves(scope: Scope) -> bool:
    """Whether the rollup's rows add up to this scope: whole townships (the bureau, complaint clerks, township staff),
    not a department's own list of households."""
    return scope.everything or scope.role == Role.TOWNSHIP_STAFF


def _held(day: datetime.date) -> FiguresRefresh | None:
    """The rollup's state when it holds `day` (one query), else None."""
    return FiguresRefresh.objects.filter(pk=1, day=day, as_of__isnull=False).first()


def current(user, day: datetime.date) -> FiguresRefresh | None:
    """The rollup's state when it can give this user's figures for `day` (one query), else None: read live."""
    if not _serves(scope_of(user)) or not all(user.has_perm(permission) for permission in NEEDED_PERMISSIONS):
        return None
    return _held(day)


def totals(user, day: datetime.date):
    """The user's whole scope summed (housing_safety.workspace.Figures: the homes' counts), when the rollup holds
    `day` and the user's scope is whole townships; else None. Two queries. Unlike `current`, the permissions are the
    caller's to check: each figure equals the live count for a reader who may see that kind of record."""
    scope = scope_of(user)
    if not _serves(scope) or (state := _held(day)) is None:
        return None
    rows = (
        AreaFigures.objects.all()
        if scope.everything
        else AreaFigures.objects.filter(township_id__in=scope.township_ids)
    )
    values = rows.aggregate(**{key: Sum(key) for key in COUNT_FIGURES})
    return Figures({key: value or 0 for key, value in values.items()}, state.as_of)


def summed(*, by: str, township_ids=None, township_id: int | None = None) -> dict[int, dict]:
    """{township or village id: figures} summed over the rollup's rows in one query, in area_figures' shape."""
    rows = AreaFigures.objects.all()
    if township_ids is not None:
        rows = rows.filter(township_id__in=township_ids)
    if township_id is not None:
        rows = rows.filter(township_id=township_id)
    group = "township_id" if by == "township" else "village_id"
    result = {}
    for row in rows.values(group).annotate(**{key: Sum(key) for key in FIGURES}).order_by():
        area = row.pop(group)
        if area is None:
            continue  # a township's records without a village count only by township
        for key in MONEY_FIGURES:
            row[key] = float(row[key])
        row["placard_share"] = 0
        result[area] = row
    return result
