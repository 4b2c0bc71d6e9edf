"""Pages whose cost does not grow with the table: the count stops at COUNT_LIMIT rows.

A list's page reads 50 rows through an index, but Django's paginator first counts every matching row, which over
half a million households costs more than the page itself. Counting `SELECT COUNT(*) FROM (... LIMIT 2001)` reads
at most two thousand and one rows; past that the page says "more than 2,000" and offers the first 40 pages (whoever
needs row 2,001 narrows the filter or downloads the export; the dashboard has the exact totals). With 10,000 a
township's household list still cost twice as much at 500,000 households as at 20,000.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

COUNT_LIMIT = 2_000


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
