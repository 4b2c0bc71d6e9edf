"""Complaint deadlines recomputed when a year of the holiday table is entered or changed (housing_safety.holidays).

A complaint's deadlines were counted in working days from its day of receipt. For each open complaint whose
deadlines reach into the changed year, the number of working days each deadline stood for is counted back with the
year as it was, then counted forward again with the year as it is now: the category's days as they were when the
complaint was logged, whatever the bureau has set since. The change is saved with its reason in the complaint's
history, and the handler (or, before assignment, the clerk who logged it) is told once, with the old and new dates
of all their complaints that moved.

Leads (线索移送) have no working-day deadline: their receipt is due LEAD_RECEIPT_DAYS calendar days after sending.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from housing_safety.notices import notify
from housing_safety.workdays import Calendar

from ..models import OPEN_COMPLAINT_STATUSES, Complaint

FIELDS = ["acceptance_due", "handling_due", "deadline_estimated", "updated_at"]


def _recount(before: Calendar, after: Calendar, received_on: datetime.date, due: datetime.date):
    days = before.working_days_between(received_on, due)
    return after.add_working_days(received_on, days) if days else None


def recompute_complaint_deadlines(*, year: int, before: Calendar, after: Calendar, actor, change: str) -> int:
    """Recompute the open complaints' deadlines the year touches; tell their people; how many moved. One query to
    read them, one batch of updates and history rows, one notice per person."""
    start = datetime.date(year, 1, 1)
    year_end = timezone.make_aware(datetime.datetime(year + 1, 1, 1))
    reaches = Q(handling_due__gte=start) | Q(acceptance_due__gte=start)
    candidates = (
        Complaint.objects.filter(reaches, status__in=OPEN_COMPLAINT_STATUSES, received_at__lt=year_end)
        .select_related("handler", "created_by")
        .order_by("pk")
    )
    changed, moved = [], defaultdict(list)
    for complaint in candidates:
        received_on = timezone.localdate(complaint.received_at)
        acceptance = _recount(before, after, received_on, complaint.acceptance_due)
        handling = _recount(before, after, received_on, complaint.handling_due)
        old = (complaint.acceptance_due, complaint.handling_due)
        new = (acceptance.day if acceptance else old[0], handling.day if handling else old[1])
        estimated = bool(
            (acceptance and acceptance.estimated)
            or (handling and handling.estimated)
            or after.missing_years(received_on, new[1])
        )
        if new == old and estimated == complaint.deadline_estimated:
            continue
        complaint.acceptance_due, complaint.handling_due = new
        complaint.deadline_estimated = estimated
        complaint.updated_at = timezone.now()  # bulk_update skips auto_now; an API sync must see the new deadlines
        changed.append(complaint)
        if new != old:
            person = complaint.handler if complaint.handler_id else complaint.created_by
            moved[person].append((complaint, old, new))
    if changed:
        reason = _("Deadlines recomputed with the holidays of %(year)s") % {"year": year}
        bulk_update_with_history(changed, Complaint, FIELDS, default_user=actor, default_change_reason=reason)
    for person, rows in moved.items():
        _tell(person, year, change, rows)
    return sum(len(rows) for rows in moved.values())


def _tell(person, year: int, change: str, rows) -> int:
    lines = [
        _("%(ticket)s: acceptance due %(old_acceptance)s → %(new_acceptance)s, handling due %(old_handling)s → "
          "%(new_handling)s") % {
            "ticket": complaint.ticket,
            "old_acceptance": f"{old[0]:%Y-%m-%d}",
            "new_acceptance": f"{new[0]:%Y-%m-%d}",
            "old_handling": f"{old[1]:%Y-%m-%d}",
            "new_handling": f"{new[1]:%Y-%m-%d}",
        }
        for complaint, old, new in rows
    ]  # fmt: skip
    url = rows[0][0].get_absolute_url() if len(rows) == 1 else reverse("rectification:complaints")
    return notify(
        key=f"complaint-deadlines-recomputed:{change}:{person.pk}",  # the outbox key is per e-mail
        users=[person],
        title=_("The holidays of %(year)s were entered: deadlines of your complaints moved") % {"year": year},
        body="\n".join(lines),
        url=url,
    )
