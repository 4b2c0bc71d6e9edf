"""The 31 base villages (issue 24): the province's list loaded by the bureau, the one-off survey 基点村排查 over every
house in them, and 建档立卡 of a household whose house the survey or an appraisal finds dangerous."""

from __future__ import annotations

import datetime
import io

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from households.models import Household, HouseholdCategory, Village
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory
from housing_safety.access import Role
from housing_safety.tests.kit import ANON, NO_ROLE, PERSONAS, assert_login_redirect, body, login, rows_of
from inspections import base_villages
from inspections.models import BaseVillageList, BaseVillageRegistration, Campaign, Revisit
from inspections.services import record_appraisal, record_revisit

from .factories import AppraisalFactory

pytestmark = pytest.mark.django_db
D = datetime.date
HEADER = ["序号", "乡镇", "村代码", "村名称"]


def xlsx(rows, *, title: str = "省定基点村") -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(content: bytes, name: str = "省定革命基点村名单.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


@pytest.fixture
def world(xinqiao, shuangyang):
    """Two villages to list (one already marked by an earlier list), one marked that the new list drops, one never
    listed; covered and not-yet-registered households with houses in them."""
    meilin = VillageFactory(township=xinqiao, name="梅林村", code="350881100201")
    dongkeng = VillageFactory(
        township=shuangyang, name="东坑村", code="350881101202", is_revolutionary_base_village=True
    )
    dropped = VillageFactory(township=xinqiao, name="旧基点村", code="350881100203", is_revolutionary_base_village=True)
    plain = VillageFactory(township=xinqiao, name="平常村", code="350881100204")
    covered = HouseholdFactory(village=meilin, categories=["minimum_living"])
    surveyed = HouseholdFactory(village=meilin, status=Household.Status.UNREGISTERED, registered_on=D(2026, 1, 5))
    elsewhere = HouseholdFactory(village=dongkeng, status=Household.Status.UNREGISTERED)
    outside = HouseholdFactory(village=plain, status=Household.Status.UNREGISTERED)
    return {
        "meilin": meilin,
        "dongkeng": dongkeng,
        "dropped": dropped,
        "plain": plain,
        "covered_house": DwellingFactory(household=covered, structure_type="frame"),
        "covered_old": DwellingFactory(household=covered, structure_type="adobe", is_occupied=False),
        "surveyed": surveyed,
        "surveyed_house": DwellingFactory(household=surveyed, structure_type="earth_timber"),
        "elsewhere_house": DwellingFactory(household=elsewhere, structure_type="brick_concrete"),
        "dropped_house": DwellingFactory(household=HouseholdFactory(village=dropped), structure_type="adobe"),
        "outside_house": DwellingFactory(household=outside),
    }


GOOD = [
    ["省定革命基点村名单"],
    HEADER,
    [1, "新桥镇", "350881100201", "梅林村"],
    [2, "双洋镇", 350881101202, "东坑村民委员会"],
]


def load(actor, rows=GOOD, **kwargs) -> BaseVillageList:
    return base_villages.preview_list(
        actor=actor, year=2020, batch="省定31个革命基点村", uploaded_file=upload(xlsx(rows)), **kwargs
    )


def registry_snapshot():
    return rows_of(Village, Village.history.model, Household, Household.history.model, Campaign, Revisit)


def test_confirming_the_list_marks_its_villages_unmarks_the_dropped_and_surveys_every_house(world, admin):
    """The plan: 「对31个省定革命基点村群众的住房情况组织一次排查认定」: every resident's house in the listed villages, of
    covered households and of households not yet registered, lived in or not, is in the one-off survey."""
    base_list = load(admin)
    assert not base_list.refused
    assert base_list.counts == {"rows": 2, "refused": 0, "to_mark": 1, "kept": 1, "to_unmark": 1}
    done = base_villages.confirm_list(actor=admin, base_list=base_list, today=D(2026, 12, 7))
    assert (done["marked"], done["unmarked"], done["revisits"]) == (1, 1, 4)
    assert set(Village.objects.filter(is_revolutionary_base_village=True)) == {world["meilin"], world["dongkeng"]}
    world["meilin"].refresh_from_db()
    assert (world["meilin"].base_village_year, world["meilin"].base_village_batch) == (2020, "省定31个革命基点村")
    campaign = Campaign.objects.get(kind=Campaign.Kind.BASE_VILLAGE)
    assert campaign.due_on == D(2027, 3, 7) and campaign.launched_by == admin
    surveyed = {revisit.dwelling for revisit in campaign.revisits.all()}
    assert surveyed == {world[k] for k in ("covered_house", "covered_old", "surveyed_house", "elsewhere_house")}
    assert world["meilin"].history.first().history_user == admin


def test_loading_the_same_list_twice_changes_nothing_the_second_time(world, admin):
    """Idempotent: the second load of the same list marks, unmarks and surveys nothing new, and writes no history."""
    base_villages.confirm_list(actor=admin, base_list=load(admin))
    before = registry_snapshot()
    second = load(admin)
    assert second.counts["to_mark"] == 0 and second.counts["to_unmark"] == 0
    done = base_villages.confirm_list(actor=admin, base_list=second)
    assert (done["marked"], done["unmarked"], done["revisits"]) == (0, 0, 0)
    assert registry_snapshot() == before
    assert Campaign.objects.filter(kind=Campaign.Kind.BASE_VILLAGE).count() == 1


def test_a_village_dropped_from_a_new_list_is_unmarked_but_its_survey_stays(world, admin):
    base_villages.confirm_list(actor=admin, base_list=load(admin))
    campaign = Campaign.objects.get(kind=Campaign.Kind.BASE_VILLAGE)
    revisits = set(campaign.revisits.values_list("pk", flat=True))
    only_meilin = [HEADER, [1, "新桥镇", "350881100201", "梅林"]]
    done = base_villages.confirm_list(actor=admin, base_list=load(admin, only_meilin))
    assert (done["marked"], done["unmarked"], done["revisits"]) == (0, 1, 0)
    world["dongkeng"].refresh_from_db()
    assert not world["dongkeng"].is_revolutionary_base_village and world["dongkeng"].base_village_year is None
    assert set(campaign.revisits.values_list("pk", flat=True)) == revisits  # the survey of 东坑村 stays
    world["meilin"].refresh_from_db()
    assert world["meilin"].base_village_year == 2020  # kept: the year it was first named


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            [HEADER, [1, "新桥镇", "350881100299", "梅林村"]],
            {2: "系统中没有村代码为 350881100299 的村：请核对代码，或先录入该村。"},
        ),
        (
            [HEADER, [1, "新桥镇", "350881100201", "东坑村"]],
            {2: "村名称“东坑村”与代码所指的村不符：350881100201 是 新桥镇 梅林村。"},
        ),
        (
            [HEADER, [1, "新桥镇", "350881100201", "梅林村"], [2, "新桥镇", "350881100201", "梅林村"]],
            {2: "", 3: "村代码 350881100201 重复：与第 2 行相同。"},
        ),
        (
            [HEADER, [1, "双洋镇", "350881100201", "梅林村"], [2, "", "3508811002", "梅林村"], [3, "", "", "东坑村"]],
            {
                2: "乡镇“双洋镇”不是该村所在的乡镇：梅林村在新桥镇。",
                3: "村代码“3508811002”不是12位数字。",
                4: "村代码为空。",
            },
        ),
    ],
    ids=["unknown-code", "name-mismatch", "duplicate-row", "township-length-empty"],
)
def test_bad_rows_are_refused_one_by_one_with_their_cause_and_nothing_changes(world, admin, chinese, rows, expected):
    """Each refused row names its cause in Chinese; a list with a refused row cannot be confirmed (a partial
    province's list would unmark the villages it leaves out), so nothing changes."""
    before = registry_snapshot()
    base_list = load(admin, rows)
    assert {row["row"]: row["error"] for row in base_list.rows} == expected
    assert base_list.refused
    with pytest.raises(ValidationError, match=r"Nothing was changed|未作任何更改"):
        base_villages.confirm_list(actor=admin, base_list=base_list)
    assert registry_snapshot() == before


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (xlsx([]), "第一个工作表"),
        (xlsx([HEADER]), "表头下没有任何村"),
        (xlsx([["户主姓名", "身份证号码"], ["张三", "350881199001011234"]], title="农户"), "第一个工作表"),
        (b"PK\x03\x04 not a workbook", "不是可读取的"),
    ],
    ids=["empty-file", "header-only", "wrong-sheet", "not-a-workbook"],
)
def test_a_file_that_is_not_the_list_is_refused_as_a_whole(world, admin, chinese, content, expected):
    before = registry_snapshot()
    base_list = base_villages.preview_list(actor=admin, year=2020, batch="", uploaded_file=upload(content))
    assert expected in base_list.error and base_list.rows == []
    with pytest.raises(ValidationError):
        base_villages.confirm_list(actor=admin, base_list=base_list)
    assert registry_snapshot() == before


def survey_revisit(world, admin, dwelling):
    base_villages.confirm_list(actor=admin, base_list=load(admin))
    return Revisit.objects.get(campaign__kind=Campaign.Kind.BASE_VILLAGE, dwelling=dwelling)


def test_a_house_the_survey_finds_dangerous_registers_its_household(world, admin, staff):
    """The plan: 「对经认定属危旧房的进行建档立卡，准确界定革命基点村危房改造对象」: a C/D house of a household not yet
    registered puts it on the covered list from the day found, as 革命基点村群众, with an audit record."""
    revisit = survey_revisit(world, admin, world["surveyed_house"])
    record_revisit(
        actor=staff, revisit=revisit, visited_on=D(2026, 12, 1), findings=[], outcome="reappraisal",
        still_lived_in=True, assessed_grade="D",
    )  # fmt: skip
    household = Household.objects.get(pk=world["surveyed"].pk)
    assert household.status == Household.Status.ACTIVE and household.registered_on == D(2026, 12, 1)
    assert HouseholdCategory.Code.BASE_VILLAGE in set(household.categories.values_list("code", flat=True))
    audit = BaseVillageRegistration.objects.get(household=household)
    assert (audit.grade, audit.revisit, audit.registered_by, audit.dwelling) == ("D", revisit, staff, revisit.dwelling)
    assert "基点村排查" in household.history.filter(status="active").first().history_change_reason
    assert household.history.filter(status="active").first().history_user == staff


def test_a_safe_house_or_a_covered_household_registers_nothing(world, admin, staff):
    revisit = survey_revisit(world, admin, world["surveyed_house"])
    record_revisit(
        actor=staff, revisit=revisit, visited_on=D(2026, 12, 1), findings=[], outcome="none", still_lived_in=True,
        assessed_grade="B",
    )  # fmt: skip
    covered = Revisit.objects.get(campaign__kind=Campaign.Kind.BASE_VILLAGE, dwelling=world["covered_house"])
    record_revisit(
        actor=staff, revisit=covered, visited_on=D(2026, 12, 1), findings=[], outcome="repair", still_lived_in=True,
        assessed_grade="C",
    )  # fmt: skip
    assert Household.objects.get(pk=world["surveyed"].pk).status == Household.Status.UNREGISTERED
    assert not BaseVillageRegistration.objects.exists()


def test_the_survey_asks_for_the_grade(world, admin, staff, chinese):
    revisit = survey_revisit(world, admin, world["surveyed_house"])
    with pytest.raises(ValidationError, match="基点村排查"):
        record_revisit(
            actor=staff, revisit=revisit, visited_on=D(2026, 12, 1), findings=[], outcome="none", still_lived_in=True
        )


def test_an_appraisal_finding_a_base_village_house_dangerous_registers_its_household(world, admin, staff):
    """「经认定属危旧房的进行建档立卡」 also when the finding is a formal appraisal graded C or D."""
    base_villages.confirm_list(actor=admin, base_list=load(admin))
    appraisal = AppraisalFactory.build(
        dwelling=world["surveyed_house"], appraised_on=D(2026, 11, 20), foundation="c", load_bearing_walls="c",
        timber_frame="c", roof_truss="c", floor_roof_slab="c", grade="C", recommendation="repair",
    )  # fmt: skip
    record_appraisal(actor=staff, appraisal=appraisal)
    household = Household.objects.get(pk=world["surveyed"].pk)
    assert household.status == Household.Status.ACTIVE and household.registered_on == D(2026, 11, 20)
    assert household.home_status == "dangerous"
    assert BaseVillageRegistration.objects.get(household=household).appraisal == appraisal


def test_outside_a_base_village_an_unregistered_household_is_not_registered(world, admin):
    appraisal = AppraisalFactory.build(
        dwelling=world["outside_house"], foundation="c", load_bearing_walls="c", timber_frame="c", roof_truss="c",
        floor_roof_slab="c", grade="C", recommendation="repair",
    )  # fmt: skip
    record_appraisal(actor=admin, appraisal=appraisal)
    assert Household.objects.get(pk=world["outside_house"].household_id).status == Household.Status.UNREGISTERED


def test_only_the_bureau_may_load_the_list(world, personas):
    for role in (Role.TOWNSHIP_STAFF, Role.DEPARTMENT_LIAISON, Role.COMPLAINT_CLERK, Role.HELPER):
        with pytest.raises(PermissionDenied):
            load(personas[role])
    base_list = load(personas[Role.BUREAU_OFFICIAL])
    with pytest.raises(PermissionDenied):
        base_villages.confirm_list(actor=personas[Role.TOWNSHIP_STAFF], base_list=base_list)
    base_villages.confirm_list(actor=personas[Role.BUREAU_OFFICIAL], base_list=base_list)


# Pages -----------------------------------------------------------------------------------------------------------


@pytest.fixture
def users(personas):
    return personas


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_pages_are_the_bureaus(world, users, client, persona):
    """Administrators and officials load, preview and confirm; everyone else is refused (403) or sent to log in,
    and a refused request changes nothing."""
    base_list = load(users[Role.BUREAU_ADMIN])
    login(client, users, persona)
    before = registry_snapshot()
    urls = [
        reverse("inspections:base-villages"),
        reverse("inspections:base-village-list", args=[base_list.pk]),
    ]
    confirm = reverse("inspections:base-village-confirm", args=[base_list.pk])
    bureau = persona in (Role.BUREAU_ADMIN, Role.BUREAU_OFFICIAL)
    for url in urls:
        response = client.get(url)
        if persona == ANON:
            assert_login_redirect(response, url)
        else:
            assert response.status_code == (200 if bureau else 403), (persona, url)
    post = client.post(urls[0], {"year": "2020", "file": upload(xlsx(GOOD))})
    response = client.post(confirm)
    if bureau:
        assert post.status_code == 302 and response.status_code == 302
        assert Village.objects.get(pk=world["meilin"].pk).is_revolutionary_base_village
    else:
        assert post.status_code in (302, 403) and response.status_code in (302, 403)
        assert persona != NO_ROLE or post.status_code == 403
        assert registry_snapshot() == before
        assert BaseVillageList.objects.count() == 1


def test_upload_preview_and_confirm_by_clicking(world, users, client):
    client.force_login(users[Role.BUREAU_OFFICIAL])
    home = body(client.get("/"))
    assert reverse("inspections:base-villages") in home  # the menu of the bureau's home
    villages = body(client.get(reverse("admin:households_village_changelist")))
    assert f'href="{reverse("inspections:base-villages")}"' in villages  # and the villages page
    response = client.post(
        reverse("inspections:base-villages"),
        {"year": "2020", "batch": "省定", "file": upload(xlsx([*GOOD, [3, "新桥镇", "350881100299", "无此村"]]))},
    )
    preview_url = response.url
    page = body(client.get(preview_url))
    assert "350881100299" in page and "Confirm the list" not in page and "确认名单" not in page
    response = client.post(
        reverse("inspections:base-villages"), {"year": "2020", "batch": "省定", "file": upload(xlsx(GOOD))}
    )
    page = body(client.get(response.url))
    assert 'action="' + reverse("inspections:base-village-confirm", args=[BaseVillageList.objects.first().pk]) in page
    client.post(reverse("inspections:base-village-confirm", args=[BaseVillageList.objects.first().pk]))
    page = body(client.get(reverse("inspections:base-villages")))
    assert "梅林村" in page and "东坑村" in page and "旧基点村" not in page


def test_the_survey_revisit_asks_the_grade_on_the_township_form(world, users, client):
    base_villages.confirm_list(actor=users[Role.BUREAU_ADMIN], base_list=load(users[Role.BUREAU_ADMIN]))
    revisit = Revisit.objects.get(campaign__kind=Campaign.Kind.BASE_VILLAGE, dwelling=world["surveyed_house"])
    client.force_login(users[Role.TOWNSHIP_STAFF])
    listing = body(client.get(reverse("inspections:revisits")))
    assert reverse("inspections:revisit", args=[revisit.pk]) in listing
    assert 'name="assessed_grade"' in body(client.get(reverse("inspections:revisit", args=[revisit.pk])))
    response = client.post(
        reverse("inspections:revisit", args=[revisit.pk]),
        {"visited_on": "2026-12-01", "still_lived_in": "yes", "assessed_grade": "C", "outcome": "repair"},
    )
    assert response.status_code == 302
    assert Household.objects.get(pk=world["surveyed"].pk).status == Household.Status.ACTIVE


@pytest.mark.parametrize("size", [2, 40])
def test_query_counts_of_the_import(world, admin, xinqiao, django_assert_num_queries, size):
    """The preview reads the villages in one query whatever the number of rows; confirming is the same number of
    statements for 2 villages as for 40 (set-based marking and history; the survey's houses in one INSERT … SELECT)."""
    extra = [VillageFactory(township=xinqiao, name=f"外村{n}", code=f"3508811003{n:02d}") for n in range(size - 2)]
    for village in extra:
        DwellingFactory(household=HouseholdFactory(village=village, status=Household.Status.UNREGISTERED))
    rows = GOOD + [[n, "新桥镇", village.code, village.name] for n, village in enumerate(extra)]
    admin.has_perm("inspections.add_basevillagelist")  # the permissions, read once per user
    # the savepoint pair, the villages by code, the marked villages, the insert
    with django_assert_num_queries(5):
        base_list = load(admin, rows)
    assert not base_list.refused
    with django_assert_num_queries(31):
        done = base_villages.confirm_list(actor=admin, base_list=base_list)
    assert done["marked"] == size - 1 and done["revisits"] == size + 2


def test_the_survey_revisits_count_on_the_township_home(world, users):
    """「对31个省定革命基点村群众的住房情况组织一次排查认定」 is the townships' work: their home's revisits to do count the
    survey's houses in their township, the houses of households not yet registered included."""
    from housing_safety.workspace import todos_for

    def to_do(user) -> int:
        lines = [todo for _group, todos in todos_for(user, D(2026, 12, 7)) for todo in todos]
        return next(todo.count for todo in lines if str(todo.label) in ("Revisits to do", "待回访"))

    staff = users[Role.TOWNSHIP_STAFF]  # 新桥镇: 梅林村's three houses are its
    before = to_do(staff)
    base_villages.confirm_list(actor=users[Role.BUREAU_ADMIN], base_list=load(users[Role.BUREAU_ADMIN]))
    assert to_do(staff) == before + 3


def test_only_the_base_village_survey_takes_households_not_yet_registered(world, admin):
    """The quarterly revisit and any other campaign stay with covered households (建档立卡 comes first)."""
    from inspections.services import launch_campaign

    campaign = Campaign.objects.create(
        name="台风后排查", kind=Campaign.Kind.POST_DISASTER, starts_on=D(2026, 8, 1), due_on=D(2026, 8, 31),
        occupied_only=False,
    )  # fmt: skip
    launch_campaign(actor=admin, campaign=campaign)
    households = set(campaign.revisits.values_list("dwelling__household__status", flat=True))
    assert households == {Household.Status.ACTIVE}


def test_appraisals_recorded_together_register_too(world, admin):
    from inspections.services import record_appraisals

    dangerous = dict(
        foundation="c", load_bearing_walls="c", timber_frame="c", roof_truss="c", floor_roof_slab="c", grade="C",
        recommendation="repair",
    )  # fmt: skip
    base_villages.confirm_list(actor=admin, base_list=load(admin))
    record_appraisals(
        actor=admin,
        appraisals=[
            AppraisalFactory.build(dwelling=world["surveyed_house"], **dangerous),
            AppraisalFactory.build(dwelling=world["elsewhere_house"]),  # grade B: stays not registered
        ],
    )
    statuses = dict(Household.objects.filter(status__in=["active", "unregistered"]).values_list("pk", "status"))
    assert statuses[world["surveyed"].pk] == "active"
    assert statuses[world["elsewhere_house"].household_id] == "unregistered"
    assert BaseVillageRegistration.objects.count() == 1


def test_query_counts_of_the_base_villages_page(world, users, client, django_assert_num_queries, xinqiao):
    """Absolute, with more villages and lists than a small demo: the page reads its tables in fixed queries."""
    admin = users[Role.BUREAU_ADMIN]
    for n in range(12):
        village = VillageFactory(township=xinqiao, name=f"多村{n}", code=f"3508811004{n:02d}")
        DwellingFactory(household=HouseholdFactory(village=village, status=Household.Status.UNREGISTERED))
    rows = [HEADER] + [[n, "新桥镇", f"3508811004{n:02d}", f"多村{n}"] for n in range(12)]
    base_villages.confirm_list(actor=admin, base_list=load(admin, rows))
    for _ in range(3):
        load(admin)
    client.force_login(users[Role.BUREAU_OFFICIAL])
    url = reverse("inspections:base-villages")
    client.get(url)  # warm: the session, the permissions, the shell's identity
    # session, user, the campaign, the villages, the survey per village, the registrations per village, the lists'
    # count and page, the registrations (the audit), and the shell's notices
    with django_assert_num_queries(11):
        response = client.get(url)
    assert response.status_code == 200 and body(response).count("多村") == 12
