"""Daily tasks of rectification in a browser, from the login page by clicks only (issue 17's checks): the township
staff member, on a 360-pixel phone, takes an open problem from the home to 整改中 and then to verification with a
photo of the repair; the complaint clerk, on a desktop, logs a hotline call, accepts it, assigns it to the township
and finds it again by its ticket typed in lower case without dashes. Each journey's clicks are held to the limit
below; every page fits a 360-pixel phone without sideways scrolling; nothing fails in the console or against the
content security policy."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from households.tests.factories import HouseholdFactory, VillageFactory, png_bytes
from housing_safety.access import Role
from housing_safety.tests.journey import DESKTOP, PHONE, Journey
from rectification.models import Complaint, Problem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Clicks allowed from the login page (its submit is click 1). The target: a daily page within two clicks of
# the home; then the task's own clicks (a choice, a photo, each step's button).
CLICKS = {
    # log in; the home's 问题未整改; the problem; 标记为“整改中”; the photo of the repair; 标记为“已整改”
    "staff-problem": 6,
    # log in; the home's 登记举报; the township, the category, 登记 (the channel is the hotline already);
    # 受理: its step's button; 交办: the handler, its step's button (the next step's form is open already); the
    # ticket in the search box (Enter) and its hit
    "clerk-complaint": 10,
}


def test_township_staff_moves_a_problem_to_verification(browser, live_server, personas, xinqiao, tmp_path):
    staff = personas[Role.TOWNSHIP_STAFF]
    household = HouseholdFactory(head_name="林秀英", village=VillageFactory(township=xinqiao, name="东坑村"))
    problem = Problem.objects.create(
        township=xinqiao,
        household=household,
        source=Problem.Source.SELF_INSPECTION,
        kind="leaking",
        description="东边屋顶漏雨",
        deadline=timezone.localdate() + datetime.timedelta(days=20),
    )
    photo = tmp_path / "补瓦后.png"
    photo.write_bytes(png_bytes())

    journey = Journey(browser, live_server.url, "staff-problem", width=PHONE)
    journey.log_in(staff.username)
    journey.click(journey.todo("问题未整改"))
    journey.click(journey.page.locator("main ul.list").get_by_role("link", name="林秀英"))
    journey.click(journey.page.get_by_role("button", name="标记为“整改中”"))
    expect(journey.page.locator(".messages")).to_contain_text("整改中")
    assert Problem.objects.get(pk=problem.pk).status == Problem.Status.IN_PROGRESS
    resolve = journey.page.locator("form", has=journey.page.get_by_role("button", name="标记为“已整改”"))
    resolve.get_by_label("整改结果").fill("已补瓦，雨天复查不再漏雨")
    journey.attach(resolve.locator('input[type="file"]'), photo)
    journey.click(resolve.get_by_role("button", name="标记为“已整改”"))
    expect(journey.page.locator(".messages")).to_contain_text("已整改")
    journey.finish(CLICKS["staff-problem"])

    problem.refresh_from_db()
    assert problem.status == Problem.Status.RESOLVED  # waiting for the bureau's verification
    assert (problem.resolved_by, problem.resolution) == (staff, "已补瓦，雨天复查不再漏雨")
    assert list(problem.transitions.values_list("to_status", flat=True)) == ["in_progress", "resolved"]


def step(journey: Journey, to: str):
    """One step's form on the complaint page, opened (a click only where it is closed)."""
    details = journey.page.locator(f'details.move:has(input[name="to"][value="{to}"])')
    expect(details).to_have_count(1)
    if details.get_attribute("open") is None:
        journey.click(details.locator("summary"), navigates=False)
    return details


def test_clerk_logs_accepts_assigns_and_finds_a_complaint(browser, live_server, personas, xinqiao):
    clerk, handler = personas[Role.COMPLAINT_CLERK], personas[Role.TOWNSHIP_STAFF]
    handler.first_name = "陈建国"
    handler.save(update_fields=["first_name"])

    journey = Journey(browser, live_server.url, "clerk-complaint", width=DESKTOP)
    journey.log_in(clerk.username)
    journey.click(journey.todo("登记举报"))
    intake = journey.page.locator("form.field-form")
    intake.locator('[name="reporter_name"]').fill("王举报")
    intake.locator('[name="reporter_phone"]').fill("13912345678")
    journey.choose(intake.locator('select[name="township"]'), "新桥镇")
    journey.tick(intake.locator('input[name="category"][value="dangerous_not_renovated"]'))
    intake.locator('[name="content"]').fill("东坑村李家土坯房墙体开裂严重，一家五口仍在居住")
    journey.click(intake.get_by_role("button", name="登记", exact=True))
    complaint = Complaint.objects.get()
    expect(journey.page.locator("h1 .status").first).to_have_text("已登记")

    journey.click(step(journey, "accepted").get_by_role("button", name="登记本环节"))
    expect(journey.page.locator("h1 .status").first).to_have_text("已受理")
    assigned = step(journey, "assigned")
    journey.choose(assigned.locator('select[name="assigned-handler"]'), "陈建国")
    journey.click(assigned.get_by_role("button", name="登记本环节"))
    expect(journey.page.locator("h1 .status").first).to_have_text("已交办")

    typed = complaint.ticket.replace("-", "").lower()  # "ts2026000001", as people type it
    journey.search(typed)
    journey.click(journey.page.locator("main .search-group").get_by_role("link", name=complaint.ticket))
    expect(journey.page).to_have_url(f"{live_server.url}/complaints/{complaint.pk}/")
    journey.finish(CLICKS["clerk-complaint"])

    complaint.refresh_from_db()
    assert (complaint.status, complaint.township, complaint.handler) == (Complaint.Status.ASSIGNED, xinqiao, handler)
    assert list(complaint.transitions.values_list("to_status", flat=True)) == ["received", "accepted", "assigned"]
