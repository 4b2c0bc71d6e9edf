"""Working days (工作日) by China's statutory holiday calendar, with make-up working days (调休).

The calendar comes from the `chinese-calendar` package, which the State Council's yearly notice updates. For a
year it does not know yet, days fall back to Monday to Friday and the result says it is an estimate, so that
screens can warn that the package needs updating.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import chinese_calendar


@dataclass(frozen=True)
class WorkingDay:
    day: datetime.date
    estimated: bool  # True when some day counted lies beyond the holiday calendar's years


def is_working_day(day: datetime.date) -> tuple[bool, bool]:
    """(is it a working day, is that an estimate)."""
    try:
        return chinese_calendar.is_workday(day), False
    except NotImplementedError:
        return day.weekday() < 5, True


def add_working_days(start: datetime.date, days: int) -> WorkingDay:
    """The `days`-th working day after `start` (the day of receipt itself is not counted)."""
    if days < 1:
        raise ValueError("days must be at least 1")
    day, counted, estimated = start, 0, False
    while counted < days:
        day += datetime.timedelta(days=1)
        working, guessed = is_working_day(day)
        estimated |= guessed
        counted += working
    return WorkingDay(day, estimated)


def last_known_year() -> int:
    from chinese_calendar.constants import holidays

    return max(holidays).year
