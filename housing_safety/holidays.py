"""The holiday table's yearly task (节假日安排): each November the State Council publishes next year's holidays; the
bureau administrator enters them in the admin (models.HolidayYear), and working-day deadlines follow
(housing_safety.workdays).

From 1 December, while next year is missing, the administrator is told: a line on their home, a line on /healthz
(degraded, still 200), and one notice by the daily sweep. When a year is entered or changed, the apps that store
working-day deadlines recompute those the year touches (they register a recompute here, as the bottom layer knows
no app) and tell the people whose deadline moved.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from .models import HolidayDay, HolidayYear, Notice
from .notices import notify
from .workdays import Calendar, YearDays, forget_year, load_year, year_days

ENTER = "housing_safety.add_holidayyear"
WARN_FROM = (12, 1)  # (month, day): from then on next year's holidays are awaited


def missing_next_year(today: datetime.date) -> int | None:
    """Next year, when `today` is on or after 1 December and the table and the package do not know it."""
    if (today.month, today.day) < WARN_FROM:
        return None
    year = today.year + 1
    return None if year_days(year).known else year


def add_url(year: int) -> str:
    return reverse("admin:housing_safety_holidayyear_add") + f"?year={year}"


def missing_message(year: int) -> str:
    return _(
        "The holidays of %(year)s are not entered yet: complaint deadlines will count Monday to Friday straight "
        "through the holidays"
    ) % {"year": year}


# The administrator's home, /healthz and the notice ---------------------------------------------------------------


def todos(user, today: datetime.date):
    """The bureau administrator's home: next year's holidays to enter (from 1 December while missing)."""
    from .workspace import Todo

    if not user.has_perm(ENTER) or (year := missing_next_year(today)) is None:
        return
    yield Todo(
        pgettext("menu section", "System"),
        missing_message(year),
        None,
        add_url(year),
        "warning",
        _("Enter them from the State Council's notice in the holiday table."),
    )


def health_state(today: datetime.date) -> str:
    """/healthz's line: "ok", or "<year> missing" (degraded, not failing)."""
    year = missing_next_year(today)
    return "ok" if year is None else f"{year} missing"


def administrators():
    """The active people who may enter a year (the bureau administrators), superusers included."""
    return get_user_model().objects.with_perm(ENTER, backend="django.contrib.auth.backends.ModelBackend")


def announce_missing_year(day: datetime.date) -> int:
    """The daily sweep: from 1 December, tell the bureau administrators once that next year is missing. Announced
    only when it reached someone (the notice is the record): a day on which nobody could be reached tries again the
    next day. How many it reached today."""
    year = missing_next_year(day)
    if year is None:
        return 0
    key = f"holidays-missing:{year}"
    if Notice.objects.filter(key=key).exists():
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        return notify(
            key=key,
            users=administrators(),
            title=missing_message(year),
            body=_(
                "Enter the days off and make-up working days of %(year)s from the State Council's notice in the "
                "holiday table. Deadlines counted meanwhile are recomputed when the year is entered, and the people "
                "whose deadline moves are told."
            )
            % {"year": year},
            url=add_url(year),
        )


# A year entered or changed ----------------------------------------------------------------------------------------

# recompute(year=, before=, after=, actor=, change=) -> records whose deadline moved
Recompute = Callable[..., int]
_recomputes: list[Recompute] = []


def register_recompute(recompute: Recompute) -> None:
    """Called from an app's AppConfig.ready(): the app recomputes its stored working-day deadlines for a changed
    year."""
    if recompute not in _recomputes:
        _recomputes.append(recompute)


def days_before_change(year: int) -> YearDays:
    """The year as deadlines were counted so far (the table, else the package, else Monday to Friday): read before
    a change is saved."""
    return load_year(year)


def change_id(days: YearDays) -> str:
    """A short fingerprint of a year's days: the same days entered twice are the same change (notices keyed by it
    are sent once)."""
    text = ";".join(f"{kind}:{day:%Y%m%d}" for kind, days_ in (("off", days.off), ("work", days.work)) for day in
                    sorted(days_))  # fmt: skip
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def year_changed(*, year: int, before: YearDays, actor) -> int:
    """After a year was saved (or removed): forget the cached days and let each app recompute the deadlines the year
    touches. How many records' deadlines moved."""
    forget_year(year)
    after_days = load_year(year)
    if (after_days.off, after_days.work, after_days.known) == (before.off, before.work, before.known):
        return 0
    before_calendar, after = Calendar({year: before}), Calendar({year: after_days})
    change = f"{year}:{change_id(after_days)}"
    with translation.override(settings.LANGUAGE_CODE):
        return sum(
            recompute(year=year, before=before_calendar, after=after, actor=actor, change=change)
            for recompute in _recomputes
        )


def forget_on_change(sender, instance, **kwargs) -> None:
    """post_save/post_delete of the table: the cached year is read afresh."""
    year = instance.year if isinstance(instance, HolidayYear) else getattr(instance.day, "year", None)
    if year:
        forget_year(year)


def connect_signals() -> None:
    from django.db.models.signals import post_delete, post_save

    for model in (HolidayYear, HolidayDay):
        for signal in (post_save, post_delete):
            signal.connect(forget_on_change, sender=model, dispatch_uid=f"holidays.forget.{model.__name__}")
