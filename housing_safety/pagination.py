"""Pages whose cost does not grow with the table: the count stops at COUNT_LIMIT rows.

A list's page reads 50 rows through an index, but Django's paginator first counts every matching row, which over
half a million households costs more than the page itself. Counting `SELECT COUNT(*) FROM (... LIMIT 10001)` reads
at most ten thousand and one index entries; past that the page says "more than 10,000" and offers the first 200
pages (whoever needs row 10,001 narrows the filter or downloads the export).
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

COUNT_LIMIT = 10_000


class BoundedPaginator(Paginator):
    count_limit = COUNT_LIMIT

    @cached_property
    def _counted(self) -> int:
        if isinstance(self.object_list, QuerySet):
            # Without ORDER BY the database stops after count_limit + 1 rows in whatever order it finds them.
            return self.object_list.order_by()[: self.count_limit + 1].count()
        return len(self.object_list)

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.count_limit)

    @property
    def capped(self) -> bool:
        """More rows match than were counted: show the count as "more than" it."""
        return self._counted > self.count_limit
