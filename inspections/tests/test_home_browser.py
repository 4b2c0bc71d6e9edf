"""Every role in a browser, from the login page on, by clicks only: it lands on its home (工作台), the page fits a
360-pixel phone without sideways scrolling, nothing fails in the console or against the content security policy, and
its daily list is one click from the home (the helper's own page included, which no link reached before). Each
home's screenshot, at 390 and 1440 pixels, is kept in test-artifacts/."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory, make_user, township
from housing_safety.access import Role
from housing_safety.tests.kit import ARTIFACTS, PASSWORD, no_horizontal_scroll, watch_console

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# role -> (the to-do or menu entry clicked on the home, the address it reaches, clicks allowed from the login page:
# log in, open the phone's menu drawer where the entry is not a to-do, click)
DAILY = {
    Role.TOWNSHIP_STAFF: ("逾期未鉴定", "/safety/overdue/", 3),
    Role.HELPER: ("我的帮扶户", "/helper/", 3),
    Role.COMPLAINT_CLERK: ("登记举报", "/complaints/new/", 3),
    Role.DEPARTMENT_LIAISON: ("上传部门名单", "/lists/", 3),
    Role.BUREAU_OFFICIAL: ("工作看板", "/dashboard/", 3),
    Role.BUREAU_ADMIN: ("后台管理", "/admin/", 3),
}


def open_home(browser, base_url: str, username: str, width: int):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": width, "height": 900})
    page = context.new_page()
    errors = watch_console(page)
    page.goto(f"{base_url}/")  # a bookmark of the system: the login page, then the home
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form [type=submit]")  # click 1
    page.wait_for_url(f"{base_url}/")
    return page, errors


@pytest.mark.parametrize("role", list(DAILY))
def test_each_role_lands_on_its_home_and_reaches_its_daily_page_by_clicks(browser, live_server, role):
    xinqiao = township("350881100")
    unit = None
    if role == Role.DEPARTMENT_LIAISON:
        from households.models import Unit

        unit = Unit.objects.get(name="漳平市扶贫开发办公室")
    user = make_user(
        role, username=f"{role}-home", townships=[xinqiao] if role == Role.TOWNSHIP_STAFF else (), unit=unit
    )
    household = HouseholdFactory(
        village=VillageFactory(township=xinqiao),
        registered_on=timezone.localdate() - datetime.timedelta(days=60),
        helper_user=user if role == Role.HELPER else None,
    )
    DwellingFactory(household=household)
    label, path, allowed = DAILY[role]

    for width in (1440, 390):
        page, errors = open_home(browser, live_server.url, user.username, width)
        assert "工作台" in page.inner_text("main")
        page.screenshot(path=ARTIFACTS / f"home-{role}-{width}.png", full_page=True)
        if width == 390:
            page.set_viewport_size({"width": 360, "height": 800})
            no_horizontal_scroll(page, 360)
        clicks = 1  # the login
        todo = page.locator("main").get_by_role("link", name=label)
        if todo.count():
            todo.first.click()
        else:  # not a to-do: in the menu, a drawer on the phone
            if width == 390:
                page.click(".shell-menu-button")
                clicks += 1
            page.locator("#shell-menu").get_by_role("link", name=label, exact=True).click()
        clicks += 1
        page.wait_for_url(f"{live_server.url}{path}")
        assert clicks <= allowed
        assert errors == []
        page.context.close()
