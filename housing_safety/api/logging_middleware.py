"""One log line per API call (logger "housing_safety.api", with the request id of housing_safety.request_id): who
(user id, key id), method, path, status, duration. A log line, not a table: the key's last use is on the key in the
admin, and the journal keeps the rest with the request id that nginx's log carries too."""

from __future__ import annotations

import logging
import time

logger = logging.getLogger("housing_safety.api")

PREFIX = "/api/"


class ApiLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(PREFIX):
            return self.get_response(request)
        started = time.monotonic()
        response = self.get_response(request)
        user = getattr(request, "user", None)
        key = getattr(request, "api_key", None)
        logger.info(
            "api %s %s %s user=%s key=%s %.1fms",
            request.method,
            request.path,
            response.status_code,
            getattr(user, "pk", None),
            getattr(key, "pk", None),
            (time.monotonic() - started) * 1000,
            extra={
                "api_method": request.method,
                "api_path": request.path,
                "api_status": response.status_code,
                "api_user": getattr(user, "pk", None),
                "api_key": getattr(key, "pk", None),
            },
        )
        return response
