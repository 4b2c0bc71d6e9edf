"""The households app's workbooks: a department list's rows to fix, and the reconciliation (信息比对). Built on
housing_safety.excel's writer; the department-list logic they report on stays in department_lists."""

from __future__ import annotations

from django.utils.translation import gettext as _

from housing_safety.access import scope_of
from housing_safety.excel import WorkbookWriter

from .department_lists import AGREE, DIFFER, OURS, THEIRS, UNREADABLE, reconciliation
from .identity import mask_id_number, mask_phone
from .models import DepartmentList, ListRow


def invalid_rows_workbook(department_list: DepartmentList, user=None) -> bytes:
    """The invalid rows as uploaded, under the list's own header, with the Excel row and the reason added: fix
    them and upload again."""
    header = department_list.counts.get("header", [])
    book = WorkbookWriter()
    # The header is the department's, as uploaded.
    sheet = book.sheet(_("Rows to fix"), [*header, _("Row in the uploaded file"), _("Reason")], freeze="A2")
    # The department's own people (its liaisons, and whoever uploaded the file) get their rows back in full to fix
    # them; every other reader, the bureau included, sees the numbers masked, as on every list page.
    own = user is None or department_list.uploaded_by_id == user.pk or scope_of(user).unit_id == department_list.unit_id
    masks = {}
    if not own:
        numbers = {"id_number": mask_id_number, "phone": mask_phone}
        for index, name in department_list.counts.get("columns", {}).items():
            if name in numbers:
                masks[int(index)] = numbers[name]
    invalid = department_list.rows.filter(outcome__in=[ListRow.Outcome.INVALID, ListRow.Outcome.SUGGESTED])
    for row in invalid.order_by("row_number").iterator(chunk_size=2000):
        cells = (list(row.raw) + [""] * len(header))[: len(header)]  # cells under no heading are not the list's
        for index, mask in masks.items():
            if index < len(cells) and cells[index]:
                cells[index] = mask(str(cells[index]))
        reasons = "；".join(f"{column}：{reason}" for column, reason in row.errors)  # led by the list's own heading
        sheet.append([*cells, row.row_number, reasons])
    return book.to_bytes()


def reconciliation_workbook(user) -> bytes:
    """The reconciliation page as a workbook: per department and township, then the department's total."""
    book = WorkbookWriter()
    sheet = book.sheet(
        _("Reconciliation"),
        [
            _("Department"), _("Township"), _("In both, consistent"), _("In both, different"),
            _("Only on their list"), _("Rows not readable"), _("Only on our list"), _("Consistency rate"),
        ],
        freeze="C2",
    )  # fmt: skip
    for department in reconciliation(user):
        for row in [*department["townships"], {"township": None, **department["total"], "total": True}]:
            name = _("Total") if row.get("total") else (row["township"].name if row["township"] else _("Unknown"))
            sheet.append([
                department["unit"].name, name, row[AGREE], row[DIFFER], row[THEIRS], row[UNREADABLE], row[OURS],
                row["rate"],
            ])  # fmt: skip
    return book.to_bytes()
