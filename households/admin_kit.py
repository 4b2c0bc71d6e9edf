"""The admin kit the apps' admins share that needs the registry's models: township and village filters scoped to the
user, the attachment inlines (files are households.Attachment rows, saved through households.services), and the
scoped import-export admin reading spreadsheets through the registry's checked reader. Other apps import these from
here, not from households.admin, whose module registers the registry's own admins; the kit that names no model is in
housing_safety.admin_base."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG
from django.contrib.contenttypes.admin import GenericTabularInline
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin
from import_export.forms import SelectableFieldsExportForm

from housing_safety import disclosure
from housing_safety.access import scope_of
from housing_safety.admin_base import HistoryAdmin, ScopedAdminMixin, filter_by_id
from housing_safety.spreadsheets import SpreadsheetError

from . import selectors, services
from .models import Attachment
from .resources import CSVImport, SpreadsheetImportForm, XLSXImport
from .uploads import check_attachment_file


class ChineseExportForm(SelectableFieldsExportForm):
    """The export's field list by the columns' Chinese names, not by the attribute names title-cased in English."""

    def _get_field_label(self, resource, field_name: str) -> str:
        field = resource.fields.get(field_name)
        if field is not None and field.column_name != field_name:
            return str(field.column_name)
        try:
            return capfirst(resource._meta.model._meta.get_field(field.attribute if field else field_name).verbose_name)
        except (FieldDoesNotExist, TypeError):
            return field_name


class ScopedImportExportAdmin(ScopedAdminMixin, ImportExportMixin, HistoryAdmin):
    """A scoped admin with django-import-export's import and export: the resource gets the user (its scope, and whether
    the numbers go out in full) and the address for the disclosure log; uploads are bounded and read the registry's
    way."""

    import_error_display = ("message",)
    # Uploads are checked and read like department lists (households.sheets): bounded, with the reason in Chinese.
    import_form_class = SpreadsheetImportForm
    export_form_class = ChineseExportForm
    import_formats = [XLSXImport, CSVImport]
    #: relations the export reads on every row, beyond what the scoped selector joins for the list
    export_related: tuple[str, ...] = ()

    def get_resource_kwargs(self, request, *args, **kwargs):
        return {
            **super().get_resource_kwargs(request, *args, **kwargs),
            "user": request.user,
            "ip_address": disclosure.client_ip(request),
        }

    def add_data_read_fail_error_to_form(self, form, e):
        # The reader's reason (a zip bomb, an old .xls, too many rows), not the name of an exception.
        if isinstance(e, SpreadsheetError):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)

    def export_action(self, request):
        try:
            return super().export_action(request)
        except IncorrectLookupParameters:
            # A filter the list does not have (an edited or outdated link) was a 500 here: back to the list, as the
            # list itself answers one.
            opts = self.model._meta
            changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            return HttpResponseRedirect(f"{changelist}?{ERROR_FLAG}=1")

    def get_export_queryset(self, request):
        queryset = super().get_export_queryset(request).order_by("pk")
        return queryset.select_related(*self.export_related) if self.export_related else queryset


class TownshipFilter(admin.SimpleListFilter):
    """The townships of the user's scope; `path` is the township id's lookup from the listed model."""

    title = _("township")
    parameter_name = "township"
    path = "village__township_id"

    def lookups(self, request, model_admin):
        return [(t.pk, t.name) for t in selectors.townships_for_user(request.user)]

    def queryset(self, request, queryset):
        return filter_by_id(queryset, self.path, self.value())


class VillageFilter(admin.SimpleListFilter):
    """Villages of the chosen township (or of a one-township user): a flat list of all would be too long."""

    title = _("village")
    parameter_name = "village"
    path = "village_id"
    township_parameter = "township"

    def lookups(self, request, model_admin):
        townships = scope_of(request.user).township_ids
        chosen = request.GET.get(self.township_parameter) or (next(iter(townships)) if len(townships) == 1 else None)
        if not chosen:
            return []
        try:
            villages = selectors.villages_for_user(request.user).filter(township_id=chosen)
        except (ValueError, ValidationError):  # no township id: no villages to offer (the township filter says so)
            return []
        return [(v.pk, v.name) for v in villages]

    def queryset(self, request, queryset):
        return filter_by_id(queryset, self.path, self.value())


class AttachmentForm(forms.ModelForm):
    class Meta:
        model = Attachment
        fields = ("kind", "file", "caption", "taken_on")

    def clean_file(self):
        # The whole check, pictures decoded: the admin saves the record before its inlines, so a picture refused
        # only by the service would be a 500 after the record's own changes.
        uploaded = self.cleaned_data["file"]
        check_attachment_file(uploaded)
        return uploaded


class AttachmentListInline(GenericTabularInline):
    """Files already attached: read-only, downloaded through the scoped view."""

    model = Attachment
    extra = 0
    can_delete = False
    fields = ("kind", "caption", "download", "mime_type", "size", "uploaded_by", "uploaded_at")
    readonly_fields = fields
    verbose_name_plural = _("attachments")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("file"))
    def download(self, obj):
        if obj.pk is None:  # a row the form was sent back with but never saved (a tampered form count): no file
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("attachment-download", args=[obj.pk]), obj.original_name or obj.pk
        )


class AttachmentAddInline(GenericTabularInline):
    """Upload new files; the service checks type by content and records the uploader."""

    model = Attachment
    form = AttachmentForm
    extra = 1
    can_delete = False
    verbose_name = _("new attachment")
    verbose_name_plural = _("add attachments")

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        # A tabular inline heads its columns but labels no input: each says its name to a screen reader (axe: label).
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None:
            field.widget.attrs.setdefault("aria-label", capfirst(db_field.verbose_name))
        return field


class AttachmentsAdminMixin:
    """Saves the attachment inlines' rows through the service (households.services.add_attachment) instead of
    ModelForm.save()."""

    def save_formset(self, request, form, formset, change):
        if formset.model is not Attachment:
            return super().save_formset(request, form, formset, change)
        formset.new_objects = [
            services.add_attachment(
                actor=request.user,
                record=form.instance,
                uploaded_file=data["file"],
                kind=data["kind"],
                caption=data.get("caption", ""),
                taken_on=data.get("taken_on"),
            )
            for data in (f.cleaned_data for f in formset.forms if f.has_changed())
            if data.get("file")
        ]
        formset.changed_objects, formset.deleted_objects = [], []
        return None
