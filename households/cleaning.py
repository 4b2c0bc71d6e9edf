"""Cells as a clerk reads them. Departments' sheets write the same thing many ways; accept every spelling
whose meaning is clear and say, in Chinese, why anything else is rejected. Each parser returns None for an
empty cell and raises ValueError with the reason otherwise."""

from __future__ import annotations

import datetime
import functools
import re
from decimal import Decimal, InvalidOperation

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from .identity import half_width
from .models import Dwelling, Household, HouseholdCategory

_EXCEL_EPOCH = datetime.date(1899, 12, 30)


def text(value) -> str:
    """A cell as trimmed text ('' for empty); integral floats lose their '.0'. Names keep their Chinese
    punctuation; the parsers below compare on `plain` text."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def plain(value) -> str:
    """Text for comparing and parsing: full-width digits, letters and punctuation made half-width."""
    return half_width(text(value)).strip()


def parse_date(value) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and 1 <= value < 80000:  # an Excel serial day number
        return _EXCEL_EPOCH + datetime.timedelta(days=int(value))
    raw = plain(value)
    if not raw:
        return None
    match = re.fullmatch(
        r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+[\d:]+)?", raw
    ) or re.fullmatch(r"(\d{4})(\d{2})(\d{2})", raw)
    if match:
        try:
            return datetime.date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise ValueError(_("“%(value)s” is not a date; write it as 2024-05-01 or 2024年5月1日.") % {"value": raw})


def parse_year(value) -> int | None:
    raw = plain(value).removesuffix("年")
    if not raw:
        return None
    if re.fullmatch(r"\d{4}", raw):
        return int(raw)
    raise ValueError(_("“%(value)s” is not a year such as 2019.") % {"value": raw})


_TRUE = {"是", "有", "y", "yes", "true", "1", "√", "✓", "对"}
_FALSE = {"否", "无", "没有", "n", "no", "false", "0", "×", "x", "不"}


def parse_bool(value) -> bool | None:
    if isinstance(value, bool):
        return value
    raw = plain(value).lower()
    if not raw:
        return None
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(_("“%(value)s” should be 是 or 否.") % {"value": raw})


def parse_int(value, *, unit: str = "") -> int | None:
    raw = plain(value)
    if unit:
        raw = raw.removesuffix(unit).strip()
    if not raw:
        return None
    if re.fullmatch(r"\d+(\.0+)?", raw):
        return int(float(raw))
    raise ValueError(_("“%(value)s” is not a whole number.") % {"value": raw})


def parse_decimal(value, *, places: int = 2) -> Decimal | None:
    raw = re.sub(r"(平方米|平米|㎡|m²|m2|°)$", "", plain(value), flags=re.IGNORECASE).strip()
    if not raw:
        return None
    try:
        return Decimal(raw).quantize(Decimal(1).scaleb(-places))
    except InvalidOperation:
        raise ValueError(_("“%(value)s” is not a number.") % {"value": raw}) from None


def parse_coordinate(value) -> Decimal | None:
    return parse_decimal(value, places=6)


_CATEGORY_ALIASES: dict[str, str] = {
    "建档立卡贫困户": "registered_poor", "建档立卡户": "registered_poor", "贫困户": "registered_poor",
    "脱贫户": "registered_poor", "建档立卡": "registered_poor",
    "低保户": "minimum_living", "低保": "minimum_living", "低保对象": "minimum_living",
    "农村分散供养特困人员": "extremely_poor", "分散供养特困人员": "extremely_poor", "特困人员": "extremely_poor",
    "特困户": "extremely_poor", "特困": "extremely_poor", "五保户": "extremely_poor",
    "国家重点优抚对象": "special_care", "重点优抚对象": "special_care", "优抚对象": "special_care",
    "革命五老人员家庭": "five_olds", "五老人员家庭": "five_olds", "五老人员": "five_olds", "五老": "five_olds",
    "贫困残疾人家庭": "disabled", "残疾人家庭": "disabled", "贫困残疾人": "disabled", "残疾": "disabled",
    "革命基点村群众": "base_village", "基点村群众": "base_village", "基点村": "base_village",
    "其他贫困户": "other_poor", "其他": "other_poor",
}  # fmt: skip


@functools.lru_cache(maxsize=8)
def _category_labels(language: str | None) -> dict[str, str]:
    """The categories' labels in the active language -> code (built once per language, not once per cell)."""
    return {str(label): code for code, label in HouseholdCategory.Code.choices}


def parse_categories(value) -> list[str]:
    """'低保户、五保户' → ['minimum_living', 'extremely_poor']; unknown words are reported by name."""
    raw = plain(value)
    words = [w for w in re.split(r"[、,，;；/|\s]+", raw) if w]
    codes, unknown = [], []
    labels = _category_labels(get_language())
    for word in words:
        code = (
            _CATEGORY_ALIASES.get(word) or labels.get(word) or (word if word in HouseholdCategory.Code.values else None)
        )
        if code is None:
            unknown.append(word)
        elif code not in codes:
            codes.append(code)
    if unknown:
        raise ValueError(_("Unknown household category: %(words)s.") % {"words": "、".join(unknown)})
    return codes


_POVERTY_ALIASES = {
    "未脱贫": Household.PovertyStatus.NOT_EXITED, "未脱贫户": Household.PovertyStatus.NOT_EXITED,
    "已脱贫": Household.PovertyStatus.EXITED, "脱贫": Household.PovertyStatus.EXITED,
    "已脱贫户": Household.PovertyStatus.EXITED, "新致贫": Household.PovertyStatus.NEWLY_POOR,
    "新增贫困": Household.PovertyStatus.NEWLY_POOR, "新致贫户": Household.PovertyStatus.NEWLY_POOR,
}  # fmt: skip


# The states a clerk writes that are not words of _POVERTY_ALIASES but mean one of them: 脱贫不稳定户 are households
# out of poverty under monitoring (防返贫监测), recorded as exited; the monitoring label itself is not kept.
_STATE_ALIASES = {
    **_POVERTY_ALIASES,
    "脱贫不稳定": Household.PovertyStatus.EXITED, "脱贫不稳定户": Household.PovertyStatus.EXITED,
    "已脱贫不稳定户": Household.PovertyStatus.EXITED, "稳定脱贫": Household.PovertyStatus.EXITED,
    "贫困": Household.PovertyStatus.NOT_EXITED, "在贫": Household.PovertyStatus.NOT_EXITED,
    "返贫": Household.PovertyStatus.NEWLY_POOR, "新识别": Household.PovertyStatus.NEWLY_POOR,
}  # fmt: skip
KNOWN_STATES = "未脱贫、已脱贫、新致贫、脱贫不稳定"
_YEAR = re.compile(r"((?:19|20)\d\d)\s*(?:年度|年)?")


def parse_state(value) -> tuple[str, int | None]:
    """A poverty state as a clerk writes it, with its year when it has one: '已脱贫' → ('exited', None),
    '2019年脱贫' or '已脱贫（2019年）' → ('exited', 2019), '新致贫' → ('newly_poor', None); '' → ('', None).
    ValueError (the word, plain) for anything else."""
    raw = re.sub(r"[\s()]+", "", plain(value))
    if not raw:
        return "", None
    year = None
    found = _YEAR.search(raw)
    if found:
        year, raw = int(found.group(1)), (raw[: found.start()] + raw[found.end() :])
    status = _STATE_ALIASES.get(raw) or (raw if raw in Household.PovertyStatus.values else None)
    if status is None:
        raise ValueError(plain(value))
    return str(status), year if status == Household.PovertyStatus.EXITED else None


def parse_categories_with_state(value) -> tuple[list[str], str, int | None]:
    """A category cell that may carry the household's poverty state in parentheses, full-width or not, spaces
    allowed: '建档立卡贫困户（新致贫）、低保户' → (['registered_poor', 'minimum_living'], 'newly_poor', None).
    An unknown state is refused in the clerk's terms, naming the cell's category and the state."""
    text_ = re.sub(r"\s*\)", ")", re.sub(r"\s*\(\s*", "(", plain(value)))
    words, states = [], []
    for token in re.findall(r"[^、,，;；/|\s()]*\([^()]*\)|[^、,，;；/|\s()]+", text_):
        word, _open, inner = token.partition("(")
        if not _open or _category_code(token):
            words.append(token)
            continue
        words.append(word)
        inner = inner.removesuffix(")")
        try:
            states.append(parse_state(inner))
        except ValueError:
            raise ValueError(
                _("In the category “%(cell)s”, “%(state)s” is not a known poverty state (write one of: %(known)s).")
                % {"cell": f"{word}（{inner}）", "state": inner, "known": KNOWN_STATES}
            ) from None
    codes = parse_categories("、".join(w for w in words if w))
    if len({status for status, _year in states}) > 1:
        raise ValueError(_("The categories name two different poverty states: %(cell)s.") % {"cell": plain(value)})
    status = states[0][0] if states else ""
    year = next((year for _status, year in states if year), None)
    return codes, status, year


def _category_code(word: str) -> str | None:
    return (
        _CATEGORY_ALIASES.get(word)
        or _category_labels(get_language()).get(word)
        or (word if word in HouseholdCategory.Code.values else None)
    )


def parse_poverty_status(value) -> str:
    raw = plain(value)
    if not raw:
        return ""
    status = _POVERTY_ALIASES.get(raw)
    if status is None and raw in Household.PovertyStatus.values:
        status = raw
    if status is None:
        raise ValueError(_("“%(value)s” should be 未脱贫, 已脱贫 or 新致贫.") % {"value": raw})
    return status


_STRUCTURE_ALIASES = {
    "土坯": "adobe", "土木": "earth_timber", "砖木": "brick_timber", "砖土混杂": "brick_earth", "砖土": "brick_earth",
    "木": "timber", "木质": "timber", "石木": "stone_timber", "砖混": "brick_concrete", "框架": "frame",
    "钢混": "frame", "钢筋混凝土": "frame", "其他": "other",
}  # fmt: skip


def parse_structure_type(value) -> str | None:
    raw = plain(value)
    if not raw:
        return None
    key = re.sub(r"(结构|房屋|房)$", "", raw)
    key = re.sub(r"(结构|房屋|房)$", "", key)
    code = _STRUCTURE_ALIASES.get(key) or (key if key in Dwelling.StructureType.values else None)
    if code is None:
        raise ValueError(
            _("Unknown structure type “%(value)s”; use 土坯, 土木, 砖木, 砖土混杂, 木, 石木, 砖混, 框架 or 其他.")
            % {"value": raw}
        )
    return code
