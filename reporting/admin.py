"""Reports are read in the admin (written through the pages and the jobs); overdue items are the sweep's memory."""

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from housing_safety.admin_base import HistoryAdmin, ReadOnlyAdmin, ScopedAdminMixin
from housing_safety.templatetags.housing import figure

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
    fields = readonly_fields = ("period", "built_at", "workbook", "chart", "figures", "email")

    @admin.display(description=_("key figures"))
    def figures(self, obj):
        """The city's figures as a table of the report's columns by their names (stored as JSON by their keys)."""
        stored = obj.key_figures or {}
        rows = [(c.group, c.label, figure(stored[c.key], c.kind)) for c in selectors.COLUMNS if c.key in stored]
        if not rows:
            return "—"
        return format_html(
            '<table class="figures"><thead><tr><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th>'
            "</tr></thead><tbody>{}</tbody></table>",
            pgettext_lazy("report figures", "Group"),
            pgettext_lazy("report figures", "Figure"),
            pgettext_lazy("report figures", "Value"),
            format_html_join("", '<tr><td>{}</td><td>{}</td><td class="num">{}</td></tr>', rows),
        )


@admin.register(OverdueItem)
class OverdueItemAdmin(ReadOnlyAdmin):
    list_display = ("kind", "label", "township", "unit", "due_on", "first_seen_on", "cleared_on")
    list_filter = ("kind", "cleared_on", "first_seen_on", "township")
    search_fields = ("label",)
    list_select_related = ("township", "unit")


@admin.register(ExportTemplate)
class ExportTemplateAdmin(HistoryAdmin):
    list_display = ("dataset", "notes")
