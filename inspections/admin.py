from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from households import selectors as household_selectors
from households.admin_kit import (
    AttachmentAddInline,
    AttachmentListInline,
    AttachmentsAdminMixin,
    ScopedImportExportAdmin,
    TownshipFilter,
    VillageFilter,
)
from households.models import Dwelling, Household, Township
from housing_safety.admin_base import AdminExtension, HistoryAdmin, ScopedAdminMixin, extend_admin, filter_by_id
from housing_safety.people import person_name

from . import selectors, services
from .models import (
    Appraisal,
    Campaign,
    Grade,
    GuidanceAssignment,
    HelperReport,
    Placard,
    Revisit,
    SecuredHousing,
    SpotCheck,
    SpotCheckItem,
)
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
    # A date filter instead of date_hierarchy: the hierarchy reads the distinct years of every appraisal first.
    list_filter = (
        AppraisalTownshipFilter, ("appraised_on", admin.DateFieldListFilter), "grade", "kind", "recommendation",
        "is_leaking", "site_hazard",
    )  # fmt: skip
    search_fields = ("dwelling__household__head_name", "dwelling__address", "organisation")
    autocomplete_fields = ("dwelling",)
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
class SecuredHousingAdmin(ScopedAdminMixin, HistoryAdmin):
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


class PlacardStatusFilter(admin.SimpleListFilter):
    """The status a placard certifies, by name (the field stores the code and has no choices)."""

    title = _("status certified")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return selectors.HousingStatus.choices

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() else queryset


@admin.register(Placard)
class PlacardAdmin(AttachmentsAdminMixin, ScopedAdminMixin, HistoryAdmin):
    """Placards are issued from the print page; here they are looked up and their installation recorded."""

    scope_selector = selectors.placards_for_user
    list_display = ("serial", "household", "status_certified", "issued_at", "installed_on")
    list_filter = (
        type("PlacardTownshipFilter", (TownshipFilter,), {"path": "household__village__township_id"}),
        PlacardStatusFilter,
    )
    search_fields = ("serial", "household__head_name")
    readonly_fields = (
        "serial", "household", "status_certified", "appraisal", "secured_housing", "issued_at", "issued_by",
    )  # fmt: skip
    fields = (*readonly_fields, "installed_on")

    @admin.display(description=_("status certified"), ordering="status")
    def status_certified(self, obj):
        # The status is stored as the housing status's code (no choices on the field: it is a snapshot).
        return selectors.HousingStatus(obj.status).label if obj.status in selectors.HousingStatus.values else obj.status

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
        if self.value() in selectors.HousingStatus.values:
            return queryset.filter(selectors.status_filter(self.value()))
        return queryset


@admin.display(description=_("housing-security status"), ordering="housing_status")
def housing_status_display(household):
    return selectors.HousingStatus(household.housing_status).label


# The registry's household admin shows the housing-security status this app derives: a column before the
# categories, a filter after the village's, and the rows annotated with it.
extend_admin(
    Household,
    AdminExtension(
        columns=(housing_status_display,),
        before_column="category_list",
        filters=(HousingStatusFilter,),
        after_filter=VillageFilter,
        queryset=selectors.with_housing_status,
    ),
)


class CampaignForm(forms.ModelForm):
    structure_types = forms.MultipleChoiceField(
        label=_("structure types"),
        choices=Dwelling.StructureType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    current_grades = forms.MultipleChoiceField(
        label=_("current grades"),
        choices=[*Grade.choices, ("none", _("not yet appraised"))],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Campaign
        fields = (
            "name", "kind", "starts_on", "due_on", "townships", "villages", "base_villages_only", "structure_types",
            "categories", "current_grades", "occupied_only",
        )  # fmt: skip
        widgets = {"townships": forms.CheckboxSelectMultiple, "categories": forms.CheckboxSelectMultiple}


@admin.register(Campaign)
class CampaignAdmin(HistoryAdmin):
    """The bureau defines a campaign's scope, sees how many dwellings it matches, then launches it."""

    form = CampaignForm
    list_display = ("name", "kind", "starts_on", "due_on", "launched_at", "revisit_count", "done_count")
    list_filter = ("kind",)
    search_fields = ("name",)
    autocomplete_fields = ("villages",)
    readonly_fields = ("launch_link", "launched_at", "launched_by")
    # For a reader, the lists stored as JSON by their codes are shown by their names.
    NAMED = {"current_grades": "current_grade_names", "structure_types": "structure_type_names"}

    def get_fields(self, request, obj=None):
        reader = obj is not None and not self.has_change_permission(request, obj)
        may_launch = request.user.has_perm("inspections.add_campaign")
        fields = []
        for name in super().get_fields(request, obj):
            if name in self.NAMED.values() or (name == "launch_link" and not may_launch):
                continue
            fields.append(self.NAMED.get(name, name) if reader else name)
        return fields

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *self.NAMED.values()]

    @staticmethod
    def _names(values, choices) -> str:
        names = dict(choices)
        return pgettext("list separator", ", ").join(str(names.get(v, v)) for v in values or ()) or gettext("All")

    @admin.display(description=_("current grades"))
    def current_grade_names(self, obj):
        return self._names(obj.current_grades, CampaignForm.base_fields["current_grades"].choices)

    @admin.display(description=_("structure types"))
    def structure_type_names(self, obj):
        return self._names(obj.structure_types, Dwelling.StructureType.choices)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                revisit_total=Count("revisits"),
                revisit_done=Count("revisits", filter=Q(revisits__status=Revisit.Status.DONE)),
            )
        )

    def get_urls(self):
        return [
            path("<id:pk>/launch/", self.admin_site.admin_view(self.launch_view), name="inspections_campaign_launch"),
            *super().get_urls(),
        ]

    def launch_view(self, request, pk: int):
        """Shows the number of dwellings the scope matches before anything is created; POST launches."""
        campaign = self.get_object(request, str(pk))
        if campaign is None:
            raise Http404
        if not request.user.has_perm("inspections.add_campaign"):
            raise PermissionDenied
        if request.method == "POST":
            created = services.launch_campaign(actor=request.user, campaign=campaign)
            self.message_user(request, _("%(count)d revisits created.") % {"count": created}, messages.SUCCESS)
            return redirect("admin:inspections_campaign_change", campaign.pk)
        matched = selectors.campaign_dwellings(campaign).count()
        existing = campaign.revisits.count()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "campaign": campaign,
            "matched": matched,
            "existing": existing,
            "title": _("Launch %(name)s") % {"name": campaign.name},
        }
        return TemplateResponse(request, "admin/inspections/campaign/launch.html", context)

    @admin.display(description=_("launch"))
    def launch_link(self, obj):
        if not obj.pk:
            return _("Save the campaign first.")
        return format_html(
            '<a class="button" href="{}">{}</a>',
            reverse("admin:inspections_campaign_launch", args=[obj.pk]),
            _("Count and launch…"),
        )

    @admin.display(description=_("revisits"), ordering="revisit_total")
    def revisit_count(self, obj):
        return obj.revisit_total

    @admin.display(description=_("visited"), ordering="revisit_done")
    def done_count(self, obj):
        return obj.revisit_done


@admin.register(Revisit)
class RevisitAdmin(AttachmentsAdminMixin, ScopedAdminMixin, HistoryAdmin):
    scope_selector = selectors.revisits_for_user
    list_display = ("dwelling", "campaign", "due_on", "status", "visited_on", "outcome")
    list_filter = ("status", "campaign", "outcome")
    search_fields = ("dwelling__household__head_name", "dwelling__address")
    show_full_result_count = False
    inlines = [AttachmentListInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # recorded on the field page, through record_revisit


@admin.register(HelperReport)
class HelperReportAdmin(AttachmentsAdminMixin, ScopedAdminMixin, HistoryAdmin):
    scope_selector = selectors.helper_reports_for_user
    list_display = ("household", "reported_by", "reported_at", "handled_by", "handled_at")
    list_filter = ("finding_leaking", "finding_new_damage", "finding_lives_in_old_dangerous")
    search_fields = ("household__head_name", "note")
    inlines = [AttachmentListInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # reported on the helper page, handled on the township page


class SpotCheckItemForm(forms.ModelForm):
    class Meta:
        model = SpotCheckItem
        fields = ("result", "notes")

    def clean(self):
        # The service's rules as form errors: save_related records the results after the spot check is saved.
        data = super().clean()
        if "result" in self.changed_data and data.get("result") != SpotCheckItem.Result.PENDING:
            services.check_spot_check_result(result=data.get("result") or "", notes=data.get("notes") or "")
        return data


class SpotCheckItemInline(admin.TabularInline):
    model = SpotCheckItem
    form = SpotCheckItemForm
    extra = 0
    can_delete = False
    fields = ("household", "township_name", "result", "notes", "verified_by", "verified_at")
    readonly_fields = ("household", "township_name", "verified_by", "verified_at")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("township"))
    def township_name(self, obj):
        return obj.household.village.township.name

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("household__village__township", "verified_by")


class SpotCheckForm(forms.ModelForm):
    class Meta:
        model = SpotCheck
        fields = ("name", "per_township", "seed", "townships", "guided_by")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "guided_by" in self.fields:  # only the bureau's people guide townships
            self.fields["guided_by"].queryset = self.fields["guided_by"].queryset.filter(
                profile__role__in=services.GUIDE_ROLES, is_active=True
            )

    def clean(self):
        data = super().clean()
        if "guided_by" in self.fields:
            services.check_spot_check_guide(
                guided_by=data.get("guided_by"), townships=data.get("townships"), year=timezone.localdate().year
            )
        return data


class SpotCheckTownshipFilter(TownshipFilter):
    """The spot checks that sampled households of a township (the official's home links here per 包片 township)."""

    def queryset(self, request, queryset):
        items = filter_by_id(SpotCheckItem.objects.all(), "household__village__township_id", self.value())
        return queryset.filter(pk__in=items.values("spot_check_id")) if self.value() else queryset


@admin.register(SpotCheck)
class SpotCheckAdmin(HistoryAdmin):
    """Saving a new spot check draws its sample (in the drawer's 包片 townships when they guide some and chose none);
    results are entered row by row and summed per township, each township with the officials who guide it."""

    form = SpotCheckForm
    list_display = ("name", "per_township", "seed", "drawn_at", "drawn_by", "guides")
    list_select_related = ("drawn_by",)  # nullable: the admin's automatic select_related skips it
    readonly_fields = ("drawn_at", "drawn_by", "results_by_township")
    inlines = [SpotCheckItemInline]
    filter_horizontal = ("townships",)
    list_filter = (SpotCheckTownshipFilter,)

    def get_readonly_fields(self, request, obj=None):
        # Once drawn, the sample's definition is fixed: the seed and size reproduce it.
        fixed = ("name", "per_township", "seed", "townships", "guided_by") if obj and obj.drawn_at else ()
        return (*fixed, *self.readonly_fields)

    def get_queryset(self, request):
        # Each check's townships with their guides of this year: two queries whatever the number of rows.
        guides = GuidanceAssignment.objects.filter(year=timezone.localdate().year).select_related("official")
        townships = Township.objects.order_by("code").prefetch_related(
            Prefetch("guidance_assignments", queryset=guides.order_by("official__username"), to_attr="guides")
        )
        return super().get_queryset(request).prefetch_related(Prefetch("townships", queryset=townships))

    @admin.display(description=_("guided by (包片)"))
    def guides(self, obj):
        townships = list(obj.townships.all())
        if not townships:
            return gettext("All townships")
        return "；".join(
            "{}：{}".format(
                township.name,
                "、".join(person_name(g.official) for g in township.guides) or "—",
            )
            for township in townships
        )

    def save_related(self, request, form, formsets, change):
        form.save_m2m()
        for formset in formsets:
            # The admin's change message reads what the formset saved; the results are saved here instead.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            for item_form in formset.forms:
                if item_form.has_changed() and item_form.cleaned_data.get("result") != SpotCheckItem.Result.PENDING:
                    data = item_form.cleaned_data
                    services.record_spot_check_result(
                        actor=request.user, item=item_form.instance, result=data["result"], notes=data.get("notes", "")
                    )
                    formset.changed_objects.append((item_form.instance, item_form.changed_data))
        if not form.instance.drawn_at:
            count = services.draw_spot_check(actor=request.user, spot_check=form.instance)
            self.message_user(
                request,
                _("%(count)d households drawn with seed %(seed)s.") % {"count": count, "seed": form.instance.seed},
            )

    @admin.display(description=_("results by township"))
    def results_by_township(self, obj):
        guides = selectors.guides_by_township((obj.drawn_at and timezone.localtime(obj.drawn_at).year) or 0)
        rows = (
            obj.items.values("household__village__township_id", "household__village__township__name")
            .annotate(
                total=Count("pk"),
                matches=Count("pk", filter=Q(result=SpotCheckItem.Result.MATCHES)),
                mismatch=Count("pk", filter=Q(result=SpotCheckItem.Result.MISMATCH)),
            )
            .order_by("household__village__township__code")
        )
        return (
            format_html_join(
                "",
                '<div>{}：{} / {} / {} <span class="help">{}</span></div>',
                (
                    (
                        r["household__village__township__name"],
                        r["total"],
                        r["matches"],
                        r["mismatch"],
                        "、".join(guides.get(r["household__village__township_id"], [])),
                    )
                    for r in rows
                ),
            )
            or "—"
        )


class GuidanceAssignmentForm(forms.ModelForm):
    class Meta:
        model = GuidanceAssignment
        fields = ("year", "township", "official", "note")

    def clean(self):
        data = super().clean()
        if data.get("year") is not None:  # the service's rules as the form's errors, before anything is saved
            services.check_guidance(official=data.get("official"), township=data.get("township"), year=data["year"])
        return data


@admin.register(GuidanceAssignment)
class GuidanceAssignmentAdmin(HistoryAdmin):
    """包片负责分工: which bureau official guides which township, year by year (the bureau administrator edits it)."""

    form = GuidanceAssignmentForm
    list_display = ("year", "township", "official", "note")
    list_filter = ("year", "township")
    list_select_related = ("township", "official")
    search_fields = ("township__name", "official__username", "official__first_name", "official__last_name")
    fields = ("year", "township", "official", "note")

    def get_queryset(self, request):
        return selectors.guidance_for_user(request.user).select_related("township", "official")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "official":
            from django.contrib.auth import get_user_model

            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(profile__role__in=services.GUIDE_ROLES, is_active=True)
                .order_by("username")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        return {"year": timezone.localdate().year, **super().get_changeform_initial_data(request)}

    def save_model(self, request, obj, form, change):
        services.assign_guidance(
            actor=request.user,
            official=obj.official,
            township=obj.township,
            year=obj.year,
            note=obj.note,
            assignment=obj if change else None,
        )
