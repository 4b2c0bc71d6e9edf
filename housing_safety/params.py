"""Integers a user can type into a URL: a query parameter (?village=, ?year=) or a record's id in the path.

A number beyond the database's range is not a server error: SQLite cannot even bind one over 2**63 (OverflowError)
and Python's dates stop at year 9999. A query parameter out of range is ignored like a missing one (the page shows
its unfiltered list, or says what it needs); an id out of range in the path matches no URL (404). Django's int
converter and `str.isdigit` also take digits of other scripts ("²", "١") that int() then refuses.
"""

from __future__ import annotations

import re

from django.utils import timezone

from .dates import AHEAD_YEARS, EARLIEST

#: BigAutoField and every id column: what both databases store in a signed 64-bit integer
ID_MAX = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")  # ASCII digits only; 19 digits already pass ID_MAX


def int_param(query, name: str, *, minimum: int = 1, maximum: int = ID_MAX) -> int | None:
    """The parameter `name` of `query` (request.GET or request.POST) as an int within [minimum, maximum], or None
    when it is absent, not a plain number, or out of range."""
    value = query.get(name)
    if not isinstance(value, str) or not _DIGITS.fullmatch(value.strip()):
        return None
    number = int(value)
    return number if minimum <= number <= maximum else None


def year_param(query, name: str = "year", *, ahead: int = AHEAD_YEARS) -> int | None:
    """A year the registry can hold (housing_safety.dates): from EARLIEST's to `ahead` years from now (a programme
    year is planned a few years ahead), or None."""
    return int_param(query, name, minimum=EARLIEST.year, maximum=timezone.localdate().year + ahead)


def area_lookups(query, *, township: str, village: str | None = None) -> dict[str, int]:
    """?township= and ?village= as filters on a record's township and village paths (the dashboard's drill-down
    links a figure to its list narrowed to the area). Applied to a list already in the user's scope, an area
    outside it shows nothing; a value that is not an id is ignored."""
    lookups = {}
    for name, path in (("township", township), ("village", village)):
        value = int_param(query, name)
        if path and value is not None:
            lookups[path] = value
    return lookups


class IdConverter:
    """`<id:pk>`: a record's id in a path, within the database's range; anything else matches no URL (404)."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > ID_MAX:
            raise ValueError("beyond the database's range")  # Django tries the next pattern, then answers 404
        return number

    def to_url(self, value) -> str:
        return str(int(value))


class YearConverter:
    """`<year:year>`: a year in a path, four digits; anything else matches no URL (404). The view bounds it further."""

    regex = "[0-9]{4}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return f"{int(value):04d}"
