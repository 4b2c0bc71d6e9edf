"""A clerk logs a hotline call, accepts it and assigns it to a township user, who takes it up on a phone, puts it
on the township's problem list and replies; the clerk closes it; the reporter's public lookup shows the reply and
nothing about who complained or what they said."""

from __future__ import annotations

import re
import time

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from households.tests.factories import VillageFactory, make_user, township
from housing_safety.access import Role
from housing_safety.tests.kit import ARTIFACTS, log_in, no_horizontal_scroll, phone_page
from rectification.models import Complaint, Problem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

REPORTER, PHONE, MASKED_PHONE = "王举报", "13912345678", "139****5678"
CONTENT = "东坑村李家土坯房墙体开裂严重，一家五口仍在居住，至今没有纳入改造"
REPLY = "已上门核实，已纳入本年度危房改造计划，年内完工"


def move_form(page, to: str):
    """The <details> of one move on the complaint page, opened."""
    details = page.locator(f'details.move:has(input[name="to"][value="{to}"])')
    expect(details).to_have_count(1)
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    return details


def record_move(page, complaint_url: str, to: str, label: str, *, fill=None, check=(), select=None) -> None:
    """Fill one move's form (inputs prefixed with the target status), press 登记本环节, and land back on the
    complaint page at the new status with the success message."""
    form = move_form(page, to)
    for name, value in (fill or {}).items():
        form.locator(f'[name="{to}-{name}"]').fill(value)
    for name, value in check:
        form.locator(f'input[name="{to}-{name}"][value="{value}"]').check()
    for name, label_ in (select or {}).items():
        form.locator(f'select[name="{to}-{name}"]').select_option(label=label_)
    with page.expect_navigation():
        form.get_by_role("button", name="登记本环节").click()
    expect(page).to_have_url(complaint_url)
    expect(page.locator(".messages .success")).to_contain_text(f"举报已变为“{label}”")
    expect(page.locator("h1 .status").first).to_have_text(label)
    expect(page.locator("ol.timeline")).to_contain_text(label)


def test_hotline_complaint_from_intake_to_the_public_lookup(browser, live_server):
    base = live_server.url
    today = timezone.localdate()
    xinqiao = township("350881100")
    VillageFactory(township=xinqiao, name="东坑村")
    make_user(Role.COMPLAINT_CLERK, username="clerk")
    handler = make_user(Role.TOWNSHIP_STAFF, username="xinqiao", townships=[xinqiao])
    handler.first_name = "陈建国"
    handler.save(update_fields=["first_name"])

    # The clerk logs the call on a desktop: everything the reporter says, in the order it is asked.
    clerk = browser.new_page()
    log_in(clerk, base, "clerk")
    clerk.goto(f"{base}/complaints/new/")
    started = time.perf_counter()
    intake = clerk.locator("form.field-form")
    intake.locator('input[name="channel"][value="hotline"]').check()  # 本局热线
    intake.locator('[name="reporter_name"]').fill(REPORTER)
    intake.locator('[name="reporter_phone"]').fill(PHONE)
    intake.locator('select[name="township"]').select_option(label="新桥镇")
    intake.locator('select[name="village"]').select_option(label="新桥镇 东坑村")
    intake.locator('input[name="category"][value="dangerous_not_renovated"]').check()  # 危房未改造
    intake.locator('[name="content"]').fill(CONTENT)
    expect(intake.locator('[name="received_at"]')).not_to_have_value("")  # prefilled with now
    clerk.screenshot(path=ARTIFACTS / "complaint-new.png", full_page=True)
    intake.get_by_role("button", name="登记", exact=True).click()  # 8 actions: 2 radios, 3 fills, 2 selects, 1 click
    clerk.wait_for_url(re.compile(r".*/complaints/\d+/$"))
    intake_seconds = time.perf_counter() - started
    assert intake_seconds < 15, f"the intake took {intake_seconds:.1f} s in the browser"
    complaint = Complaint.objects.get()
    complaint_url = f"{base}/complaints/{complaint.pk}/"
    assert clerk.url == complaint_url

    # The page tells the clerk what to read out to the reporter: the ticket and the six-digit query code.
    notice = clerk.locator("section.notice")
    expect(notice.locator("h2")).to_have_text("请告知举报人")
    ticket, code = (text.strip() for text in notice.locator("strong.big").all_inner_texts())
    assert ticket == f"TS-{today.year}-000001" == complaint.ticket
    assert re.fullmatch(r"\d{6}", code)
    expect(clerk.locator("h1 .status").first).to_have_text("已登记")
    expect(clerk.locator("dl.facts")).to_contain_text(f"王*报 · {MASKED_PHONE}")  # masked until the desk asks
    clerk.screenshot(path=ARTIFACTS / "complaint-logged.png", full_page=True)
    clerk.get_by_role("link", name="说明理由后显示完整号码（将记录）").click()
    clerk.fill("#id_reason", "回访举报人")
    clerk.get_by_role("button", name="显示号码").click()
    expect(clerk.locator("dl.facts")).to_contain_text(f"{REPORTER} · {PHONE}")  # the desk sees the reporter
    # Shown once only: a reload no longer shows the code.
    clerk.reload()
    expect(clerk.locator("section.notice")).to_have_count(0)

    # Accepted, then assigned to the township user, who is listed by name.
    record_move(clerk, complaint_url, "accepted", "已受理")
    record_move(clerk, complaint_url, "assigned", "已交办", select={"handler": "陈建国"})
    expect(clerk.locator("dl.facts")).to_contain_text("陈建国")
    expect(clerk.locator("details.move")).to_have_count(2)  # only 已移送 and 已移交纪检监察 are the desk's now

    # The township user finds it under 交办给我的 on a phone; the reporter is masked.
    town = phone_page(browser)
    log_in(town, base, "xinqiao")
    town.goto(f"{base}/complaints/")
    town.get_by_role("link", name="交办给我的").first.click()
    town.wait_for_url(f"{base}/complaints/?show=mine")
    row = town.locator("ul.list > li", has_text=ticket)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("王*报")
    assert REPORTER not in town.inner_text("main")
    no_horizontal_scroll(town)
    town.screenshot(path=ARTIFACTS / "complaint-mine-390.png", full_page=True)
    row.get_by_role("link").first.click()
    town.wait_for_url(complaint_url)
    page_text = town.inner_text("body")
    assert REPORTER not in page_text and PHONE not in page_text
    expect(town.locator("dl.facts")).to_contain_text(f"王*报 · {MASKED_PHONE}")
    expect(town.locator("dl.facts")).to_contain_text(CONTENT)  # the handler needs to know what it is about
    record_move(town, complaint_url, "handling", "办理中")

    # It is a real problem: it goes on the township's list.
    problem_form = town.locator('form[action$="/problem/"]')
    problem_form.locator('[name="problem-description"]').fill("李家土坯房需鉴定并纳入改造")
    problem_form.locator('[name="problem-deadline"]').fill(f"{today:%Y-%m-%d}")
    with town.expect_navigation():
        problem_form.get_by_role("button", name="列入问题清单").click()
    expect(town).to_have_url(complaint_url)
    problem = Problem.objects.get()
    expect(town.locator(".messages .success")).to_contain_text(f"已列入乡镇问题清单（编号 {problem.pk}）")
    expect(town.locator("dl.facts")).to_contain_text(f"编号 {problem.pk}")

    # The reply, by phone, today.
    replied = move_form(town, "replied")
    expect(replied.locator('[name="replied-replied_on"]')).to_have_value(f"{today:%Y-%m-%d}")
    no_horizontal_scroll(town)
    town.screenshot(path=ARTIFACTS / "complaint-handler-390.png", full_page=True)
    record_move(
        town, complaint_url, "replied", "已答复",
        fill={"replied_on": f"{today:%Y-%m-%d}", "reply": REPLY}, check=[("reply_method", "phone")],
    )  # fmt: skip
    expect(town.locator("dl.facts")).to_contain_text(REPLY)
    expect(town.locator("details.move")).to_have_count(0)  # closing is the desk's
    expect(town.locator('form[action$="/problem/"]')).to_have_count(0)  # only while 办理中
    no_horizontal_scroll(town)
    town.screenshot(path=ARTIFACTS / "complaint-replied-390.png", full_page=True)

    # The clerk closes it with the reporter's satisfaction.
    clerk.goto(complaint_url)
    record_move(clerk, complaint_url, "closed", "已办结", check=[("satisfaction", "satisfied")])
    expect(clerk.locator("dl.facts")).to_contain_text("满意")

    # An anonymous visitor on a phone: a wrong code tells nothing; the right one shows the status and the reply.
    public = phone_page(browser)
    public.goto(f"{base}/q/")
    wrong = "000000" if code != "000000" else "111111"
    lookup = public.locator("form.field-form")
    lookup.locator('[name="ticket"]').fill(ticket)
    lookup.locator('[name="code"]').fill(wrong)
    with public.expect_navigation():
        lookup.get_by_role("button", name="查询").click()
    expect(public.locator("main")).to_contain_text("未找到与该受理编号和查询码相符的举报。")
    assert "已办结" not in public.inner_text("body") and REPLY not in public.inner_text("body")
    public.screenshot(path=ARTIFACTS / "complaint-lookup-refused-390.png", full_page=True)
    lookup.locator('[name="ticket"]').fill(ticket)
    lookup.locator('[name="code"]').fill(code)
    with public.expect_navigation():
        lookup.get_by_role("button", name="查询").click()
    result = public.locator("section.card", has=public.locator("dl.facts"))
    expect(result).to_contain_text("已办结")
    expect(result).to_contain_text(REPLY)
    body = public.inner_text("body")
    assert "未找到" not in body
    for secret in (REPORTER, "王*报", PHONE, MASKED_PHONE, CONTENT, "陈建国"):
        assert secret not in body, secret
    no_horizontal_scroll(public)
    public.screenshot(path=ARTIFACTS / "complaint-lookup-390.png", full_page=True)

    # The record.
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.CLOSED
    assert complaint.satisfaction == Complaint.Satisfaction.SATISFIED
    assert complaint.handler == handler
    assert (complaint.replied_on, complaint.reply_method, complaint.reply) == (today, "phone", REPLY)
    assert (complaint.channel, complaint.category) == ("hotline", "dangerous_not_renovated")
    assert (complaint.reporter_name, complaint.reporter_phone) == (REPORTER, PHONE)
    assert (complaint.township, complaint.village.name) == (xinqiao, "东坑村")
    assert complaint.closed_at is not None
    assert list(complaint.transitions.values_list("to_status", "actor__username")) == [
        ("received", "clerk"), ("accepted", "clerk"), ("assigned", "clerk"), ("handling", "xinqiao"),
        ("replied", "xinqiao"), ("closed", "clerk"),
    ]  # fmt: skip
    assert (problem.complaint, problem.source, problem.township) == (complaint, Problem.Source.COMPLAINT, xinqiao)
