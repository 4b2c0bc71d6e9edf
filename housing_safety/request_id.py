"""A request id on every log line of a request, and on its response, to find one request across hosts.

nginx passes its own `$request_id` as X-Request-ID (deploy/nginx-housing-safety.conf), so nginx's access log, the
application's log and the browser's response header carry the same id.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

from django.core.signals import request_finished
from django.dispatch import receiver

HEADER = "X-Request-ID"
# What we accept from the proxy: short, and nothing that could break a log line or a header.
_SANE = re.compile(r"[A-Za-z0-9._-]{1,64}")

current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)


class RequestIdMiddleware:
    """Takes X-Request-ID from the proxy when it looks sane, else makes a uuid4; sets it for the logs and returns
    it in the response header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(HEADER, "")
        request_id = incoming if _SANE.fullmatch(incoming) else str(uuid.uuid4())
        request.request_id = request_id
        # Cleared only when the response is closed (below): Django logs a 4xx/5xx response ("Not Found: /x") after
        # the middleware chain has returned, and that line belongs to this request too.
        current_request_id.set(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


@receiver(request_finished, dispatch_uid="housing_safety.request_id.forget")
def _forget_request_id(**kwargs) -> None:
    current_request_id.set(None)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to a record logged while a request is being handled (the JSON line gets the field; outside
    a request, e.g. in a Celery worker, there is none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = current_request_id.get()
        if request_id is not None and not hasattr(record, "request_id"):
            record.request_id = request_id
        return True
