"""Comparing a chunk of parsed rows with our households (one query by ID number, one for suggestions by name, birth
date and village), and the rule of what a list may change (split_changes)."""

from __future__ import annotations

from collections.abc import Iterable
from types import SimpleNamespace

from django.utils.translation import gettext as _

from ..models import DepartmentList, Household, ListRow, Unit
from .parse import FIELD_LABELS, Parsed, Villages


def _categories_text(codes: Iterable[str]) -> str:
    codes = sorted(set(codes))
    return f",{','.join(codes)}," if codes else ""


MATCHED_FIELDS = (
    "pk",
    "id_number",
    "head_name",
    "phone",
    "village_id",
    "members_count",
    "source_id",
    "status",
    "poverty_status",
    "poverty_exit_year",
    "newly_poor_on",
)


def categories_of(household_ids: Iterable[int]) -> dict[int, set[str]]:
    categories: dict[int, set[str]] = {}
    through = Household.categories.through.objects.filter(household_id__in=list(household_ids))
    for household_id, code in through.values_list("household_id", "householdcategory__code"):
        categories.setdefault(household_id, set()).add(code)
    return categories


def compare_rows(
    parsed: list[Parsed], unit: Unit, department_list: DepartmentList, seen: dict[str, int], villages: Villages
) -> list:
    """One chunk: match by ID number (one query), suggest by name + birth date + village (one query)."""
    ids = [p.values["id_number"] for p in parsed if p.values.get("id_number") and not p.values.get("id_error")]
    ours = {h["id_number"]: h for h in Household.objects.filter(id_number__in=ids).values(*MATCHED_FIELDS)}
    categories = categories_of(h["pk"] for h in ours.values())
    unmatched = [p for p in parsed if not p.errors and (not p.values.get("id_number") or p.values.get("id_error"))]
    candidates: dict[tuple[str, int], list[dict]] = {}
    if unmatched:
        similar = Household.objects.filter(
            head_name__in={p.values["head_name"] for p in unmatched},
            village_id__in={p.values.get("village_id") for p in unmatched if p.values.get("village_id")},
        ).values("pk", "head_name", "village_id", "id_number")
        for h in similar:
            candidates.setdefault((h["head_name"], h["village_id"]), []).append(h)
    rows = []
    for p in parsed:
        v = p.values
        # A plain record, not a model instance: building 100,000 ListRow objects costs more than writing them.
        row = SimpleNamespace(
            department_list_id=department_list.pk,
            row_number=p.row_number,
            raw=p.raw,
            outcome="",
            household_id=None,
            suggested_id=None,
            changes={},
            proposed={},
            errors=[],
            head_name=v.get("head_name", ""),
            id_number=v.get("id_number", "")[:18],
            phone=v.get("phone", ""),
            village_id=v.get("village_id"),
            categories=_categories_text(v.get("categories", [])),
            members_count=v.get("members_count"),
            poverty_status=v.get("poverty_status", ""),
            poverty_exit_year=v.get("poverty_exit_year"),
        )
        v["listed_on"] = department_list.listed_on
        errors = list(p.errors)
        id_number = v.get("id_number")
        if id_number and not v.get("id_error") and id_number in seen:
            errors.append([p.id_label, _("The same ID number as row %(row)s.") % {"row": seen[id_number]}])
        elif id_number and not v.get("id_error"):
            seen[id_number] = p.row_number
        if errors:
            row.outcome, row.errors = ListRow.Outcome.INVALID, errors
        elif id_number and not v.get("id_error"):
            household = ours.get(id_number)
            if _exited_without_year(v, household):
                row.outcome, row.errors = (
                    ListRow.Outcome.INVALID,
                    [[str(FIELD_LABELS["poverty_exit_year"]), _no_exit_year()]],
                )
            elif household is None:
                if v.get("village_id") is None:
                    row.outcome = ListRow.Outcome.INVALID
                    row.errors = [[str(FIELD_LABELS["village"]), _("A new household needs its township and village.")]]
                else:
                    row.outcome = ListRow.Outcome.NEW
            else:
                row.household_id = household["pk"]
                row.changes, row.proposed = split_changes(
                    household, v, categories.get(household["pk"], set()), unit, villages.township_of
                )
                if household["source_id"] != unit.pk:
                    row.outcome = ListRow.Outcome.REGISTERED  # whatever differs: the liaison learns only that
                else:
                    changed = row.changes or row.proposed
                    row.outcome = ListRow.Outcome.CHANGED if changed else ListRow.Outcome.UNCHANGED
        else:
            reason = v.get("id_error") or _("The ID number is empty.")
            matches = [
                h
                for h in candidates.get((v.get("head_name"), v.get("village_id")), [])
                if p.birth_date and h["id_number"] and h["id_number"][6:14] == f"{p.birth_date:%Y%m%d}"
            ]
            if len(matches) == 1:
                row.outcome, row.suggested_id = ListRow.Outcome.SUGGESTED, matches[0]["pk"]
                row.errors = [[p.id_label, reason]]
            else:
                row.outcome, row.errors = ListRow.Outcome.INVALID, [[p.id_label, reason]]
        rows.append(row)
    return rows


def _exited_without_year(values: dict, household: dict | None) -> bool:
    """已脱贫 needs its year: from the list, or already on our record."""
    return (
        values.get("poverty_status") == Household.PovertyStatus.EXITED
        and not values.get("poverty_exit_year")
        and not (household or {}).get("poverty_exit_year")
    )


def _no_exit_year() -> str:
    return _(
        "已脱贫 needs the year the household got out of poverty: write it in the cell, as "
        "建档立卡贫困户（2019年脱贫）, or add a column 脱贫年度."
    )


# What a list may change on its own households: the poverty state is the department's record like the name.
DIRECT_FIELDS = (
    "head_name",
    "phone",
    "village",
    "members_count",
    "poverty_status",
    "poverty_exit_year",
    "newly_poor_on",
)


def split_changes(
    household: dict, values: dict, categories: set[str], unit: Unit, township_of: dict[int, int]
) -> tuple[dict, dict]:
    """The differences between a list's row and our household, each [ours, theirs], split into what confirming
    applies and what it proposes to the township. A department's authority is its own programme: it adds its
    categories to any household, and changes name, phone, members and village only on its own households (source),
    within their township. A move between townships, taking a removed household back onto the list and taking over
    the source are never applied by a list: they, and every difference on another's household, are proposed."""
    differences = {}
    if values.get("head_name") and values["head_name"] != household["head_name"]:
        differences["head_name"] = [household["head_name"], values["head_name"]]
    if values.get("phone") and values["phone"] != household["phone"]:
        differences["phone"] = [household["phone"], values["phone"]]
    if values.get("village_id") and values["village_id"] != household["village_id"]:
        differences["village"] = [household["village_id"], values["village_id"]]
    if values.get("members_count") and values["members_count"] != household["members_count"]:
        differences["members_count"] = [household["members_count"], values["members_count"]]
    differences.update(_state_differences(household, values))
    if household["source_id"] is None:
        differences["source"] = [None, unit.pk]
    if household["status"] != Household.Status.ACTIVE:
        differences["status"] = [household["status"], Household.Status.ACTIVE]
    applied = {}
    added = set(values.get("categories", [])) - categories
    if added:
        applied["categories"] = [sorted(categories), sorted(categories | added)]
    if household["source_id"] == unit.pk:
        moves = "village" in differences and township_of.get(differences["village"][0]) != township_of.get(
            differences["village"][1]
        )
        for name in DIRECT_FIELDS:
            if name in differences and not (name == "village" and moves):
                applied[name] = differences.pop(name)
    return applied, differences


def _state_differences(household: dict, values: dict) -> dict:
    """The poverty state a list gives that differs from ours, with what the state needs: the year out of poverty
    (the list's, else ours), the date the household became newly poor (ours, else the list's date)."""
    status = values.get("poverty_status")
    if not status:
        return {}
    differences = {}
    if status != household["poverty_status"]:
        differences["poverty_status"] = [household["poverty_status"], status]
    year = values.get("poverty_exit_year")
    if status == Household.PovertyStatus.EXITED and year and year != household["poverty_exit_year"]:
        differences["poverty_exit_year"] = [household["poverty_exit_year"], year]
    if status == Household.PovertyStatus.NEWLY_POOR and not household["newly_poor_on"] and values.get("listed_on"):
        differences["newly_poor_on"] = [None, f"{values['listed_on']:%Y-%m-%d}"]
    return differences
