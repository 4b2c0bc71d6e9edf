"""Appraisals from Excel: every row through record_appraisal, bad rows with Chinese reasons, scope enforced."""

from __future__ import annotations

import pytest
import tablib
from django.utils import translation

from households.models import Household
from households.tests.factories import (
    DwellingFactory,
    HouseholdFactory,
    VillageFactory,
    make_user,
    township,
    valid_id_number,
)
from housing_safety.access import Role
from inspections.models import Appraisal
from inspections.resources import AppraisalResource

GOOD = {
    "类型": "鉴定", "鉴定日期": "2025年6月1日", "鉴定单位": "村镇站", "鉴定人员": "张工、李工", "地基基础": "b",
    "承重墙": "d", "木柱/梁/檩": "b", "木屋架": "b", "混凝土柱/梁": "无", "楼屋盖": "b", "房屋等级": "D级", "处理建议": "拆除重建",
}  # fmt: skip


@pytest.fixture
def staff(db):
    return make_user(Role.TOWNSHIP_STAFF, townships=[township("350881100")])


def import_rows(user, rows: list[dict], dry_run=False):
    with translation.override("zh-hans"):
        resource = AppraisalResource(user=user)
        headers = [str(f.column_name) for f in resource.get_import_fields()]
        dataset = tablib.Dataset(headers=headers)
        for row in rows:
            dataset.append([row.get(h, "") for h in headers])
        result = resource.import_data(dataset, dry_run=dry_run, use_transactions=True)
        errors = {r.number: {k: [str(m) for m in v] for k, v in r.error_dict.items()} for r in result.invalid_rows}
        return result, errors


def test_rows_become_appraisals_through_the_service_and_bad_rows_say_why(staff):
    home = DwellingFactory(
        household=HouseholdFactory(village=VillageFactory(township=township("350881100"))), year_built=1980
    )
    other = DwellingFactory(household=HouseholdFactory(village=VillageFactory(township=township("350881101"))))
    two_houses = HouseholdFactory(village=VillageFactory(township=township("350881100")))
    DwellingFactory(household=two_houses)
    DwellingFactory(household=two_houses)

    result, errors = import_rows(
        staff,
        [
            {"房屋编号": home.pk, **GOOD},
            {"房屋编号": other.pk, **GOOD},
            {"房屋编号": home.pk, **GOOD, "房屋等级": "A", "处理建议": ""},
            {"户主身份证号码": two_houses.id_number, **GOOD},
            {"房屋编号": home.pk, **GOOD, "混凝土柱/梁": "x"},
            {"房屋编号": home.pk, **GOOD, "鉴定人员": "张工"},
        ],
    )

    appraisal = Appraisal.objects.get()
    assert (appraisal.dwelling, appraisal.grade, appraisal.kind, appraisal.recommendation) == (
        home,
        "D",
        "formal",
        "rebuild",
    )
    assert appraisal.recorded_by == staff and appraisal.history.get().history_user == staff
    assert errors == {
        2: {"房屋编号": [f"您的管辖范围内不存在编号为 {other.pk} 的房屋。"]},
        3: {"房屋等级": ["有构件评为d级，房屋等级只能为C级或D级。"]},
        4: {"房屋编号": ["该户有多处房屋，请填写房屋编号。"]},
        5: {"混凝土柱/梁": ["“x”不是有效的构件等级。"]},
        6: {"鉴定人员": ["鉴定人员不得少于两人。"]},
    }
    assert result.totals["new"] == 1


def test_a_one_house_household_is_found_by_the_heads_id_number_and_dry_run_writes_nothing(staff):
    dwelling = DwellingFactory(household=HouseholdFactory(village=VillageFactory(township=township("350881100"))))
    result, errors = import_rows(
        staff, [{"户主身份证号码": dwelling.household.id_number.lower(), **GOOD}], dry_run=True
    )
    assert errors == {} and result.totals["new"] == 1
    assert Appraisal.objects.count() == 0
    import_rows(staff, [{"户主身份证号码": dwelling.household.id_number, **GOOD}])
    assert Appraisal.objects.get().dwelling == dwelling


def test_another_townships_dwelling_or_id_number_is_answered_like_an_unknown_one(staff):
    """Issue 23: the import must not tell township staff which numbers exist in other townships."""
    other = DwellingFactory(household=HouseholdFactory(village=VillageFactory(township=township("350881101"))))
    unknown_dwelling = other.pk + 1000
    unregistered = valid_id_number()
    assert not Household.objects.filter(id_number=unregistered).exists()

    result, errors = import_rows(
        staff,
        [
            {"房屋编号": other.pk, **GOOD},
            {"房屋编号": unknown_dwelling, **GOOD},
            {"户主身份证号码": other.household.id_number, **GOOD},
            {"户主身份证号码": unregistered, **GOOD},
        ],
    )

    def typed(row: int, key) -> dict:
        return {field: [m.replace(str(key), "KEY") for m in messages] for field, messages in errors[row].items()}

    assert errors[1] and typed(1, other.pk) == typed(2, unknown_dwelling)
    assert errors[3] and typed(3, other.household.id_number) == typed(4, unregistered)
    assert result.totals["invalid"] == 4 and Appraisal.objects.count() == 0
