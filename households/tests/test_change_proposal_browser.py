"""双洋镇's staff member finds the change proposals a department's list sent, from the home of the system, on a phone
and at a desk, and accepts one: the household is back on the list with the new phone."""

from __future__ import annotations

import datetime

import pytest
from playwright.sync_api import expect

from households.department_lists import confirm_list, preview_list
from households.models import ChangeProposal, Household, Unit
from housing_safety.access import Role
from housing_safety.tests.kit import ARTIFACTS, log_in, phone_page

from .factories import HouseholdFactory, VillageFactory, make_user, township
from .test_department_lists import HEADER, xlsx

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.mark.parametrize("width", [390, 1440])
def test_township_staff_accept_a_proposal_by_clicking(browser, live_server, width):
    from django.core.files.uploadedfile import SimpleUploadedFile

    shuangyang = township("350881101")
    xishan = VillageFactory(township=shuangyang, name="西山村")
    household = HouseholdFactory(
        head_name="陈水生", village=xishan, phone="13900000077", source=None, status=Household.Status.REMOVED,
        removed_on=datetime.date(2025, 6, 1), removal_reason="迁出后返回",
    )  # fmt: skip
    office = Unit.objects.get(name="漳平市扶贫开发办公室")
    liaison = make_user(Role.DEPARTMENT_LIAISON, unit=office)
    content = xlsx([HEADER, ["陈水生", household.id_number, "13912345678", "双洋镇", "西山村", "低保户", "2"]])
    confirm_list(
        actor=liaison,
        department_list=preview_list(
            actor=liaison, unit=office, listed_on=datetime.date(2026, 11, 30),
            uploaded_file=SimpleUploadedFile("名单.xlsx", content),
        ),
    )  # fmt: skip
    staff = make_user(Role.TOWNSHIP_STAFF, username=f"shuangyang-{width}", townships=[shuangyang])

    page = phone_page(browser, width=width)
    log_in(page, live_server.url, staff.username)
    page.get_by_role("link", name="变更建议").first.click()
    expect(page.locator("h1")).to_have_text("变更建议")
    card = page.locator("[data-proposal]")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("陈水生")
    expect(card).to_contain_text("来自漳平市扶贫开发办公室 2026-11-30 名单第 2 行")
    expect(card).to_contain_text("已移出")
    page.screenshot(path=str(ARTIFACTS / f"change-proposal-{width}.png"), full_page=True)

    card.get_by_role("button", name="采纳变更").click()

    expect(page.locator(".messages")).to_contain_text("已采纳：陈水生 的档案已更新。")
    expect(page.locator("[data-proposal]")).to_have_count(0)
    household.refresh_from_db()
    assert (household.status, household.phone, household.source) == ("active", "13912345678", office)
    assert ChangeProposal.objects.get().decided_by == staff
