"""What each provincial export may carry: its name, the fields a template may choose (field path -> the usual
Chinese header) and the default columns. Data only, without the rows: the export template (reporting.models) checks
its columns against it, and reporting.exports reads each dataset's rows through the user's scoped selectors."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class ExportFields:
    label: str
    fields: dict[str, str]  # field path -> default header; the template chooses among these
    default: tuple[str, ...]  # the default columns, in order


EXPORT_FIELDS: dict[str, ExportFields] = {
    "households": ExportFields(
        _("Households"),
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
    "dwellings": ExportFields(
        _("Dwellings"),
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
    "appraisals": ExportFields(
        _("Appraisals"),
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
    "cases": ExportFields(
        _("Renovation cases"),
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
