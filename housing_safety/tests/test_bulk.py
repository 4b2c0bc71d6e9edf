"""Column lists of set-based SQL come from the model: every concrete column is named, the ones a statement does not
fill get the model's default, and a NOT NULL column without one is refused by name before the statement runs."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from households.models import ChangeProposal, Household, HousingStatus, ListRow
from housing_safety.bulk import copy_csv, defaults_besides, insert_select

NOW = timezone.make_aware(datetime.datetime(2026, 5, 6, 7, 8, 9))
LISTED = {"head_name": "r.head_name", "id_number": "r.id_number", "village_id": "r.village_id"}


def columns_of(model) -> list[str]:
    return [connection.ops.quote_name(f.column) for f in model._meta.concrete_fields if not f.primary_key]


def test_an_insert_names_every_column_of_the_model_with_the_given_ones_first():
    columns, values, params = insert_select(Household, LISTED, now=NOW)
    assert sorted(columns.split(", ")) == sorted(columns_of(Household))
    assert columns.split(", ")[:3] == [connection.ops.quote_name(c) for c in ("head_name", "id_number", "village_id")]
    assert values.split(", ")[:3] == ["r.head_name", "r.id_number", "r.village_id"]
    assert values.split(", ")[3:] == ["%s"] * len(params) and len(params) == len(columns_of(Household)) - 3


def test_the_other_columns_get_the_models_defaults_and_auto_now_the_time_given():
    defaults = {field.name: value for field, value in defaults_besides(Household, LISTED, now=NOW)}
    assert defaults["status"] == Household.Status.ACTIVE and defaults["home_status"] == HousingStatus.UNAPPRAISED
    assert defaults["flag_connected_uncooperative"] is False and defaults["members_count"] == 1
    assert defaults["created_at"] == defaults["updated_at"] == NOW
    assert defaults["registered_on"] == timezone.localdate() and defaults["notes"] == ""
    assert defaults["source"] is None and defaults["removed_on"] is None  # nullable: NULL


def test_a_not_null_column_without_a_default_must_be_given():
    with pytest.raises(ValueError, match=r"ChangeProposal\.department_list has no default"):
        defaults_besides(ChangeProposal, ["household_id"], now=NOW)
    with pytest.raises(ValueError, match="has no column nonsense"):
        defaults_besides(Household, ["head_name", "nonsense"], now=NOW)


def test_copy_cells_spell_null_json_and_booleans_as_copy_reads_them():
    given = [f.attname for f in ListRow._meta.concrete_fields if f.name not in ("id", "changes", "errors", "suggested")]
    columns, cells = copy_csv(ListRow, given, now=NOW)
    assert columns.split(", ")[-3:] == [connection.ops.quote_name(c) for c in ("suggested_id", "changes", "errors")]
    assert cells == ["\\N", "{}", "[]"]
    left = ("flag_leaking", "created_at", "removed_on")
    given = [f.attname for f in Household._meta.concrete_fields if f.name not in ("id", *left)]
    _columns, cells = copy_csv(Household, given, now=NOW)
    assert sorted(cells) == sorted(["False", str(NOW), "\\N"])
