"""The bureau administrator's daily task in a browser, from the login page by clicks only (issue 17's checks): an
e-mail the mail server refused is found from the home (its to-do 发送失败的邮件 leads to those rows of the outbox) and
opened with its error. The clicks are held to the limit below; every page fits a 360-pixel phone without sideways
scrolling; nothing fails in the console or against the content security policy."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from households.tests.factories import make_user
from housing_safety.access import Role
from housing_safety.models import OutgoingEmail
from housing_safety.tests.journey import DESKTOP, Journey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Clicks allowed from the login page (its submit is click 1). The target: a daily page within two clicks of
# the home.
CLICKS = {
    # log in; the home's 发送失败的邮件; the message
    "admin-failing-email": 3,
}

ERROR = "SMTPRecipientsRefused: 550 5.1.1 mailbox unavailable"


def test_bureau_admin_finds_a_failing_email_from_the_home(browser, live_server):
    admin = make_user(Role.BUREAU_ADMIN)
    failing = OutgoingEmail.objects.create(
        key="journey:failing",
        recipients=["xinqiao@zhangping.example"],
        subject="逾期未鉴定提醒（新桥镇）",
        body="新桥镇有2户逾期未鉴定。",
        status=OutgoingEmail.Status.FAILED,
        attempts=3,
        last_error=ERROR,
    )
    OutgoingEmail.objects.create(
        key="journey:sent", recipients=["a@zhangping.example"], subject="月度报告汇总", body="…", status="sent"
    )

    journey = Journey(browser, live_server.url, "admin-failing-email", width=DESKTOP)
    journey.log_in(admin.username)
    todo = journey.todo("发送失败的邮件")
    expect(todo.locator(".todo-count")).to_have_text("1")
    journey.click(todo)
    rows = journey.page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)  # the failing one, not the one sent
    journey.click(rows.first.get_by_role("link", name=failing.subject))
    expect(journey.page.locator("main")).to_contain_text(ERROR)
    journey.finish(CLICKS["admin-failing-email"])
