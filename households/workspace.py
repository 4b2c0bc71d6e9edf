"""What the registry adds to the workspace: the department lists' menu links and their to-dos."""

from __future__ import annotations

import datetime

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from housing_safety.workspace import Link, Todo

from .department_lists import lists_for_user
from .models import ChangeProposal, DepartmentList
from .selectors import proposals_for_user

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
