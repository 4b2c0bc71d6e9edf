"""Renovation pages render for the roles that may see them and refuse the others."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from households.models import Dwelling
from housing_safety.access import Role
from rectification import selectors
from rectification.models import CaseStatus, RenovationCase
from rectification.tests.factories import dangerous_dwelling, days_ago, new_case, standards, walk

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
    assert len(names) == case.documents.count() + 3  # with the index, the folder's cover and contents (PDF)
    assert any(name.endswith(".xlsx") for name in names)


def next_page(html: str) -> str:
    """The href of the pager's "next" link, as the browser follows it."""
    return unescape(re.search(r'<nav class="pager">.*?<a href="([^"]*)">下一页</a>', html, re.S).group(1))


def case_numbers(html: str) -> list[str]:
    return re.findall(r"<strong>([^<]+)</strong>", html.split('<ul class="list">')[1].split("</ul>")[0])


def test_page_two_of_the_case_list_keeps_every_filter(client, admin, staff, home_household, other_household):
    """The pager keeps the whole query: step, programme year, township and stalled hold on page 2."""
    standards()
    base = new_case(staff, dangerous_dwelling(home_household))
    base.last_activity_on = days_ago(120)  # stalled
    # Copies that match every filter, or all but one, interleaved in the list's order (township, number).
    elsewhere = {"township": other_household.village.township, "household": other_household}
    unlike = [{}, {"programme_year": 2025}, {"last_activity_on": timezone.localdate()}, {"status": "village_assessed"}]
    unlike.append(elsewhere)
    copies = []
    for number in range(200):
        fields = unlike[number % 5] if number < 150 else {}
        copy = RenovationCase(**{f.attname: getattr(base, f.attname) for f in RenovationCase._meta.concrete_fields})
        copy.pk, copy.number = None, f"CL{number:05d}"
        for name, value in fields.items():
            setattr(copy, name, value)
        copy.dwelling = Dwelling.objects.create(
            household=copy.household, address=f"{number}号", storeys=1, structure_type=Dwelling.StructureType.TIMBER
        )
        copies.append(copy)
    RenovationCase.objects.bulk_create(copies)
    township = home_household.village.township
    url = reverse("rectification:cases") + f"?status=applied&year=2026&township={township.pk}&stalled=1"
    matching = set(
        selectors.stalled_cases(
            RenovationCase.objects.filter(status="applied", programme_year=2026, township=township)
        ).values_list("number", flat=True)
    )
    assert len(matching) > 50 and RenovationCase.objects.count() > len(matching) + 50

    client.force_login(admin)
    first = client.get(url).content.decode()
    second = client.get(reverse("rectification:cases") + next_page(first)).content.decode()
    shown = case_numbers(first), case_numbers(second)
    assert len(shown[0]) == 50 and set(shown[0]) | set(shown[1]) == matching
    assert len(shown[1]) == len(matching) - 50
