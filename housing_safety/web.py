"""The view kit: every page's guard (methods, login, permission) in one decorator, and the one way a page runs a
form through a service (form -> service -> the service's refusals on the form's fields)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.views.decorators.http import require_http_methods

from . import held_files

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


def run_form(form, action: Callable[[Any], Any], *, request=None) -> Any:
    """Validate the form and run `action(form)` (a service call); return its result, or None when the form or the
    service refused, with the reasons on the form (a refused service changes nothing).

    With `request`, a form with file inputs keeps the files it received when it is refused, for this person's next
    submit (housing_safety.held_files): nobody picks a photo twice because another field was missing."""
    holds = request is not None and bool(held_files.file_fields(form))
    if holds:
        held_files.attach(request, form)
    if not form.is_bound:
        return None
    result = None
    if not (holds and held_files.refuse_foreign(form)) and form.is_valid():
        try:
            result = action(form)
        except ValidationError as error:
            add_errors(form, error)
    if holds:
        if result is None:
            held_files.keep(form)
        else:
            held_files.release(form)
    return result


FORM, CONFIRM, DONE, GONE = "form", "confirm", "done", "gone"


def confirm_form(request, form, action: Callable[[Any], Any]) -> tuple[str, Any]:
    """A record that cannot be changed afterwards is shown for confirmation before it is written.

    Returns (state, result). FORM: show the form (empty, refused, or sent back by the confirmation page's "back" with
    every value and file). CONFIRM: the form is valid; nothing is written, its files are held and a marker waits
    (show `form.held.hidden_inputs()` on a page with "confirm" and "back" buttons). DONE: the confirmation's submit
    ran `action` once (its result). GONE: the confirmation was already used (a second click) or waited too long:
    nothing was written; say so and show the record's page.
    """
    held_files.attach(request, form)
    if not form.is_bound:
        return FORM, None
    if "confirm" in form.data:
        if getattr(form, "held_refused", None):
            return GONE, None
        if not form.is_valid():
            held_files.keep(form)
            return FORM, None
        with transaction.atomic():
            if not held_files.consume(form):
                return GONE, None
            try:
                result = action(form)
            except ValidationError as error:
                transaction.set_rollback(True)  # the marker stays: the corrected form is confirmed again
                add_errors(form, error)
                result = None
            else:
                held_files.release(form)
        if result is None:
            held_files.keep(form, marker=True)
            return FORM, None
        return DONE, result
    if held_files.refuse_foreign(form) or "back" in form.data or not form.is_valid():
        held_files.keep(form, marker="back" in form.data)
        return FORM, None
    held_files.keep(form, marker=True)
    return CONFIRM, None
