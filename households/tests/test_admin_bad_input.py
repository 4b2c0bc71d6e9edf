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


@pytest.mark.parametrize("value", ["一二三", "1.5"])  # a NUL in a query is a 400 (NulInQueryMiddleware)
@pytest.mark.parametrize(
    "url",
    [
        "/admin/households/household/",
        "/admin/households/dwelling/",
        "/admin/households/village/",
        "/admin/inspections/appraisal/",
        "/admin/households/household/export/",
    ],
)
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


@pytest.mark.parametrize("columns", ["-1", "[1]", '"户主"', '{"户主姓名": 1}', '{"户主姓名": "password"}'])
def test_a_column_mapping_that_is_no_heading_to_field_object_is_a_form_error(client, personas, columns):
    """Found by the fuzz test: the admin's box took any JSON, and an empty one was a 500 on saving null."""
    from django.utils.translation import override

    from households.models import ColumnMapping, Unit

    mapping = ColumnMapping.objects.create(unit=Unit.objects.get(name="漳平市民政局"), columns={"户主": "head_name"})
    client.force_login(personas[Role.BUREAU_ADMIN])
    url = f"/admin/households/columnmapping/{mapping.pk}/change/"
    version = client.get(url).context["version_token"]

    with override("zh-hans"):
        response = client.post(url, {"unit": mapping.unit_id, "columns": columns, "_version": version})

    assert response.status_code == 200
    assert "每一项为对方名单的列标题及我方字段之一" in str(response.context["adminform"].form.errors["columns"])
    mapping.refresh_from_db()
    assert mapping.columns == {"户主": "head_name"}


def test_an_empty_column_mapping_is_saved_as_no_headings(client, personas):
    from households.models import ColumnMapping, Unit

    mapping = ColumnMapping.objects.create(unit=Unit.objects.get(name="漳平市民政局"), columns={"户主": "head_name"})
    client.force_login(personas[Role.BUREAU_ADMIN])
    url = f"/admin/households/columnmapping/{mapping.pk}/change/"
    version = client.get(url).context["version_token"]

    response = client.post(url, {"unit": mapping.unit_id, "columns": "", "_version": version})

    assert response.status_code == 302
    mapping.refresh_from_db()
    assert mapping.columns == {}
