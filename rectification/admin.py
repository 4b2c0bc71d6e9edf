from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from households import selectors as household_selectors
from households.admin import AttachmentListInline, TownshipFilter
from housing_safety.admin_base import ScopedAdminMixin

from . import selectors, services
from .models import Problem, ProblemTransition


class ProblemTownshipFilter(TownshipFilter):
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
class ProblemAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    """Problems are entered and edited here; their status moves on the problem page (one transition table)."""

    scope_selector = selectors.problems_for_user
    list_display = ("kind", "township", "household", "deadline", "status", "source", "responsible_person")
    list_filter = (ProblemTownshipFilter, "status", "kind", "source", "phase")
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
        (None, {"fields": ("township", "household", "dwelling", "source", "kind", "phase")}),
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
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        services.save_problem(actor=request.user, problem=obj)
