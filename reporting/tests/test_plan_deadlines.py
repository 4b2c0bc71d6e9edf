"""Issue 24, faithful to the plan: a dangerous house has a deadline, new households' renovations are due by 30 June,
and every covered household's house gets its placard (制牌上墙), whatever its status, by 30 June.

Each rule is read through the shared selectors, so the late lists, the dashboard, the daily sweep and the
consolidated report agree: the tests look at each of them."""

from __future__ import annotations

import datetime
import html

import pytest
from django.urls import reverse
from django.utils import timezone

from households.models import Unit
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory
from housing_safety.access import SYSTEM
from inspections import selectors as safety
from inspections import services as inspection_services
from inspections.models import Placard
from inspections.tests.factories import SecuredHousingFactory
from rectification import selectors as rectification
from rectification.models import CaseStatus
from rectification.tests.factories import dangerous_dwelling, safe_appraisal, standards
from reporting import selectors, services
from reporting.models import OverdueItem, OverdueKind

from .test_figures_and_dashboard import open_case_on, walk_dated, walk_dates

pytestmark = [pytest.mark.django_db]
D = datetime.date


def late_of(kind: str, day: datetime.date, user=SYSTEM) -> dict:
    """{object id: (label, due on, days late)} of one kind of the late lists."""
    [group] = [group for group in selectors.late_items(user, day) if group["kind"] == kind]
    return {item["object_id"]: (item["label"], item["due_on"], item["days"]) for item in group["items"]}


def text(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.content.decode())


# 1. 一经鉴定为危房，即行整改 --------------------------------------------------------------------------------------


@pytest.fixture
def dangerous(xinqiao, staff):
    """Three D houses appraised on 1 October 2026 in 新桥镇: 陈无案 (nothing done), 吴有案 (a renovation case opened
    on 10 October), 孙保障 (the family lives safely elsewhere since 5 October)."""
    standards()
    village = VillageFactory(township=xinqiao, name="东坑村")
    houses = {}
    for name in ("陈无案", "吴有案", "孙保障"):
        household = HouseholdFactory(village=village, head_name=name, registered_on=D(2026, 3, 1))
        houses[name] = dangerous_dwelling(household, grade="D", appraised_on=D(2026, 10, 1))
    open_case_on(staff, houses["吴有案"], D(2026, 10, 10))
    SecuredHousingFactory(household=houses["孙保障"].household, since=D(2026, 10, 5))
    return houses


def test_a_dangerous_house_without_action_is_late_after_the_set_days(dangerous, settings):
    """The plan, 信息共享机制: "上半年完成新增危房改造扫尾任务，之后动态新增贫困户住房一经鉴定为危房，即行整改".
    A C/D house of a covered household with neither a renovation case nor safe housing elsewhere within
    DANGEROUS_ACTION_DAYS (30) of its appraisal is late: 1 October + 30 days = 31 October, late from 1 November."""
    late_house = dangerous["陈无案"]
    assert late_of(OverdueKind.DANGEROUS, D(2026, 10, 31)) == {}
    assert late_of(OverdueKind.DANGEROUS, D(2026, 11, 1)) == {
        late_house.pk: ("陈无案 · 东坑村 · D", D(2026, 10, 31), 1)
    }
    _rows, totals = selectors.township_table(SYSTEM, D(2026, 11, 1))
    assert (totals["dangerous_without_case"], totals["dangerous_late"]) == (2, 1)  # 孙保障 has no case, but is safe

    settings.DANGEROUS_ACTION_DAYS = 60  # the bureau's setting, not a number in the code
    assert late_of(OverdueKind.DANGEROUS, D(2026, 11, 1)) == {}
    assert late_of(OverdueKind.DANGEROUS, D(2026, 12, 1))[late_house.pk][1:] == (D(2026, 11, 30), 1)


def test_a_late_dangerous_house_reaches_the_list_the_dashboard_the_sweep_and_the_report(
    dangerous, client, official, staff, django_capture_on_commit_callbacks
):
    """ "即行整改": the late house is on the dangerous-houses list's late filter (with its action date), the
    dashboard's late lists, the daily sweep's overdue items (the township is told) and the consolidated report's
    overdue sheet, like an overdue appraisal."""
    late_house, day = dangerous["陈无案"], D(2026, 12, 1)
    client.force_login(staff)
    page = text(client.get(reverse("rectification:dangerous-without-case"), {"late": "1"}))
    assert "陈无案" in page and "孙保障" not in page and "吴有案" not in page
    assert "2026-10-31" in page and "已逾期" in page
    everything = text(client.get(reverse("rectification:dangerous-without-case")))
    assert "陈无案" in everything and "孙保障" in everything  # without a case, but living safely elsewhere: not late

    client.force_login(official)
    dashboard = text(client.get(reverse("reporting:dashboard")))
    assert "危房逾期未整改" in dashboard and "陈无案 · 东坑村 · D" in dashboard

    with django_capture_on_commit_callbacks(execute=True):
        counts = services.sweep_deadlines(day=day)
    assert counts[OverdueKind.DANGEROUS] == 1
    item = OverdueItem.objects.get(kind=OverdueKind.DANGEROUS)
    assert (item.object_id, item.due_on, item.unit.township_id) == (late_house.pk, D(2026, 10, 31), item.township_id)
    assert item.announced or not Unit.objects.get(pk=item.unit_id).email  # told, when someone can receive it

    sheet = [(kind, item["label"]) for kind, item in selectors.iter_late_items(SYSTEM, day)]
    assert (str(OverdueKind.DANGEROUS.label), "陈无案 · 东坑村 · D") in sheet


# 2. 动态新增各类贫困户危房改造任务 6月底前全面完成 ------------------------------------------------------------------


def test_new_households_renovations_are_due_by_30_june(xinqiao, staff, admin):
    """The plan, task 一: "动态新增各类贫困户危房改造任务（含新致贫的贫困户住房排查鉴定、危房改造）6月底前全面完成".
    A household registered by 30 June has its renovation due that 30 June; one registered after June, the next
    30 June. A house found dangerous after that deadline falls under "即行整改" (the action deadline), not this
    one; an accepted renovation is done."""
    standards()
    village = VillageFactory(township=xinqiao, name="南洋村")

    def case_of(name: str, registered_on: datetime.date, found_on: datetime.date, applied_on: datetime.date):
        household = HouseholdFactory(village=village, head_name=name, registered_on=registered_on)
        return open_case_on(staff, dangerous_dwelling(household, appraised_on=found_on), applied_on)

    spring = case_of("春登记", D(2026, 3, 1), D(2026, 3, 20), D(2026, 4, 1))
    autumn = case_of("秋登记", D(2026, 8, 1), D(2026, 8, 15), D(2026, 9, 1))
    found_later = case_of("后发现", D(2026, 3, 1), D(2026, 9, 1), D(2026, 9, 5))
    done = case_of("已验收", D(2026, 3, 1), D(2026, 3, 20), D(2026, 4, 1))
    walk_dated(done, walk_dates(D(2026, 4, 1), D(2026, 6, 20)), township_user=staff, bureau_user=admin)

    assert rectification.renovation_due_on(D(2026, 3, 1)) == D(2026, 6, 30)
    assert rectification.renovation_due_on(D(2026, 8, 1)) == D(2027, 6, 30)
    assert late_of(OverdueKind.RENOVATION, D(2026, 6, 30)) == {}
    late = late_of(OverdueKind.RENOVATION, D(2026, 7, 1))
    assert late == {spring.pk: (f"{spring.number} 春登记 · {CaseStatus.APPLIED.label}", D(2026, 6, 30), 1)}
    assert autumn.pk not in late_of(OverdueKind.RENOVATION, D(2027, 6, 30))
    assert set(late_of(OverdueKind.RENOVATION, D(2027, 7, 1))) == {spring.pk, autumn.pk}
    assert found_later.pk not in late_of(OverdueKind.RENOVATION, D(2027, 7, 1))

    _rows, totals = selectors.township_table(SYSTEM, D(2026, 7, 1))
    assert totals["renovations_late"] == 1


# 3. 6月底前完成贫困户房屋安全状况制牌上墙 -----------------------------------------------------------------------------


@pytest.fixture
def households(xinqiao, staff):
    """新桥镇 东坑村: 林安全 (A), 陈危房 (D, nothing done), 吴改造 (C, a case under way), 黄待鉴 (not yet
    appraised); all registered 1 March 2026, and 周新登 (not yet appraised) registered 5 July 2026."""
    standards()
    village = VillageFactory(township=xinqiao, name="东坑村")
    made = {}
    for name, registered_on in (
        ("林安全", D(2026, 3, 1)),
        ("陈危房", D(2026, 3, 1)),
        ("吴改造", D(2026, 3, 1)),
        ("黄待鉴", D(2026, 3, 1)),
        ("周新登", D(2026, 7, 5)),
    ):
        made[name] = HouseholdFactory(village=village, head_name=name, registered_on=registered_on)
    safe_appraisal(DwellingFactory(household=made["林安全"]), on=D(2026, 4, 1))
    dangerous_dwelling(made["陈危房"], grade="D", appraised_on=D(2026, 11, 1))
    open_case_on(staff, dangerous_dwelling(made["吴改造"], grade="C", appraised_on=D(2026, 4, 1)), D(2026, 4, 10))
    DwellingFactory(household=made["黄待鉴"])
    DwellingFactory(household=made["周新登"])
    return made


def test_every_covered_household_gets_a_placard_that_reads_its_status(households, staff, client):
    """The plan, task 一: "6月底前完成贫困户房屋安全状况制牌上墙": the house's safety status, for every poor household,
    not only the safe ones. A safe house's placard reads 鉴定安全 and its grade; a dangerous one's 危房, its grade and
    the action under way (the case's type and step, or "即行整改" and the date it is due); a house not yet appraised
    reads 待鉴定 and the date its appraisal is due. The public check (/v/) shows the same, read live."""
    issued = inspection_services.issue_placards(actor=staff, households=list(households.values()))
    by_name = {placard.household.head_name: placard for placard in issued}
    assert set(by_name) == set(households)
    assert inspection_services.issue_placards(actor=staff, households=list(households.values())) == []  # once

    client.force_login(staff)
    printed = text(client.get(reverse("inspections:placard-print"), {"village": households["林安全"].village_id}))
    assert printed.count('class="placard"') == 5
    assert "鉴定安全" in printed and "危房" in printed and "待鉴定" in printed
    assert "即行整改，应于 2026-12-01 前落实改造" in printed  # appraised D on 1 November: 30 days
    assert "正在改造：修缮加固" in printed
    assert "待鉴定，应于 2026-04-01 前完成鉴定" in printed  # registered 1 March: one month

    public = text(client.get(reverse("placard-verify", args=[by_name["陈危房"].token])))
    assert "危房" in public and "即行整改" in public

    # Appraised at last: the 待鉴定 placard no longer certifies the house, a new one is issued with the grade.
    safe_appraisal(households["黄待鉴"].dwellings.get(), on=D(2026, 11, 20), grade="B")
    assert not safety.placard_is_current(by_name["黄待鉴"])
    [again] = inspection_services.issue_placards(actor=staff, households=[households["黄待鉴"]])
    assert (again.status, again.appraisal.grade) == ("appraised_safe", "B")


def test_placard_coverage_counts_every_covered_household_and_lists_the_late(households, staff, client):
    """ "6月底前完成贫困户房屋安全状况制牌上墙": coverage is placards on the wall over every covered household; a
    household registered by 30 June without its placard on the wall is late from 1 July (one registered after
    June has until the next 30 June), on the late lists and the dashboard."""
    issued = {
        p.household.head_name: p
        for p in inspection_services.issue_placards(actor=staff, households=list(households.values()))
    }
    for name in ("林安全", "陈危房"):
        inspection_services.record_placard_installation(
            actor=staff, placard=issued[name], installed_on=timezone.localdate()
        )
    day = D(2026, 12, 1)
    [row] = [row for row in safety.placard_coverage(staff, day) if row["installed"]]
    assert (row["covered"], row["installed"], row["share"], row["late"]) == (5, 2, 40, 2)  # 吴改造, 黄待鉴

    late = late_of(OverdueKind.PLACARD, day, staff)
    assert {label for label, _due, _days in late.values()} == {"吴改造 · 东坑村", "黄待鉴 · 东坑村"}
    assert {due for _label, due, _days in late.values()} == {D(2026, 6, 30)}
    assert late_of(OverdueKind.PLACARD, D(2027, 7, 1), staff).keys() == {
        households["吴改造"].pk,
        households["黄待鉴"].pk,
        households["周新登"].pk,
    }
    _rows, totals = selectors.township_table(staff, day)
    assert (totals["placard_households"], totals["placard_installed"], totals["placards_late"]) == (5, 2, 2)

    client.force_login(staff)
    page = text(client.get(reverse("inspections:placard-coverage")))
    assert "逾期未制牌上墙" in page
    listed = text(client.get(reverse("inspections:field"), {"placard": "late"}))
    assert "吴改造" in listed and "黄待鉴" in listed and "林安全" not in listed and "周新登" not in listed
    assert Placard.objects.filter(status="dangerous").exists()
