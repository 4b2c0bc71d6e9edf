"""Rate limits in the shared cache (Redis in production and CI): per key for systems (API_KEY_RATE), per person for
sessions (API_USER_RATE). Over the limit: 429 with Retry-After (exceptions.py words it)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from ..models import ApiKey


class ApiKeyThrottle(SimpleRateThrottle):
    scope = "api_key"

    def get_rate(self):
        return settings.API_KEY_RATE

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiKey):
            return None
        return f"api-throttle:key:{request.auth.pk}"


class ApiUserThrottle(SimpleRateThrottle):
    scope = "api_user"

    def get_rate(self):
        return settings.API_USER_RATE

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiKey) or not (request.user and request.user.is_authenticated):
            return None
        return f"api-throttle:user:{request.user.pk}"
