"""The registry admin answers hostile or outdated input with the admin's own refusals, never a server error (found
by housing_safety/tests/test_fuzz.py)."""

from __future__ import annotations

import pytest

from housing_safety.access import Role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["household", "dwelling", "village"])
@pytest.mark.parametrize("query", ["kind=1", "period=", "no_such_filter=-1"])
def test_an_export_with_a_filter_the_list_does_not_have_goes_back_to_the_list(client, personas, model, query):
    client.force_login(personas[Role.BUREAU_ADMIN])

    response = client.get(f"/admin/households/{model}/export/?{query}")

    assert (response.status_code, response.url) == (302, f"/admin/households/{model}/?e=1")
    assert client.get(f"/admin/households/{model}/export/").status_code == 200  # control: no filter, the form
