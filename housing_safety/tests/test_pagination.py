"""Bounded counts: a list page counts at most COUNT_LIMIT rows and then says "more than"."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from households.models import Household
from households.tests.conftest import *  # noqa: F403  (personas, townships)
from households.tests.factories import HouseholdFactory
from housing_safety.pagination import BoundedPaginator
from inspections.tests.factories import AppraisalFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def eight_households(xinqiao):
    return HouseholdFactory.create_batch(8, village__township=xinqiao)


def test_the_count_stops_at_the_limit_and_says_so(eight_households, monkeypatch):
    monkeypatch.setattr(BoundedPaginator, "count_limit", 5)
    paginator = BoundedPaginator(Household.objects.order_by("pk"), 2)
    with CaptureQueriesContext(connection) as queries:
        assert paginator.count == 5
    assert paginator.capped is True
    assert paginator.num_pages == 3
    [count_sql] = [query["sql"] for query in queries]
    assert "COUNT(*)" in count_sql.upper() and "LIMIT 6" in count_sql.upper()
    # The page itself still reads the right rows.
    page = paginator.get_page(2)
    assert [h.pk for h in page] == [h.pk for h in eight_households[2:4]]


def test_under_the_limit_the_count_is_exact(eight_households):
    paginator = BoundedPaginator(Household.objects.all(), 3)
    assert (paginator.count, paginator.capped, paginator.num_pages) == (8, False, 3)


def test_a_list_that_is_not_a_queryset_is_counted_by_length():
    paginator = BoundedPaginator([1, 2, 3], 2)
    assert (paginator.count, paginator.capped) == (3, False)


def test_a_capped_list_page_says_more_than(client, official, xinqiao, monkeypatch, chinese):
    monkeypatch.setattr(BoundedPaginator, "count_limit", 2)
    for _ in range(3):
        AppraisalFactory(dwelling__household__village__township=xinqiao, grade="D", load_bearing_walls="d",
                         recommendation="rebuild")  # fmt: skip
    client.force_login(official)
    page = client.get(reverse("inspections:dangerous")).content.decode()
    assert "超过 2 户" in page


def test_a_capped_admin_changelist_says_more_than(client, admin, eight_households, monkeypatch, chinese):
    monkeypatch.setattr(BoundedPaginator, "count_limit", 5)
    client.force_login(admin)
    page = client.get(reverse("admin:households_household_changelist")).content.decode()
    assert "超过 5 农户" in " ".join(page.split())
