"""`based_on`: a write made offline (the field app, docs/field-app.md) names the version of the record the worker saw;
when the record has changed since, the write is refused with a 409 and what is there now, and nothing is written.

    conflicts.check(request, version=appraisal_version(...), current=lambda: {...}, message=_("…"))

`version` is the record's version now (a latest appraisal's id "a:12", a status "pending"); `current` says what
changed (it is called only on a conflict), and `current.based_on` is the version to send when the worker keeps their
entry anyway. Without `based_on` (the API's other callers) nothing is checked: the services' own rules apply. The
view reads the record under a row lock (select_for_update: every write runs in one transaction, idempotency.run), so
two entries based on one version cannot both pass.

The 409 is an exception: raised inside the write's transaction, it rolls back everything, the Idempotency-Key's row
included (a "keep mine" resend under a new key, or the same one, is a new request). exceptions.py renders it:

    {"errors": [{"field": "based_on", "code": "conflict", "message": "…"}], "current": {"summary": "…", …}}
"""

from __future__ import annotations

from collections.abc import Callable

from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status

BASED_ON = "based_on"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"

    def __init__(self, message: str, *, current: dict):
        super().__init__({BASED_ON: [exceptions.ErrorDetail(str(message), code=self.default_code)]})
        self.current = current


def sent_version(request) -> str | None:
    """The `based_on` the caller sent, or None when it sent none (or an empty one)."""
    value = request.data.get(BASED_ON) if hasattr(request.data, "get") else None
    return value if isinstance(value, str) and value != "" else None


def check(request, *, version: str, current: Callable[[], dict], message: str) -> None:
    """Raise Conflict (409) when the caller sent a `based_on` other than the record's `version` now."""
    sent = sent_version(request)
    if sent is not None and sent != version:
        raise Conflict(message, current={**current(), BASED_ON: version})


def based_on_field(help_text: str) -> serializers.CharField:
    """The request's `based_on`, for the input serializers (and so the OpenAPI document); the view checks it."""
    return serializers.CharField(required=False, allow_blank=True, write_only=True, help_text=help_text)


CONFLICT = OpenApiResponse(
    description=(
        '记录在离线包下载后已被改动（based_on 与现状不符）：未写入任何内容。{"errors": [{"field": "based_on", '
        '"code": "conflict", "message": 中文说明}], "current": {"summary": 现状摘要, "based_on": 现状版本, …}}；'
        "需保留本条时，以 current.based_on 作为 based_on 重发（新的 Idempotency-Key）。"
    )
)
