"""Bulk writing for generate_synthetic: ids taken up front, rows written with COPY on PostgreSQL and with batched
bulk_create elsewhere (SQLite in the tests).

Rows are tuples in the order of the columns given; every other concrete column gets its model default (auto_now
fields the time of the run; housing_safety.bulk.defaults_besides), so a new field with a default does not break the
loader, and one without a default is an error naming it. For speed, COPY writes each
value as str(value) with NULL spelled None (True/False are valid booleans): so the generated strings must not hold
tabs, newlines or backslashes, nor be the word None; the generator's strings are fixed texts and numbers.
"""

from __future__ import annotations

import collections
import io
import json

from django.db import connection
from django.utils import timezone

from housing_safety.bulk import defaults_besides

ID_BLOCK = 20_000
BULK_BATCH = 2_000


def _copy_text(value) -> str:
    """A constant in the COPY text format used here: NULL is written None (see Loader.write)."""
    if isinstance(value, (list, dict)):
        value = json.dumps(value)
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


class Loader:
    def __init__(self):
        self.postgres = connection.vendor == "postgresql"
        self.now = timezone.now()
        self._ids: dict[type, collections.deque] = {}
        self._sequences: dict[type, str] = {}
        self._next_local: dict[type, int] = {}
        self.written: collections.Counter = collections.Counter()

    # Ids -------------------------------------------------------------------------------------------------------

    def next_id(self, model) -> int:
        """A primary key for a row about to be written (from the table's sequence on PostgreSQL, so that later
        ordinary inserts never collide; gaps from unused ids are harmless)."""
        if not self.postgres:
            if model not in self._next_local:
                last = model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
                self._next_local[model] = last + 1
            value = self._next_local[model]
            self._next_local[model] = value + 1
            return value
        queue = self._ids.setdefault(model, collections.deque())
        if not queue:
            with connection.cursor() as cursor:
                if model not in self._sequences:  # resolved once: per row it would cost ten times the nextval
                    cursor.execute(
                        "SELECT pg_get_serial_sequence(%s, %s)", [model._meta.db_table, model._meta.pk.column]
                    )
                    self._sequences[model] = cursor.fetchone()[0]
                cursor.execute(
                    "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [self._sequences[model], ID_BLOCK]
                )
                queue.extend(row[0] for row in cursor.fetchall())
        return queue.popleft()

    # Rows ------------------------------------------------------------------------------------------------------

    def write(self, model, columns: list[str], rows: list[tuple]) -> None:
        if not rows:
            return
        self.written[model._meta.label] += len(rows)
        if not self.postgres:
            objects = [model(**dict(zip(columns, row, strict=True))) for row in rows]
            model.objects.bulk_create(objects, batch_size=BULK_BATCH)
            return
        by_attname = {field.attname: field.column for field in model._meta.concrete_fields}
        constants = defaults_besides(model, columns, now=self.now)
        names = [by_attname[name] for name in columns] + [field.column for field, _value in constants]
        suffix = "".join("\t" + _copy_text(value) for _field, value in constants) + "\n"
        buffer = io.StringIO()
        write, join = buffer.write, "\t".join
        for row in rows:
            write(join(map(str, row)) + suffix)
        buffer.seek(0)
        quote = connection.ops.quote_name
        columns_sql = ", ".join(quote(name) for name in names)
        sql = f"COPY {quote(model._meta.db_table)} ({columns_sql}) FROM STDIN WITH (FORMAT text, NULL 'None')"
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(sql, buffer, size=1 << 20)

    def analyze(self, models) -> None:
        """Fresh planner statistics after a bulk load (PostgreSQL only; autovacuum would get there later)."""
        if not self.postgres:
            return
        with connection.cursor() as cursor:
            for model in models:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
