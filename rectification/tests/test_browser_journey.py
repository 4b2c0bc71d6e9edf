"""A helper on a phone reports a leaking roof; township staff see it, record the repair and resolve the
problem; a bureau official verifies it."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail

from households.models import Unit
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory, make_user, township
from housing_safety.access import Role
from housing_safety.tests.kit import ARTIFACTS, log_in, phone_page
from inspections.models import HelperReport
from rectification.models import Problem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_helper_report_becomes_a_problem_that_the_township_resolves_and_the_bureau_verifies(browser, live_server):
    xinqiao = township("350881100")
    Unit.objects.filter(township=xinqiao).update(email="xinqiao@zhangping.example")
    helper = make_user(Role.HELPER, username="helper")
    household = HouseholdFactory(
        head_name="林秀英", village=VillageFactory(township=xinqiao, name="东坑村"), helper_user=helper
    )
    dwelling = DwellingFactory(household=household, address="东坑村2组5号")
    HouseholdFactory(head_name="别人家", village=household.village)  # not assigned to the helper
    make_user(Role.TOWNSHIP_STAFF, username="xinqiao", townships=[xinqiao])
    make_user(Role.BUREAU_OFFICIAL, username="official")

    # The helper sees only their household and reports a leaking roof.
    page = phone_page(browser)
    log_in(page, live_server.url, "helper")
    page.goto(f"{live_server.url}/helper/")
    assert "林秀英" in page.inner_text("main") and "别人家" not in page.inner_text("main")
    page.click("text=报告问题")
    page.select_option("#id_dwelling", label=str(dwelling))
    page.get_by_label("漏雨透风").check()
    page.fill("#id_note", "东边屋顶漏雨，雨天屋内积水")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=ARTIFACTS / "helper-report-390.png", full_page=True)
    page.click("button.primary")
    page.wait_for_url(f"{live_server.url}/helper/")
    report = HelperReport.objects.get()
    assert report.found_kinds() == ["leaking"] and report.reported_by == helper
    assert [m.to for m in mail.outbox] == [["xinqiao@zhangping.example"]]
    problem = Problem.objects.get()
    assert (problem.kind, problem.source, problem.dwelling, problem.status) == (
        "leaking",
        "helper_report",
        dwelling,
        "open",
    )

    # The township sees the report, records the repair, and resolves the problem.
    page = phone_page(browser)
    log_in(page, live_server.url, "xinqiao")
    page.goto(f"{live_server.url}/field/reports/")
    page.click("text=林秀英")
    page.fill("#id_action_taken", "已安排工匠补瓦修缮屋顶")
    page.click("button.primary")
    page.wait_for_selector(".messages .success")
    page.click('a:has-text("漏雨透风")')
    page.fill("textarea[name=resolution]", "屋顶已补瓦，复查不再漏雨")
    page.click("button[value=resolved]")
    page.wait_for_selector(".messages .success")
    report.refresh_from_db()
    problem.refresh_from_db()
    assert report.action_taken == "已安排工匠补瓦修缮屋顶" and report.handled_by.username == "xinqiao"
    assert (problem.status, problem.resolved_by.username) == ("resolved", "xinqiao")
    assert page.query_selector("button[value=verified]") is None  # township staff cannot verify

    # A bureau official verifies it.
    page = phone_page(browser)
    log_in(page, live_server.url, "official")
    page.goto(f"{live_server.url}/problems/{problem.pk}/")
    page.click("button[value=verified]")
    page.wait_for_selector(".messages .success")
    page.screenshot(path=ARTIFACTS / "problem-verified.png", full_page=True)
    problem.refresh_from_db()
    assert (problem.status, problem.verified_by.username) == ("verified", "official")
    assert list(problem.transitions.values_list("to_status", flat=True)) == ["resolved", "verified"]


def test_township_staff_records_a_revisit_on_a_phone_and_its_finding_opens_a_problem(browser, live_server):
    from inspections.models import Campaign, Revisit
    from inspections.services import launch_quarterly_revisits

    xinqiao = township("350881100")
    household = HouseholdFactory(head_name="邱金水", village=VillageFactory(township=xinqiao, name="南坪村"))
    dwelling = DwellingFactory(household=household, structure_type="earth_timber", address="南坪村3组8号")
    campaign, created = launch_quarterly_revisits(day=datetime.date(2026, 10, 1))
    assert created == 1 and list(Campaign.objects.all()) == [campaign]
    make_user(Role.TOWNSHIP_STAFF, username="xinqiao", townships=[xinqiao])

    page = phone_page(browser)
    log_in(page, live_server.url, "xinqiao")
    page.goto(f"{live_server.url}/field/revisits/")
    page.click("text=邱金水")
    page.get_by_label("是，仍有人居住").check()
    page.get_by_label("出现新的损坏").check()
    page.get_by_label("需维修").check()
    page.fill("#id_notes", "后墙出现裂缝")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=ARTIFACTS / "revisit-form-390.png", full_page=True)
    page.click("button.primary")
    page.wait_for_url(f"{live_server.url}/field/revisits/")
    revisit = Revisit.objects.get(dwelling=dwelling)
    assert (revisit.status, revisit.outcome, revisit.found_kinds()) == ("done", "repair", ["new_damage"])
    problem = Problem.objects.get()
    assert (problem.kind, problem.source, problem.revisit, problem.description) == (
        "new_damage",
        "revisit",
        revisit,
        "出现新的损坏：后墙出现裂缝",
    )
    page.goto(f"{live_server.url}/problems/")
    assert "出现新的损坏" in page.inner_text("main")
