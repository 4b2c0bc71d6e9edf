"""The dashboard's tiles and late lists lead to their lists, narrowed to the level the dashboard shows: following
each link, at the city and on a township's drill-down, yields a list that counts what the figure says; a township's
staff following a link to another township find nothing of it."""

from __future__ import annotations

import html

import pytest
from django.urls import resolve, reverse

from reporting.views import FIGURE_LINKS, TILE_KEYS

from .test_figures_and_dashboard import D, record_lead, world  # noqa: F401  (the small world of two townships)

pytestmark = [pytest.mark.django_db]


def listed(client, url: str):
    """What the list at `url` counts: its rows (every page), or for the placard coverage (installed, safe)."""
    response = client.get(url)
    assert response.status_code == 200, url
    context = response.context
    if resolve(url.split("?")[0]).url_name == "placard-coverage":
        return sum(row["installed"] for row in context["rows"]), sum(row["covered"] for row in context["rows"])
    page = context["page"]
    assert not page.paginator.capped
    return page.paginator.count


def follow_every_link(client, url: str, township=None) -> dict:
    """{figure: (the dashboard's figure, what its list counts)} for every tile and late list of the page."""
    response = client.get(url)
    assert response.status_code == 200
    context, found = response.context, {}
    totals = context["totals"]
    for column, value, link in context["tiles"]:
        assert link, f"the tile {column.key} links nowhere"
        if township is not None:
            assert f"township={township.pk}" in link, link
        if column.key == "placard_share":
            found[column.key] = ((totals["placard_installed"], totals["placard_households"]), listed(client, link))
        else:
            found[column.key] = (value, listed(client, link))
    for group in context["late"]:
        if not group["url"]:  # only where the role may not open that list
            assert not response.wsgi_request.user.has_perm(FIGURE_LINKS[group["kind"]][2]), group["kind"]
            continue
        if township is not None:
            assert f"township={township.pk}" in group["url"], group["url"]
        found[f"late:{group['kind']}"] = (context["late_counts"][group["kind"]], listed(client, group["url"]))
    assert {key for key in found if not key.startswith("late:")} == set(TILE_KEYS)
    return found


def assert_consistent(found: dict) -> None:
    wrong = {key: pair for key, pair in found.items() if pair[0] != pair[1]}
    assert not wrong, f"figure != its list's count: {wrong}"


def test_every_city_figure_links_to_a_list_that_counts_it(client, world, official, admin):  # noqa: F811
    # A department's lead without receipt: the city's late leads are every unit's, as the list shows them.
    record_lead(admin, world.poverty_office, world.xq_unit, D(2026, 11, 2))
    client.force_login(official)
    found = follow_every_link(client, reverse("reporting:dashboard"))
    assert_consistent(found)
    assert found["covered"][0] == 9 and found["late:appraisal"][0] == 2  # both townships: not an empty world
    assert found["late:lead"][0] == 3  # the two townships' and the department's


@pytest.mark.parametrize("which", ["xinqiao", "shuangyang"])
def test_every_township_figure_links_to_that_townships_list(client, world, official, which):  # noqa: F811
    township = getattr(world, which)
    client.force_login(official)
    found = follow_every_link(client, f"{reverse('reporting:dashboard')}?township={township.pk}", township)
    assert_consistent(found)
    city = follow_every_link(client, reverse("reporting:dashboard"))
    assert found["covered"][1] < city["covered"][1]  # narrowed, not the whole city's list


def test_township_staff_follow_their_own_townships_links(client, world, staff):  # noqa: F811
    client.force_login(staff)
    found = follow_every_link(client, reverse("reporting:dashboard"), world.xinqiao)
    assert_consistent(found)
    assert found["covered"][0] == 6

    # The same lists narrowed to another township: nothing of it, the scope holds.
    other = world.shuangyang.pk
    for url in (
        reverse("inspections:field") + f"?township={other}",
        reverse("inspections:overdue") + f"?township={other}",
        reverse("rectification:dangerous-without-case") + f"?township={other}",
        reverse("rectification:problems") + f"?township={other}",
        reverse("rectification:cases") + f"?township={other}",
        reverse("rectification:complaints") + f"?township={other}",
    ):
        assert listed(client, url) == 0, url


def test_the_lists_narrow_to_a_village(client, world, official):  # noqa: F811
    client.force_login(official)
    v1 = world.v1.pk
    assert listed(client, reverse("inspections:field") + f"?village={v1}") == 3
    assert listed(client, reverse("inspections:field") + f"?village={v1}&appraised=1") == 2
    assert listed(client, reverse("rectification:dangerous-without-case") + f"?village={v1}") == 1
    assert listed(client, reverse("rectification:problems") + f"?village={v1}") == 1
    assert listed(client, reverse("rectification:complaints") + f"?village={v1}") == 1
    assert listed(client, reverse("rectification:complaints") + f"?village={world.v3.pk}") == 1
    assert listed(client, reverse("inspections:overdue") + "?township=x") == 2  # not an id: ignored


def follow_row_links(client, url: str) -> dict:
    """{(area, figure): (the table's figure, what its list counts)} for every linked figure of the table's rows,
    each link in the page."""
    response = client.get(url)
    page = html.unescape(response.content.decode())
    found = {}
    for row in response.context["rows"]:
        if not row.figures["covered"]:  # a township without households: zeros all along
            continue
        for key, link in row.links.items():
            if key == "placard_share":
                figure = (row.figures["placard_installed"], row.figures["placard_households"])
            else:
                figure = row.figures[key]
            assert f'href="{link}"' in page, link
            found[(row.area.name, key)] = (figure, listed(client, link))
    return found


def test_each_townships_row_links_to_its_lists(client, world, official):  # noqa: F811
    client.force_login(official)
    found = follow_row_links(client, reverse("reporting:dashboard"))
    assert_consistent(found)
    assert {area for area, _key in found} == {"新桥镇", "双洋镇"}
    assert found[("新桥镇", "problems_overdue")][0] == 2 and found[("双洋镇", "covered")][0] == 3


def test_each_villages_row_links_to_its_lists(client, world, official):  # noqa: F811
    client.force_login(official)
    found = follow_row_links(client, f"{reverse('reporting:dashboard')}?township={world.xinqiao.pk}")
    assert_consistent(found)
    assert {area for area, _key in found} == {"东坑村", "南洋村"}
    assert ("东坑村", "placard_share") not in found  # the coverage is counted by township only
    assert found[("东坑村", "covered")][0] == 3 and found[("南洋村", "cases_open")][0] == 1
