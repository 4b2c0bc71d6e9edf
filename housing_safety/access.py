"""Cross-cutting access rules: the roles, what each may do, and which rows a user may reach.

Permissions (what a role may do) live in ROLE_PERMISSIONS, the single table from which the role groups
are synced after every migrate. Scope (which rows) is `scope_of(user)`; every app's selectors turn a
scope into a queryset filter, and nothing else decides row access.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext_lazy as _

PERSONAL_DATA_PERMISSION = "households.view_personal_data"


class Role(models.TextChoices):
    BUREAU_ADMIN = "bureau_admin", _("Bureau administrator")
    BUREAU_OFFICIAL = "bureau_official", _("Bureau official")
    TOWNSHIP_STAFF = "township_staff", _("Township staff")
    DEPARTMENT_LIAISON = "department_liaison", _("Department liaison")
    COMPLAINT_CLERK = "complaint_clerk", _("Complaint clerk")
    HELPER = "helper", _("Assigned helper")


def _crud(app: str, *models_: str, actions=("add", "change", "view")) -> set[str]:
    return {f"{app}.{action}_{model}" for model in models_ for action in actions}


_REGISTRY = ("township", "village", "unit", "household", "dwelling", "attachment")
_SAFETY = ("securedhousing", "placard")
_CASE_RECORDS = ("casetransition", "casedocument", "subsidypayment", "documentkind", "subsidystandard")
# Complaints: the clerk (and bureau admin) log and steer them and see the reporter; handlers only handle.
_COMPLAINT_DESK = (
    _crud("rectification", "complaint", "leadtransfer")
    | {"rectification.view_complainttransition", "rectification.view_complaintdeadline"}
    | {"rectification.manage_complaint", "rectification.view_reporter"}
    | {"rectification.view_leadquarterreturn"}  # the units' quarterly lead returns, which the lead report reads
    | {"households.add_attachment"}  # photos and scans that come with a complaint
)

# Reports: the bureau reads every unit's reports, the consolidated reports and the overdue lists; a unit's people
# fill in and submit their own unit's.
_REPORTS_BUREAU = _crud("reporting", "monthlyreport", "consolidatedreport", "overdueitem", actions=("view",)) | {
    "reporting.view_dashboard"
}
_REPORTS_UNIT = {"reporting.view_monthlyreport", "reporting.submit_monthlyreport"}
# 五月提交龙岩市审核: the bureau records the year's sending to Longyan, its files, and Longyan's answer.
_SUBMISSION_BUREAU = _crud("reporting", "datasubmission")

# The province's list of base villages (省定革命基点村): the bureau's administrators and officials load it, which
# marks the villages and launches their one-off survey; the survey's registrations are its audit.
_BASE_VILLAGES = _crud("inspections", "basevillagelist", actions=("add", "view")) | {
    "inspections.view_basevillageregistration"
}

ROLE_PERMISSIONS: dict[str, set[str]] = {
    Role.BUREAU_ADMIN: (
        _crud("households", *_REGISTRY, "userprofile")
        | {"households.delete_village", PERSONAL_DATA_PERMISSION}
        | _crud("auth", "user")
        | {"auth.view_group"}
        | {"axes.view_accessattempt", "axes.delete_accessattempt", "axes.view_accesslog"}  # lift a login lockout
        | {"housing_safety.view_personaldataaccess"}  # the audit of who saw whose personal data
        | _crud("housing_safety", "apikey")  # issues and revokes the API keys of the systems calling the API
        | _crud("django_celery_beat", "periodictask", "crontabschedule", actions=("add", "change", "view", "delete"))
        | _crud("inspections", "appraisal", actions=("add", "view"))
        | _crud("inspections", *_SAFETY, "campaign")
        | _crud("inspections", "revisit", "helperreport", actions=("change", "view"))
        | _crud("rectification", "problem")
        | {"rectification.verify_problem", "rectification.view_problemtransition"}
        | _crud("inspections", "spotcheck")
        | _crud("inspections", "spotcheckitem", actions=("change", "view"))
        | _crud("inspections", "guidanceassignment", actions=("add", "change", "view", "delete"))  # 包片负责分工
        # Renovation: the bureau approves, accepts, pays and archives, configures kinds and standards, overrides;
        # its administrators may also record a township's step (the only way to override a document missing there).
        | _crud("rectification", "renovationcase")
        | {"rectification.advance_case"}
        | _crud("rectification", *_CASE_RECORDS, actions=("view",))
        | _crud("rectification", "documentkind", "subsidystandard")
        | {f"rectification.{p}" for p in ("approve_case", "complete_case", "override_case_rules")}
        | _COMPLAINT_DESK
        | _crud("rectification", "complaintdeadline")
        | _crud("rectification", "campaignphase")  # the plan's work phases, year by year
        | {"rectification.handle_complaint"}
        | _REPORTS_BUREAU
        | _SUBMISSION_BUREAU
        | {"reporting.submit_monthlyreport"}  # the bureau's own unit report, for admins whose profile names it
        | _crud("housing_safety", "outgoingemail", actions=("change", "view"))
        | _crud("housing_safety", "webhooksubscription")  # systems told of events (housing_safety.webhooks)
        | _crud("housing_safety", "webhookdelivery", actions=("change", "view"))  # change: send given-up ones again
        | _crud("housing_safety", "holidayyear", "holidayday")  # the State Council's holidays, year by year
        | _crud("households", "departmentlist", actions=("add", "view"))
        | _crud("households", "columnmapping")
        | _BASE_VILLAGES
    ),
    Role.BUREAU_OFFICIAL: _crud("households", *_REGISTRY, actions=("view",))
    | _crud("inspections", "appraisal", *_SAFETY, "campaign", "revisit", "helperreport", actions=("view",))
    | _crud("rectification", "problem", "problemtransition", actions=("view",))
    # 包片: the bureau's officials guide their townships and draw and verify the spot checks there (phase 二)
    | _crud("inspections", "spotcheck")
    | _crud("inspections", "spotcheckitem", actions=("change", "view"))
    | {"inspections.view_guidanceassignment"}
    | {"rectification.verify_problem"}
    | _crud("rectification", "renovationcase", *_CASE_RECORDS, actions=("view",))
    | {"rectification.approve_case"}
    | _crud("rectification", "complaint", "complainttransition", "leadtransfer", actions=("view",))
    | {"rectification.view_leadquarterreturn"}
    | {"rectification.handle_complaint"}
    | _REPORTS_BUREAU
    | _SUBMISSION_BUREAU
    | {"households.view_departmentlist"}
    | _BASE_VILLAGES,
    Role.TOWNSHIP_STAFF: (
        _crud("households", "township", "village", "unit", actions=("view",))
        | _crud("households", "household", "dwelling", "attachment")
        | {PERSONAL_DATA_PERMISSION}
        | _crud("inspections", "appraisal", actions=("add", "view"))
        | _crud("inspections", *_SAFETY)
        | _crud("inspections", "campaign", actions=("view",))
        | _crud("inspections", "revisit", "helperreport", actions=("change", "view"))
        | _crud("rectification", "problem")
        | {"rectification.view_problemtransition"}
        # Renovation: the township opens cases and runs them to its review, then agreement and construction.
        | _crud("rectification", "renovationcase")
        | _crud("rectification", *_CASE_RECORDS, actions=("view",))
        | {"rectification.advance_case"}
        | _crud("rectification", "complaint", "complainttransition", actions=("view",))
        | {"rectification.handle_complaint"}
        | _REPORTS_UNIT
        | {"reporting.view_dashboard"}
    ),
    Role.DEPARTMENT_LIAISON: _crud(
        "households", "township", "village", "unit", "household", "dwelling", actions=("view",)
    )
    | _crud("inspections", "appraisal", actions=("view",))
    | _crud("rectification", "leadtransfer")  # their own unit's leads
    | _crud("rectification", "leadquarterreturn")  # and its quarterly lead return
    | _REPORTS_UNIT
    | _crud("households", "departmentlist", actions=("add", "view")),  # their own department's lists
    Role.COMPLAINT_CLERK: _crud("households", "township", "village", "household", "dwelling", actions=("view",))
    | _crud("inspections", "appraisal", "placard", actions=("view",))
    | _COMPLAINT_DESK,
    # A helper sees only the households assigned to them, so seeing those families' phones is their job.
    Role.HELPER: (
        _crud("households", "township", "village", "household", "dwelling", "attachment", actions=("view",))
        | {PERSONAL_DATA_PERMISSION}
        | _crud("inspections", "appraisal", "placard", actions=("view",))
        | _crud("inspections", "helperreport", actions=("add", "view"))
        | {"households.add_attachment"}  # photos with their reports
    ),
}


def sync_role_groups(sender=None, **kwargs) -> None:
    """Give each role's group exactly the permissions of ROLE_PERMISSIONS (idempotent)."""
    from django.apps import apps
    from django.contrib.auth.models import Group, Permission

    # post_migrate fires once per app with models; wait for the last one, when every permission exists.
    last_app = [config for config in apps.get_app_configs() if config.models_module][-1]
    if sender is not None and sender.name != last_app.name:
        return
    permissions = {
        f"{p.content_type.app_label}.{p.codename}": p for p in Permission.objects.select_related("content_type")
    }
    for role, codes in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        unknown = codes - permissions.keys()
        if unknown:
            raise LookupError(f"ROLE_PERMISSIONS names unknown permissions: {sorted(unknown)}")
        group.permissions.set([permissions[code] for code in codes])


@dataclass(frozen=True)
class Scope:
    """Which rows a user may reach. `everything` wins; otherwise the role's single criterion applies."""

    role: str | None = None
    everything: bool = False
    township_ids: frozenset[int] = field(default_factory=frozenset)
    unit_id: int | None = None
    helper_user_id: int | None = None
    # For the shell's header only (who is signed in, where): read with the profile, never used to filter rows.
    township_names: tuple[str, ...] = ()
    unit_name: str = ""

    def covers_township(self, township_id: int | None) -> bool:
        return self.everything or township_id in self.township_ids


ALL_ROWS_ROLES = {Role.BUREAU_ADMIN, Role.BUREAU_OFFICIAL, Role.COMPLAINT_CLERK}


def scope_is_cached(user) -> bool:
    """Whether this user object already carries its scope (read by the page itself): then it costs nothing."""
    return getattr(user, "_housing_scope", None) is not None


def scope_of(user) -> Scope:
    """The user's scope, computed once per user object (one query for the profile and townships)."""
    cached = getattr(user, "_housing_scope", None)
    if cached is not None:
        return cached
    scope = _compute_scope(user)
    if getattr(user, "pk", None):
        user._housing_scope = scope
    return scope


def _compute_scope(user) -> Scope:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope()
    if user.is_superuser:
        return Scope(role=Role.BUREAU_ADMIN, everything=True)
    return _PROFILE_SCOPE[0](user) if _PROFILE_SCOPE else Scope()


# A user's scope is their profile's, and the profile's own rule computes it (households.models.UserProfile): the app
# owning profiles registers that rule in its AppConfig.ready, so that scope and profile live together and this bottom
# layer imports no app. Until then, and for a user without a profile, a user reaches nothing.
_PROFILE_SCOPE: list[Callable[[object], Scope]] = []


def register_profile_scope(reader: Callable[[object], Scope]) -> None:
    """`reader(user)`: the scope of a signed-in, active user who is not a superuser."""
    _PROFILE_SCOPE[:] = [reader]


class ScopeReader:
    """A reader that is not a login: a role's permissions over a fixed scope.

    Scheduled jobs and unit reports read through the same selectors as the pages, so the figures a township's
    report carries are exactly what its staff see, and no job carries a second copy of the scope rules.
    """

    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_superuser = False
    pk = None

    def __init__(self, scope: Scope):
        self._housing_scope = scope  # what scope_of(reader) returns
        self._permissions = ROLE_PERMISSIONS[scope.role]

    def has_perm(self, permission: str, obj=None) -> bool:
        return permission in self._permissions

    def __str__(self) -> str:
        return "system"


SYSTEM = ScopeReader(Scope(role=Role.BUREAU_ADMIN, everything=True))


def reader_for_unit(unit) -> ScopeReader:
    """What a responsible unit's own people see: a township's staff, a department's liaison, the whole bureau."""
    if unit.kind == "township":
        return ScopeReader(Scope(role=Role.TOWNSHIP_STAFF, township_ids=frozenset({unit.township_id})))
    if unit.kind == "department":
        return ScopeReader(Scope(role=Role.DEPARTMENT_LIAISON, unit_id=unit.pk))
    return SYSTEM


def narrowed_to_township(user, township_id: int) -> ScopeReader:
    """The records of one township of the user's scope, read as that township's staff read them: counting one
    township without grouping the whole city. Outside the user's scope it is a 404."""
    from django.http import Http404

    if not scope_of(user).covers_township(township_id):
        raise Http404
    return ScopeReader(Scope(role=Role.TOWNSHIP_STAFF, township_ids=frozenset({township_id})))


# The people who work in the villages: the offline field app (fieldwork/) is theirs, and its entries are shown to
# them only (a city-wide role has the office's pages and no package to take).
FIELD_APP_ROLES = frozenset({Role.TOWNSHIP_STAFF, Role.HELPER})


def uses_field_app(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and scope_of(user).role in FIELD_APP_ROLES


def can_view_personal_data(user) -> bool:
    return bool(user and user.has_perm(PERSONAL_DATA_PERMISSION))


def require_perm(user, permission: str) -> None:
    """A write without the role's permission is a 403, whichever path (admin, page, import, task) attempts it."""
    if not user.has_perm(permission):
        raise PermissionDenied(_("You do not have permission for this action."))


def ensure_can_write_in_township(user, township_id: int | None) -> None:
    """Writes are allowed only inside the user's scope; anything else is a 403."""
    if not scope_of(user).covers_township(township_id):
        raise PermissionDenied(_("You may only change records of your own township."))
