"""Lists page by a cursor on an indexed key, so page 1,000 costs what page 1 costs (no OFFSET, no COUNT).

By pk; with ?changed_since= (incremental sync) by updated_at then pk, each view's queryset filtered on
updated_at >= changed_since (views.ApiReadViewSet). ?page_size= up to settings.API_MAX_PAGE_SIZE."""

from __future__ import annotations

from django.conf import settings
from rest_framework.pagination import CursorPagination

CHANGED_SINCE = "changed_since"


class ApiCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    ordering = ("pk",)

    @property
    def max_page_size(self) -> int:
        return settings.API_MAX_PAGE_SIZE

    def get_ordering(self, request, queryset, view):
        if request.query_params.get(CHANGED_SINCE):
            return ("updated_at", "pk")
        return self.ordering
