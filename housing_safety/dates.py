"""Plausible dates: the one range each kind of date of the registry may take, for the model fields' validators (so
the admin and every model form check them) and for the services that take a date as an argument (check_date).

- An event that has happened (registered, appraised, visited, received, paid, a case's step, a reply): from
  EARLIEST to today, today included. The registry's records start long after 2000 (the rural dangerous-house
  programme from 2008, the poverty files from 2014), so anything earlier is a typo such as 0226 or 1926.
- A deadline or a planned date (a problem's deadline, a revisit or report due, the end of a public posting): from
  EARLIEST to AHEAD_YEARS years from today; the longest real one is a few months ahead.
- A birth date: from EARLIEST_BIRTH to today (the ID-number check has the same floor).
- A year (a programme year, a subsidy standard's, the year out of poverty): PlausibleYear.

Year 1 and 9999 are also what breaks arithmetic: a complaint received in year 1 cannot be turned into UTC or have a
year subtracted (the intake form was a 500), and 9999-12-31 cannot have a day added.
"""

from __future__ import annotations

import datetime

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _

EARLIEST = datetime.date(2000, 1, 1)
EARLIEST_BIRTH = datetime.date(1900, 1, 1)
AHEAD_YEARS = 5

EVENT, DUE, BIRTH = "event", "due", "birth"


def _as_date(value) -> datetime.date:
    """A date, or a datetime's day where the bureau is (the day as written when it cannot be converted)."""
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            try:
                return timezone.localtime(value).date()
            except OverflowError:  # year 1 or 9999 near midnight: the day as written is as implausible
                return value.date()
        return value.date()
    return value


def latest(kind: str = EVENT, today: datetime.date | None = None) -> datetime.date:
    today = today or timezone.localdate()
    return today + relativedelta(years=AHEAD_YEARS) if kind == DUE else today


def date_error(value, kind: str = EVENT) -> str | None:
    """Why `value` (a date or datetime) cannot be a date of this kind, in the user's language; None if it can."""
    day = _as_date(value)
    earliest = EARLIEST_BIRTH if kind == BIRTH else EARLIEST
    if day < earliest:
        return _("The date %(date)s is before %(earliest)s: enter the real date.") % {
            "date": day.isoformat(),
            "earliest": earliest.isoformat(),
        }
    last = latest(kind)
    if day > last:
        if kind != DUE:
            return _("The date cannot be in the future.")
        return _("The date %(date)s is more than %(years)s years ahead: enter a date until %(latest)s.") % {
            "date": day.isoformat(),
            "years": AHEAD_YEARS,
            "latest": last.isoformat(),
        }
    return None


def check_date(field: str, value, kind: str = EVENT) -> None:
    """For services: refuse an implausible date given as an argument, as the error of `field`. None passes (whether
    the date is required is the service's own rule)."""
    if value is not None and (message := date_error(value, kind)):
        raise ValidationError({field: message}, code="implausible_date")


@deconstructible
class PlausibleDate:
    """A model field's validator: the date (or a datetime's day) is plausible for its kind (EVENT, DUE, BIRTH)."""

    def __init__(self, kind: str = EVENT):
        self.kind = kind

    def __call__(self, value) -> None:
        if value is not None and (message := date_error(value, self.kind)):
            raise ValidationError(message, code="implausible_date")

    def __eq__(self, other) -> bool:
        return isinstance(other, PlausibleDate) and other.kind == self.kind


@deconstructible
class PlausibleYear:
    """A model field's validator: a year from `earliest` to `ahead` years from now."""

    def __init__(self, earliest: int = EARLIEST.year, ahead: int = 0):
        self.earliest, self.ahead = earliest, ahead

    def bounds(self) -> tuple[int, int]:
        return self.earliest, timezone.localdate().year + self.ahead

    def __call__(self, value) -> None:
        low, high = self.bounds()
        if value is not None and not low <= value <= high:
            raise ValidationError(
                _("The year %(year)s is not plausible: enter a year from %(earliest)s to %(latest)s.")
                % {"year": value, "earliest": low, "latest": high},
                code="implausible_year",
            )

    def __eq__(self, other) -> bool:
        return isinstance(other, PlausibleYear) and (other.earliest, other.ahead) == (self.earliest, self.ahead)


event_date, due_date, birth_date = PlausibleDate(EVENT), PlausibleDate(DUE), PlausibleDate(BIRTH)
