"""The home (工作台) and the shell every page wears: each role lands on its own to-dos, each count links to a list
that shows the same records, the menu holds the role's pages and marks the current one, logout is a POST."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory
from housing_safety.access import Role

pytestmark = pytest.mark.django_db


def page_text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def todo_count(response, url: str) -> int:
    """The count shown on the home's line that links to `url`."""
    html = response.content.decode()
    match = re.search(rf'<a href="{re.escape(url)}">\s*<span class="todo-count">(\d+)</span>', html)
    assert match, f"no to-do links to {url}"
    return int(match.group(1))


def overdue_household(township, days_ago: int = 60):
    registered = timezone.localdate() - datetime.timedelta(days=days_ago)
    household = HouseholdFactory(village=VillageFactory(township=township), registered_on=registered)
    DwellingFactory(household=household)
    return household


def test_anonymous_is_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_login_lands_on_the_home(client, staff):
    staff.set_password("a long enough password 1")
    staff.save()
    response = client.post(
        reverse("admin:login") + "?next=/", {"username": staff.username, "password": "a long enough password 1"}
    )
    assert response.status_code == 302 and response.url == "/"
    assert "工作台" in page_text(client.get("/"))


@pytest.mark.parametrize("role", Role.values)
def test_every_role_has_a_home_with_its_identity_and_a_post_logout(client, personas, role):
    user = personas[role]
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    text = page_text(response)
    assert "工作台" in text and str(Role(role).label) in text
    html = response.content.decode()
    assert re.search(rf'<form class="shell-logout" action="{reverse("admin:logout")}" method="post">', html)
    assert f'href="{reverse("admin:logout")}"' not in html  # never a GET link to logout


def test_township_staff_counts_their_township_only_and_the_line_leads_to_the_same_households(
    client, staff, xinqiao, shuangyang
):
    mine = [overdue_household(xinqiao) for _ in range(2)]
    overdue_household(shuangyang)  # another township's: not counted, not listed
    client.force_login(staff)
    home = client.get("/")
    overdue_url = reverse("inspections:overdue")
    assert todo_count(home, overdue_url) == 2
    listed = client.get(overdue_url)
    for household in mine:
        assert reverse("inspections:household", args=[household.pk]) in listed.content.decode()
    assert listed.content.decode().count('href="/field/households/') == 2


def test_due_soon_line_lists_the_households_due_within_seven_days(client, staff, xinqiao):
    today = timezone.localdate()
    soon = HouseholdFactory(
        village=VillageFactory(township=xinqiao), registered_on=today - datetime.timedelta(days=27)
    )  # due in a few days
    DwellingFactory(household=soon)
    overdue_household(xinqiao)  # already overdue: not "due soon"
    client.force_login(staff)
    url = reverse("inspections:overdue") + "?within=7"
    assert todo_count(client.get("/"), url) == 1
    listed = client.get(url).content.decode()
    assert reverse("inspections:household", args=[soon.pk]) in listed
    assert listed.count('href="/field/households/') == 1


def menu_of(client, user) -> str:
    client.force_login(user)
    html = client.get("/").content.decode()
    return re.search(r'<nav id="shell-menu".*?</nav>', html, re.S).group(0)


def test_menus_follow_the_role(client, personas):
    staff_menu = menu_of(client, personas[Role.TOWNSHIP_STAFF])
    assert reverse("inspections:field") in staff_menu
    assert reverse("inspections:helper") not in staff_menu  # the helper's page is the helper's
    assert reverse("reporting:dashboard") in menu_of(client, personas[Role.BUREAU_OFFICIAL])
    helper_menu = menu_of(client, personas[Role.HELPER])
    assert reverse("inspections:helper") in helper_menu  # the helper's page is reachable by a click
    assert reverse("households:lists") not in helper_menu
    assert reverse("rectification:complaints") in menu_of(client, personas[Role.COMPLAINT_CLERK])
    assert reverse("admin:index") in menu_of(client, personas[Role.BUREAU_ADMIN])


def test_the_menu_marks_the_current_page_and_the_breadcrumbs_lead_home(client, staff, home_household):
    client.force_login(staff)
    html = client.get(reverse("inspections:household", args=[home_household.pk])).content.decode()
    # a household's page sits under "find a household": that entry is current, and the crumbs lead back
    assert re.search(rf'<a href="{reverse("inspections:field")}" aria-current="page">', html)
    crumbs = re.search(r'<nav class="shell-crumbs".*?</nav>', html, re.S).group(0)
    assert 'href="/"' in crumbs and reverse("inspections:field") in crumbs


def test_the_home_costs_the_same_queries_whatever_the_data(client, staff, xinqiao):
    overdue_household(xinqiao)
    client.force_login(staff)
    client.get("/")  # content types warm
    with CaptureQueriesContext(connection) as few:
        client.get("/")
    for _ in range(10):
        overdue_household(xinqiao)
    with CaptureQueriesContext(connection) as many:
        client.get("/")
    assert len(many) == len(few)
    assert len(few) <= 20
