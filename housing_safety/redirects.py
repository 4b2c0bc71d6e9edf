"""Where a page sends the user next: a `next` parameter only when it is a path of this site, else the user's home."""

from __future__ import annotations

from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, name: str = "next") -> str:
    """The request's `next` (POST, then GET) when it is a path of this site, else "" (an absolute URL, even to this
    host, and text without a slash, which redirect() would take for a URL name, are refused)."""
    value = request.POST.get(name) or request.GET.get(name) or ""
    if value.startswith("/") and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""


def home_url() -> str:
    """The home (工作台), every role's: where a login or a forced password change without a `next` lands."""
    return reverse("home")
