from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from housing_safety.admin_base import (
    ExtensibleAdminMixin,
    HistoryAdmin,
    PersonalDataAdminMixin,
    ScopedAdminMixin,
    masked_display,
)

from . import selectors, services
from .admin_kit import (
    AttachmentAddInline,
    AttachmentListInline,
    AttachmentsAdminMixin,
    ScopedImportExportAdmin,
    TownshipFilter,
    VillageFilter,
)
from .department_lists import lists_for_user
from .identity import mask_id_number, mask_phone
from .models import ColumnMapping, DepartmentList, Dwelling, Household, Township, Unit, UserProfile, Village
from .resources import DwellingResource, HouseholdResource, VillageResource


class StructureTypeFilter(admin.SimpleListFilter):
    title = _("structure type")
    parameter_name = "structure"

    def lookups(self, request, model_admin):
        return Dwelling.StructureType.choices

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return queryset.filter(pk__in=Dwelling.objects.filter(structure_type=self.value()).values("household_id"))


class NoticeReachFilter(admin.SimpleListFilter):
    """Units a notice reaches nobody at (no address, no active person): the bureau administrator's to-do."""

    title = _("notices")
    parameter_name = "notices"
    UNREACHABLE = "nobody"

    def lookups(self, request, model_admin):
        return [(self.UNREACHABLE, _("Reach nobody (no e-mail, no active person)"))]

    def queryset(self, request, queryset):
        if self.value() != self.UNREACHABLE:
            return queryset
        return queryset.filter(pk__in=selectors.units_nobody_can_receive().values("pk"))


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


@admin.register(Household)
class HouseholdAdmin(ExtensibleAdminMixin, PersonalDataAdminMixin, AttachmentsAdminMixin, ScopedImportExportAdmin):
    """The registry's households; apps building on them add their columns and filters through
    housing_safety.admin_base.extend_admin (inspections: the housing-security status)."""

    scope_selector = selectors.households_for_user
    list_prefetch = ("categories",)
    export_related = ("source",)
    resource_classes = [HouseholdResource]
    personal_fields = {"id_number": mask_id_number, "phone": mask_phone, "helper_phone": mask_phone}
    masked_id_number = masked_display("id_number", mask_id_number, _("ID number"))
    masked_phone = masked_display("phone", mask_phone, _("phone"))
    masked_helper_phone = masked_display("helper_phone", mask_phone, _("helper's phone"))

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

    def save_formset(self, request, form, formset, change):
        if formset.model is Dwelling:
            for dwelling in formset.save(commit=False):
                services.save_dwelling(actor=request.user, dwelling=dwelling)
            return
        super().save_formset(request, form, formset, change)

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
    # The province's list of base villages is loaded on its own page (inspections.base_villages), linked above the list.
    import_export_change_list_template = "admin/households/village/change_list.html"
    list_display = ("name", "township", "code", "is_revolutionary_base_village", "base_village_year", "is_demo")
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
    list_display = ("code", "name", "kind", "problem_owner")
    search_fields = ("name", "code")
    fields = ("code", "name", "kind", "problem_owner")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "problem_owner":  # a person who can work the township's problems
            kwargs["queryset"] = User.objects.filter(is_active=True).order_by("username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Unit)
class UnitAdmin(PersonalDataAdminMixin, ScopedAdminMixin, HistoryAdmin):
    scope_selector = selectors.units_for_user
    personal_fields = {"phone": mask_phone}
    masked_phone = masked_display("phone", mask_phone, _("phone"))
    list_display = ("name", "kind", "township", "contact_name", "phone", "email", "reports_monthly", "is_active")
    list_filter = ("kind", "reports_monthly", "is_active", NoticeReachFilter)
    search_fields = ("name", "contact_name")
    fieldsets = (
        (
            None,
            {"fields": ("name", "kind", "township", "contact_name", "phone", "email", "reports_monthly", "is_active")},
        ),
    )


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
