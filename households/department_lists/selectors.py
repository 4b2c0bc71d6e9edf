"""Reads of department lists: who sees and imports which, the outcome counts of a comparison, and the reconciliation
(信息比对) of each department's latest list with our records."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.cache import cache
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Count, QuerySet

from housing_safety.access import scope_of

from ..models import DepartmentList, Household, ListRow, Township, Unit
from .parse import FIELD_LABELS

IMPORT = "households.add_departmentlist"


def lists_for_user(user: AbstractBaseUser) -> QuerySet[DepartmentList]:
    """The bureau sees every department's lists; a liaison their own department's; others none."""
    if not user.has_perm("households.view_departmentlist"):
        return DepartmentList.objects.none()
    lists = DepartmentList.objects.select_related("unit", "uploaded_by")
    scope = scope_of(user)
    if scope.everything:
        return lists
    return lists.filter(unit_id=scope.unit_id) if scope.unit_id else lists.none()


def units_for_import(user: AbstractBaseUser) -> QuerySet[Unit]:
    """The departments whose lists the user may upload and confirm: a liaison's own, any for the bureau admin."""
    if not user.has_perm(IMPORT):
        return Unit.objects.none()
    departments = Unit.objects.filter(kind=Unit.Kind.DEPARTMENT, is_active=True)
    scope = scope_of(user)
    if scope.everything:
        return departments
    return departments.filter(pk=scope.unit_id) if scope.unit_id else departments.none()


def count_outcomes(department_list: DepartmentList) -> dict:
    counts = dict.fromkeys(ListRow.Outcome.values, 0)
    counts.update(dict(department_list.rows.values_list("outcome").annotate(n=Count("pk")).order_by()))
    counts["rows"] = sum(counts[outcome] for outcome in ListRow.Outcome.values)
    counts["missing"] = missing_households(department_list).count()
    return counts


def missing_households(department_list: DepartmentList) -> QuerySet[Household]:
    """Households of that department on our list but not on theirs."""
    return _not_listed(department_list.unit, [department_list.pk])


def _not_listed(unit: Unit, list_ids: list[int]) -> QuerySet[Household]:
    """The department's active households on none of these lists, by ID number or by an accepted match."""
    rows = ListRow.objects.filter(department_list__in=list_ids)
    return (
        Household.objects.filter(source=unit, status=Household.Status.ACTIVE)
        .exclude(id_number__in=rows.exclude(id_number="").values("id_number"))
        .exclude(pk__in=rows.filter(household__isnull=False).values("household_id"))
    )


# Reconciliation (信息比对) ----------------------------------------------------------------------------------------

AGREE, DIFFER, THEIRS, UNREADABLE, OURS = "consistent", "different", "only_theirs", "invalid", "only_ours"


def latest_lists(user: AbstractBaseUser) -> list[list[DepartmentList]]:
    """Per department in the user's scope, its latest list: every readable upload with the newest list date, oldest
    first (a list may come in several files, such as the rows fixed after a first upload). Two queries."""
    groups: dict[int, list[DepartmentList]] = {}
    readable = lists_for_user(user).filter(
        status__in=[DepartmentList.Status.PREVIEWED, DepartmentList.Status.CONFIRMED]
    )
    for department_list in readable.order_by("-listed_on", "uploaded_at", "pk"):
        group = groups.setdefault(department_list.unit_id, [])
        if not group or group[0].listed_on == department_list.listed_on:
            group.append(department_list)
    return sorted(groups.values(), key=lambda group: group[0].unit.name)


def _standing(outcome: str, applied: bool, changes: dict, proposed: dict, full: bool) -> tuple[str, dict]:
    """Where a row stands against our records now, and in which fields it differs. A confirmed list's applied
    differences agree with our records; its proposals still differ until the township decides (the next list tells).
    Outside the bureau (`full`), a household registered elsewhere differs only in what the department may apply:
    its categories; the other differences are the township's, and are not shown to the department."""
    if outcome == ListRow.Outcome.INVALID:
        return UNREADABLE, {}
    if outcome in (ListRow.Outcome.NEW, ListRow.Outcome.SUGGESTED) and not applied:
        return THEIRS, {}
    visible = proposed if full or outcome == ListRow.Outcome.CHANGED else {}
    differences = visible if applied else {**changes, **visible}
    return (DIFFER if differences else AGREE), differences


def consistency(counts: dict) -> float | None:
    compared = sum(counts.get(key, 0) for key in (AGREE, DIFFER, THEIRS, UNREADABLE, OURS))
    return counts.get(AGREE, 0) / compared if compared else None


def _rows_of(group: list[DepartmentList], full: bool):
    """The group's rows as they stand: a later upload's row replaces an earlier one with the same ID number, and
    only the newest upload's invalid rows count (the earlier ones were fixed and uploaded again)."""
    confirmed = {item.pk for item in group if item.status == DepartmentList.Status.CONFIRMED}
    newest = group[-1].pk
    rows = (
        ListRow.objects.filter(department_list__in=[item.pk for item in group])
        .order_by("department_list__uploaded_at", "department_list_id", "row_number")
        .values_list(
            "department_list_id",
            "outcome",
            "household_id",
            "suggested_id",
            "id_number",
            "village__township_id",
            "household__village__township_id",
            "changes",
            "proposed",
        )
    )
    current: dict[str, tuple] = {}
    unnamed = []
    for row in rows.iterator(2000):
        list_id, outcome, household_id, suggested_id, id_number, row_township, our_township, changes, proposed = row
        if outcome == ListRow.Outcome.INVALID and list_id != newest:
            continue
        applied = list_id in confirmed and (outcome != ListRow.Outcome.SUGGESTED or household_id is not None)
        entry = (*_standing(outcome, applied, changes, proposed, full), our_township or row_township)
        # One entry per household: a later row for the same household (by match or by ID number) replaces it.
        key = household_id or suggested_id or (id_number if outcome != ListRow.Outcome.INVALID else None)
        if key:
            current[key] = entry
        else:
            unnamed.append(entry)
    return [*current.values(), *unnamed]


def _reconcile(group: list[DepartmentList], full: bool) -> dict:
    keys = (AGREE, DIFFER, THEIRS, UNREADABLE, OURS)
    by_township: dict[int | None, dict] = {}
    fields: dict[str, int] = {}
    for bucket, changes, township_id in _rows_of(group, full):
        by_township.setdefault(township_id, dict.fromkeys(keys, 0))[bucket] += 1
        if bucket == DIFFER:
            for name in changes:
                fields[name] = fields.get(name, 0) + 1
    missing = _not_listed(group[0].unit, [item.pk for item in group])
    for township_id, n in missing.values_list("village__township_id").annotate(n=Count("pk")).order_by():
        by_township.setdefault(township_id, dict.fromkeys(keys, 0))[OURS] = n
    total = {key: sum(counts[key] for counts in by_township.values()) for key in keys}
    ordered = sorted(by_township.items(), key=lambda item: (item[0] is None, item[0] or 0))
    return {
        "total": {**total, "rate": consistency(total)},
        "fields": sorted(fields.items(), key=lambda item: -item[1]),
        "rows": [{"township": township_id, **counts, "rate": consistency(counts)} for township_id, counts in ordered],
    }


def field_label(name: str) -> str:
    """A compared field by the name its column has on a department's list (or the household's field's name)."""
    if name in FIELD_LABELS:
        return str(FIELD_LABELS[name])
    try:
        return str(Household._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def reconciliation(user: AbstractBaseUser) -> list[dict]:
    """Per department: its latest list against our records, per township and in total: in both and consistent, in
    both with differences (and in which fields), only on their list (new, or a match still to confirm), rows we
    could not read, only on ours; and the consistency rate."""
    townships = {t.pk: t for t in Township.objects.all()}
    report = []
    for group in latest_lists(user):
        # A department's figures are kept for RECONCILIATION_CACHE_SECONDS per set of uploads and their status, so
        # the dashboard does not re-read 100,000-row lists on every visit.
        full = scope_of(user).everything
        key = f"reconciliation:{int(full)}:" + ",".join(f"{item.pk}-{item.status}" for item in group)
        department = cache.get(key)
        if department is None:
            department = _reconcile(group, full)
            cache.set(key, department, settings.RECONCILIATION_CACHE_SECONDS)
        department["townships"] = [{**row, "township": townships.get(row["township"])} for row in department["rows"]]
        names = [(field_label(name), count) for name, count in department["fields"]]  # as people read them
        report.append({**department, "field_names": names, "list": group[-1], "lists": group, "unit": group[0].unit})
    return report
