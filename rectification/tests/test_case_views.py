"""Persona tests for the renovation-case pages (危房改造): every page and every write, for every role, with status,
content and "nothing changed" on refusals; opening and moving cases through the pages; the archive ZIP; the archive
and subsidy overviews against the database; pinned query counts; the case admin; English.

Two sides of the county: 新桥镇 (the township staff persona's township, 东坑村) and 双洋镇 (西山村, whose own staff
member is the `outsider` persona). Every household has a distinct name, so a page that leaks a record out of scope
fails on that name. Cases are opened and walked through the real services (rectification/tests/factories.py).
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db.models import Sum
from django.urls import reverse
from openpyxl import load_workbook

from households.identity import mask_id_number
from households.models import Attachment, Dwelling, Unit
from households.tests.factories import HouseholdFactory, VillageFactory, make_user, png_bytes, png_file, township
from housing_safety.access import Role
from housing_safety.tests.kit import (
    ADMIN,
    CLERK,
    HELPER,
    LIAISON,
    NO_ROLE,
    OFFICIAL,
    STAFF,
    Shared,
    assert_login_redirect,
    body,
    built_once,
    list_items,
    login,
    make_personas,
    messages_of,
    today,
)
from rectification import services
from rectification.models import (
    CaseDocument,
    CaseStatus,
    CaseTransition,
    DocumentKind,
    RenovationCase,
    RenovationType,
    SubsidyPayment,
    SubsidyStandard,
)
from rectification.selectors import archive_completeness
from rectification.tests.factories import (
    YEAR,
    dangerous_dwelling,
    days_ago,
    new_case,
    safe_appraisal,
    standards,
    step_data,
    walk,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("chinese")]

S = CaseStatus
OUTSIDER = "outsider"  # township staff of 双洋镇
WITHOUT_VIEW = [LIAISON, CLERK, HELPER, NO_ROLE]  # no rectification.view_renovationcase

HOME, OTHER = "新桥镇", "双洋镇"
NAMES = {  # case or waiting dwelling -> head of household
    "applied": "陈申请",
    "reviewed": "林审核",
    "building": "吴施工",
    "moving": "郑搬迁",
    "paid": "黄拨付",
    "other": "王远山",
    "waiting": "李待立",
    "other_waiting": "赵待立",
}

# Chinese texts (locale/zh_Hans) the pages must show.
MISSING_DOCUMENTS = "本环节缺少材料："
POSTING_TOO_SHORT = "公示期不少于7天（含首尾两天）。"
UNKNOWN_STEP = "未知的办理环节。"
ALREADY_OPEN = "该房屋已有在办的危房改造案件。"
NOT_DANGEROUS = "只有当前鉴定为C级或D级的房屋才能立危房改造案件。"
ZIP_LINK = "下载档案（ZIP）"
RECORD_STEP = "登记本环节"
INDEX_SHEETS = ["材料目录", "办理记录", "案件信息"]
CHANGELIST = "/admin/rectification/renovationcase/"


# --------------------------------------------------------------------------------------------- helpers


def iso(day: datetime.date) -> str:
    return f"{day:%Y-%m-%d}"


def errors_of(text: str) -> list[str]:
    """Field errors (under each field) and the form's non-field errors (the error summary's items that link to no
    field: the summary lists field errors too, as links)."""
    summary = re.findall(r"data-error-summary>(.*?)</div>", text, re.S)
    return re.findall(r'<p class="error">(.*?)</p>', text) + [
        item.strip() for block in summary for item in re.findall(r"<li>(.*?)</li>", block, re.S) if "<a " not in item
    ]


def snapshot() -> tuple:
    """Everything a renovation write could touch."""
    return (
        list(
            RenovationCase.objects.order_by("pk").values_list(
                "pk",
                "status",
                "status_on",
                "last_activity_on",
                "planned_subsidy",
                "new_dwelling_id",
                "village_posting_start",
                "accepted_on",
                "closed_from",
            )
        ),
        list(CaseTransition.objects.order_by("pk").values_list("pk", "to_status", "on")),
        list(CaseDocument.objects.order_by("pk").values_list("pk", "kind_id", "case_id")),
        list(SubsidyPayment.objects.order_by("pk").values_list("pk", "amount")),
        Attachment.objects.count(),
        Dwelling.objects.count(),
    )


def kind(code: str) -> DocumentKind:
    return DocumentKind.objects.get(code=code)


# --------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def shared(django_db_setup, django_db_blocker, tmp_path_factory):
    """The users and the world, built once for the module: the tests read them, and what a test writes is rolled
    back after it (kit.built_once)."""
    with built_once(django_db_blocker, tmp_path_factory) as media:
        users = build_users()
        yield Shared({"users": users, "world": build_world(users, township("350881100"), township("350881101"))}, media)


@pytest.fixture
def built(shared, db, settings):
    """This test's copy of what the module built."""
    return shared.fresh(settings)


@pytest.fixture
def users(request):
    """The world's users in a test of the world; built for the test alone in one that builds its own data."""
    if "world" in request.fixturenames:
        return request.getfixturevalue("built")["users"]
    request.getfixturevalue("db")
    return build_users()


@pytest.fixture
def world(built):
    return built["world"]


def build_users() -> dict:
    """The personas, and township staff of 双洋镇 (OUTSIDER)."""
    xinqiao, poverty_office = township("350881100"), Unit.objects.get(name="漳平市扶贫开发办公室")
    personas = make_personas(township=xinqiao, unit=poverty_office)
    return {**personas, OUTSIDER: make_user(Role.TOWNSHIP_STAFF, townships=[township("350881101")])}


def build_world(users, xinqiao, shuangyang) -> SimpleNamespace:
    """新桥镇: a case at each step the pages act on, and a dangerous dwelling without a case; 双洋镇: one case and
    one dangerous dwelling without a case."""
    standards()
    staff, admin, outsider = users[STAFF], users[ADMIN], users[OUTSIDER]
    villages = {
        "home": VillageFactory(township=xinqiao, name="东坑村"),
        "other": VillageFactory(township=shuangyang, name="西山村"),
    }

    def dwelling(key: str, side: str = "home", grade: str = "D"):
        return dangerous_dwelling(HouseholdFactory(village=villages[side], head_name=NAMES[key]), grade=grade)

    def opened(key: str, until: str = S.APPLIED, **fields) -> RenovationCase:
        case = new_case(staff, dwelling(key), **fields)
        return walk(case, until, township_user=staff, bureau_user=admin)

    cases = {
        "applied": opened("applied"),
        "reviewed": opened("reviewed", S.TOWNSHIP_REVIEWED),
        "building": opened("building", S.CONSTRUCTION_STARTED),
        "moving": opened("moving", S.APPROVED, renovation_type=RenovationType.NEW_SITE),
        "paid": opened("paid", S.PAID),
        "other": new_case(outsider, dwelling("other", "other")),
    }
    waiting = {"home": dwelling("waiting"), "other": dwelling("other_waiting", "other", grade="C")}
    return SimpleNamespace(cases=cases, waiting=waiting, staff=staff, admin=admin)


def refreshed(world, key: str) -> RenovationCase:
    return RenovationCase.objects.get(pk=world.cases[key].pk)


# Each write of the case page, with a payload that is valid for the user allowed to make it (see
# test_the_write_payloads_succeed_for_the_roles_that_may_make_them): (url name, case, payload builder).


def village_assessed_payload(on: datetime.date | None = None, days: int = 7, **extra) -> dict:
    on = on or days_ago(100)  # the walk applied 120 days ago
    data = {
        "to": S.VILLAGE_ASSESSED,
        "village_assessed-on": iso(on),
        "village_assessed-note": "村民代表大会评议通过",
        "village_assessed-posting_start": iso(on),
        "village_assessed-posting_end": iso(on + datetime.timedelta(days=days - 1)),
        "village_assessed-doc_assessment_record": png_file("评议记录.png"),
        "village_assessed-doc_village_posting_photo": png_file("村级公示.png"),
    }
    return data | extra


def acceptance_payload() -> dict:
    return {
        "to": S.ACCEPTED,
        "accepted-on": iso(today()),
        "accepted-acceptors": "王工、陈工",
        "accepted-doc_photo_during": png_file("施工中.png"),
        "accepted-doc_acceptance_form": png_file("验收表.png"),
        "accepted-doc_photo_after": png_file("改造后.png"),
    }


def approval_payload() -> dict:
    return {"to": S.APPROVED, "approved-on": iso(today()), "approved-note": "同意"}


WRITES = {
    "move": ("rectification:case-move", "applied", village_assessed_payload),
    "documents": (
        "rectification:case-documents",
        "applied",
        lambda: {"docs-kind": str(kind("village_certificate").pk), "docs-files": png_file("村级证明.png")},
    ),
    "check": (
        "rectification:case-check",
        "building",
        lambda: {"check-on": iso(today()), "check-note": "圈梁浇筑符合要求", "check-photos": png_file("检查.png")},
    ),
    "new-dwelling": (
        "rectification:case-new-dwelling",
        "moving",
        lambda: {
            "dwelling-address": "安置区3栋101",
            "dwelling-structure_type": Dwelling.StructureType.BRICK_CONCRETE,
            "dwelling-storeys": "2",
            "dwelling-floor_area": "96",
            "dwelling-year_built": str(today().year),
        },
    ),
    "supplement": (
        "rectification:case-supplement",
        "paid",
        lambda: {
            "supplement-paid_on": iso(today()),
            "supplement-amount": "1500",
            "supplement-voucher_number": "PZ-B1",
            "supplement-reason": "物价上涨补差",
        },
    ),
}
WRITE_SUCCESS = {  # the write's success message, and who may make it
    "move": ("案件已进入“村民评议”。公示通知已存入档案，可在下方公示日期处打印。", STAFF),
    "documents": ("材料已归档。", STAFF),
    "check": ("施工检查已登记。", STAFF),
    "new-dwelling": ("新住房已登记。", STAFF),
    "supplement": ("补充拨付已登记。", ADMIN),
}
LIST_PAGES = {
    "list": "rectification:cases",
    "dangerous": "rectification:dangerous-without-case",
    "archive": "rectification:archive",
    "subsidies": "rectification:subsidies",
}


def reads(world) -> dict[str, str]:
    """Every GET of the renovation pages: the four overviews, opening a case, the case page and its ZIP."""
    urls = {key: reverse(name) for key, name in LIST_PAGES.items()}
    urls["new"] = f"{reverse('rectification:case-new')}?dwelling={world.waiting['home'].pk}"
    urls["case"] = reverse("rectification:case", args=[world.cases["applied"].pk])
    urls["zip"] = reverse("rectification:case-archive", args=[world.cases["paid"].pk])
    return urls


def write_url(world, key: str, case_key: str | None = None) -> str:
    name, default_case, _payload = WRITES[key]
    return reverse(name, args=[world.cases[case_key or default_case].pk])


def payload(key: str) -> dict:
    return WRITES[key][2]()


# ------------------------------------------------------------------------------- 1. access for every persona


def test_anonymous_is_sent_to_the_login_for_every_page_and_write(client, world):
    before = snapshot()
    for url in reads(world).values():
        assert_login_redirect(client.get(url), url)
    for key in WRITES:
        url = write_url(world, key)
        assert_login_redirect(client.post(url, payload(key)), url)
    assert snapshot() == before


@pytest.mark.parametrize("persona", WITHOUT_VIEW)
def test_roles_without_the_case_permission_get_403_everywhere(client, users, world, persona):
    login(client, users, persona)
    before = snapshot()
    for key, url in reads(world).items():
        assert client.get(url).status_code == 403, key
    for key in WRITES:
        assert client.post(write_url(world, key), payload(key)).status_code == 403, key
    assert snapshot() == before


def test_roles_without_the_case_permission_have_no_renovation_link(client, users, world):
    for persona in WITHOUT_VIEW:
        login(client, users, persona)
        assert reverse("rectification:cases") not in body(client.get(reverse("inspections:field")))
    login(client, users, STAFF)
    assert reverse("rectification:cases") in body(client.get(reverse("inspections:field")))


def test_other_township_staff_get_404_on_a_home_case_and_change_nothing(client, users, world):
    login(client, users, OUTSIDER)
    before = snapshot()
    urls = reads(world)
    for key in ("new", "case", "zip"):
        assert client.get(urls[key]).status_code == 404, key
    for key in WRITES:
        assert client.post(write_url(world, key), payload(key)).status_code == 404, key
    # every write of every home case, not only the one whose step fits
    for case_key in ("applied", "reviewed", "building", "moving", "paid"):
        assert client.get(reverse("rectification:case", args=[world.cases[case_key].pk])).status_code == 404
        for key in WRITES:
            assert client.post(write_url(world, key, case_key), payload(key)).status_code == 404, (case_key, key)
    assert snapshot() == before
    # their own case is theirs
    assert client.get(reverse("rectification:case", args=[world.cases["other"].pk])).status_code == 200


def test_other_township_staff_open_nothing_for_a_home_dwelling(client, users, world):
    login(client, users, OUTSIDER)
    before = snapshot()
    url = reads(world)["new"]
    assert client.post(url, opening_payload()).status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("persona", [STAFF, ADMIN, OFFICIAL, OUTSIDER])
def test_the_overview_pages_render_for_the_roles_that_see_cases(client, users, world, persona):
    login(client, users, persona)
    for key, name in LIST_PAGES.items():
        assert client.get(reverse(name)).status_code == 200, key


def test_the_write_payloads_succeed_for_the_roles_that_may_make_them(client, users, world):
    """Control for every refusal in this file: the same payloads, posted by the right user, are written."""
    for key, (message, persona) in WRITE_SUCCESS.items():
        login(client, users, persona)
        before = snapshot()
        response = client.post(write_url(world, key), payload(key), follow=True)
        assert response.redirect_chain == [(reverse("rectification:case", args=[world.cases[WRITES[key][1]].pk]), 302)]
        assert messages_of(body(response)) == [message], key
        assert snapshot() != before, key
    assert refreshed(world, "applied").status == S.VILLAGE_ASSESSED
    assert refreshed(world, "moving").new_dwelling.address == "安置区3栋101"
    assert refreshed(world, "paid").payments.filter(is_supplementary=True, amount=Decimal("1500")).exists()


@pytest.mark.parametrize("key", ["move", "documents", "check", "new-dwelling", "supplement"])
def test_bureau_official_may_not_write_and_nothing_changes(client, users, world, key):
    login(client, users, OFFICIAL)
    before = snapshot()
    response = client.post(write_url(world, key), payload(key))
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize(
    ("persona", "case_key", "make"),
    [
        (OFFICIAL, "applied", village_assessed_payload),  # a township step
        (OFFICIAL, "building", acceptance_payload),  # completion acceptance is the bureau administrator's
        (STAFF, "building", acceptance_payload),
        (STAFF, "reviewed", approval_payload),  # approval is the bureau's
    ],
)
def test_a_step_of_another_role_is_403_and_changes_nothing(client, users, world, persona, case_key, make):
    safe_appraisal(world.cases["building"].dwelling, on=days_ago(25))  # acceptance would otherwise pass
    login(client, users, persona)
    before = snapshot()
    response = client.post(reverse("rectification:case-move", args=[world.cases[case_key].pk]), make())
    assert response.status_code == 403
    assert snapshot() == before


def test_bureau_admin_accepts_and_bureau_official_approves(client, users, world):
    """Control for the refusals above: the same acceptance and approval by the role that owns them."""
    safe_appraisal(world.cases["building"].dwelling, on=days_ago(25))
    login(client, users, ADMIN)
    response = client.post(reverse("rectification:case-move", args=[world.cases["building"].pk]), acceptance_payload())
    assert response.status_code == 302
    assert refreshed(world, "building").status == S.ACCEPTED
    login(client, users, OFFICIAL)
    response = client.post(reverse("rectification:case-move", args=[world.cases["reviewed"].pk]), approval_payload())
    assert response.status_code == 302
    assert refreshed(world, "reviewed").status == S.APPROVED


def test_bureau_official_sees_the_case_but_no_form_of_a_step_it_may_not_take(client, users, world):
    login(client, users, OFFICIAL)
    applied = body(client.get(reverse("rectification:case", args=[world.cases["applied"].pk])))
    assert world.cases["applied"].number in applied
    assert RECORD_STEP not in applied and 'name="to"' not in applied
    assert "下一环节“村民评议”由其他单位办理。" in applied  # says whose step it is
    assert reverse("rectification:case-documents", args=[world.cases["applied"].pk]) not in applied
    reviewed = body(client.get(reverse("rectification:case", args=[world.cases["reviewed"].pk])))
    assert set(re.findall(r'<input type="hidden" name="to" value="([a-z_]+)">', reviewed)) == {S.APPROVED, S.REJECTED}


def test_township_staff_are_offered_the_township_steps(client, users, world):
    login(client, users, STAFF)
    applied = body(client.get(reverse("rectification:case", args=[world.cases["applied"].pk])))
    offered = re.findall(r'<input type="hidden" name="to" value="([a-z_]+)">', applied)
    assert offered == [S.VILLAGE_ASSESSED, S.REJECTED, S.WITHDRAWN]
    for name in (
        "village_assessed-on",
        "village_assessed-posting_start",
        "village_assessed-posting_end",
        "village_assessed-doc_assessment_record",
        "village_assessed-doc_village_posting_photo",
    ):
        assert f'name="{name}"' in applied
    reviewed = body(client.get(reverse("rectification:case", args=[world.cases["reviewed"].pk])))
    assert re.findall(r'<input type="hidden" name="to" value="([a-z_]+)">', reviewed) == [S.WITHDRAWN]
    assert "下一环节“县级审批”由其他单位办理。" in reviewed


@pytest.mark.parametrize("key", list(WRITES))
def test_writes_refuse_get(client, users, world, key):
    login(client, users, STAFF)
    assert client.get(write_url(world, key)).status_code == 405


def test_a_case_that_does_not_exist_is_404(client, users, world):
    login(client, users, ADMIN)
    missing = RenovationCase.objects.order_by("-pk").first().pk + 100
    assert client.get(reverse("rectification:case", args=[missing])).status_code == 404
    assert client.get(reverse("rectification:case-archive", args=[missing])).status_code == 404
    assert (
        client.post(reverse("rectification:case-move", args=[missing]), village_assessed_payload()).status_code == 404
    )


# ------------------------------------------------------------------------------- 2. scope of the lists


def case_numbers(text: str) -> set[str]:
    return set(re.findall(r"<strong>(GZ\d{4}-\d{3}-\d{4})</strong>", text))


def test_township_staff_list_only_their_townships_cases(client, users, world):
    login(client, users, STAFF)
    text = body(client.get(reverse("rectification:cases")))
    home = {case.number for key, case in world.cases.items() if key != "other"}
    assert case_numbers(text) == home
    assert NAMES["other"] not in text
    progress = re.findall(r'<tbody><tr><th scope="row">([^<]+)</th>', text)
    assert progress == [HOME]


@pytest.mark.parametrize("persona", [ADMIN, OFFICIAL])
def test_bureau_lists_both_townships_cases(client, users, world, persona):
    login(client, users, persona)
    text = body(client.get(reverse("rectification:cases")))
    assert case_numbers(text) == {case.number for case in world.cases.values()}
    assert f"{OTHER} 西山村" in text and f"{HOME} 东坑村" in text


def test_other_township_staff_list_only_their_case(client, users, world):
    login(client, users, OUTSIDER)
    text = body(client.get(reverse("rectification:cases")))
    assert case_numbers(text) == {world.cases["other"].number}
    # a filter naming another township does not widen the scope
    filtered = body(client.get(reverse("rectification:cases"), {"township": township("350881100").pk}))
    assert case_numbers(filtered) == set()


def test_case_list_filters_by_step(client, users, world):
    login(client, users, STAFF)
    text = body(client.get(reverse("rectification:cases"), {"status": S.PAID}))
    assert case_numbers(text) == {world.cases["paid"].number}


def test_dangerous_without_case_is_scoped(client, users, world):
    login(client, users, STAFF)
    items = list_items(body(client.get(reverse("rectification:dangerous-without-case"))))
    assert len(items) == 1 and NAMES["waiting"] in items[0]
    assert f"{reverse('rectification:case-new')}?dwelling={world.waiting['home'].pk}" in items[0]

    login(client, users, OUTSIDER)
    items = list_items(body(client.get(reverse("rectification:dangerous-without-case"))))
    assert len(items) == 1 and NAMES["other_waiting"] in items[0]

    for persona in (ADMIN, OFFICIAL):
        login(client, users, persona)
        text = body(client.get(reverse("rectification:dangerous-without-case")))
        items = list_items(text)
        assert len(items) == 2
        assert sorted(name for name in NAMES.values() if any(name in item for item in items)) == sorted(
            [NAMES["waiting"], NAMES["other_waiting"]]
        )  # and none of the dwellings with an open case
        assert f"{HOME} 东坑村" in text and f"{OTHER} 西山村" in text
        # Bureau administrators may open a case (e.g. to override a missing document); officials may not.
        assert (reverse("rectification:case-new") in text) == (persona == ADMIN)


# ------------------------------------------------------------------------------- 3. opening a case


def opening_payload(**overrides) -> dict:
    data = {
        "programme_year": str(YEAR),
        "renovation_type": RenovationType.REBUILD,
        "build_mode": RenovationCase.BuildMode.SELF,
        "funding_source": RenovationCase.Funding.CENTRAL,
        "planned_subsidy": "18000",
        "builder": "",
        "resettlement_site": "",
        "notes": "",
        "applied_on": iso(today()),
        "doc_application": png_file("申请书.png"),
        "doc_identity_proof": png_file("身份证.png"),
        "doc_category_proof": png_file("低保证.png"),
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_the_opening_form_shows_the_dwelling_and_its_document_fields(client, users, world):
    login(client, users, STAFF)
    response = client.get(reads(world)["new"])
    assert response.status_code == 200
    text = body(response)
    assert NAMES["waiting"] in text and world.waiting["home"].address in text
    for name in (
        "doc_application",
        "doc_identity_proof",
        "doc_category_proof",
        "doc_village_certificate",
        "planned_subsidy",
        "applied_on",
    ):
        assert f'name="{name}"' in text
    assert 'name="override_reason"' not in text  # only a bureau administrator overrides
    assert 'enctype="multipart/form-data"' in text


def test_opening_a_case_with_its_documents(client, users, world):
    login(client, users, STAFF)
    before = RenovationCase.objects.count()
    response = client.post(reads(world)["new"], opening_payload(), follow=True)
    case = RenovationCase.objects.get(dwelling=world.waiting["home"])
    assert response.redirect_chain == [(reverse("rectification:case", args=[case.pk]), 302)]
    assert messages_of(body(response)) == [f"危房改造案件 {case.number} 已立案。"]
    assert RenovationCase.objects.count() == before + 1
    assert (case.status, case.status_on, case.created_by, case.planned_subsidy) == (
        S.APPLIED,
        today(),
        users[STAFF],
        Decimal("18000"),
    )
    assert case.township.name == HOME and case.household.head_name == NAMES["waiting"]
    assert sorted(case.documents.values_list("kind__code", flat=True)) == [
        "application",
        "category_proof",
        "identity_proof",
    ]
    assert list(case.transitions.values_list("from_status", "to_status", "on", "actor")) == [
        ("", S.APPLIED, today(), users[STAFF].pk)
    ]
    assert re.fullmatch(rf"GZ{YEAR}-100-\d{{4}}", case.number)


def test_opening_without_the_documents_says_which_and_creates_nothing(client, users, world):
    login(client, users, STAFF)
    before = snapshot()
    response = client.post(reads(world)["new"], opening_payload(doc_identity_proof=None, doc_category_proof=None))
    assert response.status_code == 200
    assert errors_of(body(response)) == [f"{MISSING_DOCUMENTS}身份证明、帮扶对象类别证明。"]
    assert snapshot() == before


def test_opening_with_a_fake_image_creates_nothing(client, users, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    login(client, users, STAFF)
    before = snapshot()
    fake = SimpleUploadedFile("申请书.png", b"not an image at all", content_type="image/png")
    response = client.post(reads(world)["new"], opening_payload(doc_application=fake))
    assert response.status_code == 200
    assert any("申请书.png" in error for error in errors_of(body(response)))
    assert snapshot() == before


def test_a_dwelling_with_an_open_case_goes_to_that_case(client, users, world):
    login(client, users, STAFF)
    before = snapshot()
    case = world.cases["applied"]
    url = f"{reverse('rectification:case-new')}?dwelling={case.dwelling_id}"
    for response in (client.get(url, follow=True), client.post(url, opening_payload(), follow=True)):
        assert response.redirect_chain == [(reverse("rectification:case", args=[case.pk]), 302)]
        assert messages_of(body(response)) == [ALREADY_OPEN]
    assert snapshot() == before


def test_opening_for_another_townships_dwelling_is_404(client, users, world):
    login(client, users, STAFF)
    before = snapshot()
    url = f"{reverse('rectification:case-new')}?dwelling={world.waiting['other'].pk}"
    assert client.get(url).status_code == 404
    assert client.post(url, opening_payload()).status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("query", ["", "?dwelling=", "?dwelling=abc", "?dwelling=999999"])
def test_opening_without_a_dwelling_is_404(client, users, world, query):
    login(client, users, STAFF)
    assert client.get(reverse("rectification:case-new") + query).status_code == 404


def test_opening_for_an_a_graded_dwelling_is_refused(client, users, world):
    dwelling = world.waiting["home"]
    safe_appraisal(dwelling, on=days_ago(10))  # renovated by the household itself: now grade A
    login(client, users, STAFF)
    before = snapshot()
    response = client.post(f"{reverse('rectification:case-new')}?dwelling={dwelling.pk}", opening_payload())
    assert response.status_code == 200
    assert errors_of(body(response)) == [NOT_DANGEROUS]
    assert snapshot() == before


def test_bureau_officials_do_not_open_cases_and_administrators_may(client, users, world):
    login(client, users, OFFICIAL)
    before = snapshot()
    url = reads(world)["new"]
    assert client.get(url).status_code == 403
    assert client.post(url, opening_payload()).status_code == 403
    assert snapshot() == before
    login(client, users, ADMIN)
    assert client.get(url).status_code == 200


def test_a_bureau_administrator_may_record_a_township_step(client, users, world):
    login(client, users, ADMIN)
    response = client.post(write_url(world, "move", "applied"), village_assessed_payload())
    assert response.status_code == 302
    assert refreshed(world, "applied").status == S.VILLAGE_ASSESSED


def test_opening_above_the_standard_is_refused(client, users, world):
    login(client, users, STAFF)
    before = snapshot()
    response = client.post(reads(world)["new"], opening_payload(planned_subsidy="25000"))
    assert response.status_code == 200
    [error] = errors_of(body(response))
    assert error.startswith("¥25000 超过2026年“拆除重建”的补助标准 ¥20000.00。")
    assert snapshot() == before


def test_the_subsidy_error_is_all_chinese(client, users, world):
    login(client, users, STAFF)
    response = client.post(reads(world)["new"], opening_payload(planned_subsidy="25000"))
    [error] = errors_of(body(response))
    assert error == "¥25000 超过2026年“拆除重建”的补助标准 ¥20000.00。 市住建局管理员可填写理由特批。"


# ------------------------------------------------------------------------------- 4. moving through the page


def move(client, world, data: dict, case_key: str = "applied", follow: bool = True):
    return client.post(reverse("rectification:case-move", args=[world.cases[case_key].pk]), data, follow=follow)


def test_village_assessment_through_the_page(client, users, world):
    login(client, users, STAFF)
    on = days_ago(100)
    documents = CaseDocument.objects.count()
    response = move(client, world, village_assessed_payload(on))
    case = refreshed(world, "applied")
    assert response.redirect_chain == [(reverse("rectification:case", args=[case.pk]), 302)]
    assert messages_of(body(response)) == ["案件已进入“村民评议”。公示通知已存入档案，可在下方公示日期处打印。"]
    assert (case.status, case.status_on, case.last_activity_on) == (S.VILLAGE_ASSESSED, on, today())
    assert (case.village_posting_start, case.village_posting_end) == (on, on + datetime.timedelta(days=6))
    assert list(case.transitions.values_list("from_status", "to_status", "on", "actor", "note")) == [
        ("", S.APPLIED, days_ago(120), users[STAFF].pk, ""),
        (S.APPLIED, S.VILLAGE_ASSESSED, on, users[STAFF].pk, "村民代表大会评议通过"),
    ]
    assert CaseDocument.objects.count() == documents + 2
    assert set(case.documents.filter(step=S.VILLAGE_ASSESSED).values_list("kind__code", flat=True)) == {
        "assessment_record",
        "village_posting_photo",
    }
    # the page now offers the township review, and shows the posting
    assert 'name="to" value="township_reviewed"' in body(response)
    assert f"{iso(on)} – {iso(on + datetime.timedelta(days=6))}" in body(response)


def test_a_posting_too_short_is_400_and_changes_nothing(client, users, world):
    login(client, users, STAFF)
    before = snapshot()
    response = move(client, world, village_assessed_payload(days=6), follow=False)
    assert response.status_code == 400
    text = body(response)
    assert errors_of(text) == [POSTING_TOO_SHORT]
    assert "村民代表大会评议通过</textarea>" in text  # the bound form is shown again with what was typed
    assert snapshot() == before


def test_a_step_without_its_documents_is_400_and_changes_nothing(client, users, world):
    login(client, users, STAFF)
    before = snapshot()
    data = village_assessed_payload()
    del data["village_assessed-doc_village_posting_photo"]
    response = move(client, world, data, follow=False)
    assert response.status_code == 400
    assert errors_of(body(response)) == [f"{MISSING_DOCUMENTS}村级公示照片。"]
    assert snapshot() == before


def test_a_step_dated_in_the_future_is_400(client, users, world):
    login(client, users, STAFF)
    before = snapshot()
    response = move(client, world, village_assessed_payload(on=today() + datetime.timedelta(days=1)), follow=False)
    assert response.status_code == 400
    assert errors_of(body(response)) == ["日期不能晚于今天。"]
    assert snapshot() == before


def test_an_illegal_move_redirects_with_an_error_and_changes_nothing(client, users, world):
    login(client, users, ADMIN)
    before = snapshot()
    response = move(client, world, {"to": S.ARCHIVED, "archived-on": iso(today())})
    case = world.cases["applied"]
    assert response.redirect_chain == [(reverse("rectification:case", args=[case.pk]), 302)]
    assert messages_of(body(response)) == [
        "该案件当前处于“农户申请”，不能进入“已归档”（可能已被他人办理，请刷新页面）。"
    ]
    assert snapshot() == before


@pytest.mark.parametrize("to", ["", "finished", "APPLIED"])
def test_an_unknown_step_redirects_with_an_error(client, users, world, to):
    login(client, users, STAFF)
    before = snapshot()
    response = move(client, world, {**village_assessed_payload(), "to": to})
    assert response.redirect_chain == [(reverse("rectification:case", args=[world.cases["applied"].pk]), 302)]
    assert messages_of(body(response)) == [UNKNOWN_STEP]
    assert snapshot() == before


def test_a_double_click_moves_the_case_once(client, users, world):
    login(client, users, STAFF)
    move(client, world, village_assessed_payload())
    after_first = snapshot()
    response = move(client, world, village_assessed_payload())
    assert messages_of(body(response)) == [
        "该案件当前处于“村民评议”，不能进入“村民评议”（可能已被他人办理，请刷新页面）。"
    ]
    assert snapshot() == after_first
    case = refreshed(world, "applied")
    assert case.status == S.VILLAGE_ASSESSED
    assert case.transitions.filter(to_status=S.VILLAGE_ASSESSED).count() == 1


def test_ending_a_case_needs_a_reason(client, users, world):
    login(client, users, STAFF)
    before = snapshot()
    response = move(
        client, world, {"to": S.WITHDRAWN, "withdrawn-on": iso(today()), "withdrawn-note": ""}, follow=False
    )
    assert response.status_code == 400
    assert errors_of(body(response)) == ["这个字段是必填项。"]
    assert snapshot() == before
    response = move(client, world, {"to": S.WITHDRAWN, "withdrawn-on": iso(today()), "withdrawn-note": "农户自愿放弃"})
    case = refreshed(world, "applied")
    assert (case.status, case.closed_from) == (S.WITHDRAWN, S.APPLIED)
    assert messages_of(body(response)) == ["案件已进入“已撤回”。"]


def test_filing_documents_without_a_file_is_400(client, users, world):
    login(client, users, STAFF)
    before = snapshot()
    response = client.post(write_url(world, "documents"), {"docs-kind": str(kind("village_certificate").pk)})
    assert response.status_code == 400
    assert snapshot() == before


# ------------------------------------------------------------------------------- 5. the case page per role


def case_page(client, world, key: str = "paid") -> str:
    response = client.get(reverse("rectification:case", args=[world.cases[key].pk]))
    assert response.status_code == 200
    return body(response)


@pytest.mark.parametrize("persona", [STAFF, ADMIN])
def test_roles_with_personal_data_see_the_full_id_number_after_asking_and_the_zip_link(client, users, world, persona):
    login(client, users, persona)
    case = world.cases["paid"]
    text = case_page(client, world)
    assert case.household.id_number not in text
    assert ZIP_LINK in text and reverse("rectification:case-archive", args=[case.pk]) in text
    unmask = reverse("unmask", args=["households.household", case.household.pk])
    assert unmask in text
    client.post(unmask, {"reason": "核对改造户身份"})
    assert case.household.id_number in case_page(client, world)


def test_bureau_official_sees_the_id_number_masked_and_gets_no_zip(client, users, world):
    login(client, users, OFFICIAL)
    case = world.cases["paid"]
    id_number = case.household.id_number
    text = case_page(client, world)
    assert mask_id_number(id_number) in text
    assert id_number not in text
    assert id_number[6:14] not in text  # not even the birth date
    assert ZIP_LINK not in text and reverse("rectification:case-archive", args=[case.pk]) not in text
    assert client.get(reverse("rectification:case-archive", args=[case.pk])).status_code == 403


def test_the_case_page_shows_timeline_archive_and_payment(client, users, world):
    login(client, users, STAFF)
    case = world.cases["paid"]
    text = case_page(client, world)
    assert case.number in text and NAMES["paid"] in text
    timeline = text.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]
    assert timeline.count("<li>") == 8  # applied … paid
    for label in ("农户申请", "村民评议", "乡镇审核", "县级审批", "签订协议", "施工中", "竣工验收", "补助拨付"):
        assert label in timeline
    assert "15/15 · 100%" in text  # every required document of the reached steps
    assert f"{iso(days_ago(10))} · ¥{case.planned_subsidy} · 凭证 PZ-{case.pk:05d}</li>" in text
    assert 'class="missing"' not in text


def test_a_missing_document_is_marked_on_the_case_page(client, users, world):
    case = paid_without_voucher(world, "applied")
    login(client, users, STAFF)
    text = case_page(client, world, "applied")
    assert re.search(r'<li class="missing">补助拨付凭证:\s*<strong class="error">缺</strong></li>', text)
    assert "14/15 · 93%" in text
    assert "凭证后补" in text  # the override reason is on the timeline
    assert case.status == S.PAID


def test_the_archive_zip_holds_every_document_and_an_index(client, users, world):
    case = world.cases["paid"]
    login(client, users, STAFF)
    response = client.get(reverse("rectification:case-archive", args=[case.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="{case.number}.zip"'
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    documents = list(case.documents.select_related("kind").order_by("kind__order", "pk"))
    assert len(documents) == 15
    [index_name] = [name for name in names if name.endswith(".xlsx")]
    assert {"000-档案封面.pdf", "000-档案目录.pdf"} <= set(names)  # the paper folder's cover and contents
    files = [name for name in names if not name.startswith("000-")]
    assert len(files) == len(documents)
    for number, (name, document) in enumerate(zip(files, documents, strict=True), start=1):
        assert name.startswith(f"{number:03d}-{document.kind.name}-")
        assert archive.read(name) == png_bytes()

    workbook = load_workbook(io.BytesIO(archive.read(index_name)))
    assert workbook.sheetnames == INDEX_SHEETS
    rows = list(workbook["材料目录"].iter_rows(values_only=True))
    assert rows[0][:3] + rows[0][4:] == ("序号", "类型", "办理环节", "上传人", "上传时间")
    assert len(rows) - 1 == len(documents)
    assert [row[3] for row in rows[1:]] == files
    steps = list(workbook["办理记录"].iter_rows(values_only=True))
    assert len(steps) - 1 == case.transitions.count() == 8
    facts = dict(workbook["案件信息"].iter_rows(values_only=True))
    assert facts["案件编号"] == case.number
    assert facts["身份证号码"] == case.household.id_number
    assert (facts["户主姓名"], facts["乡镇（街道）"], facts["办理环节"]) == (NAMES["paid"], HOME, "补助拨付")


def test_the_zip_index_has_a_chinese_name(client, users, world):
    login(client, users, STAFF)
    response = client.get(reverse("rectification:case-archive", args=[world.cases["paid"].pk]))
    [index_name] = [name for name in zipfile.ZipFile(io.BytesIO(response.content)).namelist() if name.endswith(".xlsx")]
    assert index_name == "000-目录.xlsx"


def test_the_zip_index_heads_the_file_name_column_as_a_file(client, users, world):
    login(client, users, STAFF)
    response = client.get(reverse("rectification:case-archive", args=[world.cases["paid"].pk]))
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    workbook = load_workbook(io.BytesIO(archive.read("000-目录.xlsx")))
    header = next(workbook["材料目录"].iter_rows(values_only=True))
    assert header[3] != "归档"
    assert "文件" in header[3]


def test_bureau_admin_may_export_any_townships_archive(client, users, world):
    login(client, users, ADMIN)
    response = client.get(reverse("rectification:case-archive", args=[world.cases["other"].pk]))
    assert response.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert len(names) == 3 + 3  # the application's three documents, the index, the folder's cover and contents


# ------------------------------------------------------------------------------- 6. archive and subsidy overviews


def paid_without_voucher(world, key: str, township_user=None) -> RenovationCase:
    """Walk a case to acceptance, then pay it without the payment voucher: a bureau administrator's override."""
    case = walk(world.cases[key], S.ACCEPTED, township_user=township_user or world.staff, bureau_user=world.admin)
    data = step_data(case, S.PAID) | {"documents": [], "override_reason": "凭证后补"}
    case = services.move_case(actor=world.admin, case=case, to=S.PAID, **data)
    world.cases[key] = case
    return case


def archive_rows(text: str) -> dict[str, tuple]:
    """{township: (cases, present, required, percent or None, cases with gaps)} from the archive table."""
    rows = re.findall(
        r'<tr><th scope="row">([^<]+)</th>'
        r'<td class="num"[^>]*>(\d+)</td>'
        r'<td class="num"[^>]*>(\d+)/(\d+)</td>'
        r'<td class="num"[^>]*>(—|\d+%)</td>'
        r'<td class="num"[^>]*>(?:<a href="[^"]*">)?(\d+)(?:</a>)?</td>\s*'
        r"<td[^>]*>[\s\S]*?</td></tr>",  # the township's covers and contents to print
        text,
    )
    return {
        name: (int(cases), int(present), int(required), None if percent == "—" else int(percent[:-1]), int(gaps))
        for name, cases, present, required, percent, gaps in rows
    }


def expected_archive(township_name: str) -> tuple:
    rows = archive_completeness(RenovationCase.objects.filter(township__name=township_name)).values()
    cases, present, required = len(rows), sum(r["present"] for r in rows), sum(r["required"] for r in rows)
    percent = round(100 * present / required) if required else None
    return cases, present, required, percent, sum(bool(r["missing"]) for r in rows)


def test_archive_overview_matches_archive_completeness(client, users, world):
    paid_without_voucher(world, "building")
    DocumentKind.objects.filter(code="village_certificate").update(is_required=True)  # the bureau tightens a rule
    for persona, townships in ((ADMIN, {HOME, OTHER}), (OFFICIAL, {HOME, OTHER}), (STAFF, {HOME}), (OUTSIDER, {OTHER})):
        login(client, users, persona)
        rows = archive_rows(body(client.get(reverse("rectification:archive"))))
        assert {name for name, row in rows.items() if row[0]} == townships, persona
        for name in townships:
            assert rows[name] == expected_archive(name), (persona, name)
    # the numbers themselves: 新桥镇 has six cases, every one without the village certificate, one also without the
    # payment voucher; 双洋镇 one case without the certificate.
    login(client, users, ADMIN)
    rows = archive_rows(body(client.get(reverse("rectification:archive"))))
    assert rows[HOME][0] == 5 and rows[HOME][4] == 5
    assert rows[OTHER] == (1, 3, 4, 75, 1)


def test_archive_overview_lists_a_case_missing_a_document(client, users, world):
    case = paid_without_voucher(world, "building")
    login(client, users, STAFF)
    text = body(client.get(reverse("rectification:archive")))
    items = list_items(text)
    assert len(items) == 1
    [item] = items
    assert case.number in item and NAMES["building"] in item
    assert re.search(r'<span class="error">补助拨付凭证</span>', item)
    assert "1 件案件缺少材料" in text
    assert archive_rows(text)[HOME] == expected_archive(HOME)
    # present: applied 3, reviewed 8, building 14 (paid without the voucher), moving 8, paid 15; one missing
    assert expected_archive(HOME)[1:3] == (48, 49)


def test_archive_overview_filters_the_gaps_by_township(client, users, world):
    paid_without_voucher(world, "building")
    DocumentKind.objects.filter(code="village_certificate").update(is_required=True)
    login(client, users, ADMIN)
    other = township("350881101")
    text = body(client.get(reverse("rectification:archive"), {"township": other.pk}))
    items = list_items(text)
    assert len(items) == 1 and world.cases["other"].number in items[0] and "村级证明" in items[0]
    everything = list_items(body(client.get(reverse("rectification:archive"))))
    assert len(everything) == 6
    assert any("补助拨付凭证" in item and "村级证明" in item for item in everything)


def subsidy_tables(text: str) -> dict[int, dict]:
    """{year: {"rows": {township: (cases, planned, paid)}, "total": (cases, planned, paid)}}."""
    result = {}
    for section in text.split("<h2>")[1:]:
        year = int(re.match(r"(\d{4}) 年度</h2>", section).group(1))
        rows = re.findall(
            r'<tr><th scope="row">([^<]+)</th><td class="num"[^>]*>(\d+)</td><td class="num"[^>]*>([\d.]+)</td>'
            r'<td class="num"[^>]*>([\d.]+)</td></tr>',
            section,
        )
        total = re.search(
            r'<tfoot><tr><th>合计</th><th class="num"[^>]*>(\d+)</th><th class="num"[^>]*>([\d.]+)</th>'
            r'<th class="num"[^>]*>([\d.]+)</th></tr></tfoot>',
            section,
        )
        result[year] = {
            "rows": {name: (int(n), Decimal(planned), Decimal(paid)) for name, n, planned, paid in rows},
            "total": (int(total.group(1)), Decimal(total.group(2)), Decimal(total.group(3))),
        }
    return result


def expected_subsidies(townships: set[str]) -> dict[int, dict]:
    result: dict[int, dict] = {}
    cases = RenovationCase.objects.filter(township__name__in=townships)
    for year, name in cases.values_list("programme_year", "township__name").distinct():
        mine = cases.filter(programme_year=year, township__name=name)
        planned_cases = mine.exclude(status__in=[S.REJECTED, S.WITHDRAWN])
        planned = planned_cases.aggregate(total=Sum("planned_subsidy"))["total"] or Decimal(0)
        paid = SubsidyPayment.objects.filter(case__in=mine).aggregate(total=Sum("amount"))["total"] or Decimal(0)
        if planned_cases.exists():
            result.setdefault(year, {"rows": {}})["rows"][name] = (planned_cases.count(), planned, paid)
    for table in result.values():
        table["total"] = tuple(sum(row[i] for row in table["rows"].values()) for i in range(3))
    return result


def test_subsidy_overview_matches_the_database(client, users, world):
    services.record_supplementary_payment(
        actor=world.admin,
        case=world.cases["paid"],
        paid_on=today(),
        amount=Decimal("1500"),
        voucher_number="PZ-B1",
        reason="物价上涨补差",
    )
    services.move_case(actor=world.staff, case=world.cases["applied"], to=S.REJECTED, on=today(), note="不符合条件")
    standards(year=2025)
    household = HouseholdFactory(village=world.cases["other"].household.village, head_name="周去年")
    new_case(users[OUTSIDER], dangerous_dwelling(household), programme_year=2025, subsidy="12000")

    login(client, users, ADMIN)
    tables = subsidy_tables(body(client.get(reverse("rectification:subsidies"))))
    assert tables == expected_subsidies({HOME, OTHER})
    assert sorted(tables) == [2025, 2026]
    # 新桥镇 2026: the rejected case is not planned; the paid case's payment plus the supplementary one
    assert tables[2026]["rows"][HOME] == (4, Decimal("72000.00"), Decimal("19500.00"))
    assert tables[2026]["rows"][OTHER] == (1, Decimal("18000.00"), Decimal("0"))
    assert tables[2026]["total"] == (5, Decimal("90000.00"), Decimal("19500.00"))
    assert tables[2025]["rows"] == {OTHER: (1, Decimal("12000.00"), Decimal("0"))}

    login(client, users, STAFF)
    tables = subsidy_tables(body(client.get(reverse("rectification:subsidies"))))
    assert tables == expected_subsidies({HOME})
    assert list(tables) == [2026]


# ------------------------------------------------------------------------------- 7. query counts


def add_cases(world, township_code: str, actor, n: int) -> None:
    """n cases of new households in the township: alternately just opened and paid without the voucher."""
    village = VillageFactory(township=township(township_code))
    for i in range(n):
        case = new_case(actor, dangerous_dwelling(HouseholdFactory(village=village)))
        if i % 2 == 0:
            world.cases[f"extra-{case.pk}"] = case
            paid_without_voucher(world, f"extra-{case.pk}", actor)
        dangerous_dwelling(HouseholdFactory(village=village))  # and one more waiting without a case


@pytest.fixture
def counted(users, xinqiao, shuangyang):
    standards()
    world = SimpleNamespace(cases={}, staff=users[STAFF], admin=users[ADMIN])
    add_cases(world, "350881100", users[STAFF], 1)
    add_cases(world, "350881101", users[OUTSIDER], 1)
    return world


# Measured with 2 cases and with 6 cases (both sides, incomplete and paid ones among them): equal.
QUERIES = {
    "rectification:cases": {STAFF: 11, OFFICIAL: 11, ADMIN: 11},
    "rectification:dangerous-without-case": {STAFF: 8, OFFICIAL: 8, ADMIN: 8},
    "rectification:archive": {STAFF: 11, OFFICIAL: 11, ADMIN: 11},
    "rectification:subsidies": {STAFF: 9, OFFICIAL: 9, ADMIN: 9},
}


@pytest.mark.parametrize("persona", [STAFF, OFFICIAL, ADMIN])
@pytest.mark.parametrize("name", list(QUERIES))
def test_overview_query_counts_do_not_grow(client, users, counted, django_assert_num_queries, name, persona):
    login(client, users, persona)
    url = reverse(name)
    client.get(url)  # warm-up (content types, translations)
    with django_assert_num_queries(QUERIES[name][persona]):
        assert client.get(url).status_code == 200
    add_cases(counted, "350881100", users[STAFF], 2)
    add_cases(counted, "350881101", users[OUTSIDER], 2)
    assert RenovationCase.objects.count() == 6
    with django_assert_num_queries(QUERIES[name][persona]):
        response = client.get(url)
    listed = {"rectification:cases": {STAFF: 3}, "rectification:archive": {STAFF: 2}}  # the bureau sees twice as many
    if name in listed:  # every case, or every case with gaps (those paid without the voucher)
        mine = listed[name][STAFF]
        assert len(list_items(body(response))) == (mine if persona == STAFF else 2 * mine)


CASE_PAGE_QUERIES = {STAFF: 26, OFFICIAL: 25, ADMIN: 26}  # a paid case (the official's page has no ZIP, no forms)


@pytest.mark.parametrize("persona", [STAFF, OFFICIAL, ADMIN])
def test_case_page_query_count_does_not_grow(client, users, counted, django_assert_num_queries, persona):
    [case] = [c for c in counted.cases.values() if c.township.code == "350881100"]
    url = reverse("rectification:case", args=[case.pk])
    login(client, users, persona)
    client.get(url)
    with django_assert_num_queries(CASE_PAGE_QUERIES[persona]):
        assert client.get(url).status_code == 200
    add_cases(counted, "350881100", users[STAFF], 2)
    add_cases(counted, "350881101", users[OUTSIDER], 2)
    services.add_case_documents(
        actor=users[STAFF], case=case, documents=[(kind("approval_form"), png_file()) for _ in range(4)]
    )
    services.record_supplementary_payment(
        actor=users[ADMIN], case=case, paid_on=today(), amount=Decimal("100"), voucher_number="PZ-X", reason="补差"
    )
    with django_assert_num_queries(CASE_PAGE_QUERIES[persona]):
        text = body(client.get(url))
    assert text.count(">房屋正面.png</a>") == 4  # the new documents are listed
    assert "补差" in text


ADMIN_QUERIES = {CHANGELIST: 10, "/admin/rectification/subsidypayment/": 8}


@pytest.mark.parametrize("persona", [STAFF, OFFICIAL, ADMIN])
@pytest.mark.parametrize("url", list(ADMIN_QUERIES))
def test_admin_changelist_query_counts_do_not_grow(client, users, counted, django_assert_num_queries, url, persona):
    login(client, users, persona)
    client.get(url)
    with django_assert_num_queries(ADMIN_QUERIES[url]):
        assert client.get(url).status_code == 200
    add_cases(counted, "350881100", users[STAFF], 2)
    add_cases(counted, "350881101", users[OUTSIDER], 2)
    with django_assert_num_queries(ADMIN_QUERIES[url]):
        response = client.get(url)
    expected = (RenovationCase if url == CHANGELIST else SubsidyPayment).objects.filter(
        **({"township__code": "350881100"} if url == CHANGELIST else {"case__township__code": "350881100"})
    )
    if persona != STAFF:
        expected = expected.model.objects.all()
    assert {obj.pk for obj in response.context["cl"].result_list} == set(expected.values_list("pk", flat=True))


# ------------------------------------------------------------------------------- 8. admin


def change_url(case) -> str:
    return f"{CHANGELIST}{case.pk}/change/"


def case_change_data(client, case, **overrides) -> dict:
    """The case change form as the browser sends it (the read-only steps inline empty)."""
    page = client.get(change_url(case))
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        data[name] = "" if value is None else str(value)
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({f"{management.prefix}-{key}": value for key, value in management.initial.items()})
        data[f"{management.prefix}-TOTAL_FORMS"] = data[f"{management.prefix}-INITIAL_FORMS"] = "0"
    data["_version"] = page.context["version_token"]  # the version the page was loaded at
    data.update(overrides)
    return data


def test_case_changelist_is_scoped(client, users, world):
    login(client, users, ADMIN)
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert {case.pk for case in response.context["cl"].result_list} == {c.pk for c in world.cases.values()}

    login(client, users, STAFF)
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    listed = {case.pk for case in response.context["cl"].result_list}
    assert listed == {c.pk for key, c in world.cases.items() if key != "other"}
    assert world.cases["other"].number not in body(response)


def test_case_change_page_is_scoped(client, users, world):
    login(client, users, STAFF)
    assert client.get(change_url(world.cases["applied"])).status_code == 200
    assert client.get(change_url(world.cases["other"])).status_code == 404
    assert client.get(f"{change_url(world.cases['other'])}".replace("change/", "history/")).status_code == 404
    before = snapshot()
    assert client.post(change_url(world.cases["other"]), {"planned_subsidy": "1"}).status_code == 404
    assert snapshot() == before
    login(client, users, ADMIN)
    for case in world.cases.values():
        assert client.get(change_url(case)).status_code == 200


@pytest.mark.parametrize("persona", [ADMIN, STAFF, OFFICIAL])
def test_cases_cannot_be_added_in_the_admin(client, users, world, persona):
    login(client, users, persona)
    before = snapshot()
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    assert client.post(f"{CHANGELIST}add/", {"dwelling": world.waiting["home"].pk}).status_code == 403
    assert snapshot() == before


def test_township_staff_change_the_subsidy_within_the_standard(client, users, world):
    """Control for the refusals below."""
    login(client, users, STAFF)
    case = world.cases["applied"]
    response = client.post(change_url(case), case_change_data(client, case, planned_subsidy="19000", builder="李师傅"))
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    case.refresh_from_db()
    assert (case.planned_subsidy, case.builder) == (Decimal("19000"), "李师傅")
    assert case.history.first().history_user == users[STAFF]


@pytest.mark.parametrize("persona", [STAFF, ADMIN])
def test_a_subsidy_above_the_standard_is_refused_in_the_admin(client, users, world, persona):
    login(client, users, persona)
    case = world.cases["applied"]
    before = snapshot()
    response = client.post(change_url(case), case_change_data(client, case, planned_subsidy="25000"))
    assert response.status_code == 200
    [error] = response.context["adminform"].form.errors["planned_subsidy"]
    assert error.startswith("¥25000 超过2026年“拆除重建”的补助标准 ¥20000.00。")
    assert "超过2026年“拆除重建”的补助标准" in body(response)
    assert snapshot() == before


def test_township_staff_have_no_override_field_and_cannot_smuggle_one(client, users, world):
    login(client, users, STAFF)
    case = world.cases["applied"]
    assert 'name="override_reason"' not in body(client.get(change_url(case)))
    before = snapshot()
    data = case_change_data(client, case, planned_subsidy="25000", override_reason="特殊困难")
    response = client.post(change_url(case), data)
    assert response.status_code == 200
    assert snapshot() == before


def test_bureau_admin_overrides_the_standard_with_a_reason(client, users, world):
    login(client, users, ADMIN)
    case = world.cases["applied"]
    assert 'name="override_reason"' in body(client.get(change_url(case)))
    data = case_change_data(client, case, planned_subsidy="25000", override_reason="五保户特殊困难，局长办公会同意")
    response = client.post(change_url(case), data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    case.refresh_from_db()
    assert case.planned_subsidy == Decimal("25000")
    latest = case.history.first()
    assert latest.history_user == users[ADMIN]
    assert "五保户特殊困难，局长办公会同意" in latest.history_change_reason
    assert "超过2026年“拆除重建”的补助标准" in latest.history_change_reason


def test_after_approval_township_staff_cannot_change_the_subsidy(client, users, world):
    login(client, users, STAFF)
    case = world.cases["building"]
    before = snapshot()
    response = client.post(change_url(case), case_change_data(client, case, planned_subsidy="17000"))
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    assert snapshot() == before


def test_bureau_official_reads_the_case_in_the_admin_but_cannot_change_it(client, users, world):
    login(client, users, OFFICIAL)
    case = world.cases["applied"]
    response = client.get(change_url(case))
    assert response.status_code == 200
    assert 'name="planned_subsidy"' not in body(response)
    before = snapshot()
    assert client.post(change_url(case), {"planned_subsidy": "25000"}).status_code == 403
    assert snapshot() == before


def test_a_closed_case_is_read_only_in_the_admin(client, users, world):
    services.move_case(actor=world.staff, case=world.cases["applied"], to=S.WITHDRAWN, on=today(), note="农户放弃")
    login(client, users, STAFF)
    case = world.cases["applied"]
    assert 'name="planned_subsidy"' not in body(client.get(change_url(case)))
    before = snapshot()
    assert client.post(change_url(case), {"planned_subsidy": "1"}).status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("model", ["documentkind", "subsidystandard"])
def test_bureau_admin_configures_kinds_and_standards(client, users, world, model):
    login(client, users, ADMIN)
    assert client.get(f"/admin/rectification/{model}/").status_code == 200
    assert client.get(f"/admin/rectification/{model}/add/").status_code == 200
    first = (DocumentKind if model == "documentkind" else SubsidyStandard).objects.first()
    assert client.get(f"/admin/rectification/{model}/{first.pk}/change/").status_code == 200


def test_bureau_admin_adds_a_subsidy_standard(client, users, world):
    login(client, users, ADMIN)
    data = {"year": "2027", "renovation_type": RenovationType.REPAIR, "amount": "15000", "note": "漳建〔2027〕1号"}
    response = client.post("/admin/rectification/subsidystandard/add/", data)
    assert response.status_code == 302
    assert SubsidyStandard.objects.get(year=2027, renovation_type=RenovationType.REPAIR).amount == Decimal("15000")


@pytest.mark.parametrize("model", ["documentkind", "subsidystandard"])
@pytest.mark.parametrize("persona", [STAFF, OFFICIAL])
def test_kinds_and_standards_are_read_only_for_others(client, users, world, model, persona):
    login(client, users, persona)
    before = DocumentKind.objects.count(), SubsidyStandard.objects.count()
    assert client.get(f"/admin/rectification/{model}/").status_code == 200
    assert client.get(f"/admin/rectification/{model}/add/").status_code == 403
    data = {"year": "2027", "renovation_type": RenovationType.REPAIR, "amount": "99999"}
    if model == "documentkind":
        data = {"code": "extra", "name": "额外材料", "step": S.APPLIED, "is_required": "on", "order": "1"}
    assert client.post(f"/admin/rectification/{model}/add/", data).status_code == 403
    assert (DocumentKind.objects.count(), SubsidyStandard.objects.count()) == before


def test_subsidy_payments_are_read_only_in_the_admin(client, users, world):
    login(client, users, ADMIN)
    response = client.get("/admin/rectification/subsidypayment/")
    assert response.status_code == 200
    assert {p.pk for p in response.context["cl"].result_list} == set(
        SubsidyPayment.objects.values_list("pk", flat=True)
    )
    assert client.get("/admin/rectification/subsidypayment/add/").status_code == 403
    login(client, users, OUTSIDER)
    response = client.get("/admin/rectification/subsidypayment/")
    assert response.status_code == 200 and list(response.context["cl"].result_list) == []


# ------------------------------------------------------------------------------- 9. English


def test_the_case_page_in_english(client, users, world):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    login(client, users, STAFF)
    text = case_page(client, world, "applied")
    assert "Village assessed (村民评议)" in text  # the offered move
    assert "Applied (农户申请)" in text  # the timeline and the status
    assert "Record this step" in text and RECORD_STEP not in text
    assert "Household archive" in text


def test_the_case_page_in_chinese_by_default(client, users, world):
    login(client, users, STAFF)
    text = case_page(client, world, "applied")
    assert "<summary>村民评议</summary>" in text and RECORD_STEP in text
    assert "Village assessed" not in text


# ------------------------------------------------------------------------------- 10. refusals and repeated writes


def accepted_meanwhile(world) -> None:
    """The bureau accepts the case under construction while township staff still have its page open."""
    safe_appraisal(world.cases["building"].dwelling, on=days_ago(25))
    data = step_data(world.cases["building"], S.ACCEPTED) | {"on": today()}
    services.move_case(actor=world.admin, case=world.cases["building"], to=S.ACCEPTED, **data)


def archived_meanwhile(world) -> None:
    walk(world.cases["paid"], S.ARCHIVED, township_user=world.staff, bureau_user=world.admin)


# (persona, write, case, what happened meanwhile, the reason the page should give)
REFUSED_WRITES = {
    "check after acceptance": (STAFF, "check", "building", accepted_meanwhile, "施工检查只能在施工期间登记。"),
    "documents of an archived case": (STAFF, "documents", "paid", archived_meanwhile, "已归档的案卷不能再补充材料。"),
    "new dwelling of a rebuild": (
        STAFF,
        "new-dwelling",
        "applied",
        None,
        "只有搬迁、选址新建和置换租赁案件才登记新住房。",
    ),
    "supplement before payment": (ADMIN, "supplement", "building", None, "补充拨付须在首次拨付之后。"),
}


@pytest.mark.parametrize("refusal", list(REFUSED_WRITES))
def test_a_write_the_case_no_longer_allows_is_400_and_changes_nothing(client, users, world, refusal):
    persona, key, case_key, meanwhile, _reason = REFUSED_WRITES[refusal]
    if meanwhile:
        meanwhile(world)
    login(client, users, persona)
    before = snapshot()
    response = client.post(write_url(world, key, case_key), payload(key))
    assert response.status_code == 400
    assert snapshot() == before


@pytest.mark.parametrize("refusal", list(REFUSED_WRITES))
def test_a_write_the_case_no_longer_allows_says_why(client, users, world, refusal):
    persona, key, case_key, meanwhile, reason = REFUSED_WRITES[refusal]
    if meanwhile:
        meanwhile(world)
    login(client, users, persona)
    response = client.post(write_url(world, key, case_key), payload(key))
    text = body(response)
    assert reason in errors_of(text) or reason in messages_of(text)


def test_registering_the_new_dwelling_twice_creates_one_dwelling(client, users, world):
    login(client, users, STAFF)
    dwellings = Dwelling.objects.count()
    assert client.post(write_url(world, "new-dwelling"), payload("new-dwelling")).status_code == 302
    first = refreshed(world, "moving").new_dwelling
    client.post(write_url(world, "new-dwelling"), payload("new-dwelling"))
    assert Dwelling.objects.count() == dwellings + 1
    assert refreshed(world, "moving").new_dwelling == first


def test_the_new_dwelling_form_is_gone_once_registered(client, users, world):
    login(client, users, STAFF)
    url = write_url(world, "new-dwelling")
    assert url in case_page(client, world, "moving")
    client.post(url, payload("new-dwelling"))
    text = case_page(client, world, "moving")
    assert url not in text and "安置区3栋101" in text


def test_a_double_click_records_one_supplementary_payment(client, users, world):
    login(client, users, ADMIN)
    client.post(write_url(world, "supplement"), payload("supplement"))
    client.post(write_url(world, "supplement"), payload("supplement"))
    assert SubsidyPayment.objects.filter(case=world.cases["paid"], voucher_number="PZ-B1").count() == 1
