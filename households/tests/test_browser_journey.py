"""The first user journey, in a real browser: township staff registers a household with its dwelling on
the admin, and cannot open another township's household."""

from __future__ import annotations

import pytest

from households.models import Dwelling, Household
from housing_safety.access import Role
from housing_safety.tests.kit import ARTIFACTS, log_in, phone_page

from .factories import make_user, valid_id_number

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_township_staff_registers_household_and_cannot_open_another_township(
    browser, live_server, xinqiao, other_household
):
    from .factories import VillageFactory

    VillageFactory(township=xinqiao, name="东坑村")
    make_user(Role.TOWNSHIP_STAFF, username="xinqiao", townships=[xinqiao])
    id_number = valid_id_number()
    page = phone_page(browser, width=412)

    log_in(page, live_server.url, "xinqiao")
    assert "漳平市农村低收入群体住房安全管理系统" in page.content()

    page.goto(f"{live_server.url}/admin/households/household/add/")
    page.fill("#id_head_name", "陈金水")
    page.fill("#id_id_number", id_number.lower())  # clerks type x in lower case; the system normalises it
    page.fill("#id_phone", "139 0597 1234")
    page.select_option("#id_village", label="新桥镇 东坑村")
    page.fill("#id_members_count", "4")
    page.get_by_label("低保户").check()
    page.fill("#id_dwellings-0-address", "东坑村3组12号")
    page.select_option("#id_dwellings-0-structure_type", label="土木")
    page.fill("#id_dwellings-0-year_built", "1978")
    page.screenshot(path=ARTIFACTS / "journey-add-household.png", full_page=True)
    page.click("input[name=_save]")

    page.wait_for_selector(".messagelist .success")
    page.screenshot(path=ARTIFACTS / "journey-saved.png", full_page=True)
    household = Household.objects.get(id_number=id_number.upper())
    assert household.head_name == "陈金水"
    assert household.phone == "13905971234"
    assert [c.code for c in household.categories.all()] == ["minimum_living"]
    dwelling = Dwelling.objects.get(household=household)
    assert (dwelling.address, dwelling.structure_type, dwelling.year_built) == ("东坑村3组12号", "earth_timber", 1978)
    assert household.history.latest().history_user.username == "xinqiao"

    response = page.goto(f"{live_server.url}/admin/households/household/{other_household.pk}/change/")
    assert response.status == 404
    assert other_household.head_name not in page.content()
    assert other_household.id_number not in page.content()

    page.goto(f"{live_server.url}/admin/households/household/")
    listing = page.content()
    assert "陈金水" in listing
    assert other_household.head_name not in listing
