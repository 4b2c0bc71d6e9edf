"""Partner departments' lists (信息比对): read a department's list as it keeps it, compare it with our records
(preview, which writes only the comparison), then apply what the liaison confirms in one transaction.

Reading streams (households.sheets); each chunk of rows is normalised as a clerk reads it (`parse`) and matched
against our households with one query per chunk (`match`). Confirming is set-based SQL (INSERT ... SELECT, UPDATE
... FROM) over the stored comparison, with history rows written the same way (`services`); the reads, with the
reconciliation, are in `selectors`; the workbooks in households.documents. This package names what other modules use.
"""

from .parse import DEFAULT_HEADERS, FIELD_LABELS, Villages, header_key, headers_for
from .selectors import (
    AGREE,
    DIFFER,
    IMPORT,
    OURS,
    THEIRS,
    UNREADABLE,
    count_outcomes,
    lists_for_user,
    missing_households,
    reconciliation,
    units_for_import,
)
from .services import confirm_list, preview_list, read_in_background, remove_read_files, start_preview

__all__ = [
    "AGREE",
    "DEFAULT_HEADERS",
    "DIFFER",
    "FIELD_LABELS",
    "IMPORT",
    "OURS",
    "THEIRS",
    "UNREADABLE",
    "Villages",
    "confirm_list",
    "count_outcomes",
    "header_key",
    "headers_for",
    "lists_for_user",
    "missing_households",
    "preview_list",
    "read_in_background",
    "reconciliation",
    "remove_read_files",
    "start_preview",
    "units_for_import",
]
