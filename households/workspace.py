"""What the registry adds to the workspace: the department lists' menu links and their to-dos."""

from __future__ import annotations

import datetime

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from housing_safety.workspace import Link, Panel, Todo

from . import selectors
from .department_lists import lists_for_user
from .models import ChangeProposal, DepartmentList, Household
from .selectors import proposals_for_user, units_nobody_can_receive

VIEW_LISTS = "households.view_departmentlist"
IMPORT_LISTS = "households.add_departmentlist"

LINKS = (
    Link("lists", _("Department lists"), "households:lists", VIEW_LISTS, icon="file-earmark-spreadsheet"),
    Link("lists", _("Reconciliation"), "households:reconciliation", VIEW_LISTS, icon="intersect"),
    Link("lists", _("Change proposals"), "households:proposals", "households.change_household", icon="pencil-square"),
)


def todos(user, today: datetime.date):
    group = _("Lists and records")
    if user.has_perm("households.change_household"):
        waiting = proposals_for_user(user).filter(status=ChangeProposal.Status.PENDING).count()
        yield Todo(
            group,
            _("Change proposals from departments to decide"),
            waiting,
            reverse("households:proposals"),
            "warning" if waiting else "muted",
        )
    if user.has_perm(VIEW_LISTS):
        counts = lists_for_user(user).aggregate(
            unconfirmed=Count("pk", filter=Q(status=DepartmentList.Status.PREVIEWED)),
        )
        url = reverse("households:lists")
        yield Todo(
            group,
            _("Lists previewed but not confirmed"),
            counts["unconfirmed"],
            url,
            "warning" if counts["unconfirmed"] else "muted",
        )
        if user.has_perm(IMPORT_LISTS):
            yield Todo(group, _("Upload a department list"), None, url, "info")


def system_todos(user, today: datetime.date):
    """The bureau administrator's: units a notice reaches nobody at (no address, no active person), so their
    overdue items wait unannounced until someone can receive them."""
    if not user.has_perm("households.change_unit"):
        return
    count = units_nobody_can_receive().count()
    yield Todo(
        pgettext_lazy("menu section", "System"),
        _("Units nobody can be notified at"),
        count,
        reverse("admin:households_unit_changelist") + "?notices=nobody",
        "danger" if count else "muted",
        _("Give each an e-mail address or an active person."),
    )
    # The plan's "牵头单位按季度报市纪委监委": while the commission has no address, the lead report cannot reach it.
    recipient = selectors.lead_report_recipient()  # one query: the unit, read for its address and its link
    if recipient is None or not recipient.is_active or not recipient.email:
        yield Todo(
            pgettext_lazy("menu section", "System"),
            _("The discipline commission has no e-mail address"),
            None,
            reverse("admin:households_unit_change", args=[recipient.pk])
            if recipient
            else reverse("admin:households_unit_changelist"),
            "danger",
            _("The quarterly lead report cannot reach it: enter its address."),
        )


HISTORY_ROWS = 15


def household_history_panel(user, household):
    """The household's page: the history of changes to its record (who, when, what), newest first."""
    if not user.has_perm("households.view_household"):
        return None
    changes = household.history.select_related("history_user").order_by("-history_date")[: HISTORY_ROWS + 1]
    rows = list(changes)
    entries = []
    for newer, older in zip(rows, [*rows[1:], None], strict=True):
        if len(entries) == HISTORY_ROWS:
            break
        fields = [] if older is None else [change.field for change in newer.diff_against(older).changes]
        entries.append(
            {
                "at": newer.history_date,
                "by": newer.history_user,
                "type": newer.get_history_type_display(),
                "fields": [str(Household._meta.get_field(name).verbose_name) for name in fields if _shown(name)],
                "reason": newer.history_change_reason or "",
            }
        )
    return Panel(_("History of changes"), "households/_history_panel.html", {"entries": entries})


def _shown(field: str) -> bool:
    try:
        Household._meta.get_field(field)
    except FieldDoesNotExist:  # a field only the history has
        return False
    return True
