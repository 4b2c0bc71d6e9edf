"""The poverty office's liaison uploads the office's list on a phone: the preview sorts it into new households,
changed ones, rows in error (with their Excel row and a Chinese reason) and households only on our list. They
download the rows to fix, correct them in that workbook, upload it again and confirm it; a bureau official
watches the office's consistency rate on the reconciliation page go up."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from openpyxl import Workbook, load_workbook
from playwright.sync_api import expect

from households.identity import id_check_digit
from households.models import DepartmentList, Household, ListRow
from housing_safety.access import Role
from housing_safety.tests.kit import ARTIFACTS, log_in, menu, no_horizontal_scroll, phone_page, watch_console

from .factories import HouseholdFactory, VillageFactory, valid_id_number

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

HEADER = ["序号", "户主姓名", "身份证号码", "联系电话", "乡镇", "村"]
BAD_VILLAGE = "南山村"


def wrong_check_digit(id_number: str) -> str:
    """The same ID number with another (wrong) 18th character."""
    right = id_number[17]
    return id_number[:17] + ("1" if right == "0" else "0")


def write_list(path, rows: list[list]) -> None:
    """The office's list as it keeps it: a title on row 1, who made it on row 2, the header on row 3."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "帮扶对象名单"
    sheet.append(["漳平市扶贫开发办公室帮扶对象名单"])
    sheet.append(["制表单位：漳平市扶贫开发办公室"])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def tab(page, outcome: str):
    return page.locator(f'nav.tabs a[data-outcome="{outcome}"]')


def expect_tabs(page, expected: dict[str, tuple[str, int]]) -> None:
    for outcome, (label, count) in expected.items():
        link = tab(page, outcome)
        expect(link).to_have_count(1)
        expect(link).to_contain_text(label)
        expect(link.locator(".count")).to_have_text(str(count))


def upload(page, base: str, path) -> int:
    """From 部门名单, upload one list for today and land on its preview; the list's id."""
    form = page.locator("form.field-form")
    expect(form.get_by_label("部门")).to_have_value(re.compile(r"^\d+$"))
    # The date of the list: the form should offer today, but the browser shows the field empty (see
    # test_upload_form_offers_today_as_the_list_date), so the liaison picks it.
    form.get_by_label("名单日期").fill(timezone.localdate().isoformat())
    form.locator('input[name="file"]').set_input_files(str(path))
    with page.expect_navigation():
        form.get_by_role("button", name="读取并比对").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/lists/\d+/$"))
    return int(page.url.rstrip("/").rsplit("/", 1)[-1])


def office_rate(page, base: str, unit_pk: int) -> tuple[float, dict[str, int]]:
    """The office's consistency rate on the reconciliation page, and the total row's counts it is computed from."""
    page.goto(f"{base}/lists/reconciliation/")
    expect(page.locator("h1")).to_have_text("信息比对")
    section = page.locator(f'section.card[data-unit="{unit_pk}"]')
    expect(section).to_have_count(1)
    expect(section.locator("h2")).to_contain_text("漳平市扶贫开发办公室")
    cells = section.locator("tfoot th.num").all_inner_texts()
    assert len(cells) == 6, cells
    keys = ("consistent", "different", "only_theirs", "invalid", "only_ours")
    counts = dict(zip(keys, (int(value) for value in cells[:5]), strict=True))
    rate = section.locator(".rate").get_attribute("data-rate")
    assert rate, "the office's rate is empty"
    compared = sum(counts.values())
    assert compared > 0
    assert float(rate) == pytest.approx(counts["consistent"] / compared)
    shown = f"{100 * counts['consistent'] / compared:.1f}%"
    expect(section.locator(".rate")).to_have_text(shown)
    assert cells[5] == shown
    return float(rate), counts


def test_liaison_uploads_fixes_and_confirms_the_office_list(
    browser, live_server, personas, xinqiao, poverty_office, tmp_path
):
    base = live_server.url
    liaison, official = personas[Role.DEPARTMENT_LIAISON], personas[Role.BUREAU_OFFICIAL]

    # 东坑村 in 新桥镇: three households the poverty office gave us.
    dongkeng = VillageFactory(township=xinqiao, name="东坑村")
    ours = [
        HouseholdFactory(head_name=name, phone=phone, village=dongkeng, source=poverty_office)
        for name, phone in (("林秀英", "13905971001"), ("陈德胜", "13905971002"), ("张永福", "13905971003"))
    ]
    lin, chen, _zhang = ours  # 张永福 is not on the office's list
    new_ids = [valid_id_number(), valid_id_number()]
    bad_check_id = valid_id_number()
    bad_village_id = valid_id_number()

    # The office's list: 林秀英 as we have her, 陈德胜 with a new phone, two new families in 东坑村, one row whose
    # ID number has a wrong check digit and one in a village we do not have. 张永福 is not on it.
    original = tmp_path / "扶贫办帮扶对象名单.xlsx"
    write_list(
        original,
        [
            [1, "林秀英", lin.id_number, lin.phone, "新桥镇", "东坑村"],  # row 4: unchanged
            [2, "黄春梅", new_ids[0], "13905972001", "新桥镇", "东坑村"],  # row 5: new
            [3, "郑石头", wrong_check_digit(bad_check_id), "13905972002", "新桥镇", "东坑村"],  # row 6: invalid
            [4, "陈德胜", chen.id_number, "13905979999", "新桥镇", "东坑村"],  # row 7: changed phone
            [5, "吴金花", new_ids[1], "13905972003", "新桥镇", "东坑村"],  # row 8: new
            [6, "邱水生", bad_village_id, "13905972004", "新桥镇", BAD_VILLAGE],  # row 9: invalid
        ],
    )

    # The liaison, on a phone, finds 部门名单 in the top navigation.
    page = phone_page(browser)
    errors = watch_console(page)
    log_in(page, base, liaison.username)
    page.goto(f"{base}/field/")
    menu(page).get_by_role("link", name="部门名单", exact=True).click()
    page.wait_for_url(f"{base}/lists/")
    expect(page.locator("h1")).to_have_text("部门名单")
    expect(page.locator("main")).to_contain_text("上传名单")
    no_horizontal_scroll(page)
    page.screenshot(path=ARTIFACTS / "department-list-upload-390.png", full_page=True)

    # The preview: counts per tab, the changed tab first.
    first_pk = upload(page, base, original)
    expect(page.locator("h1")).to_contain_text("漳平市扶贫开发办公室")
    expect(page.locator("main")).to_contain_text("扶贫办帮扶对象名单.xlsx")
    expect(page.locator("main")).to_contain_text(
        "共读取 6 行"
    )  # the title, the maker's line and the header are not rows
    expect_tabs(
        page,
        {
            "changed": ("信息有变化", 1),
            "new": ("新增农户", 2),
            "suggested": ("疑似同一户（待确认）", 0),
            "invalid": ("有误的行", 2),
            "missing": ("仅本系统有", 1),
            "unchanged": ("一致", 1),
        },
    )
    expect(tab(page, "changed")).to_have_attribute("aria-current", "page")
    changed = page.locator("table.responsive tbody tr")
    expect(changed).to_have_count(1)
    expect(changed.first).to_have_attribute("data-row", "7")
    expect(changed.first).to_contain_text("陈德胜")
    expect(changed.first).to_contain_text("139****9999")  # the liaison does not see phone numbers in full
    no_horizontal_scroll(page)
    page.screenshot(path=ARTIFACTS / "department-list-preview-390.png", full_page=True)

    # The rows in error: their Excel row numbers and why, in Chinese.
    tab(page, "invalid").click()
    page.wait_for_url(f"{base}/lists/{first_pk}/?show=invalid")
    invalid = page.locator("table.responsive tbody tr")
    expect(invalid).to_have_count(2)
    expect(invalid.nth(0)).to_have_attribute("data-row", "6")
    expect(invalid.nth(0).locator("td.num")).to_have_text("6")
    expect(invalid.nth(0)).to_contain_text("郑石头")
    right_digit = id_check_digit(bad_check_id[:17])
    check_reason = f"身份证号码：第18位校验码应为{right_digit}，而不是{wrong_check_digit(bad_check_id)[17]}。"
    expect(invalid.nth(0).locator("ul.errors li")).to_have_text([check_reason])
    expect(invalid.nth(1)).to_have_attribute("data-row", "9")
    expect(invalid.nth(1).locator("td.num")).to_have_text("9")
    expect(invalid.nth(1)).to_contain_text("邱水生")
    village_reason = f"村：系统中新桥镇没有“{BAD_VILLAGE}”。"
    expect(invalid.nth(1).locator("ul.errors li")).to_have_text([village_reason])
    no_horizontal_scroll(page)
    page.screenshot(path=ARTIFACTS / "department-list-invalid-390.png", full_page=True)

    # Only on our list: 张永福.
    tab(page, "missing").click()
    page.wait_for_url(f"{base}/lists/{first_pk}/?show=missing")
    missing = page.locator("table.responsive tbody tr")
    expect(missing).to_have_count(1)
    expect(missing.first).to_contain_text("张永福")

    # The rows to fix, downloaded: the list's own header, then the row in the uploaded file and the reason.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载待修改的行（.xlsx）").click()
    download = download_info.value
    assert download.suggested_filename == f"rows-to-fix-{first_pk}.xlsx"
    to_fix = tmp_path / download.suggested_filename
    download.save_as(to_fix)
    workbook = load_workbook(to_fix)
    sheet = workbook.worksheets[0]
    assert sheet.title == "待修改的行"
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == [*HEADER, "原表行号", "理由"]
    assert len(rows) == 3
    check_row, village_row = rows[1], rows[2]
    assert check_row[1:6] == ["郑石头", wrong_check_digit(bad_check_id), "13905972002", "新桥镇", "东坑村"]
    assert (check_row[6], check_row[7]) == (6, check_reason)
    assert village_row[1:6] == ["邱水生", bad_village_id, "13905972004", "新桥镇", BAD_VILLAGE]
    assert (village_row[6], village_row[7]) == (9, village_reason)

    # Fixed in that workbook (the right check digit, the right village), saved, and uploaded as a new list.
    id_column, village_column = HEADER.index("身份证号码") + 1, HEADER.index("村") + 1
    sheet.cell(row=2, column=id_column).value = bad_check_id
    sheet.cell(row=3, column=village_column).value = "东坑村"
    fixed = tmp_path / "扶贫办帮扶对象名单-已修改.xlsx"
    workbook.save(fixed)

    page.goto(f"{base}/lists/")
    second_pk = upload(page, base, fixed)
    assert second_pk != first_pk
    expect(page.locator("main")).to_contain_text("共读取 2 行")
    expect_tabs(
        page,
        {
            "changed": ("信息有变化", 0),
            "new": ("新增农户", 2),
            "suggested": ("疑似同一户（待确认）", 0),
            "invalid": ("有误的行", 0),
            "missing": ("仅本系统有", 3),
            "unchanged": ("一致", 0),
        },
    )
    expect(page.get_by_role("link", name="下载待修改的行（.xlsx）")).to_have_count(0)
    tab(page, "new").click()
    page.wait_for_url(f"{base}/lists/{second_pk}/?show=new")
    new_rows = page.locator("table.responsive tbody tr")
    expect(new_rows).to_have_count(2)
    expect(new_rows.nth(0)).to_contain_text("郑石头")
    expect(new_rows.nth(1)).to_contain_text("邱水生")
    for row in (new_rows.nth(0), new_rows.nth(1)):
        expect(row).to_contain_text("新桥镇 东坑村")
    new_count = int(tab(page, "new").locator(".count").inner_text())
    no_horizontal_scroll(page)
    page.screenshot(path=ARTIFACTS / "department-list-fixed-390.png", full_page=True)
    assert not Household.objects.filter(id_number__in=[bad_check_id, bad_village_id]).exists()

    # Before the liaison confirms, a bureau official's reconciliation page shows the office's rate.
    desk = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 900})
    bureau = desk.new_page()
    bureau_errors = watch_console(bureau)
    log_in(bureau, base, official.username)
    rate_before, counts_before = office_rate(bureau, base, poverty_office.pk)
    # The list came in two files with the same date: the first file's two new households and the two fixed rows
    # are all only on their list; the first file's invalid rows were replaced by the fixed upload.
    assert counts_before["only_theirs"] == 2 + new_count
    assert counts_before["invalid"] == 0
    bureau.screenshot(path=ARTIFACTS / "department-list-reconciliation-before.png", full_page=True)

    # The liaison confirms: the two households are created.
    with page.expect_navigation():
        page.get_by_role("button", name="确认导入").click()
    expect(page).to_have_url(f"{base}/lists/{second_pk}/")
    expect(page.locator(".messages .success")).to_have_text(f"已确认导入：新增 {new_count} 户，更新本部门对象 0 户。")
    expect(page.locator("p.messages")).to_contain_text(f"确认导入：新增 {new_count} 户，更新 0 户。")
    expect(page.get_by_role("button", name="确认导入")).to_have_count(0)
    no_horizontal_scroll(page)
    page.screenshot(path=ARTIFACTS / "department-list-confirmed-390.png", full_page=True)
    created = Household.objects.filter(id_number__in=[bad_check_id, bad_village_id])
    assert created.count() == new_count == 2
    assert set(created.values_list("source_id", "village_id")) == {(poverty_office.pk, dongkeng.pk)}
    assert DepartmentList.objects.get(pk=second_pk).status == DepartmentList.Status.CONFIRMED
    assert DepartmentList.objects.get(pk=first_pk).status == DepartmentList.Status.PREVIEWED
    assert ListRow.objects.filter(department_list_id=second_pk, outcome=ListRow.Outcome.NEW).count() == 2

    # The official reloads: the applied rows now agree with our records, and the rate went up.
    rate_after, counts_after = office_rate(bureau, base, poverty_office.pk)
    assert counts_after["consistent"] == counts_before["consistent"] + new_count
    assert counts_after["only_theirs"] == counts_before["only_theirs"] - new_count
    assert rate_after > rate_before
    bureau.screenshot(path=ARTIFACTS / "department-list-reconciliation-after.png", full_page=True)

    assert errors == []
    assert bureau_errors == []
    desk.close()


def test_upload_form_offers_today_as_the_list_date(browser, live_server, personas):
    """The upload form offers today as the date of the list, so a liaison can upload without touching it."""
    base = live_server.url
    page = phone_page(browser)
    log_in(page, base, personas[Role.DEPARTMENT_LIAISON].username)
    page.goto(f"{base}/lists/")
    date = page.locator("form.field-form").get_by_label("名单日期")
    assert date.input_value() == timezone.localdate().isoformat()
    assert date.evaluate("element => element.validity.valid")
