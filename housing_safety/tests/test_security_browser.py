"""Security journeys in a real browser: the content security policy, the forced password change, the login lockout,
and asking for a household's full numbers with a reason. Every browser journey in the suite also fails on any
content-security-policy refusal (conftest.browser); the first test here shows that watch can fail."""

from __future__ import annotations

import pytest

from households import services
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory, make_user, township
from housing_safety.access import Role
from housing_safety.models import PersonalDataAccess
from housing_safety.tests.kit import ARTIFACTS, log_in, phone_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def submit(page) -> None:
    """The form sent and its answer loaded before the page is read (reading at once can catch the page mid-load)."""
    with page.expect_navigation():
        page.click("input[type=submit]")


@pytest.fixture
def xinqiao(db):
    return township("350881100")


def test_the_policy_blocks_an_injected_inline_script_and_the_watch_reports_it(browser, live_server, xinqiao):
    make_user(Role.TOWNSHIP_STAFF, username="xinqiao", townships=[xinqiao])
    page = phone_page(browser)
    log_in(page, live_server.url, "xinqiao")
    response = page.goto(f"{live_server.url}/field/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert browser.csp_violations == []  # the page itself broke nothing

    # What an injected <script> would do (e.g. through a stored cross-site scripting bug): the browser refuses it.
    page.evaluate("""() => { const s = document.createElement('script');
        s.textContent = 'document.title = "pwned"'; document.body.appendChild(s); }""")
    page.wait_for_timeout(200)

    assert page.title() != "pwned"
    assert any("script-src" in violation for violation in browser.csp_violations)
    browser.csp_violations.clear()  # seen; the fixture would otherwise fail this test


def test_a_reset_account_must_choose_a_strong_new_password_first(browser, live_server, xinqiao):
    user = make_user(Role.TOWNSHIP_STAFF, username="reset", townships=[xinqiao])
    services.require_password_change(user=user)
    page = phone_page(browser)

    log_in_url = f"{live_server.url}/admin/login/"
    page.goto(log_in_url)
    page.fill("#id_username", "reset")
    page.fill("#id_password", "pw-123456789")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/password_change/")
    assert "请先设置您自己的密码" in page.content()

    page.goto(f"{live_server.url}/field/")  # every other page sends the user back, remembering where they were going
    assert page.url == f"{live_server.url}/admin/password_change/?next=%2Ffield%2F"

    page.fill("#id_old_password", "pw-123456789")
    page.fill("#id_new_password1", "pw-123456789")  # the same password
    page.fill("#id_new_password2", "pw-123456789")
    submit(page)
    assert "新密码不能与当前密码相同" in page.content()
    page.fill("#id_old_password", "pw-123456789")
    page.fill("#id_new_password1", "xinqiaozhen")  # one kind of character
    page.fill("#id_new_password2", "xinqiaozhen")
    submit(page)
    assert "至少混合 3 类字符" in page.content()
    page.screenshot(path=ARTIFACTS / "security-password-rules.png", full_page=True)

    page.fill("#id_old_password", "pw-123456789")
    page.fill("#id_new_password1", "Dongkeng-2027!")
    page.fill("#id_new_password2", "Dongkeng-2027!")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/field/")  # on to the page asked for, not the admin's "password changed"
    assert "您的密码已修改。" in page.content()
    response = page.goto(f"{live_server.url}/field/")
    assert response.status == 200 and page.url == f"{live_server.url}/field/"
    user.refresh_from_db()
    assert user.check_password("Dongkeng-2027!") and not user.profile.must_change_password


def test_five_wrong_passwords_lock_the_login_even_for_the_right_one(browser, live_server, xinqiao):
    make_user(Role.TOWNSHIP_STAFF, username="guessed", townships=[xinqiao])
    page = phone_page(browser)
    for attempt in range(5):
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", "guessed")
        page.fill("#id_password", f"wrong-{attempt}")
        submit(page)
    assert "登录已锁定" in page.content()

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "guessed")
    page.fill("#id_password", "pw-123456789")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click("input[type=submit]")
    assert answer.value.status == 429
    assert "登录已锁定" in page.content() and "15 分钟" in page.content()
    page.screenshot(path=ARTIFACTS / "security-locked.png", full_page=True)


def test_township_staff_asks_for_a_households_full_numbers_with_a_reason(browser, live_server, xinqiao):
    make_user(Role.TOWNSHIP_STAFF, username="xinqiao", townships=[xinqiao])
    household = HouseholdFactory(village=VillageFactory(township=xinqiao, name="东坑村"), phone="13905971234")
    DwellingFactory(household=household)
    page = phone_page(browser)
    log_in(page, live_server.url, "xinqiao")

    page.goto(f"{live_server.url}/admin/households/household/{household.pk}/change/")
    assert household.id_number not in page.content()
    page.get_by_role("link", name="说明理由后显示完整号码（将记录）").click()
    page.get_by_role("button", name="显示号码").click()  # no reason: the browser asks for one
    assert PersonalDataAccess.objects.count() == 0
    page.fill("#id_reason", "入户")  # too short
    with page.expect_navigation():
        page.get_by_role("button", name="显示号码").click()
    assert "至少 4 个字" in page.content()
    page.fill("#id_reason", "入户核实身份证号")
    page.get_by_role("button", name="显示号码").click()

    page.wait_for_url(f"{live_server.url}/admin/households/household/{household.pk}/change/")
    assert page.input_value("#id_id_number") == household.id_number
    assert page.input_value("#id_phone") == "13905971234"
    page.screenshot(path=ARTIFACTS / "security-unmasked.png", full_page=True)
    access = PersonalDataAccess.objects.get()
    assert (access.user.username, access.record_id, access.reason) == ("xinqiao", household.pk, "入户核实身份证号")
