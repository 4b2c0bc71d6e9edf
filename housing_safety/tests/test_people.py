"""A person is named by the name the administrator entered, not by their login, wherever the system shows them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from households.tests.factories import make_user
from housing_safety.access import Role
from housing_safety.people import person_name

pytestmark = pytest.mark.django_db


def named_official():
    official = make_user(Role.BUREAU_OFFICIAL, username="official7")
    official.first_name = "林建华"
    official.save(update_fields=["first_name"])
    return official


def test_a_person_is_their_name_and_their_login_only_when_no_name_was_entered():
    named = named_official()
    unnamed = make_user(Role.BUREAU_OFFICIAL, username="official8")
    assert (person_name(named), str(named)) == ("林建华", "林建华")
    assert (person_name(unnamed), str(unnamed)) == ("official8", "official8")


def test_the_admins_pickers_offer_people_by_name(client, admin_user):
    named_official()
    client.force_login(admin_user)
    page = client.get(reverse("admin:inspections_guidanceassignment_add")).content.decode()
    assert ">林建华</option>" in page and ">official7</option>" not in page
