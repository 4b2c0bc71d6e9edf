"""Admin rules every app's ModelAdmin shares: rows come from the app's scoped selector, an object outside
the user's scope is a 404 (not the admin's redirect with a message), history is scoped the same way,
and nothing is hard-deleted from the admin unless a model admin says so explicitly."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from .pagination import BoundedPaginator


class ScopedAdminMixin:
    #: selector(user) -> QuerySet of the rows the user may reach
    scope_selector = None
    #: extra select_related/prefetch for the changelist and exports
    list_prefetch: tuple[str, ...] = ()
    allow_delete = False
    # Counting stops at 2,000 rows (housing_safety.pagination); the total is not counted either.
    paginator = BoundedPaginator
    show_full_result_count = False

    def get_queryset(self, request):
        queryset = type(self).scope_selector(request.user)
        if self.list_prefetch:
            queryset = queryset.prefetch_related(*self.list_prefetch)
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj

    def history_view(self, request, object_id, extra_context=None):
        # simple-history falls back to historical rows when the object is not in get_queryset;
        # that would show another township's records, so the scope check comes first.
        self.get_object(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # One saved version, for reading only: scoped like the record, and never a way to write
        # (reverting would bypass the services, and SIMPLE_HISTORY_REVERT_DISABLED only hides the button).
        self.get_object(request, object_id)
        if request.method != "GET":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def has_delete_permission(self, request, obj=None):
        return self.allow_delete and super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.allow_delete:
            actions.pop("delete_selected", None)
        return actions
