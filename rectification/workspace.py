"""What rectification adds to the workspace: problems, renovation cases, complaints and leads in the menu, and the
to-dos of the home (each count links to the list that shows the same records)."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from households.identity import half_width
from housing_safety.workspace import (
    SEARCH_LIMIT,
    Link,
    Panel,
    SearchGroup,
    SearchHit,
    Todo,
    figures_for,
    maintained_note,
)

from . import lead_returns, selectors
from .models import CaseStatus, ComplaintStatus, Problem
from .models.complaints import LeadQuarterReturn

LINKS = (
    Link("rectification", _("Problem list"), "rectification:problems", "rectification.view_problem", icon="list-check"),
    Link(
        "rectification",
        _("Renovation cases"),
        "rectification:cases",
        "rectification.view_renovationcase",
        icon="hammer",
    ),
    Link(
        "rectification",
        _("Complaints"),
        "rectification:complaints",
        "rectification.view_complaint",
        icon="telephone-inbound",
    ),
    Link("rectification", _("Lead transfers"), "rectification:leads", "rectification.view_leadtransfer", icon="send"),
)


def _tone(count: int, tone: str) -> str:
    return tone if count else "muted"


def todos(user, today: datetime.date):
    yield from _problem_todos(user, today)
    yield from _case_todos(user, today)
    yield from _complaint_todos(user, today)
    yield from _lead_return_todos(user, today)


def _problem_todos(user, today):
    if not user.has_perm("rectification.view_problem"):
        return
    group = _("Problems and renovation")
    counts = selectors.problems_for_user(user).aggregate(
        open=Count("pk", filter=Q(status__in=Problem.OPEN_STATUSES)),
        overdue=Count("pk", filter=selectors.problem_overdue(today)),
        resolved=Count("pk", filter=Q(status=Problem.Status.RESOLVED)),
        unowned=Count("pk", filter=selectors.problem_unowned()),
    )
    url = reverse("rectification:problems")
    if user.has_perm("rectification.change_problem"):
        yield Todo(
            group, _("Problems overdue"), counts["overdue"], f"{url}?status=overdue", _tone(counts["overdue"], "danger")
        )
        yield Todo(group, _("Problems open"), counts["open"], f"{url}?status=unresolved", _tone(counts["open"], "info"))
        # The plan's "明确时间表和责任人": a problem without its responsible person is the township's to fill in.
        yield Todo(
            group,
            _("Problems without a responsible person or deadline"),
            counts["unowned"],
            f"{url}?status=unowned",
            _tone(counts["unowned"], "warning"),
        )
    if user.has_perm("rectification.verify_problem"):
        yield Todo(
            group,
            _("Problems waiting for verification"),
            counts["resolved"],
            f"{url}?status=resolved",
            _tone(counts["resolved"], "warning"),
        )


def _case_todos(user, today):
    if not user.has_perm("rectification.view_renovationcase"):
        return
    group = _("Problems and renovation")
    cases = selectors.cases_for_user(user)
    url = reverse("rectification:cases")
    if user.has_perm("rectification.advance_case"):
        if maintained := figures_for(user, today):  # the dashboard's figure: the province's dwellings not counted
            without = maintained.values["dangerous_without_case"]
        else:
            without = selectors.dangerous_without_case_for_user(user).count()
        yield Todo(
            group,
            _("Dangerous houses without a renovation case"),
            without,
            reverse("rectification:dangerous-without-case"),
            _tone(without, "danger"),
            note=maintained_note(maintained),
        )
    if user.has_perm("rectification.approve_case"):
        waiting = cases.filter(status=CaseStatus.TOWNSHIP_REVIEWED).count()
        yield Todo(
            group,
            _("Cases waiting for the bureau's approval"),
            waiting,
            f"{url}?status={CaseStatus.TOWNSHIP_REVIEWED}",
            _tone(waiting, "warning"),
        )
    stalled = selectors.stalled_cases(cases, today).count()
    yield Todo(group, _("Cases stalled"), stalled, f"{url}?stalled=1", _tone(stalled, "danger"))


def _complaint_todos(user, today):
    if not user.has_perm("rectification.view_complaint"):
        return
    group = _("Complaints")
    complaints = selectors.complaints_for_user(user)
    url = reverse("rectification:complaints")
    if user.has_perm("rectification.manage_complaint"):
        new = complaints.filter(status=ComplaintStatus.RECEIVED).count()
        overdue = selectors.overdue_complaints(complaints, today).count()
        yield Todo(
            group, _("New complaints to accept"), new, f"{url}?status={ComplaintStatus.RECEIVED}", _tone(new, "warning")
        )
        yield Todo(group, _("Complaints overdue"), overdue, f"{url}?show=overdue", _tone(overdue, "danger"))
    if user.has_perm("rectification.handle_complaint"):
        mine = complaints.filter(handler=user, status__in=[ComplaintStatus.ASSIGNED, ComplaintStatus.HANDLING]).count()
        yield Todo(group, _("Complaints assigned to me"), mine, f"{url}?show=mine", _tone(mine, "warning"))
    if user.has_perm("rectification.add_complaint"):
        yield Todo(group, _("Log a complaint"), None, reverse("rectification:complaint-new"), "info")


def _lead_return_todos(user, today):
    """A liaison's unit files its quarter's lead figures while the window is open (the quarter's last days until
    the bureau's report goes out): one line until it is filed. One query, in the window or not."""
    if not user.has_perm("rectification.add_leadquarterreturn"):
        return
    window = lead_returns.filing_window(today)
    year, quarter = (window.year, window.quarter) if window else lead_returns.shown_quarter(today)
    unit = (
        lead_returns.return_units_for_user(user)
        .annotate(filed=Exists(LeadQuarterReturn.objects.filter(unit=OuterRef("pk"), year=year, quarter=quarter)))
        .first()
    )
    if unit is None or window is None or unit.filed:
        return
    late = today > window.due_on
    yield Todo(
        _("Lead transfers"),
        _("This quarter's lead transfers (%(year)s Q%(quarter)s) to file") % {"year": year, "quarter": quarter},
        None,
        reverse("rectification:lead-return", args=[year, quarter, unit.pk]),
        "danger" if late else "warning",
        note=_("Due on %(date)s") % {"date": formats.date_format(window.due_on, "SHORT_DATE_FORMAT")},
    )


def search(user, term: str):
    """The search box: complaints by ticket (however typed), content or place, and for the complaint desk by the
    reporter; renovation cases by number (GZ…) or the head's name."""
    if user.has_perm("rectification.view_complaint"):
        found = selectors.search_complaints(user, selectors.complaints_for_user(user), term)
        hits = [
            SearchHit(
                c.ticket,
                f"{c.get_category_display()} · {c.get_status_display()} · {c.township.name}",
                c.get_absolute_url(),
            )
            for c in found.order_by("-received_at", "-pk")[:SEARCH_LIMIT]
        ]
        yield SearchGroup(_("Complaints"), hits, f"{reverse('rectification:complaints')}?{urlencode({'q': term})}")
    if user.has_perm("rectification.view_renovationcase"):
        cases = selectors.cases_for_user(user)
        number = half_width(term).strip().upper()
        if number.startswith("GZ"):
            cases = cases.filter(number__contains=number)
        else:
            cases = cases.filter(household__head_name__icontains=number)
        hits = [
            SearchHit(case.number, f"{case.household.head_name} · {case.get_status_display()}", case.get_absolute_url())
            for case in cases.select_related("household").order_by("-programme_year", "number")[:SEARCH_LIMIT]
        ]
        yield SearchGroup(_("Renovation cases"), hits)


def household_panel(user, household):
    """The household's page: its problems, renovation cases and complaints, as far as the user may see them."""
    parts = {
        "problems": list(
            selectors.problems_for_user(user).filter(household=household).order_by("-deadline")[:RECORD_ROWS]
        )
        if user.has_perm("rectification.view_problem")
        else [],
        "cases": list(selectors.cases_for_user(user).filter(household=household).order_by("-programme_year", "-pk"))
        if user.has_perm("rectification.view_renovationcase")
        else [],
        "complaints": list(
            selectors.complaints_for_user(user).filter(household=household).order_by("-received_at")[:RECORD_ROWS]
        )
        if user.has_perm("rectification.view_complaint")
        else [],
    }
    if not any(user.has_perm(f"rectification.view_{name}") for name in ("problem", "renovationcase", "complaint")):
        return None
    return Panel(_("Problems, renovation and complaints"), "rectification/_household_panel.html", parts)


RECORD_ROWS = 20
