"""Partner departments' lists (信息比对): reading a department's sheet as it keeps it, normalising its cells,
comparing with our records (preview writes only the comparison), confirming in one transaction with history
rows, the rows-to-fix workbook and the reconciliation per township."""

from __future__ import annotations

import csv
import datetime
import io
import zipfile
from types import SimpleNamespace

import openpyxl
import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from households import department_lists
from households.department_lists import (
    DEFAULT_HEADERS,
    Villages,
    confirm_list,
    count_outcomes,
    headers_for,
    lists_for_user,
    missing_households,
    preview_list,
    reconciliation,
    units_for_import,
)
from households.documents import invalid_rows_workbook, reconciliation_workbook
from households.identity import id_check_digit
from households.models import ChangeProposal, ColumnMapping, DepartmentList, Household, ListRow, Unit
from housing_safety.access import Role

from .factories import HouseholdFactory, VillageFactory, valid_id_number

pytestmark = pytest.mark.usefixtures("chinese")

LISTED_ON = datetime.date(2024, 5, 1)
HEADER = ["姓名", "身份证号码", "联系电话", "乡镇", "村", "类别", "家庭人口"]
WRONG_CHECK = "350881199001011001"  # the right check digit is 4
PHONE_MESSAGE = "请填写11位手机号码或带区号的固定电话（如 0597-7526007）。"


# Helpers ---------------------------------------------------------------------------------------------------------


def xlsx(rows, *, formulas: bool = False) -> bytes:
    """A workbook whose first sheet holds `rows` from A1 down ([] leaves an empty Excel row). Text starting with
    "=" is stored as text, as a clerk's typed cell is, unless `formulas`."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "名单"
    for row in rows:
        sheet.append(row)
    for cells in sheet.iter_rows():
        for cell in cells:
            if cell.data_type == "f" and not formulas:
                cell.data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, encoding: str) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(rows)
    return text.getvalue().encode(encoding)


def preview(actor, unit, content: bytes, *, name: str = "名单.xlsx", listed_on=LISTED_ON) -> DepartmentList:
    return preview_list(actor=actor, unit=unit, listed_on=listed_on, uploaded_file=SimpleUploadedFile(name, content))


def by_row(department_list, *fields):
    """{Excel row number: (field, ...)} of the list's comparison rows."""
    return {
        values[0]: values[1:] if len(values) > 2 else values[1]
        for values in department_list.rows.order_by("row_number").values_list("row_number", *fields)
    }


def full_width(value: str) -> str:
    return "".join(chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else char for char in value)


def id_ending_in_x(born: datetime.date) -> str:
    for serial in range(1000):
        first17 = f"350881{born:%Y%m%d}{serial:03d}"
        if id_check_digit(first17) == "X":
            return first17 + "X"
    raise AssertionError("no check digit X")  # pragma: no cover


def wrong_check(id_number: str) -> str:
    """The same number with a wrong 18th character."""
    return id_number[:17] + ("1" if id_number[17] != "1" else "2")


def history_count() -> int:
    return Household.history.count()


# Fixtures --------------------------------------------------------------------------------------------------------


@pytest.fixture
def liaison(personas):
    return personas[Role.DEPARTMENT_LIAISON]


@pytest.fixture
def civil_affairs(db):
    return Unit.objects.get(name="漳平市民政局")


@pytest.fixture
def dongkeng(xinqiao):
    return VillageFactory(township=xinqiao, name="东坑村")


@pytest.fixture
def xishan(shuangyang):
    return VillageFactory(township=shuangyang, name="西山村")


@pytest.fixture
def meilin(shuangyang):
    """A demo village as seed_demo names them, with the full-width （演示）."""
    return VillageFactory(township=shuangyang, name="梅林村（演示）")


# 1. Reading ------------------------------------------------------------------------------------------------------


def test_header_below_title_rows_with_extra_columns_and_messy_header_cells(liaison, poverty_office, dongkeng):
    first, second = valid_id_number(born=datetime.date(1961, 1, 2)), valid_id_number(born=datetime.date(1962, 3, 4))
    content = xlsx(
        [
            ["漳平市2024年农村低保对象花名册"],
            ["填报单位：漳平市扶贫开发办公室", None, None, "填报日期：2024年5月1日"],
            [
                "序号", "户主（对象）姓名", "公民身份\n号码", "联系 电话", "乡镇（街道）", "村（居）", "人员\n类别",
                "家庭 人口", "备注",
            ],
            [1, "张三", first, "13912345678", "新桥镇", "东坑村", "低保户", "3", "新增"],
            [],
            [2, "李四", second, None, "新桥镇", "东坑村", "五保户", 1, "=SUM(A1:A2)"],
            ["合计", None, None, None, None, None, None, 4],
            ["制表人：王五", None, None, "审核人：赵六"],
        ]
    )  # fmt: skip

    department_list = preview(liaison, poverty_office, content)

    assert by_row(department_list, "outcome", "head_name", "id_number", "phone", "village_id", "categories") == {
        4: ("new", "张三", first, "13912345678", dongkeng.pk, ",minimum_living,"),
        6: ("new", "李四", second, "", dongkeng.pk, ",extremely_poor,"),
    }
    assert by_row(department_list, "members_count", "raw") == {
        # numbers stay numbers, so the rows-to-fix file reads back as uploaded
        4: (3, [1, "张三", first, "13912345678", "新桥镇", "东坑村", "低保户", "3", "新增"]),
        6: (1, [2, "李四", second, "", "新桥镇", "东坑村", "五保户", 1, "=SUM(A1:A2)"]),
    }
    counts = department_list.counts
    assert counts["header"] == [
        "序号", "户主（对象）姓名", "公民身份\n号码", "联系 电话", "乡镇（街道）", "村（居）", "人员\n类别", "家庭 人口", "备注"
    ]  # fmt: skip
    assert counts["columns"] == {
        "1": "head_name", "2": "id_number", "3": "phone", "4": "township", "5": "village", "6": "categories",
        "7": "members_count",
    }  # fmt: skip
    assert {key: counts[key] for key in ("new", "changed", "unchanged", "suggested", "invalid", "rows", "missing")} == {
        "new": 2, "changed": 0, "unchanged": 0, "suggested": 0, "invalid": 0, "rows": 2, "missing": 0,
    }  # fmt: skip
    assert department_list.status == DepartmentList.Status.PREVIEWED
    assert department_list.original_name == "名单.xlsx"
    assert len(department_list.sha256) == 64
    assert department_list.uploaded_by == liaison


def test_default_headers_are_read_half_width_without_spaces(poverty_office):
    mapping = headers_for(poverty_office)
    assert mapping["户主(对象)姓名"] == "head_name"
    assert mapping["乡镇(街道)"] == "township"
    assert department_lists.header_key("户主（对象）\n姓名 ") == "户主(对象)姓名"
    assert department_lists.header_key("身份证　号码") == "身份证号码"  # full-width space
    assert {key: mapping[department_lists.header_key(key)] for key in DEFAULT_HEADERS} == DEFAULT_HEADERS


def test_department_column_mapping_adds_and_overrides_headers(liaison, poverty_office, civil_affairs, dongkeng):
    # This department heads the name column its own way, and its 联系方式 column names the village, not a phone.
    ColumnMapping.objects.create(
        unit=poverty_office, columns={"户主（申请人）姓名": "head_name", "联系方式": "village"}
    )
    assert headers_for(poverty_office)["户主(申请人)姓名"] == "head_name"
    assert headers_for(poverty_office)["联系方式"] == "village"
    assert headers_for(civil_affairs)["联系方式"] == "phone"
    assert "户主(申请人)姓名" not in headers_for(civil_affairs)
    id_number = valid_id_number(born=datetime.date(1963, 5, 6))

    department_list = preview(
        liaison, poverty_office, xlsx([["户主（申请人）姓名", "身份证号码", "联系方式"], ["张三", id_number, "东坑村"]])
    )

    assert by_row(department_list, "outcome", "head_name", "id_number", "phone", "village_id") == {
        2: ("new", "张三", id_number, "", dongkeng.pk)
    }
    assert department_list.counts["columns"] == {"0": "head_name", "1": "id_number", "2": "village"}


def test_without_the_mapping_the_unknown_name_header_is_not_found(liaison, poverty_office, dongkeng):
    content = xlsx([["户主（申请人）姓名", "联系方式"], ["张三", "13912345678"]])
    with pytest.raises(ValidationError) as caught:
        preview(liaison, poverty_office, content)
    assert caught.value.message_dict == {
        "file": ["前20行中找不到表头：请在表头中写明“姓名”和“身份证号码”列（或请管理员在后台设置该部门的列名对照）。"]
    }
    assert DepartmentList.objects.count() == 0


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk"])
def test_csv_in_utf8_with_bom_and_in_gbk(liaison, poverty_office, dongkeng, xishan, encoding):
    first, second = valid_id_number(born=datetime.date(1964, 1, 1)), valid_id_number(born=datetime.date(1964, 2, 2))
    content = csv_bytes(
        [
            ["低保对象名单（2024年5月）"],
            ["序号", *HEADER],
            ["1", "张三", first, "13912345678", "新桥镇", "东坑村", "低保户、五保户", "3人"],
            [],
            ["2", "李四", second, "0597 7526007", "双洋镇", "西山村", "残疾", "2"],
            ["合计", "", "", "", "", "", "", "5"],
        ],
        encoding,
    )
    if encoding == "gbk":
        with pytest.raises(UnicodeDecodeError):
            content.decode("utf-8")  # really not UTF-8

    department_list = preview(liaison, poverty_office, content, name="名单.CSV")

    assert by_row(department_list, "outcome", "head_name", "phone", "village_id", "categories", "members_count") == {
        3: ("new", "张三", "13912345678", dongkeng.pk, ",extremely_poor,minimum_living,", 3),
        5: ("new", "李四", "0597-7526007", xishan.pk, ",disabled,", 2),
    }
    assert department_list.counts["header"] == ["序号", *HEADER]


def test_csv_that_is_neither_utf8_nor_gbk_is_refused(liaison, poverty_office):
    with pytest.raises(ValidationError) as caught:
        preview(liaison, poverty_office, b"\xff\xfe\xff\xfe" * 40, name="名单.csv")
    assert caught.value.message_dict == {"file": ["CSV 文件既不是 UTF-8 编码也不是 GBK 编码。"]}
    assert DepartmentList.objects.count() == 0


def _zip_without_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "不是工作簿")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("名单.pdf", b"%PDF-1.4", "请上传 Excel 工作簿（.xlsx）或 CSV 文件。"),
        ("名单.xlsx", b"PK\x03\x04 this is not a zip", "该文件不是可读取的 Excel 工作簿（.xlsx）。"),
        ("名单.xlsx", _zip_without_workbook(), "该文件不是可读取的 Excel 工作簿（.xlsx）。"),
    ],
    ids=["pdf", "corrupt-zip", "zip-without-workbook"],
)  # an old .xls, a CSV named .xlsx and the other bad files: test_bad_files.py
def test_unreadable_files_are_refused_and_leave_no_rows(liaison, poverty_office, name, content, message):
    with pytest.raises(ValidationError) as caught:
        preview(liaison, poverty_office, content, name=name)
    assert caught.value.message_dict == {"file": [message]}
    assert DepartmentList.objects.count() == 0
    assert ListRow.objects.count() == 0


def test_refused_file_leaves_no_stored_file(liaison, poverty_office, settings):
    with pytest.raises(ValidationError):
        preview(liaison, poverty_office, b"PK\x03\x04 corrupt", name="名单.xlsx")
    stored = [path for path in (settings.MEDIA_ROOT / "lists").rglob("*") if path.is_file()]
    assert stored == []


def test_a_formula_cell_without_cached_value_does_not_break_reading(liaison, poverty_office, dongkeng):
    id_number = valid_id_number(born=datetime.date(1961, 9, 9))
    content = xlsx([[*HEADER, "合计"], ["张三", id_number, None, "新桥镇", "东坑村", None, 3, "=G2*1"]], formulas=True)
    assert b"<f>G2*1</f><v></v>" in zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")
    department_list = preview(liaison, poverty_office, content)
    assert by_row(department_list, "outcome", "id_number") == {2: ("new", id_number)}


def test_a_list_date_in_the_future_is_refused(liaison, poverty_office, dongkeng):
    tomorrow = datetime.date.today() + datetime.timedelta(days=2)
    with pytest.raises(ValidationError) as caught:
        preview(liaison, poverty_office, xlsx([HEADER]), listed_on=tomorrow)
    assert caught.value.message_dict == {"listed_on": ["日期不能晚于今天。"]}
    assert DepartmentList.objects.count() == 0


# 2. Normalising --------------------------------------------------------------------------------------------------


def test_cells_are_normalised_as_a_clerk_reads_them(liaison, poverty_office, dongkeng, xishan, meilin):
    ids = [valid_id_number(born=datetime.date(1965, 1, day)) for day in range(1, 6)]
    with_x = id_ending_in_x(datetime.date(1966, 6, 6))
    content = xlsx(
        [
            HEADER,
            ["张 三", full_width(ids[0]), "139 1234 5678", "新桥镇", "东坑村", "低保户、五保户", "3人"],
            ["李　四", with_x[:-1] + "x", "0597 7526007", "新桥", "东坑", "建档立卡贫困户，残疾", "５"],
            ["王五", f"{ids[1][:6]} {ids[1][6:14]} {ids[1][14:]}", "（0597）7526007", None, "东坑村",
             "特困人员/重点优抚对象", 2],
            ["赵六", ids[2], "+86 139 1234 0000", "双洋", "梅林村", "五老", " 4 人"],
            ["钱七", ids[3].replace("350881", "350881-", 1), None, "双洋镇", "梅林村（演示）", "革命基点村群众", "1"],
            ["孙八", full_width(ids[4]), None, "双洋镇人民政府", "西山村委会", None, None],
        ]
    )  # fmt: skip

    department_list = preview(liaison, poverty_office, content)

    assert by_row(
        department_list, "outcome", "head_name", "id_number", "phone", "village_id", "categories", "members_count"
    ) == {
        2: ("new", "张三", ids[0], "13912345678", dongkeng.pk, ",extremely_poor,minimum_living,", 3),
        3: ("new", "李四", with_x, "0597-7526007", dongkeng.pk, ",disabled,registered_poor,", 5),
        4: ("new", "王五", ids[1], "0597-7526007", dongkeng.pk, ",extremely_poor,special_care,", 2),
        5: ("new", "赵六", ids[2], "13912340000", meilin.pk, ",five_olds,", 4),
        6: ("new", "钱七", ids[3], "", meilin.pk, ",base_village,", 1),
        7: ("new", "孙八", ids[4], "", xishan.pk, "", None),
    }
    assert by_row(department_list, "errors") == {number: [] for number in range(2, 8)}


def test_mobile_number_written_with_dashes_is_read(liaison, poverty_office, dongkeng):
    id_number = valid_id_number(born=datetime.date(1965, 7, 7))
    department_list = preview(
        liaison, poverty_office, xlsx([HEADER, ["张三", id_number, "139-1234-5678", "新桥镇", "东坑村", None, None]])
    )
    assert by_row(department_list, "outcome", "phone", "errors") == {2: ("new", "13912345678", [])}


def test_villages_as_clerks_write_them(xinqiao, shuangyang, dongkeng, xishan, meilin):
    other_dongkeng = VillageFactory(township=shuangyang, name="东坑村")
    villages = Villages()
    assert villages.find("新桥镇", "东坑村") == dongkeng.pk
    assert villages.find("新桥", "东坑") == dongkeng.pk
    assert villages.find("新桥镇人民政府", "东坑村委会") == dongkeng.pk
    assert villages.find("双洋镇", "东坑村") == other_dongkeng.pk
    assert villages.find("双洋", "梅林村") == meilin.pk
    assert villages.find("双洋镇", "梅林村(演示)") == meilin.pk
    assert villages.find("", "梅林") == meilin.pk
    assert villages.find("", "西山村") == xishan.pk
    assert villages.find("", "东坑村") is None  # two townships have one: ambiguous
    assert villages.find("双洋镇", "不存在村") is None
    assert villages.find("新桥镇", "西山村") is None  # the wrong township


# 3. Invalid rows -------------------------------------------------------------------------------------------------


def test_every_invalid_kind_with_its_chinese_reason_and_column(liaison, poverty_office, dongkeng):
    ids = [valid_id_number(born=datetime.date(1967, 1, day)) for day in range(1, 13)]
    place = ["新桥镇", "东坑村"]
    content = xlsx(
        [
            HEADER,
            ["", ids[0], None, *place, None, None],
            ["甲", WRONG_CHECK, None, *place, None, None],
            ["乙", "35088119900101100", None, *place, None, None],
            ["丙", ids[1], None, *place, None, None],
            ["丁", ids[1], None, *place, None, None],
            ["戊", ids[2], "1391234", *place, None, None],
            ["己", ids[3], None, "新桥镇", "不存在村", None, None],
            ["庚", ids[4], None, None, "不存在村", None, None],
            ["辛", ids[5], None, *place, "低保户、困难户", None],
            ["壬", ids[6], None, *place, None, "0"],
            ["癸", ids[7], None, *place, None, "31人"],
            ["子", ids[8], None, *place, None, "三人"],
            ["丑", ids[9], None, None, None, None, None],
            ["寅", None, None, *place, None, None],
            ["", ids[10], "123", "新桥镇", "不存在村", None, None],
        ]
    )

    department_list = preview(liaison, poverty_office, content)

    assert by_row(department_list, "outcome", "errors") == {
        2: ("invalid", [["姓名", "姓名为空。"]]),
        3: ("invalid", [["身份证号码", "第18位校验码应为4，而不是1。"]]),
        4: ("invalid", [["身份证号码", "身份证号码应为18位，当前为17位。"]]),
        5: ("new", []),
        6: ("invalid", [["身份证号码", "与第5行的身份证号码重复。"]]),
        7: ("invalid", [["联系电话", PHONE_MESSAGE]]),
        8: ("invalid", [["村", "系统中新桥镇没有“不存在村”。"]]),
        9: ("invalid", [["村", "系统中各乡镇没有“不存在村”。"]]),
        10: ("invalid", [["类别", "无法识别的帮扶对象类别：困难户。"]]),
        11: ("invalid", [["家庭人口", "家庭人口应在1至30人之间。"]]),
        12: ("invalid", [["家庭人口", "家庭人口应在1至30人之间。"]]),
        13: ("invalid", [["家庭人口", "“三”不是整数。"]]),
        14: ("invalid", [["村", "新增农户须填写乡镇和村。"]]),
        15: ("invalid", [["身份证号码", "身份证号码为空。"]]),
        16: ("invalid", [["姓名", "姓名为空。"], ["联系电话", PHONE_MESSAGE], ["村", "系统中新桥镇没有“不存在村”。"]]),
    }
    counts = department_list.counts
    assert (counts["new"], counts["invalid"], counts["rows"]) == (1, 14, 15)
    # The invalid ID numbers are kept as read (cut to the column's 18 characters), the empty ones stay empty.
    assert by_row(department_list, "id_number")[4] == "35088119900101100"
    assert by_row(department_list, "id_number")[15] == ""


def test_a_bad_birth_date_without_an_id_number_is_reported(liaison, poverty_office, dongkeng):
    content = xlsx([[*HEADER, "出生日期"], ["甲", None, None, "新桥镇", "东坑村", None, None, "不详"]])
    department_list = preview(liaison, poverty_office, content)
    assert by_row(department_list, "outcome", "errors") == {
        2: ("invalid", [["出生日期", "“不详”不是有效日期，请写成 2024-05-01 或 2024年5月1日。"]])
    }


def test_id_number_errors_name_the_lists_own_column(liaison, poverty_office, dongkeng):
    content = xlsx([["姓名", "公民身份号码", "乡镇", "村"], ["甲", WRONG_CHECK, "新桥镇", "东坑村"]])
    department_list = preview(liaison, poverty_office, content)
    assert by_row(department_list, "errors") == {2: [["公民身份号码", "第18位校验码应为4，而不是1。"]]}


# 4. Matching -----------------------------------------------------------------------------------------------------

MATCH_HEADER = [*HEADER, "出生日期"]


@pytest.fixture
def ours(poverty_office, civil_affairs, dongkeng, xishan):
    return our_records(poverty_office, civil_affairs, dongkeng, xishan)


def our_records(poverty_office, civil_affairs, dongkeng, xishan) -> SimpleNamespace:
    """Our records, against the list of `matching_rows`."""
    zhang = HouseholdFactory(
        head_name="张三", village=dongkeng, phone="13900000001", members_count=3, categories=["registered_poor"]
    )
    li = HouseholdFactory(
        head_name="李四", village=dongkeng, phone="13900000002", members_count=2, categories=["minimum_living"],
        source=poverty_office,
    )  # fmt: skip
    removed = HouseholdFactory(
        head_name="孙五", village=xishan, phone="13900000003", members_count=1, categories=["minimum_living"],
        source=poverty_office, status=Household.Status.REMOVED, removed_on=datetime.date(2023, 3, 1),
        removal_reason="迁出",
    )  # fmt: skip
    civil = HouseholdFactory(
        head_name="周六", village=xishan, phone="13900000004", members_count=4, categories=["minimum_living"],
        source=civil_affairs,
    )  # fmt: skip
    wang = HouseholdFactory(
        head_name="王五", village=dongkeng, phone="13900000005", members_count=2,
        id_number=valid_id_number(born=datetime.date(1955, 3, 2)), categories=["registered_poor"],
    )  # fmt: skip
    wu = HouseholdFactory(
        head_name="吴六", village=xishan, phone="13900000006", members_count=2,
        id_number=valid_id_number(born=datetime.date(1962, 8, 9)), categories=["registered_poor"],
    )  # fmt: skip
    twins = [
        HouseholdFactory(head_name="赵七", village=dongkeng, id_number=valid_id_number(born=datetime.date(1970, 1, 1)))
        for _twin in range(2)
    ]
    return SimpleNamespace(
        zhang=zhang, li=li, removed=removed, civil=civil, wang=wang, wu=wu, twins=twins,
        new_id=valid_id_number(born=datetime.date(1980, 9, 9)),
    )  # fmt: skip


def matching_rows(ours) -> list[list]:
    return [
        MATCH_HEADER,
        ["张三丰", ours.zhang.id_number, "13912345678", "双洋镇", "西山村", "低保户", "4", None],  # 2 changed
        ["李四", ours.li.id_number, "13900000002", "新桥镇", "东坑村", "低保户", "2", None],  # 3 unchanged
        ["孙五", ours.removed.id_number, "13900000003", "双洋镇", "西山村", "低保户", "1", None],  # 4 back on the list
        ["周六", ours.civil.id_number, "13900000004", "双洋镇", "西山村", "低保", "4", None],  # 5 another's: unchanged
        ["周九", ours.new_id, "13912340009", "新桥镇", "东坑村", "低保户、五保户", "5", None],  # 6 new
        ["王五", None, "13912340005", "新桥镇", "东坑村", None, None, "1955-03-02"],  # 7 suggested
        ["吴六", wrong_check(ours.wu.id_number), None, "双洋镇", "西山村", None, None,
         datetime.datetime(1962, 8, 9)],  # 8 suggested, the birth date as an Excel date
        ["赵七", None, None, "新桥镇", "东坑村", None, None, "1970-01-01"],  # 9 two candidates
        ["王五", None, None, "新桥镇", "东坑村", None, None, "1955-03-03"],  # 10 another birth date
        ["王五", None, None, None, None, None, None, "1955-03-02"],  # 11 no village: no suggestion
    ]  # fmt: skip


@pytest.fixture
def matching_list(liaison, poverty_office, ours):
    return preview(liaison, poverty_office, xlsx(matching_rows(ours)))


def test_matching_by_id_number_name_village_and_birth_date(matching_list, ours, poverty_office, dongkeng, xishan):
    assert by_row(matching_list, "outcome", "household_id", "suggested_id") == {
        2: ("registered", ours.zhang.pk, None),  # registered by the township: not the department's own
        3: ("unchanged", ours.li.pk, None),
        4: ("changed", ours.removed.pk, None),
        5: ("registered", ours.civil.pk, None),  # another department's, with no difference: the same answer
        6: ("new", None, None),
        7: ("suggested", None, ours.wang.pk),
        8: ("suggested", None, ours.wu.pk),
        9: ("invalid", None, None),
        10: ("invalid", None, None),
        11: ("invalid", None, None),
    }
    # Applied on confirm: the department's categories, on any household.
    assert by_row(matching_list, "changes") == {
        2: {"categories": [["registered_poor"], ["minimum_living", "registered_poor"]]},
        3: {},
        4: {},
        5: {},
        6: {},
        7: {},
        8: {},
        9: {},
        10: {},
        11: {},
    }
    # Proposed to the township: every other difference on another's household, a removed one back on the list.
    assert by_row(matching_list, "proposed") == {
        2: {
            "head_name": ["张三", "张三丰"],
            "phone": ["13900000001", "13912345678"],
            "village": [dongkeng.pk, xishan.pk],
            "members_count": [3, 4],
            "source": [None, poverty_office.pk],
        },
        3: {}, 4: {"status": ["removed", "active"]}, 5: {}, 6: {}, 7: {}, 8: {}, 9: {}, 10: {}, 11: {},
    }  # fmt: skip
    wu_reason = f"第18位校验码应为{ours.wu.id_number[17]}，而不是{wrong_check(ours.wu.id_number)[17]}。"
    empty = [["身份证号码", "身份证号码为空。"]]
    assert by_row(matching_list, "errors") == {
        2: [], 3: [], 4: [], 5: [], 6: [],
        7: empty, 8: [["身份证号码", wu_reason]], 9: empty, 10: empty, 11: empty,
    }  # fmt: skip
    counts = matching_list.counts
    expected = {
        "new": 1, "changed": 1, "unchanged": 1, "registered": 2, "suggested": 2, "invalid": 3, "rows": 10, "missing": 0,
    }  # fmt: skip
    assert {key: counts[key] for key in expected} == expected
    assert count_outcomes(matching_list) == expected


def test_a_township_registered_household_is_registered_elsewhere_and_its_source_only_proposed(
    liaison, poverty_office, dongkeng
):
    household = HouseholdFactory(head_name="张三", village=dongkeng, phone="", members_count=2, categories=["disabled"])
    department_list = preview(
        liaison, poverty_office, xlsx([HEADER, ["张三", household.id_number, None, None, None, "残疾", None]])
    )
    assert by_row(department_list, "outcome", "changes", "proposed") == {
        2: ("registered", {}, {"source": [None, poverty_office.pk]})
    }


# 5. Preview writes nothing but the comparison --------------------------------------------------------------------


def _snapshot():
    households = {
        h.pk: (h.head_name, h.phone, h.village_id, h.members_count, h.source_id, h.status, h.updated_at)
        for h in Household.objects.all()
    }
    categories = sorted(Household.categories.through.objects.values_list("household_id", "householdcategory_id"))
    return households, categories, history_count()


def test_preview_writes_only_the_list_and_its_rows(liaison, poverty_office, ours):
    before = _snapshot()
    assert len(before[0]) == 8

    department_list = preview(liaison, poverty_office, xlsx(matching_rows(ours)))

    assert _snapshot() == before
    assert DepartmentList.objects.get() == department_list
    assert ListRow.objects.filter(department_list=department_list).count() == 10
    assert ListRow.objects.count() == 10


# 6. Confirm ------------------------------------------------------------------------------------------------------


def _row(department_list, number: int) -> ListRow:
    return department_list.rows.get(row_number=number)


def _categories(household) -> list[str]:
    return sorted(household.categories.values_list("code", flat=True))


def test_confirm_creates_updates_and_applies_only_accepted_suggestions(
    matching_list, ours, liaison, poverty_office, civil_affairs, dongkeng, xishan
):
    untouched = {h.pk: h.updated_at for h in (ours.li, ours.civil, ours.wu, ours.removed, ours.wang, *ours.twins)}
    wu_phone = ours.wu.phone

    applied = confirm_list(actor=liaison, department_list=matching_list, accepted=[_row(matching_list, 7).pk])

    assert applied == {"created": 1, "updated": 0, "categories_added": 3, "proposals": 3}
    created = Household.objects.get(id_number=ours.new_id)
    assert (
        created.head_name, created.phone, created.village, created.members_count, created.registered_on,
        created.source, created.status, created.helper_name, created.notes,
    ) == ("周九", "13912340009", dongkeng, 5, LISTED_ON, poverty_office, "active", "", "")  # fmt: skip
    assert _categories(created) == ["extremely_poor", "minimum_living"]

    # Registered by the township: only the department's category is added; the rest is proposed to the bureau
    # (a move from 新桥镇 to 双洋镇).
    zhang = Household.objects.get(pk=ours.zhang.pk)
    assert (zhang.head_name, zhang.phone, zhang.village, zhang.members_count, zhang.source) == (
        "张三", "13900000001", dongkeng, 3, None,
    )  # fmt: skip
    assert _categories(zhang) == ["minimum_living", "registered_poor"]

    back = Household.objects.get(pk=ours.removed.pk)  # the department's own, removed: stays removed
    assert (back.status, back.removed_on, back.removal_reason) == ("removed", datetime.date(2023, 3, 1), "迁出")

    wang = Household.objects.get(pk=ours.wang.pk)  # the accepted suggestion, registered by the township
    assert (wang.head_name, wang.phone, wang.id_number, wang.source, wang.members_count) == (
        "王五", "13900000005", ours.wang.id_number, None, 2,
    )  # fmt: skip
    assert _categories(wang) == ["registered_poor"]
    proposals = {
        p.household_id: (p.township_id, p.changes, p.row_number, p.status) for p in ChangeProposal.objects.all()
    }
    assert proposals == {
        ours.zhang.pk: (None, matching_list.rows.get(row_number=2).proposed, 2, "pending"),
        ours.removed.pk: (xishan.township_id, {"status": ["removed", "active"]}, 4, "pending"),
        ours.wang.pk: (
            dongkeng.township_id, {"phone": ["13900000005", "13912340005"], "source": [None, poverty_office.pk]}, 7,
            "pending",
        ),
    }  # fmt: skip

    wu = Household.objects.get(pk=ours.wu.pk)  # suggested, not accepted
    assert (wu.phone, wu.source, wu.id_number) == (wu_phone, None, ours.wu.id_number)
    civil = Household.objects.get(pk=ours.civil.pk)
    assert civil.source == civil_affairs  # another department's household keeps its source
    assert {h.pk: h.updated_at for h in Household.objects.filter(pk__in=untouched)} == untouched

    matching_list.refresh_from_db()
    assert matching_list.status == DepartmentList.Status.CONFIRMED
    assert matching_list.confirmed_by == liaison
    assert matching_list.counts["applied"] == applied
    assert matching_list.counts["new"] == 1  # the comparison's counts stay
    assert by_row(matching_list, "household_id") == {
        2: ours.zhang.pk, 3: ours.li.pk, 4: ours.removed.pk, 5: ours.civil.pk, 6: created.pk, 7: ours.wang.pk,
        8: None, 9: None, 10: None, 11: None,
    }  # fmt: skip


def test_confirm_writes_history_rows_naming_the_list(matching_list, ours, liaison, poverty_office, xishan):
    before = history_count()
    confirm_list(actor=liaison, department_list=matching_list, accepted=[_row(matching_list, 7).pk])
    matching_list.refresh_from_db()

    reason = f"部门名单 #{matching_list.pk}"
    created = Household.objects.get(id_number=ours.new_id)
    records = Household.history.filter(history_change_reason=reason)
    # The new household, and the one that got the department's category; proposals write nothing yet.
    assert sorted(records.values_list("id", "history_type")) == sorted([(created.pk, "+"), (ours.zhang.pk, "~")])
    assert history_count() == before + 2
    assert set(records.values_list("history_user_id", flat=True)) == {liaison.pk}
    assert set(records.values_list("history_date", flat=True)) == {matching_list.confirmed_at}

    zhang = records.get(id=ours.zhang.pk)
    assert (zhang.head_name, zhang.phone, zhang.village_id, zhang.members_count, zhang.source_id, zhang.status) == (
        "张三", "13900000001", ours.zhang.village_id, 3, None, "active",
    )  # fmt: skip
    assert records.get(id=created.pk).registered_on == LISTED_ON
    # The latest history row of a household is now the list's (what the admin's history page shows).
    assert Household.objects.get(pk=ours.zhang.pk).history.first().history_change_reason == reason

    m2m = apps.get_model("households", "HistoricalHousehold_categories")
    recorded = {
        record.id: sorted(m2m.objects.filter(history=record).values_list("householdcategory__code", flat=True))
        for record in records
    }
    assert recorded == {
        created.pk: ["extremely_poor", "minimum_living"],
        ours.zhang.pk: ["minimum_living", "registered_poor"],
    }


def test_confirm_is_all_or_nothing(matching_list, ours, liaison, monkeypatch):
    before = _snapshot()
    ran = []

    def failing_history(*args, **kwargs):
        ran.append(Household.objects.filter(id_number=ours.new_id).count())  # _apply has run in the transaction
        raise RuntimeError("disk full")

    monkeypatch.setattr(department_lists.services, "_write_history", failing_history)

    with pytest.raises(RuntimeError, match="disk full"):
        confirm_list(actor=liaison, department_list=matching_list, accepted=[_row(matching_list, 7).pk])

    assert ran == [1]
    assert _snapshot() == before
    assert not Household.objects.filter(id_number=ours.new_id).exists()
    matching_list.refresh_from_db()
    assert (matching_list.status, matching_list.confirmed_by, matching_list.confirmed_at) == ("previewed", None, None)
    assert "applied" not in matching_list.counts
    assert by_row(matching_list, "household_id")[6] is None
    assert by_row(matching_list, "household_id")[7] is None  # the acceptance is undone too

    monkeypatch.undo()  # and the list can still be confirmed afterwards
    applied = confirm_list(actor=liaison, department_list=matching_list, accepted=[])
    assert applied == {"created": 1, "updated": 0, "categories_added": 3, "proposals": 2}


def test_confirming_twice_is_refused(matching_list, liaison):
    confirm_list(actor=liaison, department_list=matching_list)
    before = _snapshot()
    with pytest.raises(ValidationError) as caught:
        confirm_list(actor=liaison, department_list=matching_list)
    assert caught.value.messages == ["该名单已确认导入，不能重复确认。"]
    assert _snapshot() == before


def test_accepting_a_row_that_is_not_a_suggestion_of_this_list_does_nothing(matching_list, ours, liaison, admin):
    other = preview(admin, matching_list.unit, xlsx(matching_rows(ours)))
    not_suggested = [_row(matching_list, 9).pk, _row(matching_list, 3).pk, _row(other, 7).pk]
    applied = confirm_list(actor=liaison, department_list=matching_list, accepted=not_suggested)
    assert applied == {"created": 1, "updated": 0, "categories_added": 3, "proposals": 2}
    assert Household.objects.get(pk=ours.wang.pk).phone == "13900000005"
    assert by_row(other, "household_id")[7] is None


def test_the_same_file_again_after_confirm_changes_nothing(matching_list, ours, liaison, poverty_office):
    confirm_list(actor=liaison, department_list=matching_list, accepted=[_row(matching_list, 7).pk])
    before = _snapshot()

    again = preview(liaison, poverty_office, xlsx(matching_rows(ours)))

    counts = again.counts
    expected = {"new": 0, "changed": 1, "unchanged": 2, "registered": 2, "suggested": 2, "invalid": 3, "rows": 10}
    assert {key: counts[key] for key in expected} == expected
    assert confirm_list(actor=liaison, department_list=again) == {
        "created": 0, "updated": 0, "categories_added": 0, "proposals": 2,
    }  # fmt: skip
    assert _snapshot() == before
    assert not Household.history.filter(history_change_reason=f"部门名单 #{again.pk}").exists()
    # The undecided proposals of the first list are replaced by the second's (the township decides the newest).
    assert sorted(ChangeProposal.objects.values_list("department_list_id", "household_id", "status")) == sorted([
        (matching_list.pk, ours.zhang.pk, "superseded"), (matching_list.pk, ours.removed.pk, "superseded"),
        (matching_list.pk, ours.wang.pk, "pending"),
        (again.pk, ours.zhang.pk, "pending"), (again.pk, ours.removed.pk, "pending"),
    ])  # fmt: skip


def test_missing_households_are_the_departments_active_ones_absent_from_the_list(
    liaison, poverty_office, civil_affairs, dongkeng
):
    listed = HouseholdFactory(village=dongkeng, source=poverty_office)
    absent = HouseholdFactory(village=dongkeng, source=poverty_office)
    without_id = HouseholdFactory(village=dongkeng, source=poverty_office, id_number=None)
    HouseholdFactory(
        village=dongkeng, source=poverty_office, status=Household.Status.REMOVED, removed_on=datetime.date(2024, 1, 1),
        removal_reason="死亡",
    )  # fmt: skip
    HouseholdFactory(village=dongkeng, source=civil_affairs)
    HouseholdFactory(village=dongkeng, source=None)
    content = xlsx([HEADER, [listed.head_name, listed.id_number, None, None, None, None, None]])

    department_list = preview(liaison, poverty_office, content)

    assert sorted(missing_households(department_list).values_list("pk", flat=True)) == sorted(
        [absent.pk, without_id.pk]
    )
    assert department_list.counts["missing"] == 2


def test_a_new_row_creates_no_categories_when_the_list_has_none(liaison, poverty_office, dongkeng):
    id_number = valid_id_number(born=datetime.date(1981, 1, 1))
    department_list = preview(
        liaison, poverty_office, xlsx([HEADER, ["张三", id_number, None, "新桥镇", "东坑村", None, None]])
    )
    assert confirm_list(actor=liaison, department_list=department_list) == {
        "created": 1, "updated": 0, "categories_added": 0, "proposals": 0,
    }  # fmt: skip
    created = Household.objects.get(id_number=id_number)
    assert (created.members_count, created.phone, _categories(created)) == (1, "", [])


def test_a_household_registered_between_preview_and_confirm_gets_no_created_history(liaison, poverty_office, dongkeng):
    id_number = valid_id_number(born=datetime.date(1982, 2, 2))
    department_list = preview(
        liaison, poverty_office, xlsx([HEADER, ["张三", id_number, None, "新桥镇", "东坑村", "低保户", None]])
    )
    meanwhile = HouseholdFactory(head_name="张三", id_number=id_number, village=dongkeng)

    applied = confirm_list(actor=liaison, department_list=department_list)

    assert applied["created"] == 0
    reason = f"部门名单 #{department_list.pk}"
    assert not Household.history.filter(id=meanwhile.pk, history_type="+", history_change_reason=reason).exists()


def test_an_accepted_suggestion_is_not_also_only_on_our_list(liaison, poverty_office, dongkeng):
    wang = HouseholdFactory(
        head_name="王五", village=dongkeng, source=poverty_office,
        id_number=valid_id_number(born=datetime.date(1955, 4, 4)),
    )  # fmt: skip
    department_list = preview(
        liaison, poverty_office,
        xlsx([MATCH_HEADER, ["王五", None, "13912345678", "新桥镇", "东坑村", None, None, "1955-04-04"]]),
    )  # fmt: skip
    row = _row(department_list, 2)
    assert (row.outcome, row.suggested_id) == ("suggested", wang.pk)

    confirm_list(actor=liaison, department_list=department_list, accepted=[row.pk])

    assert list(missing_households(department_list)) == []


def test_background_reading_is_idempotent_and_a_list_being_read_cannot_be_confirmed(
    liaison, poverty_office, ours, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        department_list = department_lists.start_preview(
            actor=liaison, unit=poverty_office, listed_on=LISTED_ON,
            uploaded_file=SimpleUploadedFile("名单.xlsx", xlsx(matching_rows(ours))),
        )  # fmt: skip
    assert len(callbacks) == 1
    assert (department_list.status, department_list.rows.count()) == ("reading", 0)
    before = _snapshot()
    with pytest.raises(ValidationError):
        confirm_list(actor=liaison, department_list=department_list)
    assert _snapshot() == before

    assert department_lists.read_in_background(department_list.pk) == "previewed"
    department_list.refresh_from_db()
    assert (department_list.rows_read, department_list.rows_expected, department_list.counts["rows"]) == (10, 11, 10)
    assert department_lists.read_in_background(department_list.pk) == "previewed"
    assert department_list.rows.count() == 10
    assert _snapshot() == before


# 7. Scope --------------------------------------------------------------------------------------------------------


def test_a_liaison_imports_only_for_their_own_department(liaison, poverty_office, civil_affairs, admin, dongkeng):
    id_number = valid_id_number(born=datetime.date(1983, 3, 3))
    content = xlsx([HEADER, ["张三", id_number, None, "新桥镇", "东坑村", None, None]])
    assert list(units_for_import(liaison)) == [poverty_office]

    with pytest.raises(PermissionDenied) as caught:
        preview(liaison, civil_affairs, content)
    assert str(caught.value) == "只能导入本部门的名单。"
    assert DepartmentList.objects.count() == 0

    theirs = preview(admin, civil_affairs, content)
    with pytest.raises(PermissionDenied):
        confirm_list(actor=liaison, department_list=theirs)
    theirs.refresh_from_db()
    assert theirs.status == DepartmentList.Status.PREVIEWED
    assert not Household.objects.filter(id_number=id_number).exists()

    own = preview(admin, poverty_office, content)
    assert list(lists_for_user(liaison)) == [own]
    assert set(lists_for_user(admin)) == {own, theirs}


def test_roles_without_import_cannot_preview_or_confirm(personas, poverty_office, admin, dongkeng):
    department_list = preview(admin, poverty_office, xlsx([HEADER]))
    for role in (Role.BUREAU_OFFICIAL, Role.TOWNSHIP_STAFF, Role.COMPLAINT_CLERK, Role.HELPER, "no_role"):
        with pytest.raises(PermissionDenied):
            preview(personas[role], poverty_office, xlsx([HEADER]))
        with pytest.raises(PermissionDenied):
            confirm_list(actor=personas[role], department_list=department_list)
    assert DepartmentList.objects.count() == 1
    assert DepartmentList.objects.get().status == DepartmentList.Status.PREVIEWED


def test_who_sees_which_lists(personas, poverty_office, civil_affairs, admin, xinqiao):
    own = preview(admin, poverty_office, xlsx([HEADER]))
    theirs = preview(admin, civil_affairs, xlsx([HEADER]))
    assert set(lists_for_user(personas[Role.BUREAU_OFFICIAL])) == {own, theirs}
    assert list(lists_for_user(personas[Role.DEPARTMENT_LIAISON])) == [own]
    for role in (Role.TOWNSHIP_STAFF, Role.COMPLAINT_CLERK, Role.HELPER, "no_role"):
        assert list(lists_for_user(personas[role])) == []
    assert set(units_for_import(admin)) == set(Unit.objects.filter(kind=Unit.Kind.DEPARTMENT, is_active=True))


# 8. The rows to fix ----------------------------------------------------------------------------------------------


def test_rows_to_fix_workbook(liaison, poverty_office, ours):
    rows = matching_rows(ours)
    rows[0] = ["序号", *rows[0], "备注"]
    rows[1:] = [[number, *row, None] for number, row in enumerate(rows[1:], start=1)]
    rows[8][-1] = '=HYPERLINK("http://example.com")'  # Excel row 9, 赵七: invalid
    rows[9][-1] = "+1"
    rows.insert(1, [])  # the data start on Excel row 3
    department_list = preview(liaison, poverty_office, xlsx(rows))

    workbook = openpyxl.load_workbook(io.BytesIO(invalid_rows_workbook(department_list)))

    assert workbook.sheetnames == ["待修改的行"]
    found = [list(row) for row in workbook.active.iter_rows(values_only=True)]
    wu_reason = f"第18位校验码应为{ours.wu.id_number[17]}，而不是{wrong_check(ours.wu.id_number)[17]}。"
    place = ["新桥镇", "东坑村"]
    assert found == [
        ["序号", *MATCH_HEADER, "备注", "原表行号", "理由"],
        [6, "王五", None, "13912340005", *place, None, None, "1955-03-02", None, 8, "身份证号码：身份证号码为空。"],
        [7, "吴六", wrong_check(ours.wu.id_number), None, "双洋镇", "西山村", None, None, 22867, None, 9,
         f"身份证号码：{wu_reason}"],
        [8, "赵七", None, None, *place, None, None, "1970-01-01", "'=HYPERLINK(\"http://example.com\")", 10,
         "身份证号码：身份证号码为空。"],
        [9, "王五", None, None, *place, None, None, "1955-03-03", "'+1", 11, "身份证号码：身份证号码为空。"],
        [10, "王五", None, None, None, None, None, None, "1955-03-02", None, 12, "身份证号码：身份证号码为空。"],
    ]  # fmt: skip


def test_rows_to_fix_joins_several_reasons(liaison, poverty_office, dongkeng):
    department_list = preview(
        liaison, poverty_office, xlsx([HEADER, ["", "123", "456", "新桥镇", "不存在村", "困难户", "0"]])
    )
    workbook = openpyxl.load_workbook(io.BytesIO(invalid_rows_workbook(department_list)))
    found = [list(row) for row in workbook.active.iter_rows(values_only=True)]
    assert found[1][-2:] == [
        2,
        "姓名：姓名为空。；联系电话：" + PHONE_MESSAGE + "；村：系统中新桥镇没有“不存在村”。；"
        "类别：无法识别的帮扶对象类别：困难户。；家庭人口：家庭人口应在1至30人之间。",
    ]
    assert len(found) == 2


def test_the_rows_to_fix_file_uploaded_again_reads_as_before(liaison, poverty_office, xishan):
    wu = HouseholdFactory(head_name="吴六", village=xishan, id_number=valid_id_number(born=datetime.date(1962, 8, 9)))
    rows = [MATCH_HEADER, ["吴六", wrong_check(wu.id_number), None, "双洋镇", "西山村", None, None,
                           datetime.datetime(1962, 8, 9)]]  # fmt: skip
    first = preview(liaison, poverty_office, xlsx(rows))
    assert by_row(first, "outcome", "suggested_id") == {2: ("suggested", wu.pk)}

    again = preview(liaison, poverty_office, invalid_rows_workbook(first), name="待修改的行.xlsx")

    assert by_row(again, "outcome", "suggested_id") == {2: ("suggested", wu.pk)}


# 9. Reconciliation -----------------------------------------------------------------------------------------------


@pytest.fixture
def two_lists(liaison, admin, poverty_office, civil_affairs, xinqiao, shuangyang, dongkeng, xishan):
    same = HouseholdFactory(head_name="甲", village=dongkeng, phone="13900000011", source=poverty_office)
    moved_phone = HouseholdFactory(head_name="乙", village=xishan, phone="13900000012", source=poverty_office)
    only_ours = HouseholdFactory(head_name="丙", village=dongkeng, source=poverty_office)
    civil = HouseholdFactory(head_name="丁", village=xishan, phone="13900000014", source=civil_affairs)
    new_id = valid_id_number(born=datetime.date(1984, 4, 4))
    geng_id = valid_id_number(born=datetime.date(1984, 5, 5))
    office_rows = [
        HEADER,
        ["甲", same.id_number, "13900000011", "新桥镇", "东坑村", "贫困户", "3"],  # consistent, 新桥
        ["乙", moved_phone.id_number, "13912345678", "双洋镇", "西山村", None, None],  # different, 双洋
        ["戊", new_id, None, "新桥镇", "东坑村", "低保户", "2"],  # only theirs, 新桥
        ["己", "123", None, None, None, None, None],  # invalid, township unknown
        ["庚", geng_id, "1", "双洋镇", "西山村", None, None],  # invalid, 双洋
    ]
    civil_rows = [
        HEADER,
        ["丁", civil.id_number, "13900000014", "双洋镇", "西山村", "贫困户", "3"],  # consistent, 双洋
        ["甲", same.id_number, None, "新桥镇", "东坑村", "低保户", None],  # different (a category), 新桥
    ]
    office_list = preview(liaison, poverty_office, xlsx(office_rows))
    civil_list = preview(admin, civil_affairs, xlsx(civil_rows))
    return SimpleNamespace(office=office_list, civil=civil_list, only_ours=only_ours, new_id=new_id, geng_id=geng_id)


def _numbers(entry) -> tuple:
    return tuple(entry[key] for key in ("consistent", "different", "only_theirs", "invalid", "only_ours", "rate"))


def test_reconciliation_per_department_and_township(two_lists, official, liaison, xinqiao, shuangyang):
    report = reconciliation(official)

    assert [department["unit"].name for department in report] == ["漳平市扶贫开发办公室", "漳平市民政局"]
    office, civil = report
    assert office["list"] == two_lists.office
    assert [(row["township"], _numbers(row)) for row in office["townships"]] == [
        (xinqiao, (1, 0, 1, 0, 1, 1 / 3)),
        (shuangyang, (0, 1, 0, 1, 0, 0.0)),
        (None, (0, 0, 0, 1, 0, 0.0)),
    ]
    assert _numbers(office["total"]) == (1, 1, 1, 2, 1, 1 / 6)
    assert office["fields"] == [("phone", 1)]
    assert [(row["township"], _numbers(row)) for row in civil["townships"]] == [
        (xinqiao, (0, 1, 0, 0, 0, 0.0)),
        (shuangyang, (1, 0, 0, 0, 0, 1.0)),
    ]
    assert _numbers(civil["total"]) == (1, 1, 0, 0, 0, 0.5)
    assert civil["fields"] == [("categories", 1)]

    assert [department["unit"].name for department in reconciliation(liaison)] == ["漳平市扶贫开发办公室"]


def test_after_confirming_the_applied_rows_are_consistent(two_lists, official, liaison, xinqiao, shuangyang):
    confirm_list(actor=liaison, department_list=two_lists.office)

    office = reconciliation(official)[0]
    assert [(row["township"], _numbers(row)) for row in office["townships"]] == [
        (xinqiao, (2, 0, 0, 0, 1, 2 / 3)),
        (shuangyang, (1, 0, 0, 1, 0, 0.5)),
        (None, (0, 0, 0, 1, 0, 0.0)),
    ]
    assert _numbers(office["total"]) == (3, 0, 0, 2, 1, 0.5)
    assert office["fields"] == []


def test_a_later_dated_list_replaces_the_earlier_one(two_lists, liaison, poverty_office, official):
    newer = preview(liaison, poverty_office, xlsx([HEADER]), listed_on=LISTED_ON + datetime.timedelta(days=1))
    office = reconciliation(official)[0]
    assert (office["list"], office["lists"]) == (newer, [newer])
    assert _numbers(office["total"]) == (0, 0, 0, 0, 3, 0.0)  # 甲, 乙 and 丙 are now only ours


def test_a_fix_up_upload_of_the_same_date_counts_with_the_first(
    two_lists, liaison, poverty_office, official, xinqiao, shuangyang
):
    fixed = valid_id_number(born=datetime.date(1984, 6, 6))
    fix_up = preview(
        liaison, poverty_office,
        xlsx([HEADER, ["己", fixed, None, "新桥镇", "东坑村", None, None],
              ["庚", two_lists.geng_id, "13912345678", "双洋镇", "西山村", None, None]]),
    )  # fmt: skip
    office = reconciliation(official)[0]
    assert (office["list"], office["lists"]) == (fix_up, [two_lists.office, fix_up])
    # The first upload's invalid rows were fixed: only the fix-up's rows count for them.
    assert [(row["township"], _numbers(row)) for row in office["townships"]] == [
        (xinqiao, (1, 0, 2, 0, 1, 0.25)),
        (shuangyang, (0, 1, 1, 0, 0, 0.0)),
    ]
    assert _numbers(office["total"]) == (1, 1, 3, 0, 1, 1 / 6)


def test_a_fixed_suggestion_is_not_counted_twice(liaison, poverty_office, official, dongkeng):
    li = HouseholdFactory(head_name="李四", village=dongkeng, phone="13900000021", source=poverty_office)
    wang = HouseholdFactory(
        head_name="王五", village=dongkeng, phone="13900000022", source=poverty_office,
        id_number=valid_id_number(born=datetime.date(1955, 5, 5)),
    )  # fmt: skip
    first = preview(
        liaison, poverty_office,
        xlsx([MATCH_HEADER, ["李四", li.id_number, "13900000021", "新桥镇", "东坑村", "贫困户", "3", None],
              ["王五", None, "13900000022", "新桥镇", "东坑村", "贫困户", "3", "1955-05-05"]]),
    )  # fmt: skip
    assert by_row(first, "outcome") == {2: "unchanged", 3: "suggested"}
    fix_up = preview(
        liaison, poverty_office,
        xlsx([MATCH_HEADER, ["王五", wang.id_number, "13900000022", "新桥镇", "东坑村", "贫困户", "3", None]]),
    )  # fmt: skip
    assert by_row(fix_up, "outcome") == {2: "unchanged"}

    assert _numbers(reconciliation(official)[0]["total"]) == (2, 0, 0, 0, 0, 1.0)


def test_reconciliation_workbook_carries_the_same_numbers(two_lists, official, liaison):
    confirm_list(actor=liaison, department_list=two_lists.office)
    workbook = openpyxl.load_workbook(io.BytesIO(reconciliation_workbook(official)))
    assert workbook.sheetnames == ["信息比对"]
    found = [list(row) for row in workbook.active.iter_rows(values_only=True)]
    office, civil = "漳平市扶贫开发办公室", "漳平市民政局"
    assert found == [
        [
            "部门",
            "乡镇（街道）",
            "双方都有且一致",
            "双方都有但不一致",
            "仅部门名单有",
            "无法识别的行",
            "仅本系统有",
            "一致率",
        ],
        [office, "新桥镇", 2, 0, 0, 0, 1, 2 / 3],
        [office, "双洋镇", 1, 0, 0, 1, 0, 0.5],
        [office, "未知", 0, 0, 0, 1, 0, 0],
        [office, "合计", 3, 0, 0, 2, 1, 0.5],
        [civil, "新桥镇", 0, 1, 0, 0, 0, 0],
        [civil, "双洋镇", 1, 0, 0, 0, 0, 1],
        [civil, "合计", 1, 1, 0, 0, 0, 0.5],
    ]
