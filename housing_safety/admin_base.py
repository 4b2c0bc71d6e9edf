"""Admin rules every app's ModelAdmin shares: rows come from the app's scoped selector, an object outside
the user's scope is a 404 (not the admin's redirect with a message), history is scoped the same way,
and nothing is hard-deleted from the admin unless a model admin says so explicitly. Also the kit the apps' admins
build on that names no app's model: personal data masked (PersonalDataAdminMixin), filters by a record id
(filter_by_id), and the hook through which an app extends the admin of a model it builds on (extend_admin).

What needs an app's models (the township and village filters, the attachment inlines, the scoped import-export
admin reading spreadsheets the registry's way) is in households.admin_kit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db.models import Max, Model, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from . import disclosure
from .access import can_view_personal_data
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

    def get_historical_record_context_helper(self, request, historical_record):
        return ChoiceNamesContextHelper(self.model, historical_record)

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


def filter_by_id(queryset, path: str, value):
    """A list filter's query by the record id in the URL, answered like the admin's own field filters: a value that
    is no id (text, NUL: a 500 in the filter before) is the list's "invalid filter" answer (?e=1)."""
    if not value:
        return queryset
    try:
        return queryset.filter(**{path: value})
    except (ValueError, ValidationError) as error:
        raise IncorrectLookupParameters(error) from error


# Personal data ----------------------------------------------------------------------------------------------------


class ChoiceNamesContextHelper(HistoricalRecordContextHelper):
    """History deltas show a choice by its name, not by its stored code (a case's 村民评议 → 乡镇审核, not
    village_assessed → township_reviewed)."""

    def prepare_delta_change_value(self, change, value):
        try:
            choices = dict(self.model._meta.get_field(change.field).flatchoices or ())
        except FieldDoesNotExist:
            choices = {}
        if isinstance(value, str | int) and value in choices:
            return choices[value]
        return super().prepare_delta_change_value(change, value)


class MaskingContextHelper(ChoiceNamesContextHelper):
    """History deltas show personal fields masked (housing_safety.disclosure decides when)."""

    masked: dict[str, Callable] = {}

    def prepare_delta_change_value(self, change, value):
        if change.field in self.masked:
            return self.masked[change.field](value) if value else value
        return super().prepare_delta_change_value(change, value)


def masked_display(field: str, mask: Callable[[str], str], label):
    """The list and form column `masked_<field>` of a PersonalDataAdminMixin: the field through its mask."""

    def display(self, obj):
        return mask(getattr(obj, field))

    display.short_description = label
    return display


class PersonalDataAdminMixin:
    """ID and phone numbers appear masked in lists, forms, searches and history. A user whose role may see personal
    data sees a record's numbers in full after opening them with a reason (housing_safety.disclosure), and types them
    in full on a new record's form. Models that are not unmaskable (a unit's office phone) show in full to that role.

    `personal_fields` maps each field to its mask; the admin has a `masked_<field>` column for each (masked_display).
    """

    personal_fields: dict[str, Callable[[str], str]] = {}

    def _unmaskable(self) -> bool:
        return disclosure.record_type(self.model) in disclosure.UNMASKABLE

    def _masking(self, request, obj=None) -> bool:
        if not can_view_personal_data(request.user):
            return True
        if not self._unmaskable():
            return False
        return obj is not None and not disclosure.is_unmasked(request, obj)

    def _swap(self, names, masking: bool):
        if not masking:
            return list(names)
        return [f"masked_{n}" if n in self.personal_fields else n for n in names]

    def get_list_display(self, request):
        masking = not can_view_personal_data(request.user) or self._unmaskable()
        return self._swap(super().get_list_display(request), masking)

    def get_fieldsets(self, request, obj=None):
        masking = self._masking(request, obj)
        fieldsets = [
            (title, {**opts, "fields": self._swap(opts["fields"], masking)})
            for title, opts in super().get_fieldsets(request, obj)
        ]
        if masking and obj is not None and disclosure.may_unmask(request.user, disclosure.record_type(obj)):
            title, opts = fieldsets[0]
            fieldsets[0] = (title, {**opts, "fields": [*opts["fields"], "unmask_link"]})
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if self._masking(request, obj):
            readonly += [f"masked_{n}" for n in self.personal_fields] + ["unmask_link"]
        return readonly

    @admin.display(description=gettext_lazy("full numbers"))
    def unmask_link(self, obj):
        back = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
        url = reverse("unmask", args=[disclosure.record_type(obj), obj.pk]) + "?" + urlencode({"next": back})
        return format_html('<a href="{}">{}</a>', url, _("Show in full, with a reason (logged)"))

    def get_search_fields(self, request):
        # Numbers are never searched as text fields (a prefix would read a masked number back digit by digit): a
        # whole number, or the last four with a name, is searched by the app's own search rule.
        return [f for f in super().get_search_fields(request) if f.lstrip("^=@") not in self.personal_fields]

    def lookup_allowed(self, lookup, value, request=None):
        # Filtering by ?id_number__startswith=… would read a number back digit by digit, and ?id_number=… tell a
        # masked user whether a number exists: no filter by a number field, for any role.
        if lookup.split("__")[0] in self.personal_fields:
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_historical_record_context_helper(self, request, historical_record):
        if not self._masking(request, historical_record.instance):
            return super().get_historical_record_context_helper(request, historical_record)
        helper = MaskingContextHelper(self.model, historical_record)
        helper.masked = self.personal_fields
        return helper


# Extending another app's admin --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdminExtension:
    """What an app adds to the admin of a model it builds on, without unregistering that admin: list columns
    (callables with @admin.display, placed before the column `before_column`, or last), list filters (placed after
    the filter `after_filter`, or last) and what the rows need for them (`queryset`, e.g. an annotation)."""

    columns: tuple[Callable, ...] = ()
    before_column: str | None = None
    filters: tuple = ()
    after_filter: object = None
    queryset: Callable[[QuerySet], QuerySet] | None = None


ADMIN_EXTENSIONS: dict[type[Model], list[AdminExtension]] = {}


def extend_admin(model: type[Model], extension: AdminExtension) -> None:
    """Add `extension` to the admin of `model` (which must use ExtensibleAdminMixin); called once per extension,
    from the extending app's admin module."""
    extensions = ADMIN_EXTENSIONS.setdefault(model, [])
    if extension not in extensions:
        extensions.append(extension)


def _placed(items, new, anchor, *, after: bool) -> list:
    items = list(items)
    at = items.index(anchor) + (1 if after else 0) if anchor in items else len(items)
    items[at:at] = new
    return items


class ExtensibleAdminMixin:
    """A model admin that apps building on its model extend through extend_admin: the owning app's admin stays the
    one registered, and it need not know what the others add. First among the admin's bases, so that the additions
    come on top of everything the admin itself does (masking, scope)."""

    def _extensions(self) -> list[AdminExtension]:
        return ADMIN_EXTENSIONS.get(self.model, [])

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        for extension in self._extensions():
            if extension.queryset is not None:
                queryset = extension.queryset(queryset)
        return queryset

    def get_list_display(self, request):
        names = super().get_list_display(request)
        for extension in self._extensions():
            names = _placed(names, extension.columns, extension.before_column, after=False)
        return names

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        for extension in self._extensions():
            filters = _placed(filters, extension.filters, extension.after_filter, after=True)
        return filters
