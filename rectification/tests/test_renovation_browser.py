"""A township user takes a renovation case from the household's application to the township's review with its
documents, on a phone; the bureau approves; the township signs the agreement and starts the works; the bureau records
the new appraisal, accepts and pays; the household then shows 改造安全."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from households.tests.factories import HouseholdFactory, VillageFactory, make_user, png_bytes, township
from housing_safety.access import Role
from housing_safety.tests.kit import ARTIFACTS, log_in, phone_page
from inspections.models import Appraisal
from rectification.models import CaseDocument, CaseStatus, RenovationCase, SubsidyPayment
from rectification.tests.factories import dangerous_dwelling, days_ago, standards

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def png(name: str) -> dict:
    return {"name": name, "mimeType": "image/png", "buffer": png_bytes()}


def move_form(page, to: str):
    """The <details> of one move on the case page, opened."""
    details = page.locator(f'details.move:has(input[name="to"][value="{to}"])')
    expect(details).to_have_count(1)
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    return details


def submit_step(page, to: str, *, on, fields: dict | None = None, documents: tuple[str, ...] = ()) -> None:
    """Fill one move's form (inputs named with the target status as prefix), attach one PNG per document kind and
    press 登记本环节. The caller checks what the server answered."""
    form = move_form(page, to)
    form.locator(f'[name="{to}-on"]').fill(f"{on:%Y-%m-%d}")
    for name, value in (fields or {}).items():
        form.locator(f'[name="{to}-{name}"]').fill(str(value))
    for code in documents:
        form.locator(f'input[type=file][name="{to}-doc_{code}"]').set_input_files(png(f"{code}.png"))
    with page.expect_navigation():
        form.get_by_role("button", name="登记本环节").click()


def record_step(page, case_url: str, to: str, label: str, **kwargs) -> None:
    """A move that must succeed: back on the case page, at the new step, with the success message."""
    submit_step(page, to, **kwargs)
    expect(page).to_have_url(case_url)
    expect(page.locator(".messages .success")).to_contain_text(f"案件已进入“{label}”")
    expect(page.locator("h1 .status").first).to_have_text(label)
    expect(page.locator("ol.timeline")).to_contain_text(label)


def test_township_and_bureau_take_a_renovation_case_from_application_to_payment(browser, live_server):
    base = live_server.url
    xinqiao = township("350881100")
    household = HouseholdFactory(head_name="林秀英", village=VillageFactory(township=xinqiao, name="东坑村"))
    dwelling = dangerous_dwelling(household, appraised_on=days_ago(200), address="东坑村4组7号")
    year = days_ago(0).year
    standards(year=year)
    make_user(Role.TOWNSHIP_STAFF, username="xinqiao", townships=[xinqiao])
    make_user(Role.BUREAU_ADMIN, username="bureau")

    # The township finds the dangerous house without a case and opens one on the household's application.
    town = phone_page(browser)
    log_in(town, base, "xinqiao")
    town.goto(f"{base}/renovation/dangerous/")
    row = town.locator("ul.list > li", has_text="林秀英")
    expect(row).to_have_count(1)
    assert town.evaluate("document.documentElement.scrollWidth") <= 390
    row.get_by_role("link", name="立危房改造案件").click()
    town.wait_for_url(re.compile(rf".*/renovation/new/\?dwelling={dwelling.pk}$"))
    town.fill('[name="applied_on"]', f"{days_ago(40):%Y-%m-%d}")
    town.check('input[name="renovation_type"][value="rebuild"]')
    town.select_option('[name="build_mode"]', "self")
    town.select_option('[name="funding_source"]', "central")
    town.fill('[name="planned_subsidy"]', "18000")
    for code in ("application", "identity_proof", "category_proof"):
        town.set_input_files(f'input[type=file][name="doc_{code}"]', png(f"{code}.png"))
    assert town.evaluate("document.documentElement.scrollWidth") <= 390
    town.screenshot(path=ARTIFACTS / "renovation-case-new-390.png", full_page=True)
    town.get_by_role("button", name="立案").click()
    town.wait_for_url(re.compile(r".*/renovation/\d+/$"))
    case = RenovationCase.objects.get(dwelling=dwelling)
    case_url = f"{base}/renovation/{case.pk}/"
    assert town.url == case_url
    number = f"GZ{year}-100-0001"
    assert case.number == number
    expect(town.locator("h1")).to_contain_text(number)
    expect(town.locator("h1 .status").first).to_have_text("农户申请")
    expect(town.locator(".messages .success")).to_contain_text(f"危房改造案件 {number} 已立案")
    assert case.documents.count() == 3

    # 村民评议 with its posting and two documents.
    record_step(
        town, case_url, "village_assessed", "村民评议", on=days_ago(38),
        fields={"posting_start": f"{days_ago(38):%Y-%m-%d}", "posting_end": f"{days_ago(32):%Y-%m-%d}"},
        documents=("assessment_record", "village_posting_photo"),
    )  # fmt: skip

    # 乡镇审核 dated on the last day of the village posting is refused in Chinese; nothing changes.
    filed = CaseDocument.objects.filter(case=case).count()
    township_review = {
        "fields": {"posting_start": f"{days_ago(30):%Y-%m-%d}", "posting_end": f"{days_ago(24):%Y-%m-%d}"},
        "documents": ("appraisal_form", "township_posting_photo", "photo_before"),
    }
    submit_step(town, "township_reviewed", on=days_ago(32), **township_review)
    refused = move_form(town, "township_reviewed")
    expect(refused.locator(".error")).to_contain_text(f"公示期至{days_ago(32):%Y-%m-%d}")
    expect(town.locator("h1 .status").first).to_have_text("村民评议")
    case.refresh_from_db()
    assert case.status == CaseStatus.VILLAGE_ASSESSED and case.township_posting_start is None
    assert CaseDocument.objects.filter(case=case).count() == filed
    town.screenshot(path=ARTIFACTS / "renovation-case-refused-390.png", full_page=True)

    # The same step after the posting has ended goes through.
    record_step(town, case_url, "township_reviewed", "乡镇审核", on=days_ago(30), **township_review)
    timeline = town.locator("ol.timeline")
    for label in ("农户申请", "村民评议", "乡镇审核"):
        expect(timeline).to_contain_text(label)
    expect(town.locator("dl.facts")).to_contain_text(f"{days_ago(30):%Y-%m-%d} – {days_ago(24):%Y-%m-%d}")
    # Approval is the bureau's: the township is offered no 县级审批.
    expect(town.locator('details.move input[name="to"][value="approved"]')).to_have_count(0)
    expect(town.locator("main")).to_contain_text("下一环节“县级审批”由其他单位办理")
    assert town.evaluate("document.documentElement.scrollWidth") <= 390
    town.screenshot(path=ARTIFACTS / "renovation-case-390.png", full_page=True)

    # The bureau approves, on a desktop.
    bureau = browser.new_page()
    log_in(bureau, base, "bureau")
    bureau.goto(case_url)
    record_step(bureau, case_url, "approved", "县级审批", on=days_ago(20))

    # The township signs the agreement with its three documents and starts the works.
    town.goto(case_url)
    record_step(
        town, case_url, "agreement_signed", "签订协议", on=days_ago(18),
        documents=("agreement", "pledge", "safety_letter"),
    )  # fmt: skip
    record_step(town, case_url, "construction_started", "施工中", on=days_ago(16))  # 开工

    # The bureau records the appraisal after completion through the link on the case page.
    bureau.goto(case_url)
    bureau.get_by_role("link", name="录入竣工后房屋鉴定").click()
    bureau.wait_for_url(f"{base}/field/dwellings/{dwelling.pk}/appraise/")
    bureau.fill("#id_appraised_on", f"{days_ago(6):%Y-%m-%d}")
    bureau.fill("#id_organisation", "漳平市住建局村镇站")
    bureau.fill("#id_appraisers", "张工、李工")
    for name in ("foundation", "load_bearing_walls", "timber_frame", "roof_truss", "floor_roof_slab"):
        bureau.check(f"input[name={name}][value=a]")
    bureau.check("input[name=concrete_frame][value=n]")
    bureau.check("input[name=grade][value=A]")
    bureau.check("input[name=recommendation][value=none]")
    bureau.get_by_role("button", name="保存鉴定").click()
    # An appraisal is shown for confirmation before it is kept.
    bureau.get_by_role("button", name="确认提交（提交后不能修改）").click()
    bureau.wait_for_url(f"{base}/field/households/{household.pk}/")
    new_appraisal = Appraisal.objects.filter(dwelling=dwelling).order_by("-appraised_on", "-pk").first()
    assert (new_appraisal.grade, new_appraisal.appraised_on) == ("A", days_ago(6))

    # Completion acceptance, then the subsidy payment.
    bureau.goto(case_url)
    record_step(
        bureau, case_url, "accepted", "竣工验收", on=days_ago(5), fields={"acceptors": "王工、陈工、村委李主任"},
        documents=("photo_during", "acceptance_form", "photo_after"),
    )  # fmt: skip
    expect(bureau.locator('[name="paid-amount"]')).to_have_value("18000.00")
    record_step(
        bureau, case_url, "paid", "补助拨付", on=days_ago(3), fields={"amount": "18000", "voucher_number": "PZ-2026-0815"},
        documents=("payment_voucher",),
    )  # fmt: skip
    expect(bureau.locator("main")).to_contain_text("PZ-2026-0815")
    bureau.screenshot(path=ARTIFACTS / "renovation-case-paid.png", full_page=True)

    # The household is now 改造安全.
    bureau.goto(f"{base}/field/households/{household.pk}/")
    expect(bureau.locator("main .status").first).to_have_text("改造安全")
    case.refresh_from_db()
    dwelling.refresh_from_db()
    assert case.status == CaseStatus.PAID
    assert (case.accepted_on, case.acceptance_appraisal) == (days_ago(5), new_appraisal)
    assert dwelling.renovated_on == days_ago(5)
    payment = SubsidyPayment.objects.get(case=case)
    assert (payment.amount, payment.voucher_number, payment.paid_on) == (Decimal("18000"), "PZ-2026-0815", days_ago(3))
    assert list(case.transitions.values_list("to_status", flat=True)) == [
        "applied", "village_assessed", "township_reviewed", "approved", "agreement_signed",
        "construction_started", "accepted", "paid",
    ]  # fmt: skip
    assert list(case.transitions.values_list("actor__username", flat=True)) == [
        "xinqiao", "xinqiao", "xinqiao", "bureau", "xinqiao", "xinqiao", "bureau", "bureau",
    ]  # fmt: skip
    assert case.documents.filter(kind__is_generated=False).count() == 3 + 2 + 3 + 3 + 3 + 1
    assert case.documents.filter(kind__is_generated=True).count() == 2  # the two posting notices, filed by the system

    # The township's phone view of the paid case, for the record.
    town.goto(case_url)
    town.screenshot(path=ARTIFACTS / "renovation-case-paid-390.png", full_page=True)
