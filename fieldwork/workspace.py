"""What the field app adds to the workspace: its entry in the menu and on the home of the people who work in the
villages (township staff and helpers), so that it is found without knowing its address."""

from __future__ import annotations

import datetime

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from housing_safety.access import FIELD_APP_ROLES, Role, scope_of
from housing_safety.workspace import Link, Todo

LINKS = (Link("households", _("Offline field work"), "fieldwork:app", roles=FIELD_APP_ROLES, icon="phone"),)


def todos(user, today: datetime.date):
    """One action on the home, in the card of the work it serves (the helper's households, the township's
    appraisals and revisits): the app opens with the package to take before leaving for a village."""
    role = scope_of(user).role
    if role not in FIELD_APP_ROLES:
        return
    group = _("My households") if role == Role.HELPER else _("Appraisals and revisits")
    yield Todo(
        group,
        _("Offline field work: take a work package before going where there is no signal"),
        None,
        reverse("fieldwork:app"),
    )
