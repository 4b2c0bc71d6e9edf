"""A crontab schedule as people read it, in the interface's language: 「每日 08:00」, 「每月 23 日 18:00」,
「每季度首月 1 日 01:30」, 「每 10 分钟」. django-celery-beat describes its schedules through cron-descriptor, in
English only; the admin shows this description instead (housing_safety.admin).

Each field is expanded by celery's own parser (names such as "mon-fri", steps, ranges and lists alike), so the
description says when the schedule runs, whatever way it was typed; a field celery refuses is shown as typed."""

from __future__ import annotations

from celery.schedules import ParseException, crontab
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

QUARTER_MONTHS = {1, 4, 7, 10}
SHANGHAI = "Asia/Shanghai"


def _weekday(day: int) -> str:
    names = (
        pgettext("schedule", "Sunday"),
        pgettext("schedule", "Monday"),
        pgettext("schedule", "Tuesday"),
        pgettext("schedule", "Wednesday"),
        pgettext("schedule", "Thursday"),
        pgettext("schedule", "Friday"),
        pgettext("schedule", "Saturday"),
    )
    return names[day % 7]


def _runs(values: list[int]) -> list[tuple[int, int]]:
    """Sorted values as runs of consecutive ones: [1, 2, 3, 5] -> [(1, 3), (5, 5)]."""
    runs: list[tuple[int, int]] = []
    for value in values:
        if runs and value == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], value)
        else:
            runs.append((value, value))
    return runs


def _listed(values: set[int], name=str) -> str:
    """「1、15」, 「1 至 5」, 「周一至周五」: runs of three or more as a range."""
    parts = []
    for first, last in _runs(sorted(values)):
        if last - first >= 2:
            parts.append(
                pgettext("schedule range", "%(first)s to %(last)s") % {"first": name(first), "last": name(last)}
            )
        else:
            parts += [name(value) for value in range(first, last + 1)]
    return pgettext("list separator", ", ").join(parts)


def _step(values: set[int], lowest: int, count: int) -> int | None:
    """n when the values are every n-th from the lowest (「*/n」), at least three of them."""
    ordered = sorted(values)
    if len(ordered) < 3 or ordered[0] != lowest:
        return None
    step = ordered[1] - ordered[0]
    if step > 1 and ordered == list(range(lowest, lowest + count, step)):
        return step
    return None


def _time(minutes: set[int], hours: set[int]) -> tuple[str, bool]:
    """The time of day, and whether it is a frequency (「每 10 分钟」) rather than a time (「08:00」)."""
    every_hour = len(hours) == 24
    if len(minutes) == 60 and every_hour:
        return _("every minute"), True
    if every_hour and (step := _step(minutes, 0, 60)):
        return _("every %(n)d minutes") % {"n": step}, True
    if len(minutes) == 1:
        (minute,) = minutes
        if every_hour:
            return (
                _("every hour on the hour") if minute == 0 else _("every hour at minute %(m)d") % {"m": minute}
            ), True
        if step := _step(hours, 0, 24):
            return _("every %(n)d hours at minute %(m)d") % {"n": step, "m": minute}, True
    if len(minutes) * len(hours) <= 6:
        times = [f"{hour:02d}:{minute:02d}" for hour in sorted(hours) for minute in sorted(minutes)]
        return pgettext("list separator", ", ").join(times), False
    if len(minutes) == 60:
        return _("every minute of hours %(hours)s") % {"hours": _listed(hours)}, True
    return _("minutes %(minutes)s of hours %(hours)s") % {"minutes": _listed(minutes), "hours": _listed(hours)}, True


def _days(days: set[int], weekdays: set[int], months: set[int]) -> str:
    every_day, every_weekday = len(days) == 31, len(weekdays) == 7
    if len(months) == 12:
        if every_day and every_weekday:
            return _("every day")
        if every_weekday:
            return _("day %(days)s of every month") % {"days": _listed(days)}
        if every_day:
            return _("every %(weekdays)s") % {"weekdays": _listed(weekdays, _weekday)}
        return _("day %(days)s of every month, when a %(weekdays)s") % {
            "days": _listed(days),
            "weekdays": _listed(weekdays, _weekday),
        }
    if months == QUARTER_MONTHS:
        period = _("the first month of every quarter")
    else:
        period = _("every year in month %(months)s") % {"months": _listed(months)}
    if every_day and every_weekday:
        return _("%(period)s, every day") % {"period": period}
    if every_weekday:
        return _("%(period)s, day %(days)s") % {"period": period, "days": _listed(days)}
    if every_day:
        return _("%(period)s, every %(weekdays)s") % {"period": period, "weekdays": _listed(weekdays, _weekday)}
    return _("%(period)s, day %(days)s when a %(weekdays)s") % {
        "period": period,
        "days": _listed(days),
        "weekdays": _listed(weekdays, _weekday),
    }


def describe(minute="*", hour="*", day_of_month="*", month_of_year="*", day_of_week="*", timezone=None) -> str:
    """A crontab's fields (as django-celery-beat stores them) in words; its time zone when it is not Beijing's."""
    try:
        schedule = crontab(
            minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month_of_year, day_of_week=day_of_week
        )
        minutes, hours = set(schedule.minute), set(schedule.hour)
        days, weekdays, months = set(schedule.day_of_month), set(schedule.day_of_week), set(schedule.month_of_year)
    except (ParseException, ValueError, TypeError, IndexError):
        return _("minute %(minute)s, hour %(hour)s, day %(day)s, month %(month)s, weekday %(weekday)s (as typed)") % {
            "minute": minute,
            "hour": hour,
            "day": day_of_month,
            "month": month_of_year,
            "weekday": day_of_week,
        }
    time, frequent = _time(minutes, hours)
    when = _days(days, weekdays, months)
    if frequent and when == _("every day"):
        text = time
    else:
        text = (_("%(days)s, %(time)s") if frequent else _("%(days)s %(time)s")) % {"days": when, "time": time}
    zone = str(timezone or SHANGHAI)
    if zone != SHANGHAI:
        text = _("%(schedule)s (time zone %(zone)s)") % {"schedule": text, "zone": zone}
    return text


def describe_crontab(schedule) -> str:
    """A django-celery-beat CrontabSchedule in words."""
    return describe(
        schedule.minute,
        schedule.hour,
        schedule.day_of_month,
        schedule.month_of_year,
        schedule.day_of_week,
        schedule.timezone,
    )
