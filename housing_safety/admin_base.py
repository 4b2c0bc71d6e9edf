"""Admin rules every app's ModelAdmin shares: rows come from the app's scoped selector, an object outside
the user's scope is a 404 (not the admin's redirect with a message), history is scoped the same way,
and nothing is hard-deleted from the admin unless a model admin says so explicitly."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max
from django.http import Http404
from django.utils.translation import gettext as _
from simple_history.admin import SimpleHistoryAdmin

from .pagination import BoundedPaginator

VERSION_FIELD = "_version"


def record_version(model, pk, *, lock: bool = False) -> str:
    """A record's version: its newest history row. A save reads it under a row lock (`lock`, inside the admin's
    transaction), so of two saves of the same record the second waits for the first to commit and then sees the
    version it wrote. Showing the form (a GET, outside any transaction) only reads it."""
    if lock:
        list(model._default_manager.select_for_update().filter(pk=pk).values_list("pk", flat=True))
    newest = model.history.filter(**{model._meta.pk.attname: pk}).aggregate(newest=Max("history_id"))["newest"]
    return str(newest or "")


def versioned(form_class, model, pk):
    """The change form refuses to save over a version newer than the one it was loaded at (optimistic locking):
    two people editing the same household both start from version N; the first save makes N+1, the second is
    told so and writes nothing. A save that does not say which version it was loaded at is refused the same way
    (otherwise leaving `_version` out would skip the check); a record without history rows is at version ""."""

    class VersionedForm(form_class):
        def clean(self):
            cleaned = super().clean()
            loaded = self.data.get(VERSION_FIELD)
            if loaded is None or loaded != record_version(model, pk, lock=True):
                raise ValidationError(
                    _(
                        "Someone else saved this record after you opened it. Your changes were not saved: reload the "
                        "page to see the current record, then make your changes again."
                    ),
                    code="stale",
                )
            return cleaned

    VersionedForm.__name__ = form_class.__name__
    return VersionedForm


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written only by the services and jobs: the admin reads them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class HistoryAdmin(SimpleHistoryAdmin):
    """Every admin of a model with history: saved versions are for reading only (reverting would bypass the
    services, and SIMPLE_HISTORY_REVERT_DISABLED only hides the button), and the change form refuses to save over a
    newer version than it was loaded at (`versioned`)."""

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method != "GET":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            return form
        return versioned(form, self.model, obj.pk)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            # A form sent back with errors keeps the version it was first loaded at.
            context[VERSION_FIELD.lstrip("_") + "_token"] = request.POST.get(VERSION_FIELD) or record_version(
                self.model, obj.pk
            )
        return super().render_change_form(request, context, add, change, form_url, obj)


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
        # One saved version: scoped like the record (HistoryAdmin keeps it read-only).
        self.get_object(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def has_delete_permission(self, request, obj=None):
        return self.allow_delete and super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.allow_delete:
            actions.pop("delete_selected", None)
        return actions
