"""The pages of partner departments' lists: upload, the comparison's tabs, confirm with accepted suggestions, the
rows to fix, reconciliation, who may see and do what, masking, and the preview's query count."""

from __future__ import annotations

import datetime
import io
import re
import time
import zipfile

import openpyxl
import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile

from households.department_lists import preview_list
from households.identity import id_check_digit, mask_id_number
from households.models import ChangeProposal, DepartmentList, Household, ListRow, Unit
from housing_safety.access import Role
from housing_safety.models import PersonalDataAccess
from housing_safety.tests.kit import body

from .factories import HouseholdFactory, VillageFactory, valid_id_number
from .test_department_lists import HEADER, LISTED_ON, MATCH_HEADER, by_row, matching_rows, our_records, preview, xlsx

pytestmark = pytest.mark.usefixtures("chinese")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def liaison(personas):
    return personas[Role.DEPARTMENT_LIAISON]


@pytest.fixture
def civil_affairs(db):
    return Unit.objects.get(name="漳平市民政局")


@pytest.fixture
def dongkeng(xinqiao):
    return VillageFactory(township=xinqiao, name="东坑村")


@pytest.fixture
def xishan(shuangyang):
    return VillageFactory(township=shuangyang, name="西山村")


@pytest.fixture
def ours(poverty_office, civil_affairs, dongkeng, xishan):
    return our_records(poverty_office, civil_affairs, dongkeng, xishan)


def rows_shown(response) -> list[int]:
    return [int(number) for number in re.findall(r'data-row="(\d+)"', response.content.decode())]


@pytest.fixture
def matching_list(liaison, poverty_office, ours):
    return preview(liaison, poverty_office, xlsx(matching_rows(ours)))


@pytest.fixture
def other_list(admin, civil_affairs, dongkeng):
    id_number = valid_id_number(born=datetime.date(1990, 1, 1))
    return preview(admin, civil_affairs, xlsx([HEADER, ["甲", id_number, None, "新桥镇", "东坑村", None, None]]))


def list_urls(pk: int) -> list[str]:
    return [
        "/lists/",
        f"/lists/{pk}/",
        f"/lists/{pk}/?show=missing",
        f"/lists/{pk}/invalid.xlsx",
        "/lists/reconciliation/",
        "/lists/reconciliation.xlsx",
    ]


# Upload ----------------------------------------------------------------------------------------------------------


def test_upload_redirects_to_the_preview(client, liaison, poverty_office, ours):
    client.force_login(liaison)
    upload = SimpleUploadedFile("扶贫办名单.xlsx", xlsx(matching_rows(ours)))

    response = client.post("/lists/", {"unit": poverty_office.pk, "listed_on": "2024-05-01", "file": upload})

    department_list = DepartmentList.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/lists/{department_list.pk}/"
    assert (department_list.unit, department_list.listed_on, department_list.original_name) == (
        poverty_office,
        LISTED_ON,
        "扶贫办名单.xlsx",
    )
    assert (department_list.status, department_list.uploaded_by, department_list.counts["rows"]) == (
        "previewed",
        liaison,
        10,
    )

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert rows_shown(page) == [4]  # the department's own changed rows are shown first
    listing = client.get("/lists/")
    assert "扶贫办名单.xlsx" in body(listing)


def test_the_upload_form_offers_a_liaison_only_their_department(client, liaison, poverty_office, civil_affairs):
    client.force_login(liaison)
    response = client.get("/lists/")
    form = response.context["form"]
    assert list(form.fields["unit"].queryset) == [poverty_office]
    assert form.fields["unit"].initial == poverty_office

    upload = SimpleUploadedFile("名单.xlsx", xlsx([HEADER]))
    refused = client.post("/lists/", {"unit": civil_affairs.pk, "listed_on": "2024-05-01", "file": upload})
    assert refused.status_code == 200
    assert refused.context["form"].errors == {"unit": ["选择一个有效的选项： 该选择不在可用的选项中。"]}
    assert DepartmentList.objects.count() == 0


def test_an_unreadable_upload_shows_the_reason_in_chinese(client, liaison, poverty_office):
    client.force_login(liaison)
    upload = SimpleUploadedFile("名单.pdf", b"%PDF-1.4")

    response = client.post("/lists/", {"unit": poverty_office.pk, "listed_on": "2024-05-01", "file": upload})

    assert response.status_code == 200
    assert response.context["form"].errors == {"file": ["请上传 Excel 工作簿（.xlsx）或 CSV 文件。"]}
    assert "请上传 Excel 工作簿（.xlsx）或 CSV 文件。" in body(response)
    assert DepartmentList.objects.count() == 0
    assert ListRow.objects.count() == 0


def test_a_large_file_is_read_in_the_background(
    client,
    liaison,
    poverty_office,
    ours,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.LIST_INLINE_MAX_BYTES = 10
    client.force_login(liaison)
    upload = SimpleUploadedFile("名单.xlsx", xlsx(matching_rows(ours)))

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post("/lists/", {"unit": poverty_office.pk, "listed_on": "2024-05-01", "file": upload})

    department_list = DepartmentList.objects.get()
    assert response["Location"] == f"/lists/{department_list.pk}/"
    assert (department_list.status, department_list.rows.count()) == ("reading", 0)
    reading = client.get(response["Location"])
    assert '<meta http-equiv="refresh" content="3">' in body(reading)
    assert "<progress" in body(reading)
    assert 'name="accept"' not in body(reading)

    assert len(callbacks) == 1
    callbacks[0]()  # the broker delivers the task (Celery runs eagerly in tests)

    department_list.refresh_from_db()
    assert (department_list.status, department_list.rows_read, department_list.counts["rows"]) == ("previewed", 10, 10)
    assert department_list.rows_expected == 11  # the header and ten rows
    assert by_row(department_list, "outcome")[6] == "new"
    assert rows_shown(client.get(response["Location"])) == [4]


def test_a_large_file_uploaded_while_the_broker_is_down_is_kept_and_read_by_the_ten_minute_job(
    client, liaison, poverty_office, ours, settings, broker_down, caplog, django_capture_on_commit_callbacks
):
    from housing_safety.background import BROKER_DOWN_MESSAGE
    from housing_safety.models import DeferredTask
    from reporting.jobs import run_job

    settings.LIST_INLINE_MAX_BYTES = 10
    client.force_login(liaison)
    upload = SimpleUploadedFile("名单.xlsx", xlsx(matching_rows(ours)))
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post("/lists/", {"unit": poverty_office.pk, "listed_on": "2024-05-01", "file": upload})
    elapsed = time.monotonic() - started

    department_list = DepartmentList.objects.get()
    assert response["Location"] == f"/lists/{department_list.pk}/" and elapsed < 5, elapsed
    assert len(callbacks) == 1
    [warning] = [r.getMessage() for r in caplog.records if r.name == "housing_safety.background"]
    assert warning.startswith("Broker unreachable, households.tasks.read_department_list")
    assert (department_list.status, department_list.rows.count()) == ("reading", 0)
    deferred = DeferredTask.objects.get()
    assert (deferred.task, deferred.args) == ("households.tasks.read_department_list", [department_list.pk])
    reading = body(client.get(response["Location"]))
    assert str(BROKER_DOWN_MESSAGE) in reading and "<progress" in reading

    broker_down.conf.task_always_eager = True  # the broker is back: the ten-minute job's resent task runs
    assert run_job("send_pending_mail", datetime.date(2026, 12, 1)).endswith("tasks resent 1, still refused 0")
    department_list.refresh_from_db()
    assert (department_list.status, department_list.counts["rows"]) == ("previewed", 10)
    assert not DeferredTask.objects.exists()
    assert rows_shown(client.get(response["Location"])) == [4]


def test_a_large_file_that_cannot_be_read_ends_as_failed(
    client,
    liaison,
    poverty_office,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.LIST_INLINE_MAX_BYTES = 10
    client.force_login(liaison)
    # A workbook whose zip directory is sound (a corrupt zip is refused at upload) but whose sheet is broken XML.
    parts = zipfile.ZipFile(io.BytesIO(xlsx([HEADER])))
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in parts.namelist():
            archive.writestr(name, b"<worksheet><sheetData><row>" if name.endswith("sheet1.xml") else parts.read(name))
    upload = SimpleUploadedFile("名单.xlsx", broken.getvalue())

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/lists/", {"unit": poverty_office.pk, "listed_on": "2024-05-01", "file": upload})

    department_list = DepartmentList.objects.get()
    assert (department_list.status, department_list.error) == ("failed", "该文件不是可读取的 Excel 工作簿（.xlsx）。")
    assert department_list.rows.count() == 0
    page = client.get(response["Location"])
    assert "该文件不是可读取的 Excel 工作簿（.xlsx）。" in body(page)
    assert "<progress" not in body(page)


# The comparison's tabs and confirm ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("show", "rows"),
    [
        ("changed", [4]),
        ("new", [6]),
        ("registered", [2, 5]),
        ("suggested", [7, 8]),
        ("invalid", [9, 10, 11]),
        ("unchanged", [3]),
        ("nonsense", [4]),
    ],
)
def test_each_tab_lists_its_rows(client, admin, matching_list, show, rows):
    client.force_login(admin)
    response = client.get(f"/lists/{matching_list.pk}/?show={show}")
    assert response.status_code == 200
    assert rows_shown(response) == rows


def test_the_tabs_carry_the_counts(client, admin, matching_list):
    client.force_login(admin)
    content = body(client.get(f"/lists/{matching_list.pk}/"))
    counts = dict(re.findall(r'data-outcome="(\w+)">[^<]*<span class="count">(\d+)</span>', content))
    assert counts == {
        "changed": "1", "new": "1", "registered": "2", "suggested": "2", "invalid": "3", "missing": "0", "unchanged": "1",
    }  # fmt: skip


def test_the_invalid_tab_gives_each_reason(client, admin, matching_list):
    client.force_login(admin)
    content = body(client.get(f"/lists/{matching_list.pk}/?show=invalid"))
    assert content.count("<li>身份证号码：身份证号码为空。</li>") == 3
    assert f'href="/lists/{matching_list.pk}/invalid.xlsx"' in content


def test_the_missing_tab_lists_our_households_absent_from_the_list(client, admin, liaison, poverty_office, dongkeng):
    listed = HouseholdFactory(head_name="在册户", village=dongkeng, source=poverty_office)
    absent = HouseholdFactory(head_name="漏报户", village=dongkeng, source=poverty_office)
    department_list = preview(liaison, poverty_office, xlsx([HEADER, ["在册户", listed.id_number] + [None] * 5]))
    client.force_login(admin)

    content = body(client.get(f"/lists/{department_list.pk}/?show=missing"))

    assert "漏报户" in content
    assert mask_id_number(absent.id_number) in content and absent.id_number not in content  # masked for the bureau too
    assert "在册户" not in content


def test_confirm_through_the_page_with_an_accepted_suggestion(client, liaison, matching_list, ours):
    client.force_login(liaison)
    suggested = client.get(f"/lists/{matching_list.pk}/?show=suggested")
    boxes = re.findall(r'name="accept" value="(\d+)"', body(suggested))
    wang_row = matching_list.rows.get(row_number=7)
    assert sorted(int(pk) for pk in boxes) == sorted(
        matching_list.rows.filter(outcome="suggested").values_list("pk", flat=True)
    )

    response = client.post(f"/lists/{matching_list.pk}/confirm/", {"accept": [str(wang_row.pk), "x"]})

    assert response.status_code == 302
    assert response["Location"] == f"/lists/{matching_list.pk}/"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "已确认导入：新增 1 户，更新本部门对象 0 户。 已为他处登记的 2 户增加本部门类别，其他差异已交所在乡镇核实。"
    ]
    # 王五 is registered by his township: the list's phone is a proposal for it, not a change.
    assert Household.objects.get(pk=ours.wang.pk).phone == "13900000005"
    assert ChangeProposal.objects.get(household=ours.wang).changes["phone"] == ["13900000005", "13912340005"]
    assert Household.objects.get(pk=ours.wu.pk).phone == "13900000006"
    assert Household.objects.filter(id_number=ours.new_id).exists()
    matching_list.refresh_from_db()
    assert (matching_list.status, matching_list.confirmed_by) == ("confirmed", liaison)

    page = body(client.get(response["Location"]))
    assert "确认导入：新增 1 户，更新 0 户。" in page
    assert "条。" not in page  # no number of proposals: for households registered elsewhere it would tell our records
    assert 'name="accept"' not in page
    assert "确认导入</button>" not in page

    again = client.post(f"/lists/{matching_list.pk}/confirm/")
    assert again.status_code == 302
    assert [str(m) for m in get_messages(again.wsgi_request)] == ["该名单已确认导入，不能重复确认。"]


def test_the_rows_to_fix_download(client, liaison, matching_list, ours):
    client.force_login(liaison)
    response = client.get(f"/lists/{matching_list.pk}/invalid.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"] == f'attachment; filename="rows-to-fix-{matching_list.pk}.xlsx"'
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    found = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert found[0] == [*MATCH_HEADER, "原表行号", "理由"]
    assert [row[-2] for row in found[1:]] == [7, 8, 9, 10, 11]


@pytest.mark.parametrize("reader", ["official", "admin"])
def test_the_rows_to_fix_are_in_full_for_the_department_and_masked_for_the_bureau(
    client, liaison, official, admin, matching_list, reader
):
    numbers = [
        row.id_number for row in matching_list.rows.filter(outcome__in=["invalid", "suggested"]) if row.id_number
    ]
    assert numbers
    column = MATCH_HEADER.index(
        matching_list.counts["header"][
            int(next(index for index, name in matching_list.counts["columns"].items() if name == "id_number"))
        ]
    )

    def ids_for(user):
        client.force_login(user)
        content = client.get(f"/lists/{matching_list.pk}/invalid.xlsx").content
        rows = list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))[1:]
        return [row[column] for row in rows if row[column]]

    in_full = ids_for(liaison)
    assert set(numbers) <= {str(value) for value in in_full}
    masked = ids_for({"official": official, "admin": admin}[reader])  # the bureau admin too: masked, as every page
    assert masked and all("********" in str(value) for value in masked)
    assert not set(numbers) & {str(value) for value in masked}


def test_reconciliation_page_and_export(client, official, matching_list):
    client.force_login(official)
    page = client.get("/lists/reconciliation/")
    assert page.status_code == 200
    (department,) = page.context["report"]
    assert department["list"] == matching_list
    assert {key: department["total"][key] for key in ("consistent", "different", "only_theirs", "invalid")} == {
        "consistent": 2,
        "different": 2,
        "only_theirs": 3,
        "invalid": 3,
    }

    export = client.get("/lists/reconciliation.xlsx")
    assert export.status_code == 200
    assert export["Content-Type"] == XLSX
    found = [list(row) for row in openpyxl.load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True)]
    assert found[-1] == ["漳平市扶贫开发办公室", "合计", 2, 2, 3, 3, 0, 0.2]


# Who may see and do what -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.TOWNSHIP_STAFF, Role.COMPLAINT_CLERK, Role.HELPER, "no_role"])
def test_roles_without_the_lists_get_403_everywhere(client, personas, role, matching_list, poverty_office):
    client.force_login(personas[role])
    for url in list_urls(matching_list.pk):
        assert client.get(url).status_code == 403, url
    upload = SimpleUploadedFile("名单.xlsx", xlsx([HEADER]))
    assert (
        client.post("/lists/", {"unit": poverty_office.pk, "listed_on": "2024-05-01", "file": upload}).status_code
        == 403
    )
    assert client.post(f"/lists/{matching_list.pk}/confirm/").status_code == 403
    assert DepartmentList.objects.count() == 1
    matching_list.refresh_from_db()
    assert matching_list.status == "previewed"


def test_the_official_sees_but_cannot_upload_or_confirm(client, official, matching_list, other_list, poverty_office):
    client.force_login(official)
    for url in [*list_urls(matching_list.pk), f"/lists/{other_list.pk}/"]:
        assert client.get(url).status_code == 200, url
    index = client.get("/lists/")
    assert index.context["form"] is None
    assert {item.pk for item in index.context["page"]} == {matching_list.pk, other_list.pk}

    upload = SimpleUploadedFile("名单.xlsx", xlsx([HEADER]))
    assert (
        client.post("/lists/", {"unit": poverty_office.pk, "listed_on": "2024-05-01", "file": upload}).status_code
        == 403
    )
    assert client.post(f"/lists/{matching_list.pk}/confirm/").status_code == 403
    assert DepartmentList.objects.count() == 2
    matching_list.refresh_from_db()
    assert matching_list.status == "previewed"


def test_the_official_is_not_offered_the_confirm_button(client, official, matching_list):
    client.force_login(official)
    content = body(client.get(f"/lists/{matching_list.pk}/?show=suggested"))
    assert 'name="accept"' not in content
    assert "确认导入</button>" not in content


def test_a_liaison_reaches_only_their_departments_lists(client, liaison, matching_list, other_list):
    client.force_login(liaison)
    assert client.get(f"/lists/{matching_list.pk}/").status_code == 200
    assert client.get(f"/lists/{other_list.pk}/").status_code == 404
    assert client.get(f"/lists/{other_list.pk}/invalid.xlsx").status_code == 404
    assert client.post(f"/lists/{other_list.pk}/confirm/").status_code == 404
    other_list.refresh_from_db()
    assert other_list.status == "previewed"
    index = client.get("/lists/")
    assert [item.pk for item in index.context["page"]] == [matching_list.pk]
    assert [department["unit"].name for department in client.get("/lists/reconciliation/").context["report"]] == [
        "漳平市扶贫开发办公室"
    ]


def test_anonymous_users_are_sent_to_log_in(client, matching_list):
    for url in list_urls(matching_list.pk):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/?next=/lists/"), url
    response = client.post(f"/lists/{matching_list.pk}/confirm/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    response = client.post("/lists/", {})
    assert response["Location"] == "/admin/login/?next=/lists/"
    matching_list.refresh_from_db()
    assert matching_list.status == "previewed"


def test_get_on_confirm_is_not_allowed(client, liaison, matching_list):
    client.force_login(liaison)
    assert client.get(f"/lists/{matching_list.pk}/confirm/").status_code == 405
    matching_list.refresh_from_db()
    assert matching_list.status == "previewed"


# Masking ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("show", ["changed", "unchanged", "new", "registered", "suggested", "invalid"])
def test_id_numbers_are_masked_for_the_liaison_and_the_bureau_until_a_logged_unmask(
    client, admin, liaison, matching_list, ours, show
):
    full = {
        "changed": ours.removed.id_number,
        "unchanged": ours.li.id_number,
        "new": ours.new_id,
        "registered": ours.zhang.id_number,
        "suggested": matching_list.rows.get(row_number=8).id_number,
        "invalid": None,
    }[show]
    numbers = {h.id_number for h in Household.objects.all()} | set(
        matching_list.rows.exclude(id_number="").values_list("id_number", flat=True)
    )
    for user in (liaison, admin):
        client.force_login(user)
        content = body(client.get(f"/lists/{matching_list.pk}/?show={show}"))
        assert [number for number in numbers if number in content] == []
        if full:
            assert mask_id_number(full) in content
    assert not PersonalDataAccess.objects.exists()

    if show == "changed":  # the bureau opens the household with a reason: logged, then shown in full
        client.force_login(admin)
        content = body(client.get(f"/lists/{matching_list.pk}/?show=changed"))
        unmask = f"/personal-data/households.household/{ours.removed.pk}/"
        assert unmask in content
        client.post(unmask, {"reason": "核对部门名单"})
        assert full in body(client.get(f"/lists/{matching_list.pk}/?show=changed"))
        assert PersonalDataAccess.objects.get().record_id == ours.removed.pk


def test_the_missing_tab_masks_id_numbers_for_a_liaison(client, liaison, poverty_office, dongkeng):
    absent = HouseholdFactory(village=dongkeng, source=poverty_office)
    department_list = preview(liaison, poverty_office, xlsx([HEADER]))
    client.force_login(liaison)
    content = body(client.get(f"/lists/{department_list.pk}/?show=missing"))
    assert absent.id_number not in content
    assert mask_id_number(absent.id_number) in content


def test_a_liaison_does_not_see_full_phone_numbers_in_the_changes(client, liaison, matching_list):
    client.force_login(liaison)
    content = body(client.get(f"/lists/{matching_list.pk}/?show=changed"))
    assert "13912345678" not in content
    assert "13900000001" not in content


def test_changes_are_shown_by_name(client, admin, matching_list):
    client.force_login(admin)
    content = body(client.get(f"/lists/{matching_list.pk}/?show=registered"))
    (village,) = re.findall(r"<li>村：([^<]*) <span", content)
    assert village == "新桥镇 东坑村 → 双洋镇 西山村"
    (categories,) = re.findall(r"<li>帮扶对象类别：([^<]*)</li>", content)
    assert "registered_poor" not in categories
    (source,) = re.findall(r"<li>来源：([^<]*) <span", content)
    assert source == "– → 漳平市扶贫开发办公室"


# Query count -----------------------------------------------------------------------------------------------------


def _ident(number: int) -> tuple[str, datetime.date]:
    born = datetime.date(1930, 1, 1) + datetime.timedelta(days=number)
    first17 = f"350881{born:%Y%m%d}{number % 1000:03d}"
    return first17 + id_check_digit(first17), born


def _big_list(admin, poverty_office, village, size: int) -> DepartmentList:
    """`size` rows, a fifth each changed, unchanged, new, suggested and invalid, and size/5 households only ours."""
    households, rows = [], [MATCH_HEADER]
    for number in range(size):
        id_number, born = _ident(number)
        kind = number % 5
        name = f"户主{number}"
        if kind in (0, 1, 3):
            households.append(
                Household(
                    head_name=name,
                    id_number=id_number,
                    phone="13900000000",
                    village=village,
                    members_count=2,
                    source=poverty_office,
                )
            )
        if kind == 0:
            rows.append([name, id_number, "13912345678", "新桥镇", "东坑村", None, 2, None])
        elif kind == 1:
            rows.append([name, id_number, "13900000000", "新桥镇", "东坑村", None, 2, None])
        elif kind == 2:
            rows.append([name, id_number, None, "新桥镇", "东坑村", "低保户", 3, None])
        elif kind == 3:
            rows.append([name, None, None, "新桥镇", "东坑村", None, None, f"{born:%Y-%m-%d}"])
        else:
            rows.append([name, id_number, "12345", "新桥镇", "东坑村", None, None, None])
    for number in range(size, size + size // 5):
        id_number, _born = _ident(number)
        households.append(
            Household(head_name=f"户主{number}", id_number=id_number, village=village, source=poverty_office)
        )
    Household.objects.bulk_create(households)
    department_list = preview_list(
        actor=admin, unit=poverty_office, listed_on=LISTED_ON, uploaded_file=SimpleUploadedFile("名单.xlsx", xlsx(rows))
    )
    fifth = size // 5
    assert {key: department_list.counts[key] for key in ("changed", "unchanged", "new", "suggested", "invalid")} == (
        dict.fromkeys(("changed", "unchanged", "new", "suggested", "invalid"), fifth)
    )
    assert department_list.counts["missing"] == fifth + fifth  # the suggested ones have no ID number on the list
    return department_list


PREVIEW_QUERIES = 11  # +1: the first page after login counts the unread-notice badge (then cached)


@pytest.mark.parametrize("size", [30, 300])
@pytest.mark.parametrize("show", ["changed", "unchanged", "new", "suggested", "invalid", "missing"])
def test_the_preview_page_costs_the_same_queries_for_30_and_300_rows(
    client,
    admin,
    poverty_office,
    dongkeng,
    django_assert_num_queries,
    size,
    show,
):
    department_list = _big_list(admin, poverty_office, dongkeng, size)
    client.force_login(admin)
    with django_assert_num_queries(PREVIEW_QUERIES):
        response = client.get(f"/lists/{department_list.pk}/?show={show}")
    assert response.status_code == 200
    if show == "missing":
        assert body(response).count('<tr><th scope="row">户主') == min(50, 2 * (size // 5))
    else:
        assert len(rows_shown(response)) == min(50, size // 5)
