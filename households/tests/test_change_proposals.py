"""A department's list stays inside the department's reach (issue 23, finding 1): a household registered by a township
or another department is only seen as registered, only gets the list's categories, and every other difference
becomes a change proposal that the township holding the household (the bureau for a move) accepts or rejects."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from households.department_lists import confirm_list, reconciliation
from households.models import ChangeProposal, DepartmentList, Household
from households.services import decide_change_proposal
from housing_safety.access import Role

from .factories import HouseholdFactory, VillageFactory, make_user, valid_id_number
from .test_department_lists import HEADER, by_row, csv_bytes, preview, xlsx

pytestmark = pytest.mark.usefixtures("chinese")


@pytest.fixture
def liaison(personas):
    return personas[Role.DEPARTMENT_LIAISON]


@pytest.fixture
def dongkeng(xinqiao):
    return VillageFactory(township=xinqiao, name="东坑村")


@pytest.fixture
def xishan(shuangyang):
    return VillageFactory(township=shuangyang, name="西山村")


@pytest.fixture
def shuangyang_staff(shuangyang):
    return make_user(Role.TOWNSHIP_STAFF, townships=[shuangyang])


@pytest.fixture
def deceased(xishan, db):
    """A 双洋镇 household of another department, removed by its township: 404 for the liaison everywhere."""
    from households.models import Unit

    return HouseholdFactory(
        head_name="陈水生",
        village=xishan,
        phone="13900000077",
        members_count=2,
        categories=["minimum_living"],
        source=Unit.objects.get(name="漳平市民政局"),
        status=Household.Status.REMOVED,
        removed_on=datetime.date(2025, 6, 1),
        removal_reason="死亡",
    )


def record(household) -> tuple:
    household.refresh_from_db()
    return (
        household.head_name,
        household.phone,
        household.village_id,
        household.members_count,
        household.source_id,
        household.status,
        household.removed_on,
        household.removal_reason,
    )


def text(response) -> str:
    return response.content.decode()


def upload_csv(client, unit, rows) -> DepartmentList:
    content = csv_bytes([HEADER, *rows], "utf-8")
    response = client.post(
        "/lists/", {"unit": unit.pk, "listed_on": "2024-05-01", "file": SimpleUploadedFile("名单.csv", content)}
    )
    assert response.status_code == 302, response
    return DepartmentList.objects.latest("pk")


def test_a_liaisons_list_cannot_read_or_rewrite_a_household_outside_the_department(
    client, liaison, poverty_office, deceased, dongkeng
):
    """The reported attack, through the pages: the preview shows only that the household is registered, and
    confirming neither renames, moves, reactivates nor takes it over; the differences wait for the bureau."""
    before = record(deceased)
    history = deceased.history.count()
    client.force_login(liaison)
    attack = ["李四", deceased.id_number, "13912345678", "新桥镇", "东坑村", "低保户、五保户", "5"]
    department_list = upload_csv(client, poverty_office, [attack])

    for tab in ("changed", "registered", "unchanged", "suggested", "invalid", "missing", "new"):
        page = text(client.get(f"/lists/{department_list.pk}/?show={tab}"))
        for ours in ("陈水生", "13900000077", "7077", "西山村", "死亡", "2025-06-01", "民政局", "已移出"):
            assert ours not in page, (tab, ours)
    registered = text(client.get(f"/lists/{department_list.pk}/?show=registered"))
    assert "已登记：陈*生 · 双洋镇" in registered
    assert by_row(department_list, "outcome") == {2: "registered"}

    response = client.post(f"/lists/{department_list.pk}/confirm/")

    assert response.status_code == 302
    assert record(deceased) == before
    assert sorted(deceased.categories.values_list("code", flat=True)) == ["extremely_poor", "minimum_living"]
    assert deceased.history.count() == history + 1  # the category, with the list named
    assert client.get(f"/admin/households/household/{deceased.pk}/change/").status_code == 404
    proposal = ChangeProposal.objects.get()
    assert (proposal.household, proposal.township, proposal.status) == (deceased, None, "pending")  # a move: bureau
    assert set(proposal.changes) == {"head_name", "phone", "village", "members_count", "status"}
    assert proposal.changes["status"] == ["removed", "active"]


def test_the_preview_answers_alike_whatever_our_record_of_a_household_registered_elsewhere_holds(
    client, liaison, poverty_office, deceased
):
    """Our values cannot be guessed: a row equal to our record and a row that differs in every field read the same."""
    client.force_login(liaison)
    same = upload_csv(
        client, poverty_office, [["陈水生", deceased.id_number, "13900000077", "双洋镇", "西山村", "", "2"]]
    )
    other = upload_csv(
        client, poverty_office, [["王五", deceased.id_number, "13911112222", "双洋镇", "西山村", "", "4"]]
    )

    def answer(department_list):
        counts = {k: v for k, v in department_list.counts.items() if k not in ("header", "columns")}
        page = text(client.get(f"/lists/{department_list.pk}/?show=registered"))
        cells = [cell.strip() for cell in re.findall(r"<td[^>]*>\s*(已登记：[^<]*)", page)]
        return counts, cells

    assert answer(same) == answer(other) == (
        {"new": 0, "changed": 0, "unchanged": 0, "suggested": 0, "registered": 1, "invalid": 0, "rows": 1,
         "missing": 0},
        ["已登记：陈*生 · 双洋镇"],
    )  # fmt: skip
    [department] = reconciliation(liaison)
    assert department["fields"] == []  # which fields differ is not the department's to learn


def test_the_bureau_sees_the_differences_of_a_household_registered_elsewhere(
    client, admin, liaison, poverty_office, deceased
):
    client.force_login(liaison)
    upload_csv(client, poverty_office, [["王五", deceased.id_number, "13911112222", "双洋镇", "西山村", "", "4"]])
    [department] = reconciliation(admin)
    assert dict(department["fields"]) == {"head_name": 1, "phone": 1, "members_count": 1, "status": 1}


def test_an_unregistered_id_is_new_and_the_liaison_creates_it(client, liaison, poverty_office, dongkeng):
    client.force_login(liaison)
    id_number = valid_id_number(born=datetime.date(1980, 9, 9))
    department_list = upload_csv(client, poverty_office, [["周九", id_number, "", "新桥镇", "东坑村", "", "3"]])
    assert by_row(department_list, "outcome") == {2: "new"}
    client.post(f"/lists/{department_list.pk}/confirm/")
    assert Household.objects.get(id_number=id_number).source == poverty_office


def test_the_departments_own_household_is_updated_within_its_township_only(
    liaison, poverty_office, dongkeng, xinqiao, shuangyang, xishan
):
    other_village = VillageFactory(township=xinqiao, name="西坑村")
    own = HouseholdFactory(
        head_name="张三", village=dongkeng, phone="13900000001", members_count=2, source=poverty_office
    )
    mover = HouseholdFactory(head_name="李四", village=dongkeng, members_count=2, source=poverty_office)
    department_list = preview(liaison, poverty_office, xlsx([
        HEADER,
        ["张三丰", own.id_number, "13912345678", "新桥镇", "西坑村", None, "3"],
        ["李四", mover.id_number, None, "双洋镇", "西山村", None, None],
    ]))  # fmt: skip

    applied = confirm_list(actor=liaison, department_list=department_list)

    own.refresh_from_db()
    assert (own.head_name, own.phone, own.village, own.members_count) == ("张三丰", "13912345678", other_village, 3)
    mover.refresh_from_db()
    assert mover.village == dongkeng  # a move to another township is the bureau's decision
    assert applied == {"created": 0, "updated": 1, "categories_added": 0, "proposals": 1}
    proposal = ChangeProposal.objects.get()
    assert (proposal.household, proposal.township, proposal.changes) == (
        mover,
        None,
        {"village": [dongkeng.pk, xishan.pk]},
    )


# Deciding proposals -------------------------------------------------------------------------------------------


@pytest.fixture
def proposals(liaison, poverty_office, deceased, dongkeng):
    """One proposal for 双洋镇 (take the removed household back, new phone) and one for the bureau (a move)."""
    mover = HouseholdFactory(head_name="王五", village=dongkeng, source=None)
    department_list = preview(liaison, poverty_office, xlsx([
        HEADER,
        ["陈水生", deceased.id_number, "13912345678", "双洋镇", "西山村", None, None],
        ["王五", mover.id_number, None, "双洋镇", "西山村", None, None],
    ]))  # fmt: skip
    confirm_list(actor=liaison, department_list=department_list)
    return ChangeProposal.objects.get(household=deceased), ChangeProposal.objects.get(household=mover)


def test_the_township_sees_its_proposals_and_accepts_one_with_history(client, shuangyang_staff, proposals, deceased):
    local, move = proposals
    client.force_login(shuangyang_staff)
    home = text(client.get("/field/"))
    assert 'href="/lists/proposals/"' in home  # reached by clicking
    page = text(client.get("/lists/proposals/"))
    assert f'data-proposal="{local.pk}"' in page and f'data-proposal="{move.pk}"' not in page
    cells = re.findall(r'<(?:th scope="row"|td data-label="[^"]*")>([^<]*)</t[hd]>', page)
    assert cells == ["联系电话", "139****0077", "139****5678", "状态", "已移出", "在册"]
    assert "139****5678" in page and "13912345678" not in page  # masked until the household is opened

    response = client.post(f"/lists/proposals/{local.pk}/decide/", {"decision": "accept", "reason": ""})

    assert response.status_code == 302
    deceased.refresh_from_db()
    assert (deceased.status, deceased.removed_on, deceased.removal_reason, deceased.phone) == (
        "active",
        None,
        "",
        "13912345678",
    )
    assert (
        deceased.history.first().history_change_reason
        == f"变更建议 #{local.pk}（部门名单 #{local.department_list_id}）"
    )
    assert deceased.history.first().history_user == shuangyang_staff
    local.refresh_from_db()
    assert (local.status, local.decided_by) == ("accepted", shuangyang_staff)
    again = client.post(f"/lists/proposals/{local.pk}/decide/", {"decision": "reject", "reason": "重复"})
    assert again.status_code == 302
    local.refresh_from_db()
    assert local.status == "accepted"


def test_rejecting_needs_a_reason_and_changes_nothing(client, shuangyang_staff, proposals, deceased):
    local, _move = proposals
    before = record(deceased)
    client.force_login(shuangyang_staff)

    client.post(f"/lists/proposals/{local.pk}/decide/", {"decision": "reject", "reason": "  "})
    local.refresh_from_db()
    assert local.status == "pending"
    with pytest.raises(ValidationError) as refused:
        decide_change_proposal(actor=shuangyang_staff, proposal=local, accept=False, reason="")
    assert refused.value.messages == ["请填写驳回理由。"]

    client.post(f"/lists/proposals/{local.pk}/decide/", {"decision": "reject", "reason": "经核实该户已死亡"})
    local.refresh_from_db()
    assert (local.status, local.decision_reason) == ("rejected", "经核实该户已死亡")
    assert record(deceased) == before


@pytest.mark.parametrize("role", ["other_township", Role.DEPARTMENT_LIAISON, Role.BUREAU_OFFICIAL, Role.HELPER])
def test_only_the_holding_township_and_the_bureau_decide(client, personas, proposals, deceased, role):
    local, _move = proposals
    before = record(deceased)
    user = personas[Role.TOWNSHIP_STAFF] if role == "other_township" else personas[role]
    client.force_login(user)
    listing = client.get("/lists/proposals/")
    decide = client.post(f"/lists/proposals/{local.pk}/decide/", {"decision": "accept"})
    if role == "other_township":
        assert listing.status_code == 200 and f'data-proposal="{local.pk}"' not in text(listing)
        assert decide.status_code == 404
    else:
        assert (listing.status_code, decide.status_code) == (403, 403)
    assert record(deceased) == before
    assert ChangeProposal.objects.filter(status="pending").count() == 2


def test_the_bureau_decides_a_move_between_townships(client, admin, proposals, xishan):
    _local, move = proposals
    client.force_login(admin)
    page = text(client.get("/lists/proposals/"))
    assert "跨乡镇迁移，由住建局决定。" in page
    client.post(f"/lists/proposals/{move.pk}/decide/", {"decision": "accept", "reason": "已核实"})
    move.refresh_from_db()
    assert move.status == "accepted"
    assert (move.household.village, move.household.source) == (xishan, move.department_list.unit)


def test_the_proposal_list_costs_the_same_queries_for_one_and_many(
    client, admin, liaison, poverty_office, dongkeng, django_assert_num_queries
):
    def listed(count):
        households = [HouseholdFactory(village=dongkeng, source=None) for _n in range(count)]
        rows = [[f"户{n}", h.id_number, None, None, None, None, "7"] for n, h in enumerate(households)]
        confirm_list(actor=liaison, department_list=preview(liaison, poverty_office, xlsx([HEADER, *rows])))

    client.force_login(admin)
    listed(1)
    client.get("/lists/proposals/")  # warm-up: the shell's unread-notice badge is counted once, then cached
    with CaptureQueriesContext(connection) as one:
        client.get("/lists/proposals/")
    listed(12)
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get("/lists/proposals/")
    assert text(response).count("data-proposal=") == 13


@pytest.mark.parametrize("listed_on", ["0001-01-01", "1900-01-01", "9999-12-31"])
def test_an_implausible_list_date_is_refused_in_chinese(client, liaison, poverty_office, dongkeng, listed_on):
    client.force_login(liaison)
    content = csv_bytes(
        [HEADER, ["周九", valid_id_number(born=datetime.date(1980, 9, 9)), "", "新桥镇", "东坑村", "", "3"]], "utf-8"
    )
    response = client.post(
        "/lists/", {"unit": poverty_office.pk, "listed_on": listed_on, "file": SimpleUploadedFile("名单.csv", content)}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["listed_on"][0].startswith(("日期", "该日期"))
    assert not DepartmentList.objects.exists()


def test_an_implausible_birth_date_column_is_an_invalid_row(liaison, poverty_office, dongkeng):
    header = [*HEADER, "出生日期"]
    department_list = preview(
        liaison, poverty_office, xlsx([header, ["王五", None, None, "新桥镇", "东坑村", None, None, "1850-01-01"]])
    )
    [(column, reason)] = department_list.rows.get().errors
    assert column == "出生日期" and "1850-01-01" in reason


def test_a_confirm_with_odd_digits_in_the_accepted_rows_is_no_error(client, liaison, poverty_office, dongkeng):
    client.force_login(liaison)
    department_list = upload_csv(
        client,
        poverty_office,
        [["周九", valid_id_number(born=datetime.date(1980, 9, 9)), "", "新桥镇", "东坑村", "", "3"]],
    )
    response = client.post(f"/lists/{department_list.pk}/confirm/", {"accept": ["²", "１２", "9" * 25, "-1"]})
    assert response.status_code == 302
    department_list.refresh_from_db()
    assert department_list.status == "confirmed"
