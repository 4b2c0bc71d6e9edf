"""The field app's session on the API: a session that idled out, or that must change its password first, gets the
API's JSON answer (401, 403), never the pages' redirect to an HTML login or password form."""

import pytest
from django.test import Client

from households.tests.factories import make_user
from housing_safety.access import Role
from housing_safety.middleware import MUST_CHANGE_PASSWORD

pytestmark = pytest.mark.django_db


def test_an_idle_session_is_a_401_in_json(clock, settings):
    client = Client()
    client.force_login(make_user(Role.BUREAU_OFFICIAL))
    assert client.get("/api/v1/townships/").status_code == 200
    clock.advance(settings.SESSION_IDLE_SECONDS + 1)
    response = client.get("/api/v1/townships/")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "not_authenticated"
    assert client.get("/api/v1/townships/").status_code == 401  # signed out for good


def test_a_session_that_must_change_its_password_is_a_403_in_json():
    client = Client()
    client.force_login(make_user(Role.BUREAU_OFFICIAL))
    session = client.session
    session[MUST_CHANGE_PASSWORD] = True
    session.save()
    response = client.get("/api/v1/townships/")
    assert response.status_code == 403
    assert response.json() == {
        "errors": [{"field": None, "code": "password_change_required", "message": "请先设置您自己的密码，然后再继续。"}]
    }
