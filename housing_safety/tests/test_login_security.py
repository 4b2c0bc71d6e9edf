"""Login security: the password rules, the lockout by user name, the idle session clock, the forced password change,
the security headers of the pages and the production settings behind them.

Each denied request also asserts that it changed nothing (no login, no cleared flag, no log row). The idle clock is
moved by a fake clock in place of the middleware's `time` module, so nothing waits.
"""

from __future__ import annotations

import datetime
import json
import re

import pytest
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AdminPasswordChangeForm, PasswordChangeForm
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode

from households import services
from households.demo import DEMO_PASSWORD, DEMO_USERS, seed_demo
from households.models import UserProfile
from households.tests.conftest import *  # noqa: F403 - the personas and the two townships' households
from households.tests.factories import make_user
from housing_safety.access import Role
from housing_safety.middleware import MUST_CHANGE_PASSWORD, RENEW_SECONDS, SEEN
from housing_safety.models import PersonalDataAccess
from housing_safety.passwords import CharacterClassesValidator, NotCurrentPasswordValidator
from housing_safety.tests.kit import PASSWORD, body  # make_user's password: passes every rule but must-differ

from .test_project import PRODUCTION_ENV, run_manage

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Dongkeng-2027!"
LOGIN = "/admin/login/"
CHANGE = "/admin/password_change/"
DONE = "/admin/password_change/done/"

TOO_SIMPLE_3 = "密码须至少混合 3 类字符：大写字母、小写字母、数字、符号。"
MUST_DIFFER = "新密码不能与当前密码相同。"
CHOOSE_YOUR_OWN = "请先设置您自己的密码，然后再继续。"
LOGGED_OUT_IDLE = "您长时间未操作，已自动退出登录。"


def log_in(client: Client, username: str, password: str = PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"}, **extra)


def logged_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def must_change(user) -> bool:
    return UserProfile.objects.get(user=user).must_change_password


def errors(exc: ValidationError) -> list[tuple[str, str]]:
    return [(error.code, error.messages[0]) for error in exc.error_list]


# ------------------------------------------------------------------------------------- 1. the password rules


@pytest.mark.parametrize(
    "password",
    [
        NEW_PASSWORD,  # all four kinds
        "dongkeng-2027",  # small letters, symbol, digits
        "Xinqiao2027zhen",  # capitals, small letters, digits
        "Correct horse battery",  # a space counts as a symbol
        "新桥镇住房安全2027ab",  # Chinese characters count as symbols
    ],
)
def test_strong_passwords_pass_every_validator(password):
    password_validation.validate_password(password)  # raises on any rule


@pytest.mark.parametrize(
    ("password", "codes"),
    [
        ("xinqiaozhen", ["password_too_simple"]),  # one kind
        ("xinqiaozhen2027", ["password_too_simple"]),  # two kinds
        ("XINQIAO-ZHEN", ["password_too_simple"]),  # capitals and a symbol
        ("新桥镇住房安全整治2027", ["password_too_simple"]),  # symbols (Chinese) and digits
        ("20270601123", ["password_entirely_numeric", "password_too_simple"]),
        ("Password123", ["password_too_common"]),
    ],
)
def test_weak_passwords_are_rejected_with_the_reasons_in_chinese(password, codes):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as raised:
        password_validation.validate_password(password)
    found = errors(raised.value)
    assert sorted(code for code, _message in found) == sorted(codes)
    messages = dict(found)
    if "password_too_simple" in messages:
        assert messages["password_too_simple"] == TOO_SIMPLE_3
    assert all(re.search(r"[\u4e00-\u9fff]", message) for _code, message in found)  # no English left


def test_a_short_password_of_four_kinds_is_rejected_for_its_length_only():
    with pytest.raises(ValidationError) as raised:
        password_validation.validate_password("Dk-2027!")
    assert [code for code, _message in errors(raised.value)] == ["password_too_short"]


def test_the_too_short_message_is_in_chinese(client, forced):
    response = change_password(client, PASSWORD, "Dk-2027!")
    assert response.status_code == 200
    assert "This password is too short" not in body(response)
    assert "密码长度太短。密码必须包含至少 10 个字符。" in body(response)


def test_the_number_of_kinds_is_configurable_and_said_in_the_message():
    four = CharacterClassesValidator(min_classes=4)
    with translation.override("zh-hans"), pytest.raises(ValidationError) as raised:
        four.validate("Dongkeng2027")  # three kinds
    assert errors(raised.value) == [
        ("password_too_simple", "密码须至少混合 4 类字符：大写字母、小写字母、数字、符号。")
    ]
    four.validate("Dongkeng-2027")
    CharacterClassesValidator(min_classes=2).validate("xinqiao2027")


def test_the_help_texts_shown_under_the_password_fields_are_in_chinese():
    with translation.override("zh-hans"):
        texts = password_validation.password_validators_help_texts()
    assert TOO_SIMPLE_3 in texts
    assert MUST_DIFFER in texts


def test_password_change_form_refuses_the_current_password_and_nothing_else(staff):
    with translation.override("zh-hans"):
        form = PasswordChangeForm(
            staff, {"old_password": PASSWORD, "new_password1": PASSWORD, "new_password2": PASSWORD}
        )
        assert not form.is_valid()
        assert form.errors == {"new_password2": [MUST_DIFFER]}

    form = PasswordChangeForm(
        staff, {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert form.is_valid(), form.errors
    form.save()
    staff.refresh_from_db()
    assert staff.check_password(NEW_PASSWORD)


def test_admin_password_change_form_refuses_the_users_current_password(staff):
    data = {"usable_password": "true", "password1": PASSWORD, "password2": PASSWORD}
    with translation.override("zh-hans"):
        form = AdminPasswordChangeForm(staff, data)
        assert not form.is_valid()
        assert form.errors == {"password2": [MUST_DIFFER]}

    form = AdminPasswordChangeForm(
        staff, {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert form.is_valid(), form.errors


def test_must_differ_does_not_apply_to_a_new_user_or_one_without_a_usable_password(staff):
    rule = NotCurrentPasswordValidator()
    rule.validate(PASSWORD, User(username="new-user"))  # not saved yet: nothing to compare with
    rule.validate(PASSWORD, None)
    staff.set_unusable_password()
    staff.save()
    rule.validate(PASSWORD, staff)
    with pytest.raises(ValidationError):
        rule.validate(PASSWORD, make_user(Role.TOWNSHIP_STAFF, townships=[staff.profile.townships.get()]))


def test_admin_reset_to_the_users_current_password_is_refused_and_changes_nothing(client, admin, staff):
    client.force_login(admin)
    response = client.post(
        f"/admin/auth/user/{staff.pk}/password/",
        {"usable_password": "true", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 200
    assert MUST_DIFFER in body(response)
    staff.refresh_from_db()
    assert staff.check_password(PASSWORD)
    assert not must_change(staff)  # a refused reset does not force a change either


# ------------------------------------------------------------------------------------- 2. the login lockout


def test_five_wrong_passwords_lock_the_user_name_even_for_the_right_password(client, staff):
    for attempt in range(4):
        response = log_in(client, staff.username, f"wrong-{attempt}")
        assert response.status_code == 200, attempt  # the login form again, with its error
    assert log_in(client, staff.username, "wrong-4").status_code == 429  # the fifth failure locks

    sixth = log_in(client, staff.username, PASSWORD)

    assert sixth.status_code == 429
    html = body(sixth)
    assert "登录已锁定" in html
    assert "密码已连续输错 5 次" in html
    assert "请 15 分钟后再试，或请住建局系统管理员解锁。" in html
    assert logged_in_user_id(client) is None
    assert client.get("/admin/").status_code == 302  # still not logged in
    assert "default-src 'self'" in sixth["Content-Security-Policy"]  # the locked page has the headers too


def test_the_lock_is_by_user_name_so_another_user_behind_the_same_address_logs_in(client, staff, official):
    for attempt in range(5):
        log_in(client, staff.username, f"wrong-{attempt}")
    assert log_in(client, staff.username, PASSWORD).status_code == 429

    response = log_in(Client(), official.username)  # same address (127.0.0.1), other user name

    assert (response.status_code, response.url) == (302, "/admin/")


def test_failures_from_different_addresses_add_up_for_one_user_name(client, staff):
    for attempt in range(5):
        log_in(client, staff.username, f"wrong-{attempt}", REMOTE_ADDR=f"10.0.0.{attempt + 1}")

    assert log_in(Client(), staff.username, REMOTE_ADDR="10.0.0.99").status_code == 429


def test_a_successful_login_before_the_limit_resets_the_count(client, staff):
    for attempt in range(4):
        assert log_in(client, staff.username, f"wrong-{attempt}").status_code == 200
    assert log_in(client, staff.username).status_code == 302
    client.post("/admin/logout/")

    # Without the reset, the first of these would be the fifth failure and lock the login.
    for attempt in range(4):
        assert log_in(client, staff.username, f"again-{attempt}").status_code == 200, attempt
    response = log_in(client, staff.username)
    assert (response.status_code, response.url) == (302, "/admin/")


def test_the_lock_lifts_after_the_cool_off_time(client, staff, settings):
    from axes.models import AccessAttempt

    for attempt in range(5):
        log_in(client, staff.username, f"wrong-{attempt}")
    assert log_in(client, staff.username).status_code == 429
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - datetime.timedelta(hours=settings.AXES_COOLOFF_TIME, minutes=1)
    )

    assert log_in(client, staff.username).status_code == 302


def test_bureau_admin_unlocks_a_user_by_deleting_the_access_attempts_in_the_admin(client, admin, staff):
    from axes.models import AccessAttempt

    locked = Client()
    for attempt in range(5):
        log_in(locked, staff.username, f"wrong-{attempt}")
    assert log_in(locked, staff.username).status_code == 429
    attempts = list(AccessAttempt.objects.filter(username=staff.username).values_list("pk", flat=True))
    assert attempts

    client.force_login(admin)
    listed = client.get("/admin/axes/accessattempt/")
    assert listed.status_code == 200 and staff.username in body(listed)
    response = client.post(
        "/admin/axes/accessattempt/", {"action": "delete_selected", "_selected_action": attempts, "post": "yes"}
    )

    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username=staff.username).exists()
    assert log_in(locked, staff.username).status_code == 302


@pytest.mark.parametrize("role", [Role.TOWNSHIP_STAFF, Role.BUREAU_OFFICIAL, Role.COMPLAINT_CLERK])
def test_other_roles_cannot_see_or_lift_a_lockout(client, personas, role):
    from axes.models import AccessAttempt

    victim = personas[Role.HELPER]
    for attempt in range(5):
        log_in(Client(), victim.username, f"wrong-{attempt}")
    before = list(AccessAttempt.objects.values_list("pk", "failures_since_start"))
    assert before

    client.force_login(personas[role])
    index = client.get("/admin/")
    listed = client.get("/admin/axes/accessattempt/")
    opened = client.get(f"/admin/axes/accessattempt/{before[0][0]}/change/")
    deleted = client.post(
        "/admin/axes/accessattempt/", {"action": "delete_selected", "_selected_action": [before[0][0]], "post": "yes"}
    )
    deleted_one = client.post(f"/admin/axes/accessattempt/{before[0][0]}/delete/", {"post": "yes"})

    assert index.status_code == 200 and "/admin/axes/" not in body(index)
    assert (listed.status_code, opened.status_code, deleted.status_code, deleted_one.status_code) == (403,) * 4
    assert victim.username not in body(listed)
    assert list(AccessAttempt.objects.values_list("pk", "failures_since_start")) == before
    assert log_in(Client(), victim.username).status_code == 429  # still locked


# ------------------------------------------------------------------------------------- 3. the idle session clock


def session_writes(queries) -> list[str]:
    return [q["sql"] for q in queries if "django_session" in q["sql"] and q["sql"].lstrip().upper()[:6] != "SELECT"]


def test_login_starts_the_idle_clock(client, staff, clock):
    assert log_in(client, staff.username).status_code == 302
    assert client.session[SEEN] == clock.now


@pytest.mark.parametrize("idle_seconds", [15 * 60, 30 * 60])
def test_a_session_idle_longer_than_the_setting_is_logged_out(client, staff, clock, settings, idle_seconds):
    settings.SESSION_IDLE_SECONDS = idle_seconds
    client.force_login(staff)
    clock.advance(idle_seconds + 1)

    response = client.get("/field/?tab=1")

    assert response.status_code == 302
    assert response.url == f"{reverse('admin:login')}?next=/field/%3Ftab%3D1"
    assert logged_in_user_id(client) is None
    assert client.get("/admin/").status_code == 302  # logged out for good, not only for one request
    login_page = client.get(response.url)
    assert LOGGED_OUT_IDLE in body(login_page)


def test_a_session_used_just_within_the_idle_time_stays_logged_in(client, staff, clock, settings):
    client.force_login(staff)
    clock.advance(settings.SESSION_IDLE_SECONDS - 1)

    assert client.get("/field/").status_code == 200
    assert logged_in_user_id(client) == str(staff.pk)


def test_an_idle_post_is_refused_and_writes_nothing(client, staff, home_household, clock, settings):
    client.force_login(staff)
    clock.advance(settings.SESSION_IDLE_SECONDS + 1)

    url = reverse("unmask", args=["households.household", home_household.pk])
    response = client.post(url, {"reason": "入户核实身份证号"})

    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
    assert not PersonalDataAccess.objects.exists()


def test_requests_within_the_renewal_interval_do_not_write_the_session(client, staff, clock):
    client.force_login(staff)
    started = client.session[SEEN]
    clock.advance(RENEW_SECONDS - 1)

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/")

    assert response.status_code == 200
    assert session_writes(queries.captured_queries) == []
    assert client.session[SEEN] == started


def test_a_request_after_the_renewal_interval_renews_the_clock(client, staff, clock, settings):
    client.force_login(staff)
    clock.advance(RENEW_SECONDS + 1)

    with CaptureQueriesContext(connection) as queries:
        assert client.get("/admin/").status_code == 200

    assert client.session[SEEN] == clock.now
    assert len(session_writes(queries.captured_queries)) == 1
    # Counted from the renewal, not from the login: idle time since the login now exceeds the limit.
    clock.advance(settings.SESSION_IDLE_SECONDS - 1)
    assert client.get("/field/").status_code == 200
    assert logged_in_user_id(client) == str(staff.pk)


def test_anonymous_pages_are_not_affected_by_the_idle_clock(client, clock):
    clock.advance(10**6)
    assert client.get(LOGIN).status_code == 200
    assert SEEN not in client.session


# ------------------------------------------------------------------------------------- 4. the forced password change


def forced_to(page: str) -> str:
    """Where a forced user asking for `page` is sent: the change page, carrying the page as `next`."""
    return f"{CHANGE}?{urlencode({'next': page})}"


def assert_forced(client: Client) -> None:
    response = client.get("/field/")
    assert (response.status_code, response.url) == (302, forced_to("/field/"))


def change_password(client: Client, old: str = PASSWORD, new: str = NEW_PASSWORD):
    return client.post(CHANGE, {"old_password": old, "new_password1": new, "new_password2": new})


def test_demo_seeding_forces_a_change_for_the_users_it_creates_and_only_those():
    existing = make_user(Role.BUREAU_OFFICIAL, username="official")  # already there before the demo data

    seed_demo(households=0)

    flags = dict(UserProfile.objects.values_list("user__username", "must_change_password"))
    # and the civil affairs liaison that files the demo's lead return: no password, nobody signs in with it
    assert flags == {spec.username: spec.username != "official" for spec in DEMO_USERS} | {"minzheng-demo": False}
    assert not User.objects.get(username="minzheng-demo").has_usable_password()
    assert User.objects.get(pk=existing.pk).check_password(PASSWORD)  # not reset to the demo password

    xinqiao = User.objects.get(username="xinqiao")
    services.password_changed(user=xinqiao)
    seed_demo(households=0)  # seeding again finds the users: no new flag
    assert not must_change(xinqiao)


def test_a_demo_user_logging_in_is_sent_to_choose_a_password():
    seed_demo(households=0)
    client = Client()

    response = client.post(LOGIN, {"username": "xinqiao", "password": DEMO_PASSWORD, "next": "/field/"}, follow=True)

    assert response.redirect_chain[-1] == (forced_to("/field/"), 302)
    assert CHOOSE_YOUR_OWN in body(response)
    assert client.session[MUST_CHANGE_PASSWORD] is True


def add_user_data(username: str, township) -> dict:
    return {
        "username": username,
        "usable_password": "true",
        "password1": "Xinqiao-first-2027",
        "password2": "Xinqiao-first-2027",
        "profile-TOTAL_FORMS": "1",
        "profile-INITIAL_FORMS": "0",
        "profile-MIN_NUM_FORMS": "1",
        "profile-MAX_NUM_FORMS": "1",
        "profile-0-role": Role.TOWNSHIP_STAFF,
        "profile-0-townships": [str(township.pk)],
        "profile-0-unit": "",
        "_save": "保存",
    }


def test_a_user_added_in_the_admin_must_change_the_first_password(client, admin, xinqiao):
    client.force_login(admin)

    response = client.post("/admin/auth/user/add/", add_user_data("chen-xinqiao", xinqiao))

    assert response.status_code == 302, body(response)
    created = User.objects.get(username="chen-xinqiao")
    assert must_change(created) and created.profile.role == Role.TOWNSHIP_STAFF
    newcomer = Client()
    assert log_in(newcomer, "chen-xinqiao", "Xinqiao-first-2027").status_code == 302
    assert_forced(newcomer)
    assert client.get("/admin/").status_code == 200  # the administrator who added it is not forced


def test_an_admin_reset_of_another_users_password_forces_a_change(client, admin, staff):
    client.force_login(admin)

    response = client.post(
        f"/admin/auth/user/{staff.pk}/password/",
        {"usable_password": "true", "password1": "Reset-by-admin-2027", "password2": "Reset-by-admin-2027"},
    )

    assert response.status_code == 302
    assert must_change(staff)
    assert not must_change(admin)
    owner = Client()
    assert log_in(owner, staff.username, "Reset-by-admin-2027").status_code == 302
    assert_forced(owner)


def test_an_admin_changing_their_own_password_in_the_user_admin_is_not_forced(client, admin):
    client.force_login(admin)

    response = client.post(
        f"/admin/auth/user/{admin.pk}/password/",
        {"usable_password": "true", "password1": "My-own-choice-2027", "password2": "My-own-choice-2027"},
    )

    assert response.status_code == 302
    assert not must_change(admin)
    assert client.get("/field/").status_code != 302  # still logged in, and not sent to the change page
    assert MUST_CHANGE_PASSWORD not in client.session


@pytest.fixture
def forced(client, staff):
    """The township staff member, logged in with a password an administrator reset."""
    services.require_password_change(user=staff)
    assert log_in(client, staff.username).status_code == 302
    return staff


def test_every_page_but_the_change_page_sends_a_forced_user_there(client, forced, home_household):
    pages = [
        "/",
        "/admin/",
        "/field/",
        "/exports/",
        "/complaints/",
        "/admin/households/household/",
        f"/admin/households/household/{home_household.pk}/change/",
        f"/admin/auth/user/{forced.pk}/password/",
        reverse("unmask", args=["households.household", home_household.pk]),
        DONE,
        "/healthz",
    ]

    answers = {page: (r.status_code, r.get("Location")) for page in pages for r in [client.get(page)]}

    # Where a login without a next lands ("/", the admin's index) is not a page asked for: no next.
    assert answers == {page: (302, CHANGE if page in ("/", "/admin/") else forced_to(page)) for page in pages}
    change_page = client.get(CHANGE)
    assert change_page.status_code == 200
    assert CHOOSE_YOUR_OWN in body(change_page)


def test_a_forced_users_writes_are_sent_to_the_change_page_and_change_nothing(client, forced, home_household):
    url = reverse("unmask", args=["households.household", home_household.pk])
    response = client.post(url, {"reason": "入户核实身份证号"})

    assert (response.status_code, response.url) == (302, CHANGE)
    assert not PersonalDataAccess.objects.exists()


def test_a_forced_user_may_log_out_switch_language_and_load_static_files(client, forced):
    static = client.get("/static/admin/css/base.css")
    language = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/field/"})

    assert static.get("Location") != CHANGE  # not sent to the change page (the web server serves static files)
    assert (language.status_code, language.url) == (302, "/field/")
    logout = client.post("/admin/logout/")
    assert logout.status_code == 200
    assert logged_in_user_id(client) is None


def test_a_valid_change_ends_the_forced_change(client, forced):
    response = change_password(client)

    assert (response.status_code, response.url) == (302, "/")  # without a next: the home (工作台)
    assert client.get("/field/").status_code == 200
    assert MUST_CHANGE_PASSWORD not in client.session
    assert not must_change(forced)
    forced.refresh_from_db()
    assert forced.check_password(NEW_PASSWORD)
    client.post("/admin/logout/")
    assert log_in(client, forced.username, NEW_PASSWORD).status_code == 302
    assert client.get("/field/").status_code == 200  # the next login is not forced either


def test_after_the_forced_change_a_demo_user_lands_on_the_page_they_asked_for():
    seed_demo(households=0)
    client = Client()
    login = client.post(LOGIN, {"username": "xinqiao", "password": DEMO_PASSWORD, "next": "/field/revisits/?page=1"})
    change_page = client.get(login.url, follow=True)
    assert change_page.redirect_chain[-1] == (forced_to("/field/revisits/?page=1"), 302)

    # The admin's form posts to its own address, next included.
    data = {"old_password": DEMO_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    response = client.post(forced_to("/field/revisits/?page=1"), data, follow=True)

    assert response.redirect_chain == [("/field/revisits/?page=1", 302)]
    assert response.status_code == 200
    assert "您的密码已修改。" in body(response)
    assert MUST_CHANGE_PASSWORD not in client.session


@pytest.mark.parametrize("role", Role.values)
def test_after_a_forced_change_without_a_next_each_role_lands_on_its_home(client, personas, role):
    user = personas[role]
    services.require_password_change(user=user)
    log_in(client, user.username)  # next=/admin/, where a login without a next lands

    assert client.get("/admin/").url == CHANGE
    response = change_password(client)

    assert (response.status_code, response.url) == (302, "/")  # the home (工作台), every role's
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/field/",
        "//evil.example/field/",
        "http://testserver/field/",
        "field",
        "javascript:alert(1)",
    ],
)
def test_after_a_forced_change_a_next_off_this_site_is_ignored(client, forced, next_url):
    response = client.post(
        f"{CHANGE}?{urlencode({'next': next_url})}",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert (response.status_code, response.url) == (302, "/")  # the home instead
    assert not must_change(forced)


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        (PASSWORD, PASSWORD, MUST_DIFFER),
        (PASSWORD, "xinqiaozhen", TOO_SIMPLE_3),
        ("wrong-old-password", NEW_PASSWORD, "你的旧密码不正确。请重新输入。"),
    ],
)
def test_a_refused_change_keeps_the_user_forced(client, forced, old, new, error):
    response = change_password(client, old, new)

    assert response.status_code == 200
    assert error in body(response)
    assert client.session[MUST_CHANGE_PASSWORD] is True
    assert must_change(forced)
    assert_forced(client)
    forced.refresh_from_db()
    assert forced.check_password(PASSWORD)


def test_opening_the_done_page_alone_does_not_end_the_forced_change(client, forced):
    response = client.get(DONE)

    assert (response.status_code, response.url) == (302, forced_to(DONE))
    assert client.session[MUST_CHANGE_PASSWORD] is True
    assert must_change(forced)
    assert_forced(client)


def test_the_flag_follows_the_profile_into_every_new_login(client, forced):
    client.post("/admin/logout/")
    again = Client()
    assert log_in(again, forced.username).status_code == 302
    assert_forced(again)


# ------------------------------------------------------------------------------------- 5. security headers


def inline_scripts(html: str) -> list[str]:
    """Inline scripts and event handler attributes, which the policy would block (JSON data blocks are not run)."""
    tags = re.findall(r"<script\b[^>]*>", html, flags=re.IGNORECASE)
    handlers = re.findall(r"<[a-z][^>]*\son[a-z]+\s*=[^>]*>", html, flags=re.IGNORECASE)
    return [tag for tag in tags if "src=" not in tag and "application/json" not in tag] + handlers


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def assert_secure_headers(response) -> None:
    policy = directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", [LOGIN, "/q/", "/no-such-page/"])
def test_public_pages_carry_the_security_headers(client, path):
    response = client.get(path)
    assert response.status_code in (200, 404)
    assert_secure_headers(response)
    assert inline_scripts(body(response)) == []


def test_logged_in_pages_carry_the_security_headers(client, staff, home_household):
    client.force_login(staff)
    pages = [
        "/admin/",
        "/field/",
        "/exports/",
        "/admin/households/household/",
        f"/admin/households/household/{home_household.pk}/change/",
        reverse("unmask", args=["households.household", home_household.pk]),
        CHANGE,
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert_secure_headers(response)
        assert inline_scripts(body(response)) == [], page


def test_file_downloads_carry_the_security_headers(client, staff, home_household):
    client.force_login(staff)
    response = client.get("/exports/households.xlsx")
    assert response.status_code == 200
    assert_secure_headers(response)


# ------------------------------------------------------------------------------------- 6. production settings

# test_project.py runs Django's deploy check on production settings, which already covers secure and HTTP-only
# cookies, HSTS, the HTTPS redirect, X-Frame-Options, nosniff and the referrer policy. These are the parts of this
# feature that the deploy check does not look at.
PROBE = """
import json
from django.conf import settings as s
names = [
    "SESSION_COOKIE_SAMESITE", "SESSION_EXPIRE_AT_BROWSER_CLOSE",
    "SESSION_COOKIE_AGE", "SESSION_IDLE_SECONDS", "AXES_FAILURE_LIMIT", "AXES_COOLOFF_TIME", "AXES_LOCKOUT_PARAMETERS",
    "AXES_RESET_ON_SUCCESS", "AXES_HTTP_RESPONSE_CODE", "AUTHENTICATION_BACKENDS", "MIDDLEWARE",
    "SECURE_PROXY_SSL_HEADER", "CONTENT_SECURITY_POLICY",
]
print(json.dumps({name: getattr(s, name) for name in names}, default=str))
"""


def production_settings(**env: str) -> dict:
    result = run_manage("shell", "--no-imports", "-c", PROBE, env={**PRODUCTION_ENV, **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_settings_keep_the_login_security():
    s = production_settings()

    assert s["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert s["SESSION_EXPIRE_AT_BROWSER_CLOSE"] is True
    assert 0 < s["SESSION_IDLE_SECONDS"] <= 30 * 60 < s["SESSION_COOKIE_AGE"]
    assert s["SESSION_IDLE_SECONDS"] > RENEW_SECONDS  # else every request would write the session
    assert (s["AXES_FAILURE_LIMIT"], s["AXES_COOLOFF_TIME"], s["AXES_LOCKOUT_PARAMETERS"]) == (5, 0.25, ["username"])
    assert (s["AXES_RESET_ON_SUCCESS"], s["AXES_HTTP_RESPONSE_CODE"]) == (True, 429)
    assert s["AUTHENTICATION_BACKENDS"][0] == "axes.backends.AxesStandaloneBackend"
    assert s["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    policy = s["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]
    assert policy["script-src"] == ["'self'"] and "'unsafe-inline'" not in json.dumps(policy)
    chain = s["MIDDLEWARE"]
    auth = chain.index("django.contrib.auth.middleware.AuthenticationMiddleware")
    assert "csp.middleware.CSPMiddleware" in chain
    assert auth < chain.index("housing_safety.middleware.SessionIdleMiddleware")
    assert chain.index("housing_safety.middleware.SessionIdleMiddleware") < chain.index(
        "housing_safety.middleware.PasswordChangeRequiredMiddleware"
    )  # an idle session ends before it is sent to change its password
    assert chain[-1] == "axes.middleware.AxesMiddleware"


def test_production_takes_the_lockout_and_idle_time_from_the_environment():
    s = production_settings(AXES_FAILURE_LIMIT="3", AXES_COOLOFF_HOURS="1", SESSION_IDLE_SECONDS="900")
    assert (s["AXES_FAILURE_LIMIT"], s["AXES_COOLOFF_TIME"], s["SESSION_IDLE_SECONDS"]) == (3, 1.0, 900)


def test_a_laptop_serves_the_login_over_plain_http(client, staff, settings):
    assert not settings.SESSION_COOKIE_SECURE and not settings.CSRF_COOKIE_SECURE
    response = log_in(client, staff.username)
    assert response.status_code == 302
    assert not response.cookies["sessionid"]["secure"]
    assert response.cookies["sessionid"]["httponly"]
