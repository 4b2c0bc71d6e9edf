"""Excel import of villages, households and dwellings: Chinese headers, messy cells, row errors, scope."""

from __future__ import annotations

import datetime
import io
import re
from decimal import Decimal

import openpyxl
import pytest
import tablib
from django.utils import timezone
from django.utils.translation import override

from households.models import Dwelling, Household, Village
from households.resources import DwellingResource, HouseholdResource, VillageResource
from housing_safety.access import Role

from .factories import DwellingFactory, HouseholdFactory, VillageFactory, valid_id_number

pytestmark = pytest.mark.usefixtures("chinese")

# ID numbers with known check digits (GB 11643): 35088119900101108X, 350881199001011004, 350881199001011020.
ID_X = "35088119900101108X"
ID_4 = "350881199001011004"
ID_0 = "350881199001011020"
WRONG_CHECK = "350881199001011001"  # the right check digit is 4

HOUSEHOLD_COLUMNS = (
    "id_number",
    "head_name",
    "phone",
    "township",
    "village",
    "members_count",
    "categories",
    "registered_on",
)
DWELLING_COLUMNS = (
    "id",
    "household",
    "address",
    "structure_type",
    "storeys",
    "bays",
    "floor_area",
    "year_built",
    "is_occupied",
    "is_connected",
    "neighbour_cooperates",
    "latitude",
    "longitude",
)


@pytest.fixture
def dongkeng(xinqiao):
    return VillageFactory(township=xinqiao, name="东坑村")


@pytest.fixture
def xishan(shuangyang):
    return VillageFactory(township=shuangyang, name="西山村")


def headers(resource_class, names) -> list[str]:
    """The Chinese column names, as the bureau's sheets have them (column_name is a lazy translation)."""
    with override("zh-hans"):
        return [str(resource_class.fields[name].column_name) for name in names]


def make_dataset(resource_class, names, rows) -> tablib.Dataset:
    dataset = tablib.Dataset(headers=headers(resource_class, names))
    for row in rows:
        dataset.append(row)
    return dataset


def run(resource, dataset, *, dry_run=False):
    with override("zh-hans"):
        return resource.import_data(dataset, dry_run=dry_run, use_transactions=True, raise_errors=False)


def messages_by_row(result) -> dict[int, list[str]]:
    """Every row-level problem (validation error or error), by 1-based data row number."""
    found: dict[int, list[str]] = {}
    for invalid in result.invalid_rows:
        found.setdefault(invalid.number, []).extend(invalid.error.messages)
    for number, errors in result.row_errors():
        found.setdefault(number, []).extend(str(error.error) for error in errors)
    return found


def import_types(result) -> list[str]:
    return [row.import_type for row in result.rows]


def counts():
    return {
        "villages": Village.objects.count(),
        "households": Household.objects.count(),
        "household_history": Household.history.count(),
        "dwellings": Dwelling.objects.count(),
        "dwelling_history": Dwelling.history.count(),
    }


def test_headers_are_chinese():
    assert headers(HouseholdResource, HOUSEHOLD_COLUMNS) == [
        "身份证号码", "户主姓名", "联系电话", "乡镇（街道）", "村", "家庭人口", "帮扶对象类别", "纳入日期",
    ]  # fmt: skip
    assert headers(VillageResource, ("township", "name", "code", "is_revolutionary_base_village")) == [
        "乡镇（街道）", "村", "村代码", "革命基点村",
    ]  # fmt: skip
    assert headers(DwellingResource, ("id", "household", "address", "structure_type", "storeys")) == [
        "房屋编号", "户主身份证号码", "地址", "结构类型", "层数",
    ]  # fmt: skip


# --- villages -------------------------------------------------------------------------------------------

VILLAGE_COLUMNS = ("township", "name", "code", "is_revolutionary_base_village")


def test_villages_import_with_township_by_name_short_name_and_code(admin_user, xinqiao, shuangyang):
    dataset = make_dataset(
        VillageResource,
        VILLAGE_COLUMNS,
        [
            ["新桥镇", "东坑村", "350881100201", "是"],
            ["新桥", "西坑村", "", "否"],
            ["350881101", "西山村", 350881101202, ""],  # a code typed as a number cell
            ["菁城", "城东社区", None, "√"],  # 菁城街道 by its short name
            ["官田", "官田村", "", "N"],  # 官田乡 by its short name
        ],
    )
    result = run(VillageResource(user=admin_user), dataset)

    assert messages_by_row(result) == {}
    assert import_types(result) == ["new"] * 5
    stored = {
        (v.township.name, v.name): (v.code, v.is_revolutionary_base_village)
        for v in Village.objects.select_related("township")
    }
    assert stored == {
        ("新桥镇", "东坑村"): ("350881100201", True),
        ("新桥镇", "西坑村"): (None, False),
        ("双洋镇", "西山村"): ("350881101202", False),
        ("菁城街道", "城东社区"): (None, True),
        ("官田乡", "官田村"): (None, False),
    }
    assert Village.history.filter(history_user=admin_user).count() == 5


def test_villages_dry_run_writes_nothing(admin_user, xinqiao):
    dataset = make_dataset(
        VillageResource, VILLAGE_COLUMNS, [["新桥镇", "东坑村", "", "是"], ["新桥", "西坑村", "", ""]]
    )
    before = counts()
    result = run(VillageResource(user=admin_user), dataset, dry_run=True)
    assert import_types(result) == ["new", "new"]
    assert counts() == before
    assert Village.history.count() == 0


def test_village_row_with_a_bad_code_is_invalid_and_the_others_import(admin_user, xinqiao):
    dataset = make_dataset(
        VillageResource,
        VILLAGE_COLUMNS,
        [["新桥镇", "东坑村", "", ""], ["新桥镇", "坏码村", "12345", ""], ["新桥镇", "西坑村", "", ""]],
    )
    result = run(VillageResource(user=admin_user), dataset)
    assert messages_by_row(result) == {2: ["村代码应为12位数字。"]}
    assert sorted(Village.objects.values_list("name", flat=True)) == ["东坑村", "西坑村"]


def test_reimporting_villages_skips_unchanged_rows(admin_user, xinqiao):
    rows = [["新桥镇", "东坑村", "350881100201", "是"], ["新桥镇", "西坑村", "", "否"]]
    run(VillageResource(user=admin_user), make_dataset(VillageResource, VILLAGE_COLUMNS, rows))
    before = counts()
    history = Village.history.count()

    result = run(VillageResource(user=admin_user), make_dataset(VillageResource, VILLAGE_COLUMNS, rows))

    assert import_types(result) == ["skip", "skip"]
    assert result.totals["new"] == result.totals["update"] == 0
    assert counts() == before
    assert Village.history.count() == history


def test_unknown_township_in_a_village_row_is_reported_in_chinese(admin_user):
    dataset = make_dataset(VillageResource, VILLAGE_COLUMNS, [["无此镇", "某村", "", ""]])
    result = run(VillageResource(user=admin_user), dataset)
    assert messages_by_row(result) == {1: ["无法识别的乡镇（街道）“无此镇”。"]}
    assert Village.objects.count() == 0


def test_unknown_township_in_a_village_row_does_not_block_the_good_rows(admin_user, xinqiao):
    dataset = make_dataset(VillageResource, VILLAGE_COLUMNS, [["新桥镇", "东坑村", "", ""], ["无此镇", "某村", "", ""]])
    result = run(VillageResource(user=admin_user), dataset)
    assert [row.number for row in result.invalid_rows] == [2]
    assert list(Village.objects.values_list("name", flat=True)) == ["东坑村"]


def test_township_staff_cannot_import_villages(staff, xinqiao):
    dataset = make_dataset(VillageResource, VILLAGE_COLUMNS, [["新桥镇", "新村", "", ""]])
    result = run(VillageResource(user=staff), dataset)
    assert messages_by_row(result) == {1: ["您没有执行此操作的权限。"]}
    assert Village.objects.count() == 0


# --- households: happy path -----------------------------------------------------------------------------


def test_households_import_with_messy_cells(admin_user, dongkeng, xishan, poverty_office):
    dataset = make_dataset(
        HouseholdResource,
        (*HOUSEHOLD_COLUMNS, "poverty_status", "poverty_exit_year", "source", "helper_phone"),
        [
            # full-width digits and a full-width lower-case ｘ; short township name; '3人'; Chinese date
            [
                "３５０８８１１９９００１０１１０８ｘ",
                " 张三 ",
                "+86 139 1234 5678",
                "新桥",
                "东坑村",
                "3人",
                "低保户、五保户",
                "2024年5月1日",
                "已脱贫",
                "2020年",
                "漳平市扶贫开发办公室",
                "05977526007",
            ],
            # lower-case x with spaces and dashes; township by code; an Excel date cell
            [
                " 350881-19900101-1004 ",
                "李四",
                "",
                "350881101",
                "西山村",
                2,
                "建档立卡贫困户，残疾人家庭",
                datetime.datetime(2023, 12, 31, 0, 0),
                "",
                "",
                "",
                "",
            ],
        ],
    )
    result = run(HouseholdResource(user=admin_user), dataset)

    assert messages_by_row(result) == {}
    assert import_types(result) == ["new", "new"]

    first = Household.objects.get(id_number=ID_X)
    assert first.head_name == "张三"
    assert first.phone == "13912345678"
    assert first.helper_phone == "0597-7526007"
    assert first.village == dongkeng
    assert first.members_count == 3
    assert first.registered_on == datetime.date(2024, 5, 1)
    assert first.poverty_status == "exited"
    assert first.poverty_exit_year == 2020
    assert first.source == poverty_office
    assert sorted(first.categories.values_list("code", flat=True)) == ["extremely_poor", "minimum_living"]

    second = Household.objects.get(id_number=ID_4)
    assert second.village == xishan
    assert second.members_count == 2
    assert second.registered_on == datetime.date(2023, 12, 31)
    assert sorted(second.categories.values_list("code", flat=True)) == ["disabled", "registered_poor"]

    assert set(Household.history.values_list("history_user", flat=True)) == {admin_user.pk}


def test_township_staff_imports_households_of_own_township(staff, dongkeng):
    dataset = make_dataset(
        HouseholdResource,
        HOUSEHOLD_COLUMNS,
        [[ID_X.lower(), "张三", "13912345678", "新桥镇", "东坑村", "3人", "低保户", "2024-05-01"]],
    )
    result = run(HouseholdResource(user=staff), dataset)
    assert messages_by_row(result) == {}
    household = Household.objects.get(id_number=ID_X)
    assert household.village == dongkeng
    assert household.history.earliest().history_user == staff


def test_an_existing_household_is_updated_by_id_number_in_any_spelling(staff, dongkeng):
    household = HouseholdFactory(village=dongkeng, id_number=ID_X, head_name="旧名", members_count=5)
    dataset = make_dataset(
        HouseholdResource,
        HOUSEHOLD_COLUMNS,
        [[ID_X.lower(), "新名", "13912345678", "新桥镇", "东坑村", "4人", "低保", "2024-05-01"]],
    )
    result = run(HouseholdResource(user=staff), dataset)
    assert messages_by_row(result) == {}
    assert import_types(result) == ["update"]
    assert Household.objects.count() == 1
    household.refresh_from_db()
    assert (household.head_name, household.members_count) == ("新名", 4)
    assert list(household.categories.values_list("code", flat=True)) == ["minimum_living"]  # replaced, not added
    assert household.history.latest().history_user == staff


def test_households_dry_run_writes_nothing(staff, dongkeng):
    dataset = make_dataset(
        HouseholdResource,
        HOUSEHOLD_COLUMNS,
        [
            [ID_X, "张三", "", "新桥镇", "东坑村", "3", "低保户", "2024-05-01"],
            [ID_4, "李四", "", "新桥镇", "东坑村", "2", "五保户", "2024-05-01"],
        ],
    )
    before = counts()
    result = run(HouseholdResource(user=staff), dataset, dry_run=True)
    assert import_types(result) == ["new", "new"]
    assert not result.has_errors()
    assert not result.has_validation_errors()
    assert counts() == before
    assert Household.categories.through.objects.count() == 0


# --- households: bad rows among good ones ---------------------------------------------------------------


def test_bad_household_rows_are_row_errors_and_good_rows_still_import(staff, dongkeng, other_household):
    other_before = Household.objects.get(pk=other_household.pk)
    other_history = other_household.history.count()
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    unchanged_other = (other_household.head_name, other_household.village_id, other_household.members_count)

    rows = [
        [ID_X, "张三", "", "新桥镇", "东坑村", "3人", "低保户", "2024-05-01"],  # 1 good
        [WRONG_CHECK, "李四", "", "新桥镇", "东坑村", "3", "低保户", "2024-05-01"],  # 2
        ["", "王五", "", "新桥镇", "东坑村", "3", "低保户", "2024-05-01"],  # 3 missing ID
        [valid_id_number(), "赵六", "", "新桥镇", "北坑村", "3", "低保户", "2024-05-01"],  # 4 unknown village
        [valid_id_number(), "钱七", "", "新桥乡", "东坑村", "3", "低保户", "2024-05-01"],  # 5 unknown township
        [valid_id_number(), "孙八", "", "新桥镇", "东坑村", "3", "低保户", tomorrow.isoformat()],  # 6 future
        [valid_id_number(), "周九", "", "双洋镇", "西山村", "3", "低保户", "2024-05-01"],  # 7 other township
        # 8: an existing household of 双洋镇, moved into the importer's village
        [other_household.id_number, "篡改", "", "新桥镇", "东坑村", "3", "低保户", "2024-05-01"],
        # 9: the same household, left in its own township but renamed
        [other_household.id_number.lower(), "篡改", "", "双洋镇", "西山村", "3", "低保户", "2024-05-01"],
        [valid_id_number(), "吴十", "", "新桥镇", "东坑村", "3", "低保户", "2024年13月1日"],  # 10 bad date
        [valid_id_number(), "郑一", "12345", "新桥镇", "东坑村", "0人", "低保户", "2024-05-01"],  # 11
        [ID_4, "陈二", "0597 7526007", "新桥", "东坑村", "2", "五保户", "2024/5/1"],  # 12 good
        ["35088119900230100X", "冯三", "", "新桥镇", "东坑村", "1", "低保户", "2024-05-01"],  # 13 bad birth date
        ["3508811990010110", "褚四", "", "新桥镇", "东坑村", "1", "低保户", "2024-05-01"],  # 14 16 characters
    ]
    result = run(HouseholdResource(user=staff), make_dataset(HouseholdResource, HOUSEHOLD_COLUMNS, rows))

    assert messages_by_row(result) == {
        2: ["第18位校验码应为4，而不是1。"],
        3: ["缺少身份证号码，导入时按身份证号码匹配农户。"],
        4: ["新桥镇 未登记“北坑村”。"],
        5: ["无法识别的乡镇（街道）“新桥乡”。"],
        6: ["日期不能晚于今天。"],
        7: ["该行属于其他乡镇（街道），您只能导入本乡镇（街道）的数据。"],
        # 8: the number is taken (as the add form would say); which township has it is not said
        8: ["具有 身份证号码 的 农户 已存在。"],
        9: ["该行属于其他乡镇（街道），您只能导入本乡镇（街道）的数据。"],  # the same answer as row 7
        10: ["“2024年13月1日”不是有效日期，请写成 2024-05-01 或 2024年5月1日。"],
        11: ["请填写11位手机号码或带区号的固定电话（如 0597-7526007）。", "确保该值大于或等于1。"],
        13: ["第7-14位（19900230）不是真实的出生日期。"],
        14: ["身份证号码应为18位，当前为16位。"],
    }
    # errors are named after the column the clerk sees in Excel
    invalid = {row.number: row for row in result.invalid_rows}
    assert set(invalid[2].error_dict) == {"身份证号码"}
    assert set(invalid[4].error_dict) == {"村"}
    assert set(invalid[6].error_dict) == {"纳入日期"}
    assert set(invalid[10].error_dict) == {"纳入日期"}
    assert set(invalid[11].error_dict) == {"联系电话", "家庭人口"}
    assert not result.has_errors()  # only validation errors: the transaction is kept

    assert sorted(Household.objects.values_list("head_name", flat=True)) == sorted(
        ["张三", "陈二", other_household.head_name]
    )
    assert set(Household.objects.values_list("id_number", flat=True)) == {ID_X, ID_4, other_household.id_number}
    assert Household.objects.get(id_number=ID_4).phone == "0597-7526007"

    other_after = Household.objects.get(pk=other_household.pk)
    assert (other_after.head_name, other_after.village_id, other_after.members_count) == unchanged_other
    assert other_after.updated_at == other_before.updated_at
    assert other_household.history.count() == other_history


def test_bad_rows_in_a_dry_run_are_reported_and_nothing_is_written(staff, dongkeng):
    rows = [
        [ID_X, "张三", "", "新桥镇", "东坑村", "3", "低保户", "2024-05-01"],
        [WRONG_CHECK, "李四", "", "新桥镇", "东坑村", "3", "低保户", "2024-05-01"],
    ]
    before = counts()
    result = run(HouseholdResource(user=staff), make_dataset(HouseholdResource, HOUSEHOLD_COLUMNS, rows), dry_run=True)
    assert messages_by_row(result) == {2: ["第18位校验码应为4，而不是1。"]}
    assert import_types(result) == ["new", "invalid"]
    assert counts() == before


def test_unknown_category_is_reported_in_chinese(staff, dongkeng):
    rows = [[ID_X, "张三", "", "新桥镇", "东坑村", "3", "低保户、富裕户", "2024-05-01"]]
    result = run(HouseholdResource(user=staff), make_dataset(HouseholdResource, HOUSEHOLD_COLUMNS, rows))
    assert messages_by_row(result) == {1: ["无法识别的帮扶对象类别：富裕户。"]}
    assert Household.objects.count() == 0


def test_missing_category_is_reported_in_chinese(staff, dongkeng):
    rows = [[ID_X, "张三", "", "新桥镇", "东坑村", "3", "", "2024-05-01"]]
    result = run(HouseholdResource(user=staff), make_dataset(HouseholdResource, HOUSEHOLD_COLUMNS, rows))
    assert messages_by_row(result) == {1: ["至少填写一个帮扶对象类别。"]}
    assert Household.objects.count() == 0


@pytest.mark.parametrize(
    ("bad_categories", "message"),
    [("低保户、富裕户", "无法识别的帮扶对象类别：富裕户。"), ("", "至少填写一个帮扶对象类别。")],
)
def test_bad_category_row_is_invalid_and_does_not_block_the_good_rows(staff, dongkeng, bad_categories, message):
    rows = [
        [ID_X, "张三", "", "新桥镇", "东坑村", "3", "低保户", "2024-05-01"],
        [ID_4, "李四", "", "新桥镇", "东坑村", "3", bad_categories, "2024-05-01"],
        [ID_0, "王五", "", "新桥镇", "东坑村", "3", "五保户", "2024-05-01"],
    ]
    result = run(HouseholdResource(user=staff), make_dataset(HouseholdResource, HOUSEHOLD_COLUMNS, rows))
    assert [row.number for row in result.invalid_rows] == [2]
    assert result.invalid_rows[0].error_dict == {"帮扶对象类别": [message]}
    assert not result.has_errors()
    assert set(Household.objects.values_list("id_number", flat=True)) == {ID_X, ID_0}
    assert not Household.history.filter(id_number=ID_4).exists()  # nothing of the bad row was written


def test_existing_household_of_another_township_is_unchanged_when_staff_imports_it(staff, dongkeng, other_household):
    before = Household.objects.get(pk=other_household.pk)
    history = other_household.history.count()
    categories = list(other_household.categories.values_list("code", flat=True))
    rows = [[other_household.id_number, "篡改", "13800000000", "双洋镇", "西山村", "9", "五保户", "2020-01-01"]]
    result = run(HouseholdResource(user=staff), make_dataset(HouseholdResource, HOUSEHOLD_COLUMNS, rows))

    assert messages_by_row(result) == {1: ["该行属于其他乡镇（街道），您只能导入本乡镇（街道）的数据。"]}
    after = Household.objects.get(pk=other_household.pk)
    assert (after.head_name, after.phone, after.members_count, after.registered_on) == (
        before.head_name,
        before.phone,
        before.members_count,
        before.registered_on,
    )
    assert list(after.categories.values_list("code", flat=True)) == categories
    assert other_household.history.count() == history


# --- households: re-import ------------------------------------------------------------------------------


def test_reimporting_the_same_file_skips_every_row(staff, dongkeng):
    rows = [
        [ID_X.lower(), "张三", "13912345678", "新桥镇", "东坑村", "3人", "低保户、五保户", "2024年5月1日"],
        [ID_4, "李四", "0597-7526007", "新桥", "东坑村", 2, "残疾人家庭", "2024-05-01"],
    ]
    first = run(HouseholdResource(user=staff), make_dataset(HouseholdResource, HOUSEHOLD_COLUMNS, rows))
    assert import_types(first) == ["new", "new"]
    before = counts()

    second = run(HouseholdResource(user=staff), make_dataset(HouseholdResource, HOUSEHOLD_COLUMNS, rows))

    assert import_types(second) == ["skip", "skip"]
    assert (second.totals["new"], second.totals["update"], second.totals["skip"]) == (0, 0, 2)
    assert counts() == before


def test_reimporting_a_file_with_messy_phones_skips_unchanged_rows(staff, dongkeng):
    rows = [[ID_X, "张三", "+86 139 1234 5678", "新桥镇", "东坑村", "3", "低保户", "2024-05-01"]]
    run(HouseholdResource(user=staff), make_dataset(HouseholdResource, HOUSEHOLD_COLUMNS, rows))
    before = counts()
    second = run(HouseholdResource(user=staff), make_dataset(HouseholdResource, HOUSEHOLD_COLUMNS, rows))
    assert import_types(second) == ["skip"]
    assert counts() == before


# --- dwellings ------------------------------------------------------------------------------------------


@pytest.fixture
def own_household(dongkeng):
    return HouseholdFactory(village=dongkeng, id_number=ID_X)


def dwelling_row(pk, id_number, **cells):
    values = {
        "address": "3组12号",
        "structure_type": "土木结构",
        "storeys": "2层",
        "bays": "3间",
        "floor_area": "85.5㎡",
        "year_built": "1985年",
        "is_occupied": "是",
        "is_connected": "否",
        "neighbour_cooperates": "",
        "latitude": "25.3",
        "longitude": "117.421234567",
    }
    values.update(cells)
    return [pk, id_number, *(values[name] for name in DWELLING_COLUMNS[2:])]


def assert_dwelling_from_row(dwelling):
    assert dwelling.address == "3组12号"
    assert dwelling.structure_type == "earth_timber"
    assert (dwelling.storeys, dwelling.bays, dwelling.year_built) == (2, 3, 1985)
    assert dwelling.floor_area == Decimal("85.50")
    assert (dwelling.is_occupied, dwelling.is_connected, dwelling.neighbour_cooperates) == (True, False, None)
    assert (dwelling.latitude, dwelling.longitude) == (Decimal("25.300000"), Decimal("117.421235"))


def test_new_dwellings_import_matched_by_id_number(staff, own_household):
    dataset = make_dataset(DwellingResource, DWELLING_COLUMNS, [dwelling_row("", ID_X.lower())])
    result = run(DwellingResource(user=staff), dataset)
    assert messages_by_row(result) == {}
    dwelling = Dwelling.objects.get()
    assert dwelling.household == own_household
    assert_dwelling_from_row(dwelling)


class DwellingResourceWithoutDiff(DwellingResource):
    """The real resource with the import diff switched off, to exercise the rest of the row pipeline."""

    class Meta(DwellingResource.Meta):
        skip_diff = True


def test_new_dwelling_rows_import_when_the_diff_is_not_built(staff, own_household, other_household):
    dataset = make_dataset(
        DwellingResource,
        DWELLING_COLUMNS,
        [
            dwelling_row("", ID_X.lower()),
            dwelling_row("", other_household.id_number, address="1组1号"),
            dwelling_row("", ID_X, address="3组13号", structure_type="茅草房"),
            dwelling_row("", ID_X, address="3组14号", year_built="2999", neighbour_cooperates="是"),
        ],
    )
    result = run(DwellingResourceWithoutDiff(user=staff), dataset)
    assert messages_by_row(result) == {
        2: [f"您的管辖范围内未登记身份证号码为 {other_household.id_number} 的农户。"],
        3: ["无法识别的结构类型“茅草房”，请填写 土坯、土木、砖木、砖土混杂、木、石木、砖混、框架 或 其他。"],
        4: ["建成年份不能晚于今年。", "“相邻户是否配合”仅适用于联体房。"],
    }
    dwelling = Dwelling.objects.get(household=own_household)
    assert_dwelling_from_row(dwelling)
    assert dwelling.history.get().history_user == staff
    assert other_household.dwellings.count() == 1  # only the fixture's


def test_existing_dwelling_is_updated_by_its_number(staff, own_household):
    dwelling = DwellingFactory(household=own_household, structure_type="brick_concrete", storeys=1, address="旧址")
    dataset = make_dataset(DwellingResource, DWELLING_COLUMNS, [dwelling_row(dwelling.pk, ID_X.lower())])
    result = run(DwellingResource(user=staff), dataset)
    assert messages_by_row(result) == {}
    assert import_types(result) == ["update"]
    dwelling.refresh_from_db()
    assert dwelling.household == own_household
    assert_dwelling_from_row(dwelling)
    assert dwelling.history.latest().history_user == staff
    assert Dwelling.objects.count() == 1


def test_reimporting_dwellings_skips_unchanged_rows(staff, own_household):
    dwelling = DwellingFactory(household=own_household)
    rows = [dwelling_row(dwelling.pk, ID_X)]
    run(DwellingResource(user=staff), make_dataset(DwellingResource, DWELLING_COLUMNS, rows))
    before = counts()
    result = run(DwellingResource(user=staff), make_dataset(DwellingResource, DWELLING_COLUMNS, rows))
    assert import_types(result) == ["skip"]
    assert counts() == before


def test_dwelling_rows_out_of_scope_or_invalid_are_row_errors(staff, own_household, other_household):
    own = DwellingFactory(household=own_household, address="本镇房")
    second_own = DwellingFactory(household=own_household, address="本镇二号")
    third_own = DwellingFactory(household=own_household, address="本镇三号")
    foreign = other_household.dwellings.get()
    foreign_address = foreign.address
    rows = [
        dwelling_row(own.pk, ID_X),  # 1 good
        dwelling_row(foreign.pk, other_household.id_number, address="篡改"),  # 2 another township's dwelling
        dwelling_row(second_own.pk, other_household.id_number),  # 3 moved to another township's household
        dwelling_row(third_own.pk, ID_X, structure_type="铁皮房"),  # 4
        dwelling_row(third_own.pk, ID_X, year_built="2999", neighbour_cooperates="否"),  # 5
    ]
    result = run(DwellingResource(user=staff), make_dataset(DwellingResource, DWELLING_COLUMNS, rows))
    assert messages_by_row(result) == {
        2: [f"您的管辖范围内不存在编号为 {foreign.pk} 的房屋。"],
        3: [f"您的管辖范围内未登记身份证号码为 {other_household.id_number} 的农户。"],
        4: ["无法识别的结构类型“铁皮房”，请填写 土坯、土木、砖木、砖土混杂、木、石木、砖混、框架 或 其他。"],
        5: ["建成年份不能晚于今年。", "“相邻户是否配合”仅适用于联体房。"],
    }
    own.refresh_from_db()
    assert_dwelling_from_row(own)
    assert Dwelling.objects.get(pk=foreign.pk).address == foreign_address
    assert Dwelling.objects.get(pk=second_own.pk).household == own_household
    assert Dwelling.objects.get(pk=third_own.pk).address == "本镇三号"


def test_unknown_household_id_number_in_a_dwelling_row_is_an_invalid_row(staff, own_household):
    own = DwellingFactory(household=own_household, address="本镇房")
    rows = [dwelling_row(own.pk, ID_X), dwelling_row(own.pk, ID_4)]
    result = run(DwellingResource(user=staff), make_dataset(DwellingResource, DWELLING_COLUMNS, rows))
    assert [row.number for row in result.invalid_rows] == [2]
    assert not result.has_errors()
    assert Dwelling.objects.get(pk=own.pk).address == "3组12号"


# --- another township's records are answered like unknown ones (issue 23) ----------------------------------
# An import must not tell township staff which ID numbers (or dwelling numbers) exist in other townships: a key
# that finds a record outside the importer's scope gets exactly the answer of a key that finds nothing.


def unregistered_id_number() -> str:
    number = valid_id_number()
    assert not Household.objects.filter(id_number=number).exists()
    return number


def same_answer(result, first: tuple[int, str], second: tuple[int, str]) -> None:
    """Rows `first` and `second` (row number, the key typed in it) were answered alike but for the key itself."""
    messages, outcomes = messages_by_row(result), import_types(result)
    (row_a, key_a), (row_b, key_b) = first, second
    assert messages[row_a], "the row must be refused"
    assert [m.replace(key_a, "KEY") for m in messages[row_a]] == [m.replace(key_b, "KEY") for m in messages[row_b]]
    assert outcomes[row_a - 1] == outcomes[row_b - 1] == "invalid"
    invalid = {row.number: row for row in result.invalid_rows}
    assert set(invalid[row_a].error_dict) == set(invalid[row_b].error_dict)


def test_a_household_row_with_another_townships_id_number_is_answered_like_an_unregistered_one(
    staff, dongkeng, other_household
):
    unregistered = unregistered_id_number()
    rows = [
        [other_household.id_number, "篡改", "", "双洋镇", "西山村", "3", "低保户", "2024-05-01"],
        [unregistered, "周九", "", "双洋镇", "西山村", "3", "低保户", "2024-05-01"],
    ]
    before = counts()
    result = run(HouseholdResource(user=staff), make_dataset(HouseholdResource, HOUSEHOLD_COLUMNS, rows))
    same_answer(result, (1, other_household.id_number), (2, unregistered))
    assert counts() == before


def test_a_dwelling_row_with_another_townships_id_number_is_answered_like_an_unregistered_one(
    staff, own_household, other_household
):
    unregistered = unregistered_id_number()
    rows = [dwelling_row("", other_household.id_number), dwelling_row("", unregistered)]
    before = counts()
    result = run(DwellingResource(user=staff), make_dataset(DwellingResource, DWELLING_COLUMNS, rows))
    same_answer(result, (1, other_household.id_number), (2, unregistered))
    assert counts() == before


def test_another_townships_dwelling_number_is_answered_like_an_unknown_one(staff, own_household, other_household):
    foreign = other_household.dwellings.get()
    unknown = Dwelling.objects.order_by("-pk").first().pk + 1000
    rows = [dwelling_row(foreign.pk, ID_X, address="篡改"), dwelling_row(unknown, ID_X)]
    before = counts()
    result = run(DwellingResource(user=staff), make_dataset(DwellingResource, DWELLING_COLUMNS, rows))
    same_answer(result, (1, str(foreign.pk)), (2, str(unknown)))
    assert counts() == before
    assert Dwelling.objects.get(pk=foreign.pk).address != "篡改"


# --- the admin import flow, end to end ------------------------------------------------------------------

IMPORT_URL = "/admin/households/household/import/"
PROCESS_URL = "/admin/households/household/process_import/"


def xlsx_upload(rows, name="农户名单.xlsx"):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(headers(HouseholdResource, HOUSEHOLD_COLUMNS))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = name
    return buffer


def option_value(html, label):
    select = re.search(r'<select name="format".*?</select>', html, re.S).group(0)
    return re.search(rf'<option value="(\d+)">{label}</option>', select).group(1)


def hidden_fields(form_html):
    fields = {}
    for tag in re.findall(r"<input[^>]*>", form_html):
        if 'type="hidden"' in tag:
            name = re.search(r'name="([^"]+)"', tag).group(1)
            value = re.search(r'value="([^"]*)"', tag)
            fields[name] = value.group(1) if value else ""
    return fields


def test_admin_import_preview_then_confirm(client, staff, dongkeng, xishan):
    client.force_login(staff)
    page = client.get(IMPORT_URL)
    assert page.status_code == 200
    xlsx = option_value(page.content.decode(), "xlsx")
    before = counts()

    # 1. A sheet with bad rows: the preview names each problem in Chinese, offers no confirmation, writes nothing.
    bad = xlsx_upload(
        [
            [ID_X.lower(), "张三", "139 1234 5678", "新桥镇", "东坑村", "3人", "低保户、五保户", "2024年5月1日"],
            [WRONG_CHECK, "李四", "", "新桥镇", "东坑村", "3", "低保户", "2024-05-01"],
            [ID_4, "周九", "", "双洋镇", "西山村", "3", "低保户", "2024-05-01"],
        ]
    )
    preview = client.post(IMPORT_URL, {"import_file": bad, "format": xlsx, "resource": "0"})
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "第18位校验码应为4，而不是1。" in html
    assert "该行属于其他乡镇（街道），您只能导入本乡镇（街道）的数据。" in html
    assert PROCESS_URL not in html
    assert 'name="import_file_name"' not in html
    assert counts() == before

    # 2. The corrected sheet: a preview with the confirmation form, still nothing written.
    good = xlsx_upload(
        [
            [ID_X.lower(), "张三", "139 1234 5678", "新桥镇", "东坑村", "3人", "低保户、五保户", "2024年5月1日"],
            ["３５０８８１１９９００１０１１００４", "李四", "", "新桥", "东坑村", 2, "残疾人家庭", "2024/5/2"],
        ]
    )
    preview = client.post(IMPORT_URL, {"import_file": good, "format": xlsx, "resource": "0"})
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "张三" in html and "李四" in html
    assert "第18位校验码" not in html
    confirm = re.search(rf'<form[^>]*action="{PROCESS_URL}".*?</form>', html, re.S)
    assert confirm is not None
    fields = hidden_fields(confirm.group(0))
    assert {"import_file_name", "original_file_name", "format", "resource"} <= fields.keys()
    assert fields["original_file_name"] == "农户名单.xlsx"
    assert fields["format"] == xlsx
    assert counts() == before

    # 3. Confirming writes the rows, through the services, as the importing user.
    response = client.post(PROCESS_URL, fields)
    assert response.status_code == 302
    assert response["Location"] == "/admin/households/household/"
    first = Household.objects.get(id_number=ID_X)
    assert (first.head_name, first.phone, first.members_count) == ("张三", "13912345678", 3)
    assert first.registered_on == datetime.date(2024, 5, 1)
    assert sorted(first.categories.values_list("code", flat=True)) == ["extremely_poor", "minimum_living"]
    second = Household.objects.get(id_number=ID_4)
    assert (second.head_name, second.village, second.registered_on) == ("李四", dongkeng, datetime.date(2024, 5, 2))
    assert set(Household.history.values_list("history_user", flat=True)) == {staff.pk}
    assert Household.objects.count() == before["households"] + 2


def test_admin_import_is_refused_without_add_permission(client, personas):
    client.force_login(personas[Role.BUREAU_OFFICIAL])
    assert client.get(IMPORT_URL).status_code == 403
