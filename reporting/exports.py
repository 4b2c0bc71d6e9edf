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

BATCH = 2000
PERSONAL = {"id_number": mask_id_number, "phone": mask_phone}


@dataclass(frozen=True)
class Dataset:
    label: str
    rows: Callable  # user -> queryset
    fields: dict[str, str]  # field path -> default header; the template chooses among these
    default: tuple[str, ...]  # the default columns, in order


DATASETS = {
    "households": Dataset(
        _("Households"),
        households_for_user,
        {
            "village__township__code": "乡镇代码",
            "village__township__name": "乡镇（街道）",
            "village__name": "行政村",
            "head_name": "户主姓名",
            "id_number": "户主身份证号码",
            "phone": "联系电话",
            "members_count": "家庭人口",
            "poverty_status": "脱贫状态",
            "poverty_exit_year": "脱贫年度",
            "registered_on": "纳入日期",
            "status": "状态",
            "source__name": "来源部门",
            "helper_name": "挂钩帮扶责任人",
        },
        (
            "village__township__name",
            "village__name",
            "head_name",
            "id_number",
            "phone",
            "members_count",
            "registered_on",
            "status",
        ),
    ),
    "dwellings": Dataset(
        _("Dwellings"),
        dwellings_for_user,
        {
            "household__village__township__name": "乡镇（街道）",
            "household__village__name": "行政村",
            "household__head_name": "户主姓名",
            "household__id_number": "户主身份证号码",
            "address": "房屋地址",
            "structure_type": "结构类型",
            "storeys": "层数",
            "bays": "间数",
            "floor_area": "建筑面积（㎡）",
            "year_built": "建造年代",
            "is_occupied": "是否居住",
            "renovated_on": "改造验收日期",
            "latitude": "纬度",
            "longitude": "经度",
        },
        (
            "household__village__township__name",
            "household__village__name",
            "household__head_name",
            "household__id_number",
            "address",
            "structure_type",
            "storeys",
            "floor_area",
            "year_built",
            "is_occupied",
        ),
    ),
    "appraisals": Dataset(
        _("Appraisals"),
        appraisals_for_user,
        {
            "dwelling__household__village__township__name": "乡镇（街道）",
            "dwelling__household__village__name": "行政村",
            "dwelling__household__head_name": "户主姓名",
            "dwelling__household__id_number": "户主身份证号码",
            "dwelling__address": "房屋地址",
            "kind": "鉴定方式",
            "appraised_on": "鉴定日期",
            "organisation": "鉴定单位",
            "appraisers": "鉴定人员",
            "foundation": "地基基础",
            "load_bearing_walls": "承重墙",
            "timber_frame": "木柱/梁/檩",
            "roof_truss": "木屋架",
            "concrete_frame": "混凝土柱/梁",
            "floor_roof_slab": "楼屋盖",
            "grade": "鉴定等级",
            "recommendation": "处理建议",
        },
        (
            "dwelling__household__village__township__name",
            "dwelling__household__village__name",
            "dwelling__household__head_name",
            "dwelling__household__id_number",
            "dwelling__address",
            "kind",
            "appraised_on",
            "organisation",
            "grade",
        ),
    ),
    "cases": Dataset(
        _("Renovation cases"),
        cases_for_user,
        {
            "number": "案件编号",
            "township__name": "乡镇（街道）",
            "household__village__name": "行政村",
            "household__head_name": "户主姓名",
            "household__id_number": "户主身份证号码",
            "programme_year": "改造年度",
            "renovation_type": "改造方式",
            "status": "当前环节",
            "status_on": "环节日期",
            "planned_subsidy": "计划补助（元）",
            "accepted_on": "竣工验收日期",
        },
        (
            "number",
            "township__name",
            "household__village__name",
            "household__head_name",
            "household__id_number",
            "programme_year",
            "renovation_type",
            "status",
            "planned_subsidy",
            "accepted_on",
        ),
    ),
}


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
    """The background export: built as its requester sees the data, stored for them to download. Idempotent."""
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
    return export.status
