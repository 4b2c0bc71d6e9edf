"""The reporting app's reads: the figures (per area, per unit, the trend), the late lists, and the units' reports.

Every figure is read as the given user, so a township's report carries exactly what its staff see; the modules
below hold the parts, and this package names what the views, documents, services and tests use.
"""

from .figures import (
    AREA_KEYS,
    COLUMNS,
    KEYS,
    LEAD_KEYS,
    Column,
    area_figures,
    figures_for_units,
    lead_figures,
    made_safe_by_month,
    township_table,
    unit_figures,
    village_table,
)
from .late import LATE_LISTS, announced_late_by_township, iter_late_items, late_counts_by_township, late_items
from .reports import (
    bureau_name,
    expected,
    report_cell_state,
    report_figures,
    report_grid,
    reporting_units,
    reports_for_user,
    units_reporting_for,
)
from .year_end import year_end_due, year_end_summary

__all__ = [
    "AREA_KEYS",
    "COLUMNS",
    "KEYS",
    "LATE_LISTS",
    "LEAD_KEYS",
    "Column",
    "announced_late_by_township",
    "area_figures",
    "bureau_name",
    "expected",
    "figures_for_units",
    "iter_late_items",
    "late_counts_by_township",
    "late_items",
    "lead_figures",
    "made_safe_by_month",
    "report_cell_state",
    "report_figures",
    "report_grid",
    "reporting_units",
    "reports_for_user",
    "township_table",
    "unit_figures",
    "units_reporting_for",
    "village_table",
    "year_end_due",
    "year_end_summary",
]
