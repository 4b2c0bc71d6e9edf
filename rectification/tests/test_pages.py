"""Persona tests for the revisit, helper-report and problem-list pages: every page, for every role, with status
AND content.

Two sides of the county: `home` (新桥镇 东坑村, the township staff persona's township) and `other` (双洋镇 西山村).
The helper persona is assigned one household on each side; a second helper has one more on the other side; the
rest belong to nobody. Every household, revisit, report and problem has a distinct name or text, so a page that
leaks a record out of scope fails on that text. A denied write asserts that nothing changed.
"""

from __future__ import annotations

import datetime
import re
from io import BytesIO
from types import SimpleNamespace

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from households.models import Attachment, Unit
from households.tests.factories import (
    DwellingFactory,
    HouseholdFactory,
    VillageFactory,
    make_user,
    png_bytes,
    township,
)
from housing_safety.access import ROLE_PERMISSIONS, Role
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
    count_queries,
    list_items,
    login,
    make_personas,
    messages_of,
    staff_without_role,
    today,
)
from inspections.models import Campaign, HelperReport, Revisit
from rectification.models import Problem, ProblemTransition

# Every test here reads the database (some only through the `users` fixture, which asks for it at run time): the mark
# orders them with the database tests, before the transactional ones that empty the tables.
pytestmark = pytest.mark.django_db

SIDES = ("home", "other")

# What each persona may do: ROLE_PERMISSIONS restated independently (test_role_permissions_as_restated checks it).
VIEW_REVISIT = {ADMIN, OFFICIAL, STAFF}
CHANGE_REVISIT = {ADMIN, STAFF}
ADD_HELPERREPORT = {HELPER}
CHANGE_HELPERREPORT = {ADMIN, STAFF}
VIEW_PROBLEM = {ADMIN, OFFICIAL, STAFF}
CHANGE_PROBLEM = {ADMIN, STAFF}
VERIFY_PROBLEM = {ADMIN, OFFICIAL}
# Which side's revisits, reports and problems each persona with the permission reaches.
SEES = {ADMIN: {"home", "other"}, OFFICIAL: {"home", "other"}, STAFF: {"home"}}

TOWNSHIP_NAMES = {"home": "新桥镇", "other": "双洋镇"}
HOUSEHOLDS = {  # key: (side, head name, dwelling address, helper)
    "helped": ("home", "林秀英", "东坑村2组5号", "helper"),
    "home": ("home", "陈守家", "东坑村3组8号", None),
    "visited": ("home", "吴已访", "东坑村4组1号", None),
    "other": ("other", "王远山", "西山村1组9号", None),
    "other_helped": ("other", "郑远帮", "西山村2组2号", "helper"),
    "stranger": ("other", "赵他人", "西山村5组7号", "other_helper"),
}
NAMES = {key: value[1] for key, value in HOUSEHOLDS.items()}
REPORT_NOTES = {"home": "东边屋顶漏雨，雨天屋内积水", "other": "西墙出现新的裂缝"}
PROBLEMS = {  # key: (side, status, days to deadline, kind, description)
    "home_overdue": ("home", "open", -5, "leaking", "甲问题：东坑村屋顶漏雨"),
    "home_progress": ("home", "in_progress", 10, "new_damage", "乙问题：东坑村墙体开裂"),
    "home_resolved": ("home", "resolved", -10, "missing_documents", "丙问题：东坑村档案缺失"),
    "home_verified": ("home", "verified", -20, "placard_missing", "丁问题：东坑村标识牌缺失"),
    "other_overdue": ("other", "open", -2, "leaking", "戊问题：西山村屋顶漏雨"),
    "other_open": ("other", "open", 5, "connected_hazard", "己问题：西山村连体房隐患"),
    "other_resolved": ("other", "resolved", -1, "data_mismatch", "庚问题：西山村数据不符"),
}
PROBLEM_TEXT = {key: value[4] for key, value in PROBLEMS.items()}

# Chinese texts (locale/zh_Hans) the pages must show.
OVERDUE = "已逾期"
REQUIRED = "这个字段是必填项。"
NEEDS_RESOLUTION = "请填写整改结果。"
STATUS_LABELS = {"open": "待整改", "in_progress": "整改中", "resolved": "已整改", "verified": "已核实"}
EXPORT_HEADERS = ["序号", "乡镇（街道）", "农户", "问题", "整改措施", "责任人", "整改时限", "状态", "任务/机制"]


# --------------------------------------------------------------------------------------------- helpers


def days(n: int) -> datetime.date:
    return today() + datetime.timedelta(days=n)


def item_with(text: str, needle: str) -> str:
    [item] = [item for item in list_items(text) if needle in item]
    return item


def field_errors(text: str) -> list[str]:
    return re.findall(r'<p class="error">(.*?)</p>', text)


def move_buttons(text: str) -> dict[str, str]:
    """{target status: button label} of the move forms on a problem page."""
    return dict(re.findall(r'<button type="submit" name="move" value="([a-z_]+)">(.*?)</button>', text))


def counts_table(text: str) -> dict[str, tuple[int, ...]]:
    """{township: (numbers…)} from the bureau's counts table (problems: open, overdue, resolved, verified;
    revisits: to visit, overdue, visited)."""
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th>((?:<td class="num"[^>]*>\d+</td>)+)</tr>', text)
    return {name: tuple(int(n) for n in re.findall(r">(\d+)<", cells)) for name, cells in rows}


def snapshot() -> tuple:
    return (
        HelperReport.objects.count(),
        Problem.objects.count(),
        ProblemTransition.objects.count(),
        list(Revisit.objects.order_by("pk").values_list("status", "visited_by", "outcome")),
        list(Problem.objects.order_by("pk").values_list("status", "resolution", "resolved_by", "verified_by")),
        list(HelperReport.objects.order_by("pk").values_list("action_taken", "handled_by")),
    )


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
    """The six role personas, plus a staff user without any role (no profile), plus a second helper."""
    personas = make_personas(township=township("350881100"), unit=Unit.objects.get(name="漳平市扶贫开发办公室"))
    result = {role: personas[role] for role in ROLES}
    result[NO_ROLE] = staff_without_role()
    result["other_helper"] = make_user(Role.HELPER, username="other-helper")
    return result


def build_world(users, xinqiao, shuangyang) -> SimpleNamespace:
    townships = {"home": xinqiao, "other": shuangyang}
    villages = {
        "home": VillageFactory(township=xinqiao, name="东坑村"),
        "other": VillageFactory(township=shuangyang, name="西山村"),
    }
    households, dwellings = {}, {}
    for key, (side, name, address, helper) in HOUSEHOLDS.items():
        helper_user = users[HELPER if helper == "helper" else helper] if helper else None
        household = HouseholdFactory(village=villages[side], head_name=name, helper_user=helper_user)
        households[key] = household
        dwellings[key] = DwellingFactory(household=household, address=address)

    campaign = Campaign.objects.create(
        name="二季度危房回访", kind=Campaign.Kind.QUARTERLY, starts_on=days(-60), due_on=days(30)
    )
    revisits = {
        "overdue": Revisit.objects.create(campaign=campaign, dwelling=dwellings["home"], due_on=days(-3)),
        "due": Revisit.objects.create(campaign=campaign, dwelling=dwellings["helped"], due_on=days(30)),
        "done": Revisit.objects.create(
            campaign=campaign,
            dwelling=dwellings["visited"],
            due_on=days(-3),
            status=Revisit.Status.DONE,
            visited_on=days(-5),
            visited_by=users[STAFF],
            outcome=Revisit.Outcome.NONE,
        ),
        "other": Revisit.objects.create(campaign=campaign, dwelling=dwellings["other"], due_on=days(-3)),
    }
    reports = {
        "home": HelperReport.objects.create(
            household=households["helped"],
            dwelling=dwellings["helped"],
            note=REPORT_NOTES["home"],
            finding_leaking=True,
            reported_by=users[HELPER],
        ),
        "other": HelperReport.objects.create(
            household=households["other_helped"],
            note=REPORT_NOTES["other"],
            finding_new_damage=True,
            reported_by=users[HELPER],
        ),
    }
    problem_households = {
        "home_overdue": "home", "home_progress": "helped", "home_resolved": "visited", "home_verified": "home",
        "other_overdue": "other", "other_open": "other_helped", "other_resolved": "other",
    }  # fmt: skip
    problems = {}
    for key, (side, status, offset, kind, description) in PROBLEMS.items():
        problems[key] = Problem.objects.create(
            township=townships[side],
            household=households[problem_households[key]],
            source=Problem.Source.SELF_INSPECTION,
            kind=kind,
            description=description,
            measure=f"{description}的整改措施",
            responsible_person="村干部张三",
            deadline=days(offset),
            status=status,
            resolution="已处理完毕" if status in ("resolved", "verified") else "",
        )
    return SimpleNamespace(
        townships=townships,
        villages=villages,
        households=households,
        dwellings=dwellings,
        campaign=campaign,
        revisits=revisits,
        reports=reports,
        problems=problems,
    )


def test_role_permissions_as_restated(db, users):  # db: ordered with the database tests
    """The permission sets these tests assume are exactly what ROLE_PERMISSIONS grants."""
    restated = {
        "inspections.view_revisit": VIEW_REVISIT,
        "inspections.change_revisit": CHANGE_REVISIT,
        "inspections.add_helperreport": ADD_HELPERREPORT,
        "inspections.change_helperreport": CHANGE_HELPERREPORT,
        "rectification.view_problem": VIEW_PROBLEM,
        "rectification.change_problem": CHANGE_PROBLEM,
        "rectification.verify_problem": VERIFY_PROBLEM,
    }
    for permission, roles in restated.items():
        assert {role for role in ROLES if permission in ROLE_PERMISSIONS[role]} == roles, permission
        for persona in [NO_ROLE, *ROLES]:
            assert users[persona].has_perm(permission) == (persona in roles), (persona, permission)
    # Officials may read helpers' reports but not act on them, so the township pages are closed to them.
    assert "inspections.view_helperreport" in ROLE_PERMISSIONS[OFFICIAL]
    assert "inspections.change_helperreport" not in ROLE_PERMISSIONS[OFFICIAL]


# ----------------------------------------------------------------------------------------- helper pages


@pytest.mark.parametrize("persona", PERSONAS)
def test_helper_home_lists_only_the_helpers_own_households(client, users, world, persona):
    login(client, users, persona)
    url = reverse("inspections:helper")

    response = client.get(url)

    if persona == ANON:
        assert_login_redirect(response, url)
        return
    text = body(response)
    if persona not in ADD_HELPERREPORT:
        assert response.status_code == 403
        assert not [name for name in NAMES.values() if name in text]
        return
    assert response.status_code == 200
    assert "我的帮扶户" in text
    shown = [key for key, name in NAMES.items() if name in text]
    assert sorted(shown) == ["helped", "other_helped"]
    for key in ("helped", "other_helped"):
        assert reverse("inspections:helper-report", args=[world.households[key].pk]) in text
    assert len(list_items(text)) == 2
    assert "报告问题" in text


def test_helper_home_without_households_says_so(client, users, world):
    client.force_login(make_user(Role.HELPER))

    text = body(client.get(reverse("inspections:helper")))

    assert "您目前没有挂钩帮扶的农户。" in text
    assert not [name for name in NAMES.values() if name in text]


@pytest.mark.parametrize("persona", PERSONAS)
def test_helper_report_form_get(client, users, world, persona):
    household = world.households["helped"]
    login(client, users, persona)
    url = reverse("inspections:helper-report", args=[household.pk])

    response = client.get(url)

    if persona == ANON:
        assert_login_redirect(response, url)
        return
    text = body(response)
    if persona not in ADD_HELPERREPORT:
        assert response.status_code == 403
        assert household.head_name not in text
        return
    assert response.status_code == 200
    assert "报告问题" in text and "报送乡镇" in text
    assert household.head_name in text and "东坑村" in text
    assert f'<option value="{world.dwellings["helped"].pk}">' in text  # the household's own dwelling …
    assert f'value="{world.dwellings["home"].pk}"' not in text  # … and no other
    assert "漏雨透风" in text  # a findings checkbox
    assert 'name="note"' in text


@pytest.mark.parametrize("key", ["home", "other", "stranger"])
def test_helper_report_on_a_household_not_assigned_is_404(client, users, world, key):
    household = world.households[key]
    client.force_login(users[HELPER])
    url = reverse("inspections:helper-report", args=[household.pk])
    before = snapshot()

    get = client.get(url)
    post = client.post(url, {"findings": ["leaking"], "note": "屋顶漏雨"})

    assert get.status_code == 404 and post.status_code == 404
    assert household.head_name not in body(get) and household.head_name not in body(post)
    assert snapshot() == before
    assert mail.outbox == []


def test_helper_report_post_creates_report_and_problem_and_mails_the_township(
    client, users, world, django_capture_on_commit_callbacks
):
    Unit.objects.filter(township=world.townships["home"]).update(email="xinqiao@zhangping.example")
    household, dwelling = world.households["helped"], world.dwellings["helped"]
    client.force_login(users[HELPER])
    problems_before = Problem.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("inspections:helper-report", args=[household.pk]),
            {"dwelling": dwelling.pk, "findings": ["leaking"], "note": "  北面屋顶漏雨，墙角发霉  "},
        )

    assert response.status_code == 302
    assert response.url == reverse("inspections:helper")
    report = HelperReport.objects.exclude(pk__in=[r.pk for r in world.reports.values()]).get()
    assert (report.household, report.dwelling, report.reported_by) == (household, dwelling, users[HELPER])
    assert report.found_kinds() == ["leaking"]
    assert report.note == "北面屋顶漏雨，墙角发霉"
    assert Problem.objects.count() == problems_before + 1
    problem = Problem.objects.get(helper_report=report)
    assert (problem.township, problem.household, problem.dwelling) == (world.townships["home"], household, dwelling)
    assert (problem.kind, problem.source, problem.status) == ("leaking", "helper_report", "open")
    assert problem.description == "漏雨透风：北面屋顶漏雨，墙角发霉"
    assert problem.deadline == days(30)
    [message] = mail.outbox
    assert message.to == ["xinqiao@zhangping.example"]
    assert message.subject == "帮扶人报告：东坑村 林秀英"
    assert "漏雨透风" in message.body and "北面屋顶漏雨，墙角发霉" in message.body
    assert reverse("inspections:report", args=[report.pk]) in message.body
    # The thank-you message on the helper's list.
    assert "已报送乡镇，谢谢！" in messages_of(body(client.get(response.url)))


def test_helper_report_without_dwelling_or_township_email(client, users, world, django_capture_on_commit_callbacks):
    """No dwelling chosen: the problem is the household's; no e-mail address: the report is still saved."""
    assert not Unit.objects.get(township=world.townships["other"]).email
    household = world.households["other_helped"]
    client.force_login(users[HELPER])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("inspections:helper-report", args=[household.pk]),
            {"dwelling": "", "findings": ["placard_missing"], "note": "门口标识牌被雨水冲掉"},
        )

    assert response.status_code == 302
    report = HelperReport.objects.get(note="门口标识牌被雨水冲掉")
    assert report.dwelling is None
    problem = Problem.objects.get(helper_report=report)
    assert (problem.township, problem.household, problem.dwelling) == (world.townships["other"], household, None)
    assert problem.kind == "placard_missing"
    assert mail.outbox == []


def test_helper_report_without_findings_tells_the_township_but_opens_no_problem(
    client, users, world, django_capture_on_commit_callbacks
):
    Unit.objects.filter(township=world.townships["home"]).update(email="xinqiao@zhangping.example")
    client.force_login(users[HELPER])
    problems_before = Problem.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("inspections:helper-report", args=[world.households["helped"].pk]), {"note": "老人说最近屋里潮湿"}
        )

    assert response.status_code == 302
    report = HelperReport.objects.get(note="老人说最近屋里潮湿")
    assert report.found_kinds() == []
    assert Problem.objects.count() == problems_before
    [message] = mail.outbox
    assert message.body.startswith("-\n\n老人说最近屋里潮湿")


def test_helper_report_with_photos(client, users, world, django_capture_on_commit_callbacks):
    """Helpers may attach photos; a file that is not what it claims refuses the whole report."""
    household = world.households["helped"]
    url = reverse("inspections:helper-report", args=[household.pk])
    client.force_login(users[HELPER])
    before = snapshot()

    with django_capture_on_commit_callbacks(execute=True):
        refused = client.post(
            url,
            {"findings": ["leaking"], "note": "屋顶漏雨", "photos": [SimpleUploadedFile("roof.jpg", b"not a photo")]},
        )
    assert refused.status_code == 200
    [error] = field_errors(body(refused))
    assert error.startswith("roof.jpg: ") and "只能上传照片" in error
    assert snapshot() == before and not Attachment.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        accepted = client.post(
            url,
            {"findings": ["leaking"], "note": "屋顶漏雨", "photos": [SimpleUploadedFile("roof.png", png_bytes())]},
        )
    assert accepted.status_code == 302
    report = HelperReport.objects.get(note="屋顶漏雨")
    [photo] = Attachment.objects.filter(content_type__model="helperreport", object_id=report.pk)
    assert (photo.uploaded_by, photo.mime_type, photo.original_name) == (users[HELPER], "image/png", "roof.png")


@pytest.mark.parametrize("note", ["", "   "])
def test_helper_report_invalid_post_rerenders_with_chinese_error(
    client, users, world, note, django_capture_on_commit_callbacks
):
    Unit.objects.filter(township=world.townships["home"]).update(email="xinqiao@zhangping.example")
    household = world.households["helped"]
    client.force_login(users[HELPER])
    before = snapshot()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("inspections:helper-report", args=[household.pk]), {"findings": ["leaking"], "note": note}
        )

    assert response.status_code == 200
    text = body(response)
    assert field_errors(text) == [REQUIRED]
    assert 'class="field has-error"' in text and household.head_name in text
    assert snapshot() == before
    assert mail.outbox == []


def test_helper_report_with_another_households_dwelling_is_refused(client, users, world):
    client.force_login(users[HELPER])
    before = snapshot()

    response = client.post(
        reverse("inspections:helper-report", args=[world.households["helped"].pk]),
        {"dwelling": world.dwellings["home"].pk, "findings": ["leaking"], "note": "屋顶漏雨"},
    )

    assert response.status_code == 200
    assert field_errors(body(response)) == ["选择一个有效的选项： 该选择不在可用的选项中。"]
    assert snapshot() == before


@pytest.mark.parametrize("persona", [NO_ROLE, ADMIN, OFFICIAL, STAFF, LIAISON, CLERK])
def test_helper_report_post_by_other_roles_is_403(client, users, world, persona):
    client.force_login(users[persona])
    before = snapshot()

    response = client.post(
        reverse("inspections:helper-report", args=[world.households["helped"].pk]),
        {"findings": ["leaking"], "note": "屋顶漏雨"},
    )

    assert response.status_code == 403
    assert snapshot() == before


# ------------------------------------------------------------------------------------------------ revisits


@pytest.mark.parametrize("persona", PERSONAS)
def test_revisit_list_shows_pending_revisits_in_scope(client, users, world, persona):
    login(client, users, persona)
    url = reverse("inspections:revisits")

    response = client.get(url)

    if persona == ANON:
        assert_login_redirect(response, url)
        return
    text = body(response)
    if persona not in VIEW_REVISIT:
        assert response.status_code == 403
        assert not [name for name in NAMES.values() if name in text]
        return
    assert response.status_code == 200
    assert "待回访" in text
    expected = {"home", "helped"} | ({"other"} if "other" in SEES[persona] else set())
    assert {key for key, name in NAMES.items() if name in text} == expected  # never the visited one
    assert len(list_items(text)) == len(expected)
    for key in ("overdue", "due", "other"):
        link = reverse("inspections:revisit", args=[world.revisits[key].pk])
        shown = world.revisits[key].dwelling.household.head_name in text
        assert (link in text) == (shown and persona in CHANGE_REVISIT)  # the form is linked only for who may record
    assert reverse("inspections:revisit", args=[world.revisits["done"].pk]) not in text
    # Overdue ones flagged, the others not; earliest due first.
    overdue = item_with(text, NAMES["home"])
    assert OVERDUE in overdue and f"截止 {days(-3):%Y-%m-%d}" in overdue and "status-dangerous" in overdue
    due = item_with(text, NAMES["helped"])
    assert OVERDUE not in due and f"截止 {days(30):%Y-%m-%d}" in due and "status-unappraised" in due
    assert text.index(NAMES["home"]) < text.index(NAMES["helped"])
    assert "二季度危房回访" in overdue and "东坑村3组8号" in overdue
    if "other" in SEES[persona]:
        assert OVERDUE in item_with(text, NAMES["other"])
    # The bureau gets per-township counts (pending, overdue, done); township staff do not.
    if persona == STAFF:
        assert counts_table(text) == {}
        assert "双洋镇" not in text
    else:
        thead = text.split("<thead>", 1)[1].split("</thead>", 1)[0]
        assert re.findall(r"<th>(.*?)</th>", thead) == ["乡镇（街道）", "待回访", OVERDUE, "已回访"]
        table = counts_table(text)
        assert table["新桥镇"] == (2, 1, 1)
        assert table["双洋镇"] == (1, 1, 0)
        assert table["永福镇"] == (0, 0, 0)
        assert len(table) == 16


def test_revisit_list_empty_state(client, users, world):
    Revisit.objects.update(status=Revisit.Status.DONE)
    client.force_login(users[STAFF])

    text = body(client.get(reverse("inspections:revisits")))

    assert "没有待回访的房屋。" in text
    assert not [name for name in NAMES.values() if name in text]


def test_revisit_list_includes_revisits_made_by_launch_campaign(client, users, world):
    from inspections.services import launch_campaign

    campaign = Campaign.objects.create(
        name="灾后排查", kind=Campaign.Kind.POST_DISASTER, starts_on=days(-1), due_on=days(7)
    )
    campaign.townships.set([world.townships["home"]])
    created = launch_campaign(actor=users[ADMIN], campaign=campaign)
    client.force_login(users[STAFF])

    text = body(client.get(reverse("inspections:revisits")))

    assert created == 3  # the three home dwellings
    assert len(list_items(text)) == 2 + 3
    assert sum("灾后排查" in item for item in list_items(text)) == 3
    assert NAMES["visited"] in text  # visited in the old campaign, pending in the new one
    assert NAMES["other"] not in text


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_revisit_form_get(client, users, world, persona, side):
    revisit = world.revisits["overdue" if side == "home" else "other"]
    name = revisit.dwelling.household.head_name
    login(client, users, persona)
    url = reverse("inspections:revisit", args=[revisit.pk])

    response = client.get(url)

    if persona == ANON:
        assert_login_redirect(response, url)
        return
    text = body(response)
    if persona not in CHANGE_REVISIT:
        assert response.status_code == 403
        assert name not in text
        return
    if side not in SEES[persona]:
        assert response.status_code == 404
        assert name not in text and revisit.dwelling.address not in text
        return
    assert response.status_code == 200
    assert "登记回访" in text and "保存回访" in text
    assert name in text and revisit.dwelling.address in text and "二季度危房回访" in text
    for field in ("visited_on", "still_lived_in", "findings", "outcome", "notes", "photos"):
        assert f'name="{field}"' in text
    assert "需维修" in text and "漏雨透风" in text


def revisit_data(**overrides) -> dict:
    return {
        "visited_on": today().isoformat(),
        "still_lived_in": "yes",
        "findings": ["leaking", "new_damage"],
        "outcome": Revisit.Outcome.REPAIR,
        "notes": "后墙裂缝扩大",
        **overrides,
    }


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_revisit_form_post(client, users, world, persona, side):
    revisit = world.revisits["overdue" if side == "home" else "other"]
    login(client, users, persona)
    url = reverse("inspections:revisit", args=[revisit.pk])
    before = snapshot()

    response = client.post(url, revisit_data())

    if persona == ANON:
        assert_login_redirect(response, url)
    elif persona not in CHANGE_REVISIT:
        assert response.status_code == 403
    elif side not in SEES[persona]:
        assert response.status_code == 404
        assert revisit.dwelling.household.head_name not in body(response)
    else:
        assert response.status_code == 302
        assert response.url == reverse("inspections:revisits")
        revisit.refresh_from_db()
        assert (revisit.status, revisit.visited_on, revisit.visited_by) == ("done", today(), users[persona])
        assert (revisit.outcome, revisit.notes) == ("repair", "后墙裂缝扩大")
        assert revisit.found_kinds() == ["new_damage", "leaking"]
        opened = Problem.objects.filter(revisit=revisit).order_by("kind")
        assert [(p.kind, p.source, p.dwelling, p.status) for p in opened] == [
            ("leaking", "revisit", revisit.dwelling, "open"),
            ("new_damage", "revisit", revisit.dwelling, "open"),
        ]
        assert {p.township for p in opened} == {world.townships[side]}
        assert opened[0].description == "漏雨透风：后墙裂缝扩大"
        # It leaves the to-do list, with the success message.
        text = body(client.get(response.url))
        assert "回访已登记。" in messages_of(text)
        assert revisit.dwelling.household.head_name not in text
        return
    assert snapshot() == before


def test_revisit_without_findings_opens_no_problem(client, users, world):
    client.force_login(users[STAFF])
    revisit = world.revisits["due"]
    before = Problem.objects.count()

    response = client.post(
        reverse("inspections:revisit", args=[revisit.pk]), revisit_data(findings=[], outcome="none", notes="")
    )

    assert response.status_code == 302
    revisit.refresh_from_db()
    assert (revisit.status, revisit.outcome, revisit.found_kinds()) == ("done", "none", [])
    assert Problem.objects.count() == before


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (revisit_data(outcome=""), [REQUIRED]),
        (revisit_data(visited_on=""), [REQUIRED]),
        (
            revisit_data(visited_on=(datetime.date.today() + datetime.timedelta(days=3)).isoformat()),
            ["日期不能晚于今天。"],
        ),
    ],
    ids=["no-outcome", "no-date", "future-date"],
)
def test_revisit_invalid_post_rerenders_and_saves_nothing(client, users, world, data, errors):
    client.force_login(users[STAFF])
    revisit = world.revisits["overdue"]
    before = snapshot()

    response = client.post(reverse("inspections:revisit", args=[revisit.pk]), data)

    assert response.status_code == 200
    text = body(response)
    assert field_errors(text) == errors
    assert revisit.dwelling.household.head_name in text
    assert snapshot() == before


def test_revisit_recorded_twice_is_refused(client, users, world):
    client.force_login(users[STAFF])
    revisit = world.revisits["done"]
    before = snapshot()

    response = client.post(reverse("inspections:revisit", args=[revisit.pk]), revisit_data())

    assert response.status_code == 200
    assert "该回访已登记。" in body(response)
    assert snapshot() == before


# ------------------------------------------------------------------------------------- helpers' reports


@pytest.mark.parametrize("persona", PERSONAS)
def test_report_list_for_the_township(client, users, world, persona):
    login(client, users, persona)
    url = reverse("inspections:reports")

    response = client.get(url)

    if persona == ANON:
        assert_login_redirect(response, url)
        return
    text = body(response)
    if persona not in CHANGE_HELPERREPORT:
        assert response.status_code == 403  # officials too: they may view reports, not act on them
        assert not [note for note in REPORT_NOTES.values() if note in text]
        return
    assert response.status_code == 200
    assert "帮扶人报告" in text
    for side in SIDES:
        shown = side in SEES[persona]
        assert (REPORT_NOTES[side] in text) == shown
        assert (reverse("inspections:report", args=[world.reports[side].pk]) in text) == shown
    assert len(list_items(text)) == len(SEES[persona])
    assert "待处置" in item_with(text, NAMES["helped"])


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_report_detail_get(client, users, world, persona, side):
    report = world.reports[side]
    login(client, users, persona)
    url = reverse("inspections:report", args=[report.pk])

    response = client.get(url)

    if persona == ANON:
        assert_login_redirect(response, url)
        return
    text = body(response)
    if persona not in CHANGE_HELPERREPORT:
        assert response.status_code == 403
        assert report.note not in text
        return
    if side not in SEES[persona]:
        assert response.status_code == 404
        assert report.note not in text and report.household.head_name not in text
        return
    assert response.status_code == 200
    assert report.note in text and report.household.head_name in text
    assert ("漏雨透风" if side == "home" else "出现新的损坏") in text
    assert users[HELPER].username in text
    assert 'name="action_taken"' in text and "登记处置情况" in text


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_report_detail_post_records_the_action(client, users, world, persona, side):
    report = world.reports[side]
    login(client, users, persona)
    url = reverse("inspections:report", args=[report.pk])
    before = snapshot()

    response = client.post(url, {"action_taken": "  已安排工匠补瓦  "})

    if persona == ANON:
        assert_login_redirect(response, url)
    elif persona not in CHANGE_HELPERREPORT:
        assert response.status_code == 403
    elif side not in SEES[persona]:
        assert response.status_code == 404
    else:
        assert response.status_code == 302
        assert response.url == url
        report.refresh_from_db()
        assert (report.action_taken, report.handled_by) == ("已安排工匠补瓦", users[persona])
        assert report.handled_at is not None
        text = body(client.get(url))
        assert "处置情况已登记。" in messages_of(text)
        assert "乡镇处置情况" in text and "已安排工匠补瓦" in text
        assert 'name="action_taken"' not in text  # handled: no form any more
        assert "已处置" in item_with(body(client.get(reverse("inspections:reports"))), report.household.head_name)
        return
    assert snapshot() == before


def test_report_detail_empty_action_rerenders_with_chinese_error(client, users, world):
    client.force_login(users[STAFF])
    report = world.reports["home"]
    before = snapshot()

    response = client.post(reverse("inspections:report", args=[report.pk]), {"action_taken": ""})

    assert response.status_code == 200
    assert field_errors(body(response)) == [REQUIRED]
    assert snapshot() == before


def test_report_detail_lists_the_problems_it_opened(client, users, world, django_capture_on_commit_callbacks):
    client.force_login(users[HELPER])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("inspections:helper-report", args=[world.households["helped"].pk]),
            {"findings": ["leaking", "connected_hazard"], "note": "与邻居连体的山墙开裂"},
        )
    report = HelperReport.objects.get(note="与邻居连体的山墙开裂")
    client.force_login(users[STAFF])

    text = body(client.get(reverse("inspections:report", args=[report.pk])))

    assert "已生成的整改问题" in text
    for problem in report.problems.all():
        assert reverse("rectification:problem", args=[problem.pk]) in text
    assert report.problems.count() == 2
    assert "漏雨透风" in text and "待整改" in text


# ------------------------------------------------------------------------------------------ problem list


@pytest.mark.parametrize("persona", PERSONAS)
def test_problem_list_in_scope(client, users, world, persona):
    login(client, users, persona)
    url = reverse("rectification:problems")

    response = client.get(url)

    if persona == ANON:
        assert_login_redirect(response, url)
        return
    text = body(response)
    if persona not in VIEW_PROBLEM:
        assert response.status_code == 403
        assert not [t for t in PROBLEM_TEXT.values() if t in text]
        return
    assert response.status_code == 200
    assert "整改问题清单" in text
    for key, (side, *_rest) in PROBLEMS.items():
        assert (PROBLEM_TEXT[key] in text) == (side in SEES[persona]), key
        assert (reverse("rectification:problem", args=[world.problems[key].pk]) in text) == (side in SEES[persona])
    assert len(list_items(text)) == sum(side in SEES[persona] for side, *_rest in PROBLEMS.values())
    # Overdue marked, only while still open.
    overdue = item_with(text, PROBLEM_TEXT["home_overdue"])
    assert OVERDUE in overdue and "status-dangerous" in overdue and "待整改" in overdue
    assert OVERDUE not in item_with(text, PROBLEM_TEXT["home_progress"])
    resolved = item_with(text, PROBLEM_TEXT["home_resolved"])  # past its deadline, but resolved
    assert OVERDUE not in resolved and "已整改" in resolved
    assert OVERDUE not in item_with(text, PROBLEM_TEXT["home_verified"])
    assert sum(OVERDUE in item for item in list_items(text)) == (2 if "other" in SEES[persona] else 1)
    # Township staff get no county-wide table; the bureau does.
    if persona == STAFF:
        assert counts_table(text) == {}
        assert "双洋镇" not in text
    else:
        table = counts_table(text)
        assert table["新桥镇"] == (2, 1, 1, 1)
        assert table["双洋镇"] == (2, 1, 1, 0)
        assert table["永福镇"] == (0, 0, 0, 0)
        assert len(table) == 16  # every township


def test_due_today_is_not_overdue(client, users, world):
    Revisit.objects.filter(pk=world.revisits["overdue"].pk).update(due_on=today())
    Problem.objects.filter(pk=world.problems["home_overdue"].pk).update(deadline=today())
    client.force_login(users[STAFF])

    revisits = body(client.get(reverse("inspections:revisits")))
    problems = body(client.get(reverse("rectification:problems")))
    problem = body(client.get(reverse("rectification:problem", args=[world.problems["home_overdue"].pk])))

    assert OVERDUE not in item_with(revisits, NAMES["home"])
    assert OVERDUE not in item_with(problems, PROBLEM_TEXT["home_overdue"])
    assert not [item for item in list_items(problems) if OVERDUE in item]
    assert OVERDUE not in problem


def test_user_text_is_escaped_on_the_pages(client, users, world):
    Problem.objects.filter(pk=world.problems["home_overdue"].pk).update(description="<script>alert(1)</script>")
    HelperReport.objects.filter(pk=world.reports["home"].pk).update(note="<img src=x onerror=alert(2)>")
    client.force_login(users[STAFF])

    pages = [
        body(client.get(reverse("rectification:problems"))),
        body(client.get(reverse("rectification:problem", args=[world.problems["home_overdue"].pk]))),
        body(client.get(reverse("inspections:reports"))),
        body(client.get(reverse("inspections:report", args=[world.reports["home"].pk]))),
    ]

    for text in pages:
        assert "<script>alert" not in text and "<img src=x" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[1]
    assert "&lt;img src=x onerror=alert(2)&gt;" in pages[3]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("unresolved", ["home_overdue", "home_progress"]),
        ("open", ["home_overdue"]),
        ("in_progress", ["home_progress"]),
        ("resolved", ["home_resolved"]),
        ("verified", ["home_verified"]),
        ("", ["home_verified", "home_resolved", "home_overdue", "home_progress"]),
        ("nonsense", ["home_verified", "home_resolved", "home_overdue", "home_progress"]),
    ],
)
def test_problem_list_status_filter(client, users, world, status, expected):
    client.force_login(users[STAFF])

    text = body(client.get(reverse("rectification:problems"), {"status": status}))

    items = list_items(text)
    shown = [key for item in items for key, description in PROBLEM_TEXT.items() if description in item]
    assert shown == expected  # by deadline
    assert f'{reverse("rectification:problem-export")}{"?status=" + status if status else ""}"' in text


def test_problem_list_status_filter_for_the_bureau(client, users, world):
    client.force_login(users[OFFICIAL])

    text = body(client.get(reverse("rectification:problems"), {"status": "resolved"}))

    shown = {key for key, description in PROBLEM_TEXT.items() if description in text}
    assert shown == {"home_resolved", "other_resolved"}
    # the table counts what the list shows (the tester: a filtered list under a table of every problem misled)
    assert counts_table(text)["双洋镇"] == (0, 0, 1, 0)
    assert counts_table(body(client.get(reverse("rectification:problems"))))["双洋镇"] == (2, 1, 1, 0)


@pytest.mark.parametrize(
    ("status", "selected"), [("unresolved", "待整改或整改中"), ("open", "待整改"), ("", "全部状态")]
)
def test_problem_list_status_options_are_distinct(client, users, world, status, selected):
    """Each filter option has its own value (unresolved ≠ open), and exactly the chosen one is selected."""
    client.force_login(users[STAFF])

    text = body(client.get(reverse("rectification:problems"), {"status": status}))

    status_select = re.search(r'<select name="status".*?</select>', text, re.S).group(0)
    options = re.findall(r'<option value="([^"]*)"( selected)?>(.*?)</option>', status_select)
    assert [value for value, _sel, _label in options] == [
        "",
        "unresolved",
        "overdue",
        "unowned",
        "open",
        "in_progress",
        "resolved",
        "verified",
    ]
    assert [label for _value, sel, label in options if sel] == ([selected] if status else [])


def test_problem_counts_header_says_overdue_problems(client, users, world):
    """The overdue column counts problems past their deadline (已逾期), not unappraised households (逾期未鉴定)."""
    client.force_login(users[ADMIN])

    text = body(client.get(reverse("rectification:problems")))

    thead = text.split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert re.findall(r"<th[^>]*>(.*?)</th>", thead) == ["乡镇（街道）", "待整改", OVERDUE, "已整改", "已核实"]
    assert thead.count('<th class="num">') == 4  # the figures' headings sit over their numbers (right-aligned)


# ---------------------------------------------------------------------------------------------- export


def export(client, **params):
    response = client.get(reverse("rectification:problem-export"), params)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == f'attachment; filename="problems-{today():%Y%m%d}.xlsx"'
    workbook = load_workbook(BytesIO(response.content))
    return workbook.worksheets[0]


@pytest.mark.parametrize("persona", PERSONAS)
def test_problem_export_access(client, users, world, persona):
    login(client, users, persona)
    url = reverse("rectification:problem-export")

    response = client.get(url)

    if persona == ANON:
        assert_login_redirect(response, url)
        return
    if persona not in VIEW_PROBLEM:
        assert response.status_code == 403
        assert not response.get("Content-Disposition")
        return
    sheet = export(client)
    descriptions = [row[3] for row in sheet.iter_rows(min_row=2, values_only=True)]
    expected = [key for key, (side, *_rest) in PROBLEMS.items() if side in SEES[persona]]
    assert sorted(descriptions) == sorted(PROBLEM_TEXT[key] for key in expected)


def test_problem_export_rows_for_township_staff(client, users, world):
    client.force_login(users[STAFF])

    sheet = export(client)

    assert sheet.title == "整改问题清单"
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0][1:]) == EXPORT_HEADERS[1:]
    order = ["home_verified", "home_resolved", "home_overdue", "home_progress"]  # by deadline
    assert [row[3] for row in rows[1:]] == [PROBLEM_TEXT[key] for key in order]
    assert [row[0] for row in rows[1:]] == [1, 2, 3, 4]
    first = rows[3]  # home_overdue
    problem = world.problems["home_overdue"]
    assert first[1:3] == ("新桥镇", NAMES["home"])
    assert first[4:6] == (problem.measure, "村干部张三")
    assert first[6].date() == days(-5)
    assert first[7] == "待整改"
    assert [row[7] for row in rows[1:]] == ["已核实", "已整改", "待整改", "整改中"]
    flat = "".join(str(cell) for row in rows for cell in row)
    assert "双洋镇" not in flat and "西山村" not in flat


def test_problem_export_marks_overdue_rows(client, users, world):
    client.force_login(users[OFFICIAL])

    sheet = export(client)

    filled = {}
    for row in sheet.iter_rows(min_row=2):
        fills = {(cell.fill.fill_type, cell.fill.fgColor.rgb) for cell in row}
        assert len(fills) == 1  # the whole row or nothing
        filled[row[3].value] = fills.pop()
    overdue = {PROBLEM_TEXT["home_overdue"], PROBLEM_TEXT["other_overdue"]}
    assert {d for d, fill in filled.items() if fill[0] == "solid"} == overdue
    assert {filled[d][1][-6:] for d in overdue} == {"FDE8E8"}  # the RGB (Excel ignores the alpha byte)
    assert len(filled) == len(PROBLEMS)


def test_problem_export_status_filter(client, users, world):
    client.force_login(users[ADMIN])

    open_rows = list(export(client, status="unresolved").iter_rows(min_row=2, values_only=True))
    only_open = list(export(client, status="open").iter_rows(min_row=2, values_only=True))
    resolved_rows = list(export(client, status="resolved").iter_rows(min_row=2, values_only=True))

    assert sorted(row[3] for row in open_rows) == sorted(
        PROBLEM_TEXT[k] for k in ("home_overdue", "home_progress", "other_overdue", "other_open")
    )
    assert sorted(row[3] for row in only_open) == sorted(
        PROBLEM_TEXT[k] for k in ("home_overdue", "other_overdue", "other_open")
    )
    assert sorted(row[3] for row in resolved_rows) == sorted(
        PROBLEM_TEXT[k] for k in ("home_resolved", "other_resolved")
    )
    assert [row[1] for row in open_rows] == ["新桥镇", "新桥镇", "双洋镇", "双洋镇"]  # township code order


def test_problem_export_neutralises_formulas(client, users, world):
    Problem.objects.create(
        township=world.townships["home"],
        source=Problem.Source.COMPLAINT,
        kind=Problem.Kind.OTHER,
        description='=HYPERLINK("http://evil.example","点我")',
        measure="+1+1",
        responsible_person="@SUM(A1)",
        deadline=days(3),
    )
    client.force_login(users[STAFF])

    sheet = export(client)

    [row] = [row for row in sheet.iter_rows(min_row=2) if "HYPERLINK" in str(row[3].value)]
    assert row[3].value == '\'=HYPERLINK("http://evil.example","点我")'
    assert row[3].data_type == "s"
    assert (row[4].value, row[5].value) == ("'+1+1", "'@SUM(A1)")
    assert row[2].value is None or row[2].value == ""  # no household
    assert not any(cell.data_type == "f" for r in sheet.iter_rows() for cell in r)


def test_problem_export_header_row_is_chinese(client, users, world):
    """序号 (row number), not 编号 (the placard serial's label): the header has its own translation context."""
    client.force_login(users[STAFF])

    header = next(export(client).iter_rows(max_row=1, values_only=True))

    assert list(header) == EXPORT_HEADERS


# ------------------------------------------------------------------------------------------ problem page


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_problem_detail_in_scope(client, users, world, persona, side):
    problem = world.problems[f"{side}_overdue"]
    login(client, users, persona)
    url = reverse("rectification:problem", args=[problem.pk])

    response = client.get(url)

    if persona == ANON:
        assert_login_redirect(response, url)
        return
    text = body(response)
    if persona not in VIEW_PROBLEM:
        assert response.status_code == 403
        assert problem.description not in text
        return
    if side not in SEES[persona]:
        assert response.status_code == 404
        assert problem.description not in text
        return
    assert response.status_code == 200
    assert problem.description in text and problem.measure in text and "村干部张三" in text
    assert TOWNSHIP_NAMES[side] in text and "漏雨透风" in text
    assert OVERDUE in text and f"{days(-5 if side == 'home' else -2):%Y-%m-%d}" in text
    expected = {"in_progress": "标记为“整改中”", "resolved": "标记为“已整改”"} if persona in CHANGE_PROBLEM else {}
    assert move_buttons(text) == expected
    assert "创建于" in text  # no steps yet


@pytest.mark.parametrize(
    ("persona", "key", "expected"),
    [
        (STAFF, "home_overdue", ["in_progress", "resolved"]),
        (STAFF, "home_progress", ["resolved"]),
        (STAFF, "home_resolved", []),
        (STAFF, "home_verified", []),
        (OFFICIAL, "home_overdue", []),
        (OFFICIAL, "home_progress", []),
        (OFFICIAL, "home_resolved", ["verified", "in_progress"]),
        (OFFICIAL, "other_resolved", ["verified", "in_progress"]),
        (OFFICIAL, "home_verified", []),
        (ADMIN, "home_overdue", ["in_progress", "resolved"]),
        (ADMIN, "other_resolved", ["verified", "in_progress"]),
    ],
)
def test_problem_detail_offers_only_allowed_moves(client, users, world, persona, key, expected):
    client.force_login(users[persona])
    problem = world.problems[key]

    text = body(client.get(reverse("rectification:problem", args=[problem.pk])))

    buttons = move_buttons(text)
    assert list(buttons) == expected
    for to in expected:
        assert buttons[to] == f"标记为“{STATUS_LABELS[to]}”"
    assert ('name="resolution"' in text) == ("resolved" in expected)
    assert (OVERDUE in text) == (key == "home_overdue")
    if problem.resolution:
        assert "整改结果" in text and problem.resolution in text


def move_url(problem) -> str:
    return reverse("rectification:problem-move", args=[problem.pk])


def test_problem_move_workflow_with_steps(client, users, world):
    problem = world.problems["home_overdue"]
    client.force_login(users[STAFF])

    step1 = client.post(move_url(problem), {"to": "in_progress", "note": "已联系工匠"}, follow=True)
    step2 = client.post(move_url(problem), {"to": "resolved", "resolution": "  屋顶已补瓦  "}, follow=True)
    client.force_login(users[OFFICIAL])
    step3 = client.post(move_url(problem), {"to": "verified", "note": "现场核实"}, follow=True)

    assert step1.redirect_chain == [(reverse("rectification:problem", args=[problem.pk]), 302)]
    assert "问题状态已变更为“整改中”。" in messages_of(body(step1))
    assert "问题状态已变更为“已整改”。" in messages_of(body(step2))
    assert "问题状态已变更为“已核实”。" in messages_of(body(step3))
    problem.refresh_from_db()
    assert (problem.status, problem.resolution) == ("verified", "屋顶已补瓦")
    assert (problem.resolved_by, problem.verified_by) == (users[STAFF], users[OFFICIAL])
    steps = list(problem.transitions.values_list("from_status", "to_status", "actor", "note"))
    assert steps == [
        ("open", "in_progress", users[STAFF].pk, "已联系工匠"),
        ("in_progress", "resolved", users[STAFF].pk, ""),
        ("resolved", "verified", users[OFFICIAL].pk, "现场核实"),
    ]
    text = body(step3)
    assert "待整改 → 整改中" in text and "已联系工匠" in text and "已整改 → 已核实" in text
    assert move_buttons(text) == {}


def test_problem_move_resolution_with_evidence_is_shown(client, users, world):
    problem = world.problems["home_progress"]
    client.force_login(users[STAFF])

    response = client.post(
        move_url(problem),
        {
            "to": "resolved",
            "resolution": "墙体已加固",
            "evidence": [SimpleUploadedFile("加固后.png", png_bytes(), content_type="image/png")],
        },
        follow=True,
    )

    text = body(response)
    assert messages_of(text) == ["问题状态已变更为“已整改”。"]
    problem.refresh_from_db()
    assert problem.status == "resolved"
    [evidence] = Attachment.objects.filter(content_type__model="problem", object_id=problem.pk)
    assert (evidence.uploaded_by, evidence.mime_type) == (users[STAFF], "image/png")
    assert "整改佐证" in text and "加固后.png" in text
    assert reverse("attachment-download", args=[evidence.pk]) in text
    client.force_login(users[OFFICIAL])
    assert "加固后.png" in body(client.get(reverse("rectification:problem", args=[problem.pk])))


def test_problem_move_with_a_fake_photo_changes_nothing(client, users, world):
    problem = world.problems["home_progress"]
    client.force_login(users[STAFF])
    before = snapshot()

    response = client.post(
        move_url(problem),
        {"to": "resolved", "resolution": "墙体已加固", "evidence": [SimpleUploadedFile("假.jpg", b"not a photo")]},
        follow=True,
    )

    [message] = messages_of(body(response))
    assert "只能上传照片" in message
    assert snapshot() == before
    assert not Attachment.objects.filter(content_type__model="problem").exists()


@pytest.mark.parametrize("resolution", ["", "   "])
def test_problem_move_resolving_without_resolution_changes_nothing(client, users, world, resolution):
    problem = world.problems["home_overdue"]
    client.force_login(users[STAFF])
    before = snapshot()

    response = client.post(move_url(problem), {"to": "resolved", "resolution": resolution}, follow=True)

    assert response.status_code == 200
    assert messages_of(body(response)) == [NEEDS_RESOLUTION]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("persona", "key", "to", "message"),
    [
        (OFFICIAL, "home_overdue", "verified", "状态为“待整改”的问题不能变更为“已核实”。"),
        (STAFF, "home_overdue", "open", "状态为“待整改”的问题不能变更为“待整改”。"),
        (STAFF, "home_verified", "in_progress", "状态为“已核实”的问题不能变更为“整改中”。"),
        (ADMIN, "home_progress", "open", "状态为“整改中”的问题不能变更为“待整改”。"),
        (STAFF, "home_overdue", "closed", "状态为“待整改”的问题不能变更为“closed”。"),
    ],
)
def test_problem_move_illegal_changes_nothing(client, users, world, persona, key, to, message):
    problem = world.problems[key]
    client.force_login(users[persona])
    before = snapshot()

    response = client.post(move_url(problem), {"to": to, "resolution": "已处理"}, follow=True)

    assert response.status_code == 200
    assert messages_of(body(response)) == [message]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("persona", "key", "to"),
    [
        (STAFF, "home_resolved", "verified"),  # township staff cannot verify
        (STAFF, "home_resolved", "in_progress"),  # nor send back
        (OFFICIAL, "home_overdue", "in_progress"),  # the official only verifies
        (OFFICIAL, "home_progress", "resolved"),
    ],
)
def test_problem_move_without_permission_is_403(client, users, world, persona, key, to):
    problem = world.problems[key]
    client.force_login(users[persona])
    before = snapshot()

    response = client.post(move_url(problem), {"to": to, "resolution": "已处理"})

    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_problem_move_persona_matrix(client, users, world, persona):
    """Each persona tries to start work on a problem of each side."""
    login(client, users, persona)
    for side in SIDES:
        problem = world.problems[f"{side}_overdue"]
        url = move_url(problem)
        before = snapshot()

        response = client.post(url, {"to": "in_progress"})

        if persona == ANON:
            assert_login_redirect(response, url)
        elif persona not in VIEW_PROBLEM:
            assert response.status_code == 404  # no problem is in their scope
        elif side not in SEES[persona]:
            assert response.status_code == 404
            assert problem.description not in body(response)
        elif persona not in CHANGE_PROBLEM:
            assert response.status_code == 403
        else:
            assert response.status_code == 302
            problem.refresh_from_db()
            assert problem.status == "in_progress"
            assert problem.transitions.get().actor == users[persona]
            continue
        assert snapshot() == before


def test_problem_move_get_is_405(client, users, world):
    problem = world.problems["home_overdue"]
    client.force_login(users[STAFF])

    response = client.get(move_url(problem), {"to": "in_progress"})

    assert response.status_code == 405
    problem.refresh_from_db()
    assert problem.status == "open"


def test_problem_sent_back_while_a_newer_one_is_open_gets_a_message(
    client, users, world, django_capture_on_commit_callbacks
):
    household, dwelling = world.households["helped"], world.dwellings["helped"]
    report_url = reverse("inspections:helper-report", args=[household.pk])
    # The helper reports a leaking roof; the township resolves the problem it opened.
    client.force_login(users[HELPER])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(report_url, {"dwelling": dwelling.pk, "findings": ["leaking"], "note": "屋顶漏雨"}, follow=True)
    old = Problem.objects.get(dwelling=dwelling, kind="leaking")
    client.force_login(users[STAFF])
    assert client.post(move_url(old), {"to": "resolved", "resolution": "已补瓦"}, follow=True).status_code == 200
    # It rains again: the helper's new report opens a new problem for the same dwelling and kind.
    client.force_login(users[HELPER])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(report_url, {"dwelling": dwelling.pk, "findings": ["leaking"], "note": "补瓦后仍漏雨"}, follow=True)
    newer = Problem.objects.filter(dwelling=dwelling, kind="leaking", status="open").exclude(pk=old.pk).get()
    # The bureau checks the old one and sends it back to work.
    client.force_login(users[OFFICIAL])
    before = snapshot()

    response = client.post(move_url(old), {"to": "in_progress", "note": "复查仍漏雨"}, follow=True)

    assert response.status_code == 200  # not a server error (the one-open-problem constraint)
    assert messages_of(body(response)) == [f"该房屋已有同类未完成整改的问题（编号 {newer.pk}），请在该问题中继续整改。"]
    assert snapshot() == before
    # The newer problem can still be worked on.
    client.force_login(users[STAFF])
    assert client.post(move_url(newer), {"to": "in_progress"}).status_code == 302
    newer.refresh_from_db()
    assert newer.status == "in_progress"


# ------------------------------------------------------------------------------------------- query counts


def add_problems(township, village, n: int) -> None:
    for i in range(n):
        household = HouseholdFactory(village=village)
        Problem.objects.create(
            township=township,
            household=household,
            dwelling=DwellingFactory(household=household),
            source=Problem.Source.REVISIT,
            kind=Problem.Kind.LEAKING,
            description=f"批量问题{i}",
            deadline=days(i - n // 2),
            status=["open", "in_progress", "resolved"][i % 3],
            resolution="已处理" if i % 3 == 2 else "",
        )


# the plan's tasks and mechanisms for the 任务/机制 filter are one query (issue 24)
PROBLEM_LIST_QUERIES = {STAFF: 9, ADMIN: 11}


@pytest.mark.parametrize("persona", [STAFF, ADMIN])
def test_problem_list_query_count_does_not_grow(client, users, xinqiao, shuangyang, persona):
    village = VillageFactory(township=xinqiao)
    other_village = VillageFactory(township=shuangyang)
    add_problems(xinqiao, village, 3)
    add_problems(shuangyang, other_village, 3)
    client.force_login(users[persona])
    url = reverse("rectification:problems")
    client.get(url)  # warm-up
    small = count_queries(client, url)
    add_problems(xinqiao, village, 12)
    add_problems(shuangyang, other_village, 12)

    large = count_queries(client, url)

    assert len(list_items(body(client.get(url)))) == (15 if persona == STAFF else 30)
    assert small == large == PROBLEM_LIST_QUERIES[persona]


def add_revisits(township, n: int, campaign) -> None:
    village = VillageFactory(township=township)
    for i in range(n):
        Revisit.objects.create(
            campaign=campaign, dwelling=DwellingFactory(household=HouseholdFactory(village=village)), due_on=days(i - 2)
        )


REVISIT_LIST_QUERIES = {STAFF: 8, ADMIN: 8}  # the bureau's per-township table is cached after the warm-up


@pytest.mark.parametrize("persona", [STAFF, ADMIN])
def test_revisit_list_query_count_does_not_grow(client, users, xinqiao, shuangyang, persona):
    campaign = Campaign.objects.create(
        name="季度回访", kind=Campaign.Kind.QUARTERLY, starts_on=days(-9), due_on=days(9)
    )
    add_revisits(xinqiao, 3, campaign)
    client.force_login(users[persona])
    url = reverse("inspections:revisits")
    client.get(url)  # warm-up
    small = count_queries(client, url)
    add_revisits(xinqiao, 9, campaign)
    add_revisits(shuangyang, 3, campaign)

    large = count_queries(client, url)

    assert len(list_items(body(client.get(url)))) == (12 if persona == STAFF else 15)
    assert small == large == REVISIT_LIST_QUERIES[persona]


HELPER_HOME_QUERIES = 8


def test_helper_home_query_count_does_not_grow(client, users, xinqiao):
    village = VillageFactory(township=xinqiao)
    helper = users[HELPER]

    def add(n: int) -> None:
        for _ in range(n):
            household = HouseholdFactory(village=village, helper_user=helper)
            DwellingFactory(household=household)
            HouseholdFactory(village=village)  # somebody else's

    add(3)
    client.force_login(helper)
    url = reverse("inspections:helper")
    client.get(url)  # warm-up
    small = count_queries(client, url)
    add(9)

    large = count_queries(client, url)

    assert len(list_items(body(client.get(url)))) == 12
    assert small == large == HELPER_HOME_QUERIES
