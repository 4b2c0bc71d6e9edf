"""`Idempotency-Key` for every POST of the API: the same request sent twice (a retry after a timeout, a platform
that re-sends) gets the first answer and writes once.

- A key caller (a system) must send the header on every POST: systems retry by themselves, and a retry without it
  would log a second complaint. A person's session (the field app) may leave it out; the pages have no such
  protection either, and a browser does not retry a POST on its own. Without the header the write simply runs.
- The key is remembered per caller (the API key, or the person when signed in) with the method, path and a
  fingerprint of the body (its fields and the SHA-256 of each file, so a multipart retry with another boundary is
  the same request). The same key with the same request: the first answer (status and JSON) again, with the header
  `Idempotent-Replayed: true`, nothing written. The same key with another request: a 422.
- Two requests with one key at the same moment write once: the key's row is inserted first, in the write's own
  transaction, under the unique constraint; PostgreSQL makes the second insert wait for the first transaction and
  then fail, and the second request answers with the committed first answer.
- Every write runs in one transaction, with the header or without it, so a view may read its record under a row
  lock (a `based_on` check, housing_safety.api.conflicts: a 409 is raised, rolling back the key's row with the rest).
- Only answers of writes that went through (2xx) are kept: a refusal rolls back the key's row with everything else,
  so the corrected request may be sent again with the same key. Rows are kept API_IDEMPOTENCY_DAYS, then purged by
  the nightly purge (reporting.services.remove_expired_files → remove_expired here).
- A view names the answer's fields that must not be kept (`idempotency_redact`, e.g. a complaint's query code, kept
  only as a hash): a replay has them null.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from ..models import ApiKey, IdempotentRequest
from .exceptions import error_response
from .views import ApiView

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII, e.g. a UUID

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER,
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "本次请求的唯一键（如 UUID，1–255 个可见 ASCII 字符）。用密钥调用时必填，会话调用时可不填。"
        "同一调用者用同一键重发相同请求：返回第一次的结果（响应头 Idempotent-Replayed: true），不再写入；"
        "同一键配不同请求：422。只保存成功写入的结果，保存 API_IDEMPOTENCY_DAYS 天。"
    ),
)


ERRORS = OpenApiResponse(
    description=(
        '错误，形如 {"errors": [{"field": 字段, "code": 代码, "message": 中文说明}]}：400 无效、401 未登录、403 无权、'
        "404 不存在或不在范围内、422 幂等键已用于其他请求。"
    )
)


def _file_hash(uploaded) -> str:
    digest = hashlib.sha256()
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    return f"file:{digest.hexdigest()}"


def _plain(value):
    if hasattr(value, "chunks"):
        return _file_hash(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def fingerprint(request) -> str:
    """SHA-256 of the request's fields (JSON or form, files by their content), independent of the encoding."""
    data = request.data
    fields = {key: _plain(values) for key, values in data.lists()} if hasattr(data, "lists") else _plain(data)
    text = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _caller(request) -> dict:
    key = request.auth if isinstance(request.auth, ApiKey) else None
    return {"user": request.user, "api_key": key}


def _replay(row: IdempotentRequest, request, body_hash: str) -> Response:
    if row.method != request.method or row.path != request.path or row.body_hash != body_hash:
        return error_response(
            422,
            "idempotency_key_reused",
            _(
                "This Idempotency-Key was already used for another request (%(method)s %(path)s with other data): "
                "use a new key for a new request."
            )
            % {"method": row.method, "path": row.path},
        )
    return Response(row.response_body, status=row.status_code, headers={REPLAYED_HEADER: "true"})


def run(request, write, *, redact=()) -> Response:
    """Run `write()` (which returns the Response) at most once per caller and Idempotency-Key."""
    key = request.headers.get(HEADER)
    if key is None or key == "":
        if isinstance(request.auth, ApiKey):
            return error_response(
                400,
                "idempotency_key_required",
                _(
                    "Send an Idempotency-Key header (e.g. a UUID) with every POST made with an API key, and the same "
                    "key again when you retry the request."
                ),
            )
        with transaction.atomic():  # one transaction as with a key: a view may lock its record (conflicts.py)
            response = write()
            if not 200 <= response.status_code < 300:
                transaction.set_rollback(True)
        return response
    if not KEY_PATTERN.fullmatch(key):
        return error_response(
            400,
            "idempotency_key_invalid",
            _("The Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID, for example)."),
        )
    body_hash = fingerprint(request)
    caller = _caller(request)
    with transaction.atomic():
        try:
            with transaction.atomic():  # waits here while a request with the same key is being written
                row = IdempotentRequest.objects.create(
                    **caller, key=key, method=request.method, path=request.path[:500], body_hash=body_hash
                )
        except IntegrityError:
            row = None
        if row is None:
            return _replay(IdempotentRequest.objects.get(**caller, key=key), request, body_hash)
        response = write()
        if not 200 <= response.status_code < 300:
            transaction.set_rollback(True)  # a refusal keeps nothing, the key's row included
            return response
        body = json.loads(JSONRenderer().render(response.data) or b"null")
        if isinstance(body, dict):
            body.update({name: None for name in redact if name in body})
        row.status_code, row.response_body = response.status_code, body
        row.save(update_fields=["status_code", "response_body"])
    return response


def remove_expired(*, before: datetime.datetime) -> int:
    """Forget the keys used before `before` (the nightly purge)."""
    return IdempotentRequest.objects.filter(created_at__lt=before).delete()[0]


class ApiWriteView(ApiView):
    """A POST endpoint under Idempotency-Key: subclasses implement `write(request, *args, **kwargs)` returning the
    Response, calling the same service as the page."""

    idempotency_redact: tuple[str, ...] = ()

    def write(self, request, *args, **kwargs) -> Response:
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        return run(request, lambda: self.write(request, *args, **kwargs), redact=self.idempotency_redact)
