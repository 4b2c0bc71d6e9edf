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


def test_a_tampered_count_of_attached_files_is_a_form_error(client, personas, home_household):
    """The list of attached files is read-only; a form claiming 1,001 of them is refused, and the page that says so
    showed the unsaved rows' download links (a 500: no file to link to)."""
    from households.models import Household

    from .test_admin_access import ATTACHMENT_LIST_PREFIX, household_change_data

    body = household_change_data(home_household, head_name="改过的户主")
    body[f"{ATTACHMENT_LIST_PREFIX}-TOTAL_FORMS"] = "1001"
    client.force_login(personas[Role.TOWNSHIP_STAFF])

    response = client.post(f"/admin/households/household/{home_household.pk}/change/", body)

    assert response.status_code == 200
    formsets = {f.formset.prefix: f.formset for f in response.context["inline_admin_formsets"]}
    assert formsets[ATTACHMENT_LIST_PREFIX].non_form_errors()
    assert Household.objects.get(pk=home_household.pk).head_name != "改过的户主"


@pytest.mark.parametrize("value", ["一二三", "a\x00b", "1.5"])
@pytest.mark.parametrize(
    "url",
    ["/admin/households/household/", "/admin/households/dwelling/", "/admin/households/village/",
     "/admin/inspections/appraisal/", "/admin/households/household/export/"],
)  # fmt: skip
@pytest.mark.parametrize("parameter", ["township", "village"])
def test_a_township_or_village_filter_that_is_no_id_is_the_lists_invalid_filter_answer(
    client, personas, home_household, url, parameter, value
):
    from urllib.parse import urlencode

    client.force_login(personas[Role.BUREAU_ADMIN])
    township_id = home_household.village.township_id
    # The village filter offers (and reads) villages once a township is chosen.
    query = {"township": value} if parameter == "township" else {"township": township_id, "village": value}

    response = client.get(f"{url}?{urlencode(query)}")

    if parameter == "village" and url == "/admin/households/village/":
        assert response.status_code == 302  # no village filter there: an unknown parameter, the admin's ?e=1 too
    else:
        assert (response.status_code, response.url) == (302, f"{url.removesuffix('export/')}?e=1")
    assert client.get(f"{url}?township={township_id}").status_code == 200  # control: a real id filters
