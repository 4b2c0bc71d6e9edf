"""Departments' lists carry the household's poverty state (issue 24): in the category cell, '建档立卡贫困户（新致贫）',
or in a column of its own; the state is recorded under the rules of what a list may change."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from households.models import ChangeProposal, Household, ListRow, Unit

from .factories import HouseholdFactory, VillageFactory, valid_id_number
from .test_department_lists import LISTED_ON, by_row, preview, xlsx

pytestmark = pytest.mark.usefixtures("chinese")
HEADER = ["姓名", "身份证号码", "乡镇", "村", "类别"]


@pytest.fixture
def liaison(personas):
    from housing_safety.access import Role

    return personas[Role.DEPARTMENT_LIAISON]


@pytest.fixture
def dongkeng(xinqiao):
    return VillageFactory(township=xinqiao, name="东坑村")


def ids(count: int) -> list[str]:
    return [valid_id_number(born=datetime.date(1960 + n, 1, 2)) for n in range(count)]


def test_the_state_in_the_category_cell_is_read_and_recorded(liaison, admin, poverty_office, dongkeng):
    """The plan: "动态新增各类贫困户危房改造任务（含新致贫的贫困户住房排查鉴定、危房改造）6月底前全面完成；脱贫的
    建档立卡贫困户和其他各类贫困户全面完成住房安全性评定". Newly poor and exited households are named by the plan,
    and the poverty office writes the state in the category cell: '建档立卡贫困户（新致贫）' is a category and a state,
    not an invalid row; full-width or ASCII parentheses, spaces, the year out of poverty in the cell."""
    a, b, c, d = ids(4)
    content = xlsx(
        [
            HEADER,
            ["张新致", a, "新桥镇", "东坑村", "建档立卡贫困户（新致贫）"],
            ["李脱贫", b, "新桥镇", "东坑村", "建档立卡贫困户 (2019年已脱贫)、低保户"],
            ["王未脱", c, "新桥镇", "东坑村", "建档立卡贫困户 （ 未脱贫 ）"],
            ["赵低保", d, "新桥镇", "东坑村", "低保户"],
        ]
    )
    department_list = preview(liaison, poverty_office, content)
    assert by_row(department_list, "outcome", "categories", "poverty_status", "poverty_exit_year") == {
        2: ("new", ",registered_poor,", "newly_poor", None),
        3: ("new", ",minimum_living,registered_poor,", "exited", 2019),
        4: ("new", ",registered_poor,", "not_exited", None),
        5: ("new", ",minimum_living,", "", None),
    }
    from households.department_lists import confirm_list

    confirm_list(actor=liaison, department_list=department_list)
    recorded = {
        h.head_name: (h.poverty_status, h.poverty_exit_year, h.newly_poor_on)
        for h in Household.objects.filter(village=dongkeng)
    }
    assert recorded == {
        "张新致": ("newly_poor", None, LISTED_ON),  # newly poor since the list's date
        "李脱贫": ("exited", 2019, None),
        "王未脱": ("not_exited", None, None),
        "赵低保": ("", None, None),
    }
    assert Household.history.filter(head_name="张新致").first().poverty_status == "newly_poor"


def test_the_state_in_its_own_column_with_the_year_in_another(liaison, poverty_office, dongkeng):
    a, b = ids(2)
    content = xlsx(
        [
            [*HEADER, "贫困户状态", "脱贫年度"],
            ["李脱贫", a, "新桥镇", "东坑村", "建档立卡贫困户", "已脱贫", "2018"],
            ["孙返贫", b, "新桥镇", "东坑村", "建档立卡贫困户", "新致贫", None],
        ]
    )
    department_list = preview(liaison, poverty_office, content)
    assert by_row(department_list, "outcome", "poverty_status", "poverty_exit_year") == {
        2: ("new", "exited", 2018),
        3: ("new", "newly_poor", None),
    }


def test_an_unknown_state_is_refused_row_by_row_in_the_clerks_terms(liaison, poverty_office, dongkeng):
    """Only the row with the unknown state is invalid, with the reason naming the cell and the states one may write."""
    a, b, c, d = ids(4)
    content = xlsx(
        [
            [*HEADER, "帮扶状态"],
            ["张某某", a, "新桥镇", "东坑村", "建档立卡贫困户（某某）", None],
            ["李好的", b, "新桥镇", "东坑村", "建档立卡贫困户（新致贫）", None],
            ["王列错", c, "新桥镇", "东坑村", "建档立卡贫困户", "待定"],
            ["赵无年", d, "新桥镇", "东坑村", "建档立卡贫困户（已脱贫）", None],
        ]
    )
    department_list = preview(liaison, poverty_office, content)
    known = "未脱贫、已脱贫、新致贫、脱贫不稳定"
    assert by_row(department_list, "outcome", "errors") == {
        2: ("invalid", [["类别", f"类别“建档立卡贫困户（某某）”中的“某某”不是已知的帮扶状态（可填：{known}）。"]]),
        3: ("new", []),
        4: ("invalid", [["帮扶状态", f"“待定”不是已知的帮扶状态（可填：{known}）。"]]),
        5: (
            "invalid",
            [
                [
                    "脱贫年度",
                    "“已脱贫”须写明脱贫年度：可在单元格中写作“建档立卡贫困户（2019年脱贫）”，或另加一列“脱贫年度”。",
                ]
            ],
        ),
    }


def confirm_mixed(liaison, poverty_office, dongkeng):
    """The department's own household: the state is applied like its name and phone. A household registered by
    another (a township, another department): the list adds its categories only; the state goes to the township as
    a change proposal, which, accepted, records it (with the date the list was sent for a newly poor household)."""
    own_id, other_id = ids(2)
    own = HouseholdFactory(
        village=dongkeng, head_name="林自家", id_number=own_id, source=poverty_office, poverty_status="not_exited"
    )
    civil_affairs = Unit.objects.get(name="漳平市民政局")
    other = HouseholdFactory(village=dongkeng, head_name="陈别家", id_number=other_id, source=civil_affairs)
    content = xlsx(
        [
            HEADER,
            ["林自家", own_id, "新桥镇", "东坑村", "建档立卡贫困户（2020年脱贫）"],
            ["陈别家", other_id, "新桥镇", "东坑村", "建档立卡贫困户（新致贫）"],
        ]
    )
    department_list = preview(liaison, poverty_office, content)
    assert by_row(department_list, "outcome", "changes", "proposed") == {
        2: ("changed", {"poverty_status": ["not_exited", "exited"], "poverty_exit_year": [None, 2020]}, {}),
        3: (
            "registered",
            {},
            {"poverty_status": ["", "newly_poor"], "newly_poor_on": [None, f"{LISTED_ON:%Y-%m-%d}"]},
        ),
    }
    from households.department_lists import confirm_list
    from households.services import decide_change_proposal

    confirm_list(actor=liaison, department_list=department_list)
    own.refresh_from_db()
    other.refresh_from_db()
    assert (own.poverty_status, own.poverty_exit_year) == ("exited", 2020)
    assert other.poverty_status == ""  # not the poverty office's household: proposed, not applied
    proposal = ChangeProposal.objects.get(household=other)
    assert department_list.rows.get(row_number=3).outcome == ListRow.Outcome.REGISTERED
    return proposal, other, decide_change_proposal


def test_the_state_follows_the_rules_of_what_a_list_may_change(liaison, poverty_office, dongkeng):
    confirm_mixed(liaison, poverty_office, dongkeng)


def test_an_accepted_proposal_records_the_state(liaison, poverty_office, dongkeng, staff):
    proposal, other, decide = confirm_mixed(liaison, poverty_office, dongkeng)
    decide(actor=staff, proposal=proposal, accept=True)
    other.refresh_from_db()
    assert (other.poverty_status, other.newly_poor_on) == ("newly_poor", LISTED_ON)


@pytest.mark.django_db
def test_the_household_page_shows_the_state(client, staff, dongkeng):
    household = HouseholdFactory(village=dongkeng, poverty_status="exited", poverty_exit_year=2019)
    client.force_login(staff)
    page = client.get(reverse("inspections:household", args=[household.pk])).content.decode()
    assert "已脱贫（2019）" in page
