"""What a caller may do on a view: the key's scope for the view's resource, and the Django permissions the pages
require (the same for a key's system account and for a person)."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, permissions

from ..models import ApiKey
from .resources import RESOURCES, scope_for


def _perms(value) -> tuple[str, ...]:
    return () if not value else (value,) if isinstance(value, str) else tuple(value)


class ScopedPermission(permissions.BasePermission):
    """Signed in (key or session); with a key, its scopes hold `read:<api_resource>` for GET/HEAD/OPTIONS and
    `write:<api_resource>` for the other methods; and the user holds the view's `api_permission` (reads) or
    `api_write_permission` (writes, refused when the view declares none)."""

    message = _("You do not have permission for this action.")

    def has_permission(self, request, view) -> bool:
        resource = getattr(view, "api_resource", None)
        if resource not in RESOURCES:
            raise ImproperlyConfigured(f"{type(view).__name__}.api_resource names no registered resource: {resource!r}")
        if not (request.user and request.user.is_authenticated):
            raise exceptions.NotAuthenticated()
        write = request.method not in permissions.SAFE_METHODS
        if isinstance(request.auth, ApiKey) and scope_for(resource, write=write) not in request.auth.scopes:
            raise exceptions.PermissionDenied(
                _("This API key has no scope “%(scope)s”.") % {"scope": scope_for(resource, write=write)},
                code="scope",
            )
        needed = _perms(getattr(view, "api_write_permission", None) if write else getattr(view, "api_permission", None))
        if write and not needed:
            return False
        return all(request.user.has_perm(permission) for permission in needed)
