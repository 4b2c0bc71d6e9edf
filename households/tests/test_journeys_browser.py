"""The department liaison's daily task in a browser, from the login page by clicks only (issue 17's checks): the
office's list (an Excel workbook) uploaded from the home, its preview read, confirmed, and the reconciliation opened.
The clicks are held to the limit below; every page fits a 360-pixel phone without sideways scrolling; nothing fails in
the console or against the content security policy."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from households.models import DepartmentList, Household
from housing_safety.access import Role
from housing_safety.tests.journey import DESKTOP, Journey

from .factories import HouseholdFactory, VillageFactory, valid_id_number
from .test_department_list_browser import write_list

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Clicks allowed from the login page (its submit is click 1). The target: a daily page within two clicks of
# the home.
CLICKS = {
    # log in; the home's 上传部门名单; the file; 读取并比对; 确认导入; 信息比对 in the menu
    "liaison-list": 6,
}


def test_liaison_uploads_previews_confirms_and_opens_the_reconciliation(
    browser, live_server, personas, xinqiao, poverty_office, tmp_path
):
    liaison = personas[Role.DEPARTMENT_LIAISON]
    dongkeng = VillageFactory(township=xinqiao, name="东坑村")
    known = HouseholdFactory(head_name="林秀英", phone="13905971001", village=dongkeng, source=poverty_office)
    new_id = valid_id_number()
    workbook = tmp_path / "扶贫办帮扶对象名单.xlsx"
    write_list(
        workbook,
        [
            [1, "林秀英", known.id_number, known.phone, "新桥镇", "东坑村"],  # as we have her
            [2, "黄春梅", new_id, "13905972001", "新桥镇", "东坑村"],  # new
        ],
    )

    journey = Journey(browser, live_server.url, "liaison-list", width=DESKTOP)
    journey.log_in(liaison.username)
    journey.click(journey.todo("上传部门名单"))
    form = journey.page.locator("form.field-form")
    journey.attach(form.locator('input[name="file"]'), workbook)
    journey.click(form.get_by_role("button", name="读取并比对"))
    expect(journey.page.locator("main")).to_contain_text("共读取 2 行")
    expect(journey.page.locator('nav.tabs a[data-outcome="new"] .count')).to_have_text("1")
    journey.click(journey.page.get_by_role("button", name="确认导入"))
    expect(journey.page.locator(".messages .success")).to_contain_text("已确认导入：新增 1 户")
    journey.click(journey.menu().get_by_role("link", name="信息比对", exact=True))
    expect(journey.page.locator("h1")).to_have_text("信息比对")
    expect(journey.page.locator(f'section.card[data-unit="{poverty_office.pk}"]')).to_contain_text(
        "漳平市扶贫开发办公室"
    )
    journey.finish(CLICKS["liaison-list"])

    uploaded = DepartmentList.objects.get()
    assert (uploaded.unit, uploaded.status) == (poverty_office, DepartmentList.Status.CONFIRMED)
    assert Household.objects.get(id_number=new_id).source == poverty_office
