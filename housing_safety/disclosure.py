"""Personal data is shown masked; seeing one record's full ID and phone numbers is an explicit, logged action.

A user whose role holds the record's permission asks for it with a reason (`unmask`); that writes a
PersonalDataAccess row (who, when, which record, why, from where) and opens the record for UNMASK_MINUTES in the
user's session (`is_unmasked`). Lists, searches and on-screen summaries stay masked for everyone: a page of fifty
households is where numbers leak. Roles without the permission cannot unmask at all.

The records that can be unmasked, the permission each needs and the scoped selector that finds it for a user are the
one table UNMASKABLE, which each app fills for its own records in its AppConfig.ready (`register_unmaskable`, as it
registers the records files attach to); the view reaches a record only through that selector, so a record outside
the user's scope is a 404 like everywhere else.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from .models import PersonalDataAccess

UNMASK_MINUTES = 10
MIN_REASON_LENGTH = 4
_SESSION_KEY = "unmasked"


@dataclass(frozen=True)
class Unmaskable:
    permission: str
    selector: Callable[[object], QuerySet]  # selector(user): the records of the user's scope


UNMASKABLE: dict[str, Unmaskable] = {}


def register_unmaskable(model: type[Model], *, permission: str, selector: Callable[[object], QuerySet]) -> None:
    """Make a model's personal data openable by the holders of `permission`, reached through its scoped `selector`."""
    UNMASKABLE[model._meta.label_lower] = Unmaskable(permission, selector)


def record_type(obj) -> str:
    return obj._meta.label_lower


def may_unmask(user, kind: str) -> bool:
    return kind in UNMASKABLE and user.has_perm(UNMASKABLE[kind].permission)


def find_record(user, kind: str, pk: int):
    """The record as this user may reach it (the scoped selector), or DoesNotExist / PermissionDenied."""
    if kind not in UNMASKABLE:
        raise LookupError(kind)
    if not may_unmask(user, kind):
        raise PermissionDenied(_("Your role may not see personal data."))
    return UNMASKABLE[kind].selector(user).get(pk=pk)


def unmask(*, user, session, obj, reason: str, ip_address: str | None = None) -> PersonalDataAccess:
    """Log the disclosure and open the record's personal data in this session for UNMASK_MINUTES. A reason of at
    least MIN_REASON_LENGTH characters is required."""
    kind = record_type(obj)
    access = log_access(user=user, obj=obj, reason=reason, ip_address=ip_address)
    grants = {key: until for key, until in session.get(_SESSION_KEY, {}).items() if until > time.time()}
    grants[f"{kind}:{obj.pk}"] = int(time.time()) + UNMASK_MINUTES * 60
    session[_SESSION_KEY] = grants
    return access


def log_access(*, user, obj, reason: str, ip_address: str | None = None, source: str = "") -> PersonalDataAccess:
    """The disclosure's log row, for a user whose role may see the record's personal data and who says why (at least
    MIN_REASON_LENGTH characters). `source` (the API and its key) is written before the reason."""
    kind = record_type(obj)
    if not may_unmask(user, kind):
        raise PermissionDenied(_("Your role may not see personal data."))
    reason = " ".join((reason or "").split())
    if len(reason) < MIN_REASON_LENGTH:
        raise ValidationError(
            _("Say why you need the full numbers (at least %(count)d characters).") % {"count": MIN_REASON_LENGTH},
            code="reason",
        )
    if source:
        reason = f"{source}：{reason}"
    return PersonalDataAccess.objects.create(
        user=user, record_type=kind, record_id=obj.pk, record=str(obj)[:200], reason=reason[:200], ip_address=ip_address
    )


def is_unmasked(request, obj) -> bool:
    """Whether this request's user opened this record's personal data in the last UNMASK_MINUTES (and still holds
    the permission)."""
    if obj is None or obj.pk is None:
        return False
    kind = record_type(obj)
    until = request.session.get(_SESSION_KEY, {}).get(f"{kind}:{obj.pk}", 0)
    return until > time.time() and may_unmask(request.user, kind)


def unmask_url(request, obj, back: str | None = None) -> str:
    """The link that asks for this record's full numbers, for a user who may and has not yet; otherwise ""."""
    if obj is None or is_unmasked(request, obj) or not may_unmask(request.user, record_type(obj)):
        return ""
    return f"{reverse('unmask', args=[record_type(obj), obj.pk])}?{urlencode({'next': back or request.path})}"


def log_export(*, user, name: str, rows: int, ip_address: str | None = None) -> PersonalDataAccess:
    """An export with full numbers is a disclosure of every row in it: one log row names the export and its size."""
    return PersonalDataAccess.objects.create(
        user=user,
        record_type="export",
        record=_("Export: %(name)s (%(rows)d rows)") % {"name": name, "rows": rows},
        reason=_("Export with full numbers"),
        ip_address=ip_address,
    )


def client_ip(request) -> str | None:
    from django.conf import settings

    return request.META.get(settings.RATELIMIT_IP_META_KEY or "REMOTE_ADDR") or None
