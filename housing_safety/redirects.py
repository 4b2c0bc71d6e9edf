"""Where a page sends the user next: a `next` parameter only when it is a path of this site, else the user's home."""

from __future__ import annotations

from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from .access import Role, scope_of

# Each role's first page until the workspace issue builds a home page: the admin's index for the bureau, the pages
# each role works in for the others. URL names, so that this module imports no app.
ROLE_HOMES = {
    Role.BUREAU_ADMIN: "admin:index",
    Role.BUREAU_OFFICIAL: "admin:index",
    Role.TOWNSHIP_STAFF: "inspections:field",
    Role.HELPER: "inspections:helper",
    Role.DEPARTMENT_LIAISON: "households:lists",
    Role.COMPLAINT_CLERK: "rectification:complaints",
}


def safe_next(request, name: str = "next") -> str:
    """The request's `next` (POST, then GET) when it is a path of this site, else "" (an absolute URL, even to this
    host, and text without a slash, which redirect() would take for a URL name, are refused)."""
    value = request.POST.get(name) or request.GET.get(name) or ""
    if value.startswith("/") and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""


def home_url(user) -> str:
    """The user's home: where a login or a forced password change without a `next` lands."""
    return reverse(ROLE_HOMES.get(scope_of(user).role, "admin:index"))
