"""Integers out of range in a URL are a 404, an empty list or an ignored filter, never a 500 (issue 23).

SQLite cannot bind a number over 2**63 (OverflowError) and Python's dates end in year 9999; Django guards an
integer column's own `exact` but not a relation's (`village_id=`) nor `in`. Every URL pattern of the root URLconf
(the admin's included, as test_idor enumerates them) is requested by the bureau administrator, who may open every
page, with a 25-digit number in each path argument, and each page with each integer query parameter the project
or the admin reads set to such a number.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.db import transaction
from django.urls import reverse

from housing_safety.params import ID_MAX, int_param, year_param

from . import test_idor
from .test_idor import PARAMETER, ROUTES, client_for

# The IDOR sweep's world (its records, and a session per persona), built once for this module.
world, _world_media = test_idor.world, test_idor._world_media

HUGE = "1" + "0" * 24  # 25 digits
OUT_OF_RANGE = (HUGE, str(ID_MAX + 1), "99999")
# Every integer the project's pages read from a query, and the admin's relation filters and initial values.
QUERY_PARAMETERS = (
    "village", "township", "year", "quarter", "household", "dwelling", "unit", "page", "p", "source", "handler",
    "case", "helper_user",
)  # fmt: skip
SKIPPED = {"admin:logout"}  # POST-only, and would end the session


def _path(route) -> str:
    return "/" + PARAMETER.sub(lambda _match: HUGE, route.route).replace("^", "").replace("$", "")


class _ServerError(Exception):
    pass


def _server_errors(client, urls) -> list[str]:
    """The URLs that answer 5xx, with the exception. Each request runs in a savepoint rolled back after a 500, so
    one failure on PostgreSQL (an aborted transaction) does not fail the next."""
    found = []
    for url in urls:
        try:
            with transaction.atomic():
                response = client.get(url)
                if response.status_code >= 500:
                    raise _ServerError
        except _ServerError:
            error = getattr(response, "exc_info", None)
            found.append(f"{response.status_code} {url}: {error[1]!r}" if error else f"{response.status_code} {url}")
    return found


def test_every_integer_path_argument_is_bounded():
    """<id:pk> (housing_safety.params.IdConverter), never Django's unbounded <int:pk>."""
    unbounded = [route.route for route in ROUTES.values() if "<int:" in route.route]
    assert not unbounded, unbounded


@pytest.mark.django_db
def test_no_url_answers_500_to_a_25_digit_id_in_its_path(world):
    client = client_for(world, "admin")
    client.raise_request_exception = False
    urls = [_path(route) for key, route in sorted(ROUTES.items()) if route.params and key not in SKIPPED]
    assert len(urls) > 100  # the admin's pages are in the walk
    assert not _server_errors(client, urls)
    assert client.get(reverse("rectification:problem", args=[1]).replace("/1/", f"/{HUGE}/")).status_code == 404


def _query_urls(routes, value: str) -> list[str]:
    urls = []
    for route in routes:
        path = _path(route)
        urls += [f"{path}?{urlencode({name: value})}" for name in QUERY_PARAMETERS]
        urls.append(f"{path}?{urlencode({'year': value, 'quarter': '1'})}")  # the lead report needs both
        urls.append(f"{path}?{urlencode({'year': '2026', 'quarter': value})}")
    return urls


# Pages without a path argument: the others answer 404 to the 25-digit id before they read their query.
PAGES = [route for key, route in sorted(ROUTES.items()) if not route.params and key not in SKIPPED]


@pytest.mark.django_db
def test_no_page_answers_500_to_a_25_digit_integer_in_its_query(world):
    client = client_for(world, "admin")
    client.raise_request_exception = False
    assert not _server_errors(client, _query_urls(PAGES, HUGE))


@pytest.mark.django_db
@pytest.mark.parametrize("value", OUT_OF_RANGE[1:])
def test_the_projects_pages_answer_integers_just_out_of_range(world, value):
    """Just over the id column's range, and a year past 9999, on the project's own pages."""
    client = client_for(world, "admin")
    client.raise_request_exception = False
    assert not _server_errors(client, _query_urls([r for r in PAGES if not r.route.startswith("admin/")], value))


@pytest.mark.django_db
def test_an_out_of_range_filter_is_ignored_or_matches_nothing(world):
    client = client_for(world, "admin")
    # The field page's drill-down by village and the renovation list's filters: ignored, the page lists as without.
    field = client.get(reverse("inspections:field"), {"village": HUGE})
    assert field.status_code == 200 and field.context["village"] == ""
    cases = client.get(reverse("rectification:cases"), {"township": HUGE, "year": "99999"})
    assert cases.status_code == 200 and cases.context["year"] == ""
    assert len(cases.context["page"].object_list) == len(
        client.get(reverse("rectification:cases")).context["page"].object_list
    )
    # Placards of a township that cannot exist: the page names none; the lead report asks for a real quarter.
    assert client.get(reverse("inspections:placard-print"), {"township": HUGE}).status_code == 400
    report = client.get(reverse("rectification:lead-report"), {"year": HUGE, "quarter": "1"})
    assert report.status_code == 400 and "请选择年度和季度" in report.content.decode()
    # The admin's relation filters: an empty list, not the whole table.
    changelist = client.get("/admin/rectification/problem/", {"household": HUGE})
    assert changelist.status_code == 200 and changelist.context["cl"].result_count == 0


def test_int_param_reads_plain_numbers_in_range_only():
    query = {"a": "42", "b": HUGE, "c": "²", "d": "-3", "e": " 7 ", "f": "", "g": "1e3", "h": "٣"}
    assert [int_param(query, name) for name in "abcdefghz"] == [42, None, None, None, 7, None, None, None, None]
    assert int_param({"q": "5"}, "q", maximum=4) is None
    assert int_param({"q": str(ID_MAX)}, "q") == ID_MAX
    assert year_param({"year": "2026"}) == 2026
    assert year_param({"year": "1999"}) is None and year_param({"year": "9999"}) is None


@pytest.mark.django_db
def test_a_relation_or_in_with_a_number_beyond_the_column_matches_nothing():
    """housing_safety.lookups: what Django does for an integer column's `exact`, also through a relation and for
    `in` (SQLite raised OverflowError on both)."""
    from households.models import Dwelling, Household
    from households.tests.factories import DwellingFactory

    dwelling = DwellingFactory()
    huge = int(HUGE)
    assert not Household.objects.filter(village_id=huge).exists()
    assert not Dwelling.objects.filter(household=huge).exists()
    assert list(Dwelling.objects.filter(pk__in=[huge, dwelling.pk])) == [dwelling]
    assert list(Dwelling.objects.filter(household__in=[-huge, dwelling.household_id])) == [dwelling]
    assert not Dwelling.objects.filter(pk__in=[huge]).exists()
    assert Dwelling.objects.exclude(household=huge).count() == Dwelling.objects.count()
