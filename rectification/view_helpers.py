"""The one way the rectification pages run a form through a service."""

from __future__ import annotations

from django.core.exceptions import ValidationError


def add_errors(form, error: ValidationError) -> None:
    """Put a service's errors on the form: on their field where the form has it, otherwise on top."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def run_form(form, action):
    """Validate the form and run `action(form)` (a service call); return its result, or None when the form or the
    service refused, with the reasons on the form (a refused service changes nothing)."""
    if not form.is_bound or not form.is_valid():
        return None
    try:
        return action(form)
    except ValidationError as error:
        add_errors(form, error)
        return None
