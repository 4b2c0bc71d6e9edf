"""The IDOR sweep of the API's writes with keys: every API route with a write in test_idor's table, posted with its
body and an Idempotency-Key by every persona's key holding every scope. A persona the rules do not let write it gets
a 403/404 (400 for a body its service refuses) and no table changes; a key without the write scope is a 403 for
everyone, and changes nothing either, the bureau administrator's included (the control: the same body with the
scope goes through for the administrator, so the "nothing changed" check can fail).

The world, the table and the rules are test_idor's; only the caller differs (Authorization: Api-Key)."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from housing_safety.api import keys
from housing_safety.api.resources import all_scopes

from . import test_idor
from .idor_world import PERSONAS, changed_tables, written_tables
from .test_idor import DENIED, ROUTES, entry_for, may_write, post_body, urls_for

world, _world_media = test_idor.world, test_idor._world_media  # test_idor's world (built once for this module)

WRITES = sorted(
    key for key in ROUTES if key.startswith("api:") and getattr(entry_for(ROUTES[key]), "post", None) is not None
)
CALLERS = [persona for persona in PERSONAS if persona != "anonymous"]
KEY_BOOKKEEPING = {"housing_safety_apikey"}  # the key's own row (issued here, its last use touched)


def _post(world, persona: str, key: str, scopes):
    route, entry = ROUTES[key], entry_for(ROUTES[key])
    plain = keys.issue_key(
        user=world.users[persona], name="IDOR", scopes=scopes, expires_at=timezone.now() + datetime.timedelta(days=1)
    )[1]
    urls = urls_for(world, route, entry)
    body = post_body(world, route, entry, urls)
    with CaptureQueriesContext(connection) as queries:
        response = Client().post(
            urls[0], body, HTTP_AUTHORIZATION=f"Api-Key {plain}", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())
        )
    written = changed_tables(world.values["baseline"], written_tables(queries.captured_queries) - KEY_BOOKKEEPING)
    return urls[0], response, written


def test_the_api_has_writes_to_sweep():
    assert {"api:complaint-intake", "api:case-move", "api:appraisal-create"} <= set(WRITES)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", CALLERS)
@pytest.mark.parametrize("key", WRITES)
def test_a_key_writes_only_what_its_account_may_write(world, persona, key):
    entry = entry_for(ROUTES[key])
    if may_write(world.users[persona], entry):  # a persona who may: refused all the same without the write scope
        read_only = [scope for scope in all_scopes() if scope.startswith("read:")]
        url, response, written = _post(world, persona, key, read_only)
        assert response.status_code == 403 and response.json()["errors"][0]["code"] == "scope", url
    else:
        url, response, written = _post(world, persona, key, all_scopes())
        assert response.status_code in DENIED, f"POST {url} with {persona}'s key: {response.status_code}"
    assert not written, f"POST {url} with {persona}'s key ({response.status_code}) wrote {written}"


@pytest.mark.django_db
def test_control_a_persona_who_may_write_does_write(world):
    """The check above can fail: the intake's body with the write scope, by the bureau administrator, writes rows."""
    url, response, written = _post(world, "admin", "api:complaint-intake", all_scopes())
    assert response.status_code == 201, (url, response.content)
    assert "rectification_complaint" in written
