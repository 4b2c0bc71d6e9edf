"""Who calls: a system with `Authorization: Api-Key <key>` (or `Bearer <key>`), acting as the key's system account;
a person through their session (the field app), with Django's CSRF check on every write."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from . import keys

SCHEMES = ("api-key", "bearer")


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key <key>`; an unknown, expired or revoked key is a 401 (the same answer for all three, so
    a caller learns nothing about other keys). Without the header, the next class (the session) is tried."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _sep, plain = header.strip().partition(" ")
        if scheme.lower() not in SCHEMES:
            return None
        key = keys.find_key(plain.strip())
        if key is None:
            raise exceptions.AuthenticationFailed(_("The API key is unknown, expired or revoked."))
        keys.touch(key)
        request._request.api_key = key  # for the call's log line (logging_middleware)
        return key.user, key

    def authenticate_header(self, request) -> str:
        return 'Api-Key realm="api"'  # a 401, not a 403, to a caller without credentials


class SessionAuthentication(authentication.SessionAuthentication):
    """A signed-in person (the field app in the browser): the page's session, its CSRF token on writes."""
