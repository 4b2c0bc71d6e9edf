"""Flat exports for the provincial system: households, dwellings, appraisals and renovation cases.

The columns (header text and the field each takes) come from an ExportTemplate the bureau edits in the admin,
since the provincial template changes by year; the fields offered are a fixed list per dataset, so no template can
reach data the export should not carry. Rows come from the user's scoped selectors; ID and phone numbers are in
full only for roles that may see them. The workbook is written in openpyxl's write-only mode to a temporary file
and streamed, so memory does not grow with the number of rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from households.identity import mask_id_number, mask_phone
from households.selectors import dwellings_for_user, households_for_user
from housing_safety import disclosure
from housing_safety.access import can_view_personal_data
from housing_safety.db_router import use_replica
from housing_safety.excel import WorkbookWriter
from inspections.selectors import appraisals_for_user
from rectification.selectors import cases_for_user

from .datasets import EXPORT_FIELDS

BATCH = 2000
PERSONAL = {"id_number": mask_id_number, "phone": mask_phone}


@dataclass(frozen=True)
class Dataset:
    label: str
    rows: Callable  # user -> queryset
    fields: dict[str, str]  # field path -> default header; the template chooses among these
    default: tuple[str, ...]  # the default columns, in order


# Each dataset's rows through the user's scope; what each may carry is reporting.datasets (the template checks it).
_ROWS = {
    "households": households_for_user,
    "dwellings": dwellings_for_user,
    "appraisals": appraisals_for_user,
    "cases": cases_for_user,
}
DATASETS = {name: Dataset(spec.label, _ROWS[name], spec.fields, spec.default) for name, spec in EXPORT_FIELDS.items()}


def columns_for(dataset: str) -> list[tuple[str, str]]:
    """(header, field path) of the dataset's export: the bureau's template where it has one, else the default."""
    from .models import ExportTemplate

    spec = DATASETS[dataset]
    template = ExportTemplate.objects.filter(dataset=dataset).values_list("columns", flat=True).first()
    if not template:
        return [(spec.fields[path], path) for path in spec.default]
    return [(header or spec.fields[path], path) for header, path in template if path in spec.fields]


def _personal(path: str) -> Callable | None:
    return PERSONAL.get(path.rsplit("__", 1)[-1])


def export_rows(user, dataset: str) -> tuple[list[str], QuerySet, list[str]]:
    columns = columns_for(dataset)
    rows = DATASETS[dataset].rows(user).order_by("pk").values_list(*[path for _header, path in columns])
    return [header for header, _path in columns], rows, [path for _header, path in columns]


def _display(queryset: QuerySet, path: str) -> Callable | None:
    """How a value reads in the export: a choice by its label (结构类型 砖木, not brick_timber), yes/no in words."""
    model, field = queryset.model, None
    for part in path.split("__"):
        field = model._meta.get_field(part)
        model = field.related_model or model
    if field is not None and field.choices:
        labels = {value: str(label) for value, label in field.flatchoices}
        return lambda value: labels.get(value, value)
    if field is not None and field.get_internal_type() == "BooleanField":
        yes, no = str(_("yes")), str(_("no"))
        return lambda value: yes if value else no
    return None


@use_replica()
def write_export(user, dataset: str, ip_address: str | None = None):
    """The export as a temporary .xlsx file (rewound), written row by row in write-only mode. Read from the replica
    when there is one: the whole file is written before this returns, so no read outlives the block."""
    headers, rows, paths = export_rows(user, dataset)
    personal = can_view_personal_data(user)
    # One function per column: masking for personal numbers the role may not see, labels for choices.
    shown = [(None if personal else _personal(path)) or _display(rows, path) for path in paths]
    book = WorkbookWriter()
    # The headers are the bureau's, typed in the export template: made safe like every value.
    sheet = book.sheet(DATASETS[dataset].label, headers, freeze="A2")
    for values in rows.iterator(chunk_size=BATCH):
        sheet.append(
            show(value) if show and value is not None else value for show, value in zip(shown, values, strict=True)
        )
    if personal:
        disclosure.log_export(user=user, name=str(DATASETS[dataset].label), rows=sheet.rows, ip_address=ip_address)
    return book.to_file()


def build_export_file(export_id: int) -> str:
    """The background export: built as its requester sees the data, stored for them to download, and the requester
    told (inbox, and e-mail where they have an address) that it is ready, with the download link, or that it
    failed. Idempotent: a second run builds and tells nothing."""
    from django.core.files import File
    from django.utils import timezone

    from .models import ExportFile

    export = ExportFile.objects.select_related("user").get(pk=export_id)
    if export.status != ExportFile.Status.PENDING:
        return export.status
    try:
        handle = write_export(export.user, export.dataset)
        export.file.save(f"{export.dataset}-{export.pk}.xlsx", File(handle), save=False)
        handle.close()
        with use_replica():
            export.rows = DATASETS[export.dataset].rows(export.user).count()
        export.status = ExportFile.Status.READY
    except Exception:
        export.status = ExportFile.Status.FAILED
        raise
    finally:
        export.finished_at = timezone.now()
        export.save(update_fields=["file", "rows", "status", "finished_at"])
        tell_requester(export)
    return export.status


def tell_requester(export) -> int:
    """The requester's notice about a finished background export: 「导出已完成：…」 linking to the file, or
    「导出失败：…」 linking to the exports page. Once per export (key `export:<pk>`); how many it reached."""
    from django.conf import settings
    from django.urls import reverse
    from django.utils import translation
    from django.utils.translation import gettext

    from housing_safety.notices import notify

    from .models import ExportFile

    with translation.override(settings.LANGUAGE_CODE):
        name = str(DATASETS[export.dataset].label) if export.dataset in DATASETS else export.dataset
        if export.status == ExportFile.Status.READY:
            title = gettext("Export finished: %(name)s") % {"name": name}
            body = gettext("%(rows)s rows; download it within %(days)s days.") % {
                "rows": export.rows,
                "days": settings.EXPORT_FILE_RETENTION_DAYS,
            }
            url = reverse("reporting:export-file", args=[export.pk])
        else:
            title = gettext("Export failed: %(name)s") % {"name": name}
            body = gettext("The export could not be prepared. Ask for it again, or tell the bureau's administrator.")
            url = reverse("reporting:exports")
        return notify(key=f"export:{export.pk}", users=[export.user], title=title, body=body, url=url)
