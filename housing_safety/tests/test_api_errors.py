"""The API's one error shape (housing_safety.api.exceptions): a service's ValidationError by field or as a list,
PermissionDenied, Http404 and DRF's own errors, each {"errors": [{field, code, message}]}, Chinese by default."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import Client
from rest_framework import exceptions

from households.tests.factories import make_user
from housing_safety.access import Role
from housing_safety.api.exceptions import exception_handler


def handled(exc):
    response = exception_handler(exc, {})
    return response.status_code, response.data["errors"]


def test_a_services_errors_by_field_keep_their_fields_and_codes():
    error = ValidationError(
        {
            "village": [ValidationError("这个村不在您的乡镇。", code="out_of_scope")],
            "__all__": [ValidationError("已经有一条未办结的问题。", code="duplicate")],
        }
    )
    assert handled(error) == (
        400,
        [
            {"field": "village", "code": "out_of_scope", "message": "这个村不在您的乡镇。"},
            {"field": None, "code": "duplicate", "message": "已经有一条未办结的问题。"},
        ],
    )


def test_a_services_list_of_errors_has_no_field():
    error = ValidationError([ValidationError("甲", code="a"), ValidationError("乙")])
    assert handled(error) == (
        400,
        [{"field": None, "code": "a", "message": "甲"}, {"field": None, "code": "invalid", "message": "乙"}],
    )


def test_nested_serializer_errors_are_dotted():
    error = exceptions.ValidationError({"photos": [{"file": ["太大了。"]}, {}], "grade": ["必填。"]})
    status, errors = handled(error)
    assert status == 400
    assert {e["field"] for e in errors} == {"photos.0.file", "grade"}


def test_permission_denied_and_not_found():
    assert handled(PermissionDenied("您只能修改本乡镇的记录。")) == (
        403,
        [{"field": None, "code": "permission_denied", "message": "您只能修改本乡镇的记录。"}],
    )
    assert handled(Http404()) == (
        404,
        [{"field": None, "code": "not_found", "message": "未找到，或不在您的权限范围内。"}],
    )


def test_an_unexpected_error_is_left_to_django():
    assert exception_handler(ZeroDivisionError(), {}) is None


@pytest.mark.django_db
def test_chinese_by_default_and_english_when_chosen():
    assert Client().get("/api/v1/townships/").json()["errors"][0]["message"] == "身份认证信息未提供。"
    client = Client()
    client.cookies["django_language"] = "en"
    assert client.get("/api/v1/townships/").json()["errors"][0]["message"] == (
        "Authentication credentials were not provided."
    )


@pytest.mark.django_db
def test_a_session_write_without_the_csrf_token_is_refused():
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user(Role.BUREAU_ADMIN))
    response = client.post("/api/v1/townships/", {}, content_type="application/json")
    assert response.status_code == 403
    [error] = response.json()["errors"]
    assert error["code"] == "permission_denied" and "CSRF" in error["message"]
