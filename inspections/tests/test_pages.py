"""Persona tests for the housing-safety pages: every page, for every role, with status AND content.

Two sides of the county: `home` (新桥镇 东坑村: the township staff persona's township, its households sourced
from the department liaison's unit) and `other` (双洋镇 西山村: its households assigned to the helper). Each side
has a dangerous, a safe, a secured and an overdue-unappraised household, all with distinct names, so a page
that leaks another side's record fails on the name. A denied write asserts that nothing changed.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from households.models import Attachment, Household, Unit
from households.tests.conftest import *  # noqa: F403
from households.tests.factories import (
    DwellingFactory,
    HouseholdFactory,
    VillageFactory,
    household_with_dwelling,
    png_bytes,
    township,
)
from housing_safety.tests.kit import (
    ADMIN,
    ANON,
    CLERK,
    HELPER,
    LIAISON,
    NO_ROLE,
    OFFICIAL,
    PERSONAS,
    ROLES,
    STAFF,
    Shared,
    assert_login_redirect,
    body,
    built_once,
    confirmation,
    count_queries,
    login,
    make_personas,
    rows_of,
    staff_without_role,
    today,
)
from inspections import selectors, services
from inspections.models import Appraisal, Placard, SecuredHousing

# Every test here reads the database (some only through the `users` fixture, which asks for it at run time): the mark
# orders them with the database tests, before the transactional ones that empty the tables.
pytestmark = pytest.mark.django_db

SIDES = ("home", "other")

# Which side's households each persona may reach.
SEES = {
    ANON: set(),
    NO_ROLE: set(),
    ADMIN: {"home", "other"},
    OFFICIAL: {"home", "other"},
    CLERK: {"home", "other"},
    STAFF: {"home"},
    LIAISON: {"home"},
    HELPER: {"other"},
}
BUREAU_WIDE = {ADMIN, OFFICIAL, CLERK}
# What each persona may do (ROLE_PERMISSIONS, restated independently).
VIEW_HOUSEHOLD = set(ROLES)
ADD_APPRAISAL = {ADMIN, STAFF}
ADD_PLACARD = {ADMIN, STAFF}
VIEW_PLACARD = {ADMIN, OFFICIAL, STAFF, CLERK, HELPER}
CHANGE_PLACARD = {ADMIN, STAFF}
ADMIN_VIEW = {
    "appraisal": set(ROLES),
    "securedhousing": {ADMIN, OFFICIAL, STAFF},
    "placard": VIEW_PLACARD,
}

NAMES = {
    "home": {"dangerous": "李德危", "safe": "陈安居", "secured": "吴保民", "overdue": "孙迟办"},
    "other": {"dangerous": "王远危", "safe": "赵平安", "secured": "郑保全", "overdue": "周延期"},
}
TOWNSHIP_NAMES = {"home": "新桥镇", "other": "双洋镇"}
VILLAGE_NAMES = {"home": "东坑村", "other": "西山村"}
HOTLINE = "0597-7526007"

# Chinese texts (locale/zh_Hans) the pages must show.
DANGEROUS_LABEL = "危房"
SAFE_LABEL = "鉴定安全"
NO_PLACARDS_TO_PRINT = "没有可打印的有效标识牌"
PLACARD_CURRENT = "此标识牌有效"
PLACARD_SUPERSEDED = "此标识牌已失效"
GRADE_D_ERROR = "有构件评为d级，房屋等级只能为C级或D级。"
BAD_FILE_ERROR = "只能上传照片（JPEG、PNG、WebP、HEIC）、PDF、Word 和 Excel 文件。"
ARTICLE = '<article class="placard">'


# --------------------------------------------------------------------------------------------- helpers


def all_names() -> list[str]:
    return [name for side in SIDES for name in NAMES[side].values()]


def assert_no_names(text: str) -> None:
    leaked = [name for name in all_names() if name in text]
    assert not leaked, f"page leaks {leaked}"


def appraise(dwelling, grade: str = "A", *, on: datetime.date | None = None, actor=None) -> Appraisal:
    """A valid appraisal written straight to the table (setup data, not the behaviour under test)."""
    component = grade.lower()
    appraisal = Appraisal.objects.create(
        dwelling=dwelling,
        kind=Appraisal.Kind.ASSESSMENT,
        appraised_on=on or today() - datetime.timedelta(days=10),
        organisation="漳平市房屋安全鉴定站",
        appraisers="张工、李工",
        foundation=component,
        load_bearing_walls=component,
        timber_frame="n",
        roof_truss="n",
        concrete_frame="n",
        floor_roof_slab=component,
        grade=grade,
        recommendation=Appraisal.Recommendation.NONE if grade in "AB" else Appraisal.Recommendation.REBUILD,
        recorded_by=actor,
    )
    services.refresh_current_grades(household_ids=[dwelling.household_id])  # as record_appraisal does
    return appraisal


def safe_household(village, *, head_name: str | None = None, **fields) -> Household:
    """A household living in one dwelling graded A."""
    household = HouseholdFactory(village=village, **({"head_name": head_name} if head_name else {}), **fields)
    appraise(DwellingFactory(household=household), "A")
    return household


def png_upload(name: str = "house.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


def appraisal_data(*, grade: str = "D", foundation: str = "d", **overrides) -> dict:
    """A complete field-form POST (AppraisalForm's fields) for a grade-D formal appraisal."""
    return {
        "kind": Appraisal.Kind.FORMAL,
        "appraised_on": today().isoformat(),
        "organisation": "漳平市房屋安全鉴定站",
        "appraisers": "张工、李工",
        "foundation": foundation,
        "load_bearing_walls": "c",
        "timber_frame": "n",
        "roof_truss": "n",
        "concrete_frame": "n",
        "floor_roof_slab": "c",
        "grade": grade,
        "recommendation": Appraisal.Recommendation.REBUILD,
        "notes": "墙体开裂",
        **overrides,
    }


def appraisal_url(dwelling) -> str:
    return reverse("inspections:appraise", args=[dwelling.pk])


def household_url(household) -> str:
    return reverse("inspections:household", args=[household.pk])


def print_url(**params) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"{reverse('inspections:placard-print')}?{query}"


def snapshot_appraisals() -> list[list[tuple]]:
    return rows_of(Appraisal, Attachment)


# --------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def shared(django_db_setup, django_db_blocker, tmp_path_factory):
    """The users and the two sides, built once for the module: the tests read them, and what a test writes is rolled
    back after it (kit.built_once)."""
    with built_once(django_db_blocker, tmp_path_factory) as media:
        xinqiao, poverty_office = township("350881100"), Unit.objects.get(name="漳平市扶贫开发办公室")
        users = build_users(xinqiao, poverty_office)
        home = household_with_dwelling(xinqiao, "东坑村")
        other = household_with_dwelling(township("350881101"), "西山村")
        yield Shared({"users": users, "world": build_world(users, home, other, poverty_office)}, media)


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
    return build_users(township("350881100"), Unit.objects.get(name="漳平市扶贫开发办公室"))


@pytest.fixture
def world(built):
    return built["world"]


def build_users(xinqiao, poverty_office) -> dict:
    """The six role personas, plus a staff user without any role (no profile)."""
    personas = make_personas(township=xinqiao, unit=poverty_office)
    result = {role: personas[role] for role in ROLES}
    result[NO_ROLE] = staff_without_role()
    return result


def build_world(users, home_household, other_household, poverty_office) -> dict:
    """Per side: a dangerous (D), a safe (A), a secured and an overdue-unappraised household."""
    scope = {"home": {"source": poverty_office}, "other": {"helper_user": users[HELPER]}}
    dangerous = {"home": home_household, "other": other_household}
    result = {}
    for side in SIDES:
        names = NAMES[side]
        Household.objects.filter(pk=dangerous[side].pk).update(head_name=names["dangerous"], **scope[side])
        household = Household.objects.get(pk=dangerous[side].pk)
        village = household.village
        household.dwellings.update(address=f"{side}-危房地址-1组1号")
        appraise(household.dwellings.get(), "D")

        safe = safe_household(village, head_name=names["safe"], **scope[side])
        safe.dwellings.update(address=f"{side}-安全地址-2组2号")

        secured = HouseholdFactory(village=village, head_name=names["secured"], **scope[side])
        DwellingFactory(household=secured, address=f"{side}-旧房地址-3组3号")
        SecuredHousing.objects.create(
            household=secured,
            kind=SecuredHousing.Kind.HAPPINESS_COURTYARD,
            since=today() - datetime.timedelta(days=100),
            address=f"{side}幸福大院8号",
        )

        overdue = HouseholdFactory(
            village=village,
            head_name=names["overdue"],
            registered_on=today() - datetime.timedelta(days=40),
            **scope[side],
        )
        DwellingFactory(household=overdue, address=f"{side}-未鉴定地址-4组4号")
        result[side] = {
            "dangerous": household,
            "safe": Household.objects.get(pk=safe.pk),
            "secured": Household.objects.get(pk=secured.pk),
            "overdue": Household.objects.get(pk=overdue.pk),
            "village": village,
        }
    return result


@pytest.fixture
def placards(world, users):
    """Current placards for each side's safe and secured household, issued by the bureau administrator."""
    result = {}
    for side in SIDES:
        for kind in ("safe", "secured"):
            [placard] = services.issue_placards(actor=users[ADMIN], households=[world[side][kind]])
            result[side, kind] = placard
    return result


# ------------------------------------------------------------------------------------------ the field list


@pytest.mark.parametrize("persona", PERSONAS)
def test_field_home_lists_only_households_in_scope(client, users, world, persona):
    login(client, users, persona)
    url = reverse("inspections:field")

    response = client.get(url)

    if persona == ANON:
        assert_login_redirect(response, url)
        return
    if persona not in VIEW_HOUSEHOLD:
        assert response.status_code == 403
        assert_no_names(body(response))
        return
    assert response.status_code == 200
    text = body(response)
    for side in SIDES:
        for name in NAMES[side].values():
            assert (name in text) == (side in SEES[persona]), (side, name)
    if "home" in SEES[persona]:
        assert DANGEROUS_LABEL in text and SAFE_LABEL in text


def test_field_home_search_and_status_filter_stay_in_scope(client, users, world):
    client.force_login(users[STAFF])
    url = reverse("inspections:field")

    def results(**params) -> str:  # the result list only: the search box echoes the query
        return body(client.get(url, params)).split('<ul class="list">')[1]

    by_name = results(q="陈安")
    by_village = results(q="西山")  # the other township's village
    other_name = results(q=NAMES["other"]["safe"])
    dangerous_only = results(status="dangerous")

    assert NAMES["home"]["safe"] in by_name
    assert [n for n in all_names() if n in by_name] == [NAMES["home"]["safe"]]
    assert_no_names(by_village)
    assert_no_names(other_name)
    assert "未找到农户。" in other_name
    assert [n for n in all_names() if n in dangerous_only] == [NAMES["home"]["dangerous"]]


# ----------------------------------------------------------------------------------- the household page


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_household_page_in_scope_only(client, users, world, persona, side):
    household = world[side]["dangerous"]
    login(client, users, persona)
    url = household_url(household)

    response = client.get(url)

    if persona == ANON:
        assert_login_redirect(response, url)
        return
    text = body(response)
    if side not in SEES[persona]:
        assert response.status_code == 404
        assert household.head_name not in text
        assert f"{side}-危房地址" not in text
        return
    assert response.status_code == 200
    assert household.head_name in text
    assert DANGEROUS_LABEL in text
    assert f"{side}-危房地址-1组1号" in text
    # The link to the field form is offered exactly to those who may record an appraisal.
    assert (appraisal_url(household.dwellings.get()) in text) == (persona in ADD_APPRAISAL)


def test_household_page_offers_placard_issue_for_every_covered_household(client, users, world):
    """ "贫困户房屋安全状况制牌上墙" (issue 24): every poor household's house, not only the safe ones."""
    client.force_login(users[STAFF])

    safe = body(client.get(household_url(world["home"]["safe"])))
    dangerous = body(client.get(household_url(world["home"]["dangerous"])))

    issue = reverse("inspections:placard-issue")
    assert issue in safe and "制牌并打印" in safe
    assert issue in dangerous and "制牌并打印" in dangerous
    assert "尚未制牌。" in safe and "尚未制牌。" in dangerous


# ------------------------------------------------------------------------------------------- field form


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_appraisal_form_get(client, users, world, persona, side):
    household = world[side]["overdue"]
    dwelling = household.dwellings.get()
    login(client, users, persona)
    url = appraisal_url(dwelling)

    response = client.get(url)

    if persona == ANON:
        assert_login_redirect(response, url)
        return
    text = body(response)
    if persona not in ADD_APPRAISAL:
        assert response.status_code == 403
        assert household.head_name not in text
        return
    if side not in SEES[persona]:
        assert response.status_code == 404
        assert household.head_name not in text
        assert dwelling.address not in text
        return
    assert response.status_code == 200
    assert "录入鉴定" in text
    assert household.head_name in text
    assert dwelling.address in text
    for field in ("kind", "appraised_on", "organisation", "appraisers", "foundation", "grade", "photos"):
        assert f'name="{field}"' in text


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_appraisal_form_post(client, users, world, persona, side):
    household = world[side]["overdue"]
    dwelling = household.dwellings.get()
    login(client, users, persona)
    url = appraisal_url(dwelling)
    before = snapshot_appraisals()

    response = client.post(url, appraisal_data())

    if persona == ANON:
        assert_login_redirect(response, url)
    elif persona not in ADD_APPRAISAL:
        assert response.status_code == 403
    elif side not in SEES[persona]:
        assert response.status_code == 404
        assert household.head_name not in body(response)
    else:
        # A valid form is shown for confirmation first: nothing is written until it is confirmed.
        assert response.status_code == 200
        assert "确认提交（提交后不能修改）" in body(response)
        assert snapshot_appraisals() == before
        confirmed = client.post(url, confirmation(response))
        assert confirmed.status_code == 302
        assert confirmed.url == household_url(household)
        appraisal = dwelling.appraisals.get()
        assert appraisal.grade == "D"
        assert appraisal.recorded_by == users[persona]
        return
    assert snapshot_appraisals() == before
    assert not dwelling.appraisals.exists()


def test_field_form_records_a_d_appraisal_with_photo_and_scan(client, users, world):
    household = world["home"]["overdue"]
    dwelling = household.dwellings.get()
    client.force_login(users[STAFF])
    scan = SimpleUploadedFile("form.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n")

    shown = client.post(appraisal_url(dwelling), {**appraisal_data(), "photos": [png_upload()], "scanned_form": scan})
    assert not dwelling.appraisals.exists() and not Attachment.objects.exists()  # held for the confirmation only
    response = client.post(appraisal_url(dwelling), confirmation(shown))

    assert response.status_code == 302
    assert response.url == household_url(household)
    appraisal = dwelling.appraisals.get()
    assert (appraisal.grade, appraisal.foundation, appraisal.kind) == ("D", "d", Appraisal.Kind.FORMAL)
    assert appraisal.recorded_by == users[STAFF]
    attachments = Attachment.objects.filter(object_id=appraisal.pk, content_type__model="appraisal")
    assert sorted(attachments.values_list("kind", "mime_type")) == [
        (Attachment.Kind.PHOTO, "image/png"),
        (Attachment.Kind.SCANNED_FORM, "application/pdf"),
    ]
    page = client.get(response.url)
    text = body(page)
    assert page.status_code == 200
    assert "鉴定已录入。" in text
    assert f'<span class="status status-dangerous">{DANGEROUS_LABEL}</span>' in text
    assert '<span class="grade grade-D">D</span>' in text


def test_field_form_rejects_inconsistent_grade_and_fake_photo_writing_nothing(client, users, world):
    dwelling = world["home"]["overdue"].dwellings.get()
    client.force_login(users[STAFF])
    fake = SimpleUploadedFile("photo.jpg", b"this is not a photo at all", content_type="image/jpeg")

    response = client.post(appraisal_url(dwelling), {**appraisal_data(grade="A", foundation="d"), "photos": [fake]})

    assert response.status_code == 200
    text = body(response)
    assert GRADE_D_ERROR in text
    assert "has-error" in text
    assert Appraisal.objects.filter(dwelling=dwelling).count() == 0
    assert Attachment.objects.count() == 0


def test_field_form_rejects_fake_photo_on_otherwise_valid_appraisal(client, users, world):
    dwelling = world["home"]["overdue"].dwellings.get()
    client.force_login(users[STAFF])
    fake = SimpleUploadedFile("photo.jpg", b"this is not a photo at all", content_type="image/jpeg")

    response = client.post(appraisal_url(dwelling), {**appraisal_data(), "photos": [png_upload(), fake]})

    assert response.status_code == 200
    assert f"photo.jpg: {BAD_FILE_ERROR}" in body(response)
    assert Appraisal.objects.filter(dwelling=dwelling).count() == 0
    assert Attachment.objects.count() == 0


# ---------------------------------------------------------------------------------- overdue / dangerous


@pytest.mark.parametrize("persona", PERSONAS)
def test_overdue_page(client, users, world, persona):
    login(client, users, persona)
    url = reverse("inspections:overdue")

    response = client.get(url)

    if persona == ANON:
        assert_login_redirect(response, url)
        return
    if persona not in VIEW_HOUSEHOLD:
        assert response.status_code == 403
        assert_no_names(body(response))
        return
    assert response.status_code == 200
    text = body(response)
    assert "逾期未鉴定" in text
    for side in SIDES:
        assert (NAMES[side]["overdue"] in text) == (side in SEES[persona])
        for kind in ("dangerous", "safe", "secured"):
            assert NAMES[side][kind] not in text
    if not SEES[persona]:
        assert "没有逾期未鉴定的农户。" in text


def test_overdue_page_shows_due_date_and_days_overdue(client, users, world):
    village = world["home"]["village"]
    not_yet_due = HouseholdFactory(
        village=village, head_name="钱未到", registered_on=today() - datetime.timedelta(days=5)
    )
    DwellingFactory(household=not_yet_due)
    client.force_login(users[STAFF])
    household = world["home"]["overdue"]
    due = selectors.appraisal_due_on(household.registered_on)
    days = (today() - due).days

    text = body(client.get(reverse("inspections:overdue")))

    assert 8 <= days <= 12  # 40 days after registration, one month of which was allowed
    row = re.search(rf'<tr><th scope="row"><a [^>]*>{household.head_name}</a>.*?</tr>', text, re.S)
    assert row, text
    assert household.registered_on.isoformat() in row.group(0)
    assert re.search(rf"<td[^>]*>{due.isoformat()}</td>", row.group(0))
    assert re.search(rf'<td class="num"[^>]*>{days}</td>', row.group(0))
    assert "共 1 户超过1个月鉴定时限仍未鉴定。" in text
    assert "钱未到" not in text


@pytest.mark.parametrize("persona", PERSONAS)
def test_dangerous_page(client, users, world, persona):
    login(client, users, persona)
    url = reverse("inspections:dangerous")

    response = client.get(url)

    if persona == ANON:
        assert_login_redirect(response, url)
        return
    if persona not in VIEW_HOUSEHOLD:
        assert response.status_code == 403
        assert_no_names(body(response))
        return
    assert response.status_code == 200
    text = body(response)
    assert "危房清单" in text
    for side in SIDES:
        assert (NAMES[side]["dangerous"] in text) == (side in SEES[persona])
        for kind in ("overdue", "safe", "secured"):
            assert NAMES[side][kind] not in text
    assert f"共 {len(SEES[persona])} 户居住在C级或D级危房中。" in text


# ---------------------------------------------------------------------------------------- status overview


@pytest.mark.parametrize("persona", PERSONAS)
def test_status_overview(client, users, world, persona):
    login(client, users, persona)
    url = reverse("inspections:status")

    response = client.get(url)

    if persona == ANON:
        assert_login_redirect(response, url)
        return
    if persona not in VIEW_HOUSEHOLD:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    text = body(response)
    rows = response.context["rows"]
    one_each = {"appraised_safe": 1, "renovated_safe": 0, "secured": 1, "dangerous": 1, "unappraised": 1}
    if persona in BUREAU_WIDE:
        assert response.context["by_village"] is False
        assert "乡镇（街道）" in text
        expected = {TOWNSHIP_NAMES[side] for side in SIDES}
    else:
        assert response.context["by_village"] is True
        expected = {VILLAGE_NAMES[side] for side in SEES[persona]}
    assert {group.name for group, _counts, _overdue in rows} == expected
    for _group, counts, overdue in rows:
        assert counts == one_each
        assert overdue == 1
    n = len(SEES[persona])
    assert response.context["totals"] == {status: count * n for status, count in one_each.items()}
    assert response.context["overdue_total"] == n
    for name in expected:
        assert f'<tr><th scope="row">{name}</th>' in text
    hidden = {VILLAGE_NAMES[s] for s in SIDES} | {TOWNSHIP_NAMES[s] for s in SIDES}
    page = text.split("<main", 1)[1]  # the shell's bar names the user's own townships
    for name in hidden - expected:
        assert name not in page
    assert re.search(rf'<th class="num"[^>]*>{n}</th>', text.split("<tfoot>")[1])


# ---------------------------------------------------------------------------------------------- placards


@pytest.mark.parametrize("persona", PERSONAS)
def test_issue_placards_is_post_only(client, users, world, persona):
    login(client, users, persona)

    response = client.get(reverse("inspections:placard-issue"), {"household": world["home"]["safe"].pk})

    assert response.status_code == 405
    assert not Placard.objects.exists()


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_issue_placard(client, users, world, persona, side):
    household = world[side]["safe"]
    login(client, users, persona)
    url = reverse("inspections:placard-issue")

    response = client.post(url, {"household": household.pk, "size": "a4"})

    if persona == ANON:
        assert_login_redirect(response, url)
    elif persona not in ADD_PLACARD:
        assert response.status_code == 403
        assert household.head_name not in body(response)
    elif side not in SEES[persona]:
        # Out of scope: nothing is issued, and whatever page follows shows nothing of the household.
        assert response.status_code in (302, 404)
        if response.status_code == 302:
            assert household.head_name not in body(client.get(response.url))
        else:
            assert household.head_name not in body(response)
    else:
        assert response.status_code == 302
        assert response.url == print_url(household=household.pk, size="a4")
        placard = Placard.objects.get()
        assert placard.household == household
        assert placard.status == selectors.HousingStatus.APPRAISED_SAFE
        assert placard.issued_by == users[persona]
        return
    assert not Placard.objects.exists()


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_print_placard(client, users, world, placards, persona, side):
    household = world[side]["safe"]
    placard = placards[side, "safe"]
    login(client, users, persona)
    url = print_url(household=household.pk)

    response = client.get(url)

    if persona == ANON:
        assert_login_redirect(response, url)
        return
    text = body(response)
    if persona not in VIEW_PLACARD:
        assert response.status_code == 403
        assert household.head_name not in text and placard.serial not in text
        return
    assert response.status_code == 200
    if side not in SEES[persona]:
        assert NO_PLACARDS_TO_PRINT in text
        assert ARTICLE not in text
        assert household.head_name not in text and placard.serial not in text
        assert f"{side}-安全地址" not in text
        return
    assert text.count(ARTICLE) == 1
    assert placard.serial in text
    assert household.head_name in text
    assert f"{side}-安全地址-2组2号" in text


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_install_placard(client, users, world, placards, persona, side):
    placard = placards[side, "safe"]
    login(client, users, persona)
    url = reverse("inspections:placard-install", args=[placard.pk])

    response = client.post(url, {"installed_on": today().isoformat()})

    placard.refresh_from_db()
    if persona == ANON:
        assert_login_redirect(response, url)
    elif persona not in CHANGE_PLACARD:
        assert response.status_code == 403
    elif side not in SEES[persona]:
        assert response.status_code == 404
        assert placard.household.head_name not in body(response)
    else:
        assert response.status_code == 302
        assert response.url == household_url(placard.household)
        assert placard.installed_on == today()
        assert "挂牌已登记。" in body(client.get(response.url))
        return
    assert placard.installed_on is None


def test_install_placard_rejects_future_date(client, users, world, placards):
    placard = placards["home", "safe"]
    client.force_login(users[STAFF])

    response = client.post(
        reverse("inspections:placard-install", args=[placard.pk]),
        {"installed_on": (today() + datetime.timedelta(days=1)).isoformat()},
        follow=True,
    )

    placard.refresh_from_db()
    assert placard.installed_on is None
    assert "日期不能晚于今天。" in body(response)


@pytest.mark.parametrize("persona", PERSONAS)
def test_placard_coverage(client, users, world, placards, persona):
    Placard.objects.filter(pk=placards["home", "safe"].pk).update(installed_on=today())
    login(client, users, persona)
    url = reverse("inspections:placard-coverage")

    response = client.get(url)

    if persona == ANON:
        assert_login_redirect(response, url)
        return
    if persona not in VIEW_PLACARD:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    text = body(response)
    assert "挂牌覆盖率" in text
    rows = {row["township"].name: row for row in response.context["rows"]}
    if persona == STAFF:
        assert set(rows) == {TOWNSHIP_NAMES["home"]}
        assert TOWNSHIP_NAMES["other"] not in text
    for side in SIDES:
        township = TOWNSHIP_NAMES[side]
        if side in SEES[persona]:
            installed = 1 if side == "home" else 0
            # every covered household (dangerous, safe, secured, unappraised), not only the safe ones (issue 24)
            assert (rows[township]["covered"], rows[township]["installed"]) == (4, installed)
            assert rows[township]["share"] == 25 * installed
        elif township in rows:
            assert (rows[township]["covered"], rows[township]["installed"]) == (0, 0)
    if "home" in SEES[persona]:
        assert 'data-label="覆盖率">25%</td>' in text


# --------------------------------------------------------------------------------------- placard flows


def test_issue_then_print_a4(client, users, world):
    household = world["home"]["safe"]
    client.force_login(users[STAFF])

    response = client.post(reverse("inspections:placard-issue"), {"household": household.pk, "size": "a4"})

    assert response.status_code == 302
    placard = Placard.objects.get(household=household)
    page = client.get(response.url)
    text = body(page)
    assert page.status_code == 200
    assert placard.serial in text
    assert household.head_name in text
    assert SAFE_LABEL in text
    assert HOTLINE in text
    assert "<svg" in text
    assert "placard-a4.css" in text and "placard-a5.css" not in text
    assert text.count(ARTICLE) == 1
    assert re.fullmatch(r"\d{3}-\d{6}", placard.serial)


def test_issue_then_print_a5_uses_a5_stylesheet(client, users, world):
    household = world["home"]["safe"]
    client.force_login(users[STAFF])

    response = client.post(reverse("inspections:placard-issue"), {"household": household.pk, "size": "a5"})

    assert response.url == print_url(household=household.pk, size="a5")
    text = body(client.get(response.url))
    assert "placard-a5.css" in text and "placard-a4.css" not in text
    assert '<body class="a5">' in text
    assert Placard.objects.get(household=household).serial in text


@pytest.mark.parametrize("size", ["危" * 10_000, "<b>", "a4&household=1"])
def test_issue_with_a_size_that_is_no_size_prints_a4(client, users, world, size):
    """The issued placards' print page is an A4 job for any other size: the size was copied into the redirect, and
    one over 2,048 characters made it a 400 after the placards were issued (found by the fuzz test)."""
    household = world["home"]["safe"]
    client.force_login(users[STAFF])

    response = client.post(reverse("inspections:placard-issue"), {"household": household.pk, "size": size})

    assert (response.status_code, response.url) == (302, print_url(household=household.pk, size="a4"))
    assert Placard.objects.filter(household=household).count() == 1


def test_issue_is_idempotent_and_covers_every_household(client, users, world):
    """ "贫困户房屋安全状况制牌上墙" (issue 24): dangerous and unappraised households get theirs too."""
    client.force_login(users[STAFF])
    village = world["home"]["village"]
    url = reverse("inspections:placard-issue")

    client.post(url, {"village": village.pk})
    first = set(Placard.objects.values_list("household__head_name", flat=True))
    client.post(url, {"village": village.pk})

    assert first == set(NAMES["home"].values())
    assert Placard.objects.count() == len(NAMES["home"]) == 4


def test_print_page_for_a_village_has_one_article_per_current_placard(client, users, world, placards):
    village = world["home"]["village"]
    extra = [safe_household(village) for _ in range(2)]
    services.issue_placards(actor=users[ADMIN], households=extra)
    superseded = placards["home", "safe"]
    appraise(world["home"]["safe"].dwellings.get(), "C", on=today())  # now dangerous: its placard is superseded
    client.force_login(users[STAFF])

    text = body(client.get(print_url(village=village.pk)))

    assert text.count(ARTICLE) == 3  # the secured household's and the two new ones
    assert superseded.serial not in text
    assert placards["home", "secured"].serial in text
    assert "home幸福大院8号" in text
    assert text.count("<svg") == 3


def test_print_requires_a_household_village_or_township(client, users, world):
    client.force_login(users[STAFF])

    assert client.get(reverse("inspections:placard-print")).status_code == 400
    assert client.get(print_url(household="abc")).status_code == 400
    assert client.post(reverse("inspections:placard-issue"), {}).status_code == 400
    assert not Placard.objects.exists()


def test_township_staff_cannot_issue_print_or_install_for_another_township(client, users, world, shuangyang):
    other = world["other"]
    admin_placard = services.issue_placards(actor=users[ADMIN], households=[other["safe"]])[0]
    client.force_login(users[STAFF])
    issue = reverse("inspections:placard-issue")

    for data in ({"household": other["secured"].pk}, {"village": other["village"].pk}, {"township": shuangyang.pk}):
        response = client.post(issue, data)
        assert response.status_code in (302, 404)
        assert Placard.objects.count() == 1
    for params in ({"household": other["safe"].pk}, {"village": other["village"].pk}, {"township": shuangyang.pk}):
        text = body(client.get(print_url(**params)))
        assert admin_placard.serial not in text
        assert NAMES["other"]["safe"] not in text
        assert ARTICLE not in text
    response = client.post(
        reverse("inspections:placard-install", args=[admin_placard.pk]), {"installed_on": today().isoformat()}
    )
    assert response.status_code == 404
    admin_placard.refresh_from_db()
    assert admin_placard.installed_on is None


# --------------------------------------------------------------------------------------------- admin


ADMIN_MODELS = ("appraisal", "securedhousing", "placard")


def admin_marker(world, placards, model: str, side: str) -> tuple[object, str]:
    """(record, text that identifies it on its changelist and change page)."""
    if model == "appraisal":
        appraisal = world[side]["dangerous"].dwellings.get().appraisals.get()
        return appraisal, f"{side}-危房地址-1组1号"
    if model == "securedhousing":
        return world[side]["secured"].secured_housing.get(), f"{side}幸福大院8号"
    return placards[side, "safe"], placards[side, "safe"].serial


@pytest.mark.parametrize("model", ADMIN_MODELS)
@pytest.mark.parametrize("persona", PERSONAS)
def test_admin_changelist(client, users, world, placards, persona, model):
    login(client, users, persona)
    url = f"/admin/inspections/{model}/"

    response = client.get(url)

    if persona == ANON:
        assert_login_redirect(response, url)
        return
    markers = {side: admin_marker(world, placards, model, side) for side in SIDES}
    text = body(response)
    if persona not in ADMIN_VIEW[model]:
        assert response.status_code == 403
        assert not any(marker in text for _record, marker in markers.values())
        return
    assert response.status_code == 200
    listed = {obj.pk for obj in response.context["cl"].result_list}
    for side, (record, marker) in markers.items():
        visible = side in SEES[persona]
        assert (record.pk in listed) == visible, side
        assert (marker in text) == visible, side


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("model", ADMIN_MODELS)
@pytest.mark.parametrize("persona", PERSONAS)
def test_admin_change_page(client, users, world, placards, persona, model, side):
    record, marker = admin_marker(world, placards, model, side)
    login(client, users, persona)
    url = f"/admin/inspections/{model}/{record.pk}/change/"

    response = client.get(url)

    if persona == ANON:
        assert_login_redirect(response, url)
        return
    text = body(response)
    if persona not in ADMIN_VIEW[model]:
        assert response.status_code in (403, 404)
        assert marker not in text
    elif side not in SEES[persona]:
        assert response.status_code == 404
        assert marker not in text
        assert_no_names(text)
    else:
        assert response.status_code == 200
        assert marker in text


def test_admin_history_of_out_of_scope_placard_is_404(client, users, world, placards):
    placard = placards["other", "safe"]
    client.force_login(users[STAFF])

    response = client.get(f"/admin/inspections/placard/{placard.pk}/history/")

    assert response.status_code == 404
    assert placard.serial not in body(response)


# -------------------------------------------------------------------------------------- query counts


def village_with_placards(township, count: int, actor) -> object:
    village = VillageFactory(township=township)
    households = [safe_household(village) for _ in range(count)]
    assert len(services.issue_placards(actor=actor, households=households)) == count
    return village


PRINT_QUERIES = 7


def test_print_page_query_count_does_not_grow_with_placards(client, users, xinqiao):
    small = village_with_placards(xinqiao, 3, users[ADMIN])
    large = village_with_placards(xinqiao, 12, users[ADMIN])
    client.force_login(users[STAFF])
    client.get(print_url(village=small.pk))  # warm-up (content types, sessions)

    small_count = count_queries(client, print_url(village=small.pk))
    large_count = count_queries(client, print_url(village=large.pk))

    assert body(client.get(print_url(village=large.pk))).count(ARTICLE) == 12
    assert small_count == large_count
    assert large_count == PRINT_QUERIES


def add_households(village, n: int) -> None:
    """n dangerous, n overdue-unappraised and n safe households (flags and all)."""
    for _ in range(n):
        dangerous = HouseholdFactory(village=village)
        appraise(DwellingFactory(household=dangerous, is_connected=True, neighbour_cooperates=False), "D")
        overdue = HouseholdFactory(village=village, registered_on=today() - datetime.timedelta(days=45))
        DwellingFactory(household=overdue)
        safe_household(village)


LIST_QUERIES = {
    (STAFF, "field"): 8,
    (STAFF, "overdue"): 8,
    (STAFF, "dangerous"): 8,
    (STAFF, "status"): 10,
    (ADMIN, "field"): 8,
    (ADMIN, "overdue"): 8,
    (ADMIN, "dangerous"): 8,
    (ADMIN, "status"): 10,
}


@pytest.mark.parametrize("page", ["field", "overdue", "dangerous", "status"])
@pytest.mark.parametrize("persona", [STAFF, ADMIN])
def test_list_pages_query_count_does_not_grow_with_households(client, users, xinqiao, persona, page):
    village = VillageFactory(township=xinqiao)
    client.force_login(users[persona])
    url = reverse(f"inspections:{page}")
    add_households(village, 3)
    client.get(url)  # warm-up
    small_count = count_queries(client, url)
    add_households(village, 12)

    large_count = count_queries(client, url)

    if page != "status":
        assert body(client.get(url)).count(f'href="{reverse("inspections:field")}households/') >= 15
    assert small_count == large_count
    assert large_count == LIST_QUERIES[persona, page]


# ---------------------------------------------------------------------------------- public verify page


@pytest.fixture
def public_placard(world, users):
    """A current placard for a household whose head has a three-character name."""
    household = world["home"]["safe"]
    Household.objects.filter(pk=household.pk).update(head_name="张三明", phone="13912345678")
    household.refresh_from_db()
    [placard] = services.issue_placards(actor=users[ADMIN], households=[household])
    return placard


def verify_url(token: str) -> str:
    return reverse("placard-verify", args=[token])


def assert_no_personal_data(text: str, household: Household) -> None:
    assert household.head_name not in text
    assert household.id_number not in text
    assert household.phone not in text
    for dwelling in household.dwellings.all():
        assert dwelling.address not in text


def test_verify_shows_current_placard_without_personal_data(client, public_placard):
    cache.clear()
    household = public_placard.household

    response = client.get(verify_url(public_placard.token))

    assert response.status_code == 200
    text = body(response)
    assert PLACARD_CURRENT in text and PLACARD_SUPERSEDED not in text
    assert "张*明" in text
    assert public_placard.serial in text
    assert SAFE_LABEL in text
    assert HOTLINE in text
    assert_no_personal_data(text, household)


def test_verify_shows_superseded_after_newer_c_appraisal(client, users, public_placard):
    cache.clear()
    household = public_placard.household
    dwelling = household.dwellings.get()
    fields = {**appraisal_data(grade="C", foundation="c"), "appraised_on": today()}
    services.record_appraisal(actor=users[STAFF], appraisal=Appraisal(dwelling=dwelling, **fields))

    response = client.get(verify_url(public_placard.token))

    assert response.status_code == 200
    text = body(response)
    assert PLACARD_SUPERSEDED in text and PLACARD_CURRENT not in text
    assert "该户住房状况在制牌后已发生变化" in text
    assert "张*明" in text
    assert_no_personal_data(text, household)


def test_verify_unknown_token_is_404_in_chinese_without_data(client, public_placard):
    cache.clear()

    response = client.get(verify_url("x" * 24))

    assert response.status_code == 404
    text = body(response)
    assert "未找到标识牌" in text
    assert "此二维码不属于住建局制发的房屋安全标识牌。" in text
    assert public_placard.serial not in text
    assert "张*明" not in text
    assert_no_personal_data(text, public_placard.household)


def test_verify_tokens_are_long_and_random(world, placards):
    tokens = [placard.token for placard in placards.values()]

    assert all(len(token) >= 20 for token in tokens)
    assert len(set(tokens)) == len(tokens)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", token) for token in tokens)
    assert not any(placard.serial in placard.token for placard in placards.values())


def test_verify_is_rate_limited_per_address(client, settings, public_placard, frozen_rate_window):
    settings.PLACARD_VERIFY_RATE = "3/m"
    cache.clear()
    url = verify_url(public_placard.token)

    statuses = [client.get(url, REMOTE_ADDR="10.0.0.7").status_code for _ in range(4)]
    elsewhere = client.get(url, REMOTE_ADDR="10.0.0.8")

    assert statuses[:3] == [200, 200, 200]
    assert statuses[3] != 200
    assert PLACARD_CURRENT not in body(client.get(url, REMOTE_ADDR="10.0.0.7"))
    assert elsewhere.status_code == 200


def test_verify_rate_limit_answers_429_in_chinese(client, settings, public_placard, frozen_rate_window):
    settings.PLACARD_VERIFY_RATE = "3/m"
    cache.clear()
    url = verify_url(public_placard.token)
    for _ in range(3):
        assert client.get(url, REMOTE_ADDR="10.0.0.9").status_code == 200

    response = client.get(url, REMOTE_ADDR="10.0.0.9")

    assert response.status_code == 429
    assert "请求过于频繁" in body(response)
    assert "请一分钟后再试。" in body(response)


# ----------------------------------------------------------------------------- admin: placard installation


def placard_change_data(client, placard, installed_on: str) -> dict:
    """The placard change form as the browser sends it (the two attachment inlines empty)."""
    page = client.get(f"/admin/inspections/placard/{placard.pk}/change/")
    assert page.status_code == 200
    data = {"installed_on": installed_on, "_version": page.context["version_token"]}
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({f"{management.prefix}-{name}": value for name, value in management.initial.items()})
        data[f"{management.prefix}-TOTAL_FORMS"] = "0"
    return data


def test_admin_records_placard_installation(client, users, world, placards):
    placard = placards["home", "safe"]
    client.force_login(users[STAFF])
    data = placard_change_data(client, placard, today().isoformat())

    response = client.post(f"/admin/inspections/placard/{placard.pk}/change/", data)

    assert response.status_code == 302
    placard.refresh_from_db()
    assert placard.installed_on == today()
    assert placard.history.first().history_user == users[STAFF]


def test_admin_installation_of_out_of_scope_placard_is_404(client, users, world, placards):
    placard = placards["other", "safe"]
    client.force_login(users[STAFF])

    response = client.post(f"/admin/inspections/placard/{placard.pk}/change/", {"installed_on": today().isoformat()})

    assert response.status_code == 404
    placard.refresh_from_db()
    assert placard.installed_on is None


def test_admin_installation_in_the_future_is_a_form_error(client, users, world, placards):
    placard = placards["home", "safe"]
    client.force_login(users[STAFF])
    data = placard_change_data(client, placard, (today() + datetime.timedelta(days=3)).isoformat())

    response = client.post(f"/admin/inspections/placard/{placard.pk}/change/", data)

    assert response.status_code == 200
    assert "日期不能晚于今天。" in body(response)
    placard.refresh_from_db()
    assert placard.installed_on is None


def test_admin_save_without_installation_date_does_not_crash(client, users, world, placards):
    placard = placards["home", "safe"]
    client.force_login(users[STAFF])
    data = placard_change_data(client, placard, "")

    response = client.post(f"/admin/inspections/placard/{placard.pk}/change/", data)

    assert response.status_code in (200, 302)
    placard.refresh_from_db()
    assert placard.installed_on is None


def test_issue_message_does_not_linger_onto_later_pages(client, users, world):
    household = world["home"]["safe"]
    client.force_login(users[STAFF])
    response = client.post(reverse("inspections:placard-issue"), {"household": household.pk})
    client.get(response.url)  # the print page

    later = body(client.get(reverse("inspections:dangerous")))

    assert "新制标识牌" not in later
