"""Cell parsers: every clear spelling a department's sheet uses is accepted, anything else is refused in Chinese."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from households.cleaning import (
    parse_bool,
    parse_categories,
    parse_coordinate,
    parse_date,
    parse_decimal,
    parse_int,
    parse_poverty_status,
    parse_structure_type,
    parse_year,
    plain,
    text,
)

pytestmark = pytest.mark.usefixtures("chinese")


# --- text -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        ("  张三  ", "张三"),
        ("ＡＢＣ１２３", "ＡＢＣ１２３"),
        (3.0, "3"),
        (3.5, "3.5"),
        (12, "12"),
        ("\u3000村\u3000", "村"),
    ],
)
def test_text_trims_but_keeps_full_width_characters(value, expected):
    assert text(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        ("ＡＢＣ１２３", "ABC123"),
        ("（新桥）", "(新桥)"),
        (3.0, "3"),
        ("\u3000１\u3000", "1"),
        ("张三、李四", "张三、李四"),
    ],
)
def test_plain_makes_text_half_width(value, expected):
    assert plain(value) == expected


# --- dates ----------------------------------------------------------------------------------------------

MAY_DAY = datetime.date(2024, 5, 1)


@pytest.mark.parametrize(
    "value",
    [
        "2024-05-01",
        "2024-5-1",
        "2024/5/1",
        "2024/05/01",
        "2024.5.1",
        "2024年5月1日",
        "2024年05月01日",
        "2024年5月1",
        "2024 年 5 月 1 日",
        "２０２４年５月１日",  # full-width digits
        "20240501",
        " 2024-05-01 ",
        "2024-05-01 00:00:00",  # a datetime cell exported as text
        datetime.datetime(2024, 5, 1, 13, 45),
        datetime.date(2024, 5, 1),
        45413,  # Excel serial day number
        45413.0,
        45413.75,  # serial with a time of day
    ],
)
def test_parse_date_accepts_every_clear_spelling(value):
    result = parse_date(value)
    assert result == MAY_DAY
    assert type(result) is datetime.date


@pytest.mark.parametrize(
    ("serial", "expected"),
    [(1, datetime.date(1899, 12, 31)), (43831, datetime.date(2020, 1, 1)), (45351, datetime.date(2024, 2, 29))],
)
def test_parse_date_excel_serials(serial, expected):
    assert parse_date(serial) == expected


@pytest.mark.parametrize("value", [None, "", "   ", "\u3000"])
def test_parse_date_empty_is_none(value):
    assert parse_date(value) is None


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("明天", "明天"),
        ("abc", "abc"),
        ("2024-02-30", "2024-02-30"),  # right shape, impossible date
        ("2023年2月29日", "2023年2月29日"),
        ("2024-13-01", "2024-13-01"),
        ("2024-05", "2024-05"),
        ("05/01/2024", "05/01/2024"),
        ("20241301", "20241301"),
        ("45413", "45413"),  # a serial number typed as text is not a date
        (" 5月1日 ", "5月1日"),
    ],
)
def test_parse_date_refuses_garbage_with_chinese_reason(value, shown):
    with pytest.raises(ValueError) as caught:
        parse_date(value)
    assert str(caught.value) == f"“{shown}”不是有效日期，请写成 2024-05-01 或 2024年5月1日。"


# --- years ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"), [("2019", 2019), ("2019年", 2019), (2019, 2019), (2019.0, 2019), ("", None)]
)
def test_parse_year(value, expected):
    assert parse_year(value) == expected


def test_parse_year_refuses_two_digits():
    with pytest.raises(ValueError) as caught:
        parse_year("19年")
    assert str(caught.value) == "“19”不是有效年份（例如 2019）。"


# --- booleans -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["是", "有", "Y", "y", "yes", "YES", "True", "1", 1, "√", "✓", "对", " 是 ", True])
def test_parse_bool_true(value):
    assert parse_bool(value) is True


@pytest.mark.parametrize("value", ["否", "无", "没有", "N", "n", "no", "false", "0", 0, "×", "不", False])
def test_parse_bool_false(value):
    assert parse_bool(value) is False


@pytest.mark.parametrize("value", [None, "", "  "])
def test_parse_bool_empty_is_none(value):
    assert parse_bool(value) is None


@pytest.mark.parametrize(("value", "shown"), [("也许", "也许"), ("2", "2"), ("maybe", "maybe")])
def test_parse_bool_refuses_anything_else(value, shown):
    with pytest.raises(ValueError) as caught:
        parse_bool(value)
    assert str(caught.value) == f"“{shown}”应填写“是”或“否”。"


# --- whole numbers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        ("3人", "人", 3),
        ("3", "人", 3),
        (3, "人", 3),
        (3.0, "人", 3),
        ("3.0", "", 3),
        ("３人", "人", 3),  # full-width digit
        (" 12人 ", "人", 12),
        ("2层", "层", 2),
        ("", "人", None),
        (None, "", None),
        ("人", "人", None),  # only the unit: empty
    ],
)
def test_parse_int(value, unit, expected):
    assert parse_int(value, unit=unit) == expected


@pytest.mark.parametrize(("value", "unit"), [("3 人", "人"), ("2 层", "层")])
def test_parse_int_with_a_space_before_the_unit(value, unit):
    # parse_decimal accepts '85.5 ㎡'; the same clerk typing '3 人' should get 3, not "“3 ”不是整数。"
    assert parse_int(value, unit=unit) == int(value[0])


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [("三人", "人", "三"), ("3.5", "", "3.5"), ("-1", "", "-1"), ("3户", "人", "3户"), ("3人", "", "3人")],
)
def test_parse_int_refuses_non_integers(value, unit, shown):
    with pytest.raises(ValueError) as caught:
        parse_int(value, unit=unit)
    assert str(caught.value) == f"“{shown}”不是整数。"


# --- decimals and coordinates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("85.5㎡", "85.50"),
        ("85.5平方米", "85.50"),
        ("85.5平米", "85.50"),
        ("85.5m²", "85.50"),
        ("85.5 m2", "85.50"),
        ("85.5M2", "85.50"),
        ("85.5", "85.50"),
        (85.5, "85.50"),
        (120, "120.00"),
        ("８５．５", "85.50"),
        ("85.555", "85.56"),
        ("85.554", "85.55"),
    ],
)
def test_parse_decimal(value, expected):
    result = parse_decimal(value)
    assert isinstance(result, Decimal)
    assert str(result) == expected


@pytest.mark.parametrize("value", [None, "", "㎡", "平方米"])
def test_parse_decimal_empty_is_none(value):
    assert parse_decimal(value) is None


@pytest.mark.parametrize(
    ("value", "shown"), [("八十五", "八十五"), ("85.5亩", "85.5亩"), ("85,5", "85,5"), ("inf", "inf")]
)
def test_parse_decimal_refuses_non_numbers(value, shown):
    with pytest.raises(ValueError) as caught:
        parse_decimal(value)
    assert str(caught.value) == f"“{shown}”不是数字。"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("117.421234567", "117.421235"),
        ("25.3", "25.300000"),
        ("25.3°", "25.300000"),
        (117.42, "117.420000"),
        ("-33.8688", "-33.868800"),
    ],
)
def test_parse_coordinate_keeps_six_decimals(value, expected):
    assert str(parse_coordinate(value)) == expected


def test_parse_coordinate_empty_and_garbage():
    assert parse_coordinate("") is None
    with pytest.raises(ValueError) as caught:
        parse_coordinate("北纬25度")
    assert str(caught.value) == "“北纬25度”不是数字。"


# --- categories -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("低保户、五保户", ["minimum_living", "extremely_poor"]),
        ("低保户,五保户", ["minimum_living", "extremely_poor"]),
        ("低保户，五保户", ["minimum_living", "extremely_poor"]),
        ("低保户;五保户", ["minimum_living", "extremely_poor"]),
        ("低保户；五保户", ["minimum_living", "extremely_poor"]),
        ("低保户/五保户", ["minimum_living", "extremely_poor"]),
        ("低保户 五保户", ["minimum_living", "extremely_poor"]),
        ("低保户\u3000五保户", ["minimum_living", "extremely_poor"]),
        ("低保户 、 五保户、", ["minimum_living", "extremely_poor"]),
        ("五保户、低保户", ["extremely_poor", "minimum_living"]),  # order of the cell is kept
        ("低保户、低保、五保户、特困人员、特困", ["minimum_living", "extremely_poor"]),  # duplicates collapse
        ("建档立卡贫困户", ["registered_poor"]),
        ("脱贫户", ["registered_poor"]),
        (
            "残疾人家庭、革命基点村群众、五老、重点优抚对象、其他贫困户",
            ["disabled", "base_village", "five_olds", "special_care", "other_poor"],
        ),
        ("minimum_living,disabled", ["minimum_living", "disabled"]),  # codes as exported
        ("", []),
        (None, []),
    ],
)
def test_parse_categories(value, expected):
    assert parse_categories(value) == expected


def test_parse_categories_accepts_the_translated_labels():
    from households.models import HouseholdCategory

    label = str(HouseholdCategory.Code.MINIMUM_LIVING.label)
    assert label != "Minimum living guarantee (低保户)"  # the Chinese label is active
    assert parse_categories(f"{label}、五保户") == ["minimum_living", "extremely_poor"]


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("低保户、富裕户", "富裕户"),
        ("富裕户", "富裕户"),
        ("低保户、富裕户、村干部、五保户", "富裕户、村干部"),
        ("低保户 富 裕", "富、裕"),
    ],
)
def test_parse_categories_names_unknown_words(value, named):
    with pytest.raises(ValueError) as caught:
        parse_categories(value)
    assert str(caught.value) == f"无法识别的帮扶对象类别：{named}。"


# --- poverty status -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("未脱贫", "not_exited"),
        ("未脱贫户", "not_exited"),
        ("已脱贫", "exited"),
        ("脱贫", "exited"),
        ("已脱贫户", "exited"),
        ("新致贫", "newly_poor"),
        ("新致贫户", "newly_poor"),
        ("新增贫困", "newly_poor"),
        (" 已脱贫 ", "exited"),
        ("exited", "exited"),
        ("", ""),
        (None, ""),
    ],
)
def test_parse_poverty_status(value, expected):
    assert parse_poverty_status(value) == expected


def test_parse_poverty_status_refuses_unknown():
    with pytest.raises(ValueError) as caught:
        parse_poverty_status("小康")
    assert str(caught.value) == "“小康”应为 未脱贫、已脱贫 或 新致贫。"


# --- structure type -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("土木结构", "earth_timber"),
        ("土木", "earth_timber"),
        ("土木房", "earth_timber"),
        ("砖混房", "brick_concrete"),
        ("砖混结构", "brick_concrete"),
        ("砖混结构房屋", "brick_concrete"),
        ("土坯房", "adobe"),
        ("砖木结构", "brick_timber"),
        ("砖土混杂", "brick_earth"),
        ("木结构", "timber"),
        ("木质房屋", "timber"),
        ("石木结构", "stone_timber"),
        ("框架结构", "frame"),
        ("钢筋混凝土结构", "frame"),
        ("钢混", "frame"),
        ("其他", "other"),
        ("adobe", "adobe"),
        (" 土木结构 ", "earth_timber"),
    ],
)
def test_parse_structure_type(value, expected):
    assert parse_structure_type(value) == expected


@pytest.mark.parametrize("value", [None, ""])
def test_parse_structure_type_empty_is_none(value):
    assert parse_structure_type(value) is None


@pytest.mark.parametrize("value", ["茅草房", "铁皮房", "结构", "土木混合"])
def test_parse_structure_type_refuses_unknown(value):
    with pytest.raises(ValueError) as caught:
        parse_structure_type(value)
    assert str(caught.value) == (
        f"无法识别的结构类型“{value}”，请填写 土坯、土木、砖木、砖土混杂、木、石木、砖混、框架 或 其他。"
    )
