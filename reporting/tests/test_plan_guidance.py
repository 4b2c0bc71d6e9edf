"""包片 guidance (issue 24): "市住建局深入乡镇村开展工作指导；市直有关部门随机开展督导、抽查核实" (phase 二) and "按照……
包片负责分工……加强对贫困人口住房安全排查工作抽查督促". The bureau administrator assigns officials to townships per
year; an official's home shows their townships with their key figures; the spot checks they draw are drawn in their
townships, and the spot-check list says who guides each township."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory, make_user, township
from housing_safety.access import Role
from housing_safety.tests.kit import ADMIN, ANON, CLERK, HELPER, LIAISON, NO_ROLE, OFFICIAL, STAFF, body, login, rows_of
from inspections import services
from inspections.models import GuidanceAssignment, SpotCheck, SpotCheckItem
from reporting import rollup

pytestmark = pytest.mark.django_db
ADD = "/admin/inspections/guidanceassignment/add/"
LIST = "/admin/inspections/guidanceassignment/"
YEAR = timezone.localdate().year
CODES = ("350881100", "350881101", "350881102", "350881103")


@pytest.fixture
def townships(db):
    made = {code: township(code) for code in CODES}
    for item in made.values():
        village = VillageFactory(township=item)
        for _ in range(4):
            DwellingFactory(household=HouseholdFactory(village=village))
    return made


@pytest.fixture
def guided(personas, townships):
    """The official guides 新桥镇 and 双洋镇 this year."""
    for code in CODES[:2]:
        services.assign_guidance(
            actor=personas[ADMIN], official=personas[OFFICIAL], township=townships[code], year=YEAR, note="第一片区"
        )
    return personas[OFFICIAL]


def snapshot():
    return rows_of(GuidanceAssignment, GuidanceAssignment.history.model, SpotCheck, SpotCheckItem)


def sampled_townships(spot_check) -> set[str]:
    return set(spot_check.items.values_list("household__village__township__code", flat=True))


# The assignment ---------------------------------------------------------------------------------------------------


def test_only_the_bureaus_people_guide_townships(personas, townships, chinese):
    """ "市住建局深入乡镇村开展工作指导": a township's staff member is not a guide; refused in Chinese, nothing written."""
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        services.assign_guidance(
            actor=personas[ADMIN], official=personas[STAFF], township=townships[CODES[0]], year=YEAR
        )
    assert refused.value.message_dict["official"] == [
        "请选择住建局领导、业务股室人员或管理员：只有住建局人员包片指导乡镇。"
    ]
    with pytest.raises(ValidationError) as refused:
        services.assign_guidance(
            actor=personas[ADMIN], official=personas[OFFICIAL], township=townships[CODES[0]], year=1926
        )
    assert "年份 1926 不合理" in refused.value.message_dict["year"][0]
    assert snapshot() == before


def test_a_township_is_guided_once_by_the_same_official_a_year(personas, guided, townships, chinese):
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        services.assign_guidance(actor=personas[ADMIN], official=guided, township=townships[CODES[0]], year=YEAR)
    assert refused.value.message_dict["township"] == ["该人员本年度已包片该乡镇。"]
    assert snapshot() == before
    # another year, or another official for the same township, is fine
    services.assign_guidance(actor=personas[ADMIN], official=guided, township=townships[CODES[0]], year=YEAR - 1)
    services.assign_guidance(actor=personas[ADMIN], official=personas[ADMIN], township=townships[CODES[0]], year=YEAR)


def test_the_bureau_administrator_assigns_in_the_admin(client, personas, townships, chinese):
    client.force_login(personas[ADMIN])
    offered = client.get(ADD).context["adminform"].form.fields["official"].queryset
    assert personas[OFFICIAL] in offered and personas[ADMIN] in offered and personas[STAFF] not in offered
    data = {"year": YEAR, "township": townships[CODES[2]].pk, "official": personas[OFFICIAL].pk, "note": "第二片区"}
    response = client.post(ADD, data)
    assert response.status_code == 302
    made = GuidanceAssignment.objects.get()
    assert (made.township.code, made.official, made.note) == (CODES[2], personas[OFFICIAL], "第二片区")
    assert made.history.get().history_user == personas[ADMIN]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"year": "1926"}, "年份 1926 不合理"),
        ({"official": "staff"}, "选择一个有效的选项"),
        ({"township": ""}, "这个字段是必填项。"),
    ],
)
def test_bad_input_in_the_admin_is_refused_in_chinese(client, personas, townships, chinese, fields, message):
    client.force_login(personas[ADMIN])
    data = {"year": YEAR, "township": townships[CODES[2]].pk, "official": personas[OFFICIAL].pk, **fields}
    if data["official"] == "staff":
        data["official"] = personas[STAFF].pk
    before = snapshot()
    response = client.post(ADD, data)
    assert response.status_code == 200 and message in body(response)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("persona", "list_status", "add_status"),
    [
        (ANON, 302, 302),
        (NO_ROLE, 302, 302),
        (OFFICIAL, 200, 403),
        (STAFF, 403, 403),
        (LIAISON, 403, 403),
        (CLERK, 403, 403),
        (HELPER, 403, 403),
    ],
)
def test_who_may_read_and_who_may_not_assign(client, personas, guided, townships, persona, list_status, add_status):
    """Officials read the assignments (their home reads them); only the bureau administrator edits them."""
    login(client, personas, persona)
    assert client.get(LIST).status_code == list_status
    before = snapshot()
    data = {"year": YEAR, "township": townships[CODES[3]].pk, "official": personas[OFFICIAL].pk}
    assert client.post(ADD, data).status_code == add_status
    assignment = GuidanceAssignment.objects.first()
    assert client.post(f"{LIST}{assignment.pk}/delete/", {"post": "yes"}).status_code in (302, 403)
    assert snapshot() == before


# Spot checks drawn for the guided townships ----------------------------------------------------------------------


def test_an_assigned_official_draws_in_their_own_townships_by_default(personas, guided):
    """ "抽查核实" in phase 二, by 包片: with no township chosen, the official's townships of the year."""
    check = SpotCheck.objects.create(name="包片抽查", per_township=2)
    assert services.draw_spot_check(actor=guided, spot_check=check) == 4
    check.refresh_from_db()
    assert sampled_townships(check) == set(CODES[:2])
    assert check.guided_by == guided
    assert set(check.townships.values_list("code", flat=True)) == set(CODES[:2])


def test_a_check_may_be_drawn_for_an_officials_townships_by_the_administrator(personas, guided):
    check = SpotCheck.objects.create(name="包片抽查", per_township=1, guided_by=guided)
    services.draw_spot_check(actor=personas[ADMIN], spot_check=check)
    assert sampled_townships(check) == set(CODES[:2])


def test_without_guidance_a_check_is_drawn_in_every_township(personas, townships):
    check = SpotCheck.objects.create(name="全市抽查", per_township=1)
    services.draw_spot_check(actor=personas[ADMIN], spot_check=check)
    assert sampled_townships(check) == set(CODES)
    assert check.guided_by is None


def test_an_official_without_townships_is_refused_in_the_admin_form(client, personas, townships, chinese):
    client.force_login(personas[ADMIN])
    before = snapshot()
    data = {"name": "包片抽查", "per_township": 2, "seed": "", "guided_by": personas[OFFICIAL].pk}
    data |= {"items-TOTAL_FORMS": 0, "items-INITIAL_FORMS": 0}
    response = client.post("/admin/inspections/spotcheck/add/", data)
    assert response.status_code == 200 and "该人员本年度没有包片乡镇。" in body(response)
    assert snapshot() == before


def test_the_official_draws_in_the_admin_and_the_list_says_who_guides(client, personas, guided, chinese):
    client.force_login(guided)
    data = {"name": "包片抽查", "per_township": 1, "seed": "", "items-TOTAL_FORMS": 0, "items-INITIAL_FORMS": 0}
    assert client.post("/admin/inspections/spotcheck/add/", data).status_code == 302
    check = SpotCheck.objects.get()
    assert sampled_townships(check) == set(CODES[:2])
    page = body(client.get("/admin/inspections/spotcheck/"))
    name = guided.get_username()
    assert f"新桥镇：{name}" in page and f"双洋镇：{name}" in page
    change = body(client.get(f"/admin/inspections/spotcheck/{check.pk}/change/"))
    assert change.count(name) >= 2  # each township's results with its guide


# The official's home ---------------------------------------------------------------------------------------------


def guidance_lines(html: str) -> list[tuple[str, str]]:
    """The home's 包片 group: (township name, its note) per line."""
    section = html.split("我的包片乡镇", 1)[1].split("</section>", 1)[0]
    found = re.findall(r'class="todo-label">([^<]+)<span class="todo-note">([^<]+)</span>', section)
    return [(name.strip(), note) for name, note in found]


def test_the_officials_home_shows_their_townships_with_key_figures_and_links(client, personas, guided, chinese):
    """ "their townships shown on their home": each with its covered households, overdue appraisals, dangerous
    houses without a case, problems overdue and sampled households to verify, leading to its dashboard."""
    client.force_login(guided)
    home = body(client.get("/"))
    lines = guidance_lines(home)
    assert [name for name, _note in lines] == ["新桥镇", "双洋镇"]
    assert lines[0][1].startswith("在册 4 户")
    for code in CODES[:2]:
        pk = GuidanceAssignment.objects.get(township__code=code).township_id
        assert f'href="{reverse("reporting:dashboard")}?township={pk}"' in home


@pytest.mark.parametrize("persona", [ADMIN, STAFF, LIAISON, CLERK, HELPER])
def test_nobody_else_sees_the_officials_townships(client, personas, guided, chinese, persona):
    login(client, personas, persona)
    assert "我的包片乡镇" not in body(client.get("/"))


def test_the_homes_queries_do_not_grow_with_townships(client, personas, guided, townships, django_assert_num_queries):
    client.force_login(guided)
    client.get("/")  # warm
    with django_assert_num_queries(HOME_QUERIES):
        client.get("/")
    for code in CODES[2:]:
        services.assign_guidance(actor=personas[ADMIN], official=guided, township=townships[code], year=YEAR)
    with django_assert_num_queries(HOME_QUERIES):
        response = client.get("/")
    assert len(guidance_lines(body(response))) == 4


HOME_QUERIES = 21  # one of them: whether the dashboard's maintained figures hold today (reporting.rollup)


def test_the_officials_townships_read_the_dashboards_maintained_figures(
    client, guided, chinese, django_assert_num_queries
):
    """Once the rollup holds today, four of a line's five figures are one query over it: the same numbers."""
    client.force_login(guided)
    live = guidance_lines(body(client.get("/")))
    rollup.refresh_figures(day=timezone.localdate())
    # the appraisal and revisit counts and the guidance's three GROUP BYs over the records (5) become the rollup's
    # SUM for the official's scope, its SUM per guided township and the week's registrations due soon (3)
    with django_assert_num_queries(HOME_QUERIES - 2):
        rolled = guidance_lines(body(client.get("/")))
    assert rolled == live and live[0][1].startswith("在册 4 户")


def test_another_officials_home_shows_none(client, guided, townships):
    other = make_user(Role.BUREAU_OFFICIAL)
    client.force_login(other)
    assert "我的包片乡镇" not in body(client.get("/"))


def test_each_figure_of_a_guided_township_is_named_as_its_target_names_it(client, personas, guided, chinese):
    """The tester's round: 「危房未改造」 was 「未立改造案件」 on the dashboard; the line's count (its households) was a
    yellow badge, like a warning; 「抽查待核实 5」 led to the dashboard, which has no spot-check figure. Now the note
    uses the dashboard's name, the count is neutral, and the households to verify are a line of their own leading to
    the township's spot checks."""
    client.force_login(guided)
    data = {"name": "包片抽查", "per_township": 1, "seed": "", "items-TOTAL_FORMS": 0, "items-INITIAL_FORMS": 0}
    assert client.post("/admin/inspections/spotcheck/add/", data).status_code == 302
    home = body(client.get("/"))
    lines = dict(guidance_lines(home))
    assert "未立改造案件 0" in lines["新桥镇"] and "危房未改造" not in home and "抽查待核实" not in lines["新桥镇"]
    dashboard = reverse("reporting:dashboard")
    assert f'class="todo-muted"><a href="{dashboard}?township=' in home
    assert f'class="todo-warning"><a href="{dashboard}?township=' not in home
    xinqiao = GuidanceAssignment.objects.get(township__code=CODES[0]).township_id
    url = f"/admin/inspections/spotcheck/?township={xinqiao}"
    assert f'href="{url}"' in home
    assert "包片抽查" in body(client.get(url))
