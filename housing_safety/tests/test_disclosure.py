"""Personal data on request (housing_safety.disclosure): the form that asks for a reason, the log row, the grant for
one record for UNMASK_MINUTES, who may ask and for which records, the audit in the admin and the exports that log
themselves.

Every kind of UNMASKABLE runs through the same tests (the `subject` fixture describes each one; a kind added to the
table without a subject here fails), and every refused request asserts that no log row was written and the record is
still masked.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import openpyxl
import pytest
from django.contrib import admin as django_admin
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.db.models import Model
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from import_export.forms import SelectableFieldsExportForm

from households import services as household_services
from households.identity import mask_id_number, mask_name, mask_phone
from households.models import Household
from households.resources import HouseholdResource
from households.tests.conftest import *  # noqa: F403 - the personas and the two townships' households
from households.tests.factories import HouseholdFactory
from housing_safety import disclosure
from housing_safety.access import ROLE_PERMISSIONS, Role
from housing_safety.disclosure import UNMASK_MINUTES, UNMASKABLE
from housing_safety.models import PersonalDataAccess
from housing_safety.tests.kit import ADMIN, CLERK, HELPER, LIAISON, OFFICIAL, STAFF, body
from rectification import services as rectification_services
from rectification.models import Complaint

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("chinese")]

PERSONAS = [*Role.values, "no_role"]

# The roles that may ask for each kind's full numbers (the rest get 403).
ALLOWED = {
    "households.household": {ADMIN, STAFF, HELPER},
    "rectification.complaint": {ADMIN, CLERK},
}
DENIED = [(kind, role) for kind, roles in ALLOWED.items() for role in PERSONAS if role not in roles]

REASON = "入户核实身份证号"
REASON_ERROR = "请说明查看完整号码的理由（至少 4 个字）。"
AUDIT = "/admin/housing_safety/personaldataaccess/"


def unmask_url(record: Model) -> str:
    return reverse("unmask", args=[disclosure.record_type(record), record.pk])


@dataclass
class Subject:
    """One unmaskable record and everything the tests need to know about it."""

    kind: str
    user: User  # may unmask it, and it is in their scope
    record: Model
    page: str  # where its personal data is shown
    list_page: str  # the list it appears in, masked for everyone
    list_masked: list[str]  # what that list shows of it
    full: list[str]  # on the page only when unmasked
    masked: list[str]  # on the page instead, while masked
    outsider: User  # holds the permission, but the record is outside their scope
    sibling: Model  # another record of the same kind in the user's scope
    sibling_full: list[str]

    @property
    def url(self) -> str:
        return unmask_url(self.record)

    def page_of(self, client: Client, record: Model | None = None) -> str:
        page = self.page if record is None else self.page.replace(f"/{self.record.pk}/", f"/{record.pk}/")
        response = client.get(page)
        assert response.status_code == 200, page
        return body(response)

    def assert_masked(self, client: Client) -> None:
        html = self.page_of(client)
        assert [value for value in self.full if value in html] == []
        assert [value for value in self.masked if value not in html] == []

    def assert_unmasked(self, client: Client) -> None:
        html = self.page_of(client)
        assert [value for value in self.full if value not in html] == []


def household_subject(personas, home_household, other_staff) -> Subject:
    sibling = HouseholdFactory(village=home_household.village, phone="13907770001")
    return Subject(
        kind="households.household",
        user=personas[STAFF],
        record=home_household,
        page=f"/admin/households/household/{home_household.pk}/change/",
        list_page="/admin/households/household/",
        list_masked=[mask_id_number(home_household.id_number), mask_phone(home_household.phone)],
        full=[home_household.id_number, home_household.phone],
        masked=[mask_id_number(home_household.id_number), mask_phone(home_household.phone)],
        outsider=other_staff,
        sibling=sibling,
        sibling_full=[sibling.id_number, sibling.phone],
    )


def log_complaint(clerk, township, name: str, phone: str) -> Complaint:
    complaint = Complaint(
        channel=Complaint.Channel.HOTLINE,
        received_at=timezone.now(),
        reporter_name=name,
        reporter_phone=phone,
        category=Complaint.Category.DANGEROUS_NOT_RENOVATED,
        content="东坑村李家土坯房裂缝严重，仍有人居住",
        township=township,
    )
    return rectification_services.log_complaint(actor=clerk, complaint=complaint)[0]


def complaint_subject(personas, xinqiao, other_staff) -> Subject:
    clerk = personas[CLERK]
    complaint = log_complaint(clerk, xinqiao, "王举报", "13912345678")
    sibling = log_complaint(clerk, xinqiao, "李二举", "13987654321")
    # No role holds the reporter permission with a limited scope; give it to 双洋镇's staff to show that the scope
    # still applies to whoever holds it.
    other_staff.user_permissions.add(Permission.objects.get(codename="view_reporter"))
    return Subject(
        kind="rectification.complaint",
        user=clerk,
        record=complaint,
        page=reverse("rectification:complaint", args=[complaint.pk]),
        list_page=reverse("rectification:complaints"),
        list_masked=[mask_name("王举报")],  # the list names the reporter, masked, without the phone
        full=["王举报", "13912345678"],
        masked=[mask_name("王举报"), mask_phone("13912345678")],
        outsider=User.objects.get(pk=other_staff.pk),
        sibling=sibling,
        sibling_full=["李二举", "13987654321"],
    )


@pytest.fixture(params=sorted(UNMASKABLE))
def subject(request, personas, xinqiao, home_household, other_staff) -> Subject:
    builders = {
        "households.household": lambda: household_subject(personas, home_household, other_staff),
        "rectification.complaint": lambda: complaint_subject(personas, xinqiao, other_staff),
    }
    assert request.param in builders, f"no subject for the unmaskable kind {request.param}: add one here"
    return builders[request.param]()


def grants(client: Client) -> dict:
    return client.session.get("unmasked", {})


# ------------------------------------------------------------------------------------- 1. the table itself


def test_every_unmaskable_kind_has_its_roles_here_and_they_are_the_roles_holding_its_permission():
    assert set(ALLOWED) == set(UNMASKABLE)
    for kind, spec in UNMASKABLE.items():
        holders = {role for role, codes in ROLE_PERMISSIONS.items() if spec.permission in codes}
        assert holders == ALLOWED[kind], kind


# ------------------------------------------------------------------------------------- 2. asking, with a reason


def test_the_form_asks_for_a_reason_and_shows_no_numbers(client, subject):
    client.force_login(subject.user)

    response = client.get(f"{subject.url}?next={subject.page}")

    assert response.status_code == 200
    html = body(response)
    assert "显示完整个人信息" in html and str(subject.record) in html
    assert f'name="next" value="{subject.page}"' in html
    assert [value for value in subject.full if value in html] == []
    assert not PersonalDataAccess.objects.exists()
    subject.assert_masked(client)


@pytest.mark.parametrize("reason", [None, "", "    ", "入户核", "a b", "\n\t"])
def test_a_missing_or_short_reason_is_400_in_chinese_and_changes_nothing(client, subject, reason):
    client.force_login(subject.user)
    data = {"next": subject.page} if reason is None else {"reason": reason, "next": subject.page}

    response = client.post(subject.url, data)

    assert response.status_code == 400
    assert REASON_ERROR in body(response)
    assert 'aria-invalid="true"' in body(response)
    assert not PersonalDataAccess.objects.exists()
    assert grants(client) == {}
    subject.assert_masked(client)


def test_a_good_reason_logs_one_row_and_opens_the_record(client, subject):
    client.force_login(subject.user)
    subject.assert_masked(client)

    response = client.post(subject.url, {"reason": "  入户核实\n 身份证号 ", "next": subject.page})

    assert (response.status_code, response.url) == (302, subject.page)
    access = PersonalDataAccess.objects.get()
    assert (access.user, access.record_type, access.record_id, access.reason, access.ip_address) == (
        subject.user,
        subject.kind,
        subject.record.pk,
        "入户核实 身份证号",  # whitespace tidied
        "127.0.0.1",
    )
    assert access.record == str(subject.record)
    assert [value for value in subject.full if value in access.record] == []  # the log names, it does not disclose
    html = subject.page_of(client)
    assert f"{subject.record} 的完整号码将显示 {UNMASK_MINUTES} 分钟。本次查看已记录。" in html
    subject.assert_unmasked(client)
    assert unmask_url(subject.record) not in html  # nothing left to ask for


def test_lists_stay_masked_after_unmasking(client, subject):
    client.force_login(subject.user)
    client.post(subject.url, {"reason": REASON})
    subject.assert_unmasked(client)

    response = client.get(subject.list_page)

    assert response.status_code == 200
    html = body(response)
    assert [value for value in subject.full if value in html] == []
    assert [value for value in subject.list_masked if value not in html] == []


def test_four_characters_are_enough_and_a_long_reason_is_cut_to_the_column(client, subject):
    client.force_login(subject.user)

    assert client.post(subject.url, {"reason": "入户核实"}).status_code == 302
    assert client.post(unmask_url(subject.sibling), {"reason": "核" * 250}).status_code == 302

    assert sorted(PersonalDataAccess.objects.values_list("reason", flat=True)) == ["入户核实", "核" * 200]


def test_the_address_behind_the_proxy_is_logged(client, subject, settings):
    settings.RATELIMIT_IP_META_KEY = "HTTP_X_REAL_IP"
    client.force_login(subject.user)

    client.post(subject.url, {"reason": REASON}, HTTP_X_REAL_IP="10.20.30.40")

    assert PersonalDataAccess.objects.get().ip_address == "10.20.30.40"


def test_the_record_is_masked_again_after_the_grant_expires(client, subject, clock):
    client.force_login(subject.user)
    client.post(subject.url, {"reason": REASON})

    clock.advance(UNMASK_MINUTES * 60 - 1)
    subject.assert_unmasked(client)
    clock.advance(2)
    subject.assert_masked(client)
    assert unmask_url(subject.record) in subject.page_of(client)  # may ask again
    assert PersonalDataAccess.objects.count() == 1


def test_the_grant_is_for_one_record(client, subject):
    client.force_login(subject.user)
    client.post(subject.url, {"reason": REASON})

    subject.assert_unmasked(client)
    sibling = subject.page_of(client, subject.sibling)
    assert [value for value in subject.sibling_full if value in sibling] == []
    assert unmask_url(subject.sibling) in sibling


def test_the_grant_is_for_one_kind_of_record(subject):
    """A grant for record 7 of one kind does not open record 7 of another kind."""
    request = RequestFactory().get("/")
    request.user = subject.user
    other_kinds = [kind for kind in UNMASKABLE if kind != subject.kind]
    request.session = {"unmasked": {f"{kind}:{subject.record.pk}": 2**40 for kind in [*other_kinds, "auth.user"]}}
    assert not disclosure.is_unmasked(request, subject.record)
    request.session["unmasked"][f"{subject.kind}:{subject.record.pk}"] = 2**40
    assert disclosure.is_unmasked(request, subject.record)


def test_the_grant_is_for_one_session(client, subject):
    client.force_login(subject.user)
    client.post(subject.url, {"reason": REASON})
    elsewhere = Client()
    elsewhere.force_login(subject.user)

    subject.assert_masked(elsewhere)
    client.post("/admin/logout/")
    client.force_login(subject.user)
    subject.assert_masked(client)  # a new login starts without grants


def test_a_user_who_loses_the_permission_sees_the_record_masked_again(client, subject):
    client.force_login(subject.user)
    client.post(subject.url, {"reason": REASON})
    subject.assert_unmasked(client)

    household_services.set_user_role(user=subject.user, role=OFFICIAL)

    subject.assert_masked(client)


# ------------------------------------------------------------------------------------- 3. who may ask, for what


@pytest.mark.parametrize(("subject", "role"), DENIED, indirect=["subject"])
def test_a_role_without_the_permission_gets_403_and_nothing_is_logged(client, personas, subject, role):
    user = personas[role]
    client.force_login(user)

    shown = client.get(subject.url)
    posted = client.post(subject.url, {"reason": REASON, "next": subject.page})

    assert (shown.status_code, posted.status_code) == (403, 403)
    assert str(subject.record) not in body(shown)
    assert not PersonalDataAccess.objects.exists()
    assert grants(client) == {}
    page = client.get(subject.page)
    if page.status_code == 200:  # a role that reads the record sees it masked, without a link to ask
        assert [value for value in subject.full if value in body(page)] == []
        assert subject.url not in body(page)


def test_anonymous_is_sent_to_the_login_and_nothing_is_logged(client, subject):
    shown = client.get(subject.url)
    posted = client.post(subject.url, {"reason": REASON})

    for response in (shown, posted):
        assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
    assert not PersonalDataAccess.objects.exists()


def test_a_record_outside_the_scope_is_404_and_nothing_is_logged(client, subject):
    client.force_login(subject.outsider)
    assert subject.outsider.has_perm(UNMASKABLE[subject.kind].permission)  # the scope refuses, not the role

    shown = client.get(subject.url)
    posted = client.post(subject.url, {"reason": REASON})

    assert (shown.status_code, posted.status_code) == (404, 404)
    assert str(subject.record) not in body(shown)
    assert not PersonalDataAccess.objects.exists()
    assert grants(client) == {}


def test_a_record_that_does_not_exist_is_404(client, subject):
    client.force_login(subject.user)
    missing = reverse("unmask", args=[subject.kind, 10**9])
    assert client.get(missing).status_code == 404
    assert client.post(missing, {"reason": REASON}).status_code == 404
    assert not PersonalDataAccess.objects.exists()


def test_the_helper_may_ask_only_for_the_households_assigned_to_them(client, helper, home_household, other_household):
    Household.objects.filter(pk=other_household.pk).update(helper_user=helper)
    client.force_login(helper)

    assert client.post(unmask_url(home_household), {"reason": REASON}).status_code == 404
    assert client.post(unmask_url(other_household), {"reason": REASON}).status_code == 302

    assert list(PersonalDataAccess.objects.values_list("user", "record_id")) == [(helper.pk, other_household.pk)]


@pytest.mark.parametrize(
    "kind", ["auth.user", "households.dwelling", "households.unit", "nonsense", "Households.Household"]
)
def test_an_unknown_kind_is_404_even_for_the_bureau_admin(client, admin, home_household, kind):
    client.force_login(admin)
    url = reverse("unmask", args=[kind, home_household.pk])

    assert client.get(url).status_code == 404
    assert client.post(url, {"reason": REASON}).status_code == 404
    assert not PersonalDataAccess.objects.exists()
    assert grants(client) == {}


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "javascript:alert(document.cookie)",
        # not a path: redirect() would take it for a URL name (a 500 when none has it, found by test_fuzz.py)
        "1e400",
        "admin:index",
    ],
)
def test_next_pointing_elsewhere_is_ignored(client, subject, target):
    client.force_login(subject.user)

    shown = client.get(subject.url, {"next": target})
    posted = client.post(subject.url, {"reason": REASON, "next": target})
    posted_in_query = client.post(f"{subject.url}?next={target}", {"reason": REASON})

    assert "evil.example" not in body(shown) and "javascript:" not in body(shown)
    assert 'name="next" value=""' in body(shown)
    assert (posted.status_code, posted.url) == (302, "/")
    assert (posted_in_query.status_code, posted_in_query.url) == (302, "/")


# ------------------------------------------------------------------------------------- 4. the audit in the admin


@pytest.fixture
def logged(client, personas, home_household, other_household):
    """Two disclosures by the township staff and one by the bureau administrator."""
    staff, admin = personas[STAFF], personas[ADMIN]
    disclosure.unmask(user=staff, session={}, obj=home_household, reason="入户核实身份证号", ip_address="10.0.0.7")
    disclosure.unmask(user=staff, session={}, obj=home_household, reason="电话回访改造进度", ip_address="10.0.0.7")
    disclosure.unmask(user=admin, session={}, obj=other_household, reason="核对省级系统名单")
    return list(PersonalDataAccess.objects.order_by("pk"))


def test_the_bureau_admin_reads_the_audit(client, admin, staff, logged):
    client.force_login(admin)

    response = client.get(AUDIT)

    assert response.status_code == 200
    html = body(response)
    for reason in ("入户核实身份证号", "电话回访改造进度", "核对省级系统名单"):
        assert reason in html
    assert staff.username in html and "10.0.0.7" in html
    assert {row.pk for row in response.context["cl"].result_list} == {row.pk for row in logged}
    assert f"{AUDIT}add/" not in html  # no add button
    assert "delete_selected" not in html  # no delete action
    opened = client.get(f"{AUDIT}{logged[0].pk}/change/")
    assert opened.status_code == 200 and "入户核实身份证号" in body(opened)
    assert 'name="_save"' not in body(opened) and f"{AUDIT}{logged[0].pk}/delete/" not in body(opened)


def test_the_audit_cannot_be_added_to_changed_or_deleted_even_by_the_bureau_admin(client, admin, logged):
    client.force_login(admin)
    row = logged[0]
    before = list(PersonalDataAccess.objects.order_by("pk").values())

    added = client.post(f"{AUDIT}add/", {"user": admin.pk, "record_type": "x", "record": "x", "reason": "伪造记录"})
    changed = client.post(f"{AUDIT}{row.pk}/change/", {"reason": "改掉理由", "record": row.record})
    deleted = client.post(f"{AUDIT}{row.pk}/delete/", {"post": "yes"})
    bulk = client.post(AUDIT, {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"})

    assert (client.get(f"{AUDIT}add/").status_code, added.status_code) == (403, 403)
    assert (changed.status_code, deleted.status_code) == (403, 403)
    assert bulk.status_code in (200, 302)  # "no action selected": the action does not exist for this admin
    assert list(PersonalDataAccess.objects.order_by("pk").values()) == before


@pytest.mark.parametrize("role", [OFFICIAL, STAFF, LIAISON, CLERK, HELPER, "no_role"])
def test_other_roles_cannot_open_the_audit(client, personas, logged, role):
    client.force_login(personas[role])

    listed = client.get(AUDIT)
    opened = client.get(f"{AUDIT}{logged[0].pk}/change/")

    assert listed.status_code in (302, 403) and opened.status_code in (302, 403)
    if personas[role].is_staff:  # a user of the admin is refused outright; one without a role is sent to log in
        assert (listed.status_code, opened.status_code) == (403, 403)
    assert "入户核实身份证号" not in body(listed) + body(opened)
    assert "/admin/housing_safety/personaldataaccess/" not in body(client.get("/admin/"))


def test_the_audit_list_takes_the_same_queries_for_many_rows(client, admin, staff, home_household):
    client.force_login(admin)

    def queries_for_list() -> int:
        client.get(AUDIT)  # warm: the shell's cached identity line
        with CaptureQueriesContext(connection) as queries:
            assert client.get(AUDIT).status_code == 200
        return len(queries)

    disclosure.unmask(user=staff, session={}, obj=home_household, reason=REASON)
    few = queries_for_list()
    for number in range(20):
        user = staff if number % 2 else admin
        disclosure.unmask(user=user, session={}, obj=home_household, reason=f"{REASON}{number}")
    assert queries_for_list() == few


# ------------------------------------------------------------------------------------- 5. exports log themselves


@pytest.fixture
def two_home_households(home_household):
    """新桥镇 has two households (the staff's export: 2 rows); 双洋镇's are outside its scope."""
    return [home_household, HouseholdFactory(village=home_household.village)]


def xlsx_cells(response) -> set[str]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return {str(cell) for sheet in workbook for row in sheet.iter_rows(values_only=True) for cell in row if cell}


def admin_export_data() -> dict[str, str]:
    """The registry admin's export form as submitted: xlsx, the only resource, every field ticked."""
    model_admin = django_admin.site._registry[Household]
    titles = [fmt().get_title() for fmt in model_admin.get_export_formats()]
    data = {"format": str(titles.index("xlsx")), "resource": "0"}
    for field in HouseholdResource().get_export_order():
        data[SelectableFieldsExportForm.create_boolean_field_name(HouseholdResource, field)] = "on"
    return data


def export_by(client: Client, route: str):
    if route == "exports page":
        return client.get(reverse("reporting:export", args=["households"]))
    return client.post("/admin/households/household/export/", admin_export_data())


ROUTES = ["exports page", "admin"]


@pytest.mark.parametrize("route", ROUTES)
def test_a_township_staff_export_with_full_numbers_writes_one_log_row(client, staff, two_home_households, route):
    client.force_login(staff)

    response = export_by(client, route)

    assert response.status_code == 200
    cells = xlsx_cells(response)
    assert {h.id_number for h in two_home_households} <= cells  # the file does carry the full numbers
    access = PersonalDataAccess.objects.get()
    assert (access.user, access.record_type, access.record_id) == (staff, "export", None)
    assert access.record == "导出：农户（2 行）"
    assert access.reason == "导出含完整号码"


@pytest.mark.parametrize("route", ROUTES)
def test_an_officials_masked_export_writes_no_log_row(client, official, two_home_households, other_household, route):
    client.force_login(official)

    response = export_by(client, route)

    assert response.status_code == 200
    cells = xlsx_cells(response)
    assert mask_id_number(two_home_households[0].id_number) in cells
    assert not {h.id_number for h in [*two_home_households, other_household]} & cells
    assert not PersonalDataAccess.objects.exists()


@pytest.mark.parametrize("route", ROUTES)
def test_an_export_log_row_records_the_address(client, staff, two_home_households, route):
    client.force_login(staff)
    export_by(client, route)
    assert PersonalDataAccess.objects.get().ip_address == "127.0.0.1"


def test_the_complaint_desks_export_logs_one_row_and_a_handlers_none(client, personas, xinqiao):
    clerk, staff = personas[CLERK], personas[STAFF]
    for name in ("王举报", "李二举", "张三举"):
        log_complaint(clerk, xinqiao, name, "13912345678")
    url = reverse("rectification:complaint-export")

    client.force_login(staff)  # sees the township's complaints, reporters masked
    assert client.get(url).status_code == 200
    assert not PersonalDataAccess.objects.exists()

    client.force_login(clerk)
    response = client.get(url)
    assert response.status_code == 200 and "王举报" in xlsx_cells(response)
    access = PersonalDataAccess.objects.get()
    assert (access.user, access.record_type, access.record, access.ip_address) == (
        clerk,
        "export",
        "导出：举报投诉（3 行）",
        "127.0.0.1",
    )
