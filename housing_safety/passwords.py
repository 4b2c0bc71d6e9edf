"""Password rules beyond Django's own validators (AUTH_PASSWORD_VALIDATORS)."""

from __future__ import annotations

import string

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, ngettext_lazy

# Django 5.2 changed the key of its "too short" message and its own Chinese catalogue still has the old one, so the
# most common password error would appear in English. Named here, makemessages carries it into our catalogue.
DJANGO_MESSAGES = (
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        10,
    ),
)

_CLASSES = (
    str.isupper,
    str.islower,
    str.isdigit,
    lambda ch: ch in string.punctuation or ch.isspace() or not ch.isascii(),
)


class CharacterClassesValidator:
    """At least `min_classes` of: capital letters, small letters, digits, symbols."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password: str, user=None) -> None:
        used = sum(any(test(ch) for ch in password) for test in _CLASSES)
        if used < self.min_classes:
            raise ValidationError(self.get_help_text(), code="password_too_simple")

    def get_help_text(self) -> str:
        return ngettext(
            "Your password must mix at least %(count)d kind of character: capital letters, small letters, digits, "
            "symbols.",
            "Your password must mix at least %(count)d kinds of character: capital letters, small letters, digits, "
            "symbols.",
            self.min_classes,
        ) % {"count": self.min_classes}


class NotCurrentPasswordValidator:
    """A forced change must change something: the new password may not be the one the user has now."""

    def validate(self, password: str, user=None) -> None:
        if user is not None and user.pk and user.has_usable_password() and user.check_password(password):
            raise ValidationError(_("The new password must differ from the current one."), code="password_unchanged")

    def get_help_text(self) -> str:
        return _("The new password must differ from the current one.")
