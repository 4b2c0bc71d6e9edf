"""Renovation pages render for the roles that may see them and refuse the others."""

from __future__ import annotations

import pytest
from django.urls import reverse

from housing_safety.access import Role
from rectification.models import CaseStatus
from rectification.tests.factories import dangerous_dwelling, new_case, standards, walk

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("chinese")]


@pytest.fixture
def case(staff, admin, home_household):
    standards()
    return walk(new_case(staff, dangerous_dwelling(home_household)), CaseStatus.PAID, township_user=staff,
                bureau_user=admin)  # fmt: skip


PAGES = ["rectification:cases", "rectification:dangerous-without-case", "rectification:archive",
         "rectification:subsidies"]  # fmt: skip


@pytest.mark.parametrize("name", PAGES)
def test_overview_pages_render_for_township_and_bureau(client, personas, case, name):
    for role in (Role.TOWNSHIP_STAFF, Role.BUREAU_ADMIN, Role.BUREAU_OFFICIAL):
        client.force_login(personas[role])
        response = client.get(reverse(name))
        assert response.status_code == 200, (role, response.status_code)
    for role in (Role.DEPARTMENT_LIAISON, Role.COMPLAINT_CLERK, Role.HELPER, "no_role"):
        client.force_login(personas[role])
        assert client.get(reverse(name)).status_code == 403


def test_case_page_shows_timeline_and_archive(client, staff, admin, case):
    for user in (staff, admin):
        client.force_login(user)
        response = client.get(reverse("rectification:case", args=[case.pk]))
        assert response.status_code == 200
        html = response.content.decode()
        assert case.number in html and "补助拨付" in html and "改造协议" in html


def test_archive_zip_holds_every_document_and_an_index(client, staff, case):
    import io
    import zipfile

    client.force_login(staff)
    response = client.get(reverse("rectification:case-archive", args=[case.pk]))
    assert response.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert len(names) == case.documents.count() + 1
    assert any(name.endswith(".xlsx") for name in names)
