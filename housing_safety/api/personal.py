"""Personal numbers in the API as on the pages (housing_safety.disclosure): masked in every list and record, and
read whole only on one record's endpoint with ?unmask=1&reason=…, by a caller whose role may see them; that read
writes the same PersonalDataAccess row as the page's unmask, its reason prefixed with "API" and the key."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext as _
from rest_framework import serializers

from .. import disclosure
from ..models import ApiKey

UNMASKED = "unmasked"  # the serializer context's flag: this record's numbers are shown whole


def wants_full_numbers(request) -> bool:
    return request.query_params.get("unmask") in ("1", "true")


def full_numbers(request, obj) -> bool:
    """Whether to show `obj`'s numbers whole in this answer: only when asked (?unmask=1); then the role must allow it
    (else 403), a reason is needed (else 400), and the disclosure is logged."""
    if not wants_full_numbers(request):
        return False
    source = "API"
    if isinstance(request.auth, ApiKey):
        source = _("API, key %(key)s") % {"key": f"#{request.auth.pk} {request.auth.prefix}"}
    disclosure.log_access(
        user=request.user,
        obj=obj,
        reason=request.query_params.get("reason", ""),
        ip_address=disclosure.client_ip(request),
        source=source,
    )
    return True


class MaskedField(serializers.CharField):
    """A personal number, masked by `mask` unless the serializer's context says this record was unmasked."""

    def __init__(self, *, mask: Callable[[str | None], str], **kwargs):
        self.mask = mask
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        if value is None:
            return None
        return str(value) if self.context.get(UNMASKED) else self.mask(value)
