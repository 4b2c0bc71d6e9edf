"""Every error of the API in one JSON shape, in the active language (Chinese first):

    {"errors": [{"field": "village", "code": "invalid", "message": "……"}, ...]}

`field` is the request field (dotted for nested ones, "0.name" in a list) or null for the request as a whole.
A service's django ValidationError (a dict by field, or a list) is a 400 with its fields and codes, Django's
PermissionDenied a 403, Http404 a 404, a body above the pages' limit (DATA_UPLOAD_MAX_MEMORY_SIZE, which Django checks
as DRF reads a JSON or form body) a 413; DRF's own errors keep their status and headers (429's Retry-After). A 409
(conflicts.Conflict: the record changed since the offline package was taken) also carries `current`."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .conflicts import Conflict

NON_FIELD = {"non_field_errors", "__all__"}


class TooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


def _from_django(error: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(error, "error_dict"):
        detail = {
            field: [exceptions.ErrorDetail(message, code=e.code or "invalid") for e in errors for message in e]
            for field, errors in error.error_dict.items()
        }
    else:
        detail = [exceptions.ErrorDetail(message, code=e.code or "invalid") for e in error.error_list for message in e]
    return exceptions.ValidationError(detail)


def flatten(detail, field: str | None = None) -> list[dict]:
    """DRF's error detail (nested dicts and lists of ErrorDetail) as a flat list of {field, code, message}."""
    if isinstance(detail, dict):
        rows = []
        for name, inner in detail.items():
            name = None if name in NON_FIELD else str(name)
            rows += flatten(inner, name if field is None else (f"{field}.{name}" if name else field))
        return rows
    if isinstance(detail, list):
        rows = []
        for index, inner in enumerate(detail):
            nested = isinstance(inner, dict | list)
            rows += flatten(inner, (f"{field}.{index}" if field else str(index)) if nested else field)
        return rows
    return [{"field": field, "code": getattr(detail, "code", None) or "error", "message": str(detail)}]


def error_response(status_code: int, code: str, message: str, field: str | None = None, headers=None) -> Response:
    return Response(
        {"errors": [{"field": field, "code": code, "message": message}]}, status=status_code, headers=headers
    )


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = _from_django(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found, or not in your scope."))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) if exc.args else None)
    elif isinstance(exc, RequestDataTooBig):
        size = round(settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1024 / 1024, 1)
        exc = TooLarge(_("The request body is larger than %(size)s MB.") % {"size": size})
    if isinstance(exc, exceptions.Throttled):
        exc.detail = exceptions.ErrorDetail(
            _("Too many requests; try again in %(seconds)d seconds.") % {"seconds": int(exc.wait or 1)},
            code="throttled",
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a server error: Django's 500 handling and its log
    response.data = {"errors": flatten(response.data if isinstance(exc, exceptions.ValidationError) else exc.detail)}
    if response.status_code == status.HTTP_400_BAD_REQUEST and not response.data["errors"]:
        response.data = {"errors": [{"field": None, "code": "invalid", "message": _("The request is not valid.")}]}
    if isinstance(exc, Conflict):
        response.data["current"] = exc.current
    return response
