"""The search box on every page: households, complaints and cases within the user's scope; a ticket found however it
was typed (lower case, no dashes, full-width digits), also on the public lookup; nothing outside the scope, and no
number fragment that would read a masked number back."""

from __future__ import annotations

import pytest
from django.urls import reverse

from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory
from housing_safety.access import Role
from rectification.selectors import ticket_from_text

from .test_complaints import log

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("chinese")]


@pytest.mark.parametrize(
    ("typed", "ticket"),
    [
        ("TS-2026-000012", "TS-2026-000012"),
        ("ts-2026-12", "TS-2026-000012"),
        ("TS2026000012", "TS-2026-000012"),
        ("２０２６－０００１２", "TS-2026-000012"),
        (" ts 2026 12 ", "TS-2026-000012"),
        ("TS-2026-1234567", None),  # seven digits: no ticket
        ("陈金水", None),
        ("2026", None),
    ],
)
def test_a_ticket_is_read_the_way_people_type_it(typed, ticket):
    assert ticket_from_text(typed) == ticket


def search(client, user, term: str) -> str:
    client.force_login(user)
    response = client.get(reverse("search"), {"q": term})
    assert response.status_code == 200
    return response.content.decode()


def test_the_clerk_finds_a_complaint_by_ticket_typed_loosely_and_by_the_reporter(client, personas, xinqiao):
    clerk = personas[Role.COMPLAINT_CLERK]
    complaint, _code = log(clerk, township=xinqiao, reporter_name="王举报")
    loose = complaint.ticket.lower().replace("-", "")
    assert complaint.ticket in search(client, clerk, loose)
    assert complaint.ticket in search(client, clerk, "王举报")
    listed = client.get(reverse("rectification:complaints"), {"q": loose}).content.decode()
    assert complaint.get_absolute_url() in listed


def test_township_staff_find_only_their_township(client, staff, xinqiao, shuangyang):
    mine = HouseholdFactory(head_name="陈金水", village=VillageFactory(township=xinqiao, name="东坑村"))
    theirs = HouseholdFactory(head_name="陈金山", village=VillageFactory(township=shuangyang, name="西山村"))
    for household in (mine, theirs):
        DwellingFactory(household=household)
    html = search(client, staff, "陈金")
    assert reverse("inspections:household", args=[mine.pk]) in html
    assert reverse("inspections:household", args=[theirs.pk]) not in html
    assert "陈金山" not in html


def test_a_reporter_is_not_searchable_by_township_staff(client, personas, staff, xinqiao):
    complaint, _code = log(personas[Role.COMPLAINT_CLERK], township=xinqiao, reporter_name="王举报")
    assert complaint.ticket in search(client, staff, complaint.ticket)  # their township's complaint, by ticket
    assert complaint.ticket not in search(client, staff, "王举报")  # but not by who reported it


def test_a_fragment_of_a_number_finds_nothing(client, admin, xinqiao):
    household = HouseholdFactory(phone="13912345678", village=VillageFactory(township=xinqiao))
    DwellingFactory(household=household)
    url = reverse("inspections:household", args=[household.pk])
    assert url in search(client, admin, "13912345678")  # a whole number, for a role that sees personal data
    assert url not in search(client, admin, "1391234")


def test_an_empty_or_unmatched_search_says_so(client, staff):
    assert "没有找到" not in search(client, staff, "")
    assert "没有找到" in search(client, staff, "不存在的名字")


def test_the_public_lookup_takes_the_ticket_as_typed(client, personas, xinqiao):
    complaint, code = log(personas[Role.COMPLAINT_CLERK], township=xinqiao)
    response = client.post(
        reverse("complaint-lookup"), {"ticket": complaint.ticket.lower().replace("-", " "), "code": code}
    )
    assert response.status_code == 200
    assert complaint.ticket in response.content.decode()
