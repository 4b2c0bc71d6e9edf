"""Column lists for set-based SQL (INSERT … SELECT, COPY) built from the model, so that a field added later cannot
be missed by a hand-written list: the statement names the columns it fills from its source, and every other
concrete column gets the model's default (auto_now fields the time of the write), as `Model.objects.create` would.
A new NOT NULL field without a default is an error naming it, raised before the statement runs."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Mapping, Sequence

from django.db import connection
from django.db.models import Field, Model


def defaults_besides(model: type[Model], given: Iterable[str], *, now: datetime.datetime) -> list[tuple[Field, object]]:
    """(field, default value) for every concrete column of `model` but an automatic primary key and those `given`
    (attnames, e.g. `village_id`)."""
    given = set(given)
    unknown = given - {field.attname for field in model._meta.concrete_fields}
    if unknown:
        raise ValueError(f"{model._meta.label} has no column {', '.join(sorted(unknown))}")
    defaults = []
    for field in model._meta.concrete_fields:
        if field.attname in given or (field.primary_key and field.get_internal_type().endswith("AutoField")):
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        else:
            value = field.get_default()
        if value is None and not field.null:
            raise ValueError(f"{model._meta.label}.{field.name} has no default: the statement must give it")
        defaults.append((field, value))
    return defaults


def insert_select(model: type[Model], given: Mapping[str, str], *, now: datetime.datetime) -> tuple[str, str, list]:
    """For `INSERT INTO <table> (<columns>) SELECT <expressions> …`: the quoted columns, the SELECT list and the
    parameters of the defaults. `given` maps attnames to SQL expressions; they come first in the SELECT list, in
    that order, so the caller's own parameters (for any %s in them) go before the returned ones."""
    quote = connection.ops.quote_name
    defaults = defaults_besides(model, given, now=now)
    by_attname = {field.attname: field for field in model._meta.concrete_fields}
    columns = [by_attname[name].column for name in given] + [field.column for field, _value in defaults]
    expressions = [*given.values(), *["%s"] * len(defaults)]
    params = [field.get_db_prep_save(value, connection=connection) for field, value in defaults]
    return ", ".join(quote(column) for column in columns), ", ".join(expressions), params


def copy_csv(model: type[Model], given: Sequence[str], *, now: datetime.datetime) -> tuple[str, list[str]]:
    """For `COPY <table> (<columns>) FROM STDIN WITH (FORMAT csv, NULL '\\N')`: the quoted columns, `given`
    (attnames) first in that order, and the CSV cells of the defaults, to write after each row's own cells."""
    quote = connection.ops.quote_name
    defaults = defaults_besides(model, given, now=now)
    by_attname = {field.attname: field for field in model._meta.concrete_fields}
    columns = [by_attname[name].column for name in given] + [field.column for field, _value in defaults]
    return ", ".join(quote(column) for column in columns), [csv_cell(value) for _field, value in defaults]


def csv_cell(value) -> str:
    """A value as COPY's CSV reads it, with NULL spelled \\N."""
    if value is None:
        return "\\N"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def touching(values: Mapping[str, object], *, field: str = "updated_at") -> dict[str, object]:
    """`values` for a set-based `QuerySet.update`, plus `field` set to now on the rows where one of them changes (an
    UPDATE skips auto_now, and an API caller syncing by `changed_since` must still see a row whose stored state
    changed). Each expression is compared with the row's value before the statement, as SQL's SET reads them."""
    from django.db.models import Case, F, Q, When
    from django.db.models.functions import Now
    from django.db.models.lookups import IsNull

    changed = Q()
    for name, value in values.items():
        # NULL-safe: Django's negated lookup counts a NULL column as different; a NULL new value is checked apart.
        changed |= ~Q(**{name: value}) | (Q(IsNull(value, True)) & Q(**{f"{name}__isnull": False}))
    return {**values, field: Case(When(changed, then=Now()), default=F(field))}
