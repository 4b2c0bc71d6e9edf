"""The view kit: every page's guard (methods, login, permission) in one decorator, and the one way a page runs a
form through a service (form -> service -> the service's refusals on the form's fields)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.views.decorators.http import require_http_methods

GET = ("GET", "HEAD")
POST = ("POST",)
GET_POST = ("GET", "HEAD", "POST")


def page(*, methods: Iterable[str] = GET, permission: str | Iterable[str] | None = None) -> Callable:
    """Guard a page: a method it does not answer is a 405, an anonymous visitor goes to the login page, and a user
    without `permission` (one codename or several, all needed) gets the 403 page.

        @page(methods=GET_POST, permission="inspections.add_appraisal")
        def appraise_dwelling(request, pk): ...
    """
    allowed = list(methods)

    def decorate(view: Callable) -> Callable:
        guarded = view
        if permission:
            guarded = permission_required(permission, raise_exception=True)(guarded)
        guarded = login_required(guarded)
        guarded = require_http_methods(allowed)(guarded)
        return wraps(view)(guarded)

    return decorate


def add_errors(form, error: ValidationError) -> None:
    """Put a service's errors on the form: on their field where the form has it, otherwise on top."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def run_form(form, action: Callable[[Any], Any]) -> Any:
    """Validate the form and run `action(form)` (a service call); return its result, or None when the form or the
    service refused, with the reasons on the form (a refused service changes nothing)."""
    if not form.is_bound or not form.is_valid():
        return None
    try:
        return action(form)
    except ValidationError as error:
        add_errors(form, error)
        return None
