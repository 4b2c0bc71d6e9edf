"""Personal identifiers as clerks type them: normalising, validating with a reason, masking.

The resident ID number (居民身份证号码, GB 11643-1999) is the key that ties departments' lists together, so
a clerk gets the exact reason a number is wrong, in Chinese, never a bare "invalid".
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
# Province-level codes of GB/T 2260 (first two digits).
_PROVINCES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
    "71", "81", "82",
}  # fmt: skip


def half_width(value: str) -> str:
    """Full-width letters, digits and punctuation to half-width (Ｘ → X, １ → 1, 　 → space)."""
    return unicodedata.normalize("NFKC", value)


def normalise_id_number(raw) -> str:
    """Trim, drop inner spaces and dashes, full-width to half-width, `x` to `X`. Empty stays empty."""
    if raw is None:
        return ""
    value = half_width(str(raw))
    value = re.sub(r"[\s\-]", "", value)
    return value.upper()


def id_check_digit(first17: str) -> str:
    return _CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def id_number_error(value: str, *, today: datetime.date | None = None) -> str | None:
    """The reason (in the active language) why a normalised ID number is invalid, or None."""
    if len(value) != 18:
        return _("An ID number has 18 characters; this one has %(count)d.") % {"count": len(value)}
    if not value[:17].isdigit():
        position = next(i for i, ch in enumerate(value[:17], start=1) if not ch.isdigit())
        return _("Character %(position)d must be a digit.") % {"position": position}
    if not (value[17].isdigit() or value[17] == "X"):
        return _("The 18th character must be a digit or X.")
    if value[:2] not in _PROVINCES:
        return _("The first two digits (%(code)s) are not a province code.") % {"code": value[:2]}
    try:
        born = datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return _("Characters 7-14 (%(digits)s) are not a real birth date.") % {"digits": value[6:14]}
    today = today or timezone.localdate()
    if born > today or born.year < 1900:
        return _("The birth date %(date)s is not plausible.") % {"date": born.isoformat()}
    expected = id_check_digit(value[:17])
    if value[17] != expected:
        return _("The check digit (18th character) should be %(expected)s, not %(actual)s.") % {
            "expected": expected,
            "actual": value[17],
        }
    return None


def validate_id_number(value: str) -> None:
    error = id_number_error(normalise_id_number(value))
    if error:
        raise ValidationError(error, code="invalid_id_number")


def birth_date_of(id_number: str) -> datetime.date:
    return datetime.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


def normalise_phone(raw) -> str:
    """Half-width, no spaces or brackets; +86/0086 dropped; landline keeps one dash after the area code."""
    if raw is None:
        return ""
    value = half_width(str(raw)).strip()
    value = re.sub(r"[\s()（）]", "", value)
    value = re.sub(r"^(\+86|0086)", "", value)
    if _MOBILE.match(value.replace("-", "")):  # 139-1234-5678
        value = value.replace("-", "")
    if re.fullmatch(r"0\d{2,3}\d{7,8}", value) and not _MOBILE.match(value):
        # 05977526007 → 0597-7526007 (Fujian area codes have four digits, Beijing-style ones three).
        area = 3 if value[1] in "12" else 4
        value = f"{value[:area]}-{value[area:]}"
    return value


def validate_phone(value: str) -> None:
    value = normalise_phone(value)
    if value and not (_MOBILE.match(value) or _LANDLINE.match(value)):
        raise ValidationError(
            _("Enter an 11-digit mobile number or a landline such as 0597-7526007."), code="invalid_phone"
        )


def mask_id_number(value: str | None) -> str:
    """350881199001011234 → 350881********1234."""
    if not value:
        return ""
    return value[:6] + "*" * (len(value) - 10) + value[-4:] if len(value) > 10 else "*" * len(value)


def mask_phone(value: str | None) -> str:
    """13912341234 → 139****1234; 0597-7526007 → 0597-***6007."""
    if not value:
        return ""
    if _MOBILE.match(value):
        return value[:3] + "****" + value[-4:]
    if len(value) <= 6:
        return "*" * len(value)
    head, _sep, tail = value.rpartition("-")
    if head and len(tail) > 4:
        return f"{head}-" + "*" * (len(tail) - 4) + tail[-4:]
    return "*" * (len(value) - 4) + value[-4:]


def mask_name(name: str) -> str:
    """For public pages: 张三明 → 张*明, 张三 → 张*, 欧阳娜娜 → 欧**娜."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


_WHOLE_ID = re.compile(r"^\d{17}[\dX]$")
_LAST_FOUR = re.compile(r"^\d{3}[\dX]$")


@dataclass(frozen=True)
class NumberSearch:
    """What a search term asks for by number: a whole ID number, a whole phone number, or the last four characters
    of the head's ID or phone number together with (part of) the head's name."""

    id_number: str = ""
    phone: str = ""
    last_four: str = ""
    name: str = ""


def number_search(term: str) -> NumberSearch | None:
    """Read a search box as a number search, or None when it asks for no number (a name, a village).

    Only a whole number counts, normalised as the registry stores it (35088119900101108x, ３５０８８１…, 139 1234 1234,
    +86…), or the last four with a name ("陈水 1234", "1234 陈水"): the last four are what the masked number shows
    anyway. A prefix or any other fragment is no number search, so it can never narrow a hidden number down
    digit by digit (issue 23)."""
    term = half_width(term or "").strip()
    whole = normalise_id_number(term)
    if _WHOLE_ID.match(whole):
        return NumberSearch(id_number=whole)
    phone = normalise_phone(term)
    if _MOBILE.match(phone) or _LANDLINE.match(phone):
        return NumberSearch(phone=phone)
    words = term.split()
    if len(words) == 2:
        for digits, name in (words, words[::-1]):
            if _LAST_FOUR.match(digits.upper()) and not any(ch.isdigit() for ch in name):
                return NumberSearch(last_four=digits.upper(), name=name)
    return None
