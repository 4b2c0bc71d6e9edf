"""ID numbers (GB 11643-1999) and phone numbers as clerks type them: normalising, validating, masking."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils.translation import override

from households.identity import (
    birth_date_of,
    id_number_error,
    mask_id_number,
    mask_phone,
    normalise_id_number,
    normalise_phone,
    validate_id_number,
    validate_phone,
)

pytestmark = pytest.mark.usefixtures("chinese")


def gb11643_check_digit(first17: str) -> str:
    """The check character computed from the standard itself, independently of the module under test.

    GB 11643-1999: weight of position i (counted from the right, the check digit being position 1) is
    2^(i-1) mod 11; the check value is (12 - sum mod 11) mod 11, and 10 is written X.
    """
    assert len(first17) == 17 and first17.isdigit()
    total = sum(int(digit) * (2 ** (17 - index) % 11) for index, digit in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def with_check_digit(first17: str) -> str:
    return first17 + gb11643_check_digit(first17)


def wrong_check_digit(first17: str) -> tuple[str, str]:
    """An ID number whose 18th character is wrong, and the character that would have been right."""
    right = gb11643_check_digit(first17)
    wrong = "1" if right != "1" else "2"
    return first17 + wrong, right


# --- the independent algorithm itself, against published sample numbers ---------------------------------


@pytest.mark.parametrize(
    ("first17", "check"),
    [
        ("11010519491231002", "X"),  # the sample number printed in GB 11643-1999
        ("44052418800101001", "4"),
        ("35088119900101108", "X"),
        ("35088119900101100", "4"),
        ("35088119900101102", "0"),
    ],
)
def test_reference_algorithm_matches_published_samples(first17, check):
    assert gb11643_check_digit(first17) == check


# --- normalisation --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("35088119900101108X", "35088119900101108X"),
        ("35088119900101108x", "35088119900101108X"),  # lower-case x
        ("３５０８８１１９９００１０１１０８Ｘ", "35088119900101108X"),  # full-width digits and Ｘ
        ("３５０８８１１９９００１０１１０８ｘ", "35088119900101108X"),  # full-width lower-case ｘ
        ("  350881 1990 0101 108X ", "35088119900101108X"),  # spaces, leading and inner
        ("350881\u300019900101108X", "35088119900101108X"),  # ideographic space
        ("350881-19900101-108X", "35088119900101108X"),  # dashes
        ("350881－19900101－108X", "35088119900101108X"),  # full-width dashes
        ("\t350881199001011004\n", "350881199001011004"),
        (None, ""),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalise_id_number(raw, expected):
    assert normalise_id_number(raw) == expected


def test_normalise_id_number_of_a_number_typed_as_integer():
    assert normalise_id_number(350881199001011004) == "350881199001011004"


# --- validation: correct numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "first17",
    [
        "35088119900101100",
        "35088119900101108",  # check digit X
        "11010519491231002",  # check digit X, Beijing
        "35088120000229123",  # 29 February of a leap year
        "35088119000101001",  # born 1900-01-01, the earliest plausible date
        "65010219851130456",  # Xinjiang
        "81000019791010000",  # Hong Kong residence permit prefix
    ],
)
def test_correct_numbers_have_no_error(first17):
    number = with_check_digit(first17)
    assert id_number_error(number) is None
    validate_id_number(number)  # does not raise


def test_a_number_whose_check_digit_is_x_is_valid_in_any_spelling():
    number = with_check_digit("35088119900101108")
    assert number.endswith("X")
    assert id_number_error(number) is None
    validate_id_number(number.lower())
    validate_id_number(" ３５０８８１ １９９００１０１ １０８ｘ ")


def test_born_today_is_accepted():
    today = datetime.date(2024, 5, 1)
    number = with_check_digit("35088120240501001")
    assert id_number_error(number, today=today) is None


def test_birth_date_of():
    assert birth_date_of(with_check_digit("35088119900228108")) == datetime.date(1990, 2, 28)


# --- validation: wrong numbers, each with its reason ---------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("35088119900101100", "身份证号码应为18位，当前为17位。"),
        ("3508811990010110041", "身份证号码应为18位，当前为19位。"),
        ("350881900101100", "身份证号码应为18位，当前为15位。"),  # old-style 15-digit number
        ("", "身份证号码应为18位，当前为0位。"),
    ],
)
def test_wrong_length(value, message):
    assert id_number_error(value) == message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("35088119900A011004", "第12位应为数字。"),
        ("A50881199001011004", "第1位应为数字。"),
        ("3508811990010110X4", "第17位应为数字。"),
        ("35088119900101100Y", "第18位只能是数字或X。"),
        ("35088119900101100x", "第18位只能是数字或X。"),  # id_number_error expects a normalised value
    ],
)
def test_letters_inside(value, message):
    assert id_number_error(value) == message


@pytest.mark.parametrize("province", ["00", "10", "39", "99", "91"])
def test_bad_province_code(province):
    number = with_check_digit(f"{province}0881199001011004"[:17])
    assert id_number_error(number) == f"前两位（{province}）不是有效的省级行政区划代码。"


@pytest.mark.parametrize(
    "birth",
    [
        "19900230",  # 30 February
        "20250229",  # 29 February of a non-leap year
        "19001329",  # month 13
        "19900100",  # day 0
        "19900431",  # 31 April
        "19000229",  # 1900 is not a leap year
    ],
)
def test_impossible_birth_dates(birth):
    number = with_check_digit(f"350881{birth}100")
    assert id_number_error(number) == f"第7-14位（{birth}）不是真实的出生日期。"


def test_future_birth_date():
    number = with_check_digit("35088120240502100")
    assert id_number_error(number, today=datetime.date(2024, 5, 1)) == "出生日期2024-05-02不合理。"


def test_future_birth_date_against_the_real_today():
    number = with_check_digit("35088120991231100")
    assert id_number_error(number) == "出生日期2099-12-31不合理。"


def test_birth_date_before_1900():
    number = with_check_digit("35088118991231100")
    assert id_number_error(number) == "出生日期1899-12-31不合理。"


@pytest.mark.parametrize("first17", ["35088119900101100", "35088119900101108", "11010519491231002"])
def test_wrong_check_digit_names_the_expected_digit(first17):
    number, right = wrong_check_digit(first17)
    assert id_number_error(number) == f"第18位校验码应为{right}，而不是{number[17]}。"


def test_x_where_a_digit_belongs():
    first17 = "35088119900101100"
    assert gb11643_check_digit(first17) == "4"
    assert id_number_error(first17 + "X") == "第18位校验码应为4，而不是X。"


def test_messages_in_english_when_english_is_active():
    with override("en"):
        assert id_number_error("123") == "An ID number has 18 characters; this one has 3."


# --- validate_id_number ---------------------------------------------------------------------------------


def test_validate_id_number_raises_with_code_and_reason():
    number, right = wrong_check_digit("35088119900101100")
    with pytest.raises(ValidationError) as caught:
        validate_id_number(number)
    assert caught.value.code == "invalid_id_number"
    assert caught.value.messages == [f"第18位校验码应为{right}，而不是1。"]


def test_validate_id_number_normalises_before_judging():
    number, _right = wrong_check_digit("35088119900101100")
    with pytest.raises(ValidationError) as caught:
        validate_id_number(" ３５０８８１-" + number[6:])
    assert caught.value.code == "invalid_id_number"
    assert caught.value.messages == ["第18位校验码应为4，而不是1。"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("350881900101100", "身份证号码应为18位，当前为15位。"),
        ("35088119900230100X", "第7-14位（19900230）不是真实的出生日期。"),
        ("990881199001011004", "前两位（99）不是有效的省级行政区划代码。"),
    ],
)
def test_validate_id_number_reasons(value, message):
    with pytest.raises(ValidationError) as caught:
        validate_id_number(value)
    assert caught.value.code == "invalid_id_number"
    assert caught.value.messages == [message]


# --- phones ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13912341234", "13912341234"),
        ("139 1234 1234", "13912341234"),
        ("+86 139 1234 1234", "13912341234"),
        ("+8613912341234", "13912341234"),
        ("0086 13912341234", "13912341234"),
        ("＋８６ １３９１２３４１２３４", "13912341234"),  # full-width
        ("１３９１２３４１２３４", "13912341234"),
        (" 13912341234 ", "13912341234"),
        (13912341234, "13912341234"),  # a number cell
        ("05977526007", "0597-7526007"),
        ("0597 7526007", "0597-7526007"),
        ("(0597)7526007", "0597-7526007"),
        ("（0597）7526007", "0597-7526007"),
        ("０５９７７５２６００７", "0597-7526007"),
        ("0597-7526007", "0597-7526007"),
        ("01012345678", "010-12345678"),  # Beijing: three-digit area code
        ("02112345678", "021-12345678"),  # Shanghai
        ("010-12345678", "010-12345678"),
        ("+86 0597 7526007", "0597-7526007"),
        (None, ""),
        ("", ""),
    ],
)
def test_normalise_phone(raw, expected):
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize(
    "value",
    ["13912341234", "+86 139 1234 1234", "05977526007", "0597-7526007", "010-12345678", "19912341234", ""],
)
def test_valid_phones(value):
    validate_phone(value)  # does not raise


@pytest.mark.parametrize(
    "value",
    [
        "12345",
        "1391234123",  # ten digits
        "139123412345",  # twelve digits
        "12912341234",  # no mobile prefix 12x
        "23912341234",
        "7526007",  # landline without area code
        "0597-75260",  # too short
        "139-1234-abcd",
        "电话13912341234",
    ],
)
def test_invalid_phones(value):
    with pytest.raises(ValidationError) as caught:
        validate_phone(value)
    assert caught.value.code == "invalid_phone"
    assert caught.value.messages == ["请填写11位手机号码或带区号的固定电话（如 0597-7526007）。"]


# --- masking --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("350881199001011234", "350881********1234"),
        ("35088119900101108X", "350881********108X"),
        ("350881900101123", "350881*****1123"),  # 15-digit old-style number
        ("12345678901", "123456*8901"),
        ("1234567890", "**********"),  # too short to show anything
        ("123", "***"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_id_number(value, masked):
    assert mask_id_number(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13912341234", "139****1234"),
        ("18650001234", "186****1234"),
        ("0597-7526007", "0597-***6007"),
        ("010-12345678", "010-****5678"),
        ("7526007", "***6007"),
        ("123", "***"),
        ("123456", "******"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_phone(value, masked):
    assert mask_phone(value) == masked


def test_masked_values_hide_the_middle():
    assert "19900101" not in mask_id_number("350881199001011234")
    assert "1234" not in mask_phone("13912341234")[:7]
