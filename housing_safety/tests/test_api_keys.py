"""API keys (housing_safety.api): a key acts as its system account; unknown, expired and revoked keys are a 401 in
Chinese; a key without the resource's scope is a 403; only the key's fingerprint is stored."""

import datetime
import logging

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from households.tests.factories import make_user, township
from housing_safety.access import Role
from housing_safety.api import keys
from housing_safety.api.resources import validate_scopes
from housing_safety.models import ApiKey

pytestmark = pytest.mark.django_db

TOWNSHIPS = "/api/v1/townships/"


def issue(user=None, scopes=("read:townships",), days=30, **kwargs):
    user = user or make_user(Role.TOWNSHIP_STAFF, townships=[township()])
    return keys.issue_key(
        user=user, name="12345 热线平台", scopes=list(scopes), expires_at=timezone.now() + datetime.timedelta(days=days)
    )


def call(plain, url=TOWNSHIPS, scheme="Api-Key", method="get"):
    return getattr(Client(), method)(url, HTTP_AUTHORIZATION=f"{scheme} {plain}")


def test_a_valid_key_reads_as_its_system_account():
    _key, plain = issue()
    response = call(plain)
    assert response.status_code == 200
    assert [row["name"] for row in response.json()["results"]] == ["新桥镇"]  # its account's one township


def test_bearer_is_accepted_too():
    _key, plain = issue()
    assert call(plain, scheme="Bearer").status_code == 200


@pytest.mark.parametrize("state", ["unknown", "expired", "revoked", "inactive account", "no credentials"])
def test_a_key_that_is_no_key_is_a_401_in_chinese(state):
    key, plain = issue()
    if state == "unknown":
        plain = plain[:8] + "x" * 40
    elif state == "expired":
        ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    elif state == "revoked":
        assert keys.revoke(key)
    elif state == "inactive account":
        key.user.is_active = False
        key.user.save()
    response = Client().get(TOWNSHIPS) if state == "no credentials" else call(plain)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Api-Key")
    [error] = response.json()["errors"]
    assert error["field"] is None
    assert error["code"] in ("authentication_failed", "not_authenticated")
    assert "密钥" in error["message"] or "身份" in error["message"] or "认证" in error["message"], error


def test_a_key_without_the_resources_scope_is_a_403():
    _key, plain = issue(scopes=["read:households"])
    response = call(plain)
    assert response.status_code == 403
    assert response.json() == {
        "errors": [{"field": None, "code": "scope", "message": "此 API 密钥没有“read:townships”权限范围。"}]
    }


def test_a_key_reads_only_with_its_accounts_django_permissions():
    # The scope is not enough: the account's role must hold the page's permission (a role without it: 403).
    _key, plain = issue(user=make_user(None), scopes=["read:townships"])
    assert call(plain).status_code == 403


def test_a_read_scope_does_not_write():
    _key, plain = issue()
    response = call(plain, method="post")
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "scope"


def test_only_the_fingerprint_is_stored_and_the_last_use_is_written_once_a_minute(django_assert_num_queries):
    key, plain = issue()
    row = ApiKey.objects.filter(pk=key.pk).values().get()
    assert plain not in str(row) and row["prefix"] == plain[:8] and row["key_hash"] == keys.hash_key(plain)
    assert key.last_used_at is None
    call(plain)
    first = ApiKey.objects.get(pk=key.pk).last_used_at
    assert first is not None
    call(plain)
    assert ApiKey.objects.get(pk=key.pk).last_used_at == first  # within the minute: not written again
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=first - datetime.timedelta(minutes=2))
    call(plain)
    assert ApiKey.objects.get(pk=key.pk).last_used_at > first


def test_scopes_are_checked_against_the_registered_resources():
    assert validate_scopes(["read:households", "read:households", "write:cases"]) == ["read:households", "write:cases"]
    # write:households opens nothing (the registry is read only): not offered, not accepted
    for bad in (["read:everything"], ["households"], "read:households", [1], ["write:households"]):
        with pytest.raises(ValidationError):
            validate_scopes(bad)


def test_every_call_is_logged_with_user_and_key(caplog):
    key, plain = issue()
    with caplog.at_level(logging.INFO, logger="housing_safety.api"):
        call(plain)
        call("nonsense-key-000000000")
    lines = [r.getMessage() for r in caplog.records if r.name == "housing_safety.api"]
    assert lines[0].startswith(f"api GET {TOWNSHIPS} 200 user={key.user_id} key={key.pk} ")
    assert lines[1].startswith(f"api GET {TOWNSHIPS} 401 user=None key=None ")


def test_a_person_calls_with_the_session():
    client = Client()
    client.force_login(make_user(Role.BUREAU_OFFICIAL))
    response = client.get(TOWNSHIPS)
    assert response.status_code == 200
    assert len(response.json()["results"]) > 1  # the bureau: every township


def test_the_root_lists_the_resources():
    _key, plain = issue()
    body = call(plain, url=reverse("api:root")).json()
    assert body["resources"]["households"]["url"].endswith("/api/v1/households/")
    assert body["resources"]["households"]["label"] == "农户"
    assert Client().get(reverse("api:root")).status_code == 401


# The admin: issue (the key shown once), last use, revoke ---------------------------------------------------------


def test_the_admin_issues_a_key_shows_it_once_and_revokes_it():
    admin = make_user(Role.BUREAU_ADMIN)
    system = make_user(Role.COMPLAINT_CLERK, username="hotline-system")
    client = Client()
    client.force_login(admin)
    expires = (timezone.localtime() + datetime.timedelta(days=90)).replace(microsecond=0)
    response = client.post(
        reverse("admin:housing_safety_apikey_add"),
        {
            "name": "12345 热线平台",
            "user": system.pk,
            "scopes": ["read:households", "write:complaints"],
            "expires_at_0": expires.date().isoformat(),
            "expires_at_1": expires.time().isoformat(),
        },
        follow=True,
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    key = ApiKey.objects.get()
    [message] = [str(m) for m in response.context["messages"] if "密钥是" in str(m)]
    plain = message.split("密钥是 ")[1].split(" ")[0]
    assert plain and keys.find_key(plain) == key, message
    assert key.created_by == admin and key.scopes == ["read:households", "write:complaints"]
    assert plain not in client.get(reverse("admin:housing_safety_apikey_change", args=[key.pk])).content.decode()

    response = client.post(
        reverse("admin:housing_safety_apikey_changelist"),
        {"action": "revoke_keys", "_selected_action": [key.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert ApiKey.objects.get().revoked_at is not None
    assert keys.find_key(plain) is None


def test_the_admin_refuses_an_unknown_scope():
    admin = make_user(Role.BUREAU_ADMIN)
    client = Client()
    client.force_login(admin)
    response = client.post(
        reverse("admin:housing_safety_apikey_add"),
        {
            "name": "x",
            "user": admin.pk,
            "scopes": ["read:everything"],
            "expires_at_0": "2027-01-01",
            "expires_at_1": "0:00",
        },
    )
    assert response.status_code == 200
    assert not ApiKey.objects.exists()
