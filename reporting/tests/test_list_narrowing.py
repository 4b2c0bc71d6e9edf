"""Every list the dashboard's figures lead to says which area it is narrowed to (templates/_area_chip.html):
范围：新桥镇 › 东坑村 ×, the × removing only the narrowing, a link back to the dashboard for those who may see it;
its filter form keeps the narrowing; an area outside the user's scope shows no name (and none of its rows)."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from reporting import rollup

from .test_figures_and_dashboard import world  # noqa: F401  (the small world of two townships)

pytestmark = [pytest.mark.django_db]

# (URL name, the list's own filters the dashboard sends along, whether its filter form is a GET search form)
LISTS = [
    ("inspections:field", {"appraised": "1"}, True),
    ("inspections:overdue", {}, False),
    ("inspections:dangerous", {}, False),
    ("inspections:revisits", {"show": "overdue"}, False),
    ("rectification:cases", {"status": "open"}, True),
    ("rectification:problems", {"status": "unresolved"}, True),
    ("rectification:complaints", {"status": "open"}, True),
    ("rectification:leads", {"show": "unreceipted"}, False),
    ("rectification:dangerous-without-case", {}, False),
    ("inspections:placard-coverage", {}, False),
]
BY_TOWNSHIP_ONLY = {
    "rectification:leads",
    "inspections:placard-coverage",
}  # no village filter: the dashboard sends none
CHIP = re.compile(r'<p class="area-chip">(.*?)</p>', re.S)


def chip(response) -> str:
    found = CHIP.search(response.content.decode())
    return html.unescape(found.group(1)) if found else ""


def url(name: str, **query) -> str:
    from urllib.parse import urlencode

    return f"{reverse(name)}?{urlencode(query)}" if query else reverse(name)


@pytest.mark.parametrize(("name", "filters", "has_form"), LISTS)
def test_a_narrowed_list_names_its_area_and_can_be_widened(client, world, official, name, filters, has_form):  # noqa: F811
    client.force_login(official)
    response = client.get(url(name, **filters, township=world.xinqiao.pk))
    assert response.status_code == 200
    text = chip(response)
    assert "范围：" in text and "新桥镇" in text and "双洋镇" not in text
    clear = re.search(r'class="chip-clear" href="([^"]*)"', text).group(1)
    assert "township=" not in clear and "village=" not in clear
    assert all(f"{key}={value}" in clear for key, value in filters.items())  # the other filters stay
    assert clear.startswith(reverse(name))
    assert f'href="{reverse("reporting:dashboard")}?township={world.xinqiao.pk}"' in text  # the way back
    if has_form:
        form = re.search(r'<form class="search" method="get".*?</form>', response.content.decode(), re.S).group(0)
        assert f'<input type="hidden" name="township" value="{world.xinqiao.pk}">' in form

    if name in BY_TOWNSHIP_ONLY:
        return
    village = client.get(url(name, **filters, village=world.v1.pk))
    assert "新桥镇 › 东坑村" in chip(village)
    assert f"?village={world.v1.pk}" in chip(village)

    assert chip(client.get(url(name, **filters))) == ""  # not narrowed: no chip


@pytest.mark.parametrize(("name", "filters", "has_form"), LISTS)
def test_another_townships_id_shows_neither_its_name_nor_its_rows(client, world, staff, name, filters, has_form):  # noqa: F811
    if not staff.has_perm("rectification.view_leadtransfer") and name == "rectification:leads":
        assert client.get(url(name)).status_code in (302, 403)  # not theirs to open at all
        return
    client.force_login(staff)  # 新桥镇's staff
    for query in ({"township": world.shuangyang.pk}, {"village": world.v3.pk}):
        response = client.get(url(name, **filters, **query))
        assert response.status_code == 200
        page = response.content.decode()
        assert "双洋镇" not in page and world.v3.name not in page
        assert "不在您的辖区内" in chip(response)
        if "page" in response.context:
            assert response.context["page"].paginator.count == 0
        if has_form:
            form = re.search(r'<form class="search" method="get".*?</form>', page, re.S).group(0)
            assert 'name="township"' not in form and 'name="village"' not in form
    unknown = client.get(url(name, **filters, township=2**40))
    assert unknown.status_code == 200 and "不在您的辖区内" in chip(unknown)


def test_the_case_list_offers_the_open_cases(client, world, official):  # noqa: F811
    client.force_login(official)
    page = client.get(url("rectification:cases", status="open")).content.decode()
    assert '<option value="open" selected>未办结</option>' in page


def test_the_pager_keeps_the_narrowing(client, world, official, settings):  # noqa: F811
    from django.template import RequestContext, Template
    from django.test import RequestFactory

    request = RequestFactory().get("/x/", {"township": world.xinqiao.pk, "status": "open", "page": "1"})
    rendered = Template("{% querystring page=2 %}").render(RequestContext(request, {}))
    assert f"township={world.xinqiao.pk}" in rendered and "status=open" in rendered and "page=2" in rendered


def test_the_village_page_has_the_township_levels_tiles_each_leading_to_its_list(client, world, official):  # noqa: F811
    from reporting.views import BY_TOWNSHIP_ONLY, TILE_KEYS

    from .test_dashboard_links import listed

    client.force_login(official)
    response = client.get(f"{reverse('reporting:dashboard')}?village={world.v1.pk}")
    assert response.status_code == 200
    tiles = {column.key: (value, link) for column, value, link in response.context["tiles"]}
    assert set(tiles) == set(TILE_KEYS)
    page = html.unescape(response.content.decode())
    found = {}
    for key, (value, link) in tiles.items():
        if key in BY_TOWNSHIP_ONLY:  # the placard coverage is a table of townships: shown, linked nowhere
            assert not link
            continue
        assert f"village={world.v1.pk}" in link and f'href="{link}"' in page, link
        found[key] = (value, listed(client, link))
    assert all(figure == counted for figure, counted in found.values()), found
    assert found["covered"][0] == 3 == response.context["page"].paginator.count  # the village's, not the township's
    assert found["dangerous_without_case"][0] == 1


def test_a_household_reached_from_the_dashboard_has_the_dashboards_crumbs(client, world, official, staff):  # noqa: F811
    household = world.h_a  # 林安全, of 东坑村
    client.force_login(official)
    village_page = client.get(f"{reverse('reporting:dashboard')}?village={world.v1.pk}").content.decode()
    link = f"{reverse('inspections:household', args=[household.pk])}?from=dashboard"
    assert f'href="{link}"' in village_page

    def crumbs(url):
        text = html.unescape(client.get(url).content.decode())
        nav = re.search(r'<nav class="shell-crumbs".*?</nav>', text, re.S).group(0)
        return re.findall(r'<li class="breadcrumb-item[^"]*"[^>]*>(?:<a href="([^"]*)">)?([^<]*)', nav)

    dashboard = reverse("reporting:dashboard")
    assert crumbs(link) == [
        (reverse("home"), "工作台"),
        (dashboard, "全市"),
        (f"{dashboard}?township={world.xinqiao.pk}", "新桥镇"),
        (f"{dashboard}?village={world.v1.pk}", world.v1.name),
        ("", household.head_name),
    ]
    plain = crumbs(reverse("inspections:household", args=[household.pk]))
    assert (dashboard, "全市") not in plain  # reached otherwise: the page's usual crumbs
    # the township and village are the household's own, whatever else the URL says
    assert crumbs(link + f"&village={world.v3.pk}&township={world.shuangyang.pk}") == crumbs(link)

    client.force_login(staff)  # 新桥镇's staff: their dashboard is their township
    assert [label for _url, label in crumbs(link)] == ["工作台", "工作看板", world.v1.name, household.head_name]


def test_the_narrowing_costs_one_query_and_the_village_page_a_fixed_number(client, world, official):  # noqa: F811
    from housing_safety.tests.kit import count_queries

    client.force_login(official)
    plain, narrowed = reverse("inspections:overdue"), reverse("inspections:overdue") + f"?village={world.v1.pk}"
    count_queries(client, plain)  # warm
    assert count_queries(client, narrowed) == count_queries(client, plain) + 1  # the village with its township
    village_page = f"{reverse('reporting:dashboard')}?village={world.v1.pk}"
    count_queries(client, village_page)
    assert count_queries(client, village_page) == VILLAGE_PAGE_QUERIES
    rollup.refresh_figures(day=timezone.localdate())  # the village's figures: one SUM over the township's rows
    assert count_queries(client, village_page) == VILLAGE_PAGE_QUERIES_FROM_THE_ROLLUP


# the households (a page of them), whether the rollup holds today, and the village's figures (area_figures: one
# GROUP BY each)
VILLAGE_PAGE_QUERIES = 22
VILLAGE_PAGE_QUERIES_FROM_THE_ROLLUP = 11
