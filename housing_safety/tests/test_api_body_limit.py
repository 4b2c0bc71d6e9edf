"""A JSON body is held to the pages' size limit (DATA_UPLOAD_MAX_MEMORY_SIZE, checked by Django as DRF reads it) and
answered with a 413 in the API's JSON error shape, not Django's HTML 400 page."""

import json

import pytest
from django.core.exceptions import RequestDataTooBig
from django.utils import translation
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from housing_safety.api.exceptions import exception_handler


def _request(body: bytes) -> Request:
    django_request = APIRequestFactory().post("/api/v1/x/", data=body, content_type="application/json")
    return Request(django_request, parsers=[JSONParser()])


def test_a_body_within_the_limit_is_read(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    assert _request(json.dumps({"note": "村委会"}).encode()).data == {"note": "村委会"}


def test_a_larger_body_is_a_413_in_chinese(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    body = json.dumps({"note": "x" * (1024 * 1024)}).encode()

    with pytest.raises(RequestDataTooBig) as refused:
        _request(body).data  # noqa: B018 - reading it parses it
    with translation.override("zh-hans"):
        response = exception_handler(refused.value, {})

    assert response.status_code == 413
    assert response.data == {"errors": [{"field": None, "code": "too_large", "message": "请求内容超过 1.0 MB。"}]}
