"""Working days (工作日) by China's statutory holiday calendar, with make-up working days (调休).

A year's days off and make-up working days come first from the holiday table (models.HolidayYear, which the bureau
fills from the State Council's yearly notice in the admin, housing_safety.holidays), then from the `chinese-calendar`
package (2004 to 2026 in 1.11.0, also copied into the table by a migration). For a year in neither, days fall back
to Monday to Friday and the result says it is an estimate, so that screens can warn and the deadlines can be
recomputed once the year is entered.

Set-based: a year is read once (one query) into two sets of dates and kept in the cache until the table changes
(`forget_year`); a `Calendar` keeps the years it has read, so counting many deadlines reads each year once.
"""

from __future__ import annotations

import datetime
import functools
from collections import defaultdict
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction

OFF, WORK = "off", "work"  # models.HolidayDay.Kind
TABLE, PACKAGE, MISSING = "table", "package", "missing"
CACHE_SECONDS = 24 * 3600  # forgotten on every change of the table anyway


@dataclass(frozen=True)
class WorkingDay:
    day: datetime.date
    estimated: bool  # True when some day counted lies in a year the holiday calendar does not know


@dataclass(frozen=True)
class YearDays:
    """One year's exceptions to Monday to Friday, and where they come from."""

    year: int
    off: frozenset[datetime.date] = frozenset()
    work: frozenset[datetime.date] = frozenset()
    source: str = MISSING

    @property
    def known(self) -> bool:
        return self.source != MISSING

    def is_working_day(self, day: datetime.date) -> bool:
        if day in self.off:
            return False
        return day in self.work or day.weekday() < 5


@functools.cache
def _package_years() -> dict[int, tuple[frozenset, frozenset]]:
    from chinese_calendar.constants import holidays, workdays

    years: dict[int, tuple[set, set]] = defaultdict(lambda: (set(), set()))
    for day in holidays:
        years[day.year][0].add(day)
    for day in workdays:
        years[day.year][1].add(day)
    return {year: (frozenset(off), frozenset(work)) for year, (off, work) in years.items()}


def package_year(year: int) -> YearDays:
    """What the chinese-calendar package says about `year` (MISSING when it does not know it)."""
    known = _package_years().get(year)
    return YearDays(year, *known, PACKAGE) if known else YearDays(year)


def load_year(year: int) -> YearDays:
    """The year as it stands now, from the database (one query), else the package; not cached."""
    from .models import HolidayYear

    rows = list(HolidayYear.objects.filter(year=year).values_list("days__day", "days__kind"))
    if not rows:
        return package_year(year)
    off = frozenset(day for day, kind in rows if day is not None and kind == OFF)
    work = frozenset(day for day, kind in rows if day is not None and kind == WORK)
    return YearDays(year, off, work, TABLE)


def _key(year: int) -> str:
    return f"workdays:year:{year}"


def year_days(year: int) -> YearDays:
    """The year from the cache, read once when the cache does not have it."""
    found = cache.get(_key(year))
    if found is None:
        found = load_year(year)
        cache.set(_key(year), found, CACHE_SECONDS)
    return found


def forget_year(*years: int) -> None:
    """The table changed: read these years afresh, now and once the change is committed (a page drawn in between
    may have cached the old days)."""
    keys = [_key(year) for year in years] + [LAST_YEAR_KEY]
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


class Calendar:
    """Years read once and kept for the calendar's life; `overrides` stand in for years as they were (a recompute
    compares the year before and after a change)."""

    def __init__(self, overrides: dict[int, YearDays] | None = None):
        self._years: dict[int, YearDays] = dict(overrides or {})

    def year(self, year: int) -> YearDays:
        if year not in self._years:
            self._years[year] = year_days(year)
        return self._years[year]

    def is_working_day(self, day: datetime.date) -> tuple[bool, bool]:
        """(is it a working day, is that an estimate)."""
        year = self.year(day.year)
        return year.is_working_day(day), not year.known

    def add_working_days(self, start: datetime.date, days: int) -> WorkingDay:
        """The `days`-th working day after `start` (the day of receipt itself is not counted)."""
        if days < 1:
            raise ValueError("days must be at least 1")
        day, counted, estimated = start, 0, False
        while counted < days:
            day += datetime.timedelta(days=1)
            working, guessed = self.is_working_day(day)
            estimated |= guessed
            counted += working
        return WorkingDay(day, estimated)

    def working_days_between(self, start: datetime.date, end: datetime.date) -> int:
        """How many working days after `start` up to `end`, `end` included (the inverse of add_working_days)."""
        count, day = 0, start
        while day < end:
            day += datetime.timedelta(days=1)
            count += self.is_working_day(day)[0]
        return count

    def missing_years(self, start: datetime.date, end: datetime.date) -> list[int]:
        return [year for year in range(start.year, end.year + 1) if not self.year(year).known]


def is_working_day(day: datetime.date) -> tuple[bool, bool]:
    """(is it a working day, is that an estimate)."""
    return Calendar().is_working_day(day)


def add_working_days(start: datetime.date, days: int, calendar: Calendar | None = None) -> WorkingDay:
    """The `days`-th working day after `start` (the day of receipt itself is not counted); pass one `calendar` to
    count many deadlines over the same years."""
    return (calendar or Calendar()).add_working_days(start, days)


LAST_YEAR_KEY = "workdays:last-year"


def last_known_year() -> int:
    """The last year the table or the package knows."""
    found = cache.get(LAST_YEAR_KEY)
    if found is None:
        from django.db.models import Max

        from .models import HolidayYear

        found = max(HolidayYear.objects.aggregate(last=Max("year"))["last"] or 0, max(_package_years()))
        cache.set(LAST_YEAR_KEY, found, CACHE_SECONDS)
    return found
