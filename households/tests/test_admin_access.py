"""Persona tests for the registry admin: every role against every page it should and should not reach.

A denied read is a 403/404 whose body does not leak the record; a denied write asserts nothing changed.
"""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from django.contrib import admin as django_admin
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from import_export.forms import SelectableFieldsExportForm

from households import services
from households.models import Dwelling, Household, HouseholdCategory, Unit
from households.resources import DwellingResource, HouseholdResource
from housing_safety.access import Role
from housing_safety.admin_base import record_version
from housing_safety.tests.kit import ADMIN, CLERK, HELPER, LIAISON, OFFICIAL, ROLES, STAFF, body

from .factories import DwellingFactory, HouseholdFactory, VillageFactory, make_user, valid_id_number

CHANGELISTS = ["household", "dwelling", "village", "township", "unit"]
# Which registry changelists each role may open (the view permissions of ROLE_PERMISSIONS).
CAN_VIEW = {
    ADMIN: set(CHANGELISTS),
    OFFICIAL: set(CHANGELISTS),
    STAFF: set(CHANGELISTS),
    LIAISON: set(CHANGELISTS),
    CLERK: set(CHANGELISTS) - {"unit"},
    HELPER: set(CHANGELISTS) - {"unit"},
}
# Which of the two households (see the `households` fixture) each role may reach.
VISIBLE = {
    ADMIN: {"home", "other"},
    OFFICIAL: {"home", "other"},
    CLERK: {"home", "other"},
    STAFF: {"home"},
    LIAISON: {"home"},
    HELPER: {"other"},
}
MASKED_ROLES = [OFFICIAL, LIAISON, CLERK]

HOME_PHONE = "13912341234"
OTHER_PHONE = "13955556666"

# Formset prefixes of the household change form (checked against the rendered page below).
DWELLINGS_PREFIX = "dwellings"
ATTACHMENT_LIST_PREFIX = "households-attachment-content_type-object_id"
ATTACHMENT_ADD_PREFIX = "households-attachment-content_type-object_id-2"


# --------------------------------------------------------------------------------------------- helpers


def changelist_url(model: str) -> str:
    return f"/admin/households/{model}/"


def change_url(obj) -> str:
    return f"/admin/households/{obj._meta.model_name}/{obj.pk}/change/"


def history_url(obj) -> str:
    return f"/admin/households/{obj._meta.model_name}/{obj.pk}/history/"


def masked_id(id_number: str) -> str:
    return id_number[:6] + "*" * 8 + id_number[-4:]


def listed_pks(response) -> set[int]:
    return {obj.pk for obj in response.context["cl"].result_list}


def management_form(prefix: str, total: int, initial: int = 0) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def dwelling_inline_data(index: int, *, dwelling: Dwelling | None = None, **overrides) -> dict[str, str]:
    prefix = f"{DWELLINGS_PREFIX}-{index}"
    data = {
        "address": dwelling.address if dwelling else "3组8号",
        "structure_type": dwelling.structure_type if dwelling else Dwelling.StructureType.ADOBE,
        "storeys": str(dwelling.storeys if dwelling else 2),
        "bays": "",
        "floor_area": "",
        "year_built": str(dwelling.year_built if dwelling else 1978),
        "is_occupied": "on",
        "neighbour_cooperates": "unknown",
        "latitude": "",
        "longitude": "",
        "notes": "",
        "id": str(dwelling.pk) if dwelling else "",
        "household": str(dwelling.household_id) if dwelling else "",
        **overrides,
    }
    return {f"{prefix}-{key}": value for key, value in data.items()}


def attachment_inlines_data() -> dict[str, str]:
    """The two attachment inlines as the browser sends them: no existing files, one empty upload row."""
    return {
        **management_form(ATTACHMENT_LIST_PREFIX, 0),
        **management_form(ATTACHMENT_ADD_PREFIX, 1),
        f"{ATTACHMENT_ADD_PREFIX}-0-id": "",
        f"{ATTACHMENT_ADD_PREFIX}-0-kind": "photo",
        f"{ATTACHMENT_ADD_PREFIX}-0-caption": "",
        f"{ATTACHMENT_ADD_PREFIX}-0-taken_on": "",
    }


def household_fields(household: Household | None = None, **overrides) -> dict:
    if household is None:
        data = {
            "head_name": "陈新户",
            "id_number": valid_id_number(),
            "phone": "13600001111",
            "members_count": "4",
            "categories": [HouseholdCategory.objects.get(code="minimum_living").pk],
            "registered_on": "2024-03-01",
        }
    else:
        data = {
            "head_name": household.head_name,
            "id_number": household.id_number,
            "phone": household.phone,
            "village": str(household.village_id),
            "members_count": str(household.members_count),
            "categories": [c.pk for c in household.categories.all()],
            "registered_on": household.registered_on.isoformat(),
        }
    defaults = {
        "poverty_status": "",
        "poverty_exit_year": "",
        "newly_poor_on": "",
        "source": "",
        "helper_name": "",
        "helper_phone": "",
        "helper_user": "",
        "status": Household.Status.ACTIVE,
        "removed_on": "",
        "removal_reason": "",
        "notes": "",
    }
    return {**defaults, **data, **overrides}


def household_change_data(household: Household, **overrides) -> dict:
    """A complete, valid change-form POST for `household` (with its one dwelling), as the browser sends it."""
    dwelling = household.dwellings.get()
    return {
        "_version": record_version(Household, household.pk),  # the version the page was loaded at
        **household_fields(household, **overrides),
        **management_form(DWELLINGS_PREFIX, 1, initial=1),
        **dwelling_inline_data(0, dwelling=dwelling),
        **attachment_inlines_data(),
    }


def household_add_data(village, **overrides) -> dict:
    return {
        **household_fields(None, village=str(village.pk), **overrides),
        **management_form(DWELLINGS_PREFIX, 1),
        **dwelling_inline_data(0),
        **attachment_inlines_data(),
    }


def snapshot(household: Household) -> tuple:
    """Everything a write could touch: the row, its categories, its history, its dwellings."""
    fresh = Household.objects.get(pk=household.pk)
    return (
        fresh.head_name,
        fresh.id_number,
        fresh.phone,
        fresh.village_id,
        fresh.members_count,
        fresh.updated_at,
        sorted(fresh.categories.values_list("pk", flat=True)),
        fresh.history.count(),
        list(fresh.dwellings.values_list("pk", "address", "updated_at")),
    )


def export_post_data(model_admin, resource_class) -> dict[str, str]:
    """The export form as submitted: xlsx, the first (only) resource, every field ticked."""
    titles = [fmt().get_title() for fmt in model_admin.get_export_formats()]
    data = {"format": str(titles.index("xlsx")), "resource": "0"}
    for field in resource_class().get_export_order():
        data[SelectableFieldsExportForm.create_boolean_field_name(resource_class, field)] = "on"
    return data


def export_rows(response, resource_class) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    columns = resource_class().get_export_order()
    assert len(rows[0]) == len(columns)
    return [dict(zip(columns, row, strict=True)) for row in rows[1:]]


def all_cells(rows: list[dict]) -> set[str]:
    return {str(value) for row in rows for value in row.values() if value is not None}


# -------------------------------------------------------------------------------------------- fixtures


@pytest.fixture
def home(home_household):
    """The 新桥镇 household, with a distinctive name and phone (so "absent from the body" means something)."""
    Household.objects.filter(pk=home_household.pk).update(head_name="林东坑", phone=HOME_PHONE)
    home_household.refresh_from_db()
    return home_household


@pytest.fixture
def other(other_household):
    """The 双洋镇 household, outside the township staff persona's scope."""
    Household.objects.filter(pk=other_household.pk).update(head_name="郑西山", phone=OTHER_PHONE)
    other_household.refresh_from_db()
    return other_household


@pytest.fixture
def households(personas, home, other, poverty_office):
    """Both households, with `home` sourced from the liaison's unit and `other` assigned to the helper."""
    Household.objects.filter(pk=home.pk).update(source=poverty_office)
    Household.objects.filter(pk=other.pk).update(helper_user=personas[HELPER])
    home.refresh_from_db()
    other.refresh_from_db()
    return {"home": home, "other": other}


@pytest.fixture
def superuser(db):
    return make_user(Role.BUREAU_ADMIN, username="root", superuser=True)


# ---------------------------------------------------------------------------- 1. who opens which list


@pytest.mark.parametrize(
    ("role", "model"), [(role, model) for role in ROLES for model in CHANGELISTS if model in CAN_VIEW[role]]
)
def test_role_with_view_permission_opens_changelist(client, personas, households, role, model):
    client.force_login(personas[role])

    response = client.get(changelist_url(model))

    assert response.status_code == 200
    assert 'id="changelist"' in body(response)
    assert response.context["cl"].model._meta.model_name == model


@pytest.mark.parametrize(
    ("role", "model"), [(role, model) for role in ROLES for model in CHANGELISTS if model not in CAN_VIEW[role]]
)
def test_role_without_view_permission_gets_403_on_changelist(client, personas, households, role, model):
    client.force_login(personas[role])

    response = client.get(changelist_url(model))

    assert response.status_code == 403
    assert 'id="changelist"' not in body(response)
    assert households["home"].head_name not in body(response)


@pytest.mark.parametrize("model", CHANGELISTS)
def test_anonymous_is_redirected_to_login(client, households, model):
    response = client.get(changelist_url(model))

    assert response.status_code == 302
    assert response.url == f"/admin/login/?next={changelist_url(model)}"


@pytest.mark.parametrize("model", CHANGELISTS)
def test_user_without_role_is_not_staff_and_is_redirected_to_login(client, personas, households, model):
    nobody = personas["no_role"]
    assert not nobody.is_staff
    client.force_login(nobody)

    response = client.get(changelist_url(model))

    assert response.status_code == 302
    assert response.url == f"/admin/login/?next={changelist_url(model)}"


@pytest.mark.parametrize("model", CHANGELISTS)
def test_staff_user_without_role_gets_403_on_changelist(client, households, model):
    staff_without_role = User.objects.create_user("staff-no-role", password="pw-123456789", is_staff=True)
    client.force_login(staff_without_role)

    response = client.get(changelist_url(model))

    assert response.status_code == 403
    assert households["home"].head_name not in body(response)


# ------------------------------------------------------------------------- 2. which rows each role sees


@pytest.mark.parametrize("role", ROLES)
def test_household_changelist_shows_exactly_the_households_in_scope(client, personas, households, role):
    client.force_login(personas[role])

    response = client.get(changelist_url("household"))

    assert response.status_code == 200
    assert listed_pks(response) == {households[key].pk for key in VISIBLE[role]}
    page = body(response)
    for key, household in households.items():
        if key in VISIBLE[role]:
            assert household.head_name in page
        else:
            assert household.head_name not in page
            assert household.id_number not in page
            assert masked_id(household.id_number) not in page


@pytest.mark.parametrize("role", ROLES)
def test_dwelling_changelist_shows_exactly_the_dwellings_in_scope(client, personas, households, role):
    client.force_login(personas[role])

    response = client.get(changelist_url("dwelling"))

    assert response.status_code == 200
    expected = {households[key].dwellings.get().pk for key in VISIBLE[role]}
    assert listed_pks(response) == expected
    page = body(response)
    for key, household in households.items():
        if key not in VISIBLE[role]:
            assert household.dwellings.get().address not in page
            assert household.head_name not in page


def test_township_staff_sees_only_villages_of_own_township(client, personas, households):
    client.force_login(personas[STAFF])

    response = client.get(changelist_url("village"))

    assert listed_pks(response) == {households["home"].village_id}
    assert households["other"].village.name not in body(response)


# -------------------------------------------------------------- 3. out-of-scope objects are 404, no leak

OUT_OF_SCOPE = [(STAFF, "other"), (LIAISON, "other"), (HELPER, "home")]
IN_SCOPE = [(STAFF, "home"), (LIAISON, "home"), (HELPER, "other"), (OFFICIAL, "other"), (CLERK, "home")]


@pytest.mark.parametrize(("role", "key"), OUT_OF_SCOPE)
def test_out_of_scope_household_change_page_is_404_without_leak(client, personas, households, role, key):
    household = households[key]
    client.force_login(personas[role])

    response = client.get(change_url(household))

    assert response.status_code == 404
    assert household.head_name not in body(response)
    assert household.id_number not in body(response)


@pytest.mark.parametrize(("role", "key"), OUT_OF_SCOPE)
def test_out_of_scope_dwelling_change_page_is_404_without_leak(client, personas, households, role, key):
    household = households[key]
    dwelling = household.dwellings.get()
    client.force_login(personas[role])

    response = client.get(change_url(dwelling))

    assert response.status_code == 404
    assert household.head_name not in body(response)
    assert dwelling.address not in body(response)


@pytest.mark.parametrize(("role", "key"), OUT_OF_SCOPE)
def test_out_of_scope_household_history_page_is_404_without_leak(client, personas, households, role, key):
    household = households[key]
    client.force_login(personas[role])

    response = client.get(history_url(household))

    assert response.status_code == 404
    assert household.head_name not in body(response)
    assert household.id_number not in body(response)


@pytest.mark.parametrize(("role", "key"), OUT_OF_SCOPE)
def test_out_of_scope_dwelling_history_page_is_404(client, personas, households, role, key):
    household = households[key]
    client.force_login(personas[role])

    response = client.get(history_url(household.dwellings.get()))

    assert response.status_code == 404
    assert household.head_name not in body(response)


def test_township_staff_cannot_open_other_township_household(client, personas, households):
    other = households["other"]
    client.force_login(personas[STAFF])

    response = client.get(change_url(other))

    assert response.status_code == 404
    assert other.head_name not in body(response)
    assert other.id_number not in body(response)
    assert other.phone not in body(response)


@pytest.mark.parametrize(("role", "key"), IN_SCOPE)
def test_in_scope_household_change_page_opens(client, personas, households, role, key):
    household = households[key]
    client.force_login(personas[role])

    response = client.get(change_url(household))

    assert response.status_code == 200
    assert household.head_name in body(response)
    assert response.context["original"].pk == household.pk


@pytest.mark.parametrize(("role", "key"), IN_SCOPE)
def test_in_scope_household_history_page_opens(client, personas, households, role, key):
    household = households[key]
    client.force_login(personas[role])

    response = client.get(history_url(household))

    assert response.status_code == 200
    assert household.head_name in body(response)


@pytest.mark.parametrize(("role", "key"), OUT_OF_SCOPE)
def test_out_of_scope_household_history_version_page_is_404_without_leak(client, personas, households, role, key):
    household = households[key]
    version = household.history.latest("history_date")
    client.force_login(personas[role])

    response = client.get(f"{history_url(household)}{version.history_id}/")

    assert household.id_number not in body(response)
    assert version.head_name not in body(response)
    assert response.status_code == 404


@pytest.mark.parametrize(("role", "key"), OUT_OF_SCOPE)
def test_out_of_scope_dwelling_history_version_page_is_404_without_leak(client, personas, households, role, key):
    dwelling = households[key].dwellings.get()
    version = dwelling.history.latest("history_date")
    client.force_login(personas[role])

    response = client.get(f"{history_url(dwelling)}{version.history_id}/")

    assert dwelling.address not in body(response)
    assert response.status_code == 404


# ---------------------------------------------------------------------------------- 4. denied writes


def test_household_change_form_renders_the_inline_prefixes_the_tests_post(client, personas, households):
    client.force_login(personas[STAFF])

    page = body(client.get(change_url(households["home"])))

    for prefix in (DWELLINGS_PREFIX, ATTACHMENT_LIST_PREFIX, ATTACHMENT_ADD_PREFIX):
        assert f'name="{prefix}-TOTAL_FORMS"' in page


def test_household_add_form_renders_the_inline_prefixes_the_tests_post(client, personas):
    client.force_login(personas[STAFF])

    page = body(client.get("/admin/households/household/add/"))

    management = set(re.findall(r'name="([^"]+)-TOTAL_FORMS"', page))
    assert management == {DWELLINGS_PREFIX, ATTACHMENT_LIST_PREFIX, ATTACHMENT_ADD_PREFIX}
    assert f'name="{DWELLINGS_PREFIX}-0-address"' in page


def test_township_staff_can_change_own_township_household(client, personas, households):
    """Control for the denied writes below: the same payload is valid and is saved when allowed."""
    home = households["home"]
    staff = personas[STAFF]
    client.force_login(staff)

    response = client.post(change_url(home), household_change_data(home, head_name="林东坑改", members_count="5"))

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    home.refresh_from_db()
    assert (home.head_name, home.members_count) == ("林东坑改", 5)
    assert home.history.latest("history_date").history_user == staff


def test_township_staff_cannot_change_other_township_household(client, personas, households):
    other = households["other"]
    before = snapshot(other)
    client.force_login(personas[STAFF])

    response = client.post(change_url(other), household_change_data(other, head_name="被篡改", phone="13700000000"))

    assert response.status_code == 404
    assert "被篡改" not in body(response)
    assert snapshot(other) == before


def test_township_staff_cannot_change_other_township_dwelling(client, personas, households):
    other = households["other"]
    dwelling = other.dwellings.get()
    before = snapshot(other)
    client.force_login(personas[STAFF])

    response = client.post(
        change_url(dwelling),
        {
            "household": str(other.pk),
            "address": "被篡改",
            "structure_type": Dwelling.StructureType.FRAME,
            "storeys": "3",
            "is_occupied": "on",
            "neighbour_cooperates": "unknown",
            **attachment_inlines_data(),
        },
    )

    assert response.status_code == 404
    assert snapshot(other) == before


def test_bureau_official_cannot_change_household(client, personas, households):
    home = households["home"]
    before = snapshot(home)
    client.force_login(personas[OFFICIAL])

    response = client.post(change_url(home), household_change_data(home, head_name="被篡改"))

    assert response.status_code == 403
    assert "被篡改" not in body(response)
    assert snapshot(home) == before


@pytest.mark.parametrize(("role", "key"), [(OFFICIAL, "home"), (LIAISON, "home"), (CLERK, "other"), (HELPER, "other")])
def test_view_only_role_cannot_change_household_in_its_scope(client, personas, households, role, key):
    household = households[key]
    before = snapshot(household)
    client.force_login(personas[role])

    response = client.post(change_url(household), household_change_data(household, head_name="被篡改"))

    assert response.status_code == 403
    assert snapshot(household) == before


@pytest.mark.parametrize("role", [OFFICIAL, LIAISON, CLERK, HELPER])
def test_view_only_role_cannot_add_household(client, personas, xinqiao, role):
    village = VillageFactory(township=xinqiao)
    client.force_login(personas[role])

    assert client.get("/admin/households/household/add/").status_code == 403
    response = client.post("/admin/households/household/add/", household_add_data(village, head_name="不该有"))

    assert response.status_code == 403
    assert not Household.objects.filter(head_name="不该有").exists()
    assert Dwelling.objects.count() == 0


def test_township_staff_cannot_add_household_in_other_township_village(client, personas, households):
    other_village = households["other"].village
    households_before, dwellings_before = Household.objects.count(), Dwelling.objects.count()
    client.force_login(personas[STAFF])

    response = client.post("/admin/households/household/add/", household_add_data(other_village, head_name="越界户"))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["village"]
    assert 'class="errorlist' in body(response)
    assert Household.objects.count() == households_before
    assert Dwelling.objects.count() == dwellings_before
    assert not Household.objects.filter(head_name="越界户").exists()


def test_township_staff_cannot_move_own_household_to_other_township(client, personas, households):
    home, other = households["home"], households["other"]
    before = snapshot(home)
    client.force_login(personas[STAFF])

    response = client.post(change_url(home), household_change_data(home, village=str(other.village_id)))

    assert response.status_code == 200
    assert "village" in response.context["adminform"].form.errors
    assert snapshot(home) == before


def test_township_staff_adds_household_with_dwelling(client, personas, home):
    staff = personas[STAFF]
    village = home.village
    households_before, dwellings_before = Household.objects.count(), Dwelling.objects.count()
    client.force_login(staff)

    response = client.post(
        "/admin/households/household/add/", household_add_data(village, head_name="陈新户", phone="13600001111")
    )

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    assert Household.objects.count() == households_before + 1
    assert Dwelling.objects.count() == dwellings_before + 1
    created = Household.objects.get(head_name="陈新户")
    assert created.village == village
    assert created.phone == "13600001111"
    assert list(created.categories.values_list("code", flat=True)) == ["minimum_living"]
    dwelling = created.dwellings.get()
    assert (dwelling.address, dwelling.structure_type, dwelling.storeys) == ("3组8号", "adobe", 2)
    assert created.history.latest("history_date").history_user == staff
    assert dwelling.history.latest("history_date").history_user == staff


def test_history_version_page_does_not_accept_writes(client, personas, households):
    home = households["home"]
    version = home.history.latest("history_date")
    before = snapshot(home)
    client.force_login(personas[STAFF])

    client.post(f"{history_url(home)}{version.history_id}/", household_fields(home, head_name="从历史页写入"))

    assert snapshot(home) == before


# ------------------------------------------------------------------------------ 5. personal data masking


@pytest.mark.parametrize("role", MASKED_ROLES)
def test_role_without_personal_data_permission_sees_masked_numbers_in_household_list(
    client, personas, households, role
):
    home = households["home"]  # in every masked role's scope
    client.force_login(personas[role])

    page = body(client.get(changelist_url("household")))

    assert masked_id(home.id_number) in page
    assert re.search(r"350881\*{8}\d{3}[\dX]", page)
    assert "139****1234" in page
    assert home.id_number not in page
    assert HOME_PHONE not in page


@pytest.mark.parametrize(("role", "key"), [(ADMIN, "home"), (STAFF, "home"), (HELPER, "other")])
def test_lists_are_masked_even_for_roles_that_may_see_personal_data(client, personas, households, role, key):
    household = households[key]
    client.force_login(personas[role])

    page = body(client.get(changelist_url("household")))

    assert masked_id(household.id_number) in page
    assert household.id_number not in page
    assert household.phone not in page


def unmask(client, household, reason="入户核实身份"):
    return client.post(
        reverse("unmask", args=["households.household", household.pk]),
        {"reason": reason, "next": change_url(household)},
    )


def test_bureau_official_change_page_shows_masked_id_and_phone(client, personas, households):
    home = households["home"]
    client.force_login(personas[OFFICIAL])

    response = client.get(change_url(home))

    assert response.status_code == 200
    page = body(response)
    assert masked_id(home.id_number) in page
    assert "139****1234" in page
    assert home.id_number not in page
    assert HOME_PHONE not in page


def test_township_staff_change_page_is_masked_until_unmasked_with_a_reason(client, personas, households):
    home = households["home"]
    client.force_login(personas[STAFF])

    before = body(client.get(change_url(home)))
    assert masked_id(home.id_number) in before
    assert home.id_number not in before
    assert reverse("unmask", args=["households.household", home.pk]) in before

    assert unmask(client, home).status_code == 302
    after = body(client.get(change_url(home)))

    assert f'value="{home.id_number}"' in after
    assert masked_id(home.id_number) not in after


@pytest.fixture
def phone_changed(personas, households):
    """`home` after an administrator changed its phone: the history delta holds old and new numbers."""
    home = households["home"]
    services.save_household(actor=personas[ADMIN], household=home)  # a history row holding HOME_PHONE
    home.phone = "13800005678"
    services.save_household(actor=personas[ADMIN], household=home)
    return home


def test_bureau_official_history_page_masks_changed_phone(client, personas, phone_changed):
    client.force_login(personas[OFFICIAL])

    response = client.get(history_url(phone_changed))

    assert response.status_code == 200
    page = body(response)
    assert "139****1234" in page
    assert "138****5678" in page
    assert HOME_PHONE not in page
    assert "13800005678" not in page
    assert phone_changed.id_number not in page


def test_township_staff_history_page_shows_changed_phone_after_unmasking(client, personas, phone_changed):
    """Control: the delta is on the page, so the official's page above masks it rather than omits it."""
    client.force_login(personas[STAFF])
    assert "13800005678" not in body(client.get(history_url(phone_changed)))

    unmask(client, phone_changed)
    page = body(client.get(history_url(phone_changed)))

    assert HOME_PHONE in page
    assert "13800005678" in page


def test_bureau_official_search_by_id_number_finds_nothing(client, personas, households):
    home = households["home"]
    client.force_login(personas[OFFICIAL])

    response = client.get(changelist_url("household"), {"q": home.id_number})

    assert response.status_code == 200
    assert listed_pks(response) == set()
    assert home.head_name not in body(response)


def test_bureau_official_search_by_id_prefix_finds_nothing(client, personas, households):
    client.force_login(personas[OFFICIAL])

    response = client.get(changelist_url("household"), {"q": "350881"})

    assert listed_pks(response) == set()


def test_bureau_official_search_by_head_name_finds_household(client, personas, households):
    home = households["home"]
    client.force_login(personas[OFFICIAL])

    response = client.get(changelist_url("household"), {"q": home.head_name})

    assert listed_pks(response) == {home.pk}
    assert home.head_name in body(response)


def test_township_staff_search_by_id_number_finds_household(client, personas, households):
    home = households["home"]
    client.force_login(personas[STAFF])

    response = client.get(changelist_url("household"), {"q": home.id_number})

    assert listed_pks(response) == {home.pk}


def test_bureau_official_cannot_probe_id_numbers_through_changelist_filters(client, personas, households):
    home = households["home"]
    client.force_login(personas[OFFICIAL])

    known = client.get(changelist_url("household"), {"id_number": home.id_number})
    unknown = client.get(changelist_url("household"), {"id_number": valid_id_number()})

    known_result = (known.status_code, known.context and listed_pks(known))
    unknown_result = (unknown.status_code, unknown.context and listed_pks(unknown))
    assert known_result == unknown_result


def test_unit_list_masks_phone_for_bureau_official(client, personas, poverty_office):
    assert poverty_office.phone == "0597-3202028"
    client.force_login(personas[OFFICIAL])

    page = body(client.get(changelist_url("unit")))

    assert poverty_office.name in page
    assert "0597-***2028" in page
    assert "0597-3202028" not in page


def test_unit_list_shows_phone_to_bureau_admin(client, personas, poverty_office):
    client.force_login(personas[ADMIN])

    page = body(client.get(changelist_url("unit")))

    assert "0597-3202028" in page


# -------------------------------------------------------------------------------------------- 6. export


@pytest.fixture
def household_admin():
    return django_admin.site._registry[Household]


@pytest.fixture
def dwelling_admin():
    return django_admin.site._registry[Dwelling]


def test_township_staff_export_contains_only_own_township(client, personas, households, household_admin):
    home = households["home"]
    client.force_login(personas[STAFF])

    response = client.post(
        f"{changelist_url('household')}export/", export_post_data(household_admin, HouseholdResource)
    )

    rows = export_rows(response, HouseholdResource)
    assert [row["id_number"] for row in rows] == [home.id_number]
    assert [row["head_name"] for row in rows] == [home.head_name]
    assert {row["township"] for row in rows} == {"新桥镇"}
    assert households["other"].head_name not in all_cells(rows)
    assert households["other"].id_number not in all_cells(rows)


@pytest.mark.parametrize("role", ROLES)
def test_household_export_contains_exactly_the_households_in_scope(client, personas, households, household_admin, role):
    client.force_login(personas[role])

    response = client.post(
        f"{changelist_url('household')}export/", export_post_data(household_admin, HouseholdResource)
    )

    rows = export_rows(response, HouseholdResource)
    assert {row["head_name"] for row in rows} == {households[key].head_name for key in VISIBLE[role]}


def test_bureau_official_export_masks_id_numbers_and_phones(client, personas, households, household_admin):
    client.force_login(personas[OFFICIAL])

    response = client.post(
        f"{changelist_url('household')}export/", export_post_data(household_admin, HouseholdResource)
    )

    rows = export_rows(response, HouseholdResource)
    assert sorted(row["id_number"] for row in rows) == sorted(masked_id(h.id_number) for h in households.values())
    assert sorted(row["phone"] for row in rows) == ["139****1234", "139****6666"]
    cells = all_cells(rows)
    for household in households.values():
        assert household.id_number not in cells
        assert household.phone not in cells


def test_anonymous_cannot_export(client, households, household_admin):
    response = client.post(
        f"{changelist_url('household')}export/", export_post_data(household_admin, HouseholdResource)
    )

    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")
    assert households["home"].id_number.encode() not in response.content


def test_township_staff_dwelling_export_contains_only_own_township(client, personas, households, dwelling_admin):
    client.force_login(personas[STAFF])

    response = client.post(f"{changelist_url('dwelling')}export/", export_post_data(dwelling_admin, DwellingResource))

    rows = export_rows(response, DwellingResource)
    assert [row["head_name"] for row in rows] == [households["home"].head_name]
    assert households["other"].id_number not in all_cells(rows)


def test_bureau_official_dwelling_export_masks_id_numbers(client, personas, households, dwelling_admin):
    client.force_login(personas[OFFICIAL])

    response = client.post(f"{changelist_url('dwelling')}export/", export_post_data(dwelling_admin, DwellingResource))

    rows = export_rows(response, DwellingResource)
    assert sorted(row["household"] for row in rows) == sorted(masked_id(h.id_number) for h in households.values())
    cells = all_cells(rows)
    for household in households.values():
        assert household.id_number not in cells


def test_township_staff_dwelling_export_shows_full_id_numbers(client, personas, households, dwelling_admin):
    client.force_login(personas[STAFF])

    response = client.post(f"{changelist_url('dwelling')}export/", export_post_data(dwelling_admin, DwellingResource))

    rows = export_rows(response, DwellingResource)
    assert [row["household"] for row in rows] == [households["home"].id_number]


# ------------------------------------------------------------------------------------- 7. query counts

CHANGELIST_QUERIES = {"household": 12, "dwelling": 9}


def _grow_registry(xinqiao, shuangyang, total: int) -> None:
    townships = [xinqiao, shuangyang]
    while Household.objects.count() < total:
        n = Household.objects.count()
        household = HouseholdFactory(
            village=VillageFactory(township=townships[n % 2]), categories=["registered_poor", "disabled"]
        )
        DwellingFactory(household=household)


def _changelist_queries(client, model: str, expected_rows: int) -> int:
    client.get(changelist_url(model))  # warm: the session and the shell's cached identity line
    with CaptureQueriesContext(connection) as queries:
        response = client.get(changelist_url(model))
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == expected_rows
    return len(queries.captured_queries)


@pytest.mark.parametrize("model", sorted(CHANGELIST_QUERIES))
def test_changelist_query_count_does_not_grow_with_rows(client, personas, xinqiao, shuangyang, model):
    client.force_login(personas[ADMIN])

    _grow_registry(xinqiao, shuangyang, 5)
    with_5 = _changelist_queries(client, model, 5)
    _grow_registry(xinqiao, shuangyang, 25)
    with_25 = _changelist_queries(client, model, 25)

    assert with_5 == with_25
    assert with_25 == CHANGELIST_QUERIES[model]


def test_township_staff_household_changelist_query_count_does_not_grow_with_rows(client, personas, xinqiao, shuangyang):
    client.force_login(personas[STAFF])

    _grow_registry(xinqiao, shuangyang, 10)
    with_5 = _changelist_queries(client, "household", 5)  # half the rows are in 双洋镇
    _grow_registry(xinqiao, shuangyang, 50)
    with_25 = _changelist_queries(client, "household", 25)

    assert with_5 == with_25


# ------------------------------------------------------------------------------------------ 8. user admin


def user_change_data(user: User, **overrides) -> dict:
    profile = user.profile
    return {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "is_staff": "on",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "profile-TOTAL_FORMS": "1",
        "profile-INITIAL_FORMS": "1",
        "profile-MIN_NUM_FORMS": "1",
        "profile-MAX_NUM_FORMS": "1",
        "profile-0-role": profile.role,
        "profile-0-townships": [str(t.pk) for t in profile.townships.all()],
        "profile-0-unit": str(profile.unit_id or ""),
        "profile-0-id": str(profile.pk),
        "profile-0-user": str(user.pk),
        **overrides,
    }


def test_bureau_admin_user_form_has_no_superuser_input(client, personas):
    bureau_admin = personas[ADMIN]
    assert not bureau_admin.is_superuser
    client.force_login(bureau_admin)

    response = client.get(f"/admin/auth/user/{personas[STAFF].pk}/change/")

    assert response.status_code == 200
    page = body(response)
    assert 'name="username"' in page
    assert 'name="is_superuser"' not in page
    assert 'name="groups"' not in page
    assert 'name="user_permissions"' not in page


def test_superuser_user_form_has_superuser_input(client, personas, superuser):
    """Control: the input exists for a superuser, so its absence above is the read-only rule."""
    client.force_login(superuser)

    page = body(client.get(f"/admin/auth/user/{personas[STAFF].pk}/change/"))

    assert 'name="is_superuser"' in page


def test_bureau_admin_cannot_make_a_user_superuser(client, personas):
    target = personas[STAFF]
    client.force_login(personas[ADMIN])

    response = client.post(
        f"/admin/auth/user/{target.pk}/change/",
        user_change_data(target, first_name="已改名", is_superuser="on", user_permissions=["1"]),
    )

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    target.refresh_from_db()
    assert target.first_name == "已改名"  # the form was valid and saved...
    assert not target.is_superuser  # ...but the superuser flag was ignored
    assert not target.user_permissions.exists()
    assert list(target.groups.values_list("name", flat=True)) == [STAFF]


def test_bureau_admin_cannot_make_self_superuser(client, personas):
    bureau_admin = personas[ADMIN]
    client.force_login(bureau_admin)

    client.post(f"/admin/auth/user/{bureau_admin.pk}/change/", user_change_data(bureau_admin, is_superuser="on"))

    bureau_admin.refresh_from_db()
    assert not bureau_admin.is_superuser


@pytest.mark.parametrize("role", [OFFICIAL, STAFF, LIAISON, CLERK, HELPER])
def test_non_admin_role_cannot_open_user_admin(client, personas, role):
    client.force_login(personas[role])

    response = client.get(f"/admin/auth/user/{personas[ADMIN].pk}/change/")

    assert response.status_code == 403
    assert personas[ADMIN].username not in body(response)


def test_bureau_admin_cannot_reset_superuser_password(client, personas, superuser):
    client.force_login(personas[ADMIN])

    response = client.post(
        f"/admin/auth/user/{superuser.pk}/password/",
        {"usable_password": "true", "password1": "Takeover-20240601", "password2": "Takeover-20240601"},
    )

    assert response.status_code == 404
    superuser.refresh_from_db()
    assert not superuser.check_password("Takeover-20240601")
    assert superuser.check_password("pw-123456789")


def test_bureau_admin_cannot_open_or_change_superuser(client, personas, superuser):
    client.force_login(personas[ADMIN])

    listed = client.get("/admin/auth/user/")
    opened = client.get(f"/admin/auth/user/{superuser.pk}/change/")
    posted = client.post(f"/admin/auth/user/{superuser.pk}/change/", user_change_data(superuser, is_active=""))

    assert listed.status_code == 200
    assert superuser.pk not in listed_pks(listed)
    assert personas[STAFF].pk in listed_pks(listed)
    # Django's "object does not exist" answer for an object outside get_queryset: back to the admin index.
    assert (opened.status_code, opened.url) == (302, "/admin/")
    assert (posted.status_code, posted.url) == (302, "/admin/")
    superuser.refresh_from_db()
    assert superuser.is_active
    assert superuser.is_superuser


def test_superuser_can_reset_another_users_password(client, personas, superuser):
    """Control: the password form and payload above do work when the actor is allowed."""
    target = personas[ADMIN]
    client.force_login(superuser)

    response = client.post(
        f"/admin/auth/user/{target.pk}/password/",
        {"usable_password": "true", "password1": "Reset-20240601x", "password2": "Reset-20240601x"},
    )

    assert response.status_code == 302
    target.refresh_from_db()
    assert target.check_password("Reset-20240601x")


def test_unit_is_not_writable_by_township_staff(client, personas, poverty_office):
    before = Unit.objects.filter(pk=poverty_office.pk).values().get()
    client.force_login(personas[STAFF])

    response = client.post(
        change_url(poverty_office),
        {"name": "被篡改", "kind": poverty_office.kind, "phone": "", "email": "", "is_active": "on"},
    )

    assert response.status_code == 403
    assert Unit.objects.filter(pk=poverty_office.pk).values().get() == before
