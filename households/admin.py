from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import User
from django.contrib.contenttypes.admin import GenericTabularInline
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin
from simple_history.template_utils import HistoricalRecordContextHelper

from housing_safety import disclosure
from housing_safety.access import can_view_personal_data, scope_of
from housing_safety.admin_base import HistoryAdmin, ScopedAdminMixin
from housing_safety.spreadsheets import SpreadsheetError

from . import selectors, services
from .department_lists import lists_for_user
from .identity import mask_id_number, mask_phone
from .models import Attachment, ColumnMapping, DepartmentList, Dwelling, Household, Township, Unit, UserProfile, Village
from .resources import (
    CSVImport,
    DwellingResource,
    HouseholdResource,
    SpreadsheetImportForm,
    VillageResource,
    XLSXImport,
)
from .uploads import check_attachment_file


class MaskingContextHelper(HistoricalRecordContextHelper):
    """History deltas show personal fields masked (housing_safety.disclosure decides when)."""

    masked: dict[str, callable] = {}

    def prepare_delta_change_value(self, change, value):
        if change.field in self.masked:
            return self.masked[change.field](value) if value else value
        return super().prepare_delta_change_value(change, value)


class PersonalDataAdminMixin:
    """ID and phone numbers appear masked in lists, forms, searches and history. A user whose role may see personal
    data sees a record's numbers in full after opening them with a reason (housing_safety.disclosure), and types them
    in full on a new record's form. Models that are not unmaskable (a unit's office phone) show in full to that role.
    """

    personal_fields: dict[str, callable] = {}

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

    @admin.display(description=_("full numbers"))
    def unmask_link(self, obj):
        back = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
        url = reverse("unmask", args=[disclosure.record_type(obj), obj.pk]) + "?" + urlencode({"next": back})
        return format_html('<a href="{}">{}</a>', url, _("Show in full, with a reason (logged)"))

    def get_search_fields(self, request):
        # Numbers are never searched as text fields (a prefix would read a masked number back digit by digit): a
        # whole number, or the last four with a name, is searched by selectors.search_households.
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


def _masked(field: str, mask, label):
    def display(self, obj):
        return mask(getattr(obj, field))

    display.short_description = label
    return display


class ScopedImportExportAdmin(ScopedAdminMixin, ImportExportMixin, HistoryAdmin):
    import_error_display = ("message",)
    # Uploads are checked and read like department lists (households.sheets): bounded, with the reason in Chinese.
    import_form_class = SpreadsheetImportForm
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


def filter_by_id(queryset, path: str, value):
    """A list filter's query by the record id in the URL, answered like the admin's own field filters: a value that
    is no id (text, NUL: a 500 in the filter before) is the list's "invalid filter" answer (?e=1)."""
    if not value:
        return queryset
    try:
        return queryset.filter(**{path: value})
    except (ValueError, ValidationError) as error:
        raise IncorrectLookupParameters(error) from error


class TownshipFilter(admin.SimpleListFilter):
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


class StructureTypeFilter(admin.SimpleListFilter):
    title = _("structure type")
    parameter_name = "structure"

    def lookups(self, request, model_admin):
        return Dwelling.StructureType.choices

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return queryset.filter(pk__in=Dwelling.objects.filter(structure_type=self.value()).values("household_id"))


class DwellingInline(admin.StackedInline):
    model = Dwelling
    fk_name = "household"
    can_delete = False
    show_change_link = True
    fields = (
        ("address", "structure_type"),
        ("storeys", "bays", "floor_area", "year_built"),
        ("is_occupied", "is_connected", "neighbour_cooperates"),
        ("latitude", "longitude"),
        "notes",
    )

    def get_extra(self, request, obj=None, **kwargs):
        return 0 if obj else 1


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


class AttachmentsAdminMixin:
    """Saves inline rows through the services instead of ModelForm.save()."""

    def save_formset(self, request, form, formset, change):
        if formset.model is Attachment:
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
            return
        if formset.model is Dwelling:
            for dwelling in formset.save(commit=False):
                services.save_dwelling(actor=request.user, dwelling=dwelling)
            return
        super().save_formset(request, form, formset, change)


@admin.register(Household)
class HouseholdAdmin(PersonalDataAdminMixin, AttachmentsAdminMixin, ScopedImportExportAdmin):
    scope_selector = selectors.households_for_user
    list_prefetch = ("categories",)
    export_related = ("source",)
    resource_classes = [HouseholdResource]
    personal_fields = {"id_number": mask_id_number, "phone": mask_phone, "helper_phone": mask_phone}
    masked_id_number = _masked("id_number", mask_id_number, _("ID number"))
    masked_phone = _masked("phone", mask_phone, _("phone"))
    masked_helper_phone = _masked("helper_phone", mask_phone, _("helper's phone"))

    list_display = (
        "head_name", "id_number", "phone", "village_name", "township_name", "category_list", "members_count",
        "registered_on", "status",
    )  # fmt: skip
    list_filter = (
        TownshipFilter, VillageFilter, "categories", StructureTypeFilter, "status", "poverty_status",
        "village__is_revolutionary_base_village", "source",
    )  # fmt: skip
    search_fields = ("head_name", "village__name")  # and numbers, by the one rule of selectors.search_households
    search_help_text = _(
        "Head's name or village; a number only whole, or its last four digits with the name (陈水 1234)."
    )
    show_full_result_count = False
    list_per_page = 50
    inlines = [DwellingInline, AttachmentListInline, AttachmentAddInline]
    fieldsets = (
        (None, {"fields": ("head_name", "id_number", "phone", "village", "members_count")}),
        (
            _("Coverage"),
            {
                "fields": (
                    "categories",
                    "poverty_status",
                    "poverty_exit_year",
                    "newly_poor_on",
                    "source",
                    "registered_on",
                )
            },
        ),
        (_("Assigned helper"), {"fields": ("helper_name", "helper_phone", "helper_user")}),
        (_("Removal from the list"), {"classes": ("collapse",), "fields": ("status", "removed_on", "removal_reason")}),
        (None, {"fields": ("notes",)}),
    )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "village":
            kwargs["queryset"] = selectors.villages_for_user(request.user)
        elif db_field.name == "source":
            kwargs["queryset"] = selectors.units_for_user(request.user).exclude(kind=Unit.Kind.TOWNSHIP)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "categories":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_search_results(self, request, queryset, search_term):
        # The list and the dwelling form's household autocomplete search by the same rule as the field page.
        return selectors.search_households(request.user, queryset, search_term), False

    def save_model(self, request, obj, form, change):
        services.save_household(actor=request.user, household=obj)

    @admin.display(description=_("village"), ordering="village__name")
    def village_name(self, obj):
        return obj.village.name

    @admin.display(description=_("township"), ordering="village__township__code")
    def township_name(self, obj):
        return obj.village.township.name

    @admin.display(description=_("categories"))
    def category_list(self, obj):
        return "、".join(str(c) for c in obj.categories.all())


@admin.register(Dwelling)
class DwellingAdmin(AttachmentsAdminMixin, ScopedImportExportAdmin):
    scope_selector = selectors.dwellings_for_user
    resource_classes = [DwellingResource]
    list_display = (
        "address",
        "household",
        "township_name",
        "structure_type",
        "storeys",
        "floor_area",
        "year_built",
        "is_occupied",
        "is_connected",
    )
    list_filter = (
        type("DwellingTownshipFilter", (TownshipFilter,), {"path": "household__village__township_id"}),
        type("DwellingVillageFilter", (VillageFilter,), {"path": "household__village_id"}),
        "structure_type", "is_occupied", "is_connected",
    )  # fmt: skip
    search_fields = ("address", "household__head_name", "household__village__name")
    show_full_result_count = False
    list_per_page = 50
    autocomplete_fields = ("household",)
    inlines = [AttachmentListInline, AttachmentAddInline]
    fields = ("household", *DwellingInline.fields)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # The autocomplete searches through the household admin (scoped); the choice itself must be scoped too, or
        # ?household=<another township's id> would render that household as the selected option.
        if db_field.name == "household":
            kwargs["queryset"] = selectors.households_for_user(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        services.save_dwelling(actor=request.user, dwelling=obj)

    @admin.display(description=_("township"), ordering="household__village__township__code")
    def township_name(self, obj):
        return obj.household.village.township.name


@admin.register(Village)
class VillageAdmin(ScopedImportExportAdmin):
    scope_selector = selectors.villages_for_user
    resource_classes = [VillageResource]
    allow_delete = True  # a mistyped village with no households may go; PROTECT keeps used ones
    list_display = ("name", "township", "code", "is_revolutionary_base_village", "is_demo")
    list_filter = (
        type("VillageTownshipFilter", (TownshipFilter,), {"path": "township_id"}),
        "is_revolutionary_base_village",
        "is_demo",
    )
    search_fields = ("name", "code")
    list_per_page = 100

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "township":
            kwargs["queryset"] = selectors.townships_for_user(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        services.save_village(actor=request.user, village=obj)


@admin.register(Township)
class TownshipAdmin(ScopedAdminMixin, HistoryAdmin):
    scope_selector = selectors.townships_for_user
    list_display = ("code", "name", "kind")
    search_fields = ("name", "code")


@admin.register(Unit)
class UnitAdmin(PersonalDataAdminMixin, ScopedAdminMixin, HistoryAdmin):
    scope_selector = selectors.units_for_user
    personal_fields = {"phone": mask_phone}
    masked_phone = _masked("phone", mask_phone, _("phone"))
    list_display = ("name", "kind", "township", "contact_name", "phone", "email", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "contact_name")
    fieldsets = ((None, {"fields": ("name", "kind", "township", "contact_name", "phone", "email", "is_active")}),)


class UserProfileForm(forms.ModelForm):
    class Meta:
        model = UserProfile
        fields = ("role", "townships", "unit")
        widgets = {"townships": forms.CheckboxSelectMultiple}

    def clean(self):
        data = super().clean()
        if data.get("role"):
            services.check_profile(role=data["role"], townships=data.get("townships") or [], unit=data.get("unit"))
        return data


class UserProfileInline(admin.StackedInline):
    model = UserProfile
    form = UserProfileForm
    can_delete = False
    min_num = 1
    max_num = 1


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [UserProfileInline]
    list_display = ("username", "first_name", "role", "is_active", "last_login")
    list_filter = ("is_active", "profile__role")
    list_select_related = ("profile",)

    def get_queryset(self, request):
        # A bureau administrator manages the system's users, but not superusers (nor their passwords).
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.filter(is_superuser=False)

    @admin.display(description=_("role"), ordering="profile__role")
    def role(self, obj):
        profile = getattr(obj, "profile", None)
        return profile.get_role_display() if profile else "—"

    def get_readonly_fields(self, request, obj=None):
        # Only a superuser hands out superuser rights or raw permissions; roles go through the profile.
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += ["is_superuser", "groups", "user_permissions"]
        return readonly

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        form.instance.is_staff = True
        form.instance.save(update_fields=["is_staff"])
        services.sync_user_role(user=form.instance)
        if not change:  # the administrator chose the first password; its owner must replace it
            services.require_password_change(user=form.instance)

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        reset = request.method == "POST" and response.status_code == 302
        if reset and str(request.user.pk) != str(id):
            services.require_password_change(user=self.get_object(request, id))
        return response


@admin.register(ColumnMapping)
class ColumnMappingAdmin(HistoryAdmin):
    list_display = ("unit",)


@admin.register(DepartmentList)
class DepartmentListAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_selector = lists_for_user
    list_display = ("unit", "listed_on", "original_name", "status", "uploaded_by", "uploaded_at")
    list_filter = ("status", "unit")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
