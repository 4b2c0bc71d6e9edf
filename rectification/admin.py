from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from households import selectors as household_selectors
from households.admin_kit import AttachmentListInline, TownshipFilter
from housing_safety.admin_base import HistoryAdmin, ScopedAdminMixin

from . import selectors, services
from .models import (
    CampaignPhase,
    CaseTransition,
    ComplaintDeadline,
    DocumentKind,
    LeadTransfer,
    PlanItem,
    Problem,
    ProblemTransition,
    RenovationCase,
    SubsidyPayment,
    SubsidyStandard,
)


class ProblemTownshipFilter(TownshipFilter):
    path = "township_id"


class CaseTownshipFilter(TownshipFilter):
    path = "township_id"


class ProblemTransitionInline(admin.TabularInline):
    model = ProblemTransition
    extra = 0
    can_delete = False
    fields = ("at", "from_status", "to_status", "actor", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Problem)
class ProblemAdmin(ScopedAdminMixin, HistoryAdmin):
    """Problems are entered and edited here; their status moves on the problem page (one transition table)."""

    scope_selector = selectors.problems_for_user
    list_display = (
        "kind", "plan_item", "township", "household", "deadline", "status", "source", "responsible_person",
    )  # fmt: skip
    list_filter = (ProblemTownshipFilter, "status", "plan_item", "kind", "source", "phase")
    search_fields = ("description", "household__head_name", "responsible_person")
    autocomplete_fields = ("household", "dwelling")
    show_full_result_count = False
    readonly_fields = (
        "status",
        "revisit",
        "helper_report",
        "resolution",
        "resolved_at",
        "resolved_by",
        "verified_at",
        "verified_by",
    )
    fieldsets = (
        (None, {"fields": ("township", "household", "dwelling", "source", "kind", "plan_item", "phase")}),
        (_("Rectification"), {"fields": ("description", "measure", "responsible_person", "deadline")}),
        (_("Progress"), {"fields": readonly_fields}),
    )
    inlines = [ProblemTransitionInline, AttachmentListInline]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "township":
            kwargs["queryset"] = household_selectors.townships_for_user(request.user)
        elif db_field.name == "household":
            kwargs["queryset"] = household_selectors.households_for_user(request.user)
        elif db_field.name == "dwelling":
            kwargs["queryset"] = household_selectors.dwellings_for_user(request.user)
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "plan_item":
            field.help_text = _(
                "Left empty, a new problem takes the task or mechanism its kind or source belongs to, where the plan "
                "makes it plain."
            )
        return field

    def save_model(self, request, obj, form, change):
        services.save_problem(actor=request.user, problem=obj)


# Renovation cases -------------------------------------------------------------------------------------------


class CaseTransitionInline(admin.TabularInline):
    model = CaseTransition
    extra = 0
    can_delete = False
    fields = ("on", "from_status", "to_status", "actor", "note", "overridden", "override_reason")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class CaseAdminForm(forms.ModelForm):
    """The case's details; a change of type, year or subsidy is checked by the service before saving."""

    override_reason = forms.CharField(
        label=_("override a rule, with the reason"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def _post_clean(self):
        super()._post_clean()
        if not self.errors and self.instance.pk:
            try:
                services.renovation.check_case_change(
                    actor=self.actor, case=self.instance, override_reason=self.cleaned_data.get("override_reason", "")
                )
            except ValidationError as error:
                self._update_errors(error)


@admin.register(RenovationCase)
class RenovationCaseAdmin(ScopedAdminMixin, HistoryAdmin):
    """Cases are opened and moved on their own pages (one transition table); here their details are edited."""

    scope_selector = selectors.cases_for_user
    form = CaseAdminForm
    list_display = ("number", "household", "township", "renovation_type", "programme_year", "status", "status_on")
    list_filter = (CaseTownshipFilter, "status", "renovation_type", "programme_year", "build_mode")
    search_fields = ("number", "household__head_name", "builder")
    show_full_result_count = False
    readonly_fields = (
        "number", "township", "household", "dwelling", "trigger_appraisal", "status", "status_on", "new_dwelling",
        "accepted_on", "acceptors", "moved_in_on", "old_house_outcome",
    )  # fmt: skip
    fieldsets = (
        (None, {"fields": ("number", "township", "household", "dwelling", "trigger_appraisal", "status", "status_on")}),
        (_("Renovation"), {"fields": ("programme_year", "renovation_type", "build_mode", "funding_source",
                                      "planned_subsidy", "builder", "notes", "override_reason")}),
        (_("Relocation"), {"fields": ("resettlement_site", "new_dwelling", "moved_in_on", "old_house_outcome")}),
        (_("Completion"), {"fields": ("accepted_on", "acceptors")}),
    )  # fmt: skip
    inlines = [CaseTransitionInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or obj.is_open)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.actor = request.user
        if not request.user.has_perm(services.renovation.OVERRIDE):
            form.base_fields.pop("override_reason", None)
        return form

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        # Overriding a rule is a change: a case read only (closed, or by a reader) has nothing to override.
        if request.user.has_perm(services.renovation.OVERRIDE) and (
            obj is None or self.has_change_permission(request, obj)
        ):
            return fieldsets
        return [(name, {**opts, "fields": [f for f in opts["fields"] if f != "override_reason"]})
                for name, opts in fieldsets]  # fmt: skip

    def save_model(self, request, obj, form, change):
        services.save_case(actor=request.user, case=obj, override_reason=form.cleaned_data.get("override_reason", ""))


@admin.register(DocumentKind)
class DocumentKindAdmin(HistoryAdmin):
    list_display = ("name", "step", "is_required", "is_generated", "order")
    list_editable = ("is_required", "order")
    list_filter = ("step", "is_required")
    readonly_fields = ("is_generated",)  # the system's own kinds (the posting notices, migration 0014)


@admin.register(SubsidyStandard)
class SubsidyStandardAdmin(HistoryAdmin):
    list_display = ("year", "renovation_type", "amount", "note")
    list_filter = ("year", "renovation_type")


@admin.register(SubsidyPayment)
class SubsidyPaymentAdmin(ScopedAdminMixin, HistoryAdmin):
    """Payments are recorded by the case's payment step (or a supplementary payment); here they are read."""

    scope_selector = selectors.payments_for_user
    list_display = ("case", "paid_on", "amount", "voucher_number", "is_supplementary", "recorded_by")
    list_filter = ("is_supplementary", "paid_on")
    search_fields = ("case__number", "voucher_number", "case__household__head_name")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# Complaints and leads: complaints live on their own pages (the reporter is masked there by role); the admin
# holds the configurable deadlines and a read-only register of leads.


@admin.register(ComplaintDeadline)
class ComplaintDeadlineAdmin(HistoryAdmin):
    list_display = ("category", "acceptance_days", "handling_days")
    list_editable = ("acceptance_days", "handling_days")

    def has_add_permission(self, request):
        return False


@admin.register(LeadTransfer)
class LeadTransferAdmin(ScopedAdminMixin, HistoryAdmin):
    scope_selector = selectors.leads_for_user
    list_display = ("sent_on", "direction", "from_unit", "to_unit", "to_discipline", "receipt_on", "feedback_on")
    list_filter = ("direction", "to_discipline", "sent_on")
    search_fields = ("subject",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CampaignPhase)
class CampaignPhaseAdmin(HistoryAdmin):
    """The plan's work phases year by year (三、工作安排): the dashboard's timeline and a new problem's phase read
    them. Phases may overlap; each lies within its year."""

    list_display = ("year", "number", "name", "starts_on", "ends_on")
    list_filter = ("year",)
    ordering = ("-year", "number")


@admin.register(PlanItem)
class PlanItemAdmin(HistoryAdmin):
    """The plan's tasks (整治内容), mechanisms (工作机制) and dated requirements (工作要求), with their responsible
    units and the deadline in the plan's words: the dashboard's progress lines and the problem list's 任务/机制 read
    them. What each item is measured by (`rule`) is fixed; its words and units are the bureau's."""

    list_display = ("__str__", "kind", "deadline", "every_township", "rule")
    list_filter = ("kind",)
    filter_horizontal = ("responsible_units",)
    fields = ("kind", "number", "title", "text", "deadline", "responsible_units", "every_township", "rule")
