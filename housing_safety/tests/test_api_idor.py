"""The IDOR sweep of the API with keys: every API route of test_idor's table, for every persona's account, called
with a key holding every scope (it must see exactly what the persona's session sees: refusals, no marker of township
B it may not see, the control marker where it may) and with a key holding none (every resource is a 403).

The world, the table and the rules are test_idor's; only the caller differs (Authorization: Api-Key)."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from housing_safety.api import keys
from housing_safety.api.resources import all_scopes

from . import test_idor
from .idor_world import PERSONAS, M, forbidden_markers, leaked, response_text
from .test_idor import DENIED, ROUTES, entry_for, reaches, urls_for

world, _world_media = test_idor.world, test_idor._world_media  # test_idor's world (built once for this module)

API_ROUTES = sorted(key for key in ROUTES if key.startswith("api:"))
OWN_PAGES = {"api:root", "api:schema", "api:docs"}  # the API's own pages: any caller, no resource
CALLERS = [persona for persona in PERSONAS if persona != "anonymous"]


def key_of(user, scopes) -> str:
    return keys.issue_key(
        user=user, name="IDOR", scopes=scopes, expires_at=timezone.now() + datetime.timedelta(days=1)
    )[1]


def test_the_api_has_routes_to_sweep():
    assert {"api:households-list", "api:households-detail"} <= set(API_ROUTES)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", CALLERS)
@pytest.mark.parametrize("key", API_ROUTES)
def test_a_key_reaches_what_its_account_reaches(world, persona, key):
    route, entry = ROUTES[key], entry_for(ROUTES[key])
    user = world.users[persona]
    plain = key_of(user, all_scopes())
    forbidden = forbidden_markers(user)
    allowed_in = reaches(user, entry)
    texts = []
    for url in urls_for(world, route, entry):
        response = Client().get(url, HTTP_AUTHORIZATION=f"Api-Key {plain}")
        texts.append(response_text(response))
        shown = leaked(texts[-1], forbidden, entry.allows)
        assert not shown, f"GET {url} with {persona}'s key ({response.status_code}) shows {shown}"
        if entry.target is not None and not allowed_in:
            assert response.status_code in DENIED, f"GET {url} with {persona}'s key: {response.status_code}"
        # a write with every scope: refused (no write endpoint here yet) and nothing changes
        assert Client().post(url, {}, HTTP_AUTHORIZATION=f"Api-Key {plain}").status_code in DENIED
    if allowed_in and entry.shows and entry.shows not in forbidden:
        assert M[entry.shows].text in "\n".join(texts), f"{key} with {persona}'s key: control marker missing"


@pytest.mark.django_db
@pytest.mark.parametrize("key", API_ROUTES)
def test_a_key_without_scopes_reads_no_resource(world, key):
    route, entry = ROUTES[key], entry_for(ROUTES[key])
    plain = key_of(world.users["admin"], [])
    for url in urls_for(world, route, entry):
        response = Client().get(url, HTTP_AUTHORIZATION=f"Api-Key {plain}")
        assert response.status_code == (200 if key in OWN_PAGES else 403), url
