"""Reports are read in the admin (written through the pages and the jobs); overdue items are the sweep's memory."""

from django.contrib import admin

from housing_safety.admin_base import HistoryAdmin, ReadOnlyAdmin, ScopedAdminMixin

from . import selectors
from .models import ConsolidatedReport, ExportTemplate, MonthlyReport, OverdueItem


@admin.register(MonthlyReport)
class MonthlyReportAdmin(ScopedAdminMixin, HistoryAdmin, ReadOnlyAdmin):
    scope_selector = selectors.reports_for_user
    list_display = ("unit", "kind", "period", "due_on", "status", "on_time", "submitted_at", "submitted_by")
    list_filter = ("kind", "status", "on_time", "period", "unit__kind")
    search_fields = ("unit__name",)
    list_select_related = ("unit", "submitted_by")
    date_hierarchy = "period"


@admin.register(ConsolidatedReport)
class ConsolidatedReportAdmin(ReadOnlyAdmin):
    list_display = ("period", "built_at", "workbook", "email")
    list_select_related = ("email",)


@admin.register(OverdueItem)
class OverdueItemAdmin(ReadOnlyAdmin):
    list_display = ("kind", "label", "township", "unit", "due_on", "first_seen_on", "cleared_on")
    list_filter = ("kind", "cleared_on", "first_seen_on", "township")
    search_fields = ("label",)
    list_select_related = ("township", "unit")


@admin.register(ExportTemplate)
class ExportTemplateAdmin(HistoryAdmin):
    list_display = ("dataset", "notes")
