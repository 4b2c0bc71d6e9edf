"""Phones (issue 17): every list at 360 px shows each row as a card with labelled values and the totals.

The mechanism is one class in the shared stylesheet (`table.responsive` in static/css/app.css): at phone width each row
is a card, the row's key cell (a <th> without data-label) its title, every other cell shows its column's name from its
`data-label`. So every table on a page a role can open must be such a list, each body and totals cell labelled, and
its totals row must not be hidden. The few tables that are not lists are named here with the reason.

The pages are the ones each role may open of the project's URL map (the crawl's way, test_crawl.pages_it_may_open),
in the IDOR sweep's world (idor_world.py), where township B's records give the lists rows; a few lists are read in
their other views too (a tab, a filter). The browser check of the same at 360 px is test_phone_lists_browser.py.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.test import Client

from housing_safety.tests import kit

from .idor_world import build_world
from .test_crawl import CRAWLERS, pages_it_may_open

# Tables that are not lists, by the class that marks them, and why a phone shows them as they are.
NOT_LISTS = {
    "bars": "a server-drawn bar chart (label, bar, figure): three narrow columns that fit a phone",
    "kv": "a key-value table (a figure's name and its value per row): two columns that fit a phone",
}
# Classes that would hide a totals row on some screen.
HIDING = {"d-none", "hidden", "visually-hidden", "d-sm-none"}
# The other views of some lists (tabs, filters), read besides the list as the menu opens it.
VARIANTS = {
    "inspections:overdue": ["?within=7"],
    "reporting:reports": ["?kind=year_end"],
    "households:list": [f"?show={show}" for show in ("new", "registered", "suggested", "invalid", "missing")],
    "households:proposals": ["?show=decided"],
    "rectification:problems": ["?status=overdue"],
}


class _Tables(HTMLParser):
    """The tables inside <main>: each with its classes and its rows outside <thead>, each row its section (tbody or
    tfoot), its classes and hidden attribute, and its cells as (tag, attributes)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.in_main = 0
        self.tables: list[dict] = []
        self.section = "tbody"

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "main":
            self.in_main += 1
        if not self.in_main:
            return
        if tag == "table":
            self.tables.append({"classes": set((attrs.get("class") or "").split()), "rows": [], "hidden": []})
            self.section = "tbody"
        elif not self.tables:
            return
        elif tag in ("thead", "tbody", "tfoot"):
            self.section = tag
            if tag == "tfoot" and (HIDING & set((attrs.get("class") or "").split()) or "hidden" in attrs):
                self.tables[-1]["hidden"].append("tfoot")
        elif tag == "tr" and self.section != "thead":
            row = {"section": self.section, "cells": []}
            if HIDING & set((attrs.get("class") or "").split()) or "hidden" in attrs:
                self.tables[-1]["hidden"].append(f"a {self.section} row")
            self.tables[-1]["rows"].append(row)
        elif tag in ("td", "th") and self.section != "thead" and self.tables[-1]["rows"]:
            self.tables[-1]["rows"][-1]["cells"].append((tag, attrs))

    def handle_endtag(self, tag):
        if tag == "main":
            self.in_main -= 1


def tables_of(html: str) -> list[dict]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def unlabelled(table: dict) -> list[str]:
    """What keeps a table from being a labelled card list on a phone (nothing for a table that is not a list)."""
    if table["classes"] & NOT_LISTS.keys():
        return []
    problems = [] if "responsive" in table["classes"] else [f"a table without class responsive: {table['classes']}"]
    problems += [f"{what} hidden by its class" for what in table["hidden"]]
    for row in table["rows"]:
        cells = row["cells"]
        if len(cells) == 1 and cells[0][0] == "td" and "colspan" in cells[0][1]:
            continue  # a message across the table ("nothing overdue")
        for position, (tag, attrs) in enumerate(cells):
            if tag == "th" and position == 0:
                continue  # the row's key cell: the card's title
            if not (attrs.get("data-label") or "").strip():
                problems.append(f"a {row['section']} <{tag}> without data-label, column {position + 1}")
    return problems


def test_the_check_catches_what_it_is_for():
    page = "<main>{}</main>"
    good = (
        '<table class="responsive"><thead><tr><th>Name</th><th>Due</th></tr></thead>'
        '<tbody><tr><th scope="row">A</th><td data-label="Due">1</td></tr>'
        '<tr><td colspan="2">None.</td></tr></tbody>'
        '<tfoot><tr><th>Total</th><th data-label="Due">1</th></tr></tfoot></table>'
    )
    assert [unlabelled(table) for table in tables_of(page.format(good))] == [[]]
    assert tables_of(good) == []  # outside <main>: the shell's business
    for bad in (
        good.replace('class="responsive"', 'class="figures"'),
        good.replace('<td data-label="Due">1</td>', "<td>1</td>"),
        good.replace('<td data-label="Due">1</td>', '<td data-label=" ">1</td>'),
        good.replace('<th data-label="Due">1</th>', '<th class="num">1</th>'),
        good.replace("<tfoot>", '<tfoot class="d-none">'),
        good.replace('<tr><th scope="row">A</th>', '<tr hidden><th scope="row">A</th>'),
    ):
        assert unlabelled(tables_of(page.format(bad))[0]), bad
    assert unlabelled(tables_of(page.format('<table class="kv"><tr><th>A</th><td>1</td></tr></table>'))[0]) == []


def test_the_stylesheet_shows_totals_and_labels_on_a_phone():
    """The one mechanism: no rule hides a table's totals (tfoot), and the labels are drawn from data-label."""
    css = (Path(django_settings.BASE_DIR) / "static" / "css" / "app.css").read_text()
    rules = re.findall(r"([^{}]+)\{([^{}]*)\}", re.sub(r"/\*.*?\*/", "", css, flags=re.S))
    hiding = [
        selector.strip() for selector, body in rules if "tfoot" in selector and re.search(r"display:\s*none", body)
    ]
    assert not hiding, f"rules hide the totals: {hiding}"
    assert any("data-label" in selector and "attr(data-label)" in body for selector, body in rules)


@pytest.fixture(scope="module")
def shared(django_db_setup, django_db_blocker, tmp_path_factory):
    with kit.built_once(django_db_blocker, tmp_path_factory) as media:
        yield kit.Shared(build_world(), media)


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(CRAWLERS))
def test_every_table_a_role_can_open_is_a_labelled_card_list_on_a_phone(shared, settings, role):
    world = shared.fresh(settings)
    client = Client()
    client.force_login(User.objects.get(username=CRAWLERS[role]))
    pages = pages_it_may_open(client, world)
    urls = list(pages.values())
    urls += [pages[name] + query for name, queries in VARIANTS.items() if name in pages for query in queries]
    problems, lists, rows = [], 0, 0
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        for table in tables_of(response.content.decode()):
            problems += [f"{url}: {problem}" for problem in dict.fromkeys(unlabelled(table))]
            if not table["classes"] & NOT_LISTS.keys():
                lists += 1
                rows += sum(
                    1
                    for row in table["rows"]
                    if any(tag == "td" and "colspan" not in attrs for tag, attrs in row["cells"])
                )
    print(f"{role}: {len(urls)} pages, {lists} list tables, {rows} rows checked")
    assert not problems, f"{role}:\n" + "\n".join(problems)
    assert rows, f"{role}: no table row was checked (the world has no rows for its lists?)"
