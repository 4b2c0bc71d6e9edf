"""Phones (issue 17), in a browser at 360 px: the main lists of township staff, the official, the liaison and the complaint clerk show each
row as a card whose values carry their labels (the ::before content drawn from data-label), the totals are on screen,
the page never scrolls sideways, and every link or button of the lists, pager, tabs and filters is at least 44 px
tall. The world is the IDOR sweep's (township B's records); screenshots go to test-artifacts/."""

from __future__ import annotations

import pytest

from housing_safety.tests.kit import ARTIFACTS, PASSWORD, no_horizontal_scroll, watch_console

from .idor_world import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

WIDTH = 360
LISTS = {
    "idor-staff-b": ["/safety/overdue/", "/field/revisits/", "/problems/", "/renovation/", "/complaints/"],
    "idor-official": ["/dashboard/", "/reports/", "/safety/status/", "/renovation/subsidies/", "/renovation/archive/"],
    "idor-liaison-b": ["/lists/", "/lists/reconciliation/"],
    "idor-clerk": ["/complaints/", "/leads/"],
}
SHOTS = {"/safety/overdue/": "phone-list-overdue.png", "/dashboard/": "phone-list-dashboard.png"}

# Every value cell of a list table on screen: its label and what its ::before draws.
LABELS = """() => [...document.querySelectorAll('main table.responsive :is(td:not([colspan]), th[data-label])')]
  .filter(cell => cell.getClientRects().length)
  .map(cell => [cell.dataset.label || '', getComputedStyle(cell, '::before').content])"""
# The column headers of list tables: their height on screen (kept for screen readers only).
HEADS = """() => [...document.querySelectorAll('main table.responsive thead')].map(head => head.getBoundingClientRect().height)"""
# The totals rows: their height on screen.
TOTALS = """() => [...document.querySelectorAll('main table.responsive tfoot tr')]
  .map(row => row.getBoundingClientRect().height)"""
# What acts in the lists: row links, links in list tables, pager, tabs, filters' buttons and fields.
TARGETS = """() => [...document.querySelectorAll(
    'main .list li > a, main .list .grow a, main table.responsive a, main .pager a, main nav.tabs a, main a.button, main button, '
    + 'main .search select, main .search input:not([type=checkbox]):not([type=hidden]), main label.check')]
  .filter(el => el.getClientRects().length)
  .map(el => [el.tagName + ' ' + (el.textContent || el.name || '').trim().slice(0, 20), el.getBoundingClientRect().height])"""


def test_main_lists_are_labelled_cards_with_totals_at_360_px(browser, live_server, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    build_world()
    labelled = totals = 0
    for username, paths in LISTS.items():
        context = browser.new_context(
            locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": WIDTH, "height": 800}, is_mobile=True
        )
        page = context.new_page()
        errors = watch_console(page)
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("#login-form [type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        for path in paths:
            page.goto(f"{live_server.url}{path}")
            no_horizontal_scroll(page, WIDTH)
            heads = page.evaluate(HEADS)
            assert all(height <= 1 for height in heads), f"{path}: the column headers take a line of their own"
            cells = page.evaluate(LABELS)
            wrong = [(label, drawn) for label, drawn in cells if not label or drawn != f'"{label}"']
            assert not wrong, f"{path}: cells whose label is not drawn: {wrong[:5]}"
            heights = page.evaluate(TOTALS)
            assert all(height > 0 for height in heights), f"{path}: a totals row is not shown"
            small = [(what, height) for what, height in page.evaluate(TARGETS) if height < 44]
            assert not small, f"{path}: under 44 px: {small[:5]}"
            labelled, totals = labelled + len(cells), totals + len(heights)
            if path in SHOTS:
                page.screenshot(path=ARTIFACTS / SHOTS[path], full_page=True)
        assert errors == []
        context.close()
    print(f"{labelled} labelled cells, {totals} totals rows")
    assert labelled > 50 and totals >= 3  # the lists had rows to show, and totals (status, subsidies, dashboard)
