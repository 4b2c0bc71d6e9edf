"""What the housing-safety pages add to the workspace: their menu links and the to-dos of the home."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from households.selectors import search_households
from housing_safety.access import Role, scope_of
from housing_safety.workspace import SEARCH_LIMIT, Link, SearchGroup, SearchHit, Todo, figures_for, maintained_note

from . import selectors
from .models import HelperReport, Revisit
from .selectors import HousingStatus

VIEW_HOUSEHOLDS = "households.view_household"

LINKS = (
    Link("households", _("Find a household"), "inspections:field", VIEW_HOUSEHOLDS, icon="search"),
    Link(
        "households",
        _("My households"),
        "inspections:helper",
        "inspections.add_helperreport",
        roles=frozenset({Role.HELPER}),
        icon="people",
    ),
    Link("households", _("Overdue appraisals"), "inspections:overdue", VIEW_HOUSEHOLDS, icon="alarm"),
    Link("households", _("Dangerous houses"), "inspections:dangerous", VIEW_HOUSEHOLDS, icon="exclamation-triangle"),
    Link("households", _("Housing-security status"), "inspections:status", VIEW_HOUSEHOLDS, icon="bar-chart"),
    Link("households", _("Revisits"), "inspections:revisits", "inspections.view_revisit", icon="arrow-repeat"),
    Link(
        "households",
        _("Helpers' reports"),
        "inspections:reports",
        "inspections.change_helperreport",
        icon="chat-left-text",
    ),
    Link(
        "households",
        _("Placard coverage"),
        "inspections:placard-coverage",
        "inspections.view_placard",
        icon="signpost-2",
    ),
    Link(
        "households",
        _("Revolutionary base villages"),
        "inspections:base-villages",
        "inspections.view_basevillagelist",
        icon="flag",
    ),
)


def todos(user, today: datetime.date):
    group = _("Appraisals and revisits")
    if scope_of(user).role == Role.HELPER:
        yield from _helper_todos(user)
        return
    maintained = figures_for(user, today)  # the dashboard's figures of the user's scope, or None: counted here
    note = maintained_note(maintained)
    if user.has_perm(VIEW_HOUSEHOLDS):
        households = selectors.covered_households_for_user(user, today)
        due_soon = selectors.appraisal_due_soon(today)
        if maintained:
            counts = {
                "overdue": maintained.values["appraisal_overdue"],
                "dangerous": maintained.values[f"status_{HousingStatus.DANGEROUS}"],
                "due_soon": households.filter(due_soon).count(),  # a week's registrations: an index range
            }
        else:
            counts = households.aggregate(
                overdue=Count("pk", filter=selectors.appraisal_overdue(today)),
                due_soon=Count("pk", filter=due_soon),
                dangerous=Count("pk", filter=selectors.status_filter(HousingStatus.DANGEROUS, today)),
            )
        overdue_url = reverse("inspections:overdue")
        yield Todo(
            group,
            _("Appraisals overdue"),
            counts["overdue"],
            overdue_url,
            _tone(counts["overdue"], "danger"),
            note=note,
        )
        yield Todo(
            group,
            _("Appraisals due within 7 days"),
            counts["due_soon"],
            f"{overdue_url}?within={selectors.DUE_SOON_DAYS}",
            _tone(counts["due_soon"], "warning"),
        )
        yield Todo(
            group,
            _("Dangerous houses"),
            counts["dangerous"],
            reverse("inspections:dangerous"),
            _tone(counts["dangerous"], "danger"),
            note=note,
        )
    if user.has_perm("inspections.view_revisit"):
        if maintained:
            revisits = {
                "pending": maintained.values["revisits_pending"],
                "overdue": maintained.values["revisits_overdue"],
            }
        else:
            revisits = selectors.revisits_for_user(user).aggregate(
                pending=Count("pk", filter=Q(status=Revisit.Status.PENDING)),
                overdue=Count("pk", filter=selectors.revisit_overdue(today)),
            )
        url = reverse("inspections:revisits")
        yield Todo(
            group, _("Revisits overdue"), revisits["overdue"], url, _tone(revisits["overdue"], "danger"), note=note
        )
        yield Todo(group, _("Revisits to do"), revisits["pending"], url, _tone(revisits["pending"], "info"), note=note)
    if user.has_perm("inspections.change_helperreport"):
        waiting = selectors.helper_reports_for_user(user).filter(handled_at__isnull=True).count()
        yield Todo(
            group, _("Helpers' reports not handled"), waiting, reverse("inspections:reports"), _tone(waiting, "warning")
        )


def _helper_todos(user):
    group = _("My households")
    households = selectors.covered_households_for_user(user).count()
    reports = HelperReport.objects.filter(reported_by=user).aggregate(
        total=Count("pk"), open=Count("pk", filter=Q(handled_at__isnull=True))
    )
    yield Todo(group, _("Households I help: report a problem"), households, reverse("inspections:helper"), "info")
    yield Todo(
        group,
        _("My reports the township has not handled yet"),
        reports["open"],
        reverse("inspections:helper"),
        _tone(reports["open"], "warning"),
        note=ngettext("%(count)d report in all", "%(count)d reports in all", reports["total"])
        % {"count": reports["total"]},
    )


def _tone(count: int, tone: str) -> str:
    return tone if count else "muted"


def search(user, term: str):
    """The search box: households in the user's scope by the head's or village's name (numbers as the security rules
    allow: households.selectors.search_households)."""
    if not (user.has_perm(VIEW_HOUSEHOLDS) or scope_of(user).role == Role.HELPER):
        return
    found = search_households(user, selectors.covered_households_for_user(user), term)
    hits = [
        SearchHit(
            h.head_name, f"{h.village.township.name} {h.village.name}", reverse("inspections:household", args=[h.pk])
        )
        for h in found.select_related("village__township").order_by("village_id", "head_name", "pk")[:SEARCH_LIMIT]
    ]
    more = f"{reverse('inspections:field')}?{urlencode({'q': term})}" if user.has_perm(VIEW_HOUSEHOLDS) else ""
    yield SearchGroup(_("Households"), hits, more)
