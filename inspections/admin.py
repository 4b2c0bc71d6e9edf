from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from households import selectors as household_selectors
from households.admin import (
    AttachmentAddInline,
    AttachmentListInline,
    AttachmentsAdminMixin,
    HouseholdAdmin,
    ScopedImportExportAdmin,
    TownshipFilter,
)
from households.models import Household
from housing_safety.admin_base import ScopedAdminMixin

from . import selectors, services
from .models import Appraisal, Placard, SecuredHousing
from .resources import AppraisalResource


class AppraisalTownshipFilter(TownshipFilter):
    path = "dwelling__household__village__township_id"


@admin.register(Appraisal)
class AppraisalAdmin(AttachmentsAdminMixin, ScopedImportExportAdmin):
    """Appraisals are records: added (through the service), never edited; a correction is a newer appraisal."""

    scope_selector = selectors.appraisals_for_user
    resource_classes = [AppraisalResource]
    list_display = (
        "appraised_on",
        "household_name",
        "dwelling",
        "grade",
        "recommendation",
        "kind",
        "organisation",
        "recorded_by",
    )
    list_filter = (AppraisalTownshipFilter, "grade", "kind", "recommendation", "is_leaking", "site_hazard")
    search_fields = ("dwelling__household__head_name", "dwelling__address", "organisation")
    autocomplete_fields = ("dwelling",)
    date_hierarchy = "appraised_on"
    show_full_result_count = False
    list_per_page = 50
    inlines = [AttachmentListInline, AttachmentAddInline]
    fieldsets = (
        (None, {"fields": ("dwelling", "kind", "appraised_on", "organisation", "appraisers")}),
        (_("Component grades"), {"fields": [name for name, _label in Appraisal.COMPONENTS]}),
        (None, {"fields": ("site_hazard", "is_leaking", "grade", "recommendation", "notes")}),
    )

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        services.record_appraisal(actor=request.user, appraisal=obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "dwelling":
            kwargs["queryset"] = household_selectors.dwellings_for_user(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("household"), ordering="dwelling__household__head_name")
    def household_name(self, obj):
        return obj.dwelling.household.head_name


@admin.register(SecuredHousing)
class SecuredHousingAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    scope_selector = selectors.secured_housing_for_user
    list_display = ("household", "kind", "since", "until", "address")
    list_filter = ("kind",)
    search_fields = ("household__head_name",)
    autocomplete_fields = ("household",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "household":
            kwargs["queryset"] = household_selectors.households_for_user(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        services.save_secured_housing(actor=request.user, arrangement=obj)


class PlacardAdminForm(forms.ModelForm):
    class Meta:
        model = Placard
        fields = ("installed_on",)

    def clean(self):
        data = super().clean()
        if data.get("installed_on"):
            services.check_placard_installation(placard=self.instance, installed_on=data["installed_on"])
        return data


@admin.register(Placard)
class PlacardAdmin(AttachmentsAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """Placards are issued from the print page; here they are looked up and their installation recorded."""

    scope_selector = selectors.placards_for_user
    list_display = ("serial", "household", "status", "issued_at", "installed_on")
    list_filter = (
        type("PlacardTownshipFilter", (TownshipFilter,), {"path": "household__village__township_id"}),
        "status",
    )
    search_fields = ("serial", "household__head_name")
    readonly_fields = ("serial", "household", "status", "appraisal", "secured_housing", "issued_at", "issued_by")
    fields = (*readonly_fields, "installed_on")
    form = PlacardAdminForm
    inlines = [AttachmentListInline, AttachmentAddInline]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        # Only the installation date is editable; saving without one just stores the attached photos.
        if "installed_on" in form.changed_data and obj.installed_on:
            services.record_placard_installation(actor=request.user, placard=obj, installed_on=obj.installed_on)


class HousingStatusFilter(admin.SimpleListFilter):
    title = _("housing-security status")
    parameter_name = "housing_status"

    def lookups(self, request, model_admin):
        return selectors.HousingStatus.choices

    def queryset(self, request, queryset):
        return (
            queryset.filter(housing_status=self.value()) if self.value() in selectors.HousingStatus.values else queryset
        )


class HouseholdWithStatusAdmin(HouseholdAdmin):
    """The registry's household admin plus the housing-security status (which this app derives)."""

    list_filter = (*HouseholdAdmin.list_filter[:2], HousingStatusFilter, *HouseholdAdmin.list_filter[2:])

    def get_queryset(self, request):
        return selectors.with_housing_status(super().get_queryset(request))

    def get_list_display(self, request):
        names = list(super().get_list_display(request))
        names.insert(names.index("category_list"), "housing_status_display")
        return names

    @admin.display(description=_("housing-security status"), ordering="housing_status")
    def housing_status_display(self, obj):
        return selectors.HousingStatus(obj.housing_status).label


admin.site.unregister(Household)
admin.site.register(Household, HouseholdWithStatusAdmin)
